"""The order importer (imports.orders_engine): rows as whole orders and rows as lines,
linking to customers as the orders app does, walk-in customers, re-import, all or nothing,
skip invalid, aggregates and lifecycle, another shop, loyalty. Runs on SQLite and on
PostgreSQL (COPY)."""

import datetime
from dataclasses import dataclass, field

import pytest
from django.db import connection
from django.utils import timezone, translation

from crm.access import SYSTEM, AccessDenied
from crm.models import AuditLog, TenantSequence
from customers.models import Customer, CustomerPhone, MembershipState, Source
from customers.services import customer_create
from imports import engine, mapping, orders_engine
from imports.models import ImportedCustomer, ImportJob, ImportKind, ImportMode
from loyalty.models import OrderPoints, PointEntry
from orders import services as orders
from orders.models import CustomerStats, Order, OrderLine, OrderStatus, Payment, Return
from orders.stats import month_start
from tests.loyalty.factories import balance, give, program_on

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    """Messages are asserted in the source language (one test reads them in Vietnamese)."""
    with translation.override("en"):
        yield

TODAY = timezone.localdate()
MONTH_AGO = TODAY - datetime.timedelta(days=40)


def d(day: datetime.date) -> str:
    return day.strftime("%d/%m/%Y")


@dataclass
class Sheet:
    """What imports.reading.Sheet gives the engines: headers and (row number, cells)."""

    headers: list
    rows: list = field(default_factory=list)


def sheet(headers: list, *rows) -> Sheet:
    return Sheet(list(headers), [(i + 2, list(r)) for i, r in enumerate(rows)])


# The header of each target, as a Vietnamese shop's file writes it.
HEADERS = {"code": "Mã đơn hàng", "external_id": "Mã đơn trên kênh", "channel": "Kênh bán",
           "status": "Trạng thái", "ordered_at": "Ngày đặt", "delivered_at": "Ngày giao",
           "customer_code": "Mã khách hàng", "customer_name": "Tên khách hàng",
           "phone": "Điện thoại", "email": "Email", "address": "Địa chỉ giao hàng",
           "product": "Tên hàng", "sku": "Mã hàng", "quantity": "Số lượng",
           "unit_price": "Đơn giá", "total": "Tổng tiền", "discount": "Giảm giá",
           "shipping_fee": "Phí giao hàng", "paid": "Đã thanh toán", "note": "Ghi chú"}


def file_of(keys: list, *rows) -> tuple[Sheet, list]:
    """A sheet whose columns fill ``keys``, and its mapping."""
    return sheet([HEADERS[k] for k in keys], *rows), list(keys)


def run(tenant, actor, keys, *rows, dry_run=False, mode=ImportMode.ALL_OR_NOTHING, job=None,
        **kwargs):
    data, targets = file_of(keys, *rows)
    return orders_engine.run(tenant, actor, data, targets, engine.Options(mode=mode),
                             dry_run=dry_run, job=job, **kwargs)


def customer(tenant, phone="0912000001", name="Nguyễn Văn A", **data):
    return customer_create(tenant=tenant, actor=SYSTEM,
                           data={"full_name": name, "phone": phone, **data})


def errors(summary) -> list[tuple[int, str, str]]:
    return [(e.row, e.column, e.message) for e in summary.errors]


ORDER_COLUMNS = ["code", "channel", "status", "ordered_at", "customer_name", "phone",
                 "total", "shipping_fee", "paid"]


# --- rows as whole orders --------------------------------------------------------------------

