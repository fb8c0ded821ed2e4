"""Import a shop's customers (or orders) from an Excel / CSV file, for operators moving a
large shop: the same code path as the screens (upload checks, automatic column mapping,
check, one transaction), the job kept in the shop's import history.

    manage.py import_customers khach-hang.xlsx --shop moc --dry-run --json
"""

import json
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from crm.access import SYSTEM
from crm.models import Tenant
from imports import services
from imports.models import ImportKind, ImportMode


class Command(BaseCommand):
    help = "Import customers (or orders) of one shop from an .xlsx, .xls or .csv file."

    def add_arguments(self, parser):
        parser.add_argument("file", help="The .xlsx, .xls or .csv file")
        parser.add_argument("--shop", required=True, help="The shop's short name (slug)")
        parser.add_argument("--kind", choices=ImportKind.values, default=ImportKind.CUSTOMERS)
        parser.add_argument("--dry-run", action="store_true",
                            help="Check every row and print what would change; write nothing")
        parser.add_argument("--mode", choices=["all-or-nothing", "skip-invalid"],
                            default="all-or-nothing",
                            help="all-or-nothing (default): one bad row and nothing is "
                                 "written; skip-invalid: write the valid rows")
        parser.add_argument("--match", choices=["both", "create", "update"], default="both")
        parser.add_argument("--empty", choices=["ignore", "clear"], default="ignore",
                            help="Whether empty cells clear stored values")
        parser.add_argument("--date-order", choices=["dmy", "mdy"],
                            help="Order of text dates in every date column (default: from "
                                 "the values; refused when a column is ambiguous)")
        parser.add_argument("--sheet", help="The sheet to read (default: the first with data)")
        parser.add_argument("--json", action="store_true", help="Print the summary as JSON")

    def handle(self, *args, **options):
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        tenant = Tenant.objects.filter(slug=options["shop"]).first()
        if tenant is None:
            raise CommandError(f"No shop with the short name {options['shop']!r}")
        opts = {"mode": ImportMode.SKIP_INVALID if options["mode"] == "skip-invalid"
                else ImportMode.ALL_OR_NOTHING,
                "match": options["match"], "empty": options["empty"]}
        with translation.override("vi"):
            try:
                job, summary = services.import_path(
                    tenant=tenant, actor=SYSTEM, path=path, kind=options["kind"],
                    options=opts, dry_run=options["dry_run"], sheet=options["sheet"],
                    date_order=options["date_order"])
            except ValidationError as error:
                raise CommandError(" ".join(error.messages)) from error
            result = {"file": str(path), "shop": tenant.slug, "job": job.pk,
                      "dry_run": options["dry_run"], **summary.as_json()}
            if options["json"]:
                self.stdout.write(json.dumps(result, ensure_ascii=False, indent=2))
            else:
                self._print(result, summary)
        if not options["dry_run"] and not summary.written:
            raise CommandError("Nothing was written: some rows have errors (see above); fix "
                               "them, or run with --mode skip-invalid.")

    def _print(self, result: dict, summary) -> None:
        self.stdout.write(
            "rows {rows}, valid {valid}, rejected {rejected}, created {created}, updated "
            "{updated}, unchanged {unchanged}, skipped {skipped}, duplicates {duplicates}, "
            "{duration} s".format(**result))
        for error in summary.errors[:50]:
            self.stdout.write(f"  {error.text()}")
        if len(summary.errors) > 50:
            self.stdout.write(f"  ... and {len(summary.errors) - 50} more (--json lists all)")
