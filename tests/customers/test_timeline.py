"""The profile's "Ghi chú & hoạt động" tab: notes, the change log in words, and the events
other apps register (orders, payments, refunds, returns) through crm.registry."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from crm import registry
from crm.access import SYSTEM
from customers import services
from customers.activity import customer_timeline, value_text
from orders import services as order_services
from orders.activity import order_timeline

pytestmark = pytest.mark.django_db


def make(tenant, phone="0912000001", **data):
    return services.customer_create(tenant=tenant, actor=SYSTEM, data={
        "full_name": "Dương Thu Thảo", "phone": phone, **data})


def orders_for(customer, manager, n=1):
    tenant = customer.tenant
    for _i in range(n):
        delivered = order_services.order_create(tenant=tenant, actor=manager, customer=customer,
                                                data={"total_amount": 500_000,
                                                      "status": "delivered",
                                                      "paid_amount": 500_000})
        order_services.order_return(tenant=tenant, actor=manager, order=delivered,
                                    amount=100_000, reason="Hộp móp")
        order_services.order_refund(tenant=tenant, actor=manager, order=delivered,
                                    amount=100_000)
        cancelled = order_services.order_create(tenant=tenant, actor=manager, customer=customer,
                                                data={"total_amount": 300_000,
                                                      "paid_amount": 300_000})
        order_services.order_set_status(tenant=tenant, actor=manager, order=cancelled,
                                        status="cancelled")
    return delivered, cancelled


def test_orders_register_a_timeline_source():
    source = next(s for s in registry.timeline_sources if s.key == "orders")
    assert source.action == "order.view"


def test_order_events_in_the_timeline(tenant, lists, manager):
    c = make(tenant)
    delivered, cancelled = orders_for(c, manager)
    services.note_add(tenant=tenant, actor=manager, customer=c, body="Khách hẹn gọi lại")
    with translation.override("en"):
        items = customer_timeline(c, manager)
    texts = [i.text for i in items]
    for expected in (f"Order {delivered.code} created", f"Order {delivered.code} delivered",
                     f"Payment for order {delivered.code}",
                     f"Goods returned from order {delivered.code}: Hộp móp",
                     f"Refund to the customer, order {delivered.code}",
                     f"Order {cancelled.code} cancelled", "Khách hẹn gọi lại"):
        assert expected in texts, (expected, texts)
    by_text = {i.text: i for i in items}
    refund = by_text[f"Refund to the customer, order {delivered.code}"]
    assert refund.amount == -100_000 and refund.url == f"/admin/orders/{delivered.code}/"
    assert by_text[f"Order {cancelled.code} cancelled"].actor  # who cancelled it
    assert [i.at for i in items] == sorted((i.at for i in items), reverse=True)


def test_the_tab_links_each_order_event(tenant, lists, manager, login):
    c = make(tenant)
    delivered, cancelled = orders_for(c, manager)
    body = login(manager).get(f"/admin/customers/{c.code}/activity/").content.decode()
    assert f'href="/admin/orders/{delivered.code}/"' in body
    assert f'href="/admin/orders/{cancelled.code}/"' in body
    assert "-100.000 ₫" in body and "500.000 ₫" in body


def test_a_collaborator_sees_no_order_events(tenant, lists, manager, collaborator, login):
    c = make(tenant, collaborator=collaborator)
    delivered, _cancelled = orders_for(c, manager)
    response = login(collaborator).get(f"/admin/customers/{c.code}/activity/")
    assert response.status_code == 200
    assert delivered.code not in response.content.decode()


def test_order_source_reads_in_four_queries(tenant, lists, manager, django_assert_num_queries):
    c = make(tenant)
    orders_for(c, manager, n=5)
    with django_assert_num_queries(4):  # orders, payments, returns, cancellations
        entries = order_timeline(c, manager, 100)
    assert len(entries) >= 5 * 6


def count_queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url, HTTP_HX_REQUEST="true").status_code == 200
    return len(ctx.captured_queries)


def test_activity_tab_query_count_is_pinned(tenant, lists, manager, login):
    few, many = make(tenant), make(tenant, phone="0912000002")
    orders_for(few, manager, n=1)
    orders_for(many, manager, n=6)
    client = login(manager)
    client.get("/admin/")
    counts = [count_queries(client, f"/admin/customers/{c.code}/activity/") for c in (few, many)]
    assert counts[0] == counts[1]
    # Session, user, membership, customer (+ tags, phones, emails), shop, notes, change
    # log, the orders source's four and the imports source's one: pinned so that a new
    # per-row query is seen.
    assert counts[0] == 15, counts


def test_country_reads_as_a_name(tenant, lists, manager, login):
    c = make(tenant, country="JP")
    with translation.override("vi"):
        assert value_text("country", "VN") == "Việt Nam"
    body = login(manager).get(f"/admin/customers/{c.code}/").content.decode()
    assert "Nhật Bản" in body