def test_rows_as_whole_orders(tenant, manager, lists):
    lan = customer(tenant, "0912345678", "Nguyễn Thị Lan")
    summary = run(tenant, manager, ORDER_COLUMNS,
                  ["SP-1001", "Shopee", "Hoàn thành", d(MONTH_AGO), "Lan", "912 345 678",
                   "1.500.000", "30.000", "1.500.000"],
                  ["SP-1002", "Shopee", "Đã hủy", d(MONTH_AGO), "Lan", "0912345678",
                   "200,000", "", ""],
                  ["SP-1003", "Shopee", "Chờ xác nhận", d(TODAY), "Lan", "0912345678",
                   250000, 0, 100000])
    assert errors(summary) == []
    assert summary.written
    counts = summary.counts()
    assert (counts["rows"], counts["created"], counts["unchanged"], counts["linked"],
            counts["new_customers"]) == (3, 3, 0, 3, 0)
    by_ext = {o.external_id: o for o in Order.objects.for_tenant(tenant)}
    assert set(by_ext) == {"SP-1001", "SP-1002", "SP-1003"}
    shopee = Source.objects.for_tenant(tenant).get(code="shopee")
    done, cancelled, new = by_ext["SP-1001"], by_ext["SP-1002"], by_ext["SP-1003"]
    assert (done.status, cancelled.status, new.status) == (
        OrderStatus.DELIVERED, OrderStatus.CANCELLED, OrderStatus.NEW)
    assert {o.channel_id for o in by_ext.values()} == {shopee.pk}
    assert {o.customer_id for o in by_ext.values()} == {lan.pk}
    assert (done.total_amount, done.shipping_fee, done.paid_amount) == (
        1_500_000, 30_000, 1_500_000)
    assert timezone.localdate(done.ordered_at) == MONTH_AGO
    assert done.delivered_at == done.ordered_at
    assert done.delivered_month == month_start(done.delivered_at)
    assert cancelled.delivered_at is None and new.delivered_month is None
    assert sorted(o.code for o in by_ext.values()) == ["DH000001", "DH000002", "DH000003"]
    assert TenantSequence.objects.get(tenant=tenant, name="order").last_value == 3
    assert done.contact_phone_normalized == "+84912345678"
    payments = {p.order_id: p for p in Payment.objects.for_tenant(tenant)}
    assert set(payments) == {done.pk, new.pk}
    assert payments[done.pk].amount == 1_500_000
    assert payments[done.pk].paid_at == done.ordered_at
    assert not OrderLine.objects.for_tenant(tenant).exists()


def test_rows_as_lines_total_from_the_lines(tenant, manager, lists):
    """KiotViet exports one row per product line and repeats the order's columns."""
    keys = ["code", "ordered_at", "status", "customer_name", "phone", "product", "sku",
            "quantity", "unit_price", "discount", "shipping_fee", "paid", "note"]
    when = f"{d(MONTH_AGO)} 14:35"
    summary = run(tenant, manager, keys,
                  ["HD000045", when, "Hoàn thành", "Chị Hoa", "0987654321", "Trà ô long",
                   "TRA-OL", 2, "150.000", "20.000", "30.000", "", "Gói quà"],
                  ["HD000045", when, "Hoàn thành", "Chị Hoa", "0987654321", "Cà phê",
                   "CF-01", "", "80000", "20.000", "30.000", "", ""],
                  ["HD000046", when, "Đã giao hàng", "Chị Hoa", "0987654321", "Đậu đen",
                   "", 3, "10.000", "", "", "30.000", "Giao sáng"])
    assert errors(summary) == []
    assert summary.counts()["created"] == 2 and summary.counts()["lines"] == 3
    first = Order.objects.for_tenant(tenant).get(external_id="HD000045")
    assert first.total_amount == 2 * 150_000 + 80_000 - 20_000 + 30_000
    assert (first.discount, first.shipping_fee, first.paid_amount) == (20_000, 30_000, 0)
    assert first.note == "Gói quà"
    assert timezone.localtime(first.ordered_at).time() == datetime.time(14, 35)
    lines = sorted(first.lines.values_list("product_name", "sku", "quantity", "unit_price"))
    assert lines == [("Cà phê", "CF-01", 1, 80_000), ("Trà ô long", "TRA-OL", 2, 150_000)]
    second = Order.objects.for_tenant(tenant).get(external_id="HD000046")
    assert second.total_amount == 30_000 and second.paid_amount == 30_000
    # Both orders of the unknown phone: one walk-in customer.
    guest = Customer.objects.for_tenant(tenant).get()
    assert {first.customer_id, second.customer_id} == {guest.pk}


def test_values_of_an_order_must_agree_between_its_rows(tenant, manager):
    keys = ["code", "ordered_at", "product", "unit_price", "total"]
    summary = run(tenant, manager, keys,
                  ["HD1", d(MONTH_AGO), "Trà", 100_000, 100_000],
                  ["HD1", d(MONTH_AGO), "Cà phê", 50_000, 50_000],
                  ["HD2", d(MONTH_AGO), "Trà", 100_000, 100_000])
    assert errors(summary) == [
        (3, "Tổng tiền", "50.000 differs from row 2 of the same order (100.000)"),
        (2, "", "another row of this order has an error (row 3)"),
    ]
    assert summary.rejected == 2 and not summary.written
    assert not Order.objects.for_tenant(tenant).exists()


