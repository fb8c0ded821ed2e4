"""One definition of a customer's money on every page (the overview card, the Đơn hàng and
Công nợ tabs), cancelled and returned amounts shown apart, and money owed back after a
cancellation or a return: shown, and refunded by a manager."""

import re

import pytest
from django.core.exceptions import ValidationError

from crm.access import SYSTEM, AccessDenied
from crm.models import AuditLog
from customers import services as customer_services
from orders import services
from orders.models import Order, Payment
from orders.selectors import customer_order_summary

pytestmark = pytest.mark.django_db


def customer(tenant, phone="0912000001"):
    return customer_services.customer_create(
        tenant=tenant, actor=SYSTEM, data={"full_name": "Dương Thu Thảo", "phone": phone})


def order(tenant, c, total, status="delivered", paid=0):
    return services.order_create(tenant=tenant, actor=SYSTEM, customer=c, data={
        "total_amount": total, "status": status, "paid_amount": paid})


def text_of(body: str, name: str) -> str:
    """The text inside the element marked data-testid=name (tags removed)."""
    match = re.search(rf'<(\w+)[^>]*data-testid="{name}"[^>]*>(.*?)</\1>', body, re.S)
    assert match, name
    return re.sub(r"<[^>]+>", "", match.group(2))


@pytest.fixture
def world(tenant, lists):
    """Two delivered orders (one partly returned after being paid in full, one partly
    paid), one cancelled order paid in full, one order in progress."""
    c = customer(tenant)
    first = order(tenant, c, 1_000_000, paid=1_000_000)
    services.order_return(tenant=tenant, actor=SYSTEM, order=first, amount=300_000)
    order(tenant, c, 2_000_000, paid=1_500_000)
    cancelled = order(tenant, c, 800_000, status="cancelled", paid=800_000)
    order(tenant, c, 400_000, status="new")
    return c, first, cancelled


def test_one_definition(world):
    c, _first, _cancelled = world
    s = customer_order_summary(c, breakdown=True)
    assert s.delivered_orders == 2
    assert s.total_spend == 700_000 + 2_000_000  # delivered, net of returns
    assert s.debt == 500_000
    assert s.paid == 2_200_000 and s.paid + s.debt == s.total_spend
    assert (s.cancelled_orders, s.cancelled_amount) == (1, 800_000)
    assert (s.open_orders, s.open_amount) == (1, 400_000)
    assert s.returned_amount == 300_000
    assert s.refund_due == 300_000 + 800_000  # overpaid after the return + the cancelled one
    # The card's figures are the summary's, without the breakdown query.
    assert customer_order_summary(c).total_spend == s.total_spend


def test_the_card_and_the_tabs_show_the_same_figures(world, login, manager):
    c, _first, _cancelled = world
    client = login(manager)
    profile = client.get(f"/admin/customers/{c.code}/")
    tab = client.get(f"/admin/orders/customer/{c.code}/orders/")
    debt = client.get(f"/admin/orders/customer/{c.code}/debt/")
    card = profile.context["totals"]
    summary = tab.context["summary"]
    assert card["total_spend"] == summary.total_spend == 2_700_000
    assert card["debt"] == summary.debt == debt.context["summary"].debt == 500_000
    assert card["delivered_orders"] == summary.delivered_orders == 2
    body = tab.content.decode()
    assert "2.700.000 ₫" in body and "2.700.000 ₫" in profile.content.decode()
    # Every order summed (4.200.000) or the paid sum with the cancelled order (3.300.000)
    # are the old, wrong figures.
    assert "4.200.000" not in body and "3.300.000" not in body
    assert text_of(body, "summary-spend") == "2.700.000 ₫"
    assert text_of(body, "summary-paid") == "2.200.000 ₫"
    assert "800.000 ₫" in text_of(body, "summary-cancelled")
    assert "1.100.000 ₫" in text_of(body, "summary-refund")
    assert "1.100.000 ₫" in text_of(debt.content.decode(), "refund-due")


