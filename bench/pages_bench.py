"""Backoffice pages at a million customers, timed through the whole response.

Signs in as a member of the bench shop (default: the manager, who sees every customer and
every order) and times each page as Django serves it — middleware, view, SQL and template
rendering — with the test Client in this process, DEBUG off, 30 runs per page after two
warm-up runs. For each page it prints p50/p95 of the whole response next to the part of it
spent in SQL (every statement, timed by an execute wrapper), the part spent rendering
templates (minus the SQL that rendering ran: querysets evaluated by the template) and the
number of statements; where it means something, "the usual Django way" of the same page's
main query (Paginator: COUNT(*) + OFFSET, ``icontains``) is timed next to it.

Pages: the customer list (first page, each filter of the filter form, each sort, search by
name, full phone, last 4 digits, email and code), a profile and each of its tabs (30
customers with orders, plus the shop's biggest buyer), a care-status change (POST), the
order list (first page, its filters, each kind of search), the loyalty page (Tích điểm)
and the dashboard.

The data is aggregates_bench.py's shop (database crm_bench_orders): 1,000,000 customers
with their phones, emails, tags, care status, source and staff, 10,000,000 orders
(``--orders`` for fewer), and the stats of a recompute. It is built when missing
(``aggregates_bench.py --load-only`` does the same) and reused otherwise.

Run:  .venv/bin/python bench/pages_bench.py [--only WORD] [--runs 30] [--explain]
                                            [--profile LABEL] [--user bench.manager]
Needs PostgreSQL on 127.0.0.1 (trust auth). ``--explain`` prints EXPLAIN (ANALYZE,
BUFFERS) of the slowest statement of every page over the goal; ``--profile`` prints a
cProfile of one page (which Python functions the time goes to).
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import os
import pstats
import random
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import aggregates_bench as shop

GOAL_MS = 50.0
SLOW_S, SLOW_RUNS = 1.0, 5  # a page over a second is run 5 times, not 30
BASE_DIR = Path(__file__).resolve().parent.parent

# Plain HTTP on the test client: the production HTTPS settings would redirect every request.
BENCH_ENV = {"SECURE_SSL_REDIRECT": "0", "SESSION_COOKIE_SECURE": "0",
             "CSRF_COOKIE_SECURE": "0", "SECURE_HSTS_SECONDS": "0",
             "ALLOWED_HOSTS": "testserver,127.0.0.1,localhost", "LOG_LEVEL": "WARNING",
             "SECRET_KEY": "bench-only-secret-key-" + "x" * 40}


# --- the probe: SQL and template time of one request ----------------------------------------

class Probe:
    """Sums the time of every SQL statement and of top-level template rendering."""

    def __init__(self):
        self.depth = 0
        self.reset()

    def reset(self):
        self.sql = self.render = self.sql_in_render = 0.0
        self.queries = 0
        self.slowest: tuple[float, str, object] = (0.0, "", None)

    def __call__(self, execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            elapsed = time.perf_counter() - start
            self.sql += elapsed
            self.queries += 1
            if self.depth:
                self.sql_in_render += elapsed
            if elapsed > self.slowest[0]:
                self.slowest = (elapsed, sql, params)

    def patch_templates(self):
        """Wrap the template backend's render (top-level renders, render_to_string of
        widgets and includes by name nest inside and are counted once)."""
        from django.template.backends.django import Template

        original = Template.render
        probe = self

        def render(self, context=None, request=None):
            probe.depth += 1
            start = time.perf_counter()
            try:
                return original(self, context, request)
            finally:
                probe.depth -= 1
                if probe.depth == 0:
                    probe.render += time.perf_counter() - start

        Template.render = render


@dataclass
class Case:
    group: str
    label: str
    path: object  # str, or a function of the run number -> str
    params: object = None  # dict, or a function of the run number -> dict
    htmx: bool = False
    method: str = "get"
    naive: object = None  # function of the run number: the usual Django way's query
    naive_note: str = ""
    expect: int = 200
    samples: list = field(default_factory=list)


def pick(value, i):
    return value(i) if callable(value) else value


# --- data ---------------------------------------------------------------------------------

def collect_static():
    """DEBUG off serves the manifest storage's names: the manifest must exist."""
    manifest = BASE_DIR / "staticfiles" / "staticfiles.json"
    if not manifest.exists() or "--collectstatic" in sys.argv:
        start = time.perf_counter()
        subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
                       cwd=BASE_DIR, check=True, env={**os.environ, "DEBUG": "0"})
        print(f"collectstatic: {time.perf_counter() - start:.1f} s")