def test_automatic_mapping_of_a_kiotviet_file(tenant, manager):
    headers = ["Mã hóa đơn", "Thời gian", "Mã khách hàng", "Tên khách hàng", "Điện thoại",
               "Địa chỉ", "Mã hàng", "Tên hàng", "Số lượng", "Đơn giá", "Khách cần trả",
               "Khách đã trả", "Trạng thái", "Ghi chú"]
    targets = mapping.auto_map(tenant, "orders", headers)
    assert targets == ["code", "ordered_at", "customer_code", "customer_name", "phone",
                       "address", "sku", "product", "quantity", "unit_price", "total",
                       "paid", "status", "note"]
    assert orders_engine.required_columns(set(targets)) == []


# --- linking to customers --------------------------------------------------------------------

LINK_COLUMNS = ["code", "ordered_at", "status", "customer_code", "customer_name", "phone",
                "email", "total"]


def test_linking_by_code_then_phone_then_email(tenant, manager):
    by_code = customer(tenant, "0911000001", "Theo mã")
    by_phone = customer(tenant, "0911000002", "Theo số")
    by_email = customer(tenant, "0911000003", "Theo email", email="mail@example.com")
    merged = customer(tenant, "0911000004", "Khách cũ")
    from customers.models import CustomerAlias

    CustomerAlias.objects.create(tenant=tenant, code="KH999999", customer=merged)
    day = d(MONTH_AGO)
    summary = run(tenant, manager, LINK_COLUMNS,
                  # the code wins over a phone of another customer
                  ["A1", day, "Đã giao", by_code.code.lower(), "", "0911000002", "", 100],
                  ["A2", day, "Đã giao", "", "", "+84 911 000 002", "", 100],
                  ["A3", day, "Đã giao", "", "", "", "MAIL@example.com", 100],
                  # an unknown code falls back to the phone
                  ["A4", day, "Đã giao", "KH123456", "", "911000002", "", 100],
                  ["A5", day, "Đã giao", "KH999999", "", "", "", 100],
                  # a phone and an email of two customers: ambiguous, left unlinked
                  ["A6", day, "Đã giao", "", "", "0911000002", "mail@example.com", 100])
    assert errors(summary) == []
    linked = dict(Order.objects.for_tenant(tenant).values_list("external_id", "customer_id"))
    assert linked == {"A1": by_code.pk, "A2": by_phone.pk, "A3": by_email.pk,
                      "A4": by_phone.pk, "A5": merged.pk, "A6": None}
    assert (summary.linked, summary.unlinked, summary.new_customers) == (5, 1, 0)
    assert Customer.objects.for_tenant(tenant).count() == 4
    # Linked by its code alone, the order keeps the customer's contact (as order_create).
    a5 = Order.objects.get(external_id="A5")
    assert (a5.contact_name, a5.contact_phone_normalized) == ("Khách cũ", "+84911000004")
    assert Order.objects.get(external_id="A1").contact_name == ""


def test_customer_code_read_by_a_customer_import(tenant, manager):
    """A code another system gave, kept by the customer import, links that system's
    orders."""
    c = customer(tenant, "0911000009", "Khách KiotViet")
    job = ImportJob.objects.create(tenant=tenant, kind=ImportKind.CUSTOMERS,
                                   file_name="kh.xlsx", file_hash="x")
    ImportedCustomer.objects.create(tenant=tenant, job=job, customer=c, created=True, row=2,
                                    source_code="KVKH0042")
    summary = run(tenant, manager, ["code", "ordered_at", "customer_code", "total"],
                  ["HD9", d(MONTH_AGO), "kvkh0042", 500_000])
    assert errors(summary) == []
    assert Order.objects.for_tenant(tenant).get().customer_id == c.pk


