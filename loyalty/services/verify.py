"""The nightly check: every account's balance and lifetime points against the sum of its
ledger, and its tier against its lifetime points. It reports (a ``LedgerCheck`` row, shown
on the Tích điểm page, and a warning in the log); it never fixes an account silently."""

import logging
import time

from django.db import connection

from customers.models import Customer

from ..models import LedgerCheck, LoyaltyAccount, TierBasis
from .program import program_of, tiers_of

logger = logging.getLogger(__name__)

MAX_DETAILS = 50

# One pass over the shop's ledger (on PostgreSQL an index-only scan of point_customer_idx,
# already in customer order, summed as it goes) fully joined to the shop's accounts: an
# account whose sums differ, a ledger without an account, and (tiers by points) an account
# in the wrong tier come out; nothing else leaves the database.
MISMATCH_SQL = """
SELECT COALESCE(a.customer_id, s.customer_id), a.balance, a.lifetime,
       COALESCE(s.b, 0), COALESCE(s.l, 0), a.tier_id, {expected} AS expected_tier
FROM (SELECT customer_id, balance, lifetime, tier_id FROM loyalty_loyaltyaccount
      WHERE tenant_id = %(tenant)s) a
FULL JOIN (
    SELECT customer_id, CAST(SUM(delta) AS BIGINT) AS b,
           CAST(SUM(lifetime_delta) AS BIGINT) AS l
    FROM loyalty_pointentry WHERE tenant_id = %(tenant)s GROUP BY customer_id
) s ON s.customer_id = a.customer_id
WHERE a.customer_id IS NULL
   OR a.balance <> COALESCE(s.b, 0) OR a.lifetime <> COALESCE(s.l, 0)
   OR {wrong_tier}
"""


def _tier_sql(tenant) -> tuple[str, str, dict]:
    """SQL of the tier an account's lifetime points reach (a CASE over the shop's few
    tiers) and of "its tier is wrong": not that tier — or, when tiers cannot go down, a
    lower one. Tiers by spend are checked by the nightly refresh, not here."""
    program = program_of(tenant)
    tiers = tiers_of(tenant)
    if program.tier_basis != TierBasis.POINTS or not tiers:
        return "NULL", "FALSE", {}
    params = {}
    reach, reach_threshold, held_threshold = [], [], []
    for i, tier in enumerate(sorted(tiers, key=lambda t: -t.threshold)):
        params[f"t{i}"], params[f"h{i}"] = tier.pk, tier.threshold
        reach.append(f"WHEN a.lifetime >= %(h{i})s THEN %(t{i})s")
        reach_threshold.append(f"WHEN a.lifetime >= %(h{i})s THEN %(h{i})s")
        held_threshold.append(f"WHEN %(t{i})s THEN %(h{i})s")
    expected = f"(CASE {' '.join(reach)} END)"
    if program.tiers_can_drop:
        return expected, f"a.tier_id IS DISTINCT FROM {expected}", params
    # A higher tier than reached is right: it was reached once and is kept.
    held = f"(CASE a.tier_id {' '.join(held_threshold)} END)"
    reached = f"(CASE {' '.join(reach_threshold)} END)"
    wrong = (f"(a.tier_id IS DISTINCT FROM {expected}"
             f" AND NOT COALESCE({held} > {reached}, {held} IS NOT NULL))")
    return expected, wrong, params


def ledger_verify(*, tenant) -> LedgerCheck:
    """Check every account of the shop against its ledger; record and return the result
    (up to 50 accounts that differ, with what they hold and what the ledger says)."""
    started = time.perf_counter()
    expected, wrong_tier, params = _tier_sql(tenant)
    with connection.cursor() as cursor:
        cursor.execute(MISMATCH_SQL.format(expected=expected, wrong_tier=wrong_tier),
                       {"tenant": tenant.pk, **params})
        rows = cursor.fetchall()
    accounts = LoyaltyAccount.objects.filter(tenant_id=tenant.pk).count()
    shown = rows[:MAX_DETAILS]
    codes = dict(Customer.objects.filter(pk__in=[r[0] for r in shown])
                 .values_list("pk", "code"))
    names = {t.pk: t.name for t in tiers_of(tenant)} if any(r[6] for r in shown) else {}
    details = []
    for customer, balance, lifetime, ledger_balance, ledger_lifetime, tier, exp in shown:
        row = {"customer": customer, "code": codes.get(customer, ""), "balance": balance,
               "lifetime": lifetime, "ledger_balance": ledger_balance,
               "ledger_lifetime": ledger_lifetime}
        if tier != exp and exp is not None:
            row.update(tier=names.get(tier, ""), expected_tier=names.get(exp, ""))
        details.append(row)
    check = LedgerCheck.objects.create(
        tenant=tenant, accounts=accounts, mismatches=len(rows), details=details,
        seconds=round(time.perf_counter() - started, 3))
    if check.mismatches:
        logger.warning("loyalty: %s accounts of shop %s differ from their ledger: %s",
                       check.mismatches, tenant.pk, details[:5])
    return check