def samples(tenant, runs: int, rng: random.Random) -> dict:
    """Values the cases rotate through, one per run (no run repeats another's query)."""
    from django.db import connection

    with connection.cursor() as cursor:
        lo, hi = shop.sql("SELECT MIN(id), MAX(id) FROM customers_customer WHERE tenant_id = %s",
                          [tenant.pk])[0]
        ids = rng.sample(range(lo, hi + 1), runs * 4)
        cursor.execute("""
            SELECT c.code, c.full_name, c.phone_normalized, c.email, s.delivered_orders
            FROM customers_customer c JOIN orders_customerstats s ON s.customer_id = c.id
            WHERE c.id = ANY(%s) AND s.delivered_orders > 0""", [ids])
        rows = cursor.fetchall()[:runs * 2]
        cursor.execute("""
            SELECT c.code FROM orders_customerstats s JOIN customers_customer c
              ON c.id = s.customer_id
            WHERE s.tenant_id = %s ORDER BY s.delivered_orders DESC LIMIT 1""", [tenant.pk])
        biggest = cursor.fetchone()[0]
        olo, ohi = shop.sql("SELECT MIN(id), MAX(id) FROM orders_order WHERE tenant_id = %s",
                            [tenant.pk])[0]
        cursor.execute("SELECT code, contact_phone_normalized, contact_name FROM orders_order "
                       "WHERE tenant_id = %s AND id = ANY(%s)",
                       [tenant.pk, rng.sample(range(olo, ohi + 1), runs * 2)])
        orders = cursor.fetchall()[:runs]
    with_email = [r for r in rows if r[3]]
    from crm.models import Membership, Role
    from customers.models import CareStatus, Source, Tag

    return {
        "codes": [r[0] for r in rows][:runs],
        "names": [r[1] for r in rows][:runs],
        "phones": [r[2] for r in rows][:runs],
        "emails": [r[3] for r in with_email][:runs] or ["kh1@example.vn"],
        "biggest": biggest,
        "order_codes": [o[0] for o in orders] or ["DH000001"],
        "order_phones": [o[1] for o in orders if o[1]] or ["+84901000001"],
        "order_names": [o[2] for o in orders if o[2]] or ["Nguyễn"],
        "care_status": CareStatus.objects.filter(tenant=tenant).order_by("position")[1],
        "care_statuses": list(CareStatus.objects.filter(tenant=tenant)),
        "source_group": Source.objects.filter(tenant=tenant, parent=None, code="marketplace")
        .first(),
        "channel": Source.objects.filter(tenant=tenant, code="shopee").first(),
        "tags": list(Tag.objects.filter(tenant=tenant).order_by("pk")[:3]),
        "staff": Membership.objects.filter(tenant=tenant, role=Role.STAFF).order_by("pk")
        .first(),
        "collaborator": Membership.objects.filter(tenant=tenant, role=Role.COLLABORATOR)
        .order_by("pk").first(),
    }


def name_query(full: str, i: int) -> str:
    """How people type a name: the whole name, family + given, or two words unaccented."""
    from customers.normalize import fold

    words = full.split()
    if i % 3 == 0:
        return full
    if i % 3 == 1:
        return f"{words[0]} {words[-1]}"
    return fold(" ".join(words[-2:]))


def phone_typed(normalized: str) -> str:
    national = "0" + normalized[3:]
    return f"{national[:4]} {national[4:7]} {national[7:]}"


# --- cases --------------------------------------------------------------------------------

