import unicodedata

import pytest

from crm.access import SYSTEM
from crm.models import Role
from customers import services
from customers.models import Customer
from customers.selectors import customer_list, customer_search, customers_visible_to
from tests.crm.factories import MembershipFactory
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(tenant, other_tenant):
    def make(shop, name, phone, **extra):
        return services.customer_create(tenant=shop, actor=SYSTEM,
                                        data={"full_name": name, "phone": phone, **extra})

    return {
        "duc": make(tenant, "Nguyễn Văn Đức", "0912 345 678", email="duc@gmail.com"),
        "ha": make(tenant, "Trần Thị Thu Hà", "0987654321", extra_phones=["024 3825 6789"]),
        "old": make(tenant, "Lê Hoàng", "01629123456"),
        "foreign": make(other_tenant, "Nguyễn Văn Đức", "0912000999"),
    }


def search(tenant, query):
    return set(customer_search(Customer.objects.for_tenant(tenant), tenant, query)
               .values_list("full_name", flat=True))


@pytest.mark.parametrize("query", [
    "Nguyễn Văn Đức", "nguyen van duc", "NGUYEN", "đức", "duc", "van duc", "Đức Nguyễn",
    unicodedata.normalize("NFD", "Nguyễn Văn Đức"),
])
def test_name_search_any_spelling(tenant, people, query):
    assert search(tenant, query) == {"Nguyễn Văn Đức"}


@pytest.mark.parametrize("query", ["0912 345 678", "0912345678", "+84912345678", "84912345678",
                                   "+84 912-345-678", "5678", "345678", "0912 34"])
def test_phone_search_any_format(tenant, people, query):
    assert search(tenant, query) == {"Nguyễn Văn Đức"}


def test_phone_search_finds_extra_and_landline(tenant, people):
    assert search(tenant, "(024) 3825 6789") == {"Trần Thị Thu Hà"}
    assert search(tenant, "6789") == {"Trần Thị Thu Hà"}


def test_old_prefix_search_finds_new_number(tenant, people):
    assert search(tenant, "0329123456") == {"Lê Hoàng"}
    assert search(tenant, "01629 123 456") == {"Lê Hoàng"}


def test_email_and_code_search(tenant, people):
    assert search(tenant, "DUC@gmail.com") == {"Nguyễn Văn Đức"}
    assert search(tenant, "duc@") == {"Nguyễn Văn Đức"}
    code = people["ha"].code
    assert search(tenant, code) == {"Trần Thị Thu Hà"}
    assert search(tenant, code.lower()) == {"Trần Thị Thu Hà"}
    assert search(tenant, "KH2") == {"Trần Thị Thu Hà"}


def test_search_never_crosses_shops(tenant, other_tenant, people):
    assert search(tenant, "0912000999") == set()
    assert search(other_tenant, "0912 345 678") == set()


def test_visibility_by_role(tenant, manager, staff, collaborator):
    mine = CustomerFactory(tenant=tenant, collaborator=collaborator, assigned_staff=staff)
    other = CustomerFactory(tenant=tenant)
    assert set(customers_visible_to(collaborator)) == {mine}
    assert set(customers_visible_to(staff)) == {mine, other}
    tenant.staff_see_own_customers_only = True
    tenant.save()
    staff.refresh_from_db()
    assert set(customers_visible_to(staff)) == {mine}
    assert set(customers_visible_to(manager)) == {mine, other}
    assert not customers_visible_to(None).exists()


def test_keyset_pages_walk_everything_once_in_each_sort(tenant):
    CustomerFactory.create_batch(23, tenant=tenant)
    for sort in ("name", "-name", "code", "-code", "created", "-created"):
        seen, after = [], None
        while True:
            result = customer_list(queryset=Customer.objects.for_tenant(tenant), sort=sort,
                                   after=after, before=None, size=5)
            seen += [c.pk for c in result.page.rows]
            after = result.page.next_cursor
            if not after:
                break
        assert len(seen) == len(set(seen)) == 23, sort
        assert result.count == 23 and result.more is False


def test_keyset_previous_page_returns_same_rows(tenant):
    CustomerFactory.create_batch(12, tenant=tenant)
    qs = Customer.objects.for_tenant(tenant)
    first = customer_list(queryset=qs, sort="code", after=None, before=None, size=5)
    second = customer_list(queryset=qs, sort="code", after=first.page.next_cursor, before=None,
                           size=5)
    back = customer_list(queryset=qs, sort="code", after=None, before=second.page.prev_cursor,
                         size=5)
    assert [c.pk for c in back.page.rows] == [c.pk for c in first.page.rows]
    assert back.page.prev_cursor is None and back.page.next_cursor


def test_tampered_cursor_falls_back_to_first_page(tenant):
    numbers = sorted(c.number for c in CustomerFactory.create_batch(3, tenant=tenant))
    result = customer_list(queryset=Customer.objects.for_tenant(tenant), sort="code",
                           after="garbage", before=None, size=2)
    assert [c.number for c in result.page.rows] == numbers[:2]


def test_count_is_capped(tenant, monkeypatch):
    from crm import pagination

    CustomerFactory.create_batch(4, tenant=tenant)
    assert pagination.capped_count(Customer.objects.for_tenant(tenant), cap=3) == (3, True)
    assert pagination.capped_count(Customer.objects.for_tenant(tenant), cap=4) == (4, False)


