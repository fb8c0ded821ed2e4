import re

import pytest
from playwright.sync_api import expect

from crm.access import SYSTEM
from customers import services
from customers.defaults import seed_defaults

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def shop(manager):
    seed_defaults(manager.tenant)
    for name, phone in [("Nguyễn Văn Đức", "0912 345 678"), ("Trần Thị Thu Hà", "0987 654 321"),
                        ("Lê Hoàng Nam", "0903 111 222")]:
        services.customer_create(tenant=manager.tenant, actor=SYSTEM,
                                 data={"full_name": name, "phone": phone})
    return manager


def test_search_as_you_type_by_phone_and_name(page, shop, browser_login, shot):
    browser_login(shop)
    page.goto("/admin/customers/")
    assert "3 khách hàng" in page.get_by_test_id("result-count").inner_text()
    page.fill("#q", "+84 987-654")
    expect(page.get_by_test_id("result-count")).to_have_text(re.compile(r"^1 "))
    assert page.locator("tbody tr").count() == 1
    assert "Trần Thị Thu Hà" in page.locator("tbody").inner_text()
    assert "q=%2B84" in page.url  # the search is in the address bar (htmx push-url)
    page.fill("#q", "duc nguyen")
    expect(page.locator("tbody")).to_contain_text("Đức")
    shot(page, "customer-list-search")
    page.click("text=Nguyễn Văn Đức")
    page.wait_for_url("**/admin/customers/KH000001/")
    assert "0912 345 678" in page.locator("#tab-content").inner_text()


def test_create_customer_with_ward_select_and_duplicate_phone(page, shop, browser_login, shot):
    browser_login(shop)
    page.goto("/admin/customers/new/")
    page.fill("#id_full_name", "Phạm Ngọc Ánh")
    page.fill("#id_phone", "0912.345.678")
    page.fill("#id_birthday", "15/08")
    # Province is a Tom Select: type to find, click the option; wards load by htmx.
    page.locator("#id_province_code-ts-control").fill("Hà Nội")
    page.locator(".ts-dropdown .option", has_text="Thành phố Hà Nội").click()
    page.locator("#id_ward_code option").nth(10).wait_for(state="attached")
    page.select_option("#id_ward_code", label="Phường Ba Đình")
    page.click("button[type=submit].btn-primary")
    conflict = page.get_by_test_id("conflict")
    assert "KH000001" in conflict.inner_text()
    shot(page, "customer-create-duplicate")
    page.fill("#id_phone", "0977 000 111")
    page.click("button[type=submit].btn-primary")
    page.wait_for_url("**/admin/customers/KH000004/")
    body = page.locator("#tab-content").inner_text()
    assert "15/08" in body and "Phường Ba Đình" in body


def test_find_by_phone_change_care_status_see_history(page, shop, browser_login, shot):
    browser_login(shop)
    page.goto("/admin/customers/")
    page.fill("#q", "0987.654.321")
    expect(page.get_by_test_id("result-count")).to_have_text(re.compile(r"^1 "))
    page.click("tbody >> text=Trần Thị Thu Hà")
    page.wait_for_url("**/admin/customers/KH000002/")
    page.get_by_test_id("care-status").click()
    page.locator("#overview .dropdown-item", has_text="Chốt đơn").first.click()
    expect(page.get_by_test_id("care-status")).to_contain_text("Chốt đơn")
    shot(page, "customer-profile")
    page.click("a.nav-link:has-text('Lịch sử thay đổi')")
    page.wait_for_url("**/admin/customers/KH000002/history/")
    history = page.get_by_test_id("history").inner_text()
    assert "Trạng thái chăm sóc" in history and "Chốt đơn" in history
    shot(page, "customer-history")
    page.click("a.nav-link:has-text('Ghi chú & hoạt động')")
    page.fill("textarea[name=body]", "Khách hẹn gọi lại thứ Hai")
    page.click("text=Thêm ghi chú")
    expect(page.locator("#activity")).to_contain_text("hẹn gọi lại thứ Hai")
    assert "đổi trạng thái chăm sóc: — → Chốt đơn" in page.locator("#activity").inner_text()
    shot(page, "customer-activity")


def test_filter_panel_loads_when_opened_and_filters(page, shop, browser_login):
    from customers.models import Customer

    female = Customer.objects.for_tenant(shop.tenant).get(full_name="Trần Thị Thu Hà")
    female.gender = "female"
    female.save(update_fields=["gender"])
    browser_login(shop)
    page.goto("/admin/customers/")
    assert page.locator("#filters select").count() == 0  # not rendered until opened
    page.locator("[data-bs-target='#filters']").click()
    gender = page.locator("#filters select[name=gender]")
    expect(gender).to_be_attached()
    gender.select_option("female")
    page.locator("#filters button[type=submit]").click()
    expect(page.get_by_test_id("result-count")).to_have_text(re.compile(r"^1 "))
    assert "gender=female" in page.url and "Trần Thị Thu Hà" in page.locator("tbody").inner_text()
    page.reload()  # a filter in use: the panel is open with its fields at once
    expect(page.locator("#filters select[name=gender]")).to_have_value("female")
