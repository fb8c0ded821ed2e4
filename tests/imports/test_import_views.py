"""The import screens: upload (and its refusals), the mapping form, the check's preview, the
run and its result, the error workbook, saved mappings, the progress bar; managers only;
another shop's job or mapping is a 404; the history's query count does not grow.

Celery runs eagerly in the tests: the check and the run happen inside the POST that queues
them (on commit), so the next page already shows their outcome.
"""

import io
import time

import openpyxl
import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from customers.models import Customer
from imports import services
from imports.models import ImportJob, ImportMode, ImportState, MappingTemplate

pytestmark = pytest.mark.django_db(transaction=True)

LIST = "/admin/imports/"
UPLOAD = "/admin/imports/upload/"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

HEADERS = ["Họ tên", "SĐT", "Ngày sinh", "Ghi chú"]
ROWS = [
    ["Nguyễn Thị Lan", "0912 345 678", "15/08/1990", "Khách quen"],
    ["Trần Văn Bình", "0987654321", "31/02/1990", ""],  # no 31 February: rejected
    ["Lê Thu Hà", "+84 903 111 222", "01/12/1985", "Thích trà"],
]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()
    yield
    cache.clear()


def workbook(*sheets) -> bytes:
    """An .xlsx with one sheet per (title, rows)."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets:
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def upload(client, rows=None, *, name="khach-hang.xlsx", kind="customers", content=None):
    content = content if content is not None else workbook(("Khách hàng", rows or
                                                             [HEADERS, *ROWS]))
    return client.post(UPLOAD, {"file": SimpleUploadedFile(name, content, content_type=XLSX),
                                "kind": kind})


def job_url(job, name="job") -> str:
    return reverse(f"imports:{name}", kwargs={"pk": job.pk})


def mapping_data(job, **options) -> dict:
    """The mapping form as the page shows it (the automatic mapping), changed by
    ``options`` (col_<i>, date_<i>, mode, ...)."""
    data = {f"col_{i}": target for i, target in enumerate(job.mapping)}
    data.update({"mode": ImportMode.ALL_OR_NOTHING, "match": "both", "empty": "ignore",
                 "duplicates": "merge", "save_as": ""})
    data.update(options)
    return data


def uploaded(client) -> ImportJob:
    response = upload(client)
    assert response.status_code == 302, response.content.decode()[:2000]
    job = ImportJob.objects.get()
    assert response["Location"] == job_url(job)
    return job


def checked(client, job, **options) -> ImportJob:
    response = client.post(job_url(job, "job_mapping"), mapping_data(job, **options))
    assert response.status_code == 302, response.content.decode()[:3000]
    job.refresh_from_db()
    return job


# --- list and upload -----------------------------------------------------------------------

def test_list_shows_the_upload_form_its_limits_and_the_example_files(login, manager):
    body = login(manager).get(LIST).content.decode()
    assert 'data-testid="upload-form"' in body
    assert 'accept=".xlsx,.xls,.csv"' in body
    assert "20 MB" in body and "200.000" in body
    assert reverse("imports:template_workbook") + "?kind=customers" in body
    assert reverse("imports:template_workbook") + "?kind=orders" in body


def test_upload_opens_the_mapping_with_the_headers_matched(login, manager):
    client = login(manager)
    job = uploaded(client)
    assert (job.kind, job.state, job.created_by) == ("customers", ImportState.UPLOADED,
                                                     manager.user)
    response = client.get(job_url(job))
    assert response.context["page"] == "mapping"
    form = response.context["form"]
    assert [form.fields[f"col_{i}"].initial for i in range(4)][:3] == ["name", "phone",
                                                                         "birthday"]
    body = response.content.decode()
    assert body.count('data-testid="mapping-row"') == 4
    for sample in ("Nguyễn Thị Lan", "0912 345 678", "15/08/1990"):
        assert sample in body
    # The history lists it: file name and the start of its hash.
    history = client.get(LIST).content.decode()
    assert "khach-hang.xlsx" in history and job.file_hash[:10] in history


def test_a_file_that_is_not_what_its_name_says_is_refused_and_nothing_kept(login, manager):
    response = upload(login(manager), content=b"this is not a workbook at all")
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert errors, "the refusal is shown on the form"
    message = " ".join(str(e) for field in errors.values() for e in field)
    assert message and message in response.content.decode()
    assert 'data-testid="upload-form"' in response.content.decode()
    assert ImportJob.objects.count() == 0


def test_an_upload_without_a_file_asks_for_one(login, manager):
    response = login(manager).post(UPLOAD, {"kind": "customers"})
    assert response.status_code == 400
    assert "file" in response.context["form"].errors
    assert ImportJob.objects.count() == 0


def test_a_workbook_with_several_sheets_offers_the_choice(login, manager):
    client = login(manager)
    content = workbook(("Hướng dẫn", [["Ghi chú"], ["Điền từ dòng 2"]]),
                       ("Danh sách", [HEADERS, *ROWS]))
    assert upload(client, content=content).status_code == 302
    job = ImportJob.objects.get()
    body = client.get(job_url(job)).content.decode()
    assert 'data-testid="sheet-form"' in body
    response = client.post(job_url(job, "job_sheet"), {"sheet": "Danh sách"})
    assert response.status_code == 302
    job.refresh_from_db()
    assert (job.sheet, job.headers) == ("Danh sách", HEADERS)
    assert client.post(job_url(job, "job_sheet"), {"sheet": "Không có"}).status_code == 302
    job.refresh_from_db()
    assert job.sheet == "Danh sách"


# --- mapping, check, preview, run ------------------------------------------------------------

def test_check_then_run_in_skip_invalid_mode_writes_the_valid_rows(login, manager):
    client = login(manager)
    job = checked(client, uploaded(client), mode=ImportMode.SKIP_INVALID)
    assert job.state == ImportState.CHECKED
    assert Customer.objects.count() == 0  # the check writes nothing
    response = client.get(job_url(job))
    assert response.context["page"] == "preview"
    body = response.content.decode()
    counts = {key: response.context["counts"].get(key) for key in ("created", "rejected")}
    assert counts == {"created": 2, "rejected": 1}
    assert 'data-testid="count-created">2<' in body
    assert 'data-testid="count-rejected">1<' in body
    assert "31/02/1990" in body  # the error names the value, with its row
    assert '<td class="text-nowrap font-monospace">3</td>' in body  # row 3 of the file
    run_button = body[body.index('data-testid="run-submit"'):].split(">", 1)[0]
    assert "disabled" not in run_button

    assert client.post(job_url(job, "job_run")).status_code == 302
    job.refresh_from_db()
    assert job.state == ImportState.DONE
    response = client.get(job_url(job))
    assert response.context["page"] == "result"
    body = response.content.decode()
    assert 'data-testid="progress-percent">100 %<' in body
    assert 'data-testid="count-created">2<' in body
    assert sorted(Customer.objects.for_tenant(manager.tenant)
                  .values_list("full_name", flat=True)) == ["Lê Thu Hà", "Nguyễn Thị Lan"]

    errors = client.get(job_url(job, "job_errors"))
    assert errors.status_code == 200
    assert "khach-hang" in errors["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(errors.streaming_content))).active
    rows = [[c for c in row] for row in sheet.iter_rows(values_only=True)]
    assert "Trần Văn Bình" in rows[1] and "31/02/1990" in rows[1]
    assert len(rows) == 2 and rows[1][-1] and "31/02/1990" in rows[1][-1]
    history = client.get(LIST).content.decode()
    assert job_url(job, "job_errors") in history


def test_all_or_nothing_with_a_bad_row_cannot_run(login, manager):
    client = login(manager)
    job = checked(client, uploaded(client))
    response = client.get(job_url(job))
    assert response.context["blocked"] is True
    body = response.content.decode()
    run_button = body[body.index('data-testid="run-submit"'):].split(">", 1)[0]
    assert "disabled" in run_button
    # Posting anyway (an old page, a crafted request) is refused and writes nothing.
    response = client.post(job_url(job, "job_run"), follow=True)
    job.refresh_from_db()
    assert job.state == ImportState.CHECKED
    assert Customer.objects.count() == 0
    assert list(response.context["messages"])


def test_all_or_nothing_with_valid_rows_runs(login, manager):
    client = login(manager)
    response = upload(client, [HEADERS, ROWS[0], ROWS[2]])
    job = checked(client, ImportJob.objects.get())
    assert client.get(job_url(job)).context["blocked"] is False
    client.post(job_url(job, "job_run"))
    job.refresh_from_db()
    assert response.status_code == 302 and job.state == ImportState.DONE
    assert Customer.objects.for_tenant(manager.tenant).count() == 2
    assert client.get(job_url(job, "job_errors")).status_code == 404  # no rejected row


def test_a_field_chosen_twice_is_shown_on_the_form_and_nothing_checked(login, manager):
    client = login(manager)
    job = uploaded(client)
    response = client.post(job_url(job, "job_mapping"), mapping_data(job, col_3="name"))
    assert response.status_code == 400
    assert response.context["form"].errors["col_3"]
    job.refresh_from_db()
    assert job.state == ImportState.UPLOADED and job.counts == {}


def test_a_service_refusal_shows_on_the_mapping_form(login, manager):
    """No name column for new customers: job_configure's ValidationError, on the form."""
    client = login(manager)
    job = uploaded(client)
    response = client.post(job_url(job, "job_mapping"), mapping_data(job, col_0=""))
    assert response.status_code == 400
    assert response.context["form"].non_field_errors()
    job.refresh_from_db()
    assert job.state == ImportState.UPLOADED


