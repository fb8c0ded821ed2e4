"""What the orders app tells in words: its change-log actions, and the customer's timeline
events (orders placed, delivered, cancelled, payments, refunds, returns) that the profile's
"Ghi chú & hoạt động" tab merges with notes (crm.registry.TimelineSource)."""

from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.audit import ActionText
from crm.models import AuditLog
from crm.registry import TimelineEntry
from customers.activity import actor_name

from .models import Order, OrderStatus, Payment, Return

ACTION_TEXTS = {
    "order.create": ActionText(gettext_lazy("created an order"), "ti-shopping-cart"),
    "order.status": ActionText(gettext_lazy("changed an order's status"), "ti-truck"),
    "order.payment": ActionText(gettext_lazy("recorded a payment"), "ti-cash"),
    "order.refund": ActionText(gettext_lazy("recorded a refund to the customer"),
                               "ti-cash-banknote"),
    "order.return": ActionText(gettext_lazy("recorded a return"), "ti-receipt-refund"),
    "order.link": ActionText(gettext_lazy("linked an order to a customer"), "ti-link"),
    "stats.recompute": ActionText(gettext_lazy("started recomputing the order figures"),
                                  "ti-calculator"),
}


def _url(code: str) -> str:
    return reverse("orders:order_detail", kwargs={"code": code})


def order_timeline(customer, actor, limit: int) -> list[TimelineEntry]:
    """The customer's order events, at most ``limit`` of each kind, newest first, in four
    queries whatever their number (orders, payments, returns, cancellations). The customer
    is one the actor may see (the profile is scoped), and so are their orders."""
    tenant = customer.tenant
    entries = []
    orders = (Order.objects.for_tenant(tenant).filter(customer=customer)
              .select_related("channel", "created_by").order_by("-ordered_at", "-id")[:limit])
    for order in orders:
        by = actor_name(order.created_by) if order.created_by_id else ""
        sentence = (_("Order %(code)s from %(channel)s") % {"code": order.code,
                                                             "channel": order.channel}
                    if order.channel_id else _("Order %(code)s created") % {"code": order.code})
        entries.append(TimelineEntry(order.ordered_at, "ti-shopping-cart", sentence,
                                     _url(order.code), by, order.total_amount))
        if order.delivered_at and order.status in (OrderStatus.DELIVERED, OrderStatus.RETURNED):
            entries.append(TimelineEntry(
                order.delivered_at, "ti-truck-delivery",
                _("Order %(code)s delivered") % {"code": order.code}, _url(order.code),
                tone="success"))
    payments = (Payment.objects.for_tenant(tenant).filter(order__customer=customer)
                .select_related("order", "created_by").order_by("-paid_at", "-id")[:limit])
    for p in payments:
        code = p.order.code
        by = actor_name(p.created_by) if p.created_by_id else ""
        if p.amount < 0:
            entries.append(TimelineEntry(
                p.paid_at, "ti-cash-banknote",
                _("Refund to the customer, order %(code)s") % {"code": code}, _url(code), by,
                p.amount, tone="danger"))
        else:
            entries.append(TimelineEntry(
                p.paid_at, "ti-cash", _("Payment for order %(code)s") % {"code": code},
                _url(code), by, p.amount, tone="success"))
    returns = (Return.objects.for_tenant(tenant).filter(order__customer=customer)
               .select_related("order", "created_by").order_by("-returned_at", "-id")[:limit])
    for r in returns:
        sentence = _("Goods returned from order %(code)s") % {"code": r.order.code}
        if r.reason:
            sentence += f": {r.reason}"
        entries.append(TimelineEntry(
            r.returned_at, "ti-receipt-refund", sentence, _url(r.order.code),
            actor_name(r.created_by) if r.created_by_id else "", r.amount, tone="warning"))
    # Cancelling is a moment of its own, kept only by the change log (with who did it).
    cancelled = Q(action="order.status") & (Q(after__status=OrderStatus.CANCELLED)
                                            | Q(before__status=OrderStatus.CANCELLED)) \
        | Q(action="order.create", after__status=OrderStatus.CANCELLED)
    rows = (AuditLog.objects.for_tenant(tenant)
            .filter(cancelled, object_type=Order._meta.label_lower,
                    object_id__in=Order.objects.for_tenant(tenant).filter(customer=customer)
                    .values("pk"))
            .select_related("actor").order_by("-created_at", "-id")[:limit])
    for row in rows:
        code = row.object_repr
        if row.after.get("status") == OrderStatus.CANCELLED:
            entries.append(TimelineEntry(
                row.created_at, "ti-circle-x", _("Order %(code)s cancelled") % {"code": code},
                _url(code), actor_name(row.actor) if row.actor_id else "", tone="danger"))
        else:
            entries.append(TimelineEntry(
                row.created_at, "ti-arrow-back-up",
                _("Order %(code)s brought back: %(status)s") % {
                    "code": code, "status": OrderStatus(row.after["status"]).label},
                _url(code), actor_name(row.actor) if row.actor_id else ""))
    return entries
