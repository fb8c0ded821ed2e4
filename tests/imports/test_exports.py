"""imports.exports: what each export selects (the list's rows, in the list's order), its
columns and headers, how cells are written (.xlsx read back with openpyxl and calamine,
.csv with the csv module), formula neutralisation, large exports as jobs, access."""

import csv
import datetime
import io

import openpyxl
import pytest
from django.http import QueryDict
from django.utils import timezone
from python_calamine import CalamineWorkbook

from crm.access import SYSTEM, AccessDenied
from crm.services import list_columns_save
from customers.columns import CUSTOMER_COLUMNS
from customers.fields import get_field, io_fields, value_of
from customers.services import customer_create
from imports import exports
from imports.models import ExportJob, ImportState
from tests.crm.factories import MembershipFactory

pytestmark = pytest.mark.django_db


# --- helpers ---------------------------------------------------------------------------------

def body(response) -> bytes:
    return b"".join(response.streaming_content)


def sheet(data: bytes):
    return openpyxl.load_workbook(io.BytesIO(data)).active


def values(ws) -> list[list]:
    return [[c.value for c in row] for row in ws.iter_rows()]


def calamine_rows(data: bytes) -> list[list]:
    return CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()


def csv_rows(data: bytes) -> list[list[str]]:
    text = data.decode("utf-8")
    assert text.startswith("\ufeff")  # Excel reads UTF-8 only with its BOM
    return list(csv.reader(io.StringIO(text[1:])))


def make(tenant, name, phone, **data):
    return customer_create(tenant=tenant, actor=SYSTEM,
                           data={"full_name": name, "phone": phone, **data})


def labels(*keys) -> list[str]:
    return [str(get_field(k).label) for k in keys]


def query(text: str = "", **extra) -> QueryDict:
    params = QueryDict(text, mutable=True)
    for key, value in extra.items():
        params[key] = value
    return params


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


# --- the customer list -----------------------------------------------------------------------

@pytest.fixture
def shop(tenant, manager, lists):
    """Four customers: three "An" (two in the first care status), a Bình in it too."""
    care, other = list(lists["care_statuses"][:2])
    made = {
        # Made first: newest-first puts it last, by name it comes second.
        "tran": make(tenant, "Trần Thị An", "0912000002", care_status=care),
        "nguyen": make(tenant, "Nguyễn Văn An", "0912000001", care_status=care),
        "le": make(tenant, "Lê An", "0912000003", care_status=other),
        "binh": make(tenant, "Phạm Bình", "0912000004", care_status=care),
    }
    list_columns_save(tenant=tenant, user=manager.user, choice=CUSTOMER_COLUMNS,
                      keys=["code", "name", "care_status", "phone"])
    return {"care": care, **made}


def test_xlsx_of_the_customer_list_has_its_filters_search_sort_and_columns(tenant, manager,
                                                                           shop):
    params = query(f"care_status={shop['care'].pk}&q=an&sort=name")
    response = exports.export_customers(tenant=tenant, actor=manager, params=params,
                                        fmt="xlsx")
    assert response["Content-Disposition"].startswith('attachment; filename="khach-hang-')
    ws = sheet(body(response))
    headers, *rows = values(ws)
    assert headers == labels("code", "name", "care_status", "phone")
    assert headers[1] == "Tên khách hàng"  # the shop's language
    assert rows == [[c.code, c.full_name, shop["care"].name, c.phone_display]
                    for c in (shop["nguyen"], shop["tran"])]
    # The list's other sort: newest first.
    params["sort"] = "-created"
    newest = values(sheet(body(exports.export_customers(
        tenant=tenant, actor=manager, params=params, fmt="xlsx"))))
    assert [r[0] for r in newest[1:]] == [shop["nguyen"].code, shop["tran"].code]


def test_header_row_is_bold_frozen_and_filtered(tenant, manager, shop):
    ws = sheet(body(exports.export_customers(tenant=tenant, actor=manager, params=query(),
                                             fmt="xlsx")))
    assert ws.freeze_panes == "A2"
    assert all(cell.font.b for cell in ws[1])
    assert ws.auto_filter.ref == "A1:D5"
    assert all(ws.column_dimensions[letter].width >= 8 for letter in "ABCD")


