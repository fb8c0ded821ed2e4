"""Groups by conditions at a million customers: the membership recompute as a set-based diff
(groups.services.recompute) next to a Python loop over customers, and the live count of a
rule.

What it measures, side by side:

a. One condition group, the seed's "Khách mới" (delivered orders >= 5 AND total spend
   >= 1.500.000 đ), through ``group_recompute``: the first fill (every member inserted with
   its join event), an unchanged re-run (the nightly case: nothing to write), and a re-run
   after 1% of the customers changed (their CustomerStats moved across the thresholds
   set-based, one UPDATE; restored afterwards). Goal: unchanged re-run <= 1 s.
b. The same decision in a Python loop over customers (``select_related("stats")``, the
   condition in Python, a GroupMember + GroupEvent created or deleted per customer that
   changes), timed on a random sample (``--loop-sample``, default 20,000) in a transaction
   that is rolled back, extrapolated to the shop; its decisions are checked against the
   members the diff wrote for the same customers.
c. 20 groups with different rules (every kind of field: stats, dates, days since the last
   purchase, choices, months, relations, tags, "một trong" blocks): first fill of each,
   then the shop's nightly ``groups_recompute_all`` (every group, unchanged). Goal: 20
   groups <= 30 s.
d. The live count the group editor shows while a rule is typed:
   ``crm.pagination.capped_count(rule_customers(tenant, rule))`` (validation included),
   p50/p95 per rule. Goal: <= 300 ms.

``--explain`` prints EXPLAIN (ANALYZE, BUFFERS) of the diff statement of the unchanged
re-run (in a transaction rolled back) and of every live count over its goal.

The data is aggregates_bench.py's shop (database crm_bench_orders, shared with
pages_bench.py): built when missing (1,000,000 customers and 10,000,000 orders, a few
minutes; ``--orders 3000000`` for a smaller one) and reused otherwise. The bench's groups
are the only groups of that shop: they are deleted (with their members, runs and events)
at the start and left in place at the end for a look in the pages.

Run:  .venv/bin/python bench/groups_bench.py [--loop-sample 20000] [--runs 10] [--explain]
Needs PostgreSQL on 127.0.0.1 (trust auth).
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import time

import aggregates_bench as shop

RERUN_GOAL_S = 1.0
GROUPS_GOAL_S = 30.0
COUNT_GOAL_MS = 300.0
KHACH_MOI = {"conditions": [{"field": "orders", "op": "gte", "value": 5},
                            {"field": "spend", "op": "gte", "value": 1_500_000}]}
SAVED_STATS = "bench_groups_saved_stats"  # the 1% changed, to restore (even after a crash)
CHANGED_SLICE = 37  # customers with id % 100 == 37 are "the 1% that changed"


# --- data ---------------------------------------------------------------------------------

def restore_stats() -> None:
    """Put back the stats the 1% change moved (left over by an interrupted run too)."""
    if not shop.sql("SELECT to_regclass(%s)", [SAVED_STATS])[0][0]:
        return
    shop.sql(f"""UPDATE orders_customerstats s
                 SET delivered_orders = b.delivered_orders, total_spend = b.total_spend
                 FROM {SAVED_STATS} b WHERE s.customer_id = b.customer_id""")
    shop.sql(f"DROP TABLE {SAVED_STATS}")


def change_one_percent(tenant) -> int:
    """Move 1% of the customers across the Khách mới thresholds, set-based: members drop to
    one small order, the others get six orders and 2.000.000 đ."""
    shop.sql(f"""CREATE TABLE {SAVED_STATS} AS
                 SELECT customer_id, delivered_orders, total_spend FROM orders_customerstats
                 WHERE tenant_id = %s AND customer_id %% 100 = %s""", [tenant.pk, CHANGED_SLICE])
    shop.sql("""UPDATE orders_customerstats
                SET delivered_orders = CASE WHEN delivered_orders >= 5
                                             AND total_spend >= 1500000 THEN 1 ELSE 6 END,
                    total_spend = CASE WHEN delivered_orders >= 5
                                        AND total_spend >= 1500000 THEN 100000 ELSE 2000000 END
                WHERE tenant_id = %s AND customer_id %% 100 = %s""", [tenant.pk, CHANGED_SLICE])
    shop.sql("ANALYZE orders_customerstats")
    return shop.sql(f"SELECT count(*) FROM {SAVED_STATS}")[0][0]


def delete_bench_groups(tenant) -> None:
    """The bench shop's groups and everything hanging on them, set-based (the ORM's cascade
    would load every member row)."""
    tables = ("groups_groupevent", "groups_groupmember", "groups_grouppin",
              "groups_grouprun", "groups_customergroup")
    for table in tables:
        shop.sql(f"DELETE FROM {table} WHERE tenant_id = %s", [tenant.pk])
    # The bench server runs with autovacuum off: without this the dead rows of the last
    # run stay in the tables and their indexes and slow this run's fills and scans.
    shop.sql(f"VACUUM ANALYZE {', '.join(tables)}")


def rules_for(tenant) -> dict[str, dict]:
    """20 rules over every kind of field, with the shop's own ids."""
    from crm.models import Membership, Role
    from customers.models import CareStatus, Source, Tag

    today = dt.date.today()
    staff = list(Membership.objects.filter(tenant=tenant, role=Role.STAFF)
                 .order_by("pk").values_list("pk", flat=True)[:3])
    tags = list(Tag.objects.filter(tenant=tenant).order_by("pk").values_list("pk", flat=True))
    care = list(CareStatus.objects.filter(tenant=tenant).order_by("position")
                .values_list("pk", flat=True))
    channels = list(Source.objects.filter(tenant=tenant).exclude(parent=None).order_by("pk")
                    .values_list("pk", flat=True))

    def c(field, op, value=None):
        return {"field": field, "op": op, "value": value}

    return {
        "Khách mới (≥ 5 đơn, ≥ 1,5 tr)": KHACH_MOI,
        "Chi tiêu ≥ 10 tr": {"conditions": [c("spend", "gte", 10_000_000)]},
        "Chi 3 tháng ≥ 2 tr": {"conditions": [c("spend_3_months", "gte", 2_000_000)]},
        "Đơn TB 300–800 nghìn": {"conditions": [c("average_order", "between",
                                                  [300_000, 800_000])]},
        "Còn nợ": {"conditions": [c("debt", "gt", 0)]},
        "Mua lần cuối từ đầu năm ngoái": {"conditions": [
            c("last_order", "from", f"{today.year - 1}-01-01")]},
        "Lâu không mua (≥ 90 ngày)": {"conditions": [c("days_since_purchase", "gte", 90)]},
        "Có đơn trong 3 tháng": {"conditions": [c("ordered", "within", 3)]},
        "Không đơn 6 tháng": {"conditions": [c("ordered", "not_within", 6)]},
        "Nữ, sinh tháng 3": {"conditions": [c("gender", "in", ["female"]),
                                              c("birth_month", "in", [3])]},
        "Sinh nhật tháng này": {"conditions": [c("birth_month", "this_month")]},
        "Hà Nội hoặc TP.HCM": {"conditions": [c("province", "in", [1, 79])]},
        "Từ một kênh": {"conditions": [c("source", "in", channels[:1])]},
        "Có thẻ (một trong 2)": {"conditions": [c("tags", "any", tags[:2])]},
        "Có cả 2 thẻ": {"conditions": [c("tags", "all", tags[:2])]},
        "Trạng thái CS, ≥ 2 đơn": {"conditions": [c("care_status", "in", care[:2]),
                                                   c("orders", "gte", 2)]},
        "VIP": {"conditions": [c("lifecycle", "in", ["vip"])]},
        "NV phụ trách, chi ≥ 5 tr": {"conditions": [c("staff", "in", staff),
                                                      c("spend", "gte", 5_000_000)]},
        "Tạo trong năm nay": {"conditions": [c("created", "from", f"{today.year}-01-01")]},
        "Một trong: nợ hoặc ≥ 20 đơn, chi ≥ 3 tr": {"conditions": [
            {"any": [c("debt", "gt", 0), c("orders", "gte", 20)]},
            c("spend", "gte", 3_000_000)]},
    }


