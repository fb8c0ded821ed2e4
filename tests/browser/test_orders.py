import re

import pytest
from playwright.sync_api import expect

from crm.access import SYSTEM
from customers import services
from customers.defaults import seed_defaults
from customers.models import Customer
from orders.models import CustomerStats, Order

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def shop(manager):
    seed_defaults(manager.tenant)
    services.customer_create(tenant=manager.tenant, actor=SYSTEM,
                             data={"full_name": "Nguyễn Văn Đức", "phone": "0912 345 678"})
    return manager


def test_enter_order_deliver_it_take_a_payment_see_debt_on_profile(page, shop, browser_login,
                                                                    shot):
    browser_login(shop)
    page.goto("/admin/orders/new/")
    page.fill("#id_lines-0-product_name", "Cà phê hạt Robusta 500g")
    page.fill("#id_lines-0-quantity", "2")
    page.fill("#id_lines-0-unit_price", "150000")
    page.fill("#id_customer", "0912.345.678")  # the customer's phone in any format
    page.select_option("#id_status", "shipping")
    page.click("button[type=submit]:has-text('Lưu đơn hàng')")
    page.wait_for_url("**/admin/orders/DH000001/")
    assert "Nguyễn Văn Đức" in page.locator("body").inner_text()
    page.click("button[name=status][value=delivered]")
    expect(page.locator("body")).to_contain_text("Ghi nhận thanh toán")
    assert page.get_by_test_id("order-debt").inner_text().startswith("300.000")
    # Paying more than is owed is refused with the amount left, then a real payment.
    page.fill("#id_amount", "500000")
    page.click("button:has-text('Ghi nhận thanh toán')")
    refused = page.locator(".alert", has_text="nhiều hơn số còn nợ")
    assert "300.000" in refused.inner_text()
    page.fill("#id_amount", "100000")
    page.click("button:has-text('Ghi nhận thanh toán')")
    expect(page.get_by_test_id("order-debt")).to_have_text(re.compile(r"^200\.000"))
    shot(page, "order-detail-paid")
    page.goto("/admin/customers/KH000001/")
    overview = page.get_by_test_id("overview").inner_text()
    assert "Đã mua hàng" in overview
    order = Order.objects.get(code="DH000001")
    stats = CustomerStats.objects.get(customer=Customer.objects.get(code="KH000001"))
    assert (order.paid_amount, stats.total_spend, stats.debt) == (100_000, 300_000, 200_000)