def test_csv_of_the_customer_list(tenant, manager, shop):
    params = query(f"care_status={shop['care'].pk}&q=an&sort=name")
    response = exports.export_customers(tenant=tenant, actor=manager, params=params,
                                        fmt="csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    headers, *rows = csv_rows(body(response))
    assert headers == labels("code", "name", "care_status", "phone")
    assert rows == [[c.code, c.full_name, shop["care"].name, c.phone_display]
                    for c in (shop["nguyen"], shop["tran"])]


def test_named_columns_and_unknown_ones(tenant, manager, shop):
    params = query("q=binh&columns=phone,name,nope")
    headers, row = values(sheet(body(exports.export_customers(
        tenant=tenant, actor=manager, params=params, fmt="xlsx"))))
    assert headers == labels("phone", "name")
    assert row == [shop["binh"].phone_display, "Phạm Bình"]
    with pytest.raises(exports.ValidationError):
        exports.export_customers(tenant=tenant, actor=manager, params=query(columns="nope"),
                                 fmt="xlsx")


def test_a_collaborator_scope_is_the_list_scope(tenant, manager, collaborator, shop):
    """Exports are for managers, but the selection starts from the member's customers, as
    the list does: here through the selector both share."""
    shop["le"].collaborator = collaborator
    shop["le"].save(update_fields=["collaborator"])
    mine = exports.customer_matches(tenant=tenant, actor=collaborator, params=query())
    assert list(mine) == [shop["le"]]


# --- every field, for a round trip --------------------------------------------------------

def test_every_exportable_field_with_its_value(tenant, manager, lists, media):
    from customers.models import Gender

    tags = list(lists["tags"][:2])
    customer = make(tenant, "Đỗ Thu Hà", "0987654321", email="ha@example.com",
                    company="Công ty Hà", gender=Gender.FEMALE, birth_day=15, birth_month=8,
                    birth_year=1990, province_code=1, street="12 Hàng Bông",
                    legacy_address="Quận Hoàn Kiếm", note="Khách quen", tax_code="0101234567",
                    source=lists["sources"].get(code="shopee"),
                    care_status=lists["care_statuses"][0], assigned_staff=manager, tags=tags)
    fields = io_fields(tenant, importable=False)
    for fmt, read in (("xlsx", lambda d: values(sheet(d))), ("csv", csv_rows)):
        headers, row = read(body(exports.export_customers(
            tenant=tenant, actor=manager, params=query(columns="all"), fmt=fmt)))
        assert headers == [str(f.label) for f in fields]
        cells = dict(zip([f.key for f in fields], row, strict=True))
        assert cells["name"] == "Đỗ Thu Hà"
        assert cells["phone"] == "0987 654 321"  # national display, never +84...
        assert cells["birthday"] == "15/08/1990"
        assert cells["tags"] == ", ".join(t.name for t in tags)
        assert cells["source"] == str(lists["sources"].get(code="shopee"))
        assert cells["staff"] == (manager.user.get_full_name() or manager.user.username)
        assert cells["gender"] == customer.get_gender_display()
        assert cells["tax_code"] == "0101234567"  # text: the leading 0 stays
        created = timezone.localdate(customer.created_at)
        assert cells["created"] == (datetime.datetime.combine(created, datetime.time())
                                    if fmt == "xlsx" else created.strftime("%d/%m/%Y"))
        for entry in fields:  # every other one: the registry's own value
            if entry.key in ("created", "tags"):
                continue
            expected = exports.plain(entry.io.export(customer) if entry.io.export
                                     else value_of(entry, customer))
            if fmt == "csv":
                expected = exports.csv_cell(expected)
            assert cells[entry.key] == expected, entry.key


def test_headers_of_every_field_map_back_to_the_fields(tenant, manager, lists):
    """The importer's automatic mapping reads our headers back to the same fields; the
    computed ones (the lifecycle stage) it leaves out."""
    from imports.mapping import auto_map

    make(tenant, "Khách A", "0912000009")
    headers = values(sheet(body(exports.export_customers(
        tenant=tenant, actor=manager, params=query(columns="all"), fmt="xlsx"))))[0]
    assert auto_map(tenant, "customers", headers) == \
        [f.key if f.io.importable else "" for f in io_fields(tenant, importable=False)]


# --- cells -----------------------------------------------------------------------------------

HOSTILE = {
    "name": '=HYPERLINK("http://x.example","Bấm")',
    "company": "+84 Công ty",
    "street": "-12 Lê Lợi",
    "note": "@SUM(A1:A9)",
    "legacy_address": "\tQuận 1",
}


def test_formula_like_text_is_a_text_cell_in_xlsx_and_neutralised_in_csv(tenant, manager):
    make(tenant, HOSTILE["name"], "0912000010", company=HOSTILE["company"],
         street=HOSTILE["street"], note=HOSTILE["note"],
         legacy_address=HOSTILE["legacy_address"])
    params = query(columns=",".join(HOSTILE))
    data = body(exports.export_customers(tenant=tenant, actor=manager, params=params,
                                         fmt="xlsx"))
    row = sheet(data)[2]
    for cell, text in zip(row, HOSTILE.values(), strict=True):
        assert (cell.value, cell.data_type, cell.quotePrefix) == (text, "s", True)
    assert calamine_rows(data)[1] == list(HOSTILE.values())
    with zipfile_of(data) as book:
        assert "<f>" not in book.read("xl/worksheets/sheet1.xml").decode()
    _headers, written = csv_rows(body(exports.export_customers(
        tenant=tenant, actor=manager, params=params, fmt="csv")))
    assert written == ["'" + text for text in HOSTILE.values()]
    assert [exports.unneutralise(cell) for cell in written] == list(HOSTILE.values())


def zipfile_of(data: bytes):
    import zipfile

    return zipfile.ZipFile(io.BytesIO(data))


@pytest.mark.parametrize(("text", "written"), [
    ("=1+1", "'=1+1"), ("+84912", "'+84912"), ("-5", "'-5"), ("@x", "'@x"),
    ("\tx", "'\tx"), ("\rx", "'\rx"), ("'=1", "''=1"), ("''+1", "'''+1"),
    ("'quoted'", "'quoted'"), ("a=b", "a=b"), ("", ""), ("Nguyễn", "Nguyễn"),
])
def test_neutralise_and_its_undoing(text, written):
    assert exports.neutralise(text) == written
    assert exports.unneutralise(written) == text


def test_money_is_a_number_in_dong_format_and_dates_are_date_cells(tenant, manager):
    from orders.services import order_create

    customer = make(tenant, "Khách Mua", "0912000011")
    order_create(tenant=tenant, actor=SYSTEM, customer=customer,
                 data={"total_amount": 1_500_000, "status": "delivered",
                       "paid_amount": 1_000_000})
    params = query(columns="code,spend,debt,last_order")
    ws = sheet(body(exports.export_customers(tenant=tenant, actor=manager, params=params,
                                             fmt="xlsx")))
    code, spend, debt, last = ws[2]
    assert (spend.value, spend.data_type, spend.number_format) == \
        (1_500_000, "n", '#,##0 "₫"')
    assert (debt.value, debt.number_format) == (500_000, '#,##0 "₫"')
    assert last.is_date and last.number_format == "dd/mm/yyyy"
    assert last.value.date() == timezone.localdate()
    _headers, row = csv_rows(body(exports.export_customers(
        tenant=tenant, actor=manager, params=params, fmt="csv")))
    assert row == [customer.code, "1500000", "500000", timezone.localdate().strftime("%d/%m/%Y")]


def test_a_customer_without_orders_or_points_reads_as_the_fields_say(tenant, manager):
    """No stats row (never bought), no loyalty account: the registry's ``missing`` (0 đ,
    no date), as the list shows them."""
    make(tenant, "Khách Mới", "0912000012")
    ws = sheet(body(exports.export_customers(
        tenant=tenant, actor=manager, params=query(columns="spend,debt,last_order,orders"),
        fmt="xlsx")))
    assert [c.value for c in ws[2]] == [0, 0, None, 0]


def test_queries_do_not_grow_with_rows(tenant, manager, lists):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    tags = list(lists["tags"][:2])
    params = query(columns="code,name,phone,tags,care_status,staff,source,spend,membership")

    def export_of(n):
        for i in range(n):
            make(tenant, f"Khách {n} {i}", f"09130{n:02d}{i:03d}", tags=tags,
                 care_status=lists["care_statuses"][0], assigned_staff=manager)
        with CaptureQueriesContext(connection) as queries:
            rows = values(sheet(body(exports.export_customers(
                tenant=tenant, actor=manager, params=params, fmt="xlsx"))))
        return len(queries), rows

    few, rows = export_of(2)
    many, rows = export_of(30)
    assert few == many and len(rows) == 33
    assert rows[1][3] == ", ".join(t.name for t in tags)


def test_a_field_first_read_in_a_later_chunk_is_loaded_for_that_chunk(monkeypatch, tenant,
                                                                       manager):
    """Rows hold the fields their columns read so far; a field a column reads only for
    some rows (here the note, for one customer of the third chunk) is loaded for its whole
    chunk in one query, and fetched with the rest from then on."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    monkeypatch.setattr(exports, "CHUNK_SIZE", 2)
    for i in range(7):
        make(tenant, f"Khách {i}", f"091400000{i}", note=f"ghi chú {i}")
    column = exports.ExportColumn(
        "odd", "Odd", lambda c: c.note if c.full_name == "Khách 4" else c.code)
    selection = exports.customer_selection(tenant=tenant, actor=manager,
                                           params=query("sort=name"))
    selection.columns = [column]
    with CaptureQueriesContext(connection) as queries:
        rows = list(selection.rows())
    assert [r[0] for r in rows] == ["KH000001", "KH000002", "KH000003", "KH000004",
                                    "ghi chú 4", "KH000006", "KH000007"]
    # Keys, then per chunk its rows; + the name and code on the first one, the note on
    # the third.
    assert len(queries) == 1 + 4 + 2 + 1


def test_the_phone_column_lays_numbers_out_as_phonenumbers_does():
    """customers.normalize.format_phone lays a Vietnamese number out like the first one of
    its length and first digits (an export formats 100,000 numbers): every length and
    three-digit start gives phonenumbers' own national form."""
    import random

    from customers.normalize import _format_phone, format_phone

    chosen = random.Random(13)
    numbers = ["+84" + start + "".join(chosen.choice("0123456789") for _ in range(length - 3))
               for start in (f"{n:03d}" for n in range(100, 1000, 7))
               for length in (7, 8, 9, 10, 11) for _ in range(2)]
    numbers += ["+84912345678", "+842438123456", "+14155550100", "+8400"]
    assert [format_phone(n) for n in numbers] == [_format_phone(n) for n in numbers]
    assert format_phone("+84912345678") == "0912 345 678"


def test_text_that_xml_cannot_hold_comes_back_from_calamine(tmp_path):
    column = exports.ExportColumn("t", "Text", lambda row: row)
    texts = ["a & <b> \"c\"", " lead and trail ", "ctl\x01x", "_x0041_ literal",
             "line 1\nline 2", "\rCR"]
    buffer = io.BytesIO()
    writer = exports.XlsxWriter(buffer, [column], "Sheet: [1]/2")
    for text in texts:
        writer.write([text])
    writer.close()
    data = buffer.getvalue()
    assert [r[0] for r in calamine_rows(data)] == ["Text", *texts]
    assert openpyxl.load_workbook(io.BytesIO(data)).sheetnames == ["Sheet   1  2"]


# --- large exports ---------------------------------------------------------------------------

def test_a_large_export_is_a_job_that_writes_the_file(settings, tenant, manager, shop, media,
                                                      django_capture_on_commit_callbacks):
    settings.EXPORT_STREAM_MAX_ROWS = 2
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        job = exports.export_customers(tenant=tenant, actor=manager,
                                       params=query("sort=name"), fmt="xlsx")
        assert isinstance(job, ExportJob) and job.state == ImportState.QUEUED
    assert len(callbacks) == 1  # queued on commit; Celery runs eagerly in the tests
    job.refresh_from_db()
    assert (job.state, job.done_rows, job.total_rows) == (ImportState.DONE, 4, 4)
    assert exports.export_progress(job)["percent"] == 100
    assert job.file.name.startswith(f"exports/{tenant.pk}/") and job.file.name.endswith(".xlsx")
    with job.file.open("rb") as stored:
        rows = values(sheet(stored.read()))
    assert [r[1] for r in rows[1:]] == ["Lê An", "Nguyễn Văn An", "Phạm Bình", "Trần Thị An"]
    assert job.params["back"] == "/admin/customers/?sort=name"


def test_progress_is_written_every_few_thousand_rows(monkeypatch, tenant, manager, shop):
    monkeypatch.setattr(exports, "PROGRESS_EVERY", 2)
    selection = exports.customer_selection(tenant=tenant, actor=manager, params=query())
    seen = []
    count = exports.write_file(selection, "csv", io.BytesIO(), progress=seen.append)
    assert (count, seen) == (4, [2, 4])


def test_a_job_runs_for_the_member_as_they_are_now(settings, tenant, manager, shop, media):
    settings.EXPORT_STREAM_MAX_ROWS = 1
    job = exports.export_customers(tenant=tenant, actor=manager, params=query(), fmt="csv")
    manager.role = "staff"
    manager.save(update_fields=["role"])
    exports.export_execute(job.pk)
    job.refresh_from_db()
    assert job.state == ImportState.FAILED and not job.file and job.message


def test_a_job_runs_once(settings, tenant, manager, shop, media):
    settings.EXPORT_STREAM_MAX_ROWS = 1
    job = exports.export_customers(tenant=tenant, actor=manager, params=query(), fmt="csv")
    exports.export_execute(job.pk)
    job.refresh_from_db()
    first = job.file.name
    exports.export_execute(job.pk)  # a redelivered task
    job.refresh_from_db()
    assert job.file.name == first and job.state == ImportState.DONE


def test_old_exports_are_purged(settings, tenant, manager, shop, media):
    settings.EXPORT_STREAM_MAX_ROWS = 1
    old, new = (exports.export_customers(tenant=tenant, actor=manager, params=query(),
                                         fmt="csv") for _ in range(2))
    for job in (old, new):
        exports.export_execute(job.pk)
    ExportJob.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=40))
    old.refresh_from_db()
    old_path = media / old.file.name
    assert old_path.exists()
    assert exports.exports_purge(timezone.now() - datetime.timedelta(days=30)) == 1
    assert not old_path.exists() and not ExportJob.objects.filter(pk=old.pk).exists()
    new.refresh_from_db()
    assert (media / new.file.name).exists()


