"""Customer list and search at a million customers, next to the usual Django way.

Builds one shop with N customers (default 1,000,000) plus a small second shop, with
PostgreSQL COPY, then prints p50/p95 of:

* name search: the folded search key + trigram GIN index (``customer_search``) vs
  ``full_name__icontains`` (Django emits UPPER(...) LIKE UPPER(...): no index);
* phone search, full number in any format and last digits: pattern_ops btrees on the
  normalized and reversed digits vs ``phone__icontains``;
* a filtered list page with our capped count vs Django's Paginator (COUNT(*) + OFFSET);
* page 10,000 by keyset vs OFFSET 499,950 + COUNT(*).

Run:  .venv/bin/python bench/customers_bench.py [--customers 1000000] [--reuse]
Needs PostgreSQL on 127.0.0.1 (trust auth); uses the database crm_bench_customers.
"""

import argparse
import datetime
import io
import random
import time

from _common import FAMILY, GIVEN, MIDDLE, MOBILE, ms, setup_django, table, timed

GOALS = {"name": 150, "phone": 5, "deep": 10}


def build(n: int, rng: random.Random):
    from django.db import connection
    from django.utils import timezone

    from crm.models import TenantSequence
    from crm.services import tenant_create
    from customers.models import CareStatus, Customer
    from customers.normalize import fold
    from customers.services import customer_code

    big = tenant_create(name="Bench shop", slug=f"bench-{int(time.time())}")
    small = tenant_create(name="Small shop", slug=f"small-{int(time.time())}")
    start = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM customers_customer")
        next_id = cursor.fetchone()[0] + 1
        cursor.execute("DROP INDEX IF EXISTS customer_name_trgm")
    raw = connection.connection
    now = timezone.now()
    used_phones: set[str] = set()
    for tenant, count in ((big, n), (small, max(n // 100, 1000))):
        statuses = list(CareStatus.objects.for_tenant(tenant).values_list("pk", flat=True))
        customers, phones = io.StringIO(), io.StringIO()
        for number in range(1, count + 1):
            name = f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
            while True:
                national = rng.choice(MOBILE) + f"{rng.randrange(10 ** 7):07d}"
                if (tenant.pk, national) not in used_phones:
                    used_phones.add((tenant.pk, national))
                    break
            normalized = "+84" + national
            raw_phone = f"0{national[:3]} {national[3:6]} {national[6:]}"
            created = now - datetime.timedelta(seconds=rng.randrange(3 * 365 * 86400))
            customer_id = next_id
            next_id += 1
            customers.write("\t".join(map(str, [
                customer_id, tenant.pk, number, customer_code(number), name, fold(name), "", "",
                "", raw_phone, normalized, "", rng.choice(["male", "female", ""]),
                rng.randint(1, 28), rng.randint(1, 12), "\\N", "", "VN", "\\N", "\\N", "", "",
                "", "\\N", "\\N", "\\N", "\\N", rng.choice(statuses), "new", "guest", "\\N",
                "\\N", created.isoformat(), created.isoformat()])) + "\n")
            phones.write("\t".join(map(str, [
                tenant.pk, customer_id, raw_phone, normalized, normalized[1:][::-1], "t", ""]))
                + "\n")
        columns = [f.column for f in Customer._meta.concrete_fields]
        with raw.cursor() as cur:
            with cur.copy(f"COPY customers_customer ({', '.join(columns)}) FROM STDIN") as copy:
                copy.write(customers.getvalue())
            with cur.copy("COPY customers_customerphone (tenant_id, customer_id, raw, normalized,"
                          " reversed_digits, is_primary, label) FROM STDIN") as copy:
                copy.write(phones.getvalue())
        TenantSequence.objects.update_or_create(tenant=tenant, name="customer",
                                                defaults={"last_value": count})
    with connection.cursor() as cursor:
        cursor.execute("SELECT setval(pg_get_serial_sequence('customers_customer', 'id'), "
                       "(SELECT MAX(id) FROM customers_customer))")
        cursor.execute("CREATE INDEX customer_name_trgm ON customers_customer "
                       "USING gin (tenant_id, search_name gin_trgm_ops)")
        cursor.execute("ANALYZE")
    print(f"loaded {n:,} + {max(n // 100, 1000):,} customers in "
          f"{time.perf_counter() - start:,.1f} s")
    return big


def measure(tenant, rng: random.Random, repeat: int):
    from django.core.paginator import Paginator
    from django.db import connection

    from crm.pagination import cursor_for, keyset_paginate
    from customers.models import CareStatus, Customer
    from customers.selectors import customer_list, customer_search

    qs = Customer.objects.for_tenant(tenant)
    sample = list(qs.order_by("?").values_list("full_name", "phone_normalized")[:repeat])
    name_queries = [" ".join(rng.sample(full.split(), 2)).lower() for full, _p in sample]
    phones = [p for _n, p in sample]
    rows = []

    def ours_name(i):
        list(customer_search(qs, tenant, name_queries[i]).order_by("-created_at", "-id")[:50])

    def naive_name(i):
        list(qs.filter(full_name__icontains=name_queries[i]).order_by("-created_at")[:50])

    def ours_name_page(i):
        customer_list(queryset=customer_search(qs, tenant, name_queries[i]), sort="-created",
                      after=None, before=None)

    def naive_name_page(i):
        page = Paginator(qs.filter(full_name__icontains=name_queries[i])
                         .order_by("-created_at"), 50).page(1)
        list(page.object_list)

    formats = [lambda p: f"0{p[3:6]} {p[6:9]} {p[9:]}", lambda p: p,
               lambda p: f"+84 {p[3:6]}-{p[6:9]}-{p[9:]}", lambda p: p[-4:], lambda p: p[-6:]]

    def ours_phone(i):
        list(customer_search(qs, tenant, formats[i % 5](phones[i]))[:50])

    def naive_phone(i):
        digits = phones[i][3:] if i % 5 < 3 else formats[i % 5](phones[i])
        list(qs.filter(phone__icontains=digits)[:50])

    rows.append(("name search (rows)", *timed(ours_name, repeat), *timed(naive_name, repeat)))
    rows.append(("name search page + count", *timed(ours_name_page, repeat),
                 *timed(naive_name_page, max(5, repeat // 3))))
    rows.append(("phone search", *timed(ours_phone, repeat), *timed(naive_phone, repeat)))

    status = CareStatus.objects.for_tenant(tenant).first()
    filtered = qs.filter(care_status=status)

    def ours_filtered(i):
        customer_list(queryset=filtered, sort="name", after=None, before=None)

    def naive_filtered(i):
        list(Paginator(filtered.order_by("search_name", "id"), 50).page(1).object_list)

    rows.append(("filtered list page 1", *timed(ours_filtered, repeat),
                 *timed(naive_filtered, max(5, repeat // 3))))

    order = ["-created_at", "-id"]
    deep = min(499_950, qs.count() - 50)  # page 10,000 at 50 rows (or the last page)
    anchor = qs.order_by(*order)[deep - 1:deep].get()
    page_cursor = cursor_for(anchor, order)

    def ours_deep(i):
        keyset_paginate(qs, order=order, after=page_cursor, size=50)

    def naive_deep(i):
        list(qs.order_by(*order)[deep:deep + 50])
        qs.count()

    rows.append(("page 10,000 (keyset vs OFFSET+COUNT)", *timed(ours_deep, repeat),
                 *timed(naive_deep, max(5, repeat // 5))))

    print(table([(case, ms(a), ms(b), ms(c), ms(d)) for case, a, b, c, d in rows],
                ("case", "ours p50", "ours p95", "naive p50", "naive p95")))
    checks = [("name search p95", rows[0][2], GOALS["name"]),
              ("phone search p95", rows[2][2], GOALS["phone"]),
              ("deep page p95", rows[4][2], GOALS["deep"])]
    for label, value, goal in checks:
        print(f"goal {label} <= {goal} ms: {ms(value)} -> {'met' if value <= goal else 'NOT met'}")
    with connection.cursor() as cursor:
        from crm.pagination import _after

        deep_qs = qs.filter(_after(order, [anchor.created_at, anchor.pk], False)) \
            .order_by(*order)[:51]
        for label, sql_qs in (("name", customer_search(qs, tenant, name_queries[0])[:50]),
                              ("phone, last 4", customer_search(qs, tenant, phones[0][-4:])[:50]),
                              ("phone, typed 0912 345 678",
                               customer_search(qs, tenant, formats[0](phones[0]))[:50]),
                              ("page 10,000", deep_qs)):
            sql, params = sql_qs.query.sql_with_params()
            cursor.execute("EXPLAIN " + sql, params)
            print(f"\nEXPLAIN {label} search:\n" + "\n".join(r[0] for r in cursor.fetchall()))


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url",
                        default="postgres://postgres@127.0.0.1:5432/crm_bench_customers")
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--reuse", action="store_true", help="measure the shop already built")
    args = parser.parse_args()
    setup_django(args.database_url)
    from crm.models import Tenant

    rng = random.Random(2026)
    tenant = Tenant.objects.filter(name="Bench shop").order_by("-pk").first() \
        if args.reuse else None
    if tenant is None:
        tenant = build(args.customers, rng)
    measure(tenant, rng, args.repeat)


if __name__ == "__main__":
    main()
