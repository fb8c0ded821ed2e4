"""Import jobs: upload, mapping, check (the preview), run, cancel, history, templates.

Every write starts with the access table (``import.run``, managers); a job is always read
with its shop. The check and the run are Celery tasks (``imports.tasks``) around
``job_execute``; their live progress and the cancel flag live in the cache (the run's own
transaction cannot show its progress to others), the outcome on the job row.
"""

import datetime
import hashlib
import hmac
import io
import itertools
import logging
import pickle  # noqa: S403 - only of rows this module wrote, signed (see _kept_rows)
import tempfile
import time
import zlib
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm import access
from crm.models import Membership, Tenant

from . import engine, mapping, reading, results, values
from .models import (
    DuplicateRule,
    EmptyCells,
    ImportJob,
    ImportKind,
    ImportMode,
    ImportState,
    MappingTemplate,
    MatchMode,
)

log = logging.getLogger(__name__)

SAMPLE_ROWS = 5
# A running job that has not reported for this long was interrupted (its worker died; the
# transaction was rolled back, nothing written): the page says so and it can be run again.
STALE_AFTER = 10 * 60
RUNNING = (ImportState.CHECKING, ImportState.QUEUED, ImportState.RUNNING)


def _progress_key(job_id: int) -> str:
    return f"imports:progress:{job_id}"


def _cancel_key(job_id: int) -> str:
    return f"imports:cancel:{job_id}"


# --- upload ---------------------------------------------------------------------------------