def test_unknown_contact_creates_one_walk_in_customer_per_person(tenant, manager, lists):
    job = ImportJob.objects.create(tenant=tenant, kind=ImportKind.ORDERS,
                                   file_name="don.xlsx", file_hash="y")
    keys = ["code", "channel", "ordered_at", "status", "customer_name", "phone", "email",
            "address", "total"]
    summary = run(tenant, manager, keys,
                  ["B1", "Lazada", d(MONTH_AGO), "Đã giao", "Trần Bình", "0903000001", "",
                   "5 Lê Lợi", 100_000],
                  ["B2", "Lazada", d(TODAY), "Mới", "", "", "binh@example.com", "", 50_000],
                  ["B3", "Lazada", d(TODAY), "Mới", "", "0903000001", "binh@example.com",
                   "", 70_000],
                  ["B4", "", d(TODAY), "Mới", "Không liên lạc", "", "", "", 10_000],
                  job=job)
    assert errors(summary) == []
    assert (summary.new_customers, summary.linked, summary.unlinked) == (1, 0, 1)
    guest = Customer.objects.for_tenant(tenant).get()
    assert guest.full_name == "Trần Bình" and guest.street == "5 Lê Lợi"
    assert guest.membership_state == MembershipState.GUEST
    assert guest.source == Source.objects.for_tenant(tenant).get(code="lazada")
    assert guest.phone_normalized == "+84903000001" and guest.email == "binh@example.com"
    if connection.vendor == "postgresql":
        # A customer since the first order's day (COPY; SQLite's bulk_create stamps
        # auto_now_add fields with the time of the insert).
        assert timezone.localdate(guest.created_at) == MONTH_AGO
    linked = dict(Order.objects.for_tenant(tenant).values_list("external_id", "customer_id"))
    assert linked == {"B1": guest.pk, "B2": guest.pk, "B3": guest.pk, "B4": None}
    assert ImportedCustomer.objects.for_tenant(tenant).get().customer_id == guest.pk
    assert guest.code == "KH000001"
    assert CustomerStats.objects.get(customer=guest).delivered_orders == 1


def test_no_walk_in_customer_when_the_shop_says_so(tenant, manager):
    tenant.auto_create_guest_customers = False
    tenant.save()
    summary = run(tenant, manager, ["code", "ordered_at", "phone", "total"],
                  ["C1", d(MONTH_AGO), "0903000002", 100_000])
    assert errors(summary) == [] and summary.created == 1
    assert summary.new_customers == 0 and summary.unlinked == 1
    assert not Customer.objects.for_tenant(tenant).exists()
    assert Order.objects.for_tenant(tenant).get().contact_phone_normalized == "+84903000002"


def test_another_shops_customers_are_never_linked(tenant, other_tenant, manager):
    theirs = customer(other_tenant, "0904000001", "Khách shop B", email="b@example.com")
    summary = run(tenant, manager, ["code", "ordered_at", "status", "customer_code", "phone",
                                    "email", "total"],
                  ["D1", d(MONTH_AGO), "Đã giao", theirs.code, "0904000001",
                   "b@example.com", 100_000])
    assert errors(summary) == [] and summary.new_customers == 1
    order = Order.objects.for_tenant(tenant).get()
    mine = Customer.objects.for_tenant(tenant).get()
    assert order.customer_id == mine.pk != theirs.pk
    assert mine.code == theirs.code  # the file's KH code, free in this shop, is kept
    assert not Order.objects.filter(customer=theirs).exists()
    assert not CustomerStats.objects.filter(customer=theirs, delivered_orders__gt=0).exists()


# --- re-import, all or nothing, skip invalid ------------------------------------------------

def test_importing_the_same_file_twice_creates_nothing_new(tenant, manager, lists):
    rows = [["SP-1", "Shopee", "Đã giao", d(MONTH_AGO), "Lan", "0912345678", 100_000, 0,
             100_000],
            ["SP-2", "Tiki", "Mới", d(TODAY), "Lan", "0912345678", 50_000, 0, 0],
            ["DH000777", "", "Mới", d(TODAY), "Hà", "0912345679", 70_000, 0, 0]]
    first = run(tenant, manager, ORDER_COLUMNS, *rows)
    assert first.created == 3 and first.new_customers == 2
    assert sorted(Source.objects.for_tenant(tenant).filter(name="Tiki")
                  .values_list("parent__code", flat=True)) == ["other"]
    # A free DH number of the file is kept; the other orders and the sequence move past it.
    assert sorted(Order.objects.for_tenant(tenant).values_list("code", flat=True)) == [
        "DH000777", "DH000778", "DH000779"]
    before = (Order.objects.count(), Customer.objects.count(), Payment.objects.count(),
              Source.objects.count())
    second = run(tenant, manager, ORDER_COLUMNS, *rows)
    assert errors(second) == [] and second.written
    assert (second.created, second.unchanged, second.new_customers) == (0, 3, 0)
    assert second.new_sources == []
    assert (Order.objects.count(), Customer.objects.count(), Payment.objects.count(),
            Source.objects.count()) == before
    o = orders.order_create(tenant=tenant, actor=manager, data={"total_amount": 1})
    assert o.code == "DH000780"


