"""The group screens in a browser: build a two-condition group with the rule builder, watch
the live count follow the conditions, save, open the group page and "Vì sao?" on a member;
the profile's Nhóm tab; the same pages at phone width."""

import re

import pytest
from playwright.sync_api import expect

from crm.access import SYSTEM
from customers.defaults import seed_defaults
from groups.models import CustomerGroup, GroupMember
from tests.groups.factories import buyer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]



@pytest.fixture
def shop(manager):
    """An: 2 orders, 2.000.000 ₫; Bình: 2 orders, 1.200.000 ₫; Chi: 1 order, 3.000.000 ₫."""
    seed_defaults(manager.tenant)
    buyer(manager.tenant, "Nguyễn Văn An", "0912 000 001", 1_000_000, 1_000_000)
    buyer(manager.tenant, "Trần Thị Bình", "0912 000 002", 600_000, 600_000)
    buyer(manager.tenant, "Lê Minh Chi", "0912 000 003", 3_000_000)
    return manager


def live_count(page):
    return page.get_by_test_id("live-count-value")


def test_build_a_group_watch_the_count_save_and_ask_why(page, shop, browser_login, shot):
    browser_login(shop)
    page.goto("/admin/customers/groups/")
    page.get_by_test_id("group-add").click()
    page.wait_for_url("**/admin/customers/groups/new/")
    page.fill("#id_name", "Khách mới")
    rows = page.locator("[data-rule-row]")
    # First condition: delivered orders >= 2 (An and Bình).
    rows.nth(0).locator("[data-part=field]").select_option("orders")
    rows.nth(0).locator("[data-part=op]").select_option("gte")
    rows.nth(0).locator("[data-value]").fill("2")
    expect(live_count(page)).to_have_text(re.compile(r"^\s*2 "))
    # Second condition: total spend >= 1.500.000 ₫, typed as digits the box groups.
    page.get_by_test_id("rule-add").click()
    rows.nth(1).locator("[data-part=field]").select_option("spend")
    rows.nth(1).locator("[data-part=op]").select_option("gte")
    rows.nth(1).locator("[data-value]").press_sequentially("1500000")
    expect(rows.nth(1).locator("[data-value]")).to_have_value("1.500.000")
    expect(live_count(page)).to_have_text(re.compile(r"^\s*1 "))
    shot(page, "group-form-builder")
    page.get_by_test_id("group-save").click()
    page.wait_for_url(re.compile(r".*/admin/customers/groups/\d+/$"))
    group = CustomerGroup.objects.get(name="Khách mới")
    assert group.rule["conditions"][1] == {"field": "spend", "op": "gte", "value": 1_500_000}
    # The group page: the conditions in words and the members (the recompute ran).
    expect(page.get_by_test_id("group-conditions")).to_contain_text("1.500.000 ₫")
    expect(page.get_by_test_id("group-members")).to_have_text("1")
    expect(page.locator("#customer-table tbody")).to_contain_text("Nguyễn Văn An")
    assert "Trần Thị Bình" not in page.locator("#customer-table tbody").inner_text()
    shot(page, "group-detail")
    # "Vì sao?" on the member: each condition with An's value and ✓.
    page.locator("#customer-table [data-testid=why]").first.click()
    why = page.get_by_test_id("why-body")
    expect(why.get_by_test_id("why-conditions")).to_be_visible()
    expect(why).to_contain_text("2.000.000 ₫")
    assert why.inner_text().count("✓") == 2 and "✗" not in why.inner_text()
    shot(page, "group-why")
    # From the group list, "Chi tiết" opens the same page.
    page.goto("/admin/customers/groups/")
    expect(page.get_by_test_id("member-count").first).to_have_text("1")
    page.locator(f"tbody a.btn[href='/admin/customers/groups/{group.pk}/']").click()
    page.wait_for_url(f"**/admin/customers/groups/{group.pk}/")


def test_profile_tab_explains_a_customer_who_is_not_in(page, shop, browser_login, shot):
    from groups import services

    with_rule = {"conditions": [{"field": "orders", "op": "gte", "value": 2},
                                {"field": "spend", "op": "gte", "value": 1_500_000}]}
    services.group_create(tenant=shop.tenant, actor=SYSTEM,
                          data={"name": "Khách mới", "rule": with_rule})
    group = CustomerGroup.objects.get(name="Khách mới")
    services.group_recompute(tenant=shop.tenant, actor=SYSTEM, group=group)
    assert GroupMember.objects.filter(group=group).count() == 1
    browser_login(shop)
    from customers.models import Customer

    binh = Customer.objects.get(full_name="Trần Thị Bình")
    an = Customer.objects.get(full_name="Nguyễn Văn An")
    page.goto(f"/admin/customers/{an.code}/groups/")
    expect(page.get_by_test_id("customer-group")).to_contain_text("Khách mới")
    page.get_by_test_id("customer-group").get_by_test_id("why").click()
    expect(page.get_by_test_id("why-conditions")).to_contain_text("2.000.000 ₫")
    shot(page, "profile-groups-tab")
    # Bình is not in: the tab is empty; the group page's "Vì sao?" says which condition fails.
    page.goto(f"/admin/customers/{binh.code}/groups/")
    expect(page.get_by_test_id("customer-groups-empty")).to_be_visible()
    page.goto(f"/admin/customers/groups/{group.pk}/why/{binh.code}/")
    conditions = page.get_by_test_id("why-conditions")
    expect(conditions).to_contain_text("1.200.000 ₫")
    assert conditions.inner_text().count("✗") == 1


def test_group_pages_at_phone_width(page, shop, browser_login, shot):
    from groups import services

    page.set_viewport_size({"width": 390, "height": 844})
    browser_login(shop)
    group = services.group_create(tenant=shop.tenant, actor=shop, data={
        "name": "Quà Tết", "kind": "fixed"})
    page.goto(f"/admin/customers/groups/{group.pk}/")
    # Add a customer to the fixed list by phone.
    page.fill("#id_pin_customer", "0912 000 003")
    page.get_by_test_id("pin-add").click()
    expect(page.get_by_test_id("group-members")).to_have_text("1")
    expect(page.locator("#customer-table")).to_contain_text("Lê Minh Chi")
    no_overflow = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert no_overflow
    shot(page, "group-detail-phone")
    page.goto("/admin/customers/groups/new/")
    rows = page.locator("[data-rule-row]")
    rows.nth(0).locator("[data-part=field]").select_option("spend")
    rows.nth(0).locator("[data-value]").fill("1tr")
    rows.nth(0).locator("[data-value]").blur()
    expect(rows.nth(0).locator("[data-value]")).to_have_value("1.000.000")
    expect(live_count(page)).to_have_text(re.compile(r"^\s*3 "))  # An, Bình and Chi
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shot(page, "group-form-phone")
