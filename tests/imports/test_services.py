"""Import jobs: upload -> mapping -> check -> run, history, templates, retention, the
command; a worker killed mid-import leaves nothing."""

import datetime
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from crm.access import AccessDenied
from customers.models import Customer
from imports import services
from imports.models import ImportedCustomer, ImportJob, ImportMode, ImportState, MappingTemplate
from imports.reading import FileRefused

pytestmark = pytest.mark.django_db

HEADERS = ["Mã khách hàng", "Tên khách hàng", "Điện thoại", "Ngày sinh", "Ghi chú"]
ROWS = [["", "Nguyễn Thị Lan", "0912345678", "15/08/1990", "Khách quen"],
        ["", "Trần Văn Bình", "0987654321", "03/02/1985", ""]]


def workbook(headers=HEADERS, rows=ROWS, title=None) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    if title:
        sheet.append([title])
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def upload(tenant, actor, content=None, name="khach-hang.xlsx", kind="customers"):
    return services.job_upload(tenant=tenant, actor=actor, kind=kind,
                               uploaded_file=SimpleUploadedFile(name, content or workbook()))


@pytest.fixture
def shop(tenant, lists, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return tenant


def test_upload_reads_headers_samples_and_maps_them(shop, manager):
    job = upload(shop, manager, workbook(title="DANH SÁCH KHÁCH HÀNG"))
    assert job.state == ImportState.UPLOADED
    assert (job.header_row, job.total_rows) == (2, 2)
    assert job.headers == HEADERS
    assert job.mapping == ["code", "name", "phone", "birthday", "note"]
    assert job.samples[0][1] == "Nguyễn Thị Lan"
    assert job.column_dates[3] == "dmy"
    assert len(job.file_hash) == 64 and job.file


def test_a_refused_file_keeps_nothing(shop, manager):
    with pytest.raises(FileRefused):
        upload(shop, manager, b"not a workbook at all", name="fake.xlsx")
    assert not ImportJob.objects.exists()


def test_staff_may_not_upload(shop, staff):
    with pytest.raises(AccessDenied):
        upload(shop, staff)


def _checked(shop, manager, **options):
    job = upload(shop, manager)
    services.job_configure(tenant=shop, actor=manager, job=job, mapping=job.mapping,
                           options=options)
    services.job_check(tenant=shop, actor=manager, job=job)
    return job


def test_check_then_run(shop, manager, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = _checked(shop, manager)
    job.refresh_from_db()
    assert job.state == ImportState.CHECKED
    assert job.counts["created"] == 2 and job.counts["rejected"] == 0
    assert not Customer.objects.for_tenant(shop).exists()
    with django_capture_on_commit_callbacks(execute=True):
        services.job_start(tenant=shop, actor=manager, job=job)
    job.refresh_from_db()
    assert job.state == ImportState.DONE and job.duration is not None
    assert Customer.objects.for_tenant(shop).count() == 2
    assert ImportedCustomer.objects.filter(job=job, created=True).count() == 2


def test_all_or_nothing_with_errors_cannot_start(shop, manager,
                                                 django_capture_on_commit_callbacks):
    bad = [*ROWS, ["", "Lê Hoa", "12", "31/02/1990", ""]]
    job = upload(shop, manager, workbook(rows=bad))
    with django_capture_on_commit_callbacks(execute=True):
        services.job_configure(tenant=shop, actor=manager, job=job, mapping=job.mapping,
                               options={})
        services.job_check(tenant=shop, actor=manager, job=job)
    job.refresh_from_db()
    assert job.counts["rejected"] == 1
    assert {"row": 4, "column": "Ngày sinh"}.items() <= job.errors[-1].items() or any(
        e["column"] == "Ngày sinh" and e["row"] == 4 for e in job.errors)
    with pytest.raises(ValidationError):
        services.job_start(tenant=shop, actor=manager, job=job)
    # The error workbook: the rejected row as uploaded, with a "Lỗi" column.
    file, name = services.job_error_file(job)
    assert name == "khach-hang-loi.xlsx"
    rows = list(openpyxl.load_workbook(file.path).active.iter_rows(values_only=True))
    assert rows[1][:3] == (4, None, "Lê Hoa") and "31/02/1990" in rows[1][-1]


def test_an_ambiguous_date_column_needs_the_managers_order(shop, manager):
    rows = [["", "An", "0911000001", "01/02/1990", ""], ["", "Bình", "0911000002", "03/04/1991",
                                                         ""]]
    job = upload(shop, manager, workbook(rows=rows))
    assert job.column_dates[3] == "ambiguous"
    with pytest.raises(ValidationError):
        services.job_configure(tenant=shop, actor=manager, job=job, mapping=job.mapping,
                               options={})
    services.job_configure(tenant=shop, actor=manager, job=job, mapping=job.mapping,
                           options={"date_orders": {"3": "mdy"}})
    assert job.options["date_orders"] == {"3": "mdy"}


def test_a_field_chosen_twice_is_refused(shop, manager):
    job = upload(shop, manager)
    with pytest.raises(ValidationError):
        services.job_configure(tenant=shop, actor=manager, job=job,
                               mapping=["name", "name", "phone", "birthday", "note"], options={})


def test_templates_save_and_apply(shop, manager):
    job = upload(shop, manager)
    services.job_configure(tenant=shop, actor=manager, job=job,
                           mapping=["", "name", "phone", "", "note"],
                           options={"mode": ImportMode.SKIP_INVALID})
    template = services.template_save(tenant=shop, actor=manager, job=job, name="KiotViet")
    other = upload(shop, manager)
    services.template_apply(tenant=shop, actor=manager, job=other, template=template)
    assert other.mapping == ["", "name", "phone", "", "note"]
    assert other.options["mode"] == ImportMode.SKIP_INVALID
    services.template_delete(tenant=shop, actor=manager, template=template)
    assert not MappingTemplate.objects.exists()


def test_template_workbook_has_vietnamese_headers(shop):
    book = openpyxl.load_workbook(io.BytesIO(services.template_workbook(shop, "customers")))
    header, example = list(book.active.iter_rows(values_only=True))[:2]
    assert "Tên khách hàng" in header and "Số điện thoại" in header or "Điện thoại" in header
    assert "Nguyễn Thị Lan" in example


def test_files_are_purged_after_the_retention(shop, manager, settings):
    job = upload(shop, manager)
    path = Path(job.file.path)
    ImportJob.objects.filter(pk=job.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=settings.IMPORT_RETENTION_DAYS + 1))
    assert services.files_purge() >= 1
    job.refresh_from_db()
    assert not path.exists() and not job.file and job.file_deleted_at
    with pytest.raises(ValidationError):
        services.job_check(tenant=shop, actor=manager, job=job)


def test_the_rows_read_at_upload_serve_the_check_and_the_run(shop, manager, monkeypatch,
                                                             django_capture_on_commit_callbacks):
    job = upload(shop, manager)
    kept = services._kept_rows(job)
    assert (kept.headers, kept.header_row, [cells[1] for _n, cells in kept.rows]) == (
        HEADERS, 1, ["Nguyễn Thị Lan", "Trần Văn Bình"])
    read = []
    monkeypatch.setattr(services.reading, "read_sheet",
                        lambda *args: read.append(args) or pytest.fail("the file read again"))
    with django_capture_on_commit_callbacks(execute=True):
        services.job_configure(tenant=shop, actor=manager, job=job, mapping=job.mapping,
                               options={})
        services.job_check(tenant=shop, actor=manager, job=job)
    job.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        services.job_start(tenant=shop, actor=manager, job=job)
    job.refresh_from_db()
    assert job.state == ImportState.DONE and not read
    assert Customer.objects.for_tenant(shop).count() == 2
    assert not services._rows_path(job).exists()  # a done import is not run again


def test_altered_or_missing_kept_rows_are_ignored(shop, manager):
    job = upload(shop, manager)
    path = services._rows_path(job)
    blob = bytearray(path.read_bytes())
    blob[-1] ^= 1
    path.write_bytes(bytes(blob))
    assert services._kept_rows(job) is None  # the signature no longer matches
    path.unlink()
    assert services._kept_rows(job) is None
    summary = services.execute(job, manager, dry_run=True)  # the file is read again
    assert summary.counts()["created"] == 2


def test_choosing_another_sheet_keeps_its_rows(shop, manager):
    book = openpyxl.Workbook()
    book.active.title = "Ghi chú"
    book.active.append(["Không phải khách"])
    other = book.create_sheet("Khách")
    other.append(HEADERS)
    other.append(ROWS[0])
    buffer = io.BytesIO()
    book.save(buffer)
    job = upload(shop, manager, buffer.getvalue())
    job = services.job_choose_sheet(tenant=shop, actor=manager, job=job, sheet="Khách")
    kept = services._kept_rows(job)
    assert kept.name == "Khách" and kept.rows[0][1][1] == "Nguyễn Thị Lan"


def test_purge_deletes_the_kept_rows_too(shop, manager, settings):
    job = upload(shop, manager)
    path = services._rows_path(job)
    assert path.exists()
    ImportJob.objects.filter(pk=job.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=settings.IMPORT_RETENTION_DAYS + 1))
    services.files_purge()
    assert not path.exists()


