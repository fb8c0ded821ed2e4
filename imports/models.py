"""Import and export jobs: what was uploaded, how its columns were read, what was written.

An ``ImportJob`` is one uploaded file of customers or orders, from the upload through the
mapping, the preview (a dry run) and the run, to its history (who, when, file name and hash,
mapping, counts, the rejected rows as a workbook). The uploaded file is deleted after
``IMPORT_RETENTION_DAYS``; the history row stays. ``ImportedCustomer`` says which import
created or updated a customer. An ``ExportJob`` is a large export written by Celery, its
file downloadable by the person who asked for it, in their shop only.
"""

import uuid
from pathlib import Path

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.models import TenantOwned, TenantOwnedDetail


def _private_path(folder: str, instance, filename: str) -> str:
    """<folder>/<shop>/<random>.<ext>: the uploaded name never reaches the disk or a URL;
    files are served only through views that check the shop (and the person)."""
    ext = Path(filename).suffix.lower()[:6]
    return f"{folder}/{instance.tenant_id}/{uuid.uuid4().hex}{ext}"


def upload_path(instance, filename: str) -> str:
    return _private_path("imports", instance, filename)


def result_path(instance, filename: str) -> str:
    return _private_path("import-results", instance, filename)


def export_path(instance, filename: str) -> str:
    return _private_path("exports", instance, filename)


class ImportKind(models.TextChoices):
    CUSTOMERS = "customers", _("Customers")
    ORDERS = "orders", _("Orders")


class ImportMode(models.TextChoices):
    ALL_OR_NOTHING = "all_or_nothing", _("All or nothing: one bad row and nothing is written")
    SKIP_INVALID = "skip_invalid", _("Write the valid rows, list the rejected ones")


class MatchMode(models.TextChoices):
    BOTH = "both", _("Create new customers and update existing ones")
    CREATE = "create", _("Only create new customers")
    UPDATE = "update", _("Only update existing customers")


class EmptyCells(models.TextChoices):
    IGNORE = "ignore", _("Empty cells keep the stored value")
    CLEAR = "clear", _("Empty cells clear the stored value")


class DuplicateRule(models.TextChoices):
    MERGE = "merge", _("Merge them: the first filled value of each column wins")
    FIRST = "first", _("Keep the first row, skip the others")
    LAST = "last", _("Keep the last row, skip the others")


class ImportState(models.TextChoices):
    UPLOADED = "uploaded", _("Uploaded")
    CHECKING = "checking", _("Checking")
    CHECKED = "checked", _("Checked")
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