# --- measuring ----------------------------------------------------------------------------

def recompute(tenant, group, trigger="manual"):
    from crm.access import SYSTEM
    from groups.services import group_recompute

    start = time.perf_counter()
    run = group_recompute(tenant=tenant, actor=SYSTEM, group=group, trigger=trigger)
    seconds = time.perf_counter() - start
    if run.state != "done":
        raise SystemExit(f"recompute of {group.name} failed: {run.error}")
    return seconds, run


def measure_one_group(tenant, reruns: int) -> tuple[object, list[dict]]:
    from groups.models import CustomerGroup

    group = CustomerGroup.objects.create(tenant=tenant, name="Khách mới", rule=KHACH_MOI)
    rows = []
    seconds, run = recompute(tenant, group)
    rows.append({"case": "first fill", "seconds": seconds, "run": run})
    samples = [recompute(tenant, group) for _ in range(reruns)]
    seconds = statistics.median(s for s, _run in samples)
    rows.append({"case": f"unchanged re-run (median of {reruns})", "seconds": seconds,
                 "run": samples[-1][1], "goal": RERUN_GOAL_S})
    changed = change_one_percent(tenant)
    try:
        seconds, run = recompute(tenant, group)
        rows.append({"case": f"re-run after 1% changed ({changed:,} stats rows)",
                     "seconds": seconds, "run": run})
    finally:
        restore_stats()
        shop.sql("ANALYZE orders_customerstats")
    seconds, run = recompute(tenant, group)
    rows.append({"case": "re-run after the 1% was restored", "seconds": seconds, "run": run})
    return group, rows