def build_cases(tenant, s: dict) -> list[Case]:
    from django.core.paginator import Paginator
    from django.db.models import Count

    from customers.models import Customer
    from orders.models import Order

    customers = Customer.objects.for_tenant(tenant)
    orders = Order.objects.for_tenant(tenant)
    today = dt.date.today()
    month_ago = today - dt.timedelta(days=30)
    dmy = "%d/%m/%Y"

    def paginated(qs, order):
        def run(i):
            list(Paginator(qs(i).order_by(*order), 50).page(1).object_list)
        return run

    c_list = "/admin/customers/"
    o_list = "/admin/orders/"
    cs = s["care_status"]
    cases = [
        Case("list", "customer list, first page", c_list,
             naive=paginated(lambda i: customers, ["-created_at"]),
             naive_note="Paginator COUNT(*) + page 1"),
        Case("list", "sort by name", c_list, {"sort": "name"}),
        Case("list", "sort by total spend, highest first", c_list, {"sort": "-spend"}),
        Case("list", "sort by last order, latest first", c_list, {"sort": "-last_order"}),
        Case("list", "next page (cursor)", c_list, {"after": "NEXT"}),
        Case("filter", "care status (one)", c_list, {"care_status": cs.pk},
             naive=paginated(lambda i: customers.filter(care_status=cs), ["-created_at"]),
             naive_note="Paginator COUNT(*) + page 1"),
        Case("filter", "care status (two)", c_list,
             {"care_status": [x.pk for x in s["care_statuses"][:2]]}),
        Case("filter", "lifecycle VIP", c_list, {"lifecycle_stage": "vip"}),
        Case("filter", "lifecycle new", c_list, {"lifecycle_stage": "new"}),
        Case("filter", "membership pending", c_list, {"membership_state": "pending"}),
        Case("filter", "source group (marketplaces)", c_list,
             {"source": s["source_group"].pk}),
        Case("filter", "source channel (Shopee)", c_list, {"source": s["channel"].pk}),
        Case("filter", "one tag", c_list, {"tags": s["tags"][0].pk}),
        Case("filter", "two tags, any", c_list, {"tags": [t.pk for t in s["tags"][:2]]}),
        Case("filter", "two tags, all", c_list,
             {"tags": [t.pk for t in s["tags"][:2]], "tags_mode": "all"},
             naive=paginated(lambda i: customers.filter(tags__in=s["tags"][:2])
                             .annotate(n=Count("tags")).filter(n=2), ["-created_at"]),
             naive_note="JOIN + GROUP BY, Paginator"),
        Case("filter", "staff in charge", c_list, {"assigned_staff": s["staff"].pk}),
        Case("filter", "collaborator", c_list, {"collaborator": s["collaborator"].pk}),
        Case("filter", "province", c_list, {"province_code": 1}),
        Case("filter", "gender unknown", c_list, {"gender": "unknown"}),
        Case("filter", "birthday month", c_list, {"birth_month": today.month}),
        Case("filter", "created in the last 30 days", c_list,
             {"created_from": month_ago.strftime(dmy), "created_to": today.strftime(dmy)}),
        Case("filter", "created one day a year ago", c_list,
             {"created_from": (today - dt.timedelta(days=365)).strftime(dmy),
              "created_to": (today - dt.timedelta(days=365)).strftime(dmy)}),
        Case("filter", "total spend from 20,000,000", c_list, {"spend_min": 20_000_000}),
        Case("filter", "total spend up to 500,000", c_list, {"spend_max": 500_000}),
        Case("filter", "delivered orders from 20", c_list, {"orders_min": 20}),
        Case("filter", "has debt", c_list, {"debt_min": 1}),
        Case("filter", "ordered in the last month", c_list,
             {"ordered_within": 1, "ordered_mode": "with"}),
        Case("filter", "no order in the last 6 months", c_list,
             {"ordered_within": 6, "ordered_mode": "without"}),
        Case("filter", "care status + staff + province", c_list,
             {"care_status": cs.pk, "assigned_staff": s["staff"].pk, "province_code": 1}),
        Case("search", "name", c_list, lambda i: {"q": name_query(s["names"][i], i)},
             naive=paginated(lambda i: customers.filter(
                 full_name__icontains=name_query(s["names"][i], i)), ["-created_at"]),
             naive_note="icontains + Paginator"),
        Case("search", "full phone 0912 345 678", c_list,
             lambda i: {"q": phone_typed(s["phones"][i])},
             naive=paginated(lambda i: customers.filter(
                 phone__icontains=phone_typed(s["phones"][i])[1:].replace(" ", "")),
                 ["-created_at"]), naive_note="phone icontains + Paginator"),
        Case("search", "last 4 digits of a phone", c_list,
             lambda i: {"q": s["phones"][i][-4:]},
             naive=paginated(lambda i: customers.filter(phone__endswith=s["phones"][i][-4:]),
                             ["-created_at"]), naive_note="phone endswith + Paginator"),
        Case("search", "last 6 digits of a phone", c_list,
             lambda i: {"q": s["phones"][i][-6:]}),
        Case("search", "email", c_list, lambda i: {"q": s["emails"][i % len(s["emails"])]},
             naive=paginated(lambda i: customers.filter(
                 email__iexact=s["emails"][i % len(s["emails"])]), ["-created_at"]),
             naive_note="email iexact + Paginator"),
        Case("search", "code", c_list, lambda i: {"q": s["codes"][i]}),
        Case("search", "name + care status", c_list,
             lambda i: {"q": name_query(s["names"][i], i), "care_status": cs.pk}),
        Case("search", "last 4 digits, htmx table only", c_list,
             lambda i: {"q": s["phones"][i][-4:]}, htmx=True),
    ]
    profile_tabs = [("profile (info)", "/admin/customers/{}/"),
                    ("activity tab", "/admin/customers/{}/activity/"),
                    ("history tab", "/admin/customers/{}/history/"),
                    ("orders tab", "/admin/orders/customer/{}/orders/"),
                    ("related orders tab", "/admin/orders/customer/{}/related/"),
                    ("returns tab", "/admin/orders/customer/{}/returns/"),
                    ("debt tab", "/admin/orders/customer/{}/debt/"),
                    ("points tab", "/admin/loyalty/customer/{}/")]
    for label, pattern in profile_tabs:
        cases.append(Case("profile", label + (" (page)" if label != "profile (info)" else ""),
                          lambda i, p=pattern: p.format(s["codes"][i])))
        if label != "profile (info)":
            cases.append(Case("profile", label + " (htmx)",
                              lambda i, p=pattern: p.format(s["codes"][i]), htmx=True))
    for label, pattern in profile_tabs:
        cases.append(Case("biggest", f"biggest buyer: {label}", pattern.format(s["biggest"]),
                          htmx=label != "profile (info)"))
    statuses = s["care_statuses"]
    cases.append(Case("profile", "care status change (POST, htmx)",
                      lambda i: f"/admin/customers/{s['codes'][i]}/care-status/",
                      lambda i: {"status": statuses[i % len(statuses)].pk},
                      htmx=True, method="post"))
    cases += [
        Case("orders", "order list, first page", o_list,
             naive=paginated(lambda i: orders, ["-ordered_at"]),
             naive_note="Paginator COUNT(*) + page 1"),
        Case("orders", "status delivered", o_list, {"status": "delivered"}),
        Case("orders", "status shipping", o_list, {"status": "shipping"}),
        Case("orders", "channel Shopee", o_list, {"channel": s["channel"].pk}),
        Case("orders", "ordered in the last 30 days", o_list,
             {"ordered_from": month_ago.strftime(dmy), "ordered_to": today.strftime(dmy)}),
        Case("orders", "without customer", o_list, {"unlinked": "true"}),
        Case("orders", "search order code", o_list,
             lambda i: {"q": s["order_codes"][i % len(s["order_codes"])]}),
        Case("orders", "search full phone", o_list,
             lambda i: {"q": phone_typed(s["order_phones"][i % len(s["order_phones"])])}),
        Case("orders", "search last 4 digits", o_list,
             lambda i: {"q": s["order_phones"][i % len(s["order_phones"])][-4:]}),
        Case("orders", "search email", o_list,
             lambda i: {"q": s["emails"][i % len(s["emails"])]}),
        Case("orders", "search name", o_list,
             lambda i: {"q": s["order_names"][i % len(s["order_names"])]},
             naive=paginated(lambda i: orders.filter(
                 contact_name__icontains=s["order_names"][i % len(s["order_names"])]),
                 ["-ordered_at"]), naive_note="icontains + Paginator"),
        Case("loyalty", "Tích điểm page", "/admin/loyalty/"),
        Case("loyalty", "Tích điểm: ledger of manual updates (htmx)", "/admin/loyalty/",
             {"kind": "manual"}, htmx=True),
        Case("loyalty", "Tích điểm: ledger of the system's entries (htmx)", "/admin/loyalty/",
             {"actor": "system"}, htmx=True),
        Case("loyalty", "Tích điểm: ledger used last month (htmx)", "/admin/loyalty/",
             {"date_from": month_ago.strftime(dmy), "date_to": today.strftime(dmy)},
             htmx=True),
        Case("dashboard", "dashboard", "/admin/",
             naive=lambda i: customers.count(), naive_note="COUNT(*) of the customers"),
        Case("dashboard", "dashboard, cache emptied first", "/admin/"),
    ]
    return cases


