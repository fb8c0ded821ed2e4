"""Benchmark of the customer order aggregates (orders/stats.py) at one big shop on PostgreSQL.

What it measures, side by side:

a. The set-based recompute ``orders.services.aggregates_recompute``: a first run from empty
   stats (every CustomerStats / MonthlySpend row inserted) and a second run right after
   (nothing changed: it must report 0 changed rows), with the default batch of 50,000
   customer ids and with one statement for the whole shop (``--big-batch``). Goal: <= 10 s.
b. The naive Django way: per customer, ``Order.objects.filter(customer=c,
   status="delivered").aggregate(...)`` plus the other fields, the months and
   ``CustomerStats(...).save()``, timed on a random sample and extrapolated to the shop.
   The sample's values are also checked against what the set-based recompute stored.
c. One order event, each call in its own transaction as in a request: p50/p95 of
   ``order_record_payment`` (1,000 đồng on a delivered order with debt), ``order_set_status``
   (confirmed -> shipping, and shipping -> delivered) and ``order_create``. Goal: p95 <= 2 ms.
   Each is run twice: as configured (synchronous_commit on: every COMMIT waits for the WAL
   flush) and with ``SET synchronous_commit = off``, which isolates the code's own cost.

   The aggregates step alone (``orders.stats.apply``: one UPDATE ... RETURNING that locks
   the customer's stats row and moves it by the order's change) is timed the same way, each
   call committed; every timed change is undone right after by an untimed opposite one.

It also prints EXPLAIN (ANALYZE, BUFFERS) of the three statements of one recompute batch of
50,000 customer ids (run inside a transaction that is rolled back).

The data: one shop created with ``crm.services.tenant_create`` (default lists seeded),
``--customers`` customers and ``--orders`` orders loaded with binary COPY (psycopg 3
``cursor.copy`` / ``write_row``). Orders are spread over two years in time order and belong
to customers drawn from a skewed (log-normal) distribution: 15% of the customers have no
order, a few wholesale buyers have thousands, 1% of the orders are unlinked. Statuses are
mostly delivered, with cancelled, returned, partly paid and partly returned orders, and
new / confirmed / shipping ones in the last three days. Secondary indexes and foreign keys
of the two tables are dropped for the load and recreated from their saved definitions; the
script checks that the schema ends identical. Lifecycle stages are set as the rules would
(purchased / VIP) so that the order services do not rewrite customers on first touch.

Run (PostgreSQL 15 on 127.0.0.1:5432, trust auth)::

    .venv/bin/python bench/aggregates_bench.py                      # 1M customers, 10M orders
    .venv/bin/python bench/aggregates_bench.py --customers 1000000 --orders 3000000
    .venv/bin/python bench/aggregates_bench.py --reuse                # keep loaded data

The database (default ``crm_bench_orders``) is created when missing. Without ``--reuse``, or
when ``--reuse`` does not find a complete load of the requested size, a database that
already holds data is dropped and created again (only when its name contains "bench").
Loading 10M orders takes a few minutes; the measurements take about ten more.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import inspect
import os
import random
import statistics
import sys
import time
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
from _common import FAMILY, GIVEN, MIDDLE, MOBILE

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/crm_bench_orders"
SHOP_SLUG = "bench-orders"
# Asia/Ho_Chi_Minh has been UTC+7 without DST since 1975: a fixed offset is exact and fast.
VN = dt.timezone(dt.timedelta(hours=7))
DAY = dt.timedelta(days=1)
RECOMPUTE_GOAL_S = 10.0
EVENT_GOAL_MS = 2.0
LOADED_TABLES = ("orders_order", "customers_customer", "customers_customerphone",
                 "customers_customeremail", "customers_customertag")
# Staff of the bench shop (bench/pages_bench.py and bench/load/ sign in as them).
STAFF_PASSWORD = "bench-pass-2026"
STAFF_COUNT = 50
COLLABORATOR_COUNT = 5

STREETS = ["Lê Lợi", "Nguyễn Huệ", "Trần Hưng Đạo", "Hai Bà Trưng", "Lý Thường Kiệt",
           "Cách Mạng Tháng Tám", "Điện Biên Phủ", "Phan Đình Phùng", "Võ Văn Tần", "Hùng Vương"]
MOBILE_PREFIXES = ["0" + prefix for prefix in MOBILE]


# --- setup ----------------------------------------------------------------------------------

def db_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def admin_connect(url: str) -> psycopg.Connection:
    parts = urlsplit(url)
    return psycopg.connect(host=parts.hostname or "127.0.0.1", port=parts.port or 5432,
                           user=parts.username or "postgres", password=parts.password,
                           dbname="postgres", autocommit=True)


def create_database(url: str, *, drop_first: bool = False) -> None:
    name = db_name(url)
    with admin_connect(url) as conn:
        if drop_first:
            if "bench" not in name:
                sys.exit(f"refusing to drop database {name!r}: its name lacks 'bench'")
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
            print(f"created database {name}")


def django_setup(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["DEBUG"] = "0"  # as in production: no query log
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-" + "x" * 40)
    os.environ["DJANGO_SETTINGS_MODULE"] = "crm.settings"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    sys.path.insert(0, str(BASE_DIR))
    import django

    django.setup()


def migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def sql(query: str, params=None) -> list[tuple]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchall() if cursor.description else []


def server_settings() -> str:
    names = ["shared_buffers", "work_mem", "jit", "max_parallel_workers_per_gather",
             "random_page_cost", "synchronous_commit"]
    return ", ".join(f"{n}={sql(f'SHOW {n}')[0][0]}" for n in names)


def first_parameter(function) -> str:
    return next(iter(inspect.signature(function).parameters))


def window_start(tenant, now=None) -> dt.date:
    """First month of the VIP window (orders.stats or, in older code, orders.services)."""
    from orders import services, stats

    function = getattr(stats, "vip_window_start", None) or services.vip_window_start
    return function(tenant, now)


def code_version() -> str:
    """Short digests of the measured code (it may change between runs)."""
    names = ["orders/stats.py", "orders/services.py", "orders/models.py"]
    return ", ".join(f"{n} {hashlib.sha1((BASE_DIR / n).read_bytes()).hexdigest()[:10]}"
                     for n in names)


# --- loading --------------------------------------------------------------------------------

def find_loaded_shop(n_customers: int, n_orders: int):
    """The bench shop when a complete load of this size is there (its sequences are set last)."""
    from crm.models import Tenant, TenantSequence
    from customers.models import Customer

    tenant = Tenant.objects.filter(slug=SHOP_SLUG).first()
    if tenant is None:
        return None
    seqs = dict(TenantSequence.objects.filter(tenant=tenant).values_list("name", "last_value"))
    if seqs.get("customer") != n_customers or (seqs.get("order") or 0) < n_orders:
        return None
    if Customer.objects.filter(tenant=tenant).count() != n_customers:
        return None
    return tenant


def schema_snapshot() -> list[tuple]:
    """Every index and constraint definition of the loaded tables (to check they come back)."""
    rows = sql("""
        SELECT 'index', c.relname::text, pg_get_indexdef(i.indexrelid)
        FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        WHERE i.indrelid::regclass::text = ANY(%s)
        UNION ALL
        SELECT 'constraint', conname::text, pg_get_constraintdef(oid)
        FROM pg_constraint WHERE conrelid::regclass::text = ANY(%s)
    """, [list(LOADED_TABLES), list(LOADED_TABLES)])
    return sorted(rows)


def drop_secondary(table: str) -> list[str]:
    """Drop the table's foreign keys, unique constraints and plain indexes (not its primary key
    and checks); return the statements that recreate them, indexes first."""
    constraints = sql("""
        SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint
        WHERE conrelid = %s::regclass AND contype IN ('u', 'f') ORDER BY contype DESC, conname
    """, [table])
    indexes = sql("""
        SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i
        JOIN pg_class c ON c.oid = i.indexrelid
        WHERE i.indrelid = %s::regclass AND NOT EXISTS (
            SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid
                                            AND k.conrelid = i.indrelid)
        ORDER BY c.relname
    """, [table])
    recreate = [definition for _name, definition in indexes]
    recreate += [f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'
                 for name, _kind, definition in constraints]
    for name, _kind, _definition in constraints:
        sql(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _definition in indexes:
        sql(f'DROP INDEX "{name}"')
    return recreate


def column_types(table: str, columns: list[str]) -> list[str]:
    """PostgreSQL type names for binary COPY; checks no NOT NULL column is left out."""
    info = {name: (udt, nullable, default, identity) for name, udt, nullable, default, identity
            in sql("""SELECT column_name, udt_name, is_nullable, column_default, is_identity
                      FROM information_schema.columns WHERE table_name = %s""", [table])}
    missing = [name for name, (_u, nullable, default, identity) in info.items()
               if nullable == "NO" and default is None and identity == "NO"
               and name not in columns]
    assert not missing, f"{table}: NOT NULL columns not filled: {missing}"
    return [info[c][0] for c in columns]


def copy_rows(table: str, columns: list[str], rows) -> int:
    from django.db import connection

    types = column_types(table, columns)
    count = 0
    with connection.cursor() as wrapper:
        raw = wrapper.cursor  # the psycopg 3 cursor
        with raw.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(types)
            for row in rows:
                copy.write_row(row)
                count += 1
    return count


def customer_profile(number: int, rng: random.Random) -> tuple:
    """(full_name, phone, normalized phone, email, street, province code) of one customer."""
    name = f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
    prefix = MOBILE_PREFIXES[number % len(MOBILE_PREFIXES)]
    phone = f"{prefix}{number // len(MOBILE_PREFIXES) + 1_000_000:07d}"[:10]
    email = f"kh{number}@example.vn" if rng.random() < 0.4 else ""
    street = f"{rng.randint(1, 399)} {rng.choice(STREETS)}"
    return name, phone, "+84" + phone[1:], email, street


class Loader:
    """Generates and COPYs one shop: orders first (their customers' lifecycle depends on
    them), then customers; foreign keys are recreated (and so validated) at the end."""

    def __init__(self, tenant, n_customers: int, n_orders: int, seed: int):
        from crm.models import Membership, Role
        from customers.models import PROVINCE_NAMES, CareStatus, Source, Tag

        self.tenant = tenant
        self.n_customers, self.n_orders = n_customers, n_orders
        self.rng = random.Random(seed)
        self.now = dt.datetime.now(VN).replace(microsecond=0)
        self.first_id = (sql("SELECT COALESCE(MAX(id), 0) FROM customers_customer")[0][0]) + 1
        self.provinces = list(PROVINCE_NAMES.items())
        self.channels = list(Source.objects.filter(tenant=tenant, parent__isnull=False)
                             .values_list("pk", flat=True))
        # What the pages show and filter on (care status, source, staff, tags, every phone
        # and email as rows): drawn from their own generator so that the order and stats
        # figures stay those of earlier runs with the same seed.
        self.extra_rng = random.Random(seed + 1)
        self.care_statuses = list(CareStatus.objects.filter(tenant=tenant)
                                  .values_list("pk", flat=True))
        self.tags = list(Tag.objects.filter(tenant=tenant).values_list("pk", flat=True))
        self.staff = list(Membership.objects.filter(tenant=tenant, role=Role.STAFF)
                          .values_list("pk", flat=True))
        self.collaborators = list(Membership.objects.filter(tenant=tenant,
                                                            role=Role.COLLABORATOR)
                                  .values_list("pk", flat=True))
        rng = self.rng
        self.profiles = [customer_profile(n, rng) for n in range(1, n_customers + 1)]
        self.province_of = [rng.choice(self.provinces) for _ in range(n_customers)]
        self.bought = bytearray(n_customers)
        self.window_spend: dict[tuple[int, dt.date], int] = defaultdict(int)

    def owners(self) -> list[int | None]:
        """Customer id of each order in time order: skewed counts, some unlinked orders."""
        rng, linked = self.rng, self.n_orders - self.n_orders // 100
        weights = [0.0 if rng.random() < 0.15 else rng.lognormvariate(0, 1.2)
                   for _ in range(self.n_customers)]
        scale = linked / sum(weights)
        owners: list[int | None] = []
        for offset, weight in enumerate(weights):
            share = weight * scale
            count = int(share) + (rng.random() < share - int(share))
            if count:
                owners.extend([self.first_id + offset] * count)
        del owners[self.n_orders:]
        owners.extend([None] * (self.n_orders - len(owners)))
        rng.shuffle(owners)
        return owners

    def order_rows(self, owners):
        from orders.services import order_code

        rng, now, n = self.rng, self.now, self.n_orders
        start, span = now - 730 * DAY, 730 * DAY
        vip_from = window_start(self.tenant, now)
        recent = now - 3 * DAY
        channels = [*self.channels, None, None, None]
        for index, customer_id in enumerate(owners):
            number = index + 1
            ordered_at = start + span * ((index + rng.random()) / n)
            if ordered_at >= recent:
                r = rng.random()
                status = ("new" if r < 0.25 else "confirmed" if r < 0.5 else "shipping"
                          if r < 0.8 else "delivered" if r < 0.95 else "cancelled")
            else:
                r = rng.random()
                status = ("delivered" if r < 0.88 else "cancelled" if r < 0.96 else "returned"
                          if r < 0.99 else "new" if r < 0.995 else "confirmed")
            total = max(20, int(rng.lognormvariate(5.85, 0.8))) * 1000
            discount = total // 20000 * 1000 if rng.random() < 0.1 else 0
            shipping_fee = 30000 if rng.random() < 0.5 else 0
            delivered_at = delivered_month = None
            paid = returned = 0
            if status in ("delivered", "returned"):
                delivered_at = min(ordered_at + dt.timedelta(hours=rng.uniform(6, 96)),
                                   now - dt.timedelta(seconds=rng.randint(60, 3600)))
                delivered_month = dt.date(delivered_at.year, delivered_at.month, 1)
            if status == "delivered":
                r = rng.random()
                paid = total if r < 0.88 else total * rng.randint(0, 9) // 10000 * 1000 \
                    if r < 0.96 else 0
                if rng.random() < 0.015:
                    returned = total * rng.randint(1, 5) // 10000 * 1000
                    paid = min(paid, total - returned)
                if customer_id is not None:
                    self.bought[customer_id - self.first_id] = 1
                    if delivered_month >= vip_from:
                        self.window_spend[customer_id, delivered_month] += total - returned
            elif status == "returned":
                returned = total
                paid = total if rng.random() < 0.7 else 0
            elif status != "cancelled" and rng.random() < 0.3:
                paid = total  # paid online before delivery
            if customer_id is None:
                name, phone, phone_norm, email, street = self.profiles[index % self.n_customers]
                province = self.provinces[index % len(self.provinces)][1]
            else:
                offset = customer_id - self.first_id
                name, phone, phone_norm, email, street = self.profiles[offset]
                province = self.province_of[offset][1]
            yield (self.tenant.pk, number, order_code(number), rng.choice(channels), "",
                   status, ordered_at, delivered_at, delivered_month, total, discount,
                   shipping_fee, paid, returned, 0, 0, name, phone, phone_norm, email,
                   f"{street}, {province}", customer_id, "", ordered_at,
                   delivered_at or ordered_at)

    def customer_rows(self):
        from customers.normalize import fold
        from customers.services import customer_code

        rng, now, tenant_id = self.rng, self.now, self.tenant.pk
        extra = self.extra_rng
        sources = [*self.channels, None]
        vip = {customer_id for (customer_id, _month), spend in self.window_spend.items()
               if spend >= self.tenant.vip_threshold}
        folded: dict[str, str] = {}
        for offset, (name, phone, phone_norm, email, street) in enumerate(self.profiles):
            customer_id, number = self.first_id + offset, offset + 1
            stage = ("vip" if customer_id in vip else "purchased" if self.bought[offset]
                     else "potential" if rng.random() < 0.2 else "new")
            search = folded.get(name)
            if search is None:
                search = folded[name] = fold(name)
            gender = "female" if " Thị " in name else rng.choice(["male", "female", ""])
            has_birthday = rng.random() < 0.4
            created_at = now - dt.timedelta(seconds=rng.randint(86400, 800 * 86400))
            yield (customer_id, tenant_id, number, customer_code(number), name, search, "", "",
                   "", phone, phone_norm, email, gender,
                   rng.randint(1, 28) if has_birthday else None,
                   rng.randint(1, 12) if has_birthday else None,
                   rng.randint(1960, 2005) if has_birthday and rng.random() < 0.5 else None,
                   "", "VN", self.province_of[offset][0], street, "", "", stage, "guest",
                   created_at, created_at, extra.choice(sources),
                   extra.choice(self.care_statuses) if extra.random() < 0.8 else None,
                   extra.choice(self.staff) if self.staff and extra.random() < 0.7 else None,
                   extra.choice(self.collaborators)
                   if self.collaborators and extra.random() < 0.05 else None)

    def phone_rows(self):
        """Every customer's phone as a CustomerPhone row (the search reads these), plus a
        second phone for 3% of them."""
        extra, tenant_id = self.extra_rng, self.tenant.pk
        for offset, (_name, phone, phone_norm, _email, _street) in enumerate(self.profiles):
            customer_id = self.first_id + offset
            yield (tenant_id, customer_id, phone, phone_norm, phone_norm[1:][::-1], True, "")
            if extra.random() < 0.03:
                second = "+84" + MOBILE_PREFIXES[offset % len(MOBILE_PREFIXES)][1:] \
                    + f"{9_000_000 + offset:07d}"
                yield (tenant_id, customer_id, "0" + second[3:], second, second[1:][::-1],
                       False, "Zalo")

    def email_rows(self):
        tenant_id = self.tenant.pk
        for offset, (_name, _phone, _norm, email, _street) in enumerate(self.profiles):
            if email:
                yield (tenant_id, self.first_id + offset, email, True)

    def tag_rows(self):
        """0 to 3 tags per customer (60% have at least one)."""
        extra, tenant_id = self.extra_rng, self.tenant.pk
        for offset in range(self.n_customers):
            r = extra.random()
            count = 0 if r < 0.4 else 1 if r < 0.75 else 2 if r < 0.93 else 3
            for tag in extra.sample(self.tags, count):
                yield (tenant_id, self.first_id + offset, tag)

    def run(self) -> dict:
        from django.db import transaction

        timings = {}
        t0 = time.perf_counter()
        owners = self.owners()
        timings["plan"] = time.perf_counter() - t0
        before = schema_snapshot()
        with transaction.atomic():
            t = time.perf_counter()
            recreate = [stmt for table in LOADED_TABLES for stmt in drop_secondary(table)]
            orders = copy_rows("orders_order", [
                "tenant_id", "number", "code", "channel_id", "external_id", "status",
                "ordered_at", "delivered_at", "delivered_month", "total_amount", "discount",
                "shipping_fee", "paid_amount", "returned_amount", "points_redeemed",
                "points_discount", "contact_name", "contact_phone", "contact_phone_normalized",
                "contact_email", "contact_address", "customer_id", "note", "created_at",
                "updated_at"], self.order_rows(owners))
            timings[f"COPY {orders:,} orders"] = time.perf_counter() - t
            del owners
            t = time.perf_counter()
            customers = copy_rows("customers_customer", [
                "id", "tenant_id", "number", "code", "full_name", "search_name", "avatar",
                "company", "tax_code", "phone", "phone_normalized", "email", "gender",
                "birth_day", "birth_month", "birth_year", "national_id", "country",
                "province_code", "street", "legacy_address", "note", "lifecycle_stage",
                "membership_state", "created_at", "updated_at", "source_id", "care_status_id",
                "assigned_staff_id", "collaborator_id"], self.customer_rows())
            timings[f"COPY {customers:,} customers"] = time.perf_counter() - t
            t = time.perf_counter()
            phones = copy_rows("customers_customerphone", [
                "tenant_id", "customer_id", "raw", "normalized", "reversed_digits",
                "is_primary", "label"], self.phone_rows())
            emails = copy_rows("customers_customeremail", [
                "tenant_id", "customer_id", "email", "is_primary"], self.email_rows())
            tags = copy_rows("customers_customertag", ["tenant_id", "customer_id", "tag_id"],
                             self.tag_rows())
            timings[f"COPY {phones:,} phones, {emails:,} emails, {tags:,} tags"] = \
                time.perf_counter() - t
            t = time.perf_counter()
            sql("SET LOCAL maintenance_work_mem = '1GB'")
            for statement in recreate:
                sql(statement)
            for table in LOADED_TABLES:
                sql(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT MAX(id) FROM {table}))")
            timings["indexes + foreign keys"] = time.perf_counter() - t
        after = schema_snapshot()
        assert before == after, "the schema of the loaded tables changed"
        t = time.perf_counter()
        for table in LOADED_TABLES:
            sql(f"VACUUM ANALYZE {table}")
        timings["VACUUM ANALYZE"] = time.perf_counter() - t
        from crm.models import TenantSequence

        for name, value in (("customer", customers), ("order", orders)):
            TenantSequence.objects.update_or_create(tenant=self.tenant, name=name,
                                                    defaults={"last_value": value})
        timings["total"] = time.perf_counter() - t0
        return timings


def create_staff(tenant) -> None:
    """An owner, a manager, STAFF_COUNT staff and a few collaborators, all signing in with
    STAFF_PASSWORD: bench.owner, bench.manager, bench.staff01..., bench.ctv01..."""
    from crm.models import Role
    from crm.services import staff_user_create

    people = [("bench.owner", Role.OWNER), ("bench.manager", Role.MANAGER)]
    people += [(f"bench.staff{i:02d}", Role.STAFF) for i in range(1, STAFF_COUNT + 1)]
    people += [(f"bench.ctv{i:02d}", Role.COLLABORATOR)
               for i in range(1, COLLABORATOR_COUNT + 1)]
    for number, (username, role) in enumerate(people):
        staff_user_create(tenant=tenant, username=username, password=STAFF_PASSWORD,
                          role=role, first_name=GIVEN[number % len(GIVEN)],
                          last_name=FAMILY[number % len(FAMILY)])


def load_shop(n_customers: int, n_orders: int, seed: int):
    from crm.services import tenant_create

    tenant = tenant_create(name="Bench orders shop", slug=SHOP_SLUG)
    create_staff(tenant)
    timings = Loader(tenant, n_customers, n_orders, seed).run()
    print("load:", ", ".join(f"{k} {v:.1f} s" for k, v in timings.items()))
    return tenant, timings["total"]


def ensure_shop(args):
    """The bench shop with its stats (the pages and groups benches share it): built
    (customers, orders, stats) when missing, from ``args.customers``, ``args.orders``,
    ``args.seed``."""
    from crm.models import Tenant
    from orders.models import CustomerStats

    tenant = Tenant.objects.filter(slug=SHOP_SLUG).first()
    if tenant is None:
        print(f"building the bench shop: {args.customers:,} customers, {args.orders:,} orders")
        tenant, seconds = load_shop(args.customers, args.orders, args.seed)
        print(f"load time: {fmt_seconds(seconds)}")
    if not CustomerStats.objects.filter(tenant=tenant).exists():
        from orders.services import aggregates_recompute

        start = time.perf_counter()
        changed = aggregates_recompute(tenant_id=tenant.pk)
        print(f"stats recompute: {changed:,} rows in {time.perf_counter() - start:.1f} s")
    return tenant


def open_shop(args):
    """What every bench that reads this shop starts with: the database (created when
    missing), Django on it, the migrations, then the shop (``ensure_shop``)."""
    create_database(args.database_url)
    django_setup(args.database_url)
    migrate()
    print(f"database {db_name(args.database_url)}: {server_settings()}")
    return ensure_shop(args)


# --- measuring ------------------------------------------------------------------------------

class StatementTimer:
    """execute_wrapper that counts queries and sums their time, by kind of statement."""

    KINDS = {"INSERT INTO orders_customerstats": "stats upsert",
             "INSERT INTO orders_monthlyspend": "months upsert",
             "DELETE FROM orders_monthlyspend": "months delete"}

    def __init__(self):
        self.count = 0
        self.seconds = 0.0
        self.by_kind: dict[str, float] = defaultdict(float)

    def __call__(self, execute, query, params, many, context):
        t = time.perf_counter()
        try:
            return execute(query, params, many, context)
        finally:
            elapsed = time.perf_counter() - t
            self.count += 1
            self.seconds += elapsed
            head = query.lstrip()[:40]
            kind = next((v for k, v in self.KINDS.items() if head.startswith(k)), "other")
            self.by_kind[kind] += elapsed


def empty_stats() -> None:
    sql("TRUNCATE orders_customerstats, orders_monthlyspend")
    sql("CHECKPOINT")


def recompute(tenant_id: int, batch: int) -> tuple[float, int, dict]:
    from django.db import connection

    from orders.services import aggregates_recompute

    timer = StatementTimer()
    t = time.perf_counter()
    with connection.execute_wrapper(timer):
        changed = aggregates_recompute(tenant_id=tenant_id, batch=batch)
    return time.perf_counter() - t, changed, dict(timer.by_kind)


def describe_split(split: dict) -> str:
    return ", ".join(f"{k} {v:.1f}" for k, v in sorted(split.items()) if v >= 0.05)


def measure_recompute(tenant, batches: list[int]) -> list[dict]:
    from orders.stats import three_months_ago

    rows = []
    for batch in batches:
        empty_stats()
        start_cutoff = three_months_ago()
        for run in ("1st (empty stats)", "2nd (unchanged)"):
            seconds, changed, split = recompute(tenant.pk, batch)
            note = ""
            if run.startswith("2nd"):
                # Orders whose delivery slid out of "the last 3 months" while the two runs
                # went change spend_3_months: those customers, and only those, may change.
                crossed = sql("""SELECT COUNT(DISTINCT customer_id) FROM orders_order
                                 WHERE tenant_id = %s AND status = 'delivered'
                                   AND delivered_at >= %s AND delivered_at < %s""",
                              [tenant.pk, start_cutoff, three_months_ago()])[0][0]
                assert changed <= crossed, f"second run changed {changed} rows ({crossed})"
                note = f" (customers whose orders left the 3-month window meanwhile: {crossed})"
            rows.append({"batch": batch, "run": run, "seconds": seconds, "changed": changed,
                         "split": split})
            print(f"recompute batch={batch:,} {run}: {seconds:.2f} s, {changed:,} changed"
                  f"{note} [{describe_split(split)}]")
    months = sql("SELECT COUNT(*) FROM orders_monthlyspend")[0][0]
    print(f"  stats rows: {sql('SELECT COUNT(*) FROM orders_customerstats')[0][0]:,}, "
          f"monthly spend rows: {months:,}")
    return rows


def naive_recompute(tenant, sample: int, seed: int) -> dict:
    """The per-customer ORM loop on a random sample, checked against the stored stats."""
    from django.db import transaction
    from django.db.models import Count, F, Max, Min, Q, Sum
    from django.db.models.functions import Greatest

    from customers.models import Customer
    from orders.models import CustomerStats, MonthlySpend, Order, OrderStatus
    from orders.stats import three_months_ago, vietnam_now

    lo, hi = sql("SELECT MIN(id), MAX(id) FROM customers_customer WHERE tenant_id = %s",
                 [tenant.pk])[0]
    ids = random.Random(seed).sample(range(lo, hi + 1), sample)
    stored = {s.customer_id: s for s in CustomerStats.objects.filter(customer_id__in=ids)}
    stored_months = defaultdict(dict)
    for row in MonthlySpend.objects.filter(customer_id__in=ids):
        stored_months[row.customer_id][row.month] = row.spend
    fields = ["delivered_orders", "total_spend", "spend_3_months", "average_order",
              "first_order_at", "last_order_at", "debt", "returned_amount"]
    spend = F("total_amount") - F("returned_amount")
    mismatches = 0
    now = vietnam_now()
    cutoff = three_months_ago(now)
    # Newer code keeps only the months of the VIP window in MonthlySpend.
    from orders import stats as stats_module

    window = (window_start(tenant, now) if hasattr(stats_module, "vip_window_start")
              else dt.date.min)
    t = time.perf_counter()
    for customer in Customer.objects.filter(pk__in=ids).iterator():
        with transaction.atomic():
            delivered = Order.objects.filter(customer=customer, status=OrderStatus.DELIVERED)
            agg = delivered.aggregate(
                count=Count("id"), spend=Sum(spend), first=Min("delivered_at"),
                last=Max("delivered_at"), spend3=Sum(spend, filter=Q(delivered_at__gte=cutoff)),
                debt=Sum(Greatest(spend - F("paid_amount"), 0)))
            returned = Order.objects.filter(customer=customer).aggregate(
                r=Sum("returned_amount"))["r"] or 0
            months = {row["delivered_month"]: row["s"] for row in delivered
                      .filter(delivered_month__gte=window)
                      .values("delivered_month").annotate(s=Sum(spend)).order_by() if row["s"]}
            stats = CustomerStats(
                customer=customer, tenant_id=customer.tenant_id, delivered_orders=agg["count"],
                total_spend=agg["spend"] or 0, spend_3_months=agg["spend3"] or 0,
                average_order=(agg["spend"] // agg["count"]) if agg["count"] else 0,
                first_order_at=agg["first"], last_order_at=agg["last"], debt=agg["debt"] or 0,
                returned_amount=returned)
            old = stored.get(customer.pk)
            if old is None or any(getattr(old, f) != getattr(stats, f) for f in fields) \
                    or stored_months[customer.pk] != months:
                mismatches += 1
            stats.save()
            MonthlySpend.objects.bulk_create(
                [MonthlySpend(tenant_id=customer.tenant_id, customer=customer, month=month,
                              spend=value) for month, value in months.items()],
                update_conflicts=True, unique_fields=["customer", "month"],
                update_fields=["spend"])
            MonthlySpend.objects.filter(customer=customer).exclude(month__in=months).delete()
    seconds = time.perf_counter() - t
    total = sql("SELECT COUNT(*) FROM customers_customer WHERE tenant_id = %s", [tenant.pk])[0][0]
    print(f"naive: {sample:,} customers in {seconds:.2f} s -> {seconds / sample * total:,.0f} s "
          f"for {total:,}; {mismatches} differ from the set-based stats")
    return {"sample": sample, "seconds": seconds, "extrapolated": seconds / sample * total,
            "mismatches": mismatches, "customers": total}


def pick_orders(tenant, where: str, count: int) -> list[int]:
    return [row[0] for row in sql(f"""
        SELECT id FROM orders_order
        WHERE tenant_id = %s AND customer_id IS NOT NULL AND {where}
        ORDER BY random() LIMIT %s""", [tenant.pk, count])]


def percentiles(samples: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return cuts[49], cuts[94]


def time_calls(label: str, calls, warmup: int = 20, undo=None) -> dict:
    """Run each zero-argument call in autocommit (the service opens its own transaction);
    ``undo[i]``, when given, runs untimed right after ``calls[i]``."""
    from django.db import connection

    timer = StatementTimer()
    samples = []
    for index, call in enumerate(calls):
        if index < warmup:
            call()
        else:
            with connection.execute_wrapper(timer):
                t = time.perf_counter()
                call()
                samples.append(time.perf_counter() - t)
        if undo:
            undo[index]()
    p50, p95 = percentiles(samples)
    queries = timer.count / len(samples)
    in_sql = timer.seconds / len(samples)
    result = {"label": label, "p50": p50 * 1000, "p95": p95 * 1000, "n": len(samples),
              "queries": queries, "sql_ms": in_sql * 1000,
              "mean_ms": statistics.fmean(samples) * 1000}
    print(f"{label}: p50 {result['p50']:.2f} ms, p95 {result['p95']:.2f} ms over {len(samples)} "
          f"calls; {queries:.1f} queries/call, {result['sql_ms']:.2f} ms/call in SQL round trips "
          f"(mean call {result['mean_ms']:.2f} ms)")
    return result


def stats_step(tenant, order, undo: bool = False) -> None:
    """The aggregates step of a 1,000 đồng payment on ``order``, in its own transaction."""
    import dataclasses

    from django.db import transaction

    from orders import stats as aggregates

    before = aggregates.contribution(order)
    after = dataclasses.replace(before, debt=before.debt - 1000)
    if undo:
        before, after = after, before
    with transaction.atomic():
        aggregates.apply(order.customer, before, after, tenant)


def measure_events(tenant, iterations: int, seed: int, warmup: int = 20) -> list[dict]:
    from customers.models import Customer
    from orders.models import Order
    from orders.services import order_create, order_record_payment, order_set_status

    rng = random.Random(seed)
    count = iterations + warmup
    results = []
    for commit_mode in ("on", "off"):
        sql(f"SET synchronous_commit = {commit_mode}")
        suffix = f" [sync commit {commit_mode}]"

        payment_ids = pick_orders(tenant, "status = 'delivered' AND "
                                  "total_amount - returned_amount - paid_amount >= 1000", count)
        orders = Order.objects.in_bulk(payment_ids)
        results.append(time_calls("order_record_payment" + suffix, [
            (lambda o=orders[pk]: order_record_payment(tenant=tenant, actor=None, order=o,
                                                       amount=1000)) for pk in payment_ids],
            warmup))

        for before, after in (("confirmed", "shipping"), ("shipping", "delivered")):
            ids = pick_orders(tenant, f"status = '{before}'", count)
            orders = Order.objects.in_bulk(ids)
            results.append(time_calls(f"order_set_status {before}->{after}" + suffix, [
                (lambda o=orders[pk], s=after: order_set_status(tenant=tenant, actor=None,
                                                                order=o, status=s))
                for pk in ids], warmup))

        debt_orders = Order.objects.select_related("customer").in_bulk(pick_orders(
            tenant, "status = 'delivered' AND "
            "total_amount - returned_amount - paid_amount >= 1000", count))
        results.append(time_calls(
            "aggregates step (orders.stats.apply)" + suffix,
            [(lambda o=o: stats_step(tenant, o)) for o in debt_orders.values()], warmup,
            undo=[(lambda o=o: stats_step(tenant, o, undo=True))
                  for o in debt_orders.values()]))

        lo, hi = sql("SELECT MIN(id), MAX(id) FROM customers_customer WHERE tenant_id = %s",
                     [tenant.pk])[0]
        customers = Customer.objects.select_related("tenant").in_bulk(
            rng.sample(range(lo, hi + 1), count))
        lines = [{"product_name": "Cà phê rang xay 500g", "quantity": 2, "unit_price": 145000},
                 {"product_name": "Trà ô long 200g", "quantity": 1, "unit_price": 90000}]
        results.append(time_calls("order_create (new, 2 lines)" + suffix, [
            (lambda c=c, lines=lines: order_create(tenant=tenant, actor=None,
                                                   data={"status": "new"}, lines=lines,
                                                   customer=c)) for c in customers.values()],
            warmup))
    sql("SET synchronous_commit = DEFAULT")
    return results


@contextmanager
def capture_plans(labels: dict[str, str]):
    """execute_wrapper that runs matching statements under EXPLAIN (ANALYZE, BUFFERS)."""
    plans: list[tuple[str, list[str]]] = []

    def wrapper(execute, query, params, many, context):
        head = query.lstrip()
        label = next((v for k, v in labels.items() if head.startswith(k)), None)
        if label is None:
            return execute(query, params, many, context)
        result = execute("EXPLAIN (ANALYZE, BUFFERS) " + query, params, many, context)
        plans.append((label, [row[0] for row in context["cursor"].fetchall()]))
        return result

    from django.db import connection

    with connection.execute_wrapper(wrapper):
        yield plans


def explain_batch(tenant, size: int = 50_000) -> list[tuple[str, list[str]]]:
    """EXPLAIN ANALYZE of one recompute_batch (steady state), rolled back."""
    from django.db import transaction

    from orders.stats import recompute_batch

    lo, hi = sql("SELECT MIN(id), MAX(id) FROM customers_customer WHERE tenant_id = %s",
                 [tenant.pk])[0]
    start = lo + min(10 * size, max(hi - lo + 1 - size, 0))
    shop = tenant if first_parameter(recompute_batch) == "tenant" else tenant.pk
    with transaction.atomic(), capture_plans(StatementTimer.KINDS) as plans:
        recompute_batch(shop, start, start + size - 1)
        transaction.set_rollback(True)
    print(f"\nEXPLAIN (ANALYZE, BUFFERS) of recompute_batch({start:,}..{start + size - 1:,}), "
          "steady state, rolled back:")
    for label, lines in plans:
        print(f"--- {label}")
        print("\n".join(lines))
    return plans


# --- report ---------------------------------------------------------------------------------

def fmt_seconds(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    if seconds >= 120:
        return f"{seconds / 60:.1f} min"
    return f"{seconds:.2f} s"


def print_table(recomputes: list[dict], naive: dict | None, events: list[dict]) -> None:
    rows = [("case", "ours", "naive", "goal", "met?")]
    naive_text = (f"{fmt_seconds(naive['extrapolated'])} (extrapolated from "
                  f"{naive['sample']:,} in {naive['seconds']:.1f} s)" if naive else "skipped")
    for r in recomputes:
        rows.append((f"full recompute, batch {r['batch']:,}, {r['run']}",
                     f"{r['seconds']:.2f} s ({r['changed']:,} changed)", naive_text,
                     f"<= {RECOMPUTE_GOAL_S:.0f} s",
                     "yes" if r["seconds"] <= RECOMPUTE_GOAL_S else "NO"))
    for e in events:
        has_goal = not e["label"].startswith("order_create")
        rows.append((e["label"] + " p50/p95",
                     f"{e['p50']:.2f} / {e['p95']:.2f} ms ({e['queries']:.0f} queries)", "-",
                     f"p95 <= {EVENT_GOAL_MS:.0f} ms" if has_goal else "(none)",
                     ("yes" if e["p95"] <= EVENT_GOAL_MS else "NO") if has_goal else "-"))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    line = "+".join("-" * (w + 2) for w in widths)
    print()
    for index, row in enumerate(rows):
        print(" | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
        if index == 0:
            print(line)


# --- main -----------------------------------------------------------------------------------

def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--orders", type=int, default=10_000_000)
    parser.add_argument("--reuse", action="store_true",
                        help="keep the loaded shop when one of this size is there")
    parser.add_argument("--load-only", action="store_true", help="load, then stop")
    parser.add_argument("--batch", type=int, default=50_000, help="default recompute batch")
    parser.add_argument("--big-batch", type=int, default=1_000_000)
    parser.add_argument("--naive-sample", type=int, default=2_000)
    parser.add_argument("--iterations", type=int, default=500)
    parser.add_argument("--skip-naive", action="store_true")
    parser.add_argument("--seed", type=int, default=2025)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    create_database(args.database_url)
    django_setup(args.database_url)
    migrate()
    from django.db import connections

    from crm.models import Tenant

    print(f"database {db_name(args.database_url)}: {server_settings()}")
    print(f"code: {code_version()}")
    tenant = find_loaded_shop(args.customers, args.orders) if args.reuse else None
    load_seconds = None
    if tenant is not None:
        print(f"reusing shop {tenant.pk} ({args.customers:,} customers, "
              f">= {args.orders:,} orders)")
    else:
        if Tenant.objects.exists():
            connections.close_all()
            create_database(args.database_url, drop_first=True)
            migrate()
        tenant, load_seconds = load_shop(args.customers, args.orders, args.seed)
        print(f"load time: {fmt_seconds(load_seconds)}")
    if args.load_only:
        return
    recomputes = measure_recompute(tenant, [args.batch, args.big_batch])
    explain_batch(tenant, args.batch)
    naive = None if args.skip_naive else naive_recompute(tenant, args.naive_sample, args.seed)
    events = measure_events(tenant, args.iterations, args.seed)
    print_table(recomputes, naive, events)
    if load_seconds is not None:
        print(f"\nload time: {fmt_seconds(load_seconds)}")


if __name__ == "__main__":
    main()
