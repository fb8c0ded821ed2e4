import json
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core.checks import run_checks
from django.db import connection
from django.test import Client, override_settings
from django_ratelimit import core as ratelimit_core

from crm.access import SYSTEM
from crm.checks import rate_limit_cache_check
from crm.services import api_key_create, api_key_revoke
from orders.models import Order, Payment

pytestmark = pytest.mark.django_db
URL = "/api/v1/orders"


@pytest.fixture
def api(tenant, lists):
    _key, secret = api_key_create(tenant=tenant, actor=SYSTEM, name="Haravan")
    # Each test its own address and key, so the rate limit of one test never hits another.
    client = Client(REMOTE_ADDR=f"10.0.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}")

    def post(body, key=secret, raw=None, authorization=None):
        return client.post(URL, data=raw if raw is not None else json.dumps(body),
                           content_type="application/json",
                           HTTP_AUTHORIZATION=authorization or f"Bearer {key}")

    post.secret = secret
    post.key = _key
    return post


@pytest.fixture
def one_window(monkeypatch):
    """Rate limits count in fixed one-minute windows: a test that crossed a window's end
    would start counting again, so the limiter's clock stands still."""
    now = time.time()
    monkeypatch.setattr(ratelimit_core, "time", SimpleNamespace(time=lambda: now))


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
    api_key_revoke(tenant=tenant, actor=SYSTEM, key=api.key)
    assert api(payload()).status_code == 401


def test_key_of_shop_a_never_touches_shop_b(api, tenant, other_tenant):
    from customers.defaults import seed_defaults

    seed_defaults(other_tenant)
    assert api(payload()).status_code == 201
    assert Order.objects.get().tenant == tenant
    _key, secret_b = api_key_create(tenant=other_tenant, actor=SYSTEM, name="B")
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


def test_rate_limited(api, one_window):
    codes = [api(payload(external_id=f"R{i}")).status_code for i in range(125)]
    assert codes.count(429) >= 1 and codes[0] == 201


def test_get_not_allowed(client):
    assert client.get(URL).status_code == 405


# --- bounds: every value the database cannot hold is a 400 naming the field --------------

def line(**extra):
    return {"product_name": "Trà Ô long", "sku": "TOL", "quantity": 2, "unit_price": 220000,
            **extra}


@pytest.mark.parametrize(("body", "field"), [
    ({"lines": [line(quantity=10**12)]}, "lines[0].quantity"),  # was a 500 on PostgreSQL
    ({"lines": [line(quantity=100_001)]}, "lines[0].quantity"),
    ({"lines": [line(quantity=1.5)]}, "lines[0].quantity"),
    ({"lines": [line(quantity=True)]}, "lines[0].quantity"),
    ({"lines": [line(), line(unit_price=10**12 + 1)]}, "lines[1].unit_price"),
    ({"lines": [line(unit_price=2**63)]}, "lines[0].unit_price"),  # over bigint: was a 500
    ({"total_amount": 10**12 + 1}, "total_amount"),
    ({"total_amount": 2**63}, "total_amount"),
    ({"discount": 10**12 + 1}, "discount"),
    ({"shipping_fee": 10**12 + 1}, "shipping_fee"),
    ({"paid_amount": 10**12 + 1}, "paid_amount"),
    # The lines' sum (the service's total) overflowed bigint: a 500 before.
    ({"lines": [line(quantity=100_000, unit_price=10**12)] * 100}, "lines"),
    ({"lines": [line(quantity=1, unit_price=10**12)], "shipping_fee": 1}, "shipping_fee"),
    ({"discount": 10**6}, "discount"),  # more than lines + shipping: a negative total
])
def test_numbers_out_of_bounds_are_a_400_naming_the_field(api, body, field):
    response = api(payload(**body))
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]
    assert not Order.objects.exists()


def test_numbers_at_their_bounds_are_accepted(api):
    response = api(payload(lines=[line(quantity=100_000, unit_price=10_000_000)],
                           shipping_fee=0, paid_amount=10**12))
    assert response.status_code == 201, response.content
    assert response.json()["total_amount"] == 10**12


