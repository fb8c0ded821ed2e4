"""Excel import of customers (issue 13) at 100,000 rows: the real code path next to the usual
Django way.

What it measures, side by side:

a. A realistic KiotViet-like workbook (``--rows``, default 100,000; 15 columns with
   Vietnamese headers below a title row; phones in every format, two numbers in a cell, old
   11-digit numbers, numbers that lost their 0 stored as numbers; birthdays as text, as real
   Excel dates and without year; gender words in any case; old and new province names;
   tags separated by "," or "|"; ~1% bad rows and ~1% in-file duplicates by phone), made
   once with Faker (vi_VN) and openpyxl (write-only) and kept under /tmp.
b. Our import, as the screens run it, into a fresh shop in "write the valid rows" mode as
   the system actor: upload (size and zip checks, the full calamine read, the column date
   orders, the automatic mapping, the file kept), check (the preview: every row parsed,
   deduplicated, matched, nothing written), run (read again, everything again, then the
   write: ``COPY`` of customers, phones, emails, the tag links, which import each came from;
   then the commit, and the groups recompute the import queues on commit — Celery runs
   eagerly here, so it runs in this process and is timed apart). End to end for an
   operator: ``services.import_path`` (what ``manage.py import_customers`` runs: upload,
   then the run on the rows just read) into another fresh shop with the same groups.
   Then the same file again through ``services.import_path`` (the command's path): nothing
   may be created or changed. Each phase prints its wall and CPU seconds (the difference
   is mostly waiting for PostgreSQL), rows/s, peak memory (the process's resident set
   high-water mark, reset before each phase through /proc/self/clear_refs), its SQL
   statements and their time (an execute wrapper: COPY goes around it) and where its time
   went (the engine's steps, timed by wrapping them). Goal: <= 15 s end to end for
   100,000 rows.
c. The usual Django way: django-import-export's default ``ModelResource`` (row by row:
   an instance, ``save()``, one INSERT each) over the simple columns of the first
   ``--naive-rows`` rows (default 10,000), extrapolated to the file; and the reading part
   alone, each reader in a process of its own: python-calamine (our reader, with its
   checks) vs openpyxl (read-only, values) vs tablib (what import-export loads a workbook
   with).

A customer import runs no aggregates recompute (it imports no orders).

``--profile`` runs the write phase under cProfile and prints the top functions.

Database: PostgreSQL ``crm_bench_orders``, aggregates_bench.py's shop of 1,000,000
customers (built when missing: several minutes), so that the customer tables and their
indexes have a realistic size; the import goes into its own shops (slugs ``bench-import``
and ``bench-import-naive``), dropped at the start (a crashed run's leftovers) and at the
end, then the customer tables are vacuumed and analyzed (autovacuum is off there).
``--sqlite --rows 2000`` runs everything on a SQLite file under /tmp (migrated on first
use) as a quick smoke test. Uploaded files go to a MEDIA_ROOT under /tmp.

Run::

    .venv/bin/python bench/import_bench.py                 # 100,000 rows on PostgreSQL
    .venv/bin/python bench/import_bench.py --profile --skip-naive --skip-reading
    .venv/bin/python bench/import_bench.py --rows 2000 --sqlite
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import hashlib
import os
import pstats
import random
import re
import resource
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import aggregates_bench as shop
from _common import MOBILE

SHOP_SLUG = "bench-import"
FLOOR_SLUG = "bench-import-floor"
OPERATOR_SLUG = "bench-import-command"
NEWLINE = b"\n"
NAIVE_SLUG = "bench-import-naive"
GOAL_S = 15.0
MEDIA_ROOT = Path("/tmp/import_bench_media")
SQLITE_PATH = Path("/tmp/import_bench.sqlite3")
# Bump when the generated workbook changes: cached files of another version are remade.
FILE_VERSION = 1

HEADERS = ["Mã khách hàng", "Tên khách hàng", "Điện thoại", "Email", "Giới tính", "Ngày sinh",
           "Công ty", "Mã số thuế", "Địa chỉ", "Tỉnh/Thành phố", "Phường/Xã",
           "Nhóm khách hàng", "Ghi chú", "Ngày tạo", "Tổng bán"]
# New (2025) names as shops write them, weighted towards the big cities.
NEW_PROVINCES = (["Hà Nội"] * 8 + ["TP. Hồ Chí Minh", "Hồ Chí Minh", "TP.HCM", "Thành phố Hồ Chí Minh"]
                 * 2 + ["Hải Phòng", "Đà Nẵng", "Cần Thơ", "Huế", "Quảng Ninh", "Thanh Hóa",
                        "Nghệ An", "Tỉnh Đồng Nai", "Khánh Hòa", "Lâm Đồng", "Đắk Lắk", "An Giang",
                        "Bắc Ninh", "Hưng Yên", "Ninh Bình", "Thái Nguyên", "Phú Thọ", "Gia Lai",
                        "Tây Ninh", "Vĩnh Long", "Đồng Tháp", "Cà Mau", "Quảng Ngãi", "Lào Cai"])
# Names of the 63 provinces before July 2025 that are gone now (a file from an old system).
OLD_PROVINCES = ["Bình Dương", "Tỉnh Bình Dương", "Bà Rịa - Vũng Tàu", "Long An", "Bến Tre",
                 "Hải Dương", "Nam Định", "Thái Bình", "Hà Nam", "Vĩnh Phúc", "Bắc Giang",
                 "Quảng Nam", "Bình Định", "Phú Yên", "Kiên Giang", "Sóc Trăng", "Bạc Liêu",
                 "Hậu Giang", "Tiền Giang", "Trà Vinh", "Bình Phước", "Bình Thuận",
                 "Ninh Thuận", "Đắk Nông", "Kon Tum", "Quảng Bình", "Thừa Thiên Huế",
                 "Hà Giang", "Yên Bái", "Hòa Bình", "Bắc Kạn"]
TAGS = ["Sỉ, Lẻ", "VIP|Khách quen", "Lẻ", "Sỉ", "Khách quen", "VIP", "Khách lẻ; Online",
        "Đại lý, Sỉ", "Online"]
NOTES = ["Khách quen, hay mua buổi tối", "Giao giờ hành chính", "Gọi trước khi giao",
         "Khách từ Facebook", "Đã tặng voucher 50k", "Không nhận hàng lần trước",
         "<b>Ưu tiên</b>", "=SUM(A1:A3)"]
WARDS = ["Phường 1", "Phường 3", "Phường Bến Nghé", "Phường Đa Kao", "Xã Tân Phú",
         "Phường Hàng Bạc", "Phường Láng Hạ", "Xã Phước Kiển", "Thị trấn Cần Giờ"]
EMAIL_DOMAINS = ["gmail.com"] * 6 + ["yahoo.com", "hotmail.com", "outlook.com", "fpt.vn",
                                      "vnn.vn"]
# New two-digit mobile prefix -> the 11-digit prefix it had before 2018.
OLD_PREFIX_OF = {"32": "162", "33": "163", "35": "165", "38": "168", "70": "120",
                 "77": "122", "79": "121", "81": "127", "83": "123", "85": "125", "56": "186"}
TO_ASCII = str.maketrans("àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữự"
                         "ỳýỷỹỵđ", "a" * 17 + "e" * 11 + "i" * 5 + "o" * 17 + "u" * 11 + "y" * 5
                         + "d")


# --- the workbook ---------------------------------------------------------------------------

def workbook_path(rows: int) -> Path:
    return Path(f"/tmp/import_bench_{rows}_v{FILE_VERSION}.xlsx")


def _phone_text(n9: str, style: float) -> str | int:
    """A 9-digit national number (no leading 0) as shops have typed it."""
    a, b, c = n9[:2], n9[2:5], n9[5:]
    if style < 0.40:
        return "0" + n9
    if style < 0.55:
        return f"0{a}{b[0]}.{b[1:]}{c[0]}.{c[1:]}"  # 0912.345.678
    if style < 0.65:
        return f"0{a}{b[0]} {b[1:]}{c[0]} {c[1:]}"  # 0912 345 678
    if style < 0.75:
        return f"+84 {a}{b[0]} {b[1:]}{c[0]} {c[1:]}"  # +84 912 345 678
    if style < 0.85:
        return int(n9)  # the leading 0 lost: a number cell
    return "84" + n9


def generate(path: Path, rows: int, seed: int) -> dict:
    """Write the workbook; returns what it holds (for the printout)."""
    import openpyxl
    from faker import Faker
    from openpyxl.cell import WriteOnlyCell

    rng = random.Random(seed)
    fake = Faker("vi_VN")
    fake.seed_instance(seed)
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("Khách hàng")
    sheet.append(["DANH SÁCH KHÁCH HÀNG"])
    sheet.append(["Ngày xuất: 25/11/2026 10:15"])
    sheet.append([])
    sheet.append(HEADERS)

    def date_cell(value: dt.date | dt.datetime, fmt: str):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = fmt
        return cell

    bad = set(rng.sample(range(rows), rows // 100))
    duplicate = set(rng.sample([i for i in range(rows // 50, rows) if i not in bad], rows // 100))
    used: set[str] = set()
    phones: list[str | None] = []
    names: list[str] = []
    counts = Counter()
    mappable = list(OLD_PREFIX_OF)

    def new_number(prefix=None) -> str:
        while True:
            n9 = (prefix or rng.choice(MOBILE)) + f"{rng.randrange(10_000_000):07d}"
            if n9 not in used:
                used.add(n9)
                return n9

    today = dt.date(2026, 11, 25)
    for i in range(rows):
        female = rng.random() < 0.5
        last = fake.last_name()
        if female:
            middle = "Thị" if rng.random() < 0.6 else fake.middle_name()
            given = fake.first_name_female()
        else:
            middle = "Văn" if rng.random() < 0.4 else fake.middle_name()
            given = fake.first_name_male()
        name = f"{last} {middle} {given}"
        if rng.random() < 0.03:  # typed carelessly
            name = rng.choice([name.lower(), f" {last}  {middle} {given} ", name.upper()])
        gender = ""
        if rng.random() < 0.9:
            gender = rng.choice(["Nữ"] * 6 + ["nữ", "NỮ"] if female else ["Nam"] * 6 + ["nam", "NAM"])

        style = rng.random()
        if i in duplicate:
            j = rng.randrange(i)
            while phones[j] is None or j in bad:
                j = rng.randrange(i)
            phone = _phone_text(phones[j], rng.random())
            name = names[j] if rng.random() < 0.7 else names[j].upper()
            n9 = phones[j]
            counts["duplicates"] += 1
        elif style < 0.02:
            phone, n9 = "", None
            counts["no phone"] += 1
        elif style < 0.07:
            n9 = new_number()
            phone = f"{'0' + n9} {rng.choice(['/', '-', ';'])} {'0' + new_number()}"
            counts["two numbers"] += 1
        elif style < 0.10:
            n9 = new_number(rng.choice(mappable))
            phone = "0" + OLD_PREFIX_OF[n9[:2]] + n9[2:]
            counts["old 11-digit"] += 1
        else:
            n9 = new_number()
            phone = _phone_text(n9, rng.random())
            counts["lost 0 (number cell)" if isinstance(phone, int) else "one number"] += 1
        phones.append(n9)
        names.append(name)

        email = ""
        if rng.random() < 0.5:
            local = f"{given}.{last}{i}".lower().translate(TO_ASCII).replace(" ", "")
            email = f"{local}@{rng.choice(EMAIL_DOMAINS)}"
            if rng.random() < 0.05:
                email = email.capitalize()

        birth = dt.date(rng.randint(1960, 2006), rng.randint(1, 12), rng.randint(1, 28))
        kind = rng.random()
        if kind < 0.30:
            birthday = birth.strftime("%d/%m/%Y")
        elif kind < 0.60:
            birthday = date_cell(dt.datetime.combine(birth, dt.time()), "dd/mm/yyyy")
        elif kind < 0.65:
            birthday = birth.strftime("%d/%m")  # no year
        elif kind < 0.70:
            birthday = f"{birth.day}/{birth.month}/{birth.year}"
        else:
            birthday = ""

        company = tax = ""
        if rng.random() < 0.10:
            company = fake.company()
            if rng.random() < 0.7:
                tax = f"0{rng.randrange(100_000_000, 999_999_999)}"
        street = fake.street_address() if rng.random() < 0.7 else ""
        place = rng.random()
        province = (rng.choice(NEW_PROVINCES) if place < 0.6 else
                    rng.choice(OLD_PROVINCES) if place < 0.9 else "")
        ward = rng.choice(WARDS) if province and rng.random() < 0.5 else ""
        tags = rng.choice(TAGS) if rng.random() < 0.4 else ""
        note = rng.choice(NOTES) if rng.random() < 0.1 else ""
        created = dt.datetime.combine(today - dt.timedelta(days=rng.randrange(5 * 365)),
                                      dt.time(rng.randrange(8, 21), rng.randrange(60)))
        kind = rng.random()
        created_cell = (date_cell(created, "dd/mm/yyyy hh:mm") if kind < 0.8 else
                        created.strftime("%d/%m/%Y %H:%M") if kind < 0.95 else "")
        total = rng.choice([0, rng.randrange(100_000, 50_000_000, 1000)])

        if i in bad:
            what = rng.random()
            if what < 0.4:
                phone = rng.choice(["09123", "0912-345-67", "12345678901234"])
                counts["bad: phone"] += 1
            elif what < 0.8:
                birthday = rng.choice(["31/02/1990", "30/02/1985", "32/13/1990"])
                counts["bad: birthday"] += 1
            else:
                email = rng.choice(["ten@@gmail.com", "khachhang@gmail", "a b@yahoo.com"])
                counts["bad: email"] += 1
        sheet.append([f"KH{i + 1:06d}", name, phone, email, gender, birthday, company, tax,
                      street, province, ward, tags, note, created_cell, total])
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial.xlsx")
    workbook.save(partial)
    partial.rename(path)
    return dict(counts)


def ensure_workbook(args) -> Path:
    """The cached workbook, made in a child process when missing (so that generating it
    does not count in this process's peak memory)."""
    path = workbook_path(args.rows)
    if path.exists() and not args.regenerate:
        print(f"workbook: {path} ({path.stat().st_size / 2**20:.1f} MB, cached; "
              f"--regenerate to make it again)")
        return path
    start = time.perf_counter()
    subprocess.run([sys.executable, __file__, "--generate-only", "--rows", str(args.rows),
                    "--seed", str(args.seed)], check=True)
    print(f"workbook: {path} ({path.stat().st_size / 2**20:.1f} MB) generated in "
          f"{time.perf_counter() - start:.1f} s")
    return path


# --- measuring ------------------------------------------------------------------------------

class Peak:
    """Resident memory high-water mark of this process, reset before each phase (Linux:
    writing 5 to /proc/self/clear_refs); ru_maxrss (never reset) elsewhere."""

    def __init__(self):
        self.resettable = Path("/proc/self/clear_refs").exists()

    def reset(self) -> None:
        if self.resettable:
            try:
                Path("/proc/self/clear_refs").write_text("5")
            except OSError:
                self.resettable = False

    @staticmethod
    def _status(field: str) -> float:
        match = re.search(rf"{field}:\s+(\d+) kB", Path("/proc/self/status").read_text())
        return int(match.group(1)) / 1024

    def peak(self) -> float:
        if self.resettable:
            return self._status("VmHWM")
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Stopwatch:
    """Times calls of chosen functions (module attributes or methods) while installed."""

    def __init__(self):
        self.totals: dict[str, float] = defaultdict(float)
        self.calls: Counter = Counter()
        self.first: dict[str, float] = {}
        self.last_end: dict[str, float] = {}
        self.marks: dict[str, float] = {}
        self._undo = []

    def wrap(self, owner, attr: str, label: str) -> None:
        original = owner.__dict__[attr] if isinstance(owner, type) else getattr(owner, attr)

        def timed(*args, **kwargs):
            start = time.perf_counter()
            self.first.setdefault(label, start)
            try:
                return original(*args, **kwargs)
            finally:
                end = time.perf_counter()
                self.totals[label] += end - start
                self.calls[label] += 1
                self.last_end[label] = end

        setattr(owner, attr, timed)
        self._undo.append((owner, attr, original))

    def progress(self, phase: str, done: int, total: int) -> None:
        """The engine's progress callback: when each phase started."""
        self.marks.setdefault(phase, time.perf_counter())
        if phase == "checking" and done == total:
            self.marks["checked"] = time.perf_counter()

    def reset(self) -> None:
        self.totals.clear()
        self.calls.clear()
        self.first.clear()
        self.last_end.clear()
        self.marks.clear()

    def remove(self) -> None:
        for owner, attr, original in reversed(self._undo):
            setattr(owner, attr, original)
        self._undo.clear()

    def split(self) -> list[tuple[str, float]]:
        """Where a phase's time went, in the engine's order."""
        t, f = self.totals, self.first
        out = []
        for label in ("save upload + hash", "inspect (zip checks)", "read (calamine)",
                      "column date orders", "auto mapping"):
            if label in t:
                out.append((label, t[label]))
        if "engine" in f and "dedupe" in f:
            out.append(("parse + validate", f["dedupe"] - f["engine"]))
        for label in ("dedupe", "match (set queries)", "compare with stored"):
            if label in t:
                out.append((label, t[label]))
        if "writing" in self.marks and "finishing" in self.marks:
            out.append(("write", self.marks["finishing"] - self.marks["writing"]))
            nested = 0.0
            for label in ("  new tags/sources", "  customers (numbers, insert, ids)",
                          "  phones + emails (insert)", "  tag links", "  updates + history"):
                if label in t:
                    out.append((label, t[label]))
                    nested += t[label]
                if label == "  customers (numbers, insert, ids)" and label in t:
                    numbering = t.get("    numbering", 0.0)
                    copy = t.get("    insert Customer", 0.0)
                    out += [("    numbering", numbering),
                            ("    rows made + COPY Customer", copy),
                            ("    ids + the rest", t[label] - numbering - copy)]
                if label == "  phones + emails (insert)" and label in t:
                    out += [(f"    insert {m}", t.get(f"    insert {m}", 0.0))
                            for m in ("CustomerPhone", "CustomerEmail")]
            write = self.marks["finishing"] - self.marks["writing"]
            out.append(("  ImportedCustomer insert", t.get("    insert ImportedCustomer", 0.0)))
            out.append(("  the rest (audit, hooks)", write - nested
                        - t.get("    insert ImportedCustomer", 0.0)))
            end = self.last_end.get("engine", self.marks["finishing"])
            out.append(("audit + commit + on_commit", end - self.marks["finishing"]))
            for label in BACKGROUND:
                if label in t:
                    out.append((f"  {label}", t[label]))
        if "error workbook" in t:
            out.append(("error workbook", t["error workbook"]))
        return out


# Tasks the import queues on commit (Celery runs them eagerly here, in the run's process):
# in production a worker runs them after the import has finished.
BACKGROUND = ("groups recompute (on commit)", "name index merge (on commit)")


def install_stopwatch() -> Stopwatch:
    import customers.search_index
    import groups.services
    from imports import engine, mapping, reading, results, services, values

    watch = Stopwatch()
    watch.wrap(services, "_save_upload", "save upload + hash")
    watch.wrap(reading, "inspect", "inspect (zip checks)")
    watch.wrap(reading, "read_sheet", "read (calamine)")
    watch.wrap(values, "date_order_of", "column date orders")
    watch.wrap(mapping, "auto_map", "auto mapping")
    watch.wrap(engine, "run", "engine")
    watch.wrap(engine, "group_duplicates", "dedupe")
    watch.wrap(engine.Matcher, "__init__", "match (set queries)")
    watch.wrap(engine, "_changes", "compare with stored")
    watch.wrap(engine.Writer, "create_lists", "  new tags/sources")
    watch.wrap(engine.Writer, "create", "  customers (numbers, insert, ids)")
    watch.wrap(engine.Writer, "contacts", "  phones + emails (insert)")
    watch.wrap(engine.Writer, "tag_links", "  tag links")
    watch.wrap(engine, "_update", "  updates + history")
    watch.wrap(results, "error_workbook", "error workbook")
    watch.wrap(groups.services, "groups_recompute_all", BACKGROUND[0])
    watch.wrap(customers.search_index, "merge_name_index", BACKGROUND[1])
    watch.wrap(engine.Writer, "number_new", "    numbering")
    # Every insert goes through one of these two (insert_rows calls copy_rows on
    # PostgreSQL): the outer call is timed.
    inserting = []
    for name in ("insert_rows", "copy_rows"):
        original = getattr(engine, name)

        def timed(model, *args, _original=original, **kwargs):
            label = f"    insert {model.__name__}"
            start = time.perf_counter()
            inserting.append(label)
            try:
                return _original(model, *args, **kwargs)
            finally:
                inserting.pop()
                if not inserting:
                    watch.totals[label] += time.perf_counter() - start

        setattr(engine, name, timed)
        watch._undo.append((engine, name, original))
    execute = services.execute

    def execute_reporting(job, actor, *, dry_run, progress=None, **kwargs):
        # services.import_path passes no progress callback: the stopwatch's sees the phases.
        return execute(job, actor, dry_run=dry_run, progress=progress or watch.progress,
                       **kwargs)

    services.execute = execute_reporting
    watch._undo.append((services, "execute", execute))
    return watch


class SqlTimer:
    """execute_wrapper: statements and their time (COPY goes around it: not counted)."""

    def __init__(self):
        self.count = 0
        self.seconds = 0.0

    def __call__(self, execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - start
            self.count += 1


class Phase:
    """One timed phase: seconds, peak memory, SQL time, the stopwatch's split."""

    def __init__(self, name: str, rows: int, watch: Stopwatch, peak: Peak):
        self.name, self.rows, self.watch, self.peak = name, rows, watch, peak
        self.seconds = self.cpu = 0.0
        self.rss_peak = 0.0
        self.split: list = []
        self.sql = SqlTimer()

    def __enter__(self):
        from django.db import connection

        checkpoint()
        self.watch.reset()
        self.peak.reset()
        self._wrapper = connection.execute_wrapper(self.sql)
        self._wrapper.__enter__()
        self.cpu_start = time.process_time()
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start
        self.cpu = time.process_time() - self.cpu_start
        self._wrapper.__exit__(*exc)
        self.rss_peak = self.peak.peak()
        self.split = self.watch.split()
        return False

    def describe(self) -> str:
        return "\n".join(f"    {label:<45} {seconds:7.2f}" for label, seconds in self.split)


# --- database -------------------------------------------------------------------------------

def django_on_sqlite() -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{SQLITE_PATH}"
    shop.django_setup(os.environ["DATABASE_URL"])
    shop.migrate()
    print(f"database: SQLite {SQLITE_PATH}")


# Deleted by SQL, children first; then the shop through the ORM (its lists are PROTECTed
# from a cascade: a shop is never deleted by the app).
BIG_TABLES = ["imports_importedcustomer", "customers_customertag", "customers_customerphone",
              "customers_customeremail", "customers_customeralias", "customers_customernote",
              "groups_groupevent", "groups_groupmember", "groups_grouppin",
              "orders_customerstats", "orders_monthlyspend", "customers_customer",
              "customers_tag", "customers_taggroup", "customers_source"]
VACUUMED = ["customers_customer", "customers_customerphone", "customers_customeremail",
            "customers_customertag", "imports_importedcustomer", "groups_groupmember",
            "groups_groupevent", "crm_auditlog"]


def drop_shop(slug: str) -> bool:
    """Delete a bench shop: its rows in the big tables by SQL (the ORM would load every
    customer to cascade), the rest through the ORM, its uploaded files."""
    from django.db import connection, transaction

    from crm.models import Tenant
    from imports.models import ImportJob

    tenant = Tenant.objects.filter(slug=slug).first()
    if tenant is None:
        return False
    for job in ImportJob.objects.filter(tenant=tenant):
        for stored in (job.file, job.error_file):
            if stored:
                stored.delete(save=False)
    with transaction.atomic(), connection.cursor() as cursor:
        for table in BIG_TABLES:
            cursor.execute(f"DELETE FROM {table} WHERE tenant_id = %s", [tenant.pk])
        tenant.delete()
    return True


def checkpoint() -> None:
    """Start each phase just after a checkpoint: the server's own (every 5 minutes) would
    otherwise fall inside one phase or another, run to run, and write its dirty pages, and
    the full pages it makes the next writes log, during that phase (the same COPY took 4.6
    s or 9.3 s). Needs a superuser (the bench's role is one); skipped otherwise."""
    from django.db import DatabaseError, connection

    if connection.vendor != "postgresql":
        return
    try:
        with connection.cursor() as cursor:
            cursor.execute("CHECKPOINT")
    except DatabaseError:
        pass


def vacuum() -> None:
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    start = time.perf_counter()
    with connection.cursor() as cursor:
        for table in VACUUMED:
            cursor.execute(f"VACUUM ANALYZE {table}")
    print(f"VACUUM ANALYZE of the customer tables: {time.perf_counter() - start:.1f} s")


def new_shop(slug: str, name: str, *, with_groups: bool):
    from crm.services import tenant_create
    from groups.models import CustomerGroup

    tenant = tenant_create(name=name, slug=slug)
    if with_groups:
        # Groups by conditions on what the file fills: the import's on_commit recompute
        # fills them (a new shop may have none; then the recompute costs nothing).
        for group_name, rule in [
            ("Nữ, sinh tháng 8", {"conditions": [
                {"field": "gender", "op": "in", "value": ["female"]},
                {"field": "birth_month", "op": "in", "value": [8]}]}),
            ("Hà Nội hoặc TP.HCM", {"conditions": [
                {"field": "province", "op": "in", "value": [1, 79]}]}),
            ("Tạo từ năm ngoái", {"conditions": [
                {"field": "created", "op": "from", "value": "2025-01-01"}]}),
        ]:
            CustomerGroup.objects.create(tenant=tenant, name=group_name, rule=rule)
    return tenant


class _Upload:
    """A file on disk as Django's UploadedFile (what services.import_path wraps too)."""

    def __init__(self, handle, name: str, size: int):
        self.handle, self.name, self.size = handle, name, size

    def chunks(self):
        while chunk := self.handle.read(1024 * 1024):
            yield chunk


# --- ours -----------------------------------------------------------------------------------

def measure_ours(path: Path, tenant, args, watch: Stopwatch, peak: Peak) -> dict:
    from crm.access import SYSTEM
    from groups.models import CustomerGroup
    from imports import services
    from imports.models import ImportMode

    options = {"mode": ImportMode.SKIP_INVALID}
    out = {}
    with Phase("upload: checks + full read + mapping", args.rows, watch, peak) as phase, \
            path.open("rb") as handle:
        job = services.job_upload(tenant=tenant, actor=SYSTEM, kind="customers",
                                  uploaded_file=_Upload(handle, path.name,
                                                        path.stat().st_size))
    out["upload"] = phase
    mapped = [f"{h} → {t}" for h, t in zip(job.headers, job.mapping, strict=True) if t]
    unmapped = [h for h, t in zip(job.headers, job.mapping, strict=True) if not t]
    print(f"header row {job.header_row}, {job.total_rows:,} rows; mapping: {', '.join(mapped)}"
          f"; not imported: {', '.join(unmapped) or '-'}")
    job = services.job_configure(tenant=tenant, actor=SYSTEM, job=job, mapping=job.mapping,
                                 options=options)
    print(f"date orders: {job.options['date_orders']}")
    # The screens' check and run are Celery tasks that load the job from the database: they
    # load the rows the upload kept on disk (the upload leaves none on the job).
    assert "read_rows" not in job.__dict__

    with Phase("check (dry run)", args.rows, watch, peak) as phase:
        summary = services.execute(job, SYSTEM, dry_run=True, progress=watch.progress)
    out["check"] = phase
    out["check_counts"] = summary.counts()

    profiler = cProfile.Profile() if args.profile else None
    with Phase("run (write)", args.rows, watch, peak) as phase:
        if profiler:
            profiler.enable()
        summary = services.execute(job, SYSTEM, dry_run=False, progress=watch.progress)
        if profiler:
            profiler.disable()
    out["run"] = phase
    out["run_counts"] = summary.counts()
    out["written"] = summary.written
    out["errors"] = summary.errors
    out["duplicates"] = summary.duplicates
    out["groups"] = list(CustomerGroup.objects.filter(tenant=tenant).order_by("pk")
                         .values_list("name", "member_count"))
    if profiler:
        out["profile"] = profiler

    operator = new_shop(OPERATOR_SLUG, "Bench import (command)", with_groups=not args.no_groups)
    with Phase("operator: import_path, a new shop", args.rows, watch, peak) as phase:
        _job, first = services.import_path(tenant=operator, actor=SYSTEM, path=path,
                                           options=options)
    out["operator"] = phase
    out["operator_counts"] = first.counts()
    drop_shop(OPERATOR_SLUG)

    with Phase("re-import: import_path, same file", args.rows, watch, peak) as phase:
        _job, again = services.import_path(tenant=tenant, actor=SYSTEM, path=path,
                                           options=options)
    out["again"] = phase
    out["again_counts"] = again.counts()
    return out


# The tables the run writes, in its order; a floor shop's copy of the bench shop's rows
# shifts every customer id by an offset past the table's last.
FLOOR_TABLES = ["customers_customer", "customers_customerphone", "customers_customeremail",
                "customers_customertag", "imports_importedcustomer"]


def measure_database_floor(tenant) -> list[tuple[str, float]]:
    """What PostgreSQL alone takes to write what the run wrote: the bench shop's rows, read
    back as COPY data beforehand, sent by COPY into another shop in one transaction (the
    run's name-index setting), then the commit (the foreign keys checked). No Python
    builds a row here: this is the floor under the run's write and commit."""
    from django.db import connection, transaction

    drop_shop(FLOOR_SLUG)
    floor = new_shop(FLOOR_SLUG, "Bench floor", with_groups=False)
    with connection.cursor() as cursor:
        cursor.execute("SELECT max(id) FROM customers_customer")
        offset = cursor.fetchone()[0] + 1
        data = {}
        for table in FLOOR_TABLES:
            cursor.execute("SELECT column_name FROM information_schema.columns "
                           "WHERE table_name = %s ORDER BY ordinal_position", [table])
            columns = [c for (c,) in cursor.fetchall() if c != "id" or table == FLOOR_TABLES[0]]
            shifted = {"id": f"id + {offset}", "customer_id": f"customer_id + {offset}",
                       "tenant_id": str(floor.pk)}
            select = ", ".join(shifted.get(c, c) for c in columns)
            chunks = []
            with cursor.cursor.copy(f"COPY (SELECT {select} FROM {table} "
                                    f"WHERE tenant_id = {tenant.pk}) TO STDOUT") as copy:
                for chunk in copy:
                    chunks.append(bytes(chunk))
            data[table] = (columns, b"".join(chunks))
    checkpoint()
    out = []
    start = time.perf_counter()
    with transaction.atomic():
        with connection.cursor() as cursor:
            customers = data[FLOOR_TABLES[0]][1].count(NEWLINE)
            cursor.execute("SELECT set_config('gin_pending_list_limit', %s, true)",
                           [str(max(64, customers // 2))])
            for table, (columns, rows) in data.items():
                began = time.perf_counter()
                with cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) "
                                        "FROM STDIN") as copy:
                    copy.write(rows)
                count = rows.count(NEWLINE)
                out.append((f"COPY {table} ({count:,} rows)", time.perf_counter() - began))
        committing = time.perf_counter()
    out.append(("commit (foreign keys checked)", time.perf_counter() - committing))
    out.append(("total", time.perf_counter() - start))
    drop_shop(FLOOR_SLUG)
    return out


def check_written(tenant, counts: dict) -> dict:
    from customers.models import Customer, CustomerEmail, CustomerPhone, CustomerTag

    stored = {
        "customers": Customer.objects.for_tenant(tenant).count(),
        "phones": CustomerPhone.objects.for_tenant(tenant).count(),
        "emails": CustomerEmail.objects.for_tenant(tenant).count(),
        "tag links": CustomerTag.objects.for_tenant(tenant).count(),
    }
    if stored["customers"] != counts["created"]:
        raise SystemExit(f"{stored['customers']:,} customers stored, the run said "
                         f"{counts['created']:,} created")
    return stored


# --- the usual Django way -------------------------------------------------------------------

def read_with_calamine(path: Path) -> int:
    from imports import reading

    book = reading.inspect(path, path.name)
    return len(reading.read_sheet(path, book).rows)


def read_with_openpyxl(path: Path) -> int:
    import openpyxl

    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    workbook.close()
    return len(rows) - 4  # title, subtitle, blank row, header


def read_with_tablib(path: Path):
    """What import-export's XLSX format does (tablib over openpyxl read-only), told to skip
    the title rows (import-export's own admin form would take the title for the header)."""
    import tablib

    with path.open("rb") as handle:
        return tablib.Dataset().load(handle, format="xlsx", skip_lines=3)


# The file's headers -> the model fields a plain ModelResource imports (its own widgets:
# CharWidget turns an empty cell into "" and a number into text).
NAIVE_COLUMNS = {"Tên khách hàng": "full_name", "Điện thoại": "phone", "Email": "email",
                 "Công ty": "company", "Mã số thuế": "tax_code", "Địa chỉ": "street",
                 "Ghi chú": "note"}


def naive_resource(tenant):
    from import_export import resources

    from customers.models import Customer

    class CustomerResource(resources.ModelResource):
        """A ModelResource of the simple columns, default options: no id column, so every
        row is a new instance saved on its own (one INSERT, no matching, no phone or date
        parsing). Customer needs its shop, number and code: set before each save."""

        class Meta:
            model = Customer
            # "id" stays (the default import_id_fields); the file has no such column.
            fields = ("id", *NAIVE_COLUMNS.values())

        def __init__(self):
            super().__init__()
            self.number = 0

        def before_save_instance(self, instance, row, **kwargs):
            self.number += 1
            instance.tenant = tenant
            instance.number = self.number
            instance.code = f"KH{self.number:06d}"

    return CustomerResource()


READERS = {"calamine": ("python-calamine (ours: checks + read_sheet)", read_with_calamine),
           "openpyxl": ("openpyxl read-only, values", read_with_openpyxl),
           "tablib": ("tablib xlsx (import-export's reader)", read_with_tablib)}


def read_child(name: str, rows: int) -> None:
    """One reader in a process of its own (--read-child): its peak memory is its own."""
    import json

    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-" + "x" * 40)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
    sys.path.insert(0, str(shop.BASE_DIR))
    import django

    django.setup()
    import openpyxl  # noqa: F401 - loaded before the baseline, as in the parent
    import tablib  # noqa: F401

    from imports import reading  # noqa: F401

    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec() from the forked parent.
    memory = Peak()
    base = memory.peak()
    start = time.perf_counter()
    result = READERS[name][1](workbook_path(rows))
    seconds = time.perf_counter() - start
    n = result if isinstance(result, int) else len(result)
    print(json.dumps({"seconds": seconds, "rows": n, "peak": memory.peak(), "base": base}))


def measure_reading(args) -> list:
    """Each reader of the whole file in its own process: seconds, peak RSS."""
    import json

    out = []
    names = ["calamine", "tablib"] if args.skip_reading else list(READERS)
    for name in names:
        done = subprocess.run([sys.executable, __file__, "--read-child", name,
                               "--rows", str(args.rows)], check=True, capture_output=True,
                              text=True)
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        label = READERS[name][0]
        out.append((label, figures["seconds"], figures["rows"], figures["peak"],
                    figures["base"]))
        print(f"read {label}: {figures['seconds']:.2f} s, {figures['rows']:,} rows, peak RSS "
              f"{figures['peak']:.0f} MB (the process before reading: {figures['base']:.0f} MB)")
    return out


def naive_dataset(path: Path, rows: int):
    """The first ``rows`` data rows under the file's header, as import-export gets them
    from tablib (the whole file's tablib read is timed apart)."""
    import openpyxl
    import tablib

    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    lines = workbook.worksheets[0].iter_rows(min_row=4, max_row=rows + 4, values_only=True)
    headers = list(next(lines))
    data = [list(line) for line in lines]
    workbook.close()
    return tablib.Dataset(*data, headers=headers)


def measure_naive(path: Path, args, peak: Peak) -> dict:
    import tablib

    tenant = new_shop(NAIVE_SLUG, "Bench import (import-export)", with_groups=False)
    dataset = naive_dataset(path, min(args.naive_rows, args.rows))
    n = len(dataset)
    keep = [dataset.headers.index(h) for h in NAIVE_COLUMNS]
    # Empty cells as "" (what a CSV gives): the resource's TextField widget would pass None
    # on to a NOT NULL column.
    sample = tablib.Dataset(*[["" if row[i] is None else row[i] for i in keep]
                              for row in dataset[:n]], headers=list(NAIVE_COLUMNS.values()))
    from django.db import connection

    resource = naive_resource(tenant)
    peak.reset()
    sql = SqlTimer()
    cpu = time.process_time()
    start = time.perf_counter()
    with connection.execute_wrapper(sql):
        result = resource.import_data(sample, dry_run=False)
    seconds = time.perf_counter() - start
    cpu = time.process_time() - cpu
    totals = dict(result.totals)
    if result.has_errors() or result.has_validation_errors():
        errors = result.row_errors()
        detail = errors[0][1][0].traceback if errors else result.base_errors[0].traceback
        raise SystemExit(f"import-export failed: {totals}\n{detail}")
    print(f"import-export ModelResource, {n:,} rows: {seconds:.2f} s ({n / seconds:,.0f} "
          f"rows/s), totals {totals}, errors: {len(result.base_errors)} base, "
          f"{len(result.invalid_rows)} invalid rows")
    return {"rows": n, "seconds": seconds, "totals": totals, "peak": peak.peak(), "sql": sql,
            "cpu": cpu}


# --- report ---------------------------------------------------------------------------------

def fmt_s(seconds: float) -> str:
    return f"{seconds:,.2f} s" if seconds < 600 else f"{seconds / 60:,.1f} min"


def report(args, file_info: str, ours: dict, stored: dict, reading_rows: list,
           naive: dict | None) -> None:
    rows = args.rows
    upload, check, run, again = ours["upload"], ours["check"], ours["run"], ours["again"]
    operator = ours["operator"]
    print(f"\n== Import of {rows:,} customers ({file_info}) ==")
    print(f"check: {ours['check_counts']}")
    print(f"run:   {ours['run_counts']} written={ours['written']}")
    print(f"command: {ours['operator_counts']}")
    print(f"again: {ours['again_counts']}")
    print(f"stored: {stored}")
    by_column = Counter(e.column for e in ours["errors"])
    print(f"rejected rows by column: {dict(by_column)}; first errors: "
          + "; ".join(e.text() for e in ours["errors"][:3]))
    print(f"in-file duplicate groups: {len(ours['duplicates'])} "
          f"(e.g. rows {ours['duplicates'][:3]})")
    print(f"groups after the import: {ours['groups']}")

    print()
    table = []
    for phase in (upload, check, run, operator, again):
        table.append((phase.name, fmt_s(phase.seconds), fmt_s(phase.cpu),
                      f"{rows / phase.seconds:,.0f}", f"{phase.rss_peak:,.0f} MB",
                      f"{phase.sql.count:,} / {phase.sql.seconds:,.2f} s"))
    end_to_end = operator.seconds
    screens = upload.seconds + check.seconds + run.seconds
    background = sum(dict(operator.split).get(f"  {label}", 0.0) for label in BACKGROUND)
    table.append(("end to end, operator (the command's path)", fmt_s(end_to_end),
                  fmt_s(operator.cpu), f"{rows / end_to_end:,.0f}", "", ""))
    if background:
        table.append(("  the same without the tasks queued on commit",
                      fmt_s(end_to_end - background), "",
                      f"{rows / (end_to_end - background):,.0f}", "", ""))
    table.append(("end to end, screens (upload + check + run)", fmt_s(screens),
                  fmt_s(upload.cpu + check.cpu + run.cpu), f"{rows / screens:,.0f}", "", ""))
    if naive:
        per_row = naive["seconds"] / naive["rows"]
        table.append((f"import-export ModelResource, {naive['rows']:,} rows", fmt_s(
            naive["seconds"]), fmt_s(naive["cpu"]), f"{1 / per_row:,.0f}",
            f"{naive['peak']:,.0f} MB", f"{naive['sql'].count:,} / {naive['sql'].seconds:,.2f} s"))
        table.append((f"import-export, extrapolated to {rows:,} (+ tablib read)",
                      fmt_s(per_row * rows + reading_rows[-1][1]), "", "", "", ""))
    print(shop_table(table, ("case", "wall", "CPU (this process)", "rows/s", "peak RSS",
                             "SQL statements / time")))
    if rows == 100_000:
        print(f"goal <= {GOAL_S:.0f} s end to end: {'met' if end_to_end <= GOAL_S else 'NOT met'}")
    print(f"process peak RSS (ru_maxrss, whole run): "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")
    if not reading_rows:  # the parse's second process was the only child
        print(f"the parse's second process, peak RSS (its pages shared with the first "
              f"until written count too): "
              f"{resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024:,.0f} MB")
    print("\nwhere the time went (s):")
    for phase in (upload, check, run, operator, again):
        print(f"  {phase.name} ({phase.seconds:.2f} s):\n{phase.describe()}")
    if reading_rows:
        print()
        print(shop_table([(label, fmt_s(s), f"{n:,}", f"{p:,.0f} MB (+{p - b:,.0f})")
                          for label, s, n, p, b in reading_rows],
                         ("reading the file (a process each)", "seconds", "rows",
                          "peak RSS (+ over the process before)")))


def shop_table(rows: list[tuple], header: tuple) -> str:
    from _common import table

    return table(rows, header)


def print_profile(profiler) -> None:
    stats = pstats.Stats(profiler)
    print("\n-- cProfile of the run phase, top 35 by cumulative time")
    stats.sort_stats("cumulative").print_stats(35)
    print("\n-- top 25 by own time")
    stats.sort_stats("tottime").print_stats(25)


# --- main -----------------------------------------------------------------------------------

def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--naive-rows", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--regenerate", action="store_true", help="make the workbook again")
    parser.add_argument("--sqlite", action="store_true", help="a SQLite file, for a smoke test")
    parser.add_argument("--database-url", default=shop.DEFAULT_URL)
    parser.add_argument("--customers", type=int, default=1_000_000,
                        help="when the 1M shop must be built")
    parser.add_argument("--orders", type=int, default=10_000_000,
                        help="when the 1M shop must be built")
    parser.add_argument("--no-groups", action="store_true",
                        help="no groups by conditions in the bench shop")
    parser.add_argument("--skip-naive", action="store_true")
    parser.add_argument("--skip-reading", action="store_true",
                        help="no openpyxl read (calamine and tablib still read when "
                             "--skip-naive is off)")
    parser.add_argument("--profile", action="store_true", help="cProfile the run phase")
    parser.add_argument("--keep", action="store_true", help="leave the bench shop in place")
    parser.add_argument("--generate-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--read-child", choices=list(READERS), help=argparse.SUPPRESS)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    if args.read_child:
        read_child(args.read_child, args.rows)
        return
    if args.generate_only:
        counts = generate(workbook_path(args.rows), args.rows, args.seed)
        print("generated: " + ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items())))
        return
    path = ensure_workbook(args)
    os.environ["MEDIA_ROOT"] = str(MEDIA_ROOT)
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "1"
    os.environ.pop("REDIS_URL", None)
    if args.sqlite:
        django_on_sqlite()
    else:
        big = shop.open_shop(args)
        print(f"next to shop {big.slug}: "
              f"{shop.sql('SELECT count(*) FROM customers_customer')[0][0]:,} customers "
              "in the customer table")
    from django.db import connection

    if drop_shop(SHOP_SLUG) | drop_shop(NAIVE_SLUG):
        print("dropped a previous run's bench shops")
        vacuum()
    tenant = new_shop(SHOP_SLUG, "Bench import", with_groups=not args.no_groups)
    peak = Peak()
    watch = install_stopwatch()
    print(f"load average {os.getloadavg()[0]:.1f} ({os.cpu_count()} cores), "
          f"database {connection.vendor}")
    print("code: " + ", ".join(
        f"{name} {hashlib.sha1((shop.BASE_DIR / name).read_bytes()).hexdigest()[:10]}"
        for name in ("imports/engine.py", "imports/services.py", "imports/values.py",
                     "imports/reading.py")))
    try:
        ours = measure_ours(path, tenant, args, watch, peak)
        stored = check_written(tenant, ours["run_counts"])
        watch.remove()
        floor = [] if args.sqlite else measure_database_floor(tenant)
        reading_rows = [] if args.skip_naive and args.skip_reading else measure_reading(args)
        naive = None if args.skip_naive else measure_naive(path, args, peak)
        file_info = f"{path.name}, {path.stat().st_size / 2**20:.1f} MB, {len(HEADERS)} columns"
        report(args, file_info, ours, stored, reading_rows, naive)
        if floor:
            print("\nthe database alone: the run's rows sent by COPY into another shop, "
                  "one transaction (s):")
            for label, seconds in floor:
                print(f"  {label:<60} {seconds:6.2f}")
        if "profile" in ours:
            print_profile(ours["profile"])
    finally:
        watch.remove()
        drop_shop(FLOOR_SLUG)
        drop_shop(OPERATOR_SLUG)
        if not args.keep:
            drop_shop(SHOP_SLUG)
            drop_shop(NAIVE_SLUG)
            vacuum()
    print(f"load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
