import pytest

from crm.access import SYSTEM
from orders import selectors, services
from orders.models import Order
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def order(tenant, code_note, customer=None, **contact):
    return services.order_create(tenant=tenant, actor=SYSTEM, customer=customer,
                                 data={"total_amount": 100_000, "note": code_note,
                                       "external_id": contact.pop("external_id", ""),
                                       "contact": contact})


def found(tenant, query):
    qs = selectors.order_search(Order.objects.for_tenant(tenant), query, tenant=tenant)
    return sorted(qs.values_list("note", flat=True))


@pytest.fixture
def orders(tenant):
    tenant.auto_create_guest_customers = False
    tenant.save()
    duc = CustomerFactory(tenant=tenant, full_name="Nguyễn Văn Đức")
    return {
        "linked": order(tenant, "linked", customer=duc, name="Anh Đức (quà tặng)",
                        phone="0912 345 678"),
        "contact": order(tenant, "contact", name="Trần Thị Mai", phone="0987 650 001",
                         email="mai@example.vn", external_id="SHP-7788"),
    }


def test_last_digits_match_the_number_in_any_typed_format(tenant, orders):
    """The last digits are searched on the normalized number (the typed one had spaces:
    "0912 345 678" did not end with "5678")."""
    assert found(tenant, "5678") == ["linked"]
    assert found(tenant, "345 678") == ["linked"]
    assert found(tenant, "0001") == ["contact"]


def test_phone_prefix_email_and_channel_id(tenant, orders):
    assert found(tenant, "0912 345") == ["linked"]
    assert found(tenant, "+84 987 650 001") == ["contact"]
    assert found(tenant, "mai@example") == ["contact"]
    assert found(tenant, "SHP-7788") == ["contact"]


def test_name_finds_the_contact_or_the_linked_customer_in_any_accents(tenant, orders):
    assert found(tenant, "trần thị") == ["contact"]
    # The linked customer's name, typed without accents, finds their order even though the
    # order's contact name differs.
    assert found(tenant, "nguyen duc") == ["linked"]
    assert found(tenant, "Nguyễn Văn Đức") == ["linked"]
    assert found(tenant, "Lê Hoa") == []


def test_name_search_stays_in_the_shop(tenant, other_tenant, orders):
    stranger = CustomerFactory(tenant=other_tenant, full_name="Nguyễn Văn Đức")
    order(other_tenant, "elsewhere", customer=stranger)
    assert found(tenant, "nguyen duc") == ["linked"]


def test_debts_are_the_newest_owing_orders_and_the_total_of_all(tenant):
    import datetime

    from django.utils import timezone

    customer = CustomerFactory(tenant=tenant)
    now = timezone.now()
    made = []
    for day, paid in enumerate([0, 100_000, 40_000, 0]):  # the second one is paid up
        made.append(services.order_create(tenant=tenant, actor=SYSTEM, customer=customer, data={
            "status": "delivered", "total_amount": 100_000, "paid_amount": paid,
            "ordered_at": now - datetime.timedelta(days=10 - day),
            "delivered_at": now - datetime.timedelta(days=9 - day)}))
    services.order_create(tenant=tenant, actor=SYSTEM, customer=customer,
                          data={"status": "new", "total_amount": 500_000})
    orders, owed = selectors.customer_debts(customer, limit=2)
    assert [o.pk for o in orders] == [made[3].pk, made[2].pk]
    assert owed == 100_000 + 60_000 + 100_000
    assert owed == sum(o.debt for o in made)