class ImportJob(TenantOwned):
    kind = models.CharField(_("what is imported"), max_length=12, choices=ImportKind.choices,
                            default=ImportKind.CUSTOMERS)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    file = models.FileField(_("file"), upload_to=upload_path, blank=True, max_length=200)
    file_name = models.CharField(_("file name"), max_length=255)
    file_hash = models.CharField(_("SHA-256 of the file"), max_length=64)
    file_size = models.PositiveBigIntegerField(_("file size"), default=0)
    file_type = models.CharField(max_length=8)  # xlsx, xls, csv
    encoding = models.CharField(max_length=20, blank=True)  # csv only
    file_deleted_at = models.DateTimeField(null=True, blank=True)
    sheets = models.JSONField(default=list)  # the workbook's sheet names
    sheet = models.CharField(_("sheet"), max_length=100, blank=True)
    header_row = models.PositiveIntegerField(default=1)  # 1-based, as Excel numbers rows
    headers = models.JSONField(default=list)
    samples = models.JSONField(default=list)  # the first rows as text, for the mapping screen
    # Per column: "dmy" / "mdy" when its dates say which, "ambiguous" when only the manager
    # can say (every day ≤ 12), None when the column holds no text dates.
    column_dates = models.JSONField(default=list)
    # One entry per column of ``headers``: the field key it fills, or "" (ignored).
    mapping = models.JSONField(default=list)
    # mode, match, empty, duplicates (the choices above), date_orders {column index: "dmy" |
    # "mdy"}: see imports.engine.Options.
    options = models.JSONField(default=dict)
    state = models.CharField(_("state"), max_length=10, choices=ImportState.choices,
                             default=ImportState.UPLOADED)
    dry_run = models.BooleanField(default=True)  # the last check or run was a preview
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    # rows, valid, rejected, created, updated, unchanged, duplicates (imports.engine.Summary)
    counts = models.JSONField(default=dict)
    # The first rejected rows' errors [{row, column, message}] and the in-file duplicates
    # [[row numbers]], for the screen; the error workbook holds every rejected row.
    errors = models.JSONField(default=list)
    duplicates = models.JSONField(default=list)
    error_file = models.FileField(upload_to=result_path, blank=True, max_length=200)
    message = models.TextField(blank=True)  # why a run failed, in words
    task_id = models.CharField(max_length=50, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration = models.FloatField(_("duration (s)"), null=True, blank=True)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        indexes = [models.Index(fields=["tenant", "-created_at"], name="importjob_recent_idx")]

    def __str__(self):
        return self.file_name


class MappingTemplate(TenantOwned):
    """A named mapping: folded header -> field key, reused for the next file of a system."""

    kind = models.CharField(max_length=12, choices=ImportKind.choices,
                            default=ImportKind.CUSTOMERS)
    name = models.CharField(_("template name"), max_length=100)
    mapping = models.JSONField(default=dict)
    options = models.JSONField(default=dict)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("mapping template")
        verbose_name_plural = _("mapping templates")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["tenant", "kind", "name"],
                                               name="mappingtemplate_unique_name")]

    def __str__(self):
        return self.name


class ImportedCustomer(TenantOwnedDetail):
    """The import a customer came from (``created``) or was updated by.

    A log written once, by the import that creates or updates the customer, in the same
    transaction as the customer, its job row existing: none of its foreign keys is
    checked by the database (``db_constraint=False``; see TenantOwnedDetail). Checked,
    each row cost three lookups at the import's commit — 300,000 for a file of 100,000
    customers, ~2 s. Deleting a customer, a job or a shop still deletes these rows
    (Django's ``on_delete``), by the indexes on ``customer`` and ``job``."""
    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="customers",
                            db_constraint=False)
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE,
                                 related_name="+", db_constraint=False)
    created = models.BooleanField(default=False)
    row = models.PositiveIntegerField(default=0)  # the row of the file (1-based)
    source_code = models.CharField(max_length=40, blank=True)  # the file's own code

    class Meta:
        # The orders importer finds a shop's customers by the code their import read.
        indexes = [models.Index(fields=["tenant", "source_code"],
                                name="importedcustomer_code_idx")]

    def __str__(self):
        return f"{self.job_id}:{self.customer_id}"


class ExportKind(models.TextChoices):
    CUSTOMERS = "customers", _("Customers")
    GROUP = "group", _("Group members")
    ORDERS = "orders", _("Orders")
    LEDGER = "ledger", _("Point history")


class ExportFormat(models.TextChoices):
    XLSX = "xlsx", "Excel (.xlsx)"
    CSV = "csv", "CSV (.csv)"


class ExportJob(TenantOwned):
    kind = models.CharField(max_length=12, choices=ExportKind.choices)
    format = models.CharField(max_length=4, choices=ExportFormat.choices,
                              default=ExportFormat.XLSX)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    # What to export: the list's query string (filters, search, sort), columns, group...
    params = models.JSONField(default=dict)
    state = models.CharField(max_length=10, choices=ImportState.choices,
                             default=ImportState.QUEUED)
    total_rows = models.PositiveIntegerField(default=0)
    done_rows = models.PositiveIntegerField(default=0)
    file = models.FileField(upload_to=export_path, blank=True, max_length=200)
    file_name = models.CharField(max_length=255, blank=True)
    message = models.TextField(blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "created_by", "-created_at"],
                                name="exportjob_recent_idx")]

    def __str__(self):
        return self.file_name or f"export {self.pk}"
