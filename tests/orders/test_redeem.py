"""Using loyalty points as a discount (issue 12): the manual order form's "Dùng điểm" box
and the ingest API's ``points_redeemed``. The loyalty app prices the points and refuses
more than the balance; a refusal writes nothing; cancelling gives the points back."""

import json
import re
import uuid

import pytest
from django.test import Client

from crm.access import SYSTEM
from crm.services import api_key_create
from customers import services as customer_services
from customers.models import Customer
from loyalty.models import EntryKind, LoyaltyAccount, PointEntry
from orders import services
from orders.forms import OrderForm
from orders.models import Order
from tests.loyalty.factories import give, program_on

pytestmark = pytest.mark.django_db
NEW = "/admin/orders/new/"
# The loyalty app's refusal, in Vietnamese (its source text until the catalogue is compiled).
OVER_120 = ("Khách chỉ có 120 điểm", "The customer has only 120 points")


def customer(tenant, phone="0912000001"):
    return customer_services.customer_create(
        tenant=tenant, actor=SYSTEM, data={"full_name": "Trần Văn Bình", "phone": phone})


def balance(c) -> int:
    return LoyaltyAccount.objects.filter(customer=c).values_list("balance", flat=True).first() \
        or 0


def redeemed(c) -> list[int]:
    return list(PointEntry.objects.filter(customer=c, kind=EntryKind.REDEEM)
                .values_list("delta", flat=True))


def order_post(c=None, points="", **extra):
    return {
        "customer": c.code if c else "", "status": "new", "discount": "10.000",
        "shipping_fee": "30.000", "paid_amount": "0", "points_redeemed": points,
        "lines-TOTAL_FORMS": 1, "lines-INITIAL_FORMS": 0,
        "lines-0-product_name": "Trà Ô long 100g", "lines-0-quantity": 2,
        "lines-0-unit_price": "220.000", **extra,
    }


@pytest.fixture
def shop(tenant, lists):
    """The shop runs a program: 1 point per 10.000 ₫ earned, 1 point = 1.000 ₫."""
    program_on(tenant)
    return tenant


def points_box(body: str) -> str | None:
    found = re.search(r'<input[^>]*name="points_redeemed"[^>]*>', body)
    return found[0] if found else None


# --- the form ------------------------------------------------------------------------------

def test_box_shown_with_the_point_value_when_the_shop_runs_a_program(login, staff, shop):
    body = login(staff).get(NEW).content.decode()
    box = points_box(body)
    assert box is not None and "data-money" in box and 'type="text"' in box
    form = OrderForm(tenant=shop, actor=staff)
    assert "1.000 ₫" in str(form.fields["points_redeemed"].help_text)
    assert str(form.fields["points_redeemed"].help_text).startswith(("1 điểm = ", "1 point = "))


def test_box_hidden_without_a_program(login, staff, tenant, lists):
    assert points_box(login(staff).get(NEW).content.decode()) is None
    program_on(tenant, enabled=False)  # set up once, switched off since
    assert points_box(login(staff).get(NEW).content.decode()) is None
    assert "points_redeemed" not in OrderForm(tenant=tenant, actor=staff).fields
    assert services.points_price(tenant) is None


def test_points_price_follows_the_program(shop):
    assert services.points_price(shop) == 1_000
    program_on(shop, point_value=500)
    assert services.points_price(shop) == 500


@pytest.mark.parametrize(("typed", "points"), [("100", 100), ("1.000", 1_000),
                                               ("1,000", 1_000), ("1 000", 1_000), ("", 0)])
def test_points_typed_like_an_amount(shop, staff, typed, points):
    form = OrderForm(order_post(customer(shop), points=typed), tenant=shop, actor=staff)
    assert form.is_valid(), form.errors
    assert form.service_data()["points_redeemed"] == points


@pytest.mark.parametrize("typed", ["1,5", "12.34", "-100", "abc", "10k", "1000000001"])
def test_unreadable_points_are_an_error_on_the_box(shop, staff, typed):
    form = OrderForm(order_post(customer(shop), points=typed), tenant=shop, actor=staff)
    assert not form.is_valid()
    assert list(form.errors) == ["points_redeemed"]


