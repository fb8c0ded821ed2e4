"""Saved filters in the browser: filter the list, "Thêm bộ lọc", name it, the chip appears;
open the plain list, click the chip, the list is in that state again; a built-in filter
with the bulk "Kích hoạt thành viên"."""

import re

import pytest
from playwright.sync_api import expect

from crm.access import SYSTEM
from customers import services
from customers.defaults import seed_defaults
from customers.models import Customer, MembershipState
from groups.models import SavedFilter

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def shop(manager):
    seed_defaults(manager.tenant)
    for name, phone, state in [
            ("Nguyễn Văn Đức", "0912 345 678", MembershipState.GUEST),
            ("Trần Thị Thu Hà", "0987 654 321", MembershipState.PENDING),
            ("Trần Văn Nam", "0903 111 222", MembershipState.ACTIVE),
            ("Lê Hoàng Nam", "0903 111 333", MembershipState.CANCELLED)]:
        services.customer_create(tenant=manager.tenant, actor=SYSTEM, data={
            "full_name": name, "phone": phone, "membership_state": state})
    return manager


def chip(page, label: str):
    return page.locator(f"[data-saved-filters] [data-chip][data-label='{label}']")


def test_save_the_list_as_a_filter_and_open_it_again(page, shop, browser_login, shot):
    browser_login(shop)
    page.goto("/admin/customers/")
    page.fill("#q", "Trần")
    expect(page.get_by_test_id("result-count")).to_have_text(re.compile(r"^2 "))
    assert "q=Tr" in page.url  # the list moved by htmx: the chips were not re-rendered
    page.get_by_test_id("save-filter-open").click()
    dialog = page.locator("#save-filter-modal")
    expect(dialog).to_be_visible()
    # The dialog says what it will keep: the search as it is now.
    expect(dialog.get_by_test_id("save-filter-summary")).to_contain_text("Trần")
    dialog.locator("input[name=name]").fill("Họ Trần")
    dialog.locator("input[name=shared]").check()
    shot(page, "saved-filter-dialog")
    dialog.locator("button[type=submit]").click()
    # The list's URL already holds q=Tr...: wait for the page the POST redirects to.
    expect(chip(page, "Họ Trần")).to_have_class(re.compile(r"\bactive\b"))
    assert "q=Tr" in page.url
    saved = SavedFilter.objects.get()
    assert (saved.name, saved.query, saved.shared) == ("Họ Trần", "q=Tr%E1%BA%A7n", True)
    shot(page, "saved-filter-chip-active")

    # The plain list: the chip is there, not active; a click opens the list in its state.
    page.goto("/admin/customers/")
    expect(page.get_by_test_id("result-count")).to_have_text(re.compile(r"^4 "))
    expect(chip(page, "Họ Trần")).not_to_have_class(re.compile(r"\bactive\b"))
    chip(page, "Họ Trần").click()
    page.wait_for_url(re.compile(r"q=Tr"))
    expect(page.get_by_test_id("result-count")).to_have_text(re.compile(r"^2 "))
    assert page.locator("#q").input_value() == "Trần"
    expect(chip(page, "Họ Trần")).to_have_class(re.compile(r"\bactive\b"))
    # Searching on (htmx) leaves the filter's state: the chip is no longer the active one.
    page.fill("#q", "Trần Thị")
    expect(page.get_by_test_id("result-count")).to_have_text(re.compile(r"^1 "))
    expect(chip(page, "Họ Trần")).not_to_have_class(re.compile(r"\bactive\b"))

    # A name taken: the dialog says so in place and stays open.
    page.get_by_test_id("save-filter-open").click()
    expect(dialog).to_be_visible()
    dialog.locator("input[name=name]").fill("họ trần")
    dialog.locator("button[type=submit]").click()
    expect(dialog.locator(".invalid-feedback")).to_be_visible()
    assert SavedFilter.objects.count() == 1


def test_not_members_chip_and_activate_them(page, shop, browser_login, shot):
    browser_login(shop)
    page.goto("/admin/customers/")
    page.locator("[data-saved-filters] [data-chip][data-state*='pending']").click()
    page.wait_for_url(re.compile(r"membership_state=pending"))
    expect(page.get_by_test_id("result-count")).to_have_text(re.compile(r"^2 "))
    page.locator("[data-select-all]").check()
    page.select_option("[data-bulk-action]", "activate_membership")
    page.locator("[data-bulk-submit]").click()
    page.wait_for_load_state("networkidle")
    shot(page, "saved-filter-activate")
    assert set(Customer.objects.filter(tenant=shop.tenant, membership_state="active")
               .values_list("full_name", flat=True)) == {"Nguyễn Văn Đức", "Trần Thị Thu Hà",
                                                         "Trần Văn Nam"}
    # Back on the same filter, nobody is left to activate.
    expect(page.get_by_test_id("result-count")).to_have_text(re.compile(r"^0 "))


def test_a_channel_filter_becomes_a_group_in_one_click(page, shop, browser_login):
    from customers.models import Source
    from groups.models import CustomerGroup

    shopee = Source.objects.get(tenant=shop.tenant, code="shopee")
    browser_login(shop)
    page.goto("/admin/customers/")
    page.locator("[data-saved-filters] [data-channel-toggle]").click()
    page.locator(f"[data-saved-filters] [data-chip][data-state='source={shopee.pk}']").click()
    page.wait_for_url(re.compile(rf"source={shopee.pk}"))
    expect(page.locator("[data-channel-toggle]")).to_have_class(re.compile(r"\bactive\b"))
    page.locator("[data-to-group] button[type=submit]").click()
    page.wait_for_url(re.compile(r"/admin/customers/groups/\d+/"))
    group = CustomerGroup.objects.get(tenant=shop.tenant)
    assert group.rule == {"conditions": [{"field": "source", "op": "in",
                                          "value": [shopee.pk]}]}
    assert "Shopee" in group.name