def test_a_code_of_ours_on_an_order_of_another_day_is_refused(tenant, manager):
    o = orders.order_create(tenant=tenant, actor=manager, data={"total_amount": 10_000})
    summary = run(tenant, manager, ["code", "ordered_at", "total"],
                  [o.code, d(MONTH_AGO), 10_000], ["DH9", d(MONTH_AGO), 10_000])
    assert [(e.row, e.column) for e in summary.errors] == [(2, "Mã đơn hàng")]
    assert "Channel order id" in summary.errors[0].message
    assert Order.objects.for_tenant(tenant).count() == 1


def test_all_or_nothing_writes_nothing_when_one_row_is_bad(tenant, manager):
    c = customer(tenant, "0912345678")
    summary = run(tenant, manager, ORDER_COLUMNS,
                  ["E1", "", "Đã giao", d(MONTH_AGO), "", "0912345678", 100_000, 0, 0],
                  ["E2", "", "Đã giao", "31/02/2024", "", "0903000003", 100_000, 0, 0])
    assert errors(summary) == [(3, "Ngày đặt", "31/02/2024 is not a valid date")]
    with translation.override("vi"):
        again = run(tenant, manager, ORDER_COLUMNS,
                    ["E2", "", "Đã giao", "31/02/2024", "", "0903000003", 100_000, 0, 0])
        assert [e.text() for e in again.errors] == [
            "Dòng 2, cột Ngày đặt: 31/02/2024 không phải ngày hợp lệ"]
    assert not summary.written and summary.counts()["valid"] == 1
    assert not Order.objects.exists() and Customer.objects.count() == 1
    assert not CustomerStats.objects.filter(customer=c, delivered_orders__gt=0).exists()


def test_skip_invalid_writes_the_valid_orders(tenant, manager):
    keys = ["code", "ordered_at", "status", "product", "quantity", "unit_price", "paid"]
    summary = run(tenant, manager, keys,
                  ["F1", d(MONTH_AGO), "Đã giao", "Trà", 1, "100.000", ""],
                  ["F2", d(MONTH_AGO), "Đã giao", "Trà", 1, "100.000", ""],
                  ["F2", d(MONTH_AGO), "Đã giao", "Cà phê", "hai", "50.000", ""],
                  ["F3", d(MONTH_AGO), "Giao lung tung", "Trà", 1, "10.000", ""],
                  ["F4", d(MONTH_AGO), "Đã giao", "Trà", 1, "10.000", "20.000"],
                  ["F5", d(TODAY + datetime.timedelta(days=2)), "Mới", "Trà", 1, 1, ""],
                  mode=ImportMode.SKIP_INVALID)
    assert summary.written
    assert Order.objects.for_tenant(tenant).get().external_id == "F1"
    assert summary.created == 1
    assert summary.rejected_rows == {3, 4, 5, 6, 7}
    messages = {(e.row, e.column): e.message for e in summary.errors}
    assert messages[(4, "Số lượng")] == "hai is not a whole number"
    assert messages[(3, "")] == "another row of this order has an error (row 4)"
    assert messages[(5, "Trạng thái")].startswith("Giao lung tung is not an order status")
    assert messages[(6, "Đã thanh toán")] == (
        "paid 20.000 is more than the order total 10.000")
    assert messages[(7, "Ngày đặt")].endswith("is after today")


def test_a_rejected_order_creates_no_channel(tenant, manager, lists):
    summary = run(tenant, manager, ["code", "channel", "ordered_at", "total"],
                  ["R1", "Kênh lạ", "hôm qua", 1000], ["R2", "Shopee", d(MONTH_AGO), 1000],
                  mode=ImportMode.SKIP_INVALID)
    assert summary.written and summary.created == 1 and summary.new_sources == []
    assert not Source.objects.filter(name="Kênh lạ").exists()