def test_thousand_points_typed_with_a_dot(login, staff, shop):
    c = customer(shop)
    give(shop, c, 1_500)
    response = login(staff).post(NEW, order_post(c, points="1.000",
                                                 **{"lines-0-unit_price": "2.000.000"}))
    assert response.status_code == 302, response.context["form"].errors
    o = Order.objects.get()
    assert (o.points_redeemed, o.points_discount) == (1_000, 1_000_000)
    assert o.total_amount == 2 * 2_000_000 - 10_000 - 1_000_000 + 30_000
    assert balance(c) == 500


def test_form_redeems_and_the_order_page_explains_the_total(login, staff, shop):
    c = customer(shop)
    give(shop, c, 500)
    client = login(staff)
    response = client.post(NEW, order_post(c, points="100"))
    assert response.status_code == 302, response.context["form"].errors
    o = Order.objects.get()
    assert (o.points_redeemed, o.points_discount) == (100, 100_000)
    assert o.total_amount == 2 * 220_000 - 10_000 - 100_000 + 30_000
    assert redeemed(c) == [-100] and balance(c) == 400
    entry = PointEntry.objects.get(kind=EntryKind.REDEEM)
    assert entry.order == o and entry.actor == staff.user
    body = client.get(f"/admin/orders/{o.code}/").content.decode()
    shown = re.search(r'data-testid="order-points">([^<]*)<', body)[1]
    assert shown == "100 (−100.000 ₫)"
    assert "440.000 ₫" in body  # the goods before the discount, the points and shipping


def test_over_the_balance_is_an_error_on_the_box_and_nothing_is_written(login, staff, shop):
    c = customer(shop)
    give(shop, c, 120)
    response = login(staff).post(NEW, order_post(c, points="200"))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == ["points_redeemed"]
    assert errors["points_redeemed"][0].startswith(OVER_120)
    assert not Order.objects.exists()
    assert redeemed(c) == [] and balance(c) == 120
    # Not even an order number was used up.
    assert services.order_create(tenant=shop, actor=staff, customer=c,
                                 data={"total_amount": 100_000}).code == "DH000001"
    # The form comes back as typed, to correct the points.
    assert 'value="200"' in points_box(response.content.decode())


def test_points_without_a_customer(login, staff, shop):
    shop.auto_create_guest_customers = False
    shop.save()
    response = login(staff).post(NEW, order_post(None, points="10",
                                                 contact_phone="0988777666"))
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["points_redeemed"]
    assert not Order.objects.exists()


def test_points_on_a_new_walk_in_customer_are_refused_and_no_customer_is_left(login, staff,
                                                                              shop):
    response = login(staff).post(NEW, order_post(None, points="10",
                                                 contact_phone="0988777666"))
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["points_redeemed"]
    assert not Order.objects.exists()
    assert not Customer.objects.filter(phone_normalized="+84988777666").exists()


def test_points_worth_more_than_the_order(login, staff, shop):
    c = customer(shop)
    give(shop, c, 1_000)
    response = login(staff).post(NEW, order_post(c, points="500"))  # 500.000 > 460.000
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["points_redeemed"]
    assert not Order.objects.exists() and balance(c) == 1_000


def test_cancelling_gives_the_points_back(login, staff, manager, shop):
    c = customer(shop)
    give(shop, c, 500)
    login(staff).post(NEW, order_post(c, points="100"))
    o = Order.objects.get()
    assert balance(c) == 400
    login(manager).post(f"/admin/orders/{o.code}/status/", {"status": "cancelled"})
    o.refresh_from_db()
    assert o.status == "cancelled" and balance(c) == 500
    back = PointEntry.objects.get(kind=EntryKind.REVERSAL, order=o)
    assert back.delta == 100 and back.lifetime_delta == 0
    body = login(manager).get(f"/admin/orders/{o.code}/").content.decode()
    assert "100 (−100.000 ₫)" in body  # still said what was used, and that it came back
    # Brought back: the points are used again (and refused when they are gone meanwhile).
    services.order_set_status(tenant=shop, actor=manager, order=o, status="new")
    assert balance(c) == 400 and redeemed(c) == [-100, -100]


