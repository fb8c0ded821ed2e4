"""Money typed in Chromium the Vietnamese way: grouped while typing, stored as whole đồng."""

import pytest
from playwright.sync_api import expect

from crm.access import SYSTEM
from crm.money import MoneyParseError, format_money, parse_money
from customers import services
from customers.defaults import seed_defaults
from orders.models import Order

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def shop(manager):
    seed_defaults(manager.tenant)
    services.customer_create(tenant=manager.tenant, actor=SYSTEM,
                             data={"full_name": "Nguyễn Văn Đức", "phone": "0912 345 678"})
    return manager


def typed(page, selector, text):
    """Type key by key; the box's value after each key."""
    box = page.locator(selector)
    box.click()
    seen = []
    for key in text:
        page.keyboard.type(key)
        seen.append(box.input_value())
    return seen


def test_price_typed_with_dots_is_saved_as_220_000(page, shop, browser_login, shot):
    browser_login(shop)
    page.goto("/admin/orders/new/")
    page.fill("#id_lines-0-product_name", "Trà Ô long 100g")
    # The Vietnamese way, dots typed by the user: kept as typed.
    assert typed(page, "#id_lines-0-unit_price", "220.000")[-1] == "220.000"
    # Digits only: the box groups them while typing, the caret stays at the end.
    page.click("[data-formset-add]")
    page.fill("#id_lines-1-product_name", "Cà phê Robusta 500g")
    seen = typed(page, "#id_lines-1-unit_price", "1500000")
    assert seen == ["1", "15", "150", "1.500", "15.000", "150.000", "1.500.000"]
    # Backspace just after a dot takes the digit before it (the dot is ours, not the user's).
    for key in ["Home", "ArrowRight", "ArrowRight", "Backspace"]:
        page.keyboard.press(key)
    expect(page.locator("#id_lines-1-unit_price")).to_have_value("500.000")
    page.keyboard.type("2")
    expect(page.locator("#id_lines-1-unit_price")).to_have_value("2.500.000")
    # Shorthand is left alone while typing and shown as read when the box is left.
    page.fill("#id_discount", "")
    assert typed(page, "#id_discount", "20k")[-1] == "20k"
    page.click("#id_shipping_fee")
    expect(page.locator("#id_discount")).to_have_value("20.000")
    page.fill("#id_customer", "0912345678")
    shot(page, "money-order-form")
    page.click("button[type=submit]:has-text('Lưu đơn hàng')")
    page.wait_for_url("**/admin/orders/DH000001/")
    body = page.locator("body").inner_text()
    assert "220.000 ₫" in body and "2.500.000 ₫" in body
    order = Order.objects.get(code="DH000001")
    assert sorted(line.unit_price for line in order.lines.all()) == [220_000, 2_500_000]
    assert (order.discount, order.total_amount) == (20_000, 2_700_000)


def test_unreadable_price_is_refused_not_guessed(page, shop, browser_login):
    browser_login(shop)
    page.goto("/admin/orders/new/")
    page.fill("#id_lines-0-product_name", "Trà")
    typed(page, "#id_lines-0-unit_price", "220.5")
    page.click("#id_discount")
    expect(page.locator("#id_lines-0-unit_price")).to_have_class(
        "form-control is-invalid")
    expect(page.locator("#id_lines-0-unit_price")).to_have_value("220.5")
    page.fill("#id_customer", "0912345678")
    page.click("button[type=submit]:has-text('Lưu đơn hàng')")
    expect(page.locator(".invalid-feedback")).to_contain_text("“220.5”")
    expect(page.locator("#id_lines-0-unit_price")).to_have_value("220.5")
    assert not Order.objects.exists()


# The box reads an amount on leaving with the same rules as the server (app.js mirrors
# crm/money.py); both lists of examples go through the browser.
SAMPLES = ["220000", "220,000", "220 000", "220k", "220.000 ₫", "1,5 triệu", "2tr5", "1.5tr",
           "0.5k", "1 tỷ", "1.5", "220.5", "12.34.5", "1.500k", "1,2345k", "abc", "-5.000"]


def test_browser_reads_amounts_like_the_server(page, shop, browser_login):
    browser_login(shop)
    page.goto("/admin/orders/new/")
    box = page.locator("#id_paid_amount")
    for sample in SAMPLES:
        box.fill(sample)
        page.click("#id_note")
        try:
            expected, invalid = format_money(parse_money(sample)), False
        except MoneyParseError:
            expected, invalid = sample, True
        expect(box).to_have_value(expected)
        assert ("is-invalid" in box.get_attribute("class")) is invalid, sample