def python_loop(tenant, group, sample: int, seed: int) -> dict:
    """The membership decision customer by customer, on a sample, rolled back."""
    from django.db import transaction

    from customers.models import Customer
    from groups.models import CustomerGroup, GroupEvent, GroupMember
    from orders.models import CustomerStats

    total = Customer.objects.filter(tenant=tenant).count()
    lo, hi = shop.sql("SELECT MIN(id), MAX(id) FROM customers_customer WHERE tenant_id = %s",
                      [tenant.pk])[0]
    ids = random.Random(seed).sample(range(lo, hi + 1), min(sample, hi - lo + 1))
    in_diff = set(GroupMember.objects.filter(group=group, customer_id__in=ids)
                  .values_list("customer_id", flat=True))

    def loop(scratch) -> tuple[float, set, int]:
        start = time.perf_counter()
        members = set(GroupMember.objects.filter(group=scratch, customer_id__in=ids)
                      .values_list("customer_id", flat=True))
        holds_for, writes = set(), 0
        now = dt.datetime.now(dt.UTC)
        customers = (Customer.objects.filter(tenant=tenant, pk__in=ids)
                     .select_related("stats").iterator(chunk_size=2000))
        for customer in customers:
            try:
                stats = customer.stats
            except CustomerStats.DoesNotExist:
                stats = None
            holds = (stats is not None and stats.delivered_orders >= 5
                     and stats.total_spend >= 1_500_000)
            if holds:
                holds_for.add(customer.pk)
            if holds and customer.pk not in members:
                GroupMember.objects.create(tenant=tenant, group=scratch, customer=customer,
                                           joined_at=now)
                GroupEvent.objects.create(tenant=tenant, group=scratch, customer=customer,
                                          joined=True, at=now)
                writes += 1
            elif not holds and customer.pk in members:
                GroupMember.objects.filter(group=scratch, customer=customer).delete()
                GroupEvent.objects.create(tenant=tenant, group=scratch, customer=customer,
                                          joined=False, at=now)
                writes += 1
        return time.perf_counter() - start, holds_for, writes

    with transaction.atomic():
        scratch = CustomerGroup.objects.create(tenant=tenant, name="bench loop (rolled back)",
                                               rule=KHACH_MOI)
        fill, holds_for, writes = loop(scratch)
        rerun, _holds, rewrites = loop(scratch)
        transaction.set_rollback(True)
    scale = total / len(ids)
    return {"sample": len(ids), "customers": total, "fill": fill, "fill_writes": writes,
            "rerun": rerun, "rerun_writes": rewrites, "scale": scale,
            "agrees": holds_for == in_diff, "members_in_sample": len(in_diff)}


