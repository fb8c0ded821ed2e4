"""The export views: the buttons above the lists, the exported rows against the lists' own
rows for the same query string, the job page and its download (the asking person's only),
access."""

import io
import re

import openpyxl
import pytest
from django.utils import timezone, translation

from crm import registry
from crm.access import SYSTEM
from customers.services import customer_create
from imports import exports
from imports.models import ExportJob, ImportState
from tests.crm.factories import MembershipFactory

pytestmark = pytest.mark.django_db

CUSTOMERS = "/admin/customers/"
EXPORT = "/admin/imports/export/customers/"


@pytest.fixture(autouse=True)
def export_buttons():
    """What imports.apps registers (exports.LIST_ACTIONS)."""
    for action in exports.LIST_ACTIONS:
        registry.register_list_action(action)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def make(tenant, name, phone, **data):
    return customer_create(tenant=tenant, actor=SYSTEM,
                           data={"full_name": name, "phone": phone, **data})


@pytest.fixture
def shop(tenant, lists):
    care, other = list(lists["care_statuses"][:2])
    customers = [make(tenant, name, f"09120000{i:02d}", care_status=status)
                 for i, (name, status) in enumerate([
                     ("Trần Thị An", care), ("Nguyễn Văn An", care), ("Lê An", other),
                     ("Phạm Bình", care), ("Võ Thị Anh", care)])]
    return {"care": care, "customers": customers}


def first_column(response) -> list:
    data = b"".join(response.streaming_content)
    ws = openpyxl.load_workbook(io.BytesIO(data)).active
    return [row[0].value for row in ws.iter_rows(min_row=2)]


def listed(client, url, params, attr="code") -> list:
    """The rows a list page shows for ``params`` (its first page)."""
    response = client.get(url, params)
    assert response.status_code == 200
    return [getattr(row, attr) for row in response.context["result"].page.rows]


QUERIES = [{}, {"q": "an"}, {"sort": "name"}, {"sort": "-code", "q": "thi"}, {"sort": "-spend"}]


@pytest.mark.parametrize("params", QUERIES)
def test_the_export_has_the_rows_the_customer_list_shows(login, manager, shop, params):
    from orders.services import order_create

    for amount, customer in zip((300_000, 100_000), shop["customers"][2:4], strict=True):
        order_create(tenant=manager.tenant, actor=SYSTEM, customer=customer,
                     data={"total_amount": amount, "status": "delivered"})
    client = login(manager)
    care = {"care_status": shop["care"].pk}
    for query in (params, {**params, **care}):
        response = client.post(f"{EXPORT}?{_encode(query)}",
                               {"format": "xlsx", "columns": "code,name"})
        assert response.status_code == 200
        assert first_column(response) == listed(client, CUSTOMERS, query)


def _encode(params: dict) -> str:
    from urllib.parse import urlencode

    return urlencode(params)


def test_the_buttons_carry_the_list_query_and_show_to_managers_only(login, manager, staff,
                                                                    shop):
    page = login(manager).get(CUSTOMERS, {"q": "an", "after": "x"}).content.decode()
    forms = re.findall(r'<form method="post" action="([^"]+)" data-list-action="([^"]+)"', page)
    assert len(forms) == 3  # .xlsx and .csv of the columns shown, .xlsx of every field
    assert {action for action, _base in forms} == {f"{EXPORT}?q=an"}  # no paging
    assert {base for _action, base in forms} == {EXPORT}
    assert 'name="columns" value="all"' in page
    assert "js/list_actions.js" in page
    staff_page = login(staff).get(CUSTOMERS).content.decode()
    assert "data-list-action" not in staff_page


def test_the_other_lists_have_their_button(login, manager, shop):
    from tests.groups.factories import CustomerGroupFactory

    client = login(manager)
    group = CustomerGroupFactory(tenant=manager.tenant)
    for url, export in ((f"/admin/customers/groups/{group.pk}/",
                         f"/admin/imports/export/group/{group.pk}/"),
                        ("/admin/orders/", "/admin/imports/export/orders/"),
                        ("/admin/loyalty/", "/admin/imports/export/ledger/")):
        page = client.get(url, {"q": "x"} if "loyalty" not in url else {"kind": "earn"})
        assert page.status_code == 200, url
        assert f'data-list-action="{export}"' in page.content.decode(), url