def test_collaborator_membership_of_other_shop_sees_nothing(tenant, other_tenant):
    CustomerFactory(tenant=tenant)
    foreign = MembershipFactory(tenant=other_tenant, role=Role.COLLABORATOR)
    assert not customers_visible_to(foreign).filter(tenant=tenant).exists()


def test_duplicate_pairs_by_name_and_birthday_or_street(tenant, other_tenant):
    def make(shop, name, phone, **extra):
        return services.customer_create(tenant=shop, actor=SYSTEM,
                                        data={"full_name": name, "phone": phone, **extra})

    a = make(tenant, "Lê Thị Mai", "0912000001", birth_day=1, birth_month=2)
    b = make(tenant, "LE THI MAI", "0912000002", birth_day=1, birth_month=2, birth_year=1990)
    make(tenant, "Lê Thị Mai", "0912000003", birth_day=9, birth_month=9)
    c = make(tenant, "Phan Văn Tú", "0912000004", street="5 Lê Lợi")
    d = make(tenant, "Phan Văn Tú", "0912000005", street="5 lê lợi")
    make(other_tenant, "Lê Thị Mai", "0912000006", birth_day=1, birth_month=2)
    from customers.selectors import duplicate_pairs

    found = duplicate_pairs(Customer.objects.for_tenant(tenant))
    pairs = {(p["a"].code, p["b"].code) for p in found}
    assert pairs == {(a.code, b.code), (c.code, d.code)}


def test_list_page_rows_are_loaded_with_their_joins_in_page_order(tenant, lists,
                                                                  django_assert_num_queries):
    """The page is picked by the filtered query alone, then its rows are read by id with
    what a row shows (care status, source and its group, stats, tags), in the page's order
    and with the sort's annotations."""
    from customers.models import CustomerPhone

    status = lists["care_statuses"].first()
    shopee = lists["sources"].get(code="shopee")
    made = [services.customer_create(tenant=tenant, actor=SYSTEM, data={
        "full_name": f"Khách {i}", "phone": f"09123456{i:02d}", "care_status": status,
        "source": shopee}) for i in range(5)]
    found = customer_search(Customer.objects.for_tenant(tenant), tenant, "0912 3456")
    assert CustomerPhone.objects.for_tenant(tenant).count() == 5
    result = customer_list(queryset=found, sort="name", after=None, before=None, size=3)
    assert [c.full_name for c in result.page.rows] == ["Khách 0", "Khách 1", "Khách 2"]
    with django_assert_num_queries(0):
        for row in result.page.rows:
            assert (row.care_status.name, row.source.parent.code) == (status.name,
                                                                      "marketplace")
            list(row.tags.all())
    following = customer_list(queryset=found, sort="name", after=result.page.next_cursor,
                              before=None, size=3)
    assert [c.full_name for c in following.page.rows] == ["Khách 3", "Khách 4"]
    assert {c.pk for c in made} == {c.pk for c in [*result.page.rows, *following.page.rows]}
    by_spend = customer_list(queryset=found, sort="-spend", after=None, before=None)
    assert all(row.sort_spend == 0 for row in by_spend.page.rows)


@pytest.mark.parametrize("sort", ["spend", "-spend", "orders", "-orders", "debt", "-debt",
                                  "last_order", "-last_order"])
def test_stats_sorts_walk_every_customer_once_in_order(tenant, other_tenant, sort):
    """The sorts on order figures (on PostgreSQL read as two parts: customers above the
    floor through the stats index, the others by id) give every customer once, in the
    order of COALESCE(figure, floor), id — customers without a stats row among the floor —
    forwards and backwards."""
    import datetime

    from django.utils import timezone

    from orders.models import CustomerStats

    now = timezone.now()
    figures = [None, 0, 0, 500, 500, 900, None, 120, 0, 500]  # None: no stats row yet
    for i, value in enumerate(figures):
        c = CustomerFactory(tenant=tenant, full_name=f"K{i}")
        if value is not None:
            CustomerStats.objects.create(
                tenant=tenant, customer=c, total_spend=value, delivered_orders=value // 100,
                debt=value, last_order_at=now - datetime.timedelta(days=value) if value
                else None)
    CustomerStats.objects.create(tenant=other_tenant, total_spend=10**9,
                                 customer=CustomerFactory(tenant=other_tenant))
    qs = Customer.objects.for_tenant(tenant)
    key = {"spend": "total_spend", "orders": "delivered_orders", "debt": "debt",
           "last_order": "last_order_at"}[sort.lstrip("-")]
    epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
    floor = epoch if key == "last_order_at" else 0

    def value_of(c):
        stats = CustomerStats.objects.filter(customer=c).first()
        value = getattr(stats, key, None) if stats else None
        return floor if value is None else value

    expected = sorted(qs, key=lambda c: (value_of(c), c.pk), reverse=sort.startswith("-"))
    seen, cursor = [], None
    while True:
        result = customer_list(queryset=qs, sort=sort, after=cursor, before=None, size=3)
        seen += result.page.rows
        cursor = result.page.next_cursor
        if not cursor:
            break
    assert [c.pk for c in seen] == [c.pk for c in expected]
    last = customer_list(queryset=qs, sort=sort, after=None, before=None, size=3)
    back = customer_list(queryset=qs, sort=sort, after=None,
                         before=customer_list(queryset=qs, sort=sort,
                                              after=last.page.next_cursor, before=None,
                                              size=3).page.prev_cursor, size=3)
    assert [c.pk for c in back.page.rows] == [c.pk for c in expected[:3]]
