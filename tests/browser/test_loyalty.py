"""Loyalty in a browser: a manager opens a profile, presses "Cập nhật điểm", types 1.500
points and a reason in the dialog, presses "Xác nhận", and sees the new balance on the card
and the row in the Điểm tab; a refusal stays in the dialog; the Tích điểm page filters its
ledger; the same at phone width."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from customers.defaults import seed_defaults
from customers.services import customer_create
from loyalty.models import LoyaltyAccount, PointEntry
from tests.loyalty.factories import give, program_on

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def customer(manager):
    from crm.access import SYSTEM

    seed_defaults(manager.tenant)
    program_on(manager.tenant)
    an = customer_create(tenant=manager.tenant, actor=SYSTEM,
                         data={"full_name": "Nguyễn Văn An", "phone": "0912 000 001"})
    give(manager.tenant, an, 200, reason="Điểm mở thẻ")
    return an


def update_points(page, code, points: str, reason: str, subtract=False):
    page.goto(f"/admin/customers/{code}/")
    expect(page.get_by_test_id("points-balance")).to_be_visible()
    page.get_by_test_id("points-adjust").click()
    form = page.get_by_test_id("points-adjust-form")
    expect(form).to_be_visible()
    # The dialog opens on the points box (keys typed while it fades in are not lost).
    expect(form.locator("#id_delta")).to_be_focused()
    if subtract:
        form.get_by_test_id("direction-subtract").click()
        form.locator("#id_delta").click()
    page.keyboard.type(points)
    form.locator("#id_reason").fill(reason)
    return form


def test_a_manager_updates_points_and_sees_the_balance_and_the_row(
        page, manager, customer, browser_login, shot):
    browser_login(manager)
    form = update_points(page, customer.code, "1500", "Tặng điểm khai trương")
    # The box groups the digits as they are typed; the date of use is today.
    expect(form.locator("#id_delta")).to_have_value("1.500")
    expect(form.locator("#id_effective_date")).to_have_value(
        timezone.localdate().strftime("%d/%m/%Y"))
    shot(page, "loyalty-dialog")
    form.get_by_test_id("points-confirm").click()
    page.wait_for_url(f"**/admin/loyalty/customer/{customer.code}/")
    expect(page.get_by_test_id("points-balance")).to_have_text("1.700")
    expect(page.locator("#messages")).to_contain_text("1.700")
    row = page.get_by_test_id("ledger-row").first
    expect(row).to_contain_text("Tặng điểm khai trương")
    expect(row.get_by_test_id("ledger-delta")).to_have_text("+1.500")
    expect(row.get_by_test_id("ledger-balance")).to_have_text("1.700")
    expect(page.locator(".nav-link.active", has_text="Điểm")).to_be_visible()
    shot(page, "loyalty-points-tab")
    assert LoyaltyAccount.objects.get(customer=customer).balance == 1_700
    assert PointEntry.objects.filter(customer=customer).count() == 2


def test_subtracting_more_than_the_balance_stays_in_the_dialog(
        page, manager, customer, browser_login):
    browser_login(manager)
    form = update_points(page, customer.code, "500", "Đổi quà", subtract=True)
    form.get_by_test_id("points-confirm").click()
    # The refusal shows on the points box; the dialog stays open and nothing is written.
    expect(page.get_by_test_id("points-adjust-form").locator(".invalid-feedback")).to_contain_text(
        "200")
    expect(page.locator("#points-adjust-modal")).to_be_visible()
    assert PointEntry.objects.filter(customer=customer).count() == 1
    # Corrected in place, it goes through.
    page.get_by_test_id("points-adjust-form").locator("#id_delta").fill("150")
    page.get_by_test_id("points-adjust-form").get_by_test_id("points-confirm").click()
    page.wait_for_url(f"**/admin/loyalty/customer/{customer.code}/")
    expect(page.get_by_test_id("points-balance")).to_have_text("50")


def test_the_loyalty_page_filters_its_ledger(page, manager, customer, browser_login, shot):
    from loyalty import services

    services.points_adjust(tenant=manager.tenant, actor=manager, customer=customer,
                           delta=300, reason="Khách giới thiệu bạn")
    browser_login(manager)
    page.locator("aside a.nav-link[href='/admin/loyalty/']").click()  # Tích điểm, in the menu
    page.wait_for_url("**/admin/loyalty/")
    expect(page.get_by_test_id("program-status")).to_be_visible()
    expect(page.get_by_test_id("tier-row")).to_have_count(3)
    table = page.get_by_test_id("ledger-table")
    expect(table).to_contain_text("Khách giới thiệu bạn")
    expect(table).to_contain_text("Điểm mở thẻ")
    page.locator("#id_actor").select_option(str(manager.user_id))
    expect(table).not_to_contain_text("Điểm mở thẻ")
    expect(table).to_contain_text("Khách giới thiệu bạn")
    assert f"actor={manager.user_id}" in page.url
    shot(page, "loyalty-program")


def test_at_phone_width(page, manager, customer, browser_login, shot):
    page.set_viewport_size({"width": 390, "height": 844})
    browser_login(manager)
    form = update_points(page, customer.code, "1500", "Tặng điểm")
    form.get_by_test_id("points-confirm").click()
    page.wait_for_url(f"**/admin/loyalty/customer/{customer.code}/")
    expect(page.get_by_test_id("points-balance")).to_have_text("1.700")
    expect(page.get_by_test_id("ledger-row").first).to_contain_text("Tặng điểm")
    for url in (f"/admin/loyalty/customer/{customer.code}/", "/admin/loyalty/",
                "/admin/loyalty/settings/"):
        page.goto(url)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), url
        shot(page, "loyalty-phone-" + url.strip("/").replace("/", "-"))