def test_manager_may_redeem_and_a_collaborator_cannot_create_orders(login, manager,
                                                                    collaborator, shop):
    c = customer(shop)
    give(shop, c, 500)
    assert login(manager).post(NEW, order_post(c, points="50")).status_code == 302
    assert balance(c) == 450
    client = login(collaborator)
    assert client.get(NEW).status_code == 403
    assert client.post(NEW, order_post(c, points="50")).status_code == 403
    assert Order.objects.count() == 1 and balance(c) == 450


# --- the ingest API ------------------------------------------------------------------------

@pytest.fixture
def api(tenant, lists):
    _key, secret = api_key_create(tenant=tenant, actor=SYSTEM, name="Haravan")
    client = Client(REMOTE_ADDR=f"10.1.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}")

    def post(body):
        return client.post("/api/v1/orders", data=json.dumps(body),
                           content_type="application/json",
                           HTTP_AUTHORIZATION=f"Bearer {secret}")

    return post


def payload(**extra):
    body = {"channel": "shopee", "external_id": "SP-1001", "status": "new",
            "ordered_at": "2026-11-20T10:15:00+07:00",
            "contact": {"name": "Trần Văn Bình", "phone": "0912 000 001"},
            "lines": [{"product_name": "Trà Ô long", "quantity": 2, "unit_price": 220000}],
            "shipping_fee": 30000, "paid_amount": 0}
    body.update(extra)
    return body


def test_api_redeems_within_the_balance_once(api, tenant):
    program_on(tenant)
    c = customer(tenant)
    give(tenant, c, 500)
    response = api(payload(points_redeemed=100))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["customer"] == c.code
    assert (body["points_redeemed"], body["points_discount"], body["total_amount"]) == (
        100, 100_000, 2 * 220_000 + 30_000 - 100_000)
    assert redeemed(c) == [-100] and balance(c) == 400
    entry = PointEntry.objects.get(kind=EntryKind.REDEEM)
    assert entry.order.code == body["code"] and entry.actor is None  # a channel, no person
    # A re-post (even with other points) updates status and payment, never the points.
    again = api(payload(points_redeemed=300, status="confirmed"))
    assert again.status_code == 200 and again.json()["points_redeemed"] == 100
    assert redeemed(c) == [-100] and balance(c) == 400
    # Cancelled by the channel: the points come back.
    assert api(payload(status="cancelled")).status_code == 200
    assert balance(c) == 500


def test_api_over_the_balance_is_a_400_on_the_field(api, tenant):
    program_on(tenant)
    c = customer(tenant)
    give(tenant, c, 120)
    response = api(payload(points_redeemed=200))
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert list(errors) == ["points_redeemed"]
    assert errors["points_redeemed"][0].startswith(OVER_120)
    assert not Order.objects.exists() and balance(c) == 120


def test_api_without_a_program_refuses_points(api, tenant):
    c = customer(tenant)
    response = api(payload(points_redeemed=10))
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["points_redeemed"]
    assert not Order.objects.exists() and not PointEntry.objects.filter(customer=c).exists()
    # Without points, the same order goes through.
    assert api(payload(points_redeemed=0)).status_code == 201


@pytest.mark.parametrize("value", [-1, 1.5, "10", True, [10], 10**9 + 1])
def test_api_points_must_be_a_whole_number(api, tenant, value):
    program_on(tenant)
    response = api(payload(points_redeemed=value))
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["points_redeemed"]
    assert not Order.objects.exists()


def test_api_points_worth_more_than_the_order(api, tenant):
    program_on(tenant)
    c = customer(tenant)
    give(tenant, c, 1_000)
    response = api(payload(points_redeemed=600))  # 600.000 > 470.000
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["points_redeemed"]
    assert balance(c) == 1_000
