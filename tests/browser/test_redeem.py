"""Using points at the till: a phone order for a member pays part with their points."""

import pytest
from playwright.sync_api import expect

from crm.access import SYSTEM
from customers import services
from customers.defaults import seed_defaults
from loyalty.models import LoyaltyAccount, PointEntry
from orders.models import Order
from tests.loyalty.factories import give, program_on

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def member(manager):
    seed_defaults(manager.tenant)
    program_on(manager.tenant)
    customer = services.customer_create(tenant=manager.tenant, actor=SYSTEM, data={
        "full_name": "Trần Thị Mai", "phone": "0912 345 679"})
    give(manager.tenant, customer, 300)
    return customer


def test_staff_uses_points_on_a_phone_order(page, manager, member, browser_login, shot):
    browser_login(manager)
    page.goto("/admin/orders/new/")
    page.fill("#id_lines-0-product_name", "Trà Ô long 100g")
    page.fill("#id_lines-0-quantity", "2")
    page.fill("#id_lines-0-unit_price", "220.000")
    page.fill("#id_customer", "0912.345.679")
    # More than the customer holds: refused on the box, nothing saved.
    page.fill("#id_points_redeemed", "400")
    page.click("button[type=submit]:has-text('Lưu đơn hàng')")
    expect(page.locator("body")).to_contain_text("Khách chỉ có 300 điểm")
    assert not Order.objects.exists()
    page.fill("#id_points_redeemed", "100")
    page.click("button[type=submit]:has-text('Lưu đơn hàng')")
    page.wait_for_url("**/admin/orders/DH000001/")
    expect(page.locator("body")).to_contain_text("100 (−100.000 ₫)")
    shot(page, "order-with-points")
    order = Order.objects.get(code="DH000001")
    assert (order.total_amount, order.points_redeemed) == (340_000, 100)
    assert LoyaltyAccount.objects.get(customer=member).balance == 200
    assert PointEntry.objects.filter(order=order, kind="redeem", delta=-100).exists()
