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
    # Loyalty: what of a delivered order is paid (points are earned on it), and the points
    # the order used while it stands (not cancelled, not returned in full).
    paid: int = 0
    points: int = 0

    def recent_spend(self, cutoff) -> int:
        return self.spend if self.at is not None and self.at >= cutoff else 0


NOTHING = Contribution()


def contribution(order: Order) -> Contribution:
    """What one order adds to its customer's aggregates."""
    if order.customer_id is None:
        return NOTHING
    delivered = order.status == OrderStatus.DELIVERED
    standing = order.status not in (OrderStatus.CANCELLED, OrderStatus.RETURNED)
    return Contribution(
        delivered=int(delivered),
        spend=order.total_amount - order.returned_amount if delivered else 0,
        debt=order.debt,
        returned=order.returned_amount,
        month=order.delivered_month if delivered else None,
        at=order.delivered_at if delivered else None,
        paid=min(order.paid_amount, order.total_amount - order.returned_amount)
        if delivered else 0,
        points=order.points_redeemed if standing else 0,
    )


def stats_for_update(customer) -> CustomerStats:
    """The customer's stats row, locked for this transaction (created when missing)."""
    stats = CustomerStats.objects.select_for_update().filter(customer_id=customer.pk).first()
    if stats is None:
        CustomerStats.objects.get_or_create(customer_id=customer.pk,
                                            defaults={"tenant_id": customer.tenant_id})
        stats = CustomerStats.objects.select_for_update().get(customer_id=customer.pk)
    return stats


MOVE_SQL = """
UPDATE orders_customerstats SET
    delivered_orders = delivered_orders + %(delivered)s,
    total_spend = total_spend + %(spend)s,
    spend_3_months = spend_3_months + %(recent)s,
    debt = debt + %(debt)s,
    returned_amount = returned_amount + %(returned)s,
    average_order = CASE WHEN delivered_orders + %(delivered)s > 0
        THEN (total_spend + %(spend)s) / (delivered_orders + %(delivered)s) ELSE 0 END,
    {bounds}
    updated_at = %(now)s
WHERE customer_id = %(customer)s
RETURNING delivered_orders, {stale}
"""

# A new delivery widens the bounds; the check below says whether the delivery that left
# (old.at) was the first or the last one, which only the customer's orders can replace.
MOVE_BOUNDS_SQL = """
    first_order_at = CASE WHEN first_order_at IS NULL OR first_order_at > %(at)s
        THEN %(at)s ELSE first_order_at END,
    last_order_at = CASE WHEN last_order_at IS NULL OR last_order_at < %(at)s
        THEN %(at)s ELSE last_order_at END,"""
MOVE_STALE_SQL = "(first_order_at = %(old_at)s OR last_order_at = %(old_at)s)"


@dataclass(frozen=True)
class Moved:
    delivered_orders: int
    months_changed: bool


def apply(customer, old: Contribution, new: Contribution, tenant) -> Moved:
    """Move the customer's stats from counting ``old`` to counting ``new`` (the order row is
    saved): one UPDATE ... RETURNING that also locks the stats row for the transaction (it
    also runs when nothing changes: every customer with an order has its stats row).

    ``months_changed`` says whether a month's spend changed (only then can VIP change).
    """
    ops = connection.ops
    cutoff = three_months_ago()
    leaving = old.at is not None and old.at != new.at
    params = {
        "delivered": new.delivered - old.delivered, "spend": new.spend - old.spend,
        "recent": new.recent_spend(cutoff) - old.recent_spend(cutoff),
        "debt": new.debt - old.debt, "returned": new.returned - old.returned,
        "now": ops.adapt_datetimefield_value(timezone.now()), "customer": customer.pk,
        "at": ops.adapt_datetimefield_value(new.at),
        "old_at": ops.adapt_datetimefield_value(old.at),
    }
    query = MOVE_SQL.format(bounds=MOVE_BOUNDS_SQL if new.at is not None else "",
                            stale=MOVE_STALE_SQL if leaving else "FALSE")
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        row = cursor.fetchone()
        if row is None:  # first order of this customer: the row is made, then moved
            CustomerStats.objects.get_or_create(customer_id=customer.pk,
                                                defaults={"tenant_id": customer.tenant_id})
            cursor.execute(query, params)
            row = cursor.fetchone()
    delivered_orders, stale_bounds = row[0], bool(row[1])
    if stale_bounds:
        bounds = Order.objects.filter(customer_id=customer.pk,
                                      status=OrderStatus.DELIVERED).aggregate(
            first=Min("delivered_at"), last=Max("delivered_at"))
        CustomerStats.objects.filter(customer_id=customer.pk).update(
            first_order_at=bounds["first"], last_order_at=bounds["last"])
    window = vip_window_start(tenant)
    deltas: dict = {}
    for month, amount in ((old.month, -old.spend), (new.month, new.spend)):
        if month is not None and month >= window:
            deltas[month] = deltas.get(month, 0) + amount
    for month, amount in deltas.items():
        if amount:
            _apply_month(customer, month, amount)
    return Moved(delivered_orders, any(deltas.values()))


def _apply_month(customer, month, amount: int) -> None:
    rows = MonthlySpend.objects.filter(customer_id=customer.pk, month=month)
    if not rows.update(spend=F("spend") + amount):
        MonthlySpend.objects.create(tenant_id=customer.tenant_id, customer_id=customer.pk,
                                    month=month, spend=amount)
    elif amount < 0:
        rows.filter(spend=0).delete()  # the recompute keeps no zero rows either


