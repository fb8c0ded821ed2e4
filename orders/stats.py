"""Customer aggregates: the incremental update every order service applies, and the
set-based recompute that makes sure they never drift for long.

Both read one definition of what an order contributes (``contribution`` below and the SQL
in ``RECOMPUTE_SQL``); the property test in tests/orders checks that they agree.
"""

import datetime
from dataclasses import dataclass

from dateutil.relativedelta import relativedelta
from django.db import connection
from django.db.models import F, Max, Min
from django.utils import timezone

from .models import CustomerStats, MonthlySpend, Order, OrderStatus


def vietnam_now() -> datetime.datetime:
    return timezone.localtime(timezone.now())


def month_start(moment: datetime.datetime) -> datetime.date:
    """First day of the Vietnamese calendar month of an aware datetime."""
    return timezone.localtime(moment).date().replace(day=1)


def three_months_ago(now: datetime.datetime | None = None) -> datetime.datetime:
    """Start of the 'last 3 months' window: the same time three months ago, in Vietnam."""
    return (now or vietnam_now()) - relativedelta(months=3)


def vip_window_start(tenant, now: datetime.datetime | None = None) -> datetime.date:
    """First month of the shop's VIP window (this month and the months before it).

    MonthlySpend keeps only these months: the VIP rule reads nothing older, and the
    nightly recompute rebuilds a few months per customer instead of their whole history.
    """
    this_month = month_start(now or vietnam_now())
    return this_month - relativedelta(months=tenant.vip_window_months - 1)


@dataclass(frozen=True)
class Contribution:
    delivered: int = 0
    spend: int = 0
    debt: int = 0
    returned: int = 0
    month: datetime.date | None = None
    at: datetime.datetime | None = None

    def recent_spend(self, cutoff) -> int:
        return self.spend if self.at is not None and self.at >= cutoff else 0


NOTHING = Contribution()


def contribution(order: Order) -> Contribution:
    """What one order adds to its customer's aggregates."""
    if order.customer_id is None:
        return NOTHING
    delivered = order.status == OrderStatus.DELIVERED
    return Contribution(
        delivered=int(delivered),
        spend=order.total_amount - order.returned_amount if delivered else 0,
        debt=order.debt,
        returned=order.returned_amount,
        month=order.delivered_month if delivered else None,
        at=order.delivered_at if delivered else None,
    )


def stats_for_update(customer) -> CustomerStats:
    """The customer's stats row, locked for this transaction (created when missing)."""
    stats = CustomerStats.objects.select_for_update().filter(customer_id=customer.pk).first()
    if stats is None:
        CustomerStats.objects.get_or_create(customer_id=customer.pk,
                                            defaults={"tenant_id": customer.tenant_id})
        stats = CustomerStats.objects.select_for_update().get(customer_id=customer.pk)
    return stats


def apply(stats: CustomerStats, old: Contribution, new: Contribution, tenant) -> bool:
    """Move ``stats`` from counting ``old`` to counting ``new`` (the order row is saved).

    Returns whether a month's spend changed (only then can the VIP stage change).
    """
    cutoff = three_months_ago()
    if old == new:
        return False
    stats.delivered_orders += new.delivered - old.delivered
    stats.total_spend += new.spend - old.spend
    stats.spend_3_months += new.recent_spend(cutoff) - old.recent_spend(cutoff)
    stats.debt += new.debt - old.debt
    stats.returned_amount += new.returned - old.returned
    stats.average_order = (stats.total_spend // stats.delivered_orders
                           if stats.delivered_orders else 0)
    if old.at is not None and old.at in (stats.first_order_at, stats.last_order_at) \
            and old.at != new.at:
        # The first or last delivery left: ask the customer's orders again (indexed).
        bounds = Order.objects.filter(customer_id=stats.customer_id,
                                      status=OrderStatus.DELIVERED).aggregate(
            first=Min("delivered_at"), last=Max("delivered_at"))
        stats.first_order_at, stats.last_order_at = bounds["first"], bounds["last"]
    elif new.at is not None:
        stats.first_order_at = min(filter(None, [stats.first_order_at, new.at]))
        stats.last_order_at = max(filter(None, [stats.last_order_at, new.at]))
    stats.save()
    window = vip_window_start(tenant)
    deltas: dict = {}
    for month, amount in ((old.month, -old.spend), (new.month, new.spend)):
        if month is not None and month >= window:
            deltas[month] = deltas.get(month, 0) + amount
    for month, amount in deltas.items():
        if amount:
            _apply_month(stats, month, amount)
    return any(deltas.values())


def _apply_month(stats: CustomerStats, month, amount: int) -> None:
    rows = MonthlySpend.objects.filter(customer_id=stats.customer_id, month=month)
    if not rows.update(spend=F("spend") + amount):
        MonthlySpend.objects.create(tenant_id=stats.tenant_id, customer_id=stats.customer_id,
                                    month=month, spend=amount)
    elif amount < 0:
        rows.filter(spend=0).delete()  # the recompute keeps no zero rows either


# --- set-based recompute --------------------------------------------------------------------

STATS_COLUMNS = ["delivered_orders", "total_spend", "spend_3_months", "average_order",
                 "first_order_at", "last_order_at", "debt", "returned_amount"]

