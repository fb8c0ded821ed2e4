"""The orders app's dashboard cards (registered in apps.py): delivered revenue, orders,
customers who bought, debt outstanding, and revenue by month.

Revenue is what the customer aggregates count as spend: delivered orders, net of returns,
by delivery date in Vietnam time (``delivered_month`` is that month, stored). Delivered
orders are read through the partial covering index ``order_delivered_idx`` (tenant,
delivered_at) INCLUDE (delivered_month, amounts, customer): a date range of one shop, index
only. Orders placed walk ``order_list_idx``, debt ``stats_debt_idx``. The frame
(crm.dashboard) caches what the providers return.

Counts name a column of the index they walk (COUNT(*) where nothing is filtered): the id
is in neither ``order_delivered_idx`` nor ``stats_debt_idx``, and COUNT(id) made
PostgreSQL read the table (1.8 s instead of an index-only scan at 10M orders).
"""

import calendar
from urllib.parse import urlencode

from django.db.models import Count, F, Q, Sum, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from crm.dashboard import DashboardContext, compare
from crm.filters import day_start
from crm.registry import DashboardCard, register_dashboard_card
from customers.dashboard import customer_list_url
from customers.selectors import scope_customers

from .models import CustomerStats, Order, OrderStatus
from .selectors import scope_orders

REVENUE_MONTHS = 12
NET = F("total_amount") - F("returned_amount")


def order_list_url(**params) -> str:
    url = reverse("orders:order_list")
    return f"{url}?{urlencode(params, doseq=True)}" if params else url


def _orders(ctx: DashboardContext):
    return scope_orders(Order.objects.for_tenant(ctx.tenant), ctx.actor)


def _delivered(ctx: DashboardContext):
    return _orders(ctx).filter(status=OrderStatus.DELIVERED)


def _sum(expression, **kwargs):
    return Coalesce(Sum(expression, **kwargs), Value(0))


def revenue(ctx: DashboardContext) -> dict:
    """Delivered revenue this month, against the same stretch of last month."""
    figures = ctx.month_on_month(
        _delivered(ctx), "delivered_at", lambda condition: _sum(NET, filter=condition),
        orders=Count("delivered_at", filter=Q(delivered_at__gte=ctx.month_start)))
    return {
        "label": _("Revenue this month"), "icon": "ti-cash", "tone": "green", "money": True,
        "value": figures["current"], "compare": compare(figures["current"], figures["previous"]),
        "count": figures["orders"], "count_label": pgettext_lazy("dashboard", "delivered orders"),
        "url": order_list_url(status=OrderStatus.DELIVERED,
                              delivered_from=ctx.first_day_param()),
    }


def orders_placed(ctx: DashboardContext) -> dict:
    """Orders placed this month, whatever their status now (as the order list counts)."""
    figures = ctx.month_on_month(_orders(ctx), "ordered_at")
    return {
        "label": _("Orders this month"), "icon": "ti-receipt", "tone": "azure",
        "value": figures["current"], "compare": compare(figures["current"], figures["previous"]),
        "url": order_list_url(ordered_from=ctx.first_day_param()),
    }


def buyers(ctx: DashboardContext) -> dict:
    """Customers with an order delivered this month."""
    figures = ctx.month_on_month(
        _delivered(ctx).filter(customer__isnull=False), "delivered_at",
        lambda condition: Count("customer_id", distinct=True, filter=condition))
    return {
        "label": _("Customers who bought"), "icon": "ti-shopping-bag", "tone": "teal",
        "value": figures["current"], "compare": compare(figures["current"], figures["previous"]),
        "url": customer_list_url(bought_from=ctx.first_day_param()),
    }


def debt(ctx: DashboardContext) -> dict:
    """What customers owe on delivered orders now (the aggregates' debt)."""
    stats = scope_customers(CustomerStats.objects.for_tenant(ctx.tenant), ctx.actor,
                            path="customer__")
    figures = stats.filter(debt__gt=0).aggregate(total=_sum("debt"), customers=Count("*"))
    return {
        "label": _("Debt outstanding"), "icon": "ti-alert-triangle", "tone": "red",
        "money": True, "value": figures["total"],
        "count": figures["customers"], "count_label": pgettext_lazy("dashboard", "customers owe"),
        "url": customer_list_url(debt_min=1),
    }


def revenue_by_month(ctx: DashboardContext) -> dict:
    months = ctx.months(REVENUE_MONTHS)
    rows = (_delivered(ctx).filter(delivered_at__gte=day_start(months[0]))
            .values("delivered_month").annotate(revenue=_sum(NET), orders=Count("*"))
            .order_by())
    by_month = {row["delivered_month"]: row for row in rows}
    items = []
    for month in months:
        row = by_month.get(month, {})
        end = month.replace(day=calendar.monthrange(month.year, month.month)[1])
        items.append({
            "label": month.strftime("%m/%Y"), "value": row.get("revenue", 0),
            "orders": row.get("orders", 0),
            "url": order_list_url(status=OrderStatus.DELIVERED,
                                  delivered_from=month.strftime("%d/%m/%Y"),
                                  delivered_to=end.strftime("%d/%m/%Y")),
        })
    return {
        "title": _("Revenue by month"), "subtitle": _("Delivered orders, last 12 months"),
        "chart": "revenue", "unit": pgettext_lazy("dashboard", "delivered orders"),
        "total": sum(item["value"] for item in items),
        "url": order_list_url(status=OrderStatus.DELIVERED), "items": items,
    }


def register() -> None:
    chart = "crm/dashboard/_chart.html"
    for card in [
        DashboardCard("orders.revenue", 20, revenue, action="order.view"),
        DashboardCard("orders.placed", 30, orders_placed, action="order.view"),
        DashboardCard("orders.buyers", 40, buyers, action="customer.view"),
        DashboardCard("orders.debt", 60, debt, action="order.view"),
        DashboardCard("orders.revenue_by_month", 110, revenue_by_month, kind="chart",
                      template=chart, action="order.view", width="col-12"),
    ]:
        register_dashboard_card(card)