def test_dry_run_counts_and_writes_nothing(tenant, manager, lists):
    summary = run(tenant, manager, ORDER_COLUMNS,
                  ["G1", "Kênh mới", "Đã giao", d(MONTH_AGO), "An", "0905000001", 1, 0, 0],
                  dry_run=True)
    assert (summary.created, summary.new_customers, summary.new_sources) == (
        1, 1, ["Kênh mới"])
    assert not summary.written
    assert not Order.objects.exists() and not Customer.objects.exists()
    assert not Source.objects.filter(name="Kênh mới").exists()


def test_progress_and_cancel(tenant, manager, monkeypatch):
    monkeypatch.setattr(engine, "CHUNK", 2)
    rows = [[f"H{i}", d(MONTH_AGO), 1000] for i in range(5)]
    seen = []
    summary = run(tenant, manager, ["code", "ordered_at", "total"], *rows,
                  progress=lambda phase, done, total: seen.append((phase, done, total)))
    assert summary.created == 5
    assert ("checking", 2, 5) in seen and ("checking", 4, 5) in seen
    assert seen[-1][0] == "finishing"
    with pytest.raises(engine.CancelledError):
        run(tenant, manager, ["code", "ordered_at", "total"],
            *[[f"J{i}", d(MONTH_AGO), 1000] for i in range(5)], should_stop=lambda: True)
    assert not Order.objects.filter(external_id__startswith="J").exists()


def test_cancel_while_writing_rolls_everything_back(tenant, manager):
    phases = []
    with pytest.raises(engine.CancelledError):
        run(tenant, manager, ["code", "ordered_at", "status", "phone", "total", "paid"],
            ["S1", d(MONTH_AGO), "Đã giao", "0909000001", 1000, 1000],
            progress=lambda phase, done, total: phases.append(phase),
            should_stop=lambda: "writing" in phases)
    assert "writing" in phases
    assert not Order.objects.exists() and not Customer.objects.exists()
    assert not Payment.objects.exists() and not CustomerStats.objects.exists()
    assert not TenantSequence.objects.filter(tenant=tenant, name="order",
                                             last_value__gt=0).exists()


def test_staff_may_not_import_orders(tenant, staff):
    with pytest.raises(AccessDenied):
        run(tenant, staff, ["code", "ordered_at", "total"], ["K1", d(MONTH_AGO), 1])


# --- statuses, returns, dates ----------------------------------------------------------------

@pytest.mark.parametrize(("word", "status"), [
    ("Hoàn thành", OrderStatus.DELIVERED), ("ĐÃ GIAO HÀNG", OrderStatus.DELIVERED),
    ("Đã huỷ", OrderStatus.CANCELLED), ("Không giao được", OrderStatus.CANCELLED),
    ("Đang giao", OrderStatus.SHIPPING), ("Chờ xác nhận", OrderStatus.NEW),
    ("Phiếu tạm", OrderStatus.NEW), ("Đã xác nhận", OrderStatus.CONFIRMED),
    ("Chờ lấy hàng", OrderStatus.CONFIRMED), ("Trả hàng/Hoàn tiền", OrderStatus.RETURNED),
    ("delivered", OrderStatus.DELIVERED), ("Cancelled", OrderStatus.CANCELLED),
])
def test_status_words(word, status):
    assert orders_engine._status(word) == status


def test_empty_status_and_delivery_dates(tenant, manager):
    keys = ["code", "ordered_at", "delivered_at", "status", "total"]
    summary = run(tenant, manager, keys,
                  ["L1", d(MONTH_AGO), d(MONTH_AGO + datetime.timedelta(days=2)), "", 1000],
                  ["L2", d(MONTH_AGO), "", "", 1000],
                  ["L3", f"{d(MONTH_AGO)} 18:00", d(MONTH_AGO), "Đã giao", 1000],
                  ["L4", d(MONTH_AGO), d(MONTH_AGO - datetime.timedelta(days=1)), "Đã giao",
                   1000], mode=ImportMode.SKIP_INVALID)
    by_ext = {o.external_id: o for o in Order.objects.for_tenant(tenant)}
    assert by_ext["L1"].status == OrderStatus.DELIVERED
    assert timezone.localdate(by_ext["L1"].delivered_at) == MONTH_AGO + datetime.timedelta(2)
    assert by_ext["L2"].status == OrderStatus.NEW and by_ext["L2"].delivered_at is None
    assert by_ext["L3"].delivered_at == by_ext["L3"].ordered_at  # same day, no time given
    assert "L4" not in by_ext
    assert [(e.row, e.column) for e in summary.errors] == [(5, "Ngày giao")]