def test_an_ambiguous_date_column_needs_its_order(login, manager):
    client = login(manager)
    rows = [["Họ tên", "Ngày sinh"], ["Nguyễn Thị Lan", "05/03/1990"],
            ["Lê Thu Hà", "04/02/1985"]]
    upload(client, rows)
    job = ImportJob.objects.get()
    assert job.column_dates[1] == "ambiguous"
    page = client.get(job_url(job))
    assert page.context["form"].fields["date_1"].required
    assert 'data-testid="date-order"' in page.content.decode()
    response = client.post(job_url(job, "job_mapping"), mapping_data(job))
    assert response.status_code == 400
    assert response.context["form"].errors["date_1"]
    job = checked(client, job, date_1="mdy")
    assert job.options["date_orders"] == {"1": "mdy"}
    client.post(job_url(job, "job_run"))
    lan = Customer.objects.for_tenant(manager.tenant).get(full_name="Nguyễn Thị Lan")
    assert (lan.birth_day, lan.birth_month, lan.birth_year) == (3, 5, 1990)


def test_edit_the_mapping_from_the_preview_and_check_again(login, manager):
    client = login(manager)
    job = checked(client, uploaded(client))
    response = client.get(job_url(job, "job_mapping"))
    assert response.status_code == 200 and response.context["page"] == "mapping"
    assert response.context["form"].fields["mode"].initial == ImportMode.ALL_OR_NOTHING
    job = checked(client, job, col_2="", mode=ImportMode.SKIP_INVALID)  # skip the birthdays
    assert job.state == ImportState.CHECKED
    assert (job.counts["created"], job.counts["rejected"]) == (3, 0)