# --- access ----------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["staff", "collaborator"])
@pytest.mark.parametrize("service", ["export_customers", "export_orders", "export_ledger"])
def test_only_managers_export(tenant, role, service):
    member = MembershipFactory(tenant=tenant, role=role)
    with pytest.raises(AccessDenied):
        getattr(exports, service)(tenant=tenant, actor=member, params=query(), fmt="xlsx")


def test_a_manager_of_another_shop_exports_nothing_here(tenant, other_manager, shop):
    with pytest.raises(AccessDenied):
        exports.export_customers(tenant=tenant, actor=other_manager, params=query(),
                                 fmt="xlsx")


def test_an_unknown_format_is_refused(tenant, manager):
    with pytest.raises(exports.ValidationError):
        exports.export_customers(tenant=tenant, actor=manager, params=query(), fmt="pdf")


# --- a group, the orders, the ledger ------------------------------------------------------

def test_group_export_has_the_members_only(tenant, manager, shop):
    from groups.models import GroupMember
    from tests.groups.factories import CustomerGroupFactory

    group = CustomerGroupFactory(tenant=tenant, name="Khách thân thiết")
    for key in ("nguyen", "le", "binh"):
        GroupMember.objects.create(tenant=tenant, group=group, customer=shop[key],
                                   joined_at=timezone.now())
    response = exports.export_group(tenant=tenant, actor=manager, group=group,
                                    params=query("q=an&sort=name"), fmt="xlsx")
    assert 'filename="khach-than-thiet-' in response["Content-Disposition"]
    rows = values(sheet(body(response)))
    assert [r[1] for r in rows[1:]] == ["Lê An", "Nguyễn Văn An"]