EMAIL_255 = "a" * 64 + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 59 + ".vn"


@pytest.mark.parametrize(("body", "field"), [
    # These were cut to the column's length and stored: a 400 now, the channel must know.
    ({"lines": [line(product_name="x" * 256)]}, "lines[0].product_name"),
    ({"lines": [line(sku="S" * 65)]}, "lines[0].sku"),
    ({"contact": {"name": "Hoa" * 67}}, "contact.name"),
    ({"contact": {"address": "12 Lê Lợi " * 26}}, "contact.address"),
    # These were a 400 on the service's column name ("contact_phone").
    ({"contact": {"phone": "0912" + " " * 30 + "345 678"}}, "contact.phone"),
    ({"contact": {"email": EMAIL_255}}, "contact.email"),
    ({"contact": {"name": ["Hoa"]}}, "contact.name"),
    ({"lines": [line(product_name="Trà\x00")]}, "lines[0].product_name"),  # NUL: 500 on PG
    ({"external_id": "X" * 65}, "external_id"),
])
def test_strings_too_long_for_their_column_are_a_400(api, body, field):
    response = api(payload(**body))
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]
    assert not Order.objects.exists()


@pytest.mark.parametrize("moment", ["2026-02-30T10:00:00+07:00", "2026-11-20T10:15:00+99:00",
                                    "0001-01-01T00:00:00+07:00"])
def test_impossible_dates_are_a_400(api, moment):
    response = api(payload(ordered_at=moment))
    assert response.status_code == 400 and "ordered_at" in response.json()["errors"]


def nested(depth: int):
    value = 1
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize("raw", [
    "[" * 100_000 + "]" * 100_000,  # RecursionError in json.loads: a 500 before
    json.dumps({**payload(), "extra": nested(25)}),  # parses, but no order is that deep
    '{"total_amount": ' + "9" * 5000 + "}",  # over Python's int digits limit: a 500 before
])
def test_deep_or_absurd_json_is_a_400(api, raw):
    response = api(None, raw=raw)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["errors"]["__all__"]
    assert not Order.objects.exists()


# --- body size ---------------------------------------------------------------------------

def test_a_body_over_the_limit_is_a_json_413(api):
    response = api(None, raw=json.dumps({**payload(), "note": "x" * 1_000_000}))
    assert response.status_code == 413
    assert "1000000" in response.json()["errors"]["__all__"][0]
    assert not Order.objects.exists()


@override_settings(API_MAX_BODY_BYTES=300)
def test_the_body_limit_is_a_setting(api):
    assert api(payload()).status_code == 413


@override_settings(API_MAX_BODY_BYTES=10_000_000, DATA_UPLOAD_MAX_MEMORY_SIZE=300)
def test_djangos_own_body_limit_is_a_json_413_too(api):
    response = api(payload())
    assert response.status_code == 413
    assert response.json()["errors"]["__all__"]


# --- the same order several times at once ------------------------------------------------

THREADS = 20


def _post_at_once(secret: str, body: dict, count: int = THREADS) -> tuple[list, list]:
    """Post ``body`` from ``count`` threads released together; (status codes, exceptions)."""
    barrier = threading.Barrier(count)
    codes, failures = [], []

    def post():
        try:
            client = Client(REMOTE_ADDR="10.251.0.1")
            barrier.wait()
            codes.append(client.post(URL, data=json.dumps(body), content_type="application/json",
                                     HTTP_AUTHORIZATION=f"Bearer {secret}").status_code)
        except Exception as exc:  # noqa: BLE001 - reported by the test below
            failures.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return codes, failures


