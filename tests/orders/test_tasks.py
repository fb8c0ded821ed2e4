import pytest

from crm.access import SYSTEM
from crm.models import Tenant
from customers import services as customer_services
from orders import tasks
from orders.models import CustomerStats

pytestmark = pytest.mark.django_db


def test_nightly_tasks_run_once_per_active_shop(tenant, other_tenant):
    closed = Tenant.objects.create(name="Đã đóng", slug="da-dong", is_active=False)
    for shop in (tenant, other_tenant, closed):
        customer_services.customer_create(tenant=shop, actor=SYSTEM,
                                          data={"full_name": "A", "phone": "0912000001"})
    assert tasks.aggregates_recompute_all() == 2  # Celery runs eagerly in tests
    assert set(CustomerStats.objects.values_list("tenant_id", flat=True)) == {
        tenant.pk, other_tenant.pk}
    assert tasks.lifecycle_recompute_all() == 2
