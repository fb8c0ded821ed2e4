"""Importing customers in a browser: a manager uploads a workbook whose "Khu vực" column the
automatic mapping takes for the province (it holds the shop's own notes) and whose one row
has a 31 February; she maps that column to the notes instead, checks, sees the preview's
counts and the error, chooses to write the valid rows, runs, watches the progress bar
reach 100 %, and downloads the error workbook: the bad row with a "Lỗi" column. The
mapping, the preview and the result are also looked at 390 px wide.

The run's task is held, then run by a worker thread of this process, started only
after the page has shown the queued job: the page polls the progress every second with
htmx, and when the worker has finished, the progress answer sends the page to the result.
(With eager Celery the run would finish inside the POST and the polling would never run.)
The check before it runs eagerly: its outcome is what the next page shows.
"""

import io
import threading

import openpyxl
import pytest
from playwright.sync_api import expect

from customers.defaults import seed_defaults
from customers.models import Customer
from imports.models import ImportJob, ImportState

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HEADERS = ["Họ và tên", "Số điện thoại", "Ngày sinh", "Khu vực", "Email"]
ROWS = [
    ["Nguyễn Thị Lan", "0912 345 678", "15/08/1990", "Khách sỉ miền Bắc", "lan@example.com"],
    ["Trần Văn Bình", "987654321", "31/02/1990", "Khách lẻ", ""],
    ["Lê Thu Hà", "+84 903 111 222", "01/12/1985", "Khách sỉ miền Nam", ""],
    ["Phạm Minh Tuấn", "0903.222.333", "", "", "tuan@example.com"],
]


