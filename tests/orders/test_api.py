import json
import uuid

import pytest
from django.test import Client

from crm.services import api_key_create, api_key_revoke
from orders.models import Order

pytestmark = pytest.mark.django_db
URL = "/api/v1/orders"


@pytest.fixture
def api(tenant, lists):
    _key, secret = api_key_create(tenant=tenant, actor=None, name="Haravan")
    # Each test its own address and key, so the rate limit of one test never hits another.
    client = Client(REMOTE_ADDR=f"10.0.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}")

    def post(body, key=secret, raw=None):
        return client.post(URL, data=raw if raw is not None else json.dumps(body),
                           content_type="application/json",
                           HTTP_AUTHORIZATION=f"Bearer {key}")

    post.secret = secret
    post.key = _key
    return post


def payload(**extra):
    body = {"channel": "shopee", "external_id": "SP-1001", "status": "new",
            "ordered_at": "2026-11-20T10:15:00+07:00",
            "contact": {"name": "Lê Thị Hoa", "phone": "0912 345 678", "email": "hoa@x.vn"},
            "lines": [{"product_name": "Trà Ô long", "sku": "TOL", "quantity": 2,
                       "unit_price": 220000}],
            "shipping_fee": 30000, "paid_amount": 0}
    body.update(extra)
    return body


def test_create_then_idempotent_repost_updates_status_and_payment(api, tenant):
    first = api(payload())
    assert first.status_code == 201, first.content
    body = first.json()
    assert body["created"] is True and body["total_amount"] == 470_000
    order = Order.objects.get()
    assert order.customer.phone_normalized == "+84912345678"  # a walk-in customer was made
    again = api(payload())
    assert again.status_code == 200 and again.json()["code"] == body["code"]
    update = api(payload(status="delivered", paid_amount=470_000))
    assert update.status_code == 200 and update.json()["status"] == "delivered"
    assert Order.objects.count() == 1
    order.refresh_from_db()
    assert order.paid_amount == 470_000 and order.delivered_at is not None
    assert order.customer.stats.total_spend == 470_000


def test_same_external_id_on_another_channel_is_another_order(api):
    assert api(payload()).status_code == 201
    assert api(payload(channel="lazada")).status_code == 201
    assert Order.objects.count() == 2


@pytest.mark.parametrize(("key", "status"), [("", 401), ("kh_nope_nope", 401),
                                             ("Basic abc", 401)])
def test_auth_required(api, key, status):
    assert api(payload(), key=key).status_code == status
    assert not Order.objects.exists()


def test_revoked_key_is_refused(api, tenant):
    api_key_revoke(tenant=tenant, actor=None, key=api.key)
    assert api(payload()).status_code == 401


def test_key_of_shop_a_never_touches_shop_b(api, tenant, other_tenant):
    from customers.defaults import seed_defaults

    seed_defaults(other_tenant)
    assert api(payload()).status_code == 201
    assert Order.objects.get().tenant == tenant
    _key, secret_b = api_key_create(tenant=other_tenant, actor=None, name="B")
    response = api(payload(status="cancelled"), key=secret_b)
    assert response.status_code == 201  # shop B gets its own order, A's is untouched
    assert Order.objects.filter(tenant=tenant).get().status == "new"


def test_bad_json(api):
    response = api(None, raw="{not json")
    assert response.status_code == 400
    assert "JSON" in response.json()["errors"]["__all__"][0]


def test_missing_and_bad_fields_are_named(api):
    body = payload(status="bogus", ordered_at="hôm qua", channel="nope",
                   lines=[{"product_name": "", "quantity": 0, "unit_price": -1}],
                   contact={"phone": "123", "email": "bad"})
    del body["external_id"]
    errors = api(body).json()["errors"]
    assert set(errors) >= {"external_id", "status", "ordered_at", "lines[0].product_name",
                           "lines[0].quantity", "lines[0].unit_price", "contact.phone",
                           "contact.email"}
    assert not Order.objects.exists()


def test_unknown_channel(api):
    response = api(payload(channel="amazon"))
    assert response.status_code == 400 and "channel" in response.json()["errors"]


def test_refused_status_change_is_a_conflict(api):
    api(payload(status="delivered"))
    response = api(payload(status="shipping"))
    assert response.status_code == 409 and "status" in response.json()["errors"]


def test_rate_limited(api):
    codes = [api(payload(external_id=f"R{i}")).status_code for i in range(125)]
    assert codes.count(429) >= 1 and codes[0] == 201


def test_get_not_allowed(client):
    assert client.get(URL).status_code == 405
