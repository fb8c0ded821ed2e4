"""Export of 100,000 customers from the bench shop (aggregates_bench.py's shop, database
crm_bench_orders: 1,000,000 customers; built when missing) next to the usual Django way.

The customers are the first 100,000 (newest first, the list's default sort) of one care
status (~133,000 match), exported as the shop's manager through the real code path
(``imports.exports.customer_selection``: the list's scope, filters and sort, the columns
from the customer field registry; ``write_file``: what the Celery job runs), with ten
columns (code, name, phone, email, care status, stage, tags, staff, spend, last order) and
with every exportable field (``columns=all``, what a round trip through the importer
reads). Next to it, the same rows and columns:

* django-import-export: a ``ModelResource`` with the same columns (``dehydrate_*``), the
  queryset with the same joins and the tags prefetched, ``resource.export()`` then
  tablib's .xlsx (openpyxl, normal mode) or .csv — on ``--baseline-rows`` rows (default
  20,000), extrapolated to 100,000;
* our rows written by openpyxl in write-only mode, and by XlsxWriter in constant-memory
  mode when it is installed (the writer alone: why the .xlsx is written by hand).

Each case runs in its own process: its peak memory (ru_maxrss) is its own. Printed per
case: seconds (wall), the process's own CPU, the time in SQL statements (and how many),
rows per second, peak RSS and its growth over the process before the export, file size.
The rows are read once untimed first (``--cold`` skips it), so that no case pays for
reading the table from disk. The machine's load average is printed too: other work on
the machine slows every figure alike.

Run:  .venv/bin/python bench/export_bench.py [--rows 100000] [--baseline-rows 20000]
      .venv/bin/python bench/export_bench.py --case ours-xlsx       # one case, JSON
"""

import argparse
import io
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import aggregates_bench as shop  # noqa: E402
from _common import table  # noqa: E402

COLUMNS = "code,name,phone,email,care_status,lifecycle,tags,staff,spend,last_order"
CASES = ["ours-xlsx", "ours-csv", "ours-xlsx-all", "import-export-xlsx", "import-export-csv",
         "openpyxl-write-only", "xlsxwriter"]
GOAL_S = 10.0


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1024 / 1024


def open_bench_shop(args):
    import contextlib

    with contextlib.redirect_stdout(io.StringIO()):
        tenant = shop.open_shop(args)
    from crm.models import Membership

    manager = Membership.objects.select_related("tenant", "user").get(
        tenant=tenant, user__username="bench.manager")
    return tenant, manager


def selection(tenant, manager, rows: int, columns: str = COLUMNS):
    from django.http import QueryDict

    from customers.models import CareStatus
    from imports import exports

    status = CareStatus.objects.for_tenant(tenant).order_by("position", "pk").first()
    params = QueryDict(f"care_status={status.pk}", mutable=True)
    params["columns"] = columns
    chosen = exports.customer_selection(tenant=tenant, actor=manager, params=params)
    chosen.limit = rows
    return chosen


def case_ours(tenant, manager, rows: int, fmt: str, columns: str = COLUMNS) -> dict:
    from imports import exports

    chosen = selection(tenant, manager, rows, columns)
    path = f"/tmp/export_bench.{fmt}"
    with open(path, "wb") as out:
        count = exports.write_file(chosen, fmt, out)
    return {"rows": count, "size": os.path.getsize(path), "columns": len(chosen.columns)}


def case_writer(tenant, manager, rows: int, writer: str) -> dict:
    """Our rows (the same reading), written by openpyxl write-only or XlsxWriter."""
    import datetime

    chosen = selection(tenant, manager, rows)
    headers = [str(c.label) for c in chosen.columns]
    path = f"/tmp/export_bench_{writer}.xlsx"
    count = 0
    if writer == "openpyxl":
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet("Khách hàng")
        sheet.append(headers)
        for values in chosen.rows():
            sheet.append(values)
            count += 1
        book.save(path)
    else:
        import xlsxwriter

        book = xlsxwriter.Workbook(path, {"constant_memory": True, "strings_to_formulas": False,
                                          "strings_to_numbers": False, "strings_to_urls": False})
        sheet = book.add_worksheet("Khách hàng")
        date = book.add_format({"num_format": "dd/mm/yyyy"})
        sheet.write_row(0, 0, headers)
        for count, values in enumerate(chosen.rows(), start=1):
            for col, value in enumerate(values):
                if isinstance(value, datetime.date):
                    sheet.write_datetime(count, col, value, date)
                elif value is not None:
                    sheet.write(count, col, value)
        book.close()
    return {"rows": count, "size": os.path.getsize(path), "columns": len(headers)}