def measure_groups(tenant, rules: dict) -> tuple[list[dict], float, list]:
    from groups.models import CustomerGroup, GroupRun
    from groups.services import groups_recompute_all

    rows = []
    for name, rule in rules.items():
        if name.startswith("Khách mới"):
            continue  # already there: measured above
        group = CustomerGroup.objects.create(tenant=tenant, name=name, rule=rule)
        seconds, run = recompute(tenant, group)
        rows.append({"name": name, "fill": seconds, "members": run.total})
    start = time.perf_counter()
    runs = groups_recompute_all(tenant=tenant, trigger=GroupRun.Trigger.NIGHTLY)
    nightly = time.perf_counter() - start
    failed = [r for r in runs if r.state != "done"]
    if failed:
        raise SystemExit(f"nightly: {len(failed)} groups failed: {failed[0].error}")
    by_group = {r.group.name: r for r in runs}
    for row in rows:
        run = by_group[row["name"]]
        row["rerun"] = run.duration_ms / 1000
        row["changes"] = run.joined + run.left
    return rows, nightly, runs


def measure_counts(tenant, rules: dict, runs: int) -> list[dict]:
    from crm.pagination import capped_count
    from customers.rules import rule_customers

    rows = []
    for name, rule in rules.items():
        samples, count = [], None
        for i in range(runs + 1):
            start = time.perf_counter()
            count, more = capped_count(rule_customers(tenant, rule))
            if i:  # the first run warms the cache
                samples.append((time.perf_counter() - start) * 1000)
        samples.sort()
        rows.append({"name": name, "p50": statistics.median(samples),
                     "p95": samples[max(0, int(len(samples) * 0.95) - 1)],
                     "count": f"{count:,}{'+' if more else ''}", "rule": rule})
    return rows


# --- EXPLAIN ------------------------------------------------------------------------------

def explain(sql: str, params, settings=()) -> list[str]:
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        for setting in settings:
            cursor.execute(setting)
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        lines = [row[0] for row in cursor.fetchall()]
        transaction.set_rollback(True)
    return lines


def explain_diff(tenant, group) -> list[str]:
    """The diff statement of a re-run, with the settings the service gives it."""
    from django.db import connection
    from django.utils import timezone

    from groups.services.recompute import DIFF_SETTINGS, diff_statement, target_sql

    target, params = target_sql(tenant, group)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    sql, args = diff_statement(tenant, group, target, params, now, None)
    settings = [f"SET LOCAL {name} = '{value}'" for name, value in DIFF_SETTINGS.items()]
    return explain(sql, args, settings)


def explain_count(tenant, rule) -> list[str]:
    from customers.rules import rule_customers

    queryset = rule_customers(tenant, rule).order_by()[:10_001]
    sql, params = queryset.values("id").query.sql_with_params()
    return explain(f"SELECT count(*) FROM ({sql}) q", params)


# --- report -------------------------------------------------------------------------------