def test_the_summary_agrees_with_the_nightly_recompute(world, tenant):
    c, _first, _cancelled = world
    before = customer_order_summary(c, breakdown=True)
    services.aggregates_recompute(tenant_id=tenant.pk)
    assert customer_order_summary(c, breakdown=True) == before


def test_refund_on_a_cancelled_order(world, tenant, manager):
    c, _first, cancelled = world
    before = customer_order_summary(c, breakdown=True)
    payment = services.order_refund(tenant=tenant, actor=manager, order=cancelled,
                                    amount=800_000, note="Chuyển khoản lại")
    cancelled.refresh_from_db()
    assert payment.amount == -800_000
    assert cancelled.paid_amount == 0 and cancelled.refund_due == 0
    after = customer_order_summary(c, breakdown=True)
    assert after.refund_due == before.refund_due - 800_000
    # Spend and debt do not move: the money was never the shop's to count.
    assert (after.total_spend, after.debt) == (before.total_spend, before.debt)
    row = AuditLog.objects.get(action="order.refund")
    assert row.object_id == cancelled.pk and row.after["amount"] == 800_000


def test_refund_after_a_return(world, tenant, manager):
    _c, first, _cancelled = world
    assert first.refund_due == 0  # the instance of before the return
    first.refresh_from_db()
    assert first.refund_due == 300_000
    services.order_refund(tenant=tenant, actor=manager, order=first, amount=100_000)
    first.refresh_from_db()
    assert first.refund_due == 200_000 and first.debt == 0


def test_refund_is_bounded_and_needs_something_owed(world, tenant, manager):
    c, _first, cancelled = world
    with pytest.raises(ValidationError):
        services.order_refund(tenant=tenant, actor=manager, order=cancelled, amount=900_000)
    with pytest.raises(ValidationError):
        services.order_refund(tenant=tenant, actor=manager, order=cancelled, amount=0)
    in_progress = Order.objects.get(customer=c, status="new")
    with pytest.raises(ValidationError):
        services.order_refund(tenant=tenant, actor=manager, order=in_progress, amount=1)
    assert not Payment.objects.filter(amount__lt=0).exists()


def test_staff_see_the_money_owed_but_cannot_refund(world, tenant, staff, login):
    _c, _first, cancelled = world
    with pytest.raises(AccessDenied):
        services.order_refund(tenant=tenant, actor=staff, order=cancelled, amount=1)
    client = login(staff)
    page = client.get(f"/admin/orders/{cancelled.code}/").content.decode()
    assert "800.000 ₫" in text_of(page, "order-refund-due")
    assert 'data-testid="refund-notice"' in page
    assert f"/admin/orders/{cancelled.code}/refund/" not in page
    response = client.post(f"/admin/orders/{cancelled.code}/refund/", {"amount": "800000"})
    assert response.status_code == 403
    assert not Payment.objects.filter(amount__lt=0).exists()


def test_manager_records_the_refund_on_the_order_page(world, manager, login):
    _c, _first, cancelled = world
    client = login(manager)
    page = client.get(f"/admin/orders/{cancelled.code}/").content.decode()
    assert "800.000 ₫" in text_of(page, "order-refund-due")
    assert f"/admin/orders/{cancelled.code}/refund/" in page
    response = client.post(f"/admin/orders/{cancelled.code}/refund/",
                           {"amount": "800000", "note": "Trả tiền mặt"})
    assert response.status_code == 302
    refund = Payment.objects.get(amount__lt=0)
    assert refund.amount == -800_000 and refund.note == "Trả tiền mặt"
    page = client.get(f"/admin/orders/{cancelled.code}/").content.decode()
    assert 'data-testid="refund-notice"' not in page
    assert "-800.000 ₫" in page


def test_a_refund_larger_than_owed_is_an_error_on_the_page(world, manager, login):
    _c, _first, cancelled = world
    client = login(manager)
    response = client.post(f"/admin/orders/{cancelled.code}/refund/", {"amount": "900000"},
                           follow=True)
    assert "800.000" in response.content.decode()  # the message names what is owed
    assert not Payment.objects.filter(amount__lt=0).exists()