# --- running ------------------------------------------------------------------------------

def percentile(values: list[float], q: float) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def request(client, case: Case, i: int, next_cursor: str | None):
    params = pick(case.params, i) or {}
    if params.get("after") == "NEXT":
        params = {**params, "after": next_cursor}
    headers = {"HX-Request": "true"} if case.htmx else {}
    path = pick(case.path, i)
    if case.method == "post":
        return client.post(path, params, headers=headers)
    return client.get(path, params, headers=headers)


def first_page_cursor(client) -> str:
    """The list's "next page" cursor, read from the first page's link."""
    import html
    import re
    from urllib.parse import unquote

    page = client.get("/admin/customers/").content.decode()
    found = re.search(r"[?&;]after=([^\"&]+)", page)
    if not found:
        raise SystemExit("no next-page link on the customer list")
    return unquote(html.unescape(found.group(1)))


def run_case(client, probe: Probe, case: Case, runs: int, warmup: int, cursor) -> dict:
    from django.core.cache import cache

    rows = []
    slowest = (0.0, "", None)
    n, planned = 0, warmup + runs
    while n < planned:
        i = n % runs
        if case.label.endswith("cache emptied first"):
            cache.clear()
        probe.reset()
        start = time.perf_counter()
        response = request(client, case, i, cursor)
        total = time.perf_counter() - start
        if response.status_code != case.expect:
            # Another change in progress may break a page: say so, go on with the others.
            print(f"{case.label}: HTTP {response.status_code} for {pick(case.path, i)} "
                  f"{pick(case.params, i) or ''}", flush=True)
            return {"case": case, "error": response.status_code}
        if n == 0 and total > SLOW_S:
            planned = warmup + SLOW_RUNS  # seconds per request: a few runs tell enough
        if n >= warmup:
            template = probe.render - probe.sql_in_render
            rows.append((total, probe.sql, template, probe.queries, len(response.content)))
            if probe.slowest[0] > slowest[0]:
                slowest = probe.slowest
        n += 1
    totals = [r[0] * 1000 for r in rows]
    result = {
        "case": case, "p50": statistics.median(totals), "p95": percentile(totals, 95),
        "sql": statistics.median(r[1] * 1000 for r in rows),
        "template": statistics.median(r[2] * 1000 for r in rows),
        "queries": statistics.median(r[3] for r in rows),
        "kb": statistics.median(r[4] for r in rows) / 1024, "slowest": slowest,
        "runs": len(rows),
    }
    result["other"] = result["p50"] - result["sql"] - result["template"]
    if case.naive is not None:
        times = []
        for i in range(len(rows)):
            start = time.perf_counter()
            case.naive(i)
            times.append((time.perf_counter() - start) * 1000)
        result["naive"] = (statistics.median(times), percentile(times, 95))
    return result