@pytest.fixture
def shop(manager, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    seed_defaults(manager.tenant)
    return manager


@pytest.fixture
def customers_file(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Khách hàng"
    for row in [HEADERS, *ROWS]:
        sheet.append(row)
    path = tmp_path / "khach-hang-cu.xlsx"
    book.save(path)
    return path


class Worker:
    """``hold()``: the run's Celery task is kept instead of sent; ``start()``: a thread of
    this process runs the task's body, as a worker would (the live server's database and
    cache are shared with it). Not Celery's own test worker: with CI's Redis settings its
    in-memory queue never received the message."""

    def __init__(self, monkeypatch):
        self.monkeypatch = monkeypatch
        self.calls, self.threads = [], []

    def hold(self):
        from imports import tasks

        self.monkeypatch.setattr(tasks.import_run, "delay",
                                 lambda *args: self.calls.append(args))

    def start(self):
        for args in self.calls:
            thread = threading.Thread(target=self._run, args=args)
            thread.start()
            self.threads.append(thread)

    @staticmethod
    def _run(*args):
        from django.db import connection

        from imports import tasks

        try:
            tasks.import_run.run(*args)
        finally:
            connection.close()

    def close(self):
        for thread in self.threads:
            thread.join(60)


@pytest.fixture
def worker(monkeypatch):
    held = Worker(monkeypatch)
    yield held
    held.close()


def no_sideways_scroll(page):
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], width


def mapping_row(page, header):
    return page.get_by_test_id("mapping-row").filter(
        has=page.get_by_test_id("mapping-header").get_by_text(header, exact=True))


def mapping_select(page, header):
    return mapping_row(page, header).locator("select[data-mapping-select]")


def test_upload_fix_the_mapping_check_run_and_download_the_errors(
        page, shop, customers_file, browser_login, shot, worker):
    browser_login(shop)
    page.goto("/admin/imports/")
    expect(page.get_by_test_id("upload-form")).to_be_visible()
    page.set_input_files("input[type=file]", str(customers_file))
    page.get_by_test_id("upload-submit").click()
    job = ImportJob.objects.get()
    page.wait_for_url(f"**/admin/imports/{job.pk}/")

    # The mapping: the usual headers are matched; "Khu vực" was taken for the province.
    expect(page.get_by_test_id("mapping-row")).to_have_count(len(HEADERS))
    expect(mapping_select(page, "Họ và tên")).to_have_value("name")
    expect(mapping_select(page, "Số điện thoại")).to_have_value("phone")
    expect(mapping_select(page, "Ngày sinh")).to_have_value("birthday")
    expect(mapping_select(page, "Khu vực")).to_have_value("province")
    expect(mapping_row(page, "Khu vực")).to_contain_text("Khách sỉ miền Bắc")
    shot(page, "import-mapping")
    page.set_viewport_size({"width": 390, "height": 844})
    no_sideways_scroll(page)
    shot(page, "import-mapping-390")
    page.set_viewport_size({"width": 1366, "height": 768})

    mapping_select(page, "Khu vực").select_option("note")
    # A field chosen twice is flagged while choosing (the server refuses it too).
    mapping_select(page, "Email").select_option("name")
    expect(mapping_row(page, "Email").locator("[data-clash]")).to_be_visible()
    mapping_select(page, "Email").select_option("email")
    expect(page.locator("[data-clash]")).to_have_count(0)
    page.locator("label", has=page.get_by_test_id("mode-skip_invalid")).click()
    expect(page.get_by_test_id("mode-skip_invalid")).to_be_checked()
    page.get_by_test_id("check-submit").click()

    # The preview: 3 new, 1 rejected with its row and reason; nothing written yet.
    expect(page.get_by_test_id("preview")).to_be_visible()
    expect(page.get_by_test_id("count-created")).to_have_text("3")
    expect(page.get_by_test_id("count-rejected")).to_have_text("1")
    expect(page.get_by_test_id("count-updated")).to_have_text("0")
    error = page.get_by_test_id("error-row")
    expect(error).to_have_count(1)
    expect(error).to_contain_text("3")  # the file's row 3 (the header is row 1)
    expect(error).to_contain_text("31/02/1990")
    expect(page.get_by_test_id("mode-note")).to_be_visible()
    assert Customer.objects.count() == 0
    run = page.get_by_test_id("run-submit")
    expect(run).to_be_enabled()
    expect(run).to_contain_text("3")
    shot(page, "import-preview")
    page.set_viewport_size({"width": 390, "height": 844})
    no_sideways_scroll(page)
    shot(page, "import-preview-390")
    page.set_viewport_size({"width": 1366, "height": 768})

    # The run waits for a worker: the page shows the bar and polls it.
    worker.hold()
    run.click()
    expect(page.get_by_test_id("job-progress-card")).to_be_visible()
    expect(page.get_by_test_id("progress-percent")).to_have_text("0 %")
    expect(page.get_by_test_id("job-cancel")).to_be_visible()
    shot(page, "import-progress")
    with page.expect_response(lambda r: "/progress/" in r.url and r.status == 200):
        pass  # the bar is polled while the job waits
    worker.start()
    expect(page.get_by_test_id("result")).to_be_visible(timeout=30_000)
    expect(page.get_by_test_id("progress-percent")).to_have_text("100 %")
    expect(page.get_by_test_id("count-created")).to_have_text("3")
    expect(page.get_by_test_id("count-rejected")).to_have_text("1")
    job.refresh_from_db()
    assert job.state == ImportState.DONE
    assert sorted(Customer.objects.for_tenant(shop.tenant).values_list("full_name", flat=True)
                  ) == ["Lê Thu Hà", "Nguyễn Thị Lan", "Phạm Minh Tuấn"]
    lan = Customer.objects.get(full_name="Nguyễn Thị Lan")
    assert lan.note == "Khách sỉ miền Bắc"  # the fixed mapping: notes, not a province
    shot(page, "import-done")
    page.set_viewport_size({"width": 390, "height": 844})
    no_sideways_scroll(page)
    shot(page, "import-done-390")
    page.set_viewport_size({"width": 1366, "height": 768})

    # The error workbook: the rejected row as uploaded, and why.
    with page.expect_download() as download:
        page.get_by_test_id("result").get_by_test_id("error-file").click()
    assert download.value.suggested_filename == "khach-hang-cu-loi.xlsx"
    book = openpyxl.load_workbook(io.BytesIO(open(download.value.path(), "rb").read()))
    rows = list(book.active.iter_rows(values_only=True))
    assert len(rows) == 2
    assert rows[0][-1] == "Lỗi"
    assert list(rows[1][1:-1]) == ["Trần Văn Bình", "987654321", "31/02/1990", "Khách lẻ",
                                   None]
    assert "31/02/1990" in rows[1][-1]

    # The history lists the import with its counts and its error file.
    page.goto("/admin/imports/")
    row = page.get_by_test_id("history-row").first
    expect(row).to_contain_text("khach-hang-cu.xlsx")
    expect(row.locator("a[href$='/errors/']")).to_be_visible()
    shot(page, "import-list")
    page.set_viewport_size({"width": 390, "height": 844})
    no_sideways_scroll(page)
    shot(page, "import-list-390")


def test_a_fake_workbook_is_refused_on_the_list_page(page, shop, browser_login, tmp_path):
    fake = tmp_path / "khach-hang.xlsx"
    fake.write_bytes(b"Ho ten,SDT\nLan,0912345678\n")
    browser_login(shop)
    page.goto("/admin/imports/")
    page.set_input_files("input[type=file]", str(fake))
    page.get_by_test_id("upload-submit").click()
    expect(page.get_by_test_id("upload-error")).to_be_visible()
    expect(page.get_by_test_id("upload-form")).to_be_visible()
    assert not ImportJob.objects.exists()