def test_save_apply_and_delete_a_mapping_template(login, manager):
    client = login(manager)
    job = uploaded(client)
    checked(client, job, col_3="", save_as="KiotViet")
    template = MappingTemplate.objects.get()
    assert (template.tenant, template.name, template.kind) == (manager.tenant, "KiotViet",
                                                               "customers")
    # The next file of that system: its mapping page offers the template; applying it
    # skips the notes column as saved.
    upload(client, name="lan-2.xlsx")
    second = ImportJob.objects.exclude(pk=job.pk).get()
    assert second.mapping[3] != ""
    page = client.get(job_url(second)).content.decode()
    assert 'data-testid="saved-mappings"' in page and "KiotViet" in page
    response = client.post(job_url(second, "job_mapping"),
                           {"apply_template": "1", "template": template.pk})
    assert response.status_code == 302
    second.refresh_from_db()
    assert second.mapping[:4] == ["name", "phone", "birthday", ""]
    response = client.post(reverse("imports:template_delete", args=[template.pk]),
                           {"next": job_url(second)})
    assert response["Location"] == job_url(second)
    assert not MappingTemplate.objects.exists()


# --- progress, cancel, downloads --------------------------------------------------------------

def test_progress_partial_while_running_and_redirect_when_finished(login, manager):
    client = login(manager)
    job = uploaded(client)
    ImportJob.objects.filter(pk=job.pk).update(state=ImportState.RUNNING, dry_run=False)
    cache.set(f"imports:progress:{job.pk}", {"phase": "writing", "done": 1, "total": 4,
                                             "at": time.time()})
    page = client.get(job_url(job))
    assert page.context["page"] == "progress"
    assert job_url(job, "job_progress") in page.content.decode()
    partial = client.get(job_url(job, "job_progress"), HTTP_HX_REQUEST="true")
    body = partial.content.decode()
    assert partial.status_code == 200 and "<html" not in body
    assert 'data-testid="progress-percent">25 %<' in body
    assert 'hx-trigger="every 1s"' in body
    ImportJob.objects.filter(pk=job.pk).update(state=ImportState.DONE)
    finished = client.get(job_url(job, "job_progress"), HTTP_HX_REQUEST="true")
    assert finished["HX-Redirect"] == job_url(job)
    # Without htmx the progress URL is the job's page.
    assert client.get(job_url(job, "job_progress"))["Location"] == job_url(job)


def test_cancel_a_queued_import(login, manager):
    client = login(manager)
    job = uploaded(client)
    ImportJob.objects.filter(pk=job.pk).update(state=ImportState.QUEUED, dry_run=False)
    body = client.get(job_url(job)).content.decode()
    assert 'data-testid="job-cancel"' in body
    assert client.post(job_url(job, "job_cancel")).status_code == 302
    job.refresh_from_db()
    assert job.state == ImportState.CANCELLED
    response = client.get(job_url(job))
    assert response.context["page"] == "result"
    assert 'data-testid="result-note"' in response.content.decode()
    assert Customer.objects.count() == 0