# --- set-based recompute --------------------------------------------------------------------

STATS_COLUMNS = ["delivered_orders", "total_spend", "spend_3_months", "average_order",
                 "first_order_at", "last_order_at", "debt", "returned_amount"]

# The batch's stats as the orders say, joined to the stored rows: only rows that are new or
# differ reach the upsert (ON CONFLICT would lock, and so write, every row it looks at).
RECOMPUTE_SQL = """
INSERT INTO orders_customerstats
    (customer_id, tenant_id, delivered_orders, total_spend, spend_3_months, average_order,
     first_order_at, last_order_at, debt, returned_amount, updated_at)
SELECT n.customer_id, n.tenant_id, n.delivered_orders, n.total_spend, n.spend_3_months,
       n.average_order, n.first_order_at, n.last_order_at, n.debt, n.returned_amount,
       %(now)s
FROM (
    SELECT c.id AS customer_id, c.tenant_id,
           COALESCE(a.delivered, 0) AS delivered_orders, COALESCE(a.spend, 0) AS total_spend,
           COALESCE(a.spend3, 0) AS spend_3_months,
           CASE WHEN COALESCE(a.delivered, 0) > 0
                THEN CAST(a.spend AS BIGINT) / a.delivered ELSE 0 END AS average_order,
           a.first_at AS first_order_at, a.last_at AS last_order_at,
           COALESCE(a.debt, 0) AS debt, COALESCE(a.returned, 0) AS returned_amount
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
) n
LEFT JOIN orders_customerstats s
       ON s.customer_id = n.customer_id AND s.customer_id BETWEEN %(lo)s AND %(hi)s
WHERE s.customer_id IS NULL OR {differs_n}
ON CONFLICT (customer_id) DO UPDATE SET
    delivered_orders = excluded.delivered_orders, total_spend = excluded.total_spend,
    spend_3_months = excluded.spend_3_months, average_order = excluded.average_order,
    first_order_at = excluded.first_order_at, last_order_at = excluded.last_order_at,
    debt = excluded.debt, returned_amount = excluded.returned_amount,
    updated_at = excluded.updated_at
WHERE {differs}
"""

# MonthlySpend holds the VIP window only. Rows of the batch that no longer match a month of
# the window with delivered spend go (an order's spend is never negative: a month has spend
# when one of its delivered orders is not wholly returned), then new or different months are
# written. The OR keeps the NOT EXISTS a subplan: one index-only probe of order_stats_idx
# per row (as an anti-join, DELETE would fetch every order row from the heap).
MONTHLY_DELETE_SQL = """
DELETE FROM orders_monthlyspend
WHERE tenant_id = %(tenant)s AND customer_id BETWEEN %(lo)s AND %(hi)s {only_m}
  AND (month < %(window)s OR NOT EXISTS (
      SELECT 1 FROM orders_order o
      WHERE o.tenant_id = %(tenant)s AND o.customer_id = orders_monthlyspend.customer_id
        AND o.status = 'delivered' AND o.delivered_month = orders_monthlyspend.month
        AND o.total_amount > o.returned_amount))
"""

MONTHLY_UPSERT_SQL = """
INSERT INTO orders_monthlyspend (tenant_id, customer_id, month, spend)
SELECT n.tenant_id, n.customer_id, n.month, n.spend
FROM (
    SELECT tenant_id, customer_id, delivered_month AS month,
           SUM(total_amount - returned_amount) AS spend
    FROM orders_order
    WHERE tenant_id = %(tenant)s AND status = 'delivered'
          AND customer_id BETWEEN %(lo)s AND %(hi)s AND delivered_month >= %(window)s {only_o}
    GROUP BY tenant_id, customer_id, delivered_month
    HAVING SUM(total_amount - returned_amount) <> 0
) n
LEFT JOIN orders_monthlyspend m
       ON m.customer_id = n.customer_id AND m.month = n.month
          AND m.customer_id BETWEEN %(lo)s AND %(hi)s
WHERE m.id IS NULL OR m.spend <> n.spend
ON CONFLICT (customer_id, month) DO UPDATE SET spend = excluded.spend
"""


def _distinct(column: str, left: str = "orders_customerstats", right: str = "excluded") -> str:
    left, right = f"{left}.{column}", f"{right}.{column}"
    if connection.vendor == "postgresql":
        return f"{left} IS DISTINCT FROM {right}"
    return f"{left} IS NOT {right}"  # SQLite's null-safe "different"


def recompute_batch(tenant, lo: int, hi: int, customer_ids=None,
                    now: datetime.datetime | None = None) -> int:
    """Recompute stats and monthly spend of the shop's customers with lo <= id <= hi.

    One INSERT ... SELECT ... ON CONFLICT statement for the stats (rows that did not
    change are neither written nor locked), then the batch's months of the VIP window are
    brought in line (stale rows deleted, new or different ones written); returns how many
    stats rows changed. On PostgreSQL every read is an index-only scan of
    ``order_stats_idx``.
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
    differs_n = " OR ".join(_distinct(c, "s", "n") for c in STATS_COLUMNS)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and connection.in_atomic_block:
            # Compiling these plans (JIT) cost more than running them: ~0.4 s per batch.
            cursor.execute("SET LOCAL jit = off")
        cursor.execute(RECOMPUTE_SQL.format(differs=differs, differs_n=differs_n, **only),
                       params)
        changed = cursor.rowcount
        cursor.execute(MONTHLY_DELETE_SQL.format(**only), params)
        cursor.execute(MONTHLY_UPSERT_SQL.format(**only), params)
    return max(changed, 0)
