"""Review findings on the customer importer: each test failed before its fix."""

from types import SimpleNamespace

import pytest

from customers.models import Customer, CustomerTag, Tag
from imports import engine
from imports.engine import Options
from imports.models import EmptyCells
from tests.customers.factories import TagGroupFactory

pytestmark = pytest.mark.django_db


def sheet(headers, *rows):
    return SimpleNamespace(headers=list(headers),
                           rows=[(2 + i, list(r)) for i, r in enumerate(rows)])


def run(tenant, actor, data, mapping, **options):
    return engine.run(tenant, actor, data, mapping, Options(**options), dry_run=False)


@pytest.fixture
def shop(tenant, lists):
    return tenant


def test_clear_mode_keeps_the_tags_the_row_names_again(shop, manager):
    """"Empty cells clear" with a filled tag cell naming a held tag, and another column
    changed: the held tag stays (it was deleted as if the cell were empty)."""
    headers, mapping = ["Tên", "SĐT", "Công ty", "Thẻ"], ["name", "phone", "company", "tags"]
    run(shop, manager, sheet(headers, ["An", "0911000001", "Cty A", "Sỉ, Lẻ"]), mapping)
    an = Customer.objects.for_tenant(shop).get()
    summary = run(shop, manager, sheet(headers, ["An", "0911000001", "Cty B", "Sỉ, Lẻ"]),
                  mapping, empty=EmptyCells.CLEAR)
    assert summary.updated == 1
    an.refresh_from_db()
    assert an.company == "Cty B"
    assert sorted(an.tags.values_list("name", flat=True)) == ["Lẻ", "Sỉ"]


def test_clear_mode_keeps_a_held_tag_of_a_tag_group_column(shop, manager):
    group = TagGroupFactory(tenant=shop, name="Kênh", multiple=True)
    Tag.objects.create(tenant=shop, group=group, name="Zalo")
    headers = ["Tên", "SĐT", "Công ty", "Kênh"]
    mapping = ["name", "phone", "company", f"tags:{group.pk}"]
    run(shop, manager, sheet(headers, ["An", "0911000001", "Cty A", "Zalo"]), mapping)
    run(shop, manager, sheet(headers, ["An", "0911000001", "Cty B", "Zalo"]), mapping,
        empty=EmptyCells.CLEAR)
    an = Customer.objects.for_tenant(shop).get()
    assert list(an.tags.values_list("name", flat=True)) == ["Zalo"]


def test_a_new_balance_alone_is_written_for_an_existing_customer(shop, manager):
    from loyalty.models import LoyaltyAccount
    from tests.loyalty.factories import program_on

    program_on(shop)
    headers, mapping = ["Tên", "SĐT", "Điểm"], ["name", "phone", "points"]
    run(shop, manager, sheet(headers, ["An", "0911000001", "100"]), mapping)
    an = Customer.objects.for_tenant(shop).get()
    summary = run(shop, manager, sheet(headers, ["An", "0911000001", "250"]), mapping)
    assert LoyaltyAccount.objects.get(customer=an).balance == 250
    assert (summary.updated, summary.unchanged) == (1, 0)


def test_a_single_choice_tag_group_gets_one_tag_from_a_row(shop, manager):
    single = TagGroupFactory(tenant=shop, name="Hạng khách", multiple=False)
    Tag.objects.create(tenant=shop, group=single, name="Vàng")
    Tag.objects.create(tenant=shop, group=single, name="Bạc")
    headers, mapping = ["Tên", "SĐT", "Hạng khách"], ["name", "phone", f"tags:{single.pk}"]
    run(shop, manager, sheet(headers, ["An", "0911000001", "Vàng, Bạc"]), mapping)
    an = Customer.objects.for_tenant(shop).get()
    assert CustomerTag.objects.filter(customer=an, tag__group=single).count() == 1


def test_keep_the_last_row_with_one_customer_named_two_ways_writes_it_once(shop, manager):
    """Rows 2 and 4 share a phone (kept: row 4, matched by its email), row 3 names the same
    customer by another phone: one record for her, not two (two inserted the new phone
    twice: the phone's unique constraint failed the whole import)."""
    from customers.models import CustomerEmail, CustomerPhone
    from imports.models import DuplicateRule
    from tests.customers.factories import CustomerFactory

    lan = CustomerFactory(tenant=shop, full_name="Lan", phone="0911000001")
    CustomerEmail.objects.create(tenant=shop, customer=lan, email="lan@example.com",
                                 is_primary=True)
    headers, mapping = ["Tên", "SĐT", "Email"], ["name", "phone", "email"]
    summary = run(shop, manager, sheet(headers, ["Lan", "0911000009", ""],
                                       ["Lan", "0911000001", ""],
                                       ["Lan", "0911000009", "lan@example.com"]),
                  mapping, duplicates=DuplicateRule.LAST)
    assert summary.written
    assert (summary.created, summary.updated) == (0, 1)
    assert summary.duplicates == [[2, 3, 4]]
    assert sorted(CustomerPhone.objects.filter(customer=lan)
                  .values_list("normalized", flat=True)) == ["+84911000001", "+84911000009"]