def _save_upload(uploaded_file) -> tuple[Path, str, int]:
    """Copy the upload to a temporary file, hashing it, refusing it past the size limit
    without reading further."""
    limit = settings.IMPORT_MAX_BYTES
    size = getattr(uploaded_file, "size", None)
    if size is not None and size > limit:
        raise reading.FileRefused(_("The file is larger than %(mb)d MB.")
                                  % {"mb": limit // (1024 * 1024)})
    digest, total = hashlib.sha256(), 0
    suffix = Path(uploaded_file.name).suffix.lower()[:6]
    handle = tempfile.NamedTemporaryFile(suffix=suffix, delete=False)  # noqa: SIM115
    try:
        with handle:
            for chunk in uploaded_file.chunks():
                total += len(chunk)
                if total > limit:
                    raise reading.FileRefused(_("The file is larger than %(mb)d MB.")
                                              % {"mb": limit // (1024 * 1024)})
                digest.update(chunk)
                handle.write(chunk)
    except BaseException:
        # Refused, or the upload broke off half-way: nothing of it is kept.
        Path(handle.name).unlink(missing_ok=True)
        raise
    return Path(handle.name), digest.hexdigest(), total


def _read(path: Path, book, sheet_name: str | None):
    """The sheet's rows; in a .csv, the quote our exports put before a text starting with
    = + - @ (so that no spreadsheet reads it as a formula) is taken off again: an export
    imported back changes nothing."""
    sheet = reading.read_sheet(path, book, sheet_name)
    if book.kind == "csv":
        from .exports import unneutralise

        for _number, cells in sheet.rows:
            for i, cell in enumerate(cells):
                if isinstance(cell, str) and cell[:1] == "'":
                    cells[i] = unneutralise(cell)
    return sheet


def _describe_sheet(job: ImportJob, path: Path, book, sheet_name: str | None) -> None:
    """Headers, samples, row count and each column's date order, from one full read
    (which also counts the real rows against the limit). The rows read stay on the
    instance (``job.read_rows``, not stored) for ``import_path``, which runs at once."""
    sheet = _read(path, book, sheet_name)
    job.read_rows = sheet
    job.sheet = sheet.name
    job.header_row = sheet.header_row
    job.headers = sheet.headers
    job.total_rows = len(sheet.rows)
    job.samples = [[values.cell_text(c) for c in cells[:len(sheet.headers)]]
                   for _n, cells in sheet.rows[:SAMPLE_ROWS]]
    # Read by column: the rows turned into columns at once (a row shorter than the
    # headers gives None).
    columns = itertools.zip_longest(*(cells for _n, cells in sheet.rows)) if sheet.rows else ()
    job.column_dates = [values.date_order_of(column) for column in columns][:len(sheet.headers)]
    job.column_dates += [None] * (len(sheet.headers) - len(job.column_dates))
    job.mapping = mapping.auto_map(job.tenant, job.kind, sheet.headers)


def job_upload(*, tenant, actor, uploaded_file, kind: str, keep_rows: bool = True) -> ImportJob:
    """Check and keep an uploaded file; nothing is kept when it is refused (FileRefused,
    a ValidationError with the reason in words). ``keep_rows``: keep the rows read for a
    check and a run to come (``import_path`` runs at once, on ``job.read_rows``)."""
    access.require(actor, "import.run", tenant)
    if kind not in ImportKind.values:
        raise ValidationError(_("Choose what the file holds: customers or orders."))
    name = Path(uploaded_file.name or "").name[:255]
    path, digest, size = _save_upload(uploaded_file)
    with reading.gc_paused():
        try:
            book = reading.inspect(path, name)
            job = ImportJob(tenant=tenant, kind=kind, created_by=access.user_of(actor),
                            file_name=name, file_hash=digest, file_size=size,
                            file_type=book.kind, encoding=book.encoding, sheets=book.sheets,
                            options=engine.Options().as_dict())
            _describe_sheet(job, path, book, None)
            with path.open("rb") as handle:
                job.file.save(name, File(handle), save=False)
            job.save()
            if keep_rows:
                _keep_rows(job, job.__dict__.pop("read_rows"))
        finally:
            path.unlink(missing_ok=True)
    return job


# The rows the upload read, kept next to the file for the check and the run: reading a
# workbook of 100,000 rows again took 2.5-3 s each time, loading them takes 0.7 s. Signed
# with the site's key (they are unpickled); a missing, stale or altered copy is ignored
# and the file read again.

def _rows_path(job: ImportJob) -> Path:
    return Path(f"{job.file.path}.rows")


def _rows_digest(job: ImportJob, data: bytes) -> bytes:
    what = f"{job.file.name}:{job.file_hash}:{job.sheet}:".encode()
    return hmac.new(settings.SECRET_KEY.encode(), what + data, hashlib.sha256).digest()


def _keep_rows(job: ImportJob, sheet: reading.Sheet) -> None:
    data = zlib.compress(pickle.dumps(
        (sheet.name, sheet.header_row, sheet.headers, sheet.rows),
        protocol=pickle.HIGHEST_PROTOCOL), 1)
    try:
        _rows_path(job).write_bytes(_rows_digest(job, data) + data)
    except OSError:  # only a shortcut: the check and the run read the file instead
        log.warning("import %s: the rows read could not be kept", job.pk, exc_info=True)


def _kept_rows(job: ImportJob) -> reading.Sheet | None:
    try:
        blob = _rows_path(job).read_bytes()
    except (OSError, ValueError, NotImplementedError):  # gone; a storage without paths
        return None
    digest, data = blob[:32], blob[32:]
    if not hmac.compare_digest(digest, _rows_digest(job, data)):
        return None
    name, header_row, headers, rows = pickle.loads(zlib.decompress(data))  # noqa: S301
    return reading.Sheet(name=name, header_row=header_row, headers=headers, rows=rows)


def _forget_rows(job: ImportJob) -> None:
    if job.file:
        _rows_path(job).unlink(missing_ok=True)


def _book(job: ImportJob):
    if not job.file:
        raise ValidationError(_("The uploaded file was deleted after %(days)d days: upload "
                                "it again.") % {"days": settings.IMPORT_RETENTION_DAYS})
    return reading.Book(kind=job.file_type, sheets=job.sheets, encoding=job.encoding)


def _require_editable(job: ImportJob) -> None:
    if job.state not in (ImportState.UPLOADED, ImportState.CHECKED, ImportState.FAILED,
                         ImportState.CANCELLED):
        raise ValidationError(_("This import is running or done: upload the file again to "
                                "import it another way."))


def job_choose_sheet(*, tenant, actor, job: ImportJob, sheet: str) -> ImportJob:
    access.require(actor, "import.run", tenant)
    _require_editable(job)
    if sheet not in job.sheets:
        raise ValidationError(_("The workbook has no sheet “%(name)s”.") % {"name": sheet})
    with reading.gc_paused():
        _describe_sheet(job, Path(job.file.path), _book(job), sheet)
        job.state = ImportState.UPLOADED
        job.counts, job.errors, job.duplicates = {}, [], []
        job.save()
        _keep_rows(job, job.__dict__.pop("read_rows"))
    return job


DATE_PARSES = ("birthday", "date")


def _date_targets(tenant, kind: str) -> set:
    if kind == ImportKind.ORDERS:
        from . import orders_engine

        return set(orders_engine.DATE_TARGETS)
    from customers.fields import io_fields

    return {f.key for f in io_fields(tenant, importable=True) if f.io.parse in DATE_PARSES}


def job_configure(*, tenant, actor, job: ImportJob, mapping: list, options: dict) -> ImportJob:
    """Keep the manager's mapping and options, or raise ValidationError saying what is
    wrong (a field chosen twice, no name column, a date column whose order is unknown)."""
    access.require(actor, "import.run", tenant)
    _require_editable(job)
    known = {t.key for t in _targets(tenant, job.kind)}
    if len(mapping) != len(job.headers) or any(t and t not in known for t in mapping):
        raise ValidationError(_("Unknown field in the mapping: reload the page."))
    errors = []
    chosen = [t for t in mapping if t]
    twice = sorted({t for t in chosen if chosen.count(t) > 1
                    and t.split(":")[0] not in engine.MULTI_COLUMN})
    labels = {t.key: t.label for t in _targets(tenant, job.kind)}
    if twice:
        errors.append(_("Each field takes one column; chosen twice: %(fields)s.")
                      % {"fields": ", ".join(str(labels[t]) for t in twice)})
    opts = {
        "mode": options.get("mode") or ImportMode.ALL_OR_NOTHING,
        "match": options.get("match") or MatchMode.BOTH,
        "empty": options.get("empty") or EmptyCells.IGNORE,
        "duplicates": options.get("duplicates") or DuplicateRule.MERGE,
    }
    for key, choices in (("mode", ImportMode), ("match", MatchMode), ("empty", EmptyCells),
                         ("duplicates", DuplicateRule)):
        if opts[key] not in choices.values:
            errors.append(_("Unknown option."))
    errors += _required_columns(job.kind, chosen, opts)
    dates = {}
    wanted = options.get("date_orders") or {}
    date_targets = _date_targets(tenant, job.kind)
    for index, target in enumerate(mapping):
        if target not in date_targets:
            continue
        order = wanted.get(str(index)) or wanted.get(index) or ""
        detected = job.column_dates[index] if index < len(job.column_dates) else None
        if not order:
            order = detected if detected in ("dmy", "mdy") else ""
        if order not in ("dmy", "mdy"):
            if detected == "ambiguous":
                errors.append(_("Column “%(header)s”: every date could be day/month or "
                                "month/day: choose the order.") % {"header": job.headers[index]})
                continue
            order = "dmy"
        dates[str(index)] = order
    if errors:
        raise ValidationError(errors)
    job.mapping = list(mapping)
    job.options = {**opts, "date_orders": dates}
    job.state = ImportState.UPLOADED
    job.counts, job.errors, job.duplicates = {}, [], []
    job.save()
    return job


def _required_columns(kind: str, chosen: list, opts: dict) -> list:
    keys = {t.split(":")[0] for t in chosen}
    if kind == ImportKind.ORDERS:
        from . import orders_engine

        return orders_engine.required_columns(keys)
    if opts["match"] != MatchMode.UPDATE and not keys & {"name", "first_name", "last_name"}:
        return [_("Choose the column with the customer's name (new customers need one).")]
    if not keys & {"name", "first_name", "last_name", "phone", "email", "code"}:
        return [_("Choose at least one column that says who the customer is: name, phone, "
                  "email or code.")]
    return []


def _targets(tenant, kind):
    return mapping.targets(tenant, kind)


def job_check(*, tenant, actor, job: ImportJob) -> ImportJob:
    """Queue the preview: every row parsed and matched, nothing written."""
    return _queue(tenant, actor, job, dry_run=True)


def job_start(*, tenant, actor, job: ImportJob) -> ImportJob:
    """Queue the run of a checked job. In "all or nothing", a job with rejected rows is not
    started (it would write nothing)."""
    if job.state != ImportState.CHECKED:
        raise ValidationError(_("Check the data first."))
    if job.options.get("mode") == ImportMode.ALL_OR_NOTHING and job.counts.get("rejected"):
        raise ValidationError(_("%(n)d rows have errors and the mode is “all or nothing”: fix "
                                "the file, or choose to write the valid rows only.")
                              % {"n": job.counts["rejected"]})
    return _queue(tenant, actor, job, dry_run=False)


def _queue(tenant, actor, job: ImportJob, *, dry_run: bool) -> ImportJob:
    from . import tasks

    access.require(actor, "import.run", tenant)
    if job.state in RUNNING:
        raise ValidationError(_("This import is already running."))
    if job.state == ImportState.DONE:
        raise ValidationError(_("This file was imported already."))
    _book(job)
    job.state = ImportState.CHECKING if dry_run else ImportState.QUEUED
    job.dry_run = dry_run
    job.message = ""
    job.save(update_fields=["state", "dry_run", "message"])
    cache.delete(_cancel_key(job.pk))
    cache.set(_progress_key(job.pk), {"phase": "queued", "done": 0, "total": job.total_rows,
                                      "at": time.time()}, 24 * 3600)
    membership_id = actor.pk if isinstance(actor, Membership) else None
    task = tasks.import_check if dry_run else tasks.import_run
    transaction.on_commit(lambda: task.delay(tenant.pk, job.pk, membership_id))
    return job


def job_cancel(*, tenant, actor, job: ImportJob) -> None:
    """Ask the running check or import to stop; its transaction is rolled back."""
    access.require(actor, "import.run", tenant)
    if job.state not in RUNNING:
        raise ValidationError(_("This import is not running."))
    cache.set(_cancel_key(job.pk), True, 24 * 3600)
    if job.state == ImportState.QUEUED or (
            job.state == ImportState.CHECKING and job.started_at is None):
        ImportJob.objects.filter(pk=job.pk, state=job.state).update(
            state=ImportState.CANCELLED, finished_at=timezone.now())


def job_progress(job: ImportJob) -> dict | None:
    """{"phase", "done", "total"} of a running job (from its worker), else None."""
    progress = cache.get(_progress_key(job.pk))
    if progress is None:
        return None
    return {k: progress[k] for k in ("phase", "done", "total")}


def job_refresh(job: ImportJob) -> ImportJob:
    """A job shown as running whose worker stopped reporting long ago was interrupted: its
    transaction was rolled back; mark it failed so that it can be run again."""
    if job.state in (ImportState.RUNNING, ImportState.CHECKING) and job.started_at:
        progress = cache.get(_progress_key(job.pk))
        at = progress.get("at") if progress else None
        if at is None or time.time() - at > STALE_AFTER:
            ImportJob.objects.filter(pk=job.pk, state=job.state).update(
                state=ImportState.FAILED, finished_at=timezone.now(),
                message=_("The import was interrupted; nothing was written. Run it again."))
            job.refresh_from_db()
    return job


# --- the check and the run (Celery) ---------------------------------------------------------

def _actor(job: ImportJob, membership_id: int | None):
    if membership_id is None:
        return access.SYSTEM
    return Membership.objects.select_related("tenant", "user").get(
        pk=membership_id, tenant=job.tenant)


def job_execute(tenant_id: int, job_id: int, membership_id: int | None, *,
                dry_run: bool) -> None:
    """The body of the check and the run: read the file, run the engine, keep the outcome.
    A cancelled or failed run has written nothing."""
    tenant = Tenant.objects.get(pk=tenant_id)
    job = ImportJob.objects.for_tenant(tenant).filter(pk=job_id).first()
    if job is None or job.state == ImportState.CANCELLED:
        return
    actor = _actor(job, membership_id)
    job.state = ImportState.CHECKING if dry_run else ImportState.RUNNING
    job.started_at = timezone.now()
    job.save(update_fields=["state", "started_at"])

    def progress(phase, done, total):
        cache.set(_progress_key(job.pk), {"phase": phase, "done": done, "total": total,
                                          "at": time.time()}, 24 * 3600)

    def should_stop():
        return bool(cache.get(_cancel_key(job.pk)))

    try:
        progress("reading", 0, job.total_rows)
        summary = execute(job, actor, dry_run=dry_run, progress=progress,
                          should_stop=should_stop)
    except engine.CancelledError:
        _finish(job, ImportState.CANCELLED, _("Cancelled: nothing was written."))
        return
    except (ValidationError, access.AccessDenied) as exc:
        _finish(job, ImportState.FAILED, " ".join(getattr(exc, "messages", [str(exc)])))
        return
    except Exception:
        log.exception("import %s failed", job.pk)
        _finish(job, ImportState.FAILED, _("The import failed; nothing was written. Run it "
                                           "again, or send the file to support."))
        raise
    finally:
        cache.delete(_cancel_key(job.pk))
    progress("done", summary.rows, summary.rows)


def execute(job: ImportJob, actor, *, dry_run: bool, progress=None,
            should_stop=None, sheet=None) -> engine.Summary:
    """Read the job's file (unless ``sheet``, its rows already read) and check or import it
    (the command and the tasks share this); the outcome is kept on the job."""
    book = _book(job)
    options = engine.Options.from_dict(job.options)
    if job.kind == ImportKind.ORDERS:
        from . import orders_engine

        run = orders_engine.run
    else:
        run = engine.run
    # A file's cells and records are millions of objects without cycles: the cyclic
    # collector's passes over them took ~2 s of a 100,000-row run. Off until they are gone
    # (reference counting frees them all): the rows the upload read on the job are taken
    # off it, so that this function holds the last reference.
    with reading.gc_paused():
        if sheet is None:
            sheet = (job.__dict__.pop("read_rows", None) or _kept_rows(job)
                     or _read(Path(job.file.path), book, job.sheet or None))
        summary = run(job.tenant, actor, sheet, job.mapping, options, dry_run=dry_run,
                      job=job, progress=progress, should_stop=should_stop)
        _keep(job, summary, sheet, dry_run)
        del sheet
    return summary


def _keep(job: ImportJob, summary, sheet, dry_run: bool) -> None:
    job.counts = summary.counts()
    job.errors = [e.as_dict() for e in summary.errors[:engine.ERRORS_KEPT]]
    job.duplicates = summary.duplicates[:engine.ERRORS_KEPT]
    job.duration = round(summary.duration, 2)
    job.dry_run = dry_run
    if job.error_file:
        job.error_file.delete(save=False)
    if summary.errors:
        content = results.error_workbook(sheet, summary.errors)
        stem = Path(job.file_name).stem[:80] or "import"
        job.error_file.save(f"{stem}-loi.xlsx", io.BytesIO(content), save=False)
    job.finished_at = timezone.now()
    if dry_run:
        job.state = ImportState.CHECKED
    elif summary.written:
        job.state = ImportState.DONE
        _forget_rows(job)  # a done import is not run again
    else:
        job.state = ImportState.FAILED
        job.message = _("%(n)d rows have errors and the mode is “all or nothing”: nothing was "
                        "written.") % {"n": summary.rejected}
    job.save()


def _finish(job: ImportJob, state: str, message: str) -> None:
    ImportJob.objects.filter(pk=job.pk).update(state=state, message=message,
                                               finished_at=timezone.now())
    cache.delete(_progress_key(job.pk))


def job_error_file(job: ImportJob):
    """(the error workbook, its download name) or None."""
    if not job.error_file:
        return None
    stem = Path(job.file_name).stem[:80] or "import"
    return job.error_file, f"{stem}-loi.xlsx"


# --- operators: manage.py import_customers --------------------------------------------------

def import_path(*, tenant, actor, path: Path, kind: str = ImportKind.CUSTOMERS,
                options: dict | None = None, dry_run: bool = False,
                sheet: str | None = None,
                date_order: str | None = None) -> tuple[ImportJob, engine.Summary]:
    """Import a file from disk through the same code path as the screens (the mapping is
    the automatic one); the job stays in the shop's history."""

    class _Upload:
        def __init__(self, handle, name, size):
            self.handle, self.name, self.size = handle, name, size

        def chunks(self):
            while chunk := self.handle.read(1024 * 1024):
                yield chunk

    # The collector stays off from the read to the end of the run (reading.gc_paused).
    with reading.gc_paused():
        with path.open("rb") as handle:
            job = job_upload(tenant=tenant, actor=actor, kind=kind, keep_rows=False,
                             uploaded_file=_Upload(handle, path.name, path.stat().st_size))
        if sheet:
            job = job_choose_sheet(tenant=tenant, actor=actor, job=job, sheet=sheet)
        options = dict(options or {})
        if date_order:
            dates = _date_targets(tenant, kind)
            options["date_orders"] = {str(i): date_order
                                      for i, target in enumerate(job.mapping) if target in dates}
        job = job_configure(tenant=tenant, actor=actor, job=job, mapping=job.mapping,
                            options=options)
        job.started_at = timezone.now()
        job.state = ImportState.CHECKING if dry_run else ImportState.RUNNING
        job.save(update_fields=["started_at", "state"])
        # The upload has just read the whole sheet (job.read_rows): not read again.
        summary = execute(job, actor, dry_run=dry_run)
    return job, summary


# --- mapping templates ----------------------------------------------------------------------

def template_save(*, tenant, actor, job: ImportJob, name: str) -> MappingTemplate:
    access.require(actor, "import.run", tenant)
    name = values.clean_text(name or "")[:100]
    if not name:
        raise ValidationError(_("Give the template a name."))
    entries = {mapping.header_key(h): t for h, t in zip(job.headers, job.mapping, strict=False)
               if mapping.header_key(h)}
    template, _created = MappingTemplate.objects.for_tenant(tenant).update_or_create(
        tenant=tenant, kind=job.kind, name=name,
        defaults={"mapping": entries, "created_by": access.user_of(actor),
                  "options": {k: v for k, v in job.options.items() if k != "date_orders"}})
    return template


def template_apply(*, tenant, actor, job: ImportJob, template: MappingTemplate) -> ImportJob:
    access.require(actor, "import.run", tenant)
    _require_editable(job)
    if template.tenant_id != tenant.pk or template.kind != job.kind:
        raise ValidationError(_("This template is for another kind of file."))
    job.mapping = mapping.apply_template(template.mapping, job.headers)
    job.options = {**job.options, **template.options}
    job.state = ImportState.UPLOADED
    job.save(update_fields=["mapping", "options", "state"])
    return job


def template_delete(*, tenant, actor, template: MappingTemplate) -> None:
    access.require(actor, "import.run", tenant)
    if template.tenant_id != tenant.pk:
        raise access.AccessDenied("import.run")
    template.delete()


def template_workbook(tenant, kind: str) -> bytes:
    """The example workbook: Vietnamese headers, one example row."""
    return results.template_workbook(tenant, kind)


# --- retention ------------------------------------------------------------------------------

def files_purge(now: datetime.datetime | None = None) -> int:
    """Delete uploaded files, error workbooks and exports older than the retention; the
    history rows stay. Returns how many files went."""
    from . import exports

    before = (now or timezone.now()) - datetime.timedelta(days=settings.IMPORT_RETENTION_DAYS)
    removed = 0
    # Every shop's old files: a nightly job of the platform, not a shop's read.
    old = ImportJob.objects.filter(created_at__lt=before, file_deleted_at__isnull=True)
    for job in old.iterator(chunk_size=200):
        _forget_rows(job)
        for stored in (job.file, job.error_file):
            if stored:
                stored.delete(save=False)
                removed += 1
        ImportJob.objects.filter(pk=job.pk).update(
            file="", error_file="", file_deleted_at=timezone.now())
    removed += exports.exports_purge(before)
    return removed