def test_group_orders_and_ledger_exports_have_their_lists_rows(login, manager, shop):
    from groups.models import GroupMember
    from orders.services import order_create
    from tests.groups.factories import CustomerGroupFactory
    from tests.loyalty.factories import give, program_on

    client = login(manager)
    tenant = manager.tenant
    group = CustomerGroupFactory(tenant=tenant)
    for customer in shop["customers"][:3]:
        GroupMember.objects.create(tenant=tenant, group=group, customer=customer,
                                   joined_at=timezone.now())
    program_on(tenant)
    for i, customer in enumerate(shop["customers"]):
        order_create(tenant=tenant, actor=SYSTEM, customer=customer, data={
            "total_amount": 100_000 * (i + 1), "paid_amount": 100_000 * (i + 1),
            "status": "delivered" if i % 2 else "new"})
        give(tenant, customer, 10 + i)
    cases = [
        (f"/admin/customers/groups/{group.pk}/", f"/admin/imports/export/group/{group.pk}/",
         {"q": "an", "sort": "name"}, "code"),
        ("/admin/orders/", "/admin/imports/export/orders/", {"status": "delivered"}, "code"),
        ("/admin/orders/", "/admin/imports/export/orders/", {"q": "an"}, "code"),
    ]
    for page_url, export_url, params, attr in cases:
        response = client.post(f"{export_url}?{_encode(params)}",
                               {"format": "xlsx", "columns": "code"})
        assert response.status_code == 200, export_url
        assert first_column(response) == listed(client, page_url, params, attr), params
    # The ledger's rows: the first column is the date, so compare on the entries' order.
    response = client.post("/admin/imports/export/ledger/?kind=manual", {"format": "csv"})
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    codes = [line.split(",")[1] for line in text.strip().splitlines()[1:]]
    entries = client.get("/admin/loyalty/", {"kind": "manual"}).context["result"].page.rows
    assert codes == [entry.customer.code for entry in entries] and len(codes) == 5


def test_export_takes_post_only_and_managers_only(login, manager, staff, collaborator, shop):
    assert login(manager).get(EXPORT).status_code == 405
    for member in (staff, collaborator):
        client = login(member)
        assert client.post(EXPORT, {"format": "xlsx"}).status_code == 403
        assert client.post("/admin/imports/export/orders/", {"format": "csv"}).status_code == 403


def test_an_unknown_format_says_so(login, manager, shop):
    response = login(manager).post(EXPORT, {"format": "pdf"}, HTTP_REFERER=CUSTOMERS,
                                   follow=True)
    assert response.redirect_chain[0][0] == CUSTOMERS
    with translation.override("vi"):
        expected = translation.gettext("Unknown file format.")
    assert [str(m) for m in response.context["messages"]] == [expected]


def test_csv_download(login, manager, shop):
    response = login(manager).post(f"{EXPORT}?q=binh", {"format": "csv", "columns": "name"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert b"".join(response.streaming_content).decode("utf-8-sig").splitlines()[1] == \
        "Phạm Bình"


# --- large exports: the job page and its download ------------------------------------------

def test_a_large_export_opens_its_job_and_downloads_for_its_owner(
        settings, login, client, manager, tenant, other_manager, shop, media,
        django_capture_on_commit_callbacks):
    settings.EXPORT_STREAM_MAX_ROWS = 2
    client = login(manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{EXPORT}?sort=name&q=an", {"format": "xlsx"})
    job = ExportJob.objects.get(tenant=tenant)
    assert response.status_code == 302
    assert response["Location"] == f"/admin/imports/exports/{job.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert 'data-testid="export-download"' in page and "hx-trigger" not in page
    assert 'href="/admin/customers/?sort=name&amp;q=an"' in page  # back to the list
    fragment = client.get(response["Location"], HTTP_HX_REQUEST="true").content.decode()
    assert fragment.startswith("<div") and "<html" not in fragment
    download = client.get(f"/admin/imports/exports/{job.pk}/download/")
    assert download.status_code == 200
    assert download["Content-Disposition"] == f'attachment; filename="{job.file_name}"'
    data = b"".join(download.streaming_content)
    rows = openpyxl.load_workbook(io.BytesIO(data)).active
    assert rows.max_row == 5  # the header and the four "an"
    # Another manager of the same shop, and a manager of another shop: nothing.
    colleague = MembershipFactory(tenant=tenant, role="manager")
    for member in (colleague, other_manager):
        other = login(member)
        assert other.get(f"/admin/imports/exports/{job.pk}/").status_code == 404
        assert other.get(f"/admin/imports/exports/{job.pk}/download/").status_code == 404


def test_the_job_page_polls_while_running(login, manager, tenant):
    job = ExportJob.objects.create(tenant=tenant, kind="customers", created_by=manager.user,
                                   state=ImportState.RUNNING, total_rows=20_000,
                                   done_rows=5_000, file_name="khach-hang.xlsx")
    client = login(manager)
    fragment = client.get(f"/admin/imports/exports/{job.pk}/",
                          HTTP_HX_REQUEST="true").content.decode()
    assert 'hx-trigger="every 1s"' in fragment
    assert "25 %" in fragment and "5.000" in fragment and "20.000" in fragment
    assert client.get(f"/admin/imports/exports/{job.pk}/download/").status_code == 404


def test_a_failed_job_says_so(login, manager, tenant):
    job = ExportJob.objects.create(tenant=tenant, kind="orders", created_by=manager.user,
                                   state=ImportState.FAILED, message="Nhóm không còn nữa.")
    page = login(manager).get(f"/admin/imports/exports/{job.pk}/").content.decode()
    assert 'data-testid="export-failed"' in page and "Nhóm không còn nữa." in page
    assert "hx-trigger" not in page


def test_a_group_of_another_shop_is_a_404(login, manager, other_tenant):
    from tests.groups.factories import CustomerGroupFactory

    group = CustomerGroupFactory(tenant=other_tenant)
    response = login(manager).post(f"/admin/imports/export/group/{group.pk}/",
                                   {"format": "xlsx"})
    assert response.status_code == 404