@pytest.mark.django_db(transaction=True)
def test_concurrent_reposts_create_one_order_and_all_succeed(tenant, lists):
    if connection.vendor != "postgresql":
        pytest.skip("real concurrent writers need PostgreSQL (CI runs it)")
    _key, secret = api_key_create(tenant=tenant, actor=SYSTEM, name="Haravan")
    # A new contact: every request also races to create the same walk-in customer.
    body = payload(external_id="SP-RACE", paid_amount=100_000)
    codes, failures = _post_at_once(secret, body)
    assert failures == []
    assert sorted(codes) == [200] * (THREADS - 1) + [201], codes
    order = Order.objects.get()
    assert order.paid_amount == 100_000
    assert Payment.objects.filter(order=order).count() == 1
    assert order.customer.stats.total_spend == 0  # not delivered: nothing counted twice


@pytest.mark.django_db(transaction=True)
def test_concurrent_reposts_of_a_payment_pay_once(tenant, lists):
    if connection.vendor != "postgresql":
        pytest.skip("real concurrent writers need PostgreSQL (CI runs it)")
    _key, secret = api_key_create(tenant=tenant, actor=SYSTEM, name="Haravan")
    client = Client(REMOTE_ADDR="10.251.0.2")
    first = client.post(URL, data=json.dumps(payload(external_id="SP-PAY")),
                        content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert first.status_code == 201
    codes, failures = _post_at_once(secret, payload(external_id="SP-PAY", paid_amount=100_000),
                                    count=10)
    assert failures == [] and codes == [200] * 10
    order = Order.objects.get()
    assert order.paid_amount == 100_000  # each stale re-post used to pay 100.000 again
    assert Payment.objects.filter(order=order).count() == 1


# --- rate limit --------------------------------------------------------------------------

def test_rate_limit_counts_the_key_not_the_header(api, one_window):
    # Spaces after "Bearer" changed the first 24 characters: each spacing got 120 more.
    codes = [api({}, authorization="Bearer" + " " * (1 + i % 20) + api.secret).status_code
             for i in range(121)]
    assert 429 not in codes[:120]
    assert codes[120] == 429


def test_each_key_has_its_own_allowance(api, tenant, one_window):
    for _ in range(121):
        last = api({})
    assert last.status_code == 429
    _other, secret = api_key_create(tenant=tenant, actor=SYSTEM, name="Website")
    assert api({}, key=secret).status_code == 400  # counted apart: the body is the problem


def test_without_a_valid_key_the_address_is_counted(api, one_window):
    codes = [api({}, key=f"kh_nope{i}_guess").status_code for i in range(121)]
    assert set(codes[:120]) == {401}
    assert codes[120] == 429


# --- a shared cache for the rate limits (crm.E001) ---------------------------------------

LOCMEM = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
REDIS = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                     "LOCATION": "redis://127.0.0.1:6379/0"}}
DUMMY = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}


@pytest.mark.parametrize(("debug", "caches", "ids"), [
    (False, LOCMEM, ["crm.E001"]),
    (False, DUMMY, ["crm.E001"]),
    (False, REDIS, []),
    (True, LOCMEM, []),
])
def test_rate_limits_need_a_shared_cache_without_debug(debug, caches, ids):
    with override_settings(DEBUG=debug, CACHES=caches):
        assert [e.id for e in rate_limit_cache_check()] == ids
        # Registered: Django's own run finds it.
        assert [e.id for e in run_checks(tags=["caches"]) if e.id.startswith("crm.")] == ids


ROOT = Path(__file__).resolve().parents[2]


def manage_check(**env_vars: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items()
           if k not in ("SECRET_KEY", "DEBUG", "DJANGO_SETTINGS_MODULE", "REDIS_URL",
                        "DATABASE_URL", "BEHIND_PROXY")}
    env.update(DJANGO_SETTINGS_MODULE="crm.settings", **env_vars)
    return subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_production_settings_without_redis_refuse_to_start():
    result = manage_check(SECRET_KEY="x" * 50)
    assert result.returncode != 0
    assert "crm.E001" in result.stderr and "django_ratelimit.E003" in result.stderr


def test_debug_or_no_secret_runs_without_redis():
    assert manage_check(DEBUG="1").returncode == 0
    # No SECRET_KEY: nothing is served (makemigrations, collectstatic in the image build).
    result = manage_check()
    assert result.returncode == 0, result.stderr