def explain(slowest) -> str:
    from django.db import connection

    _elapsed, sql, params = slowest
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def profile_case(client, case: Case, cursor) -> None:
    for i in range(3):
        request(client, case, i, cursor)
    profiler = cProfile.Profile()
    profiler.enable()
    for i in range(10):
        request(client, case, i, cursor)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).sort_stats("cumulative")
    stats.print_stats(40)
    print(f"\ncProfile of 10 requests of {case.label!r} (cumulative):")
    print(out.getvalue())


def print_results(results: list[dict]) -> None:
    header = ("group", "page", "runs", "p50", "p95", "SQL p50", "queries", "templates p50",
              "other p50", "KB", "usual Django way (its query) p50 / p95", "<= 50 ms")
    rows = []
    for r in results:
        if "error" in r:
            rows.append((r["case"].group, r["case"].label, 0, f"HTTP {r['error']}",
                         *[""] * (len(header) - 4)))
            continue
        naive = r.get("naive")
        rows.append((r["case"].group, r["case"].label, r["runs"], f"{r['p50']:.1f}", f"{r['p95']:.1f}",
                     f"{r['sql']:.1f}", f"{r['queries']:.0f}", f"{r['template']:.1f}",
                     f"{r['other']:.1f}", f"{r['kb']:.0f}",
                     f"{naive[0]:,.1f} / {naive[1]:,.1f} ({r['case'].naive_note})"
                     if naive else "", "yes" if r["p95"] <= GOAL_MS else "NO"))
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    print("\ntimes in ms; SQL and templates are parts of the whole response "
          "(templates: rendering minus the SQL it ran)")
    print(" | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("-+-".join("-" * w for w in widths))
    for row in rows:
        print(" | ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)))
    over = [r for r in results if "error" in r or r["p95"] > GOAL_MS]
    print(f"\n{len(results) - len(over)} of {len(results)} pages at p95 <= {GOAL_MS:.0f} ms")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=shop.DEFAULT_URL)
    parser.add_argument("--customers", type=int, default=1_000_000,
                        help="when the shop is built")
    parser.add_argument("--orders", type=int, default=10_000_000, help="when the shop is built")
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--user", default="bench.manager")
    parser.add_argument("--only", default="", help="pages whose group or label has this word")
    parser.add_argument("--explain", action="store_true",
                        help="EXPLAIN ANALYZE the slowest statement of pages over the goal")
    parser.add_argument("--profile", default="", help="cProfile the page with this label")
    parser.add_argument("--collectstatic", action="store_true", help="run it even if done")
    args = parser.parse_args()

    os.environ.update(BENCH_ENV)
    shop.create_database(args.database_url)
    shop.django_setup(args.database_url)
    shop.migrate()
    collect_static()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    tenant = shop.ensure_shop(args)
    print(f"database {shop.db_name(args.database_url)}: {shop.server_settings()}")
    print(f"shop {tenant.name!r}: {shop.sql('SELECT COUNT(*) FROM customers_customer WHERE tenant_id = %s', [tenant.pk])[0][0]:,} customers, "
          f"{shop.sql('SELECT last_value FROM crm_tenantsequence WHERE tenant_id = %s AND name = %s', [tenant.pk, 'order'])[0][0]:,} orders; "
          f"signed in as {args.user}")
    client = Client()
    client.force_login(get_user_model().objects.get(username=args.user))
    probe = Probe()
    probe.patch_templates()
    rng = random.Random(args.seed)
    cases = build_cases(tenant, samples(tenant, args.runs, rng))
    if args.only:
        word = args.only.lower()
        cases = [c for c in cases if word in c.group.lower() or word in c.label.lower()]
    cursor = first_page_cursor(client)
    if args.profile:
        case = next(c for c in cases if c.label == args.profile)
        profile_case(client, case, cursor)
        return
    results = []
    with connection.execute_wrapper(probe):
        for case in cases:
            result = run_case(client, probe, case, args.runs, args.warmup, cursor)
            results.append(result)
            if "error" in result:
                continue
            print(f"{case.group:9} {case.label:45} p50 {result['p50']:7.1f} ms  "
                  f"p95 {result['p95']:7.1f} ms  SQL {result['sql']:6.1f} ms  "
                  f"templates {result['template']:5.1f} ms", flush=True)
    print_results(results)
    if args.explain:
        for r in results:
            if "error" not in r and r["p95"] > GOAL_MS and r["slowest"][1]:
                print(f"\n--- {r['case'].group}: {r['case'].label}: slowest statement "
                      f"{r['slowest'][0] * 1000:.1f} ms\n{r['slowest'][1][:2000]}\n"
                      f"params: {r['slowest'][2]}\n{explain(r['slowest'])}")


if __name__ == "__main__":
    main()