def test_month_first_dates_when_the_column_says_so(tenant, manager):
    data, targets = file_of(["code", "ordered_at", "total"], ["M1", "02/03/2024", 1000])
    options = engine.Options(date_orders={1: "mdy"})
    orders_engine.run(tenant, manager, data, targets, options, dry_run=False)
    assert timezone.localdate(Order.objects.get().ordered_at) == datetime.date(2024, 2, 3)


def test_returned_and_cancelled_orders_follow_the_apps_rules(tenant, manager):
    c = customer(tenant, "0906000001")
    summary = run(tenant, manager, ["code", "ordered_at", "status", "phone", "total", "paid"],
                  ["N1", d(MONTH_AGO), "Đã trả hàng", "0906000001", 300_000, 300_000],
                  ["N2", d(MONTH_AGO), "Đã hủy", "0906000001", 200_000, 50_000])
    assert errors(summary) == []
    returned = Order.objects.get(external_id="N1")
    cancelled = Order.objects.get(external_id="N2")
    assert returned.status == OrderStatus.RETURNED
    assert returned.returned_amount == 300_000 and returned.delivered_at is not None
    assert Return.objects.get(order=returned).amount == 300_000
    assert cancelled.refund_due == 50_000  # paid on a cancelled order: owed back
    stats = CustomerStats.objects.get(customer=c)
    assert (stats.delivered_orders, stats.total_spend, stats.returned_amount) == (0, 0, 300_000)


# --- aggregates and lifecycle ----------------------------------------------------------------

def test_aggregates_and_lifecycle_of_the_customers(tenant, manager):
    tenant.vip_threshold = 1_000_000
    tenant.save()
    buyer = customer(tenant, "0907000001", "Mua một lần")
    vip = customer(tenant, "0907000002", "Mua nhiều")
    waiting = customer(tenant, "0907000003", "Chưa nhận", lifecycle_stage="potential")
    summary = run(tenant, manager, ["code", "ordered_at", "status", "phone", "total", "paid"],
                  ["P1", d(MONTH_AGO - datetime.timedelta(days=200)), "Đã giao", "0907000001",
                   400_000, 100_000],
                  ["P2", d(TODAY), "Đã giao", "0907000002", 700_000, 700_000],
                  ["P3", d(TODAY), "Hoàn thành", "0907000002", 600_000, 600_000],
                  ["P4", d(TODAY), "Đang giao", "0907000003", 900_000, 0])
    assert errors(summary) == []
    s = CustomerStats.objects.get(customer=buyer)
    assert (s.delivered_orders, s.total_spend, s.debt, s.spend_3_months) == (
        1, 400_000, 300_000, 0)
    s = CustomerStats.objects.get(customer=vip)
    assert (s.delivered_orders, s.total_spend, s.average_order, s.debt) == (
        2, 1_300_000, 650_000, 0)
    assert timezone.localdate(s.last_order_at) == TODAY
    stages = dict(Customer.objects.values_list("pk", "lifecycle_stage"))
    assert stages == {buyer.pk: "purchased", vip.pk: "vip", waiting.pk: "potential"}
    assert AuditLog.objects.filter(action="customer.lifecycle").count() == 2
    assert AuditLog.objects.filter(action="import.run", tenant=tenant).count() == 1
    # The incremental path agrees with what the import computed: a new order moves the
    # stats from where the import left them.
    orders.order_create(tenant=tenant, actor=manager, customer=buyer,
                        data={"total_amount": 100_000, "status": "delivered"})
    s = CustomerStats.objects.get(customer=buyer)
    assert (s.delivered_orders, s.total_spend) == (2, 500_000)


# --- loyalty ---------------------------------------------------------------------------------