def test_command_prints_the_summary_as_json(shop, tmp_path, capsys):
    path = tmp_path / "khach.xlsx"
    path.write_bytes(workbook(rows=[*ROWS, ["", "Lê Hoa", "12", "", ""]]))
    call_command("import_customers", str(path), "--shop", shop.slug, "--dry-run", "--json")
    result = json.loads(capsys.readouterr().out)
    assert (result["rows"], result["valid"], result["rejected"], result["created"]) == (3, 2, 1,
                                                                                          2)
    assert result["errors"][0]["row"] == 4 and result["errors"][0]["column"] == "Điện thoại"
    assert not Customer.objects.for_tenant(shop).exists()
    call_command("import_customers", str(path), "--shop", shop.slug, "--mode", "skip-invalid",
                 "--json")
    assert Customer.objects.for_tenant(shop).count() == 2


KILL_SCRIPT = """
import os, signal, sys
import django
django.setup()
from crm.access import SYSTEM
from crm.models import Tenant
from imports import engine
from imports.reading import Sheet

tenant = Tenant.objects.get(pk=int(sys.argv[1]))
rows = [(i + 2, [f"Khách {i}", f"09{i:08d}"]) for i in range(int(sys.argv[2]))]
sheet = Sheet(name="Sheet1", header_row=1, headers=["Tên", "SĐT"], rows=rows)

def progress(phase, done, total):
    if phase == "finishing":  # every row written, not yet committed: die here
        os.kill(os.getpid(), signal.SIGKILL)

engine.run(tenant, SYSTEM, sheet, ["name", "phone"], engine.Options(), dry_run=False,
           progress=progress)
"""


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="needs a database another process can open (PostgreSQL, as in CI)")
def test_a_worker_killed_mid_import_leaves_no_partial_data(tenant, lists):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "crm.settings_test"}
    name = connection.settings_dict["NAME"]
    env["DATABASE_URL"] = (f"postgres://{connection.settings_dict['USER']}@"
                           f"{connection.settings_dict['HOST']}:"
                           f"{connection.settings_dict['PORT']}/{name}")
    done = subprocess.run([sys.executable, "-c", KILL_SCRIPT, str(tenant.pk), "6000"],
                          env=env, cwd=Path(__file__).resolve().parents[2], timeout=300,
                          capture_output=True, text=True)
    assert done.returncode == -9, done.stderr  # killed after writing, before the commit
    assert Customer.objects.for_tenant(tenant).count() == 0