def test_a_failed_run_says_why_and_a_failed_check_goes_back_to_the_mapping(login, manager):
    client = login(manager)
    job = uploaded(client)
    ImportJob.objects.filter(pk=job.pk).update(state=ImportState.FAILED, dry_run=False,
                                               message="Ổ đĩa đầy")
    response = client.get(job_url(job))
    assert response.context["page"] == "result"
    assert "Ổ đĩa đầy" in response.content.decode()
    assert 'data-testid="run-submit"' not in response.content.decode()
    ImportJob.objects.filter(pk=job.pk).update(dry_run=True, message="File hỏng")
    response = client.get(job_url(job))
    assert response.context["page"] == "mapping"
    body = response.content.decode()
    assert 'data-testid="check-stopped"' in body and "File hỏng" in body
    assert 'data-testid="check-submit"' in body


def test_template_workbook_downloads(login, manager):
    client = login(manager)
    response = client.get(reverse("imports:template_workbook") + "?kind=customers")
    assert response.status_code == 200
    assert 'filename="mau-nhap-khach-hang.xlsx"' in response["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    headers, example = list(sheet.iter_rows(values_only=True))[:2]
    assert headers and all(headers) and any(example)
    assert client.get(reverse("imports:template_workbook") + "?kind=x").status_code == 404


def test_error_file_is_a_404_when_there_is_none(login, manager):
    client = login(manager)
    job = uploaded(client)
    assert client.get(job_url(job, "job_errors")).status_code == 404


# --- access ------------------------------------------------------------------------------

def _every_url(job, template) -> list[tuple[str, str]]:
    gets = [LIST, reverse("imports:template_workbook") + "?kind=customers", job_url(job),
            job_url(job, "job_mapping"), job_url(job, "job_progress"), job_url(job, "job_errors")]
    posts = [UPLOAD, job_url(job, "job_sheet"), job_url(job, "job_mapping"),
             job_url(job, "job_run"), job_url(job, "job_cancel"),
             reverse("imports:template_delete", args=[template.pk])]
    return [("get", u) for u in gets] + [("post", u) for u in posts]


@pytest.mark.parametrize("role", ["staff", "collaborator"])
def test_staff_and_collaborators_get_403_on_every_import_url(request, login, manager, role):
    client = login(manager)
    job = uploaded(client)
    template = MappingTemplate.objects.create(tenant=manager.tenant, name="M", mapping={})
    client = login(request.getfixturevalue(role))
    for method, url in _every_url(job, template):
        assert getattr(client, method)(url).status_code == 403, (method, url)
    assert MappingTemplate.objects.exists()


def test_another_shops_job_and_mapping_are_404(client, login, manager, other_manager):
    job = uploaded(login(manager))
    template = MappingTemplate.objects.create(tenant=manager.tenant, name="M", mapping={})
    client.logout()
    client = login(other_manager)
    for method, url in _every_url(job, template):
        if url in (LIST, UPLOAD) or "template/" in url:
            continue
        assert getattr(client, method)(url).status_code == 404, (method, url)
    assert job.file_name not in client.get(LIST).content.decode()
    job.refresh_from_db()
    assert job.state == ImportState.UPLOADED and MappingTemplate.objects.exists()


def test_history_query_count_does_not_grow_with_imports(login, manager):
    client = login(manager)
    uploaded(client)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(LIST).status_code == 200
        return len(ctx.captured_queries)

    one = count()
    for name in ("b.xlsx", "c.xlsx", "d.xlsx"):
        upload(client, name=name)
    assert ImportJob.objects.count() == 4
    assert count() == one


def test_services_are_called_for_the_shop_and_person_of_the_request(login, manager,
                                                                    monkeypatch):
    calls = []
    real = services.job_upload

    def spy(**kwargs):
        calls.append((kwargs["tenant"], kwargs["actor"]))
        return real(**kwargs)

    monkeypatch.setattr(services, "job_upload", spy)
    uploaded(login(manager))
    assert calls == [(manager.tenant, manager)]


def test_a_finished_import_shows_the_mapping_it_used(tenant, lists, manager, login, settings,
                                                     tmp_path):
    from imports.demo import seed_demo_import

    settings.MEDIA_ROOT = tmp_path / "media"
    seed_demo_import(tenant, {"manager": manager}, 0)
    job = ImportJob.objects.for_tenant(tenant).get()
    body = login(manager).get(f"/admin/imports/{job.pk}/").content.decode()
    assert 'data-testid="used-mapping"' in body
    assert "Nhóm khách hàng" in body and "Khu vực" in body
