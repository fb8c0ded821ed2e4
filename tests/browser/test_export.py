"""The export in a browser: the dropdown above the customer list exports what the list
shows after htmx moved it (the search typed), and a large export's page follows its
progress by itself (htmx polling) until the download link."""

import csv
import io

import pytest
from playwright.sync_api import expect

from crm import registry
from crm.access import SYSTEM
from customers.defaults import seed_defaults
from customers.services import customer_create
from imports import exports
from imports.models import ExportJob, ImportState

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def shop(manager):
    for action in exports.LIST_ACTIONS:  # what imports.apps registers
        registry.register_list_action(action)
    seed_defaults(manager.tenant)
    for name, phone in [("Nguyễn Văn An", "0912000001"), ("Trần Thị An", "0912000002"),
                        ("Phạm Bình", "0912000003")]:
        customer_create(tenant=manager.tenant, actor=SYSTEM,
                        data={"full_name": name, "phone": phone})
    return manager


def test_the_dropdown_exports_the_list_as_htmx_left_it(page, shop, browser_login, shot):
    browser_login(shop)
    page.goto("/admin/customers/")
    page.fill("#q", "an")
    page.wait_for_url("**/admin/customers/?*q=an*")  # htmx pushed the search
    expect(page.locator("#customer-table")).not_to_contain_text("Phạm Bình")
    page.get_by_test_id("list-action-export_customers").locator("button").first.click()
    shot(page, "export-dropdown")
    with page.expect_download() as info:
        page.get_by_test_id("list-action-export_customers-2").click()  # .csv
    with open(info.value.path(), encoding="utf-8-sig") as f:
        rows = list(csv.reader(io.StringIO(f.read())))
    names = sorted(row[0] for row in rows[1:])
    assert names == ["Nguyễn Văn An", "Trần Thị An"]


def test_a_large_export_page_follows_its_progress(page, shop, browser_login, shot, settings,
                                                 tmp_path):
    settings.MEDIA_ROOT = tmp_path
    job = ExportJob.objects.create(
        tenant=shop.tenant, kind="customers", format="xlsx", created_by=shop.user,
        state=ImportState.RUNNING, total_rows=120_000, done_rows=45_000,
        file_name="khach-hang-20260115.xlsx", params={"back": "/admin/customers/?q=an"})
    browser_login(shop)
    page.goto(f"/admin/imports/exports/{job.pk}/")
    expect(page.get_by_test_id("export-percent")).to_have_text("37 %")
    expect(page.get_by_test_id("export-rows")).to_contain_text("45.000")
    shot(page, "export-job-running")
    # The worker finishes (the fields export_execute writes): the page shows the link.
    with open(tmp_path / "done.xlsx", "wb") as out:
        writer = exports.XlsxWriter(out, [exports.ExportColumn("a", "A", lambda r: r)], "A")
        writer.write(["x"])
        writer.close()
    ExportJob.objects.filter(pk=job.pk).update(state=ImportState.DONE, done_rows=120_000,
                                               file="done.xlsx")
    expect(page.get_by_test_id("export-download")).to_be_visible(timeout=5_000)
    expect(page.get_by_test_id("export-done")).to_contain_text("120.000")
    shot(page, "export-job-done")
    with page.expect_download() as info:
        page.get_by_test_id("export-download").click()
    assert info.value.suggested_filename == "khach-hang-20260115.xlsx"
