"""The keys the database no longer checks (an import's speed) are still kept right by
Django's on_delete, and the phone and email unique indexes still refuse a repeat."""

import pytest
from django.db import IntegrityError, transaction

from customers.models import Customer, CustomerEmail, CustomerPhone
from groups.models import GroupEvent, GroupRun
from tests.crm.factories import UserFactory
from tests.customers.factories import CustomerFactory
from tests.groups.factories import CustomerGroupFactory

pytestmark = pytest.mark.django_db


def test_deleting_a_login_empties_who_created_and_last_changed_a_customer(tenant):
    author, editor = UserFactory(), UserFactory()
    customer = CustomerFactory(tenant=tenant, created_by=author, updated_by=editor)
    other = CustomerFactory(tenant=tenant, created_by=editor, updated_by=author)
    author.delete()
    customer.refresh_from_db()
    other.refresh_from_db()
    assert (customer.created_by_id, customer.updated_by_id) == (None, editor.pk)
    assert (other.created_by_id, other.updated_by_id) == (editor.pk, None)


def test_deleting_a_shop_deletes_its_customers(tenant, other_tenant):
    CustomerFactory(tenant=tenant)
    kept = CustomerFactory(tenant=other_tenant)
    tenant.delete()
    assert list(Customer.objects.values_list("pk", flat=True)) == [kept.pk]
    assert list(CustomerPhone.objects.values_list("customer_id", flat=True)) == [kept.pk]


def test_a_groups_events_go_with_it_and_a_runs_events_outlive_it(tenant):
    customer = CustomerFactory(tenant=tenant)
    group, other = CustomerGroupFactory(tenant=tenant), CustomerGroupFactory(tenant=tenant)
    run = GroupRun.objects.create(tenant=tenant, group=other)
    GroupEvent.objects.create(tenant=tenant, group=group, customer=customer, joined=True,
                              at=run.started_at)
    kept = GroupEvent.objects.create(tenant=tenant, group=other, customer=customer,
                                     joined=True, at=run.started_at, run=run)
    group.delete()
    run.delete()
    assert list(GroupEvent.objects.values_list("pk", "run_id")) == [(kept.pk, None)]


@pytest.mark.parametrize(("model", "field", "value", "repeat"), [
    (CustomerPhone, "normalized", "+84912345678", "+84912345678"),
    (CustomerEmail, "email", "lan@example.com", "lan@example.com"),
])
def test_a_phone_or_email_is_unique_in_a_shop(tenant, other_tenant, model, field, value,
                                              repeat):
    first, second = CustomerFactory(tenant=tenant), CustomerFactory(tenant=tenant)
    model.objects.create(tenant=tenant, customer=first, **{field: value})
    model.objects.create(tenant=other_tenant, customer=CustomerFactory(tenant=other_tenant),
                         **{field: repeat})  # another shop may hold it
    with pytest.raises(IntegrityError), transaction.atomic():
        model.objects.create(tenant=tenant, customer=second, **{field: repeat})