RECOMPUTE_SQL = """
INSERT INTO orders_customerstats
    (customer_id, tenant_id, delivered_orders, total_spend, spend_3_months, average_order,
     first_order_at, last_order_at, debt, returned_amount, updated_at)
SELECT c.id, c.tenant_id,
       COALESCE(a.delivered, 0), COALESCE(a.spend, 0), COALESCE(a.spend3, 0),
       CASE WHEN COALESCE(a.delivered, 0) > 0
            THEN CAST(a.spend AS BIGINT) / a.delivered ELSE 0 END,
       a.first_at, a.last_at, COALESCE(a.debt, 0), COALESCE(a.returned, 0), %(now)s
FROM customers_customer c
LEFT JOIN (
    SELECT customer_id,
           SUM(CASE WHEN status = 'delivered' THEN 1 ELSE 0 END) AS delivered,
           SUM(CASE WHEN status = 'delivered' THEN total_amount - returned_amount ELSE 0 END)
               AS spend,
           SUM(CASE WHEN status = 'delivered' AND delivered_at >= %(cutoff)s
                    THEN total_amount - returned_amount ELSE 0 END) AS spend3,
           MIN(CASE WHEN status = 'delivered' THEN delivered_at END) AS first_at,
           MAX(CASE WHEN status = 'delivered' THEN delivered_at END) AS last_at,
           SUM(CASE WHEN status = 'delivered'
                         AND total_amount - returned_amount - paid_amount > 0
                    THEN total_amount - returned_amount - paid_amount ELSE 0 END) AS debt,
           SUM(returned_amount) AS returned
    FROM orders_order
    WHERE tenant_id = %(tenant)s AND customer_id BETWEEN %(lo)s AND %(hi)s {only_o}
    GROUP BY customer_id
) a ON a.customer_id = c.id
WHERE c.tenant_id = %(tenant)s AND c.id BETWEEN %(lo)s AND %(hi)s {only_c}
ON CONFLICT (customer_id) DO UPDATE SET
    delivered_orders = excluded.delivered_orders, total_spend = excluded.total_spend,
    spend_3_months = excluded.spend_3_months, average_order = excluded.average_order,
    first_order_at = excluded.first_order_at, last_order_at = excluded.last_order_at,
    debt = excluded.debt, returned_amount = excluded.returned_amount,
    updated_at = excluded.updated_at
WHERE {differs}
"""

# MonthlySpend holds the VIP window only: the batch's rows are rebuilt from its orders.
MONTHLY_DELETE_SQL = """
DELETE FROM orders_monthlyspend
WHERE tenant_id = %(tenant)s AND customer_id BETWEEN %(lo)s AND %(hi)s {only_m}
"""

MONTHLY_INSERT_SQL = """
INSERT INTO orders_monthlyspend (tenant_id, customer_id, month, spend)
SELECT tenant_id, customer_id, delivered_month, SUM(total_amount - returned_amount)
FROM orders_order
WHERE tenant_id = %(tenant)s AND status = 'delivered' AND customer_id BETWEEN %(lo)s AND %(hi)s
      AND delivered_month >= %(window)s {only_o}
GROUP BY tenant_id, customer_id, delivered_month
HAVING SUM(total_amount - returned_amount) <> 0
"""


def _distinct(column: str) -> str:
    left, right = f"orders_customerstats.{column}", f"excluded.{column}"
    if connection.vendor == "postgresql":
        return f"{left} IS DISTINCT FROM {right}"
    return f"{left} IS NOT {right}"  # SQLite's null-safe "different"


def recompute_batch(tenant, lo: int, hi: int, customer_ids=None,
                    now: datetime.datetime | None = None) -> int:
    """Recompute stats and monthly spend of the shop's customers with lo <= id <= hi.

    One INSERT ... SELECT ... ON CONFLICT statement for the stats (rows that did not
    change are not written), then the batch's months of the VIP window are rebuilt;
    returns how many stats rows changed.
    """
    now = now or vietnam_now()
    ops = connection.ops
    params = {"tenant": tenant.pk, "lo": lo, "hi": hi,
              "now": ops.adapt_datetimefield_value(now),
              "cutoff": ops.adapt_datetimefield_value(three_months_ago(now)),
              "window": ops.adapt_datefield_value(vip_window_start(tenant, now))}
    only = {"only_o": "", "only_c": "", "only_m": ""}
    if customer_ids is not None:
        placeholders = ", ".join(f"%(id{i})s" for i in range(len(customer_ids)))
        params.update({f"id{i}": cid for i, cid in enumerate(customer_ids)})
        only = {"only_o": f"AND customer_id IN ({placeholders})",
                "only_c": f"AND c.id IN ({placeholders})",
                "only_m": f"AND customer_id IN ({placeholders})"}
    differs = " OR ".join(_distinct(c) for c in STATS_COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(RECOMPUTE_SQL.format(differs=differs, **only), params)
        changed = cursor.rowcount
        cursor.execute(MONTHLY_DELETE_SQL.format(**only), params)
        cursor.execute(MONTHLY_INSERT_SQL.format(**only), params)
    return max(changed, 0)