def case_import_export(tenant, manager, rows: int, fmt: str) -> dict:
    """The usual way: a ModelResource of the same columns over the same rows."""
    from import_export import fields, resources

    from customers.field_defs import TAGS
    from customers.models import Customer

    class CustomerResource(resources.ModelResource):
        phone = fields.Field(column_name="Điện thoại")
        care_status = fields.Field(column_name="Trạng thái chăm sóc")
        lifecycle = fields.Field(column_name="Giai đoạn")
        tags = fields.Field(column_name="Thẻ")
        staff = fields.Field(column_name="Nhân viên phụ trách")
        spend = fields.Field(column_name="Tổng chi tiêu")
        last_order = fields.Field(column_name="Ngày mua gần nhất")

        class Meta:
            model = Customer
            fields = ("code", "full_name", "phone", "email", "care_status", "lifecycle",
                      "tags", "staff", "spend", "last_order")
            export_order = fields

        def dehydrate_phone(self, c):
            return c.phone_display

        def dehydrate_care_status(self, c):
            return c.care_status.name if c.care_status_id else ""

        def dehydrate_lifecycle(self, c):
            return c.get_lifecycle_stage_display()

        def dehydrate_tags(self, c):
            return ", ".join(t.name for t in c.tags.all())

        def dehydrate_staff(self, c):
            m = c.assigned_staff
            return (m.user.get_full_name() or m.user.username) if m else ""

        def dehydrate_spend(self, c):
            stats = getattr(c, "stats", None)
            return stats.total_spend if stats else 0

        def dehydrate_last_order(self, c):
            stats = getattr(c, "stats", None)
            return stats.last_order_at.date() if stats and stats.last_order_at else None

    chosen = selection(tenant, manager, rows)
    ids = list(chosen.queryset.values_list("pk", flat=True)[:rows])
    queryset = (Customer.objects.filter(pk__in=ids).order_by("-created_at", "-id")
                .select_related("care_status", "assigned_staff__user", "stats")
                .prefetch_related(TAGS))
    dataset = CustomerResource().export(queryset=queryset)
    path = f"/tmp/export_bench_import_export.{fmt}"
    data = dataset.export(fmt)
    with open(path, "wb") as out:
        out.write(data if isinstance(data, bytes) else data.encode("utf-8"))
    return {"rows": len(dataset), "size": os.path.getsize(path), "columns": len(dataset.headers)}


def run_case(args) -> dict:
    from django.db import connection

    tenant, manager = open_bench_shop(args)
    before = current_rss_mb()
    timer = shop.StatementTimer()  # every statement's time: the database's share
    with connection.execute_wrapper(timer):
        result = _run(args, tenant, manager)
    result["sql"], result["statements"] = timer.seconds, timer.count
    result["peak_mb"], result["growth_mb"] = rss_mb(), rss_mb() - before
    return result


def _run(args, tenant, manager) -> dict:
    wall, cpu = time.perf_counter(), time.process_time()
    name = args.case
    if name == "ours-xlsx":
        result = case_ours(tenant, manager, args.rows, "xlsx")
    elif name == "ours-csv":
        result = case_ours(tenant, manager, args.rows, "csv")
    elif name == "ours-xlsx-all":
        result = case_ours(tenant, manager, args.rows, "xlsx", "all")
    elif name == "import-export-xlsx":
        result = case_import_export(tenant, manager, args.baseline_rows, "xlsx")
    elif name == "import-export-csv":
        result = case_import_export(tenant, manager, args.baseline_rows, "csv")
    elif name == "openpyxl-write-only":
        result = case_writer(tenant, manager, args.rows, "openpyxl")
    elif name == "xlsxwriter":
        try:
            import xlsxwriter  # noqa: F401
        except ImportError:
            return {"case": name, "skipped": "XlsxWriter is not installed"}
        result = case_writer(tenant, manager, args.rows, "xlsxwriter")
    else:
        sys.exit(f"unknown case {name}")
    result.update(case=name, seconds=time.perf_counter() - wall, cpu=time.process_time() - cpu)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=shop.DEFAULT_URL)
    parser.add_argument("--customers", type=int, default=1_000_000, help="when building")
    parser.add_argument("--orders", type=int, default=10_000_000, help="when building")
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--baseline-rows", type=int, default=20_000)
    parser.add_argument("--case", choices=CASES, help="run one case, print JSON")
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--cold", action="store_true", help="no untimed warm-up read")
    args = parser.parse_args()
    if args.case:
        print(json.dumps(run_case(args)))
        return
    open_bench_shop(args)  # builds the shop once, before the timed processes
    if not args.cold:
        # The same rows read once, untimed: every case then finds them in the caches
        # (the first case would otherwise pay for reading the table from disk).
        subprocess.run([sys.executable, __file__, "--case", "ours-csv", "--rows",
                        str(args.rows), "--database-url", args.database_url],
                       capture_output=True, check=False)
    print(f"load average before: {os.getloadavg()[0]:.2f} (2 = both cores busy elsewhere)")
    header = ("case", "rows", "cols", "seconds", "cpu s", "sql s", "rows/s", "100k in",
              "peak RSS", "growth", "file")
    lines = []
    for name in args.cases.split(","):
        command = [sys.executable, __file__, "--case", name, "--rows", str(args.rows),
                   "--baseline-rows", str(args.baseline_rows), "--database-url",
                   args.database_url]
        out = subprocess.run(command, capture_output=True, text=True, check=False)
        try:
            result = json.loads(out.stdout.strip().splitlines()[-1])
        except (IndexError, json.JSONDecodeError):
            print(f"{name} failed:\n{out.stderr[-3000:]}")
            continue
        if "skipped" in result:
            print(f"{name}: {result['skipped']}")
            continue
        rate = result["rows"] / result["seconds"]
        lines.append((name, f"{result['rows']:,}", result["columns"],
                      f"{result['seconds']:.2f}", f"{result['cpu']:.2f}",
                      f"{result['sql']:.2f} ({result['statements']})", f"{rate:,.0f}",
                      f"{100_000 / rate:.1f} s", f"{result['peak_mb']:.0f} MB",
                      f"{result['growth_mb']:.0f} MB", f"{result['size'] / 1e6:.1f} MB"))
        print(f"{name}: {result['seconds']:.2f} s", flush=True)
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    print(table(lines, header))
    ours = next((line for line in lines if line[0] == "ours-xlsx"), None)
    if ours:
        print(f"goal: 100,000 customers in <= {GOAL_S:.0f} s (.xlsx): {ours[7]}")


if __name__ == "__main__":
    main()