def make_order(tenant, customer, total, status="delivered", **data):
    from orders.services import order_create

    return order_create(tenant=tenant, actor=SYSTEM, customer=customer,
                        data={"total_amount": total, "status": status,
                              "paid_amount": data.pop("paid", total), **data})


def test_order_export_has_the_list_filters_search_and_columns(tenant, manager, shop):
    now = timezone.now()
    first = make_order(tenant, shop["nguyen"], 1_200_000, paid=200_000,
                       ordered_at=now - datetime.timedelta(days=2))
    second = make_order(tenant, shop["tran"], 300_000, ordered_at=now - datetime.timedelta(days=1))
    make_order(tenant, shop["binh"], 500_000, status="new")
    params = query("status=delivered&q=an")
    response = exports.export_orders(tenant=tenant, actor=manager, params=params, fmt="xlsx")
    ws = sheet(body(response))
    headers = [c.value for c in ws[1]]
    assert headers == [str(c.label) for c in exports.ORDER_COLUMNS]
    rows = [dict(zip([c.key for c in exports.ORDER_COLUMNS], row, strict=True))
            for row in ws.iter_rows(min_row=2)]
    assert [r["code"].value for r in rows] == [second.code, first.code]  # newest first
    top = rows[1]
    assert top["customer_code"].value == shop["nguyen"].code
    assert (top["total"].value, top["total"].number_format) == (1_200_000, '#,##0 "₫"')
    assert (top["paid"].value, top["debt"].value) == (200_000, 1_000_000)
    assert top["ordered_at"].is_date and top["ordered_at"].number_format == "dd/mm/yyyy"
    assert top["ordered_at"].value.date() == timezone.localdate(first.ordered_at)
    assert top["status"].value == first.get_status_display()
    headers, *csv_data = csv_rows(body(exports.export_orders(
        tenant=tenant, actor=manager, params=params, fmt="csv")))
    assert [r[0] for r in csv_data] == [second.code, first.code]
    assert csv_data[1][headers.index(str(exports.ORDER_COLUMNS[12].label))] == "1200000"


