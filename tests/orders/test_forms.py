"""Every amount on the order screens is typed the Vietnamese way and stored as whole đồng."""

import re

import pytest

from crm.access import SYSTEM
from customers import services as customer_services
from orders import services
from orders.forms import OrderForm, OrderLineFormSet, PaymentForm, ReturnForm
from orders.models import Order

pytestmark = pytest.mark.django_db


def customer(tenant):
    return customer_services.customer_create(
        tenant=tenant, actor=SYSTEM, data={"full_name": "Trần Văn Bình", "phone": "0912000001"})


def order_post(c, **extra):
    return {
        "customer": c.code, "status": "new", "discount": "10.000", "shipping_fee": "30k",
        "paid_amount": "0", "lines-TOTAL_FORMS": 2, "lines-INITIAL_FORMS": 0,
        "lines-0-product_name": "Trà Ô long 100g", "lines-0-quantity": 2,
        "lines-0-unit_price": "220.000",
        # The blank extra row a browser posts: quantity's initial 1, an empty price.
        "lines-1-product_name": "", "lines-1-quantity": 1, "lines-1-unit_price": "",
        **extra,
    }


def test_order_with_a_dotted_price_stores_whole_dong(login, staff, tenant, lists):
    c = customer(tenant)
    response = login(staff).post("/admin/orders/new/", order_post(c))
    assert response.status_code == 302
    o = Order.objects.get()
    line = o.lines.get()
    assert line.unit_price == 220_000  # not 220
    assert (o.discount, o.shipping_fee, o.total_amount) == (10_000, 30_000, 460_000)


@pytest.mark.parametrize(("typed", "stored"), [
    ("220000", 220_000), ("220,000", 220_000), ("220k", 220_000), ("220.000 ₫", 220_000),
    ("1,5tr", 1_500_000),
])
def test_line_price_spellings(tenant, typed, stored):
    lines = OrderLineFormSet({"lines-TOTAL_FORMS": 1, "lines-INITIAL_FORMS": 0,
                              "lines-0-product_name": "Trà", "lines-0-quantity": 1,
                              "lines-0-unit_price": typed}, prefix="lines")
    assert lines.is_valid(), lines.errors
    assert lines.forms[0].cleaned_data["unit_price"] == stored


@pytest.mark.parametrize("typed", ["220.5", "1.5", "12.34.5", "abc", "-220.000"])
def test_unreadable_price_is_an_error_and_nothing_is_saved(login, staff, tenant, lists, typed):
    c = customer(tenant)
    response = login(staff).post("/admin/orders/new/",
                                 order_post(c, **{"lines-0-unit_price": typed}))
    assert response.status_code == 200
    errors = response.context["lines"].forms[0].errors
    assert list(errors) == ["unit_price"]
    assert not Order.objects.exists()
    # Shown back as typed, so the user corrects what they wrote rather than a guess.
    assert f'value="{typed}"' in response.content.decode()


def test_order_form_renders_text_boxes_grouped(login, staff, lists):
    body = login(staff).get("/admin/orders/new/").content.decode()
    for name in ("lines-0-unit_price", "discount", "shipping_fee", "paid_amount"):
        tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', body)[0]
        assert 'type="text"' in tag and "data-money" in tag and 'inputmode="numeric"' in tag


def test_order_form_fields(tenant, staff):
    form = OrderForm({"customer": "", "contact_phone": "0912000001", "status": "new",
                      "discount": "5.000 đ", "shipping_fee": "", "paid_amount": "1tr"},
                     tenant=tenant, actor=staff)
    assert not form.is_valid()
    assert list(form.errors) == ["shipping_fee"]  # required, as before (initial 0)
    assert form.cleaned_data["discount"] == 5_000 and form.cleaned_data["paid_amount"] == 1_000_000


def test_payment_and_return_amounts(login, manager, tenant):
    c = customer(tenant)
    o = services.order_create(tenant=tenant, actor=SYSTEM, customer=c,
                              data={"total_amount": 1_000_000, "status": "delivered"})
    client = login(manager)
    client.post(f"/admin/orders/{o.code}/payment/", {"amount": "400.000"})
    client.post(f"/admin/orders/{o.code}/return/", {"amount": "100k", "reason": "Hỏng"})
    o.refresh_from_db()
    assert (o.paid_amount, o.returned_amount) == (400_000, 100_000)
    assert PaymentForm({"amount": "0"}).errors["amount"]
    assert ReturnForm({"amount": "1.5"}).errors["amount"]
    body = client.post(f"/admin/orders/{o.code}/payment/", {"amount": "1.5"}).content.decode()
    assert "“1.5”" in body
    o.refresh_from_db()
    assert o.paid_amount == 400_000


def test_customer_list_spend_filter_reads_money(login, manager, tenant):
    c = customer(tenant)
    services.order_create(tenant=tenant, actor=SYSTEM, customer=c,
                          data={"total_amount": 9_000_000, "status": "delivered"})
    client = login(manager)
    assert c.code in client.get("/admin/customers/", {"spend_min": "5tr"}).content.decode()
    assert c.code not in client.get("/admin/customers/",
                                    {"spend_min": "9.000.001"}).content.decode()
    body = client.get("/admin/customers/", {"spend_max": "10.000.000"}).content.decode()
    assert c.code in body and 'value="10.000.000"' in body