def fmt(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms" if seconds < 10 else shop.fmt_seconds(seconds)


def verdict(value: float, goal: float) -> str:
    return "met" if value <= goal else "NOT met"


def report(one: list[dict], loop: dict | None, groups: list[dict], nightly: float,
           counts: list[dict]) -> None:
    from _common import table

    print("\n== One condition group: Khách mới (≥ 5 delivered orders AND ≥ 1.500.000 đ) ==")
    body = []
    for row in one:
        run = row["run"]
        goal = row.get("goal")
        body.append((row["case"], fmt(row["seconds"]), f"{run.joined:,}", f"{run.left:,}",
                     f"{run.total:,}", f"≤ {fmt(goal)}: {verdict(row['seconds'], goal)}"
                     if goal else ""))
    print(table(body, ("case", "set-based diff", "joined", "left", "members", "goal")))
    if loop:
        scale = loop["scale"]
        print(f"\nPython loop over customers: sample of {loop['sample']:,} of "
              f"{loop['customers']:,}, extrapolated x{scale:,.1f}; its decisions "
              f"{'agree' if loop['agrees'] else 'DISAGREE'} with the diff's members "
              f"({loop['members_in_sample']:,} members in the sample)")
        print(table([
            ("first fill", fmt(one[0]["seconds"]), fmt(loop["fill"] * scale),
             f"{loop['fill']:.2f} s for {loop['sample']:,} ({loop['fill_writes']:,} joined)"),
            ("unchanged re-run", fmt(one[1]["seconds"]), fmt(loop["rerun"] * scale),
             f"{loop['rerun']:.2f} s for {loop['sample']:,} ({loop['rerun_writes']} writes)"),
        ], ("case", "set-based diff", "Python loop (extrapolated)", "loop sample")))
    print("\n== 20 groups ==")
    body = [(r["name"], f"{r['members']:,}", fmt(r["fill"]), fmt(r["rerun"]), r["changes"])
            for r in groups]
    print(table(body, ("group", "members", "first fill", "unchanged re-run", "changes")))
    fills = one[0]["seconds"] + sum(r["fill"] for r in groups)
    slowest = max(r["rerun"] for r in groups)
    print(f"first fill of the 20: {fmt(fills)}; nightly recompute of the 20 "
          f"(groups_recompute_all, unchanged): {fmt(nightly)} — goal ≤ {fmt(GROUPS_GOAL_S)}: "
          f"{verdict(nightly, GROUPS_GOAL_S)}; slowest unchanged re-run {fmt(slowest)} — goal "
          f"≤ {fmt(RERUN_GOAL_S)} per group: {verdict(slowest, RERUN_GOAL_S)}")
    print("\n== Live count of a rule (capped_count over rule_customers, cap 10,000) ==")
    body = [(r["name"], r["count"], f"{r['p50']:,.1f} ms", f"{r['p95']:,.1f} ms",
             verdict(r["p95"], COUNT_GOAL_MS)) for r in counts]
    print(table(body, ("rule", "count", "p50", "p95", f"p95 ≤ {COUNT_GOAL_MS:.0f} ms")))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=shop.DEFAULT_URL)
    parser.add_argument("--customers", type=int, default=1_000_000, help="when building")
    parser.add_argument("--orders", type=int, default=10_000_000, help="when building")
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--loop-sample", type=int, default=20_000)
    parser.add_argument("--reruns", type=int, default=5, help="unchanged re-runs timed")
    parser.add_argument("--runs", type=int, default=10, help="live count runs per rule")
    parser.add_argument("--skip-loop", action="store_true")
    parser.add_argument("--explain", action="store_true")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    tenant = shop.open_shop(args)
    restore_stats()
    delete_bench_groups(tenant)
    customers = shop.sql("SELECT count(*) FROM customers_customer WHERE tenant_id = %s",
                         [tenant.pk])[0][0]
    orders = shop.sql("SELECT count(*) FROM orders_order WHERE tenant_id = %s", [tenant.pk])[0][0]
    print(f"shop {tenant.pk}: {customers:,} customers, {orders:,} orders")
    rules = rules_for(tenant)
    from customers.rules import rule_validate

    for rule in rules.values():
        rule_validate(tenant, rule)
    group, one = measure_one_group(tenant, args.reruns)
    loop = None if args.skip_loop else python_loop(tenant, group, args.loop_sample, args.seed)
    groups, nightly, _runs = measure_groups(tenant, rules)
    counts = measure_counts(tenant, rules, args.runs)
    report(one, loop, groups, nightly, counts)
    if args.explain:
        print("\n-- EXPLAIN (ANALYZE, BUFFERS): the diff of an unchanged re-run of Khách mới")
        print("\n".join(explain_diff(tenant, group)))
        for row in counts:
            if row["p95"] > COUNT_GOAL_MS:
                print(f"\n-- EXPLAIN (ANALYZE, BUFFERS): live count of {row['name']}")
                print("\n".join(explain_count(tenant, row["rule"])))


if __name__ == "__main__":
    main()