def test_imported_orders_earn_no_points_and_reverse_none_later(tenant, manager):
    program_on(tenant)
    c = customer(tenant, "0908000001")
    give(tenant, c, 100, "Số dư đầu kỳ")
    summary = run(tenant, manager, ["code", "ordered_at", "status", "phone", "total", "paid"],
                  ["Q1", d(MONTH_AGO), "Đã giao", "0908000001", 1_000_000, 1_000_000],
                  ["Q2", d(MONTH_AGO), "Đã giao", "0908000001", 500_000, 500_000],
                  ["Q3", d(MONTH_AGO), "Đã giao", "0908000001", 300_000, 100_000])
    assert errors(summary) == []
    assert balance(c) == 100
    assert not OrderPoints.objects.exists()
    q1, q2 = Order.objects.get(external_id="Q1"), Order.objects.get(external_id="Q2")
    orders.order_set_status(tenant=tenant, actor=manager, order=q1, status="cancelled")
    orders.order_return(tenant=tenant, actor=manager, order=q2, amount=500_000)
    orders.order_record_payment(tenant=tenant, actor=manager,
                                order=Order.objects.get(external_id="Q3"), amount=200_000)
    assert balance(c) == 100
    assert PointEntry.objects.filter(order__isnull=False).count() == 0
    # The program is on: an order entered in the app earns (1 point per 10.000 ₫).
    orders.order_create(tenant=tenant, actor=manager, customer=c,
                        data={"total_amount": 200_000, "status": "delivered",
                              "paid_amount": 200_000})
    assert balance(c) == 120


# --- columns and template --------------------------------------------------------------------

def test_required_columns():
    assert orders_engine.required_columns({"code", "ordered_at", "total"}) == []
    assert orders_engine.required_columns({"external_id", "ordered_at", "product",
                                           "unit_price", "quantity"}) == []
    missing = orders_engine.required_columns({"customer_name", "unit_price"})
    assert len(missing) == 3
    assert orders_engine.required_columns({"code", "ordered_at", "unit_price"}) == [
        missing[2]]


def test_template_columns_map_back_to_their_targets(tenant):
    with translation.override("vi"):
        columns = orders_engine.template_columns()
        headers = [label for label, _example in columns]
        assert mapping.auto_map(tenant, "orders", headers) == orders_engine.TARGET_KEYS
    example = dict(zip(orders_engine.TARGET_KEYS, [e for _h, e in columns], strict=True))
    assert orders_engine._status(example["status"]) == OrderStatus.DELIVERED
    assert set(orders_engine.DATE_TARGETS) <= set(orders_engine.TARGET_KEYS)


def test_the_template_example_imports(tenant, manager, lists):
    columns = orders_engine.template_columns()
    data = sheet([h for h, _e in columns], [e for _h, e in columns])
    summary = orders_engine.run(tenant, manager, data, orders_engine.TARGET_KEYS,
                                engine.Options(), dry_run=False)
    assert errors(summary) == [] and summary.created == 1
    o = Order.objects.get()
    assert (o.total_amount, o.paid_amount, o.status) == (330_000, 330_000, "delivered")
    assert o.lines.get().quantity == 2
    assert CustomerPhone.objects.get().customer_id == o.customer_id


def test_the_job_flow_of_an_orders_file(tenant, manager, lists, settings, tmp_path):
    """Upload (the template workbook, filled in), automatic mapping, check, run: the same
    path as the screens, through imports.services."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from imports import services
    from imports.models import ImportState

    settings.MEDIA_ROOT = tmp_path / "media"
    with translation.override("vi"):
        content = services.template_workbook(tenant, ImportKind.ORDERS)
    job = services.job_upload(tenant=tenant, actor=manager, kind=ImportKind.ORDERS,
                              uploaded_file=SimpleUploadedFile("don-hang.xlsx", content))
    assert job.mapping == orders_engine.TARGET_KEYS
    job = services.job_configure(tenant=tenant, actor=manager, job=job, mapping=job.mapping,
                                 options={})
    services.execute(job, manager, dry_run=True)
    job.refresh_from_db()
    assert job.state == ImportState.CHECKED and job.counts["created"] == 1
    assert not Order.objects.exists()
    services.execute(job, manager, dry_run=False)
    job.refresh_from_db()
    assert job.state == ImportState.DONE
    assert (job.counts["created"], job.counts["new_customers"]) == (1, 1)
    assert ImportedCustomer.objects.get(job=job).customer_id == Order.objects.get().customer_id