def test_the_command_path_keeps_no_copy_of_the_rows(shop, manager, tmp_path):
    path = tmp_path / "khach.xlsx"
    path.write_bytes(workbook())
    job, summary = services.import_path(tenant=shop, actor=manager, path=path, dry_run=True)
    assert summary.counts()["created"] == 2  # read once, by the upload, and used at once
    assert not services._rows_path(job).exists()


def test_the_collector_waits_until_the_rows_are_gone(shop, manager, tmp_path, monkeypatch):
    """From the read to the end of the run the cyclic collector is off (its passes over a
    file's millions of young objects cost seconds); the rows are not left on the job, so
    they are gone when it comes back."""
    import gc

    from imports import engine

    seen = []
    run = engine.run

    def watched(*args, **kwargs):
        seen.append(gc.isenabled())
        return run(*args, **kwargs)

    monkeypatch.setattr(engine, "run", watched)
    path = tmp_path / "khach.xlsx"
    path.write_bytes(workbook())
    job, summary = services.import_path(tenant=shop, actor=manager, path=path)
    assert summary.counts()["created"] == 2 and seen == [False]
    assert gc.isenabled() and "read_rows" not in job.__dict__
    uploaded = upload(shop, manager)  # the screens' upload keeps them on disk, not on the job
    assert "read_rows" not in uploaded.__dict__ and services._kept_rows(uploaded) is not None