def test_ledger_export_has_the_ledger_filters(tenant, manager, shop):
    from tests.loyalty.factories import give, program_on

    program_on(tenant)
    give(tenant, shop["nguyen"], 120, reason="Tặng sinh nhật")
    give(tenant, shop["tran"], 50, reason="Tặng")
    give(tenant, shop["tran"], -20, reason="=trừ điểm")
    make_order(tenant, shop["binh"], 500_000)  # earns 50 points: another kind
    params = query("kind=manual")
    ws = sheet(body(exports.export_ledger(tenant=tenant, actor=manager, params=params,
                                          fmt="xlsx")))
    keys = [c.key for c in exports.LEDGER_COLUMNS]
    rows = [dict(zip(keys, row, strict=True)) for row in ws.iter_rows(min_row=2)]
    # Newest first, the list's order.
    assert [(r["customer_code"].value, r["points"].value) for r in rows] == \
        [(shop["tran"].code, -20), (shop["tran"].code, 50), (shop["nguyen"].code, 120)]
    assert rows[0]["content"].value == "=trừ điểm" and rows[0]["content"].data_type == "s"
    assert rows[0]["date"].is_date and rows[0]["date"].number_format == "dd/mm/yyyy"
    assert rows[0]["recorded"].number_format == "dd/mm/yyyy hh:mm"
    every = values(sheet(body(exports.export_ledger(tenant=tenant, actor=manager,
                                                    params=query(), fmt="xlsx"))))
    assert len(every) == 5
