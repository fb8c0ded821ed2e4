import pytest

from orders.filters import OrderFilterSet
from orders.models import Order
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_status_filter_adds_no_distinct_and_lists_each_order_once(tenant):
    """One status per order: no SELECT DISTINCT (it sorted every matching order of the
    shop before the page's LIMIT)."""
    from crm.access import SYSTEM
    from orders import services

    customer = CustomerFactory(tenant=tenant)
    for status in ("new", "confirmed", "cancelled"):
        services.order_create(tenant=tenant, actor=SYSTEM, customer=customer,
                              data={"status": status, "total_amount": 100_000})
    fs = OrderFilterSet({"status": ["new", "confirmed"]},
                        queryset=Order.objects.for_tenant(tenant), tenant=tenant)
    assert not fs.qs.query.distinct
    assert sorted(fs.qs.values_list("status", flat=True)) == ["confirmed", "new"]
