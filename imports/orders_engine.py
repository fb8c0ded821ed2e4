"""The order importer: rows of a sheet -> orders (with lines and payments) -> one set-based
write, linked to the shop's customers the way the orders app links them.

Same shape as the customer importer (``imports.engine``): the preview (``dry_run``), the run
and the command share one code path; errors are ``engine.RowError`` in words; a run in
"all or nothing" with a rejected row writes nothing; "skip invalid" writes the valid orders.

Decisions (the tests hold each one):

- **An order is named by its code or its channel's order id**, on every row
  (``required_columns``): re-importing a file then finds its orders again. A code of this
  software's form (DH000123, any number of digits) is our order's number; any other code
  ("HD000045" from KiotViet, "SON1024" from Sapo, "#1001" from Haravan) is the other
  system's id: it becomes the order's channel order id unless the row has one of its own.
- **Rows with lines**: rows sharing a code (or, without a code, a channel and a channel
  order id) are one order, one line per row that names a product (or a SKU) — KiotViet and
  Sapo export one row per product line and repeat the order's columns. The order's columns
  must agree between its rows (an empty cell on a later row is fine); a different value is
  an error of that row, which catches a total column that holds line amounts and two orders
  sharing a code. Notes of the rows are joined. Rows without a product column are whole
  orders. An order with an error on any of its rows is rejected whole: every row of it is
  listed ("another row of this order has an error").
- **Amounts** (``values.parse_money``: 1.500.000, 1,500,000, 1500000, 1.500.000 ₫), none
  below 0. Without a total (no column, or an empty cell), the total is what
  ``orders.services.order_create`` computes: the lines' quantity × unit price − discount +
  shipping fee. With a total, the total is kept as written (it may include line discounts
  the file does not show). Paid may not exceed the total (``order_create``'s rule); paid on
  a cancelled order is money owed back ("Cần hoàn tiền"), as the orders app shows it.
- **Status** words of this app and of KiotViet, Sapo, Haravan and the marketplaces
  (``STATUS_WORDS``: "Hoàn thành", "Đã giao hàng", "Đã hủy", "Đang giao", "Chờ xác nhận",
  "Phiếu tạm"...). An empty status is "Đã giao" when the row has a delivery date, else
  "Mới". A delivered order without a delivery date was delivered on its order date (the
  app would say "now", which is wrong for history). A returned order ("Đã trả hàng",
  "Hoàn hàng") is imported delivered then returned in full, as ``order_return`` leaves
  it: its whole total returned, a ``Return`` row on its delivery date. Cancelled and
  returned orders need the actor's "order.cancel" / "order.return" too. A partial return
  cannot be written in a file: record it on the order after the import.
- **Dates**: ``values.parse_date`` in the column's order (``options.date_orders``); the
  time of day when the cell has one (a real date-time, or text "15/03/2024 10:30"), else
  noon (Vietnam time). Not after today; a delivery not before the order.
- **Existing orders** (by our code, else by channel and channel order id) are counted
  "unchanged" and not touched: an import adds history, it does not move the status or
  the payments of orders the shop already follows (a status change would need the order
  services' rules, one order at a time). An order code of ours on an order of another
  date is refused: it is more likely another system's code than ours (KiotViet's order
  codes are DH... too) — the message says to map the column as the channel's order id.
  A new order keeps a DH code whose number is free; the others take the shop's next
  numbers (``TenantSequence`` "order", moved past every number used).
- **Customers** are linked as ``orders.services`` links them: by the customer code when
  the row has one (this shop's code, a merged customer's old code, or the code a customer
  import read from the same system, ``ImportedCustomer.source_code``), else by phone or
  email (``match_customer``: a phone and an email of two different customers leave the
  order unlinked). An unknown code falls back to the contact. An order whose contact
  matches nobody creates a walk-in customer (Khách vãng lai) when the shop's setting
  ``auto_create_guest_customers`` says so (``_guest_from_contact``: name, phone, email,
  address, the channel as source): one walk-in customer per person of the file (orders
  sharing a phone, an email or a customer code), created the way the customer importer
  creates customers (``engine.Writer``: a free KH code of the file is kept), a customer
  since their first order's day, their import recorded (``ImportedCustomer``). An order
  linked by its customer code alone keeps the customer's contact of today, as
  ``order_create`` does. Every lookup is a handful of set queries for the whole file,
  every one of this shop: another shop's customers are never read.
- **Writes**, in one transaction: new channels (under "Khác", listed by the preview),
  walk-in customers, orders, lines, payments (one per paid order, on its order date) and
  returns by ``COPY`` on PostgreSQL (``engine.insert_rows``); then the aggregates of the
  customers concerned recomputed set-based (``orders.stats.recompute_batch``, the
  function behind ``aggregates_recompute``, called per batch of 5,000 sorted customer ids
  inside this transaction: nothing is visible half done, and only
  ``customers_bulk_changed`` is sent — one group recompute, not one per batch), their
  lifecycle stage (``lifecycle_stage_for``: first delivered order -> Đã mua hàng, a month
  over the VIP threshold -> VIP; ``customers_set_lifecycle`` writes and audits the changes),
  one audit row, and ``customers_bulk_changed`` (reason "import"). On PostgreSQL a large
  import ANALYZEs the tables it filled before reading them back (``_analyze``).
- **Loyalty**: imported orders earn no points and use none: nothing is sent to the loyalty
  app (``order_contribution_changed`` is not sent, no ``OrderPoints`` row is written) —
  the shop brings its balances with the customers' "Điểm" column. When such an order is
  later cancelled or returned, loyalty finds no ``OrderPoints`` row and nothing newly
  delivered, and reverses nothing; a later payment earns nothing either. Brought back
  from cancelled and delivered again in the app, it is a delivery like any other and
  earns. A tier based on spend follows at the nightly tier refresh.
- The customer importer's options "match", "empty" and "duplicates" do not apply.
"""

import datetime
import re
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm import access
from crm.audit import audit_record
from crm.models import TenantSequence
from crm.money import MAX_AMOUNT
from customers.models import Customer, CustomerAlias, CustomerEmail, CustomerPhone, Source
from customers.normalize import fold
from customers.services import customers_set_lifecycle, lifecycle_stage_for
from customers.signals import customers_bulk_changed
from orders import stats as order_stats
from orders.models import (
    CustomerStats,
    MonthlySpend,
    Order,
    OrderLine,
    OrderStatus,
    Payment,
    Return,
)
from orders.services import order_code

from . import engine, values
from .models import DuplicateRule, ImportedCustomer, ImportMode

# (key, label, synonyms): what a column of an order file can fill. The synonyms are the
# headers of this app's export and of KiotViet, Sapo, Haravan and marketplace exports.
ORDER_TARGETS = [
    ("code", gettext_lazy("Order code"),
     ("Mã đơn hàng", "Mã đơn", "Mã ĐH", "Mã hóa đơn", "Số đơn hàng", "Số hóa đơn", "Đơn hàng",
      "Mã đặt hàng", "Order code", "Order", "Order ID", "Order number", "Name")),
    ("external_id", gettext_lazy("Channel order id"),
     ("Mã đơn trên kênh", "Mã đơn hàng trên kênh", "Mã đơn sàn", "Mã đơn hàng sàn",
      "Mã vận đơn sàn", "Mã tham chiếu", "Mã đơn gốc", "Mã đơn kênh", "External ID",
      "Channel order id")),
    ("channel", gettext_lazy("Sales channel"),
     ("Kênh bán", "Kênh bán hàng", "Kênh", "Nguồn đơn", "Nguồn đơn hàng", "Nguồn",
      "Sàn", "Channel", "Source")),
    ("status", gettext_lazy("Status"),
     ("Trạng thái", "Trạng thái đơn", "Trạng thái đơn hàng", "Tình trạng",
      "Tình trạng đơn hàng", "Status", "Order status")),
    ("ordered_at", gettext_lazy("Ordered at"),
     ("Ngày đặt", "Ngày đặt hàng", "Ngày tạo", "Ngày tạo đơn", "Ngày bán", "Thời gian",
      "Thời gian tạo", "Ngày", "Ngày chứng từ", "Ngày hóa đơn", "Order date", "Created at",
      "Date")),
    ("delivered_at", gettext_lazy("Delivered at"),
     ("Ngày giao", "Ngày giao hàng", "Ngày hoàn thành", "Thời gian giao hàng",
      "Thời gian hoàn thành", "Ngày nhận hàng", "Delivered at", "Delivery date",
      "Completed at")),
    ("customer_code", gettext_lazy("Customer code"),
     ("Mã khách hàng", "Mã KH", "Mã khách", "Customer code", "Customer ID")),
    ("customer_name", gettext_lazy("Customer name"),
     ("Tên khách hàng", "Khách hàng", "Tên khách", "Người nhận", "Tên người nhận",
      "Người mua", "Họ tên", "Họ và tên", "Customer", "Customer name")),
    ("phone", gettext_lazy("Phone"),
     ("SĐT", "Điện thoại", "Số điện thoại", "SĐT khách hàng", "Điện thoại khách hàng",
      "SĐT người nhận", "Số điện thoại người nhận", "Di động", "Phone")),
    ("email", gettext_lazy("Email"), ("Email", "E-mail", "Thư điện tử")),
    ("address", gettext_lazy("Delivery address"),
     ("Địa chỉ giao hàng", "Địa chỉ", "Địa chỉ nhận hàng", "Địa chỉ người nhận",
      "Shipping address", "Address")),
    ("product", gettext_lazy("Product"),
     ("Tên hàng", "Tên hàng hóa", "Sản phẩm", "Tên sản phẩm", "Hàng hóa", "Mặt hàng",
      "Product", "Lineitem name", "Item")),
    ("sku", gettext_lazy("SKU"),
     ("Mã hàng", "Mã hàng hóa", "Mã sản phẩm", "Mã SKU", "SKU", "Lineitem sku")),
    ("quantity", gettext_lazy("Quantity"),
     ("Số lượng", "SL", "Số lượng sản phẩm", "Quantity", "Qty", "Lineitem quantity")),
    ("unit_price", gettext_lazy("Unit price"),
     ("Đơn giá", "Giá bán", "Giá", "Giá sản phẩm", "Unit price", "Price",
      "Lineitem price")),
    ("total", gettext_lazy("Total"),
     ("Tổng tiền", "Khách cần trả", "Thành tiền", "Tổng cộng", "Tổng thanh toán",
      "Tổng giá trị đơn hàng", "Tổng tiền đơn hàng", "Giá trị đơn hàng", "Doanh thu",
      "Total", "Order total")),
    ("discount", gettext_lazy("Discount"),
     ("Giảm giá", "Giảm giá hóa đơn", "Giảm giá đơn hàng", "Chiết khấu", "Khuyến mãi",
      "Discount", "Discount amount")),
    ("shipping_fee", gettext_lazy("Shipping fee"),
     ("Phí giao hàng", "Phí vận chuyển", "Phí ship", "Tiền ship", "Phí VC", "Shipping",
      "Shipping fee")),
    ("paid", gettext_lazy("Paid"),
     ("Đã thanh toán", "Khách đã trả", "Đã trả", "Tiền khách trả", "Số tiền đã thanh toán",
      "Paid", "Amount paid")),
    ("note", gettext_lazy("Note"), ("Ghi chú", "Ghi chú đơn hàng", "Note", "Notes")),
]
TARGET_KEYS = [key for key, _label, _words in ORDER_TARGETS]
DATE_TARGETS = ("ordered_at", "delivered_at")
LINE_KEYS = ("product", "sku", "quantity", "unit_price")
ORDER_KEYS = tuple(k for k in TARGET_KEYS if k not in LINE_KEYS)
MONEY_KEYS = ("unit_price", "total", "discount", "shipping_fee", "paid")
MAX_QUANTITY = 1_000_000
NOON = datetime.time(12)
# From this many new orders on, the tables just filled are analysed before the recompute.
ANALYZE_AFTER = 2000
OUR_CODE = re.compile(r"DH0*(\d{1,12})", re.IGNORECASE)

# Status words of exports, folded (customers.normalize.fold: no accents, lower case).
STATUS_WORDS = {
    OrderStatus.NEW: (
        "moi", "don moi", "new", "pending", "open", "cho xac nhan", "cho duyet", "phieu tam",
        "dat hang", "chua xu ly", "cho xu ly", "dang xu ly", "nhap", "draft", "unfulfilled"),
    OrderStatus.CONFIRMED: (
        "da xac nhan", "xac nhan", "confirmed", "cho lay hang", "cho dong goi",
        "dang dong goi", "da dong goi", "cho giao", "cho giao hang", "dang giao dich",
        "da duyet", "cho van chuyen", "processing"),
    OrderStatus.SHIPPING: (
        "dang giao", "dang giao hang", "dang van chuyen", "dang chuyen", "da gui hang",
        "da lay hang", "da ban giao van chuyen", "shipping", "shipped", "in transit"),
    OrderStatus.DELIVERED: (
        "da giao", "da giao hang", "giao thanh cong", "giao hang thanh cong", "hoan thanh",
        "hoan tat", "thanh cong", "da nhan hang", "da hoan thanh", "delivered", "completed",
        "complete", "fulfilled", "done"),
    OrderStatus.CANCELLED: (
        "da huy", "huy", "huy don", "don huy", "khong giao duoc", "giao that bai",
        "giao hang that bai", "that bai", "tu choi nhan", "khach huy", "cancelled",
        "canceled", "failed"),
    OrderStatus.RETURNED: (
        "da tra hang", "tra hang", "hoan hang", "da hoan hang", "da hoan tra", "hoan tra",
        "tra hang hoan tien", "tra hang/hoan tien", "returned", "refunded"),
}

TEMPLATE_EXAMPLE = {
    "code": "", "external_id": "2403150012AB", "channel": "Shopee", "status": "Đã giao",
    "ordered_at": "15/03/2024 10:30", "delivered_at": "17/03/2024",
    "customer_code": "", "customer_name": "Nguyễn Thị Lan", "phone": "0912 345 678",
    "email": "lan@example.com", "address": "12 Hàng Bạc, Hoàn Kiếm, Hà Nội",
    "product": "Trà ô long 200g", "sku": "TRA-OL-200", "quantity": 2, "unit_price": 150000,
    "total": 330000, "discount": 0, "shipping_fee": 30000, "paid": 330000,
    "note": "Giao giờ hành chính",
}


def required_columns(keys: set) -> list[str]:
    """What the mapping lacks to import orders, in words ([] when it is enough)."""
    errors = []
    if not keys & {"code", "external_id"}:
        errors.append(_("Choose the column with the order code or the channel's order id: "
                        "each order needs one (importing the file again then creates "
                        "nothing new)."))
    if "ordered_at" not in keys:
        errors.append(_("Choose the column with the order date."))
    if "total" not in keys and not ("unit_price" in keys and keys & {"product", "sku"}):
        errors.append(_("Choose the column with the order total, or the columns of its lines: "
                        "product, quantity and unit price."))
    return errors


def template_columns() -> list[tuple[str, object]]:
    """(header in the active language, example value) of each column, for the template."""
    return [(str(label), TEMPLATE_EXAMPLE.get(key, "")) for key, label, _w in ORDER_TARGETS]


# --- what a run reports ---------------------------------------------------------------------

@dataclass
class OrderSummary(engine.Summary):
    """``engine.Summary`` counted in orders: created = new orders, unchanged = orders the
    shop already has; plus the walk-in customers created and how the new orders link."""

    lines: int = 0
    new_customers: int = 0
    linked: int = 0  # new orders of an existing customer
    unlinked: int = 0  # new orders without a customer

    def counts(self) -> dict:
        return {**super().counts(), "lines": self.lines, "new_customers": self.new_customers,
                "linked": self.linked, "unlinked": self.unlinked}


# --- 1. parsing -----------------------------------------------------------------------------

@dataclass
class Line:
    product: str
    sku: str
    quantity: int
    unit_price: int | None


@dataclass
class ParsedRow:
    number: int
    data: dict  # order-level key -> value (absent: empty cell)
    line: Line | None = None
    failed: bool = False  # a cell was refused: the row still names its order, which fails


@dataclass
class Draft:
    """One order of the file: its rows, its values, and what the run decides for it."""

    key: tuple
    rows: list = field(default_factory=list)  # file row numbers
    data: dict = field(default_factory=dict)  # order-level key -> value
    source_row: dict = field(default_factory=dict)  # key -> the row its value came from
    lines: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    number: int | None = None  # our DH number, from the file or given by the run
    external_id: str = ""
    channel: object = None  # Source, ("new", name) or None
    status: str = OrderStatus.NEW
    ordered_at: datetime.datetime | None = None
    delivered_at: datetime.datetime | None = None
    total: int = 0
    customer_id: int | None = None
    guest: engine.Record | None = None
    order_id: int | None = None

    @property
    def row(self) -> int:
        return self.rows[0]


_CLOCK = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?\s*(am|pm|sa|ch)?$",
                    re.IGNORECASE)


def _clock(text: str) -> datetime.time | None:
    """The time of day written after a text date ("15/03/2024 14:05", "… 2:05 PM")."""
    m = _CLOCK.search(text)
    if m is None:
        return None
    hour, minute, second = int(m[1]), int(m[2]), int(m[3] or 0)
    half = (m[4] or "").lower()
    if half in ("pm", "ch") and hour < 12:
        hour += 12
    elif half in ("am", "sa") and hour == 12:
        hour = 0
    if hour > 23 or minute > 59 or second > 59:
        return None
    return datetime.time(hour, minute, second)


def _moment(raw, order: str, tz, today: datetime.date) -> datetime.datetime:
    """An aware date-time (in ``tz``, the shop's) of a date cell: its time of day when it
    has one, else noon; not after ``today``."""
    if isinstance(raw, datetime.datetime):
        moment = raw if raw.time() != datetime.time(0) else raw.replace(hour=12)
        if timezone.is_naive(moment):
            moment = moment.replace(tzinfo=tz)
    else:
        day = values.parse_date(raw, order)
        clock = _clock(values.cell_text(raw)) if isinstance(raw, str) else None
        moment = datetime.datetime.combine(day, clock or NOON, tzinfo=tz)
    if moment.astimezone(tz).date() > today:
        raise values.CellError(_("%(value)s is after today") % {
            "value": values.cell_text(raw)})
    return moment


def _amount(raw) -> int:
    amount = int(values.parse_money(raw))
    if amount < 0:
        raise values.CellError(_("%(value)s is below 0") % {"value": values.cell_text(raw)})
    return amount


def _text(raw, limit: int, *, one_line: bool = True) -> str:
    text = values.clean_text(raw, multiline=not one_line)
    if len(text) > limit:
        raise values.CellError(_("longer than %(n)d characters") % {"n": limit})
    return text


def _status(raw) -> str:
    word = fold(values.clean_name(raw))
    for status, words in STATUS_WORDS.items():
        if word in words or word == status:
            return status
    for status, label in OrderStatus.choices:
        if word == fold(str(label)):
            return status
    allowed = ", ".join(str(label) for _s, label in OrderStatus.choices)
    raise values.CellError(_("%(value)s is not an order status: write one of %(allowed)s") % {
        "value": values.cell_text(raw), "allowed": allowed})


_BLANK = object()


class Parser:
    """Reads each mapped cell of a row into an order-level value or the row's line."""

    def __init__(self, headers, mapping, options: engine.Options):
        self.columns = [(c, c.key) for c in engine._columns(headers, mapping)]
        self.options = options
        self.max_chars = settings.IMPORT_MAX_CELL_CHARS
        self.tz = timezone.get_current_timezone()
        self.today = timezone.localdate()
        # Cells repeat (the order's columns on each of its lines, statuses, prices, a
        # customer's phone on each order): each distinct cell of a column is read once.
        self.memo = {c.index: {} for c, _key in self.columns}

    def parse(self, number: int, cells: list, errors: list) -> ParsedRow:
        data, line, failed = {}, {}, False
        for column, key in self.columns:
            raw = cells[column.index] if column.index < len(cells) else None
            if raw is None:
                continue
            memo = self.memo[column.index]
            # (type, value): 1, 1.0 and True are equal keys but different cells
            value = memo.get((type(raw), raw), memo)
            if value is memo:
                if values.is_blank(raw):
                    value = _BLANK
                else:
                    try:
                        value = self._checked(column, key, raw)
                    except values.CellError as exc:
                        value = exc
                memo[(type(raw), raw)] = value
            if value is _BLANK:
                continue
            if isinstance(value, values.CellError):
                errors.append(engine.RowError(number, column.header, str(value)))
                failed = True
                continue
            if key in LINE_KEYS:
                line[key] = value
            elif key in ("phone", "email"):
                known = data.setdefault(key, [])
                known += [v for v in value if v not in known]
            else:
                data[key] = value
        row = ParsedRow(number, data, failed=failed)
        if failed:
            return row
        if line.get("product") or line.get("sku"):
            row.line = Line(product=line.get("product") or line["sku"],
                            sku=line.get("sku", ""), quantity=line.get("quantity", 1),
                            unit_price=line.get("unit_price"))
        elif line:
            errors.append(engine.RowError(number, self._header("product"), _(
                "a line needs a product name or a SKU")))
            row.failed = True
        return row

    def _header(self, key: str) -> str:
        return next((c.header for c, k in self.columns if k == key), "")

    def _checked(self, column: engine.Column, key: str, raw):
        if isinstance(raw, str) and len(raw) > self.max_chars:
            raise values.CellError(_("the cell is longer than %(n)d characters")
                                   % {"n": self.max_chars})
        return self._read(column, key, raw)

    def _read(self, column: engine.Column, key: str, raw):
        if key == "code":
            return _text(values.cell_text(raw), 64)
        if key == "external_id":
            return _text(values.cell_text(raw), 64)
        if key == "channel":
            return _text(raw, 100)
        if key == "status":
            return _status(raw)
        if key in DATE_TARGETS:
            return _moment(raw, self.options.date_orders.get(column.index, "dmy"), self.tz,
                           self.today)
        if key == "customer_code":
            return _text(values.cell_text(raw), 40).upper()
        if key == "customer_name":
            return _text(raw, 200)
        if key == "phone":
            return values.parse_phones(raw)
        if key == "email":
            return values.parse_emails(raw)
        if key == "address":
            return _text(raw, 255)
        if key == "product":
            return _text(raw, 255)
        if key == "sku":
            return _text(values.cell_text(raw), 64)
        if key == "quantity":
            quantity = values.parse_int(raw)
            if not 1 <= quantity <= MAX_QUANTITY:
                raise values.CellError(_("%(value)s is not a quantity between 1 and %(max)s")
                                       % {"value": values.cell_text(raw),
                                          "max": f"{MAX_QUANTITY:,}".replace(",", ".")})
            return quantity
        if key in MONEY_KEYS:
            return _amount(raw)
        if key == "note":
            return _text(raw, 2000, one_line=False)
        raise values.CellError(_("unknown column"))  # the mapping was checked: not reached


# --- 2. rows -> orders ----------------------------------------------------------------------

def _our_number(code: str) -> int | None:
    m = OUR_CODE.fullmatch(code or "")
    return int(m[1]) if m else None


def _order_key(data: dict) -> tuple | None:
    code = data.get("code")
    if code:
        number = _our_number(code)
        return ("n", number) if number is not None else ("c", code.upper())
    if data.get("external_id"):
        return ("e", fold(data.get("channel") or ""), data["external_id"])
    return None


def _comparable(key: str, value):
    if key == "phone":
        return value[0][1]
    if key == "email":
        return value[0]
    if key in ("channel", "customer_name", "address"):
        return fold(value)
    return value


def _shown(key: str, value) -> str:
    if key == "phone":
        return value[0][0]
    if key == "email":
        return value[0]
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).strftime("%d/%m/%Y %H:%M")
    if key in MONEY_KEYS:
        return f"{value:,}".replace(",", ".")
    return str(OrderStatus(value).label) if key == "status" else str(value)


def gather(rows: list[ParsedRow], errors: list, header_of: dict) -> list[Draft]:
    """The orders of the file, in the order of their first row: rows with one key are one
    order; its values must agree between its rows."""
    drafts: dict[tuple, Draft] = {}
    for row in rows:
        key = _order_key(row.data)
        if key is None:
            if row.failed:
                continue  # its error is listed; nothing says which order it belongs to
            errors.append(engine.RowError(row.number, header_of.get(
                "code", header_of.get("external_id", "")), _(
                "the row has no order code and no channel order id")))
            continue
        draft = drafts.get(key)
        if draft is None:
            draft = drafts[key] = Draft(key=key)
        draft.rows.append(row.number)
        if row.failed:
            continue  # the order is rejected with it (reject_orders)
        bad = False
        for name, value in row.data.items():
            if name == "note":
                if value not in draft.notes:
                    draft.notes.append(value)
                continue
            if name not in draft.data:
                draft.data[name] = value
                draft.source_row[name] = row.number
            elif draft.data[name] != value and (
                    _comparable(name, draft.data[name]) != _comparable(name, value)):
                errors.append(engine.RowError(row.number, header_of.get(name, ""), _(
                    "%(value)s differs from row %(row)d of the same order (%(first)s)") % {
                    "value": _shown(name, value), "row": draft.source_row[name],
                    "first": _shown(name, draft.data[name])}))
                bad = True
        if row.line is not None and not bad:
            draft.lines.append(row.line)
    return list(drafts.values())


def settle(draft: Draft, errors: list, header_of: dict, channels: "Channels") -> None:
    """Decide the order's identity, status, dates and amounts; errors name the row the
    value came from."""
    data = draft.data

    def fail(key: str, message: str) -> None:
        errors.append(engine.RowError(draft.source_row.get(key, draft.row),
                                      header_of.get(key, ""), message))

    code = data.get("code") or ""
    draft.number = _our_number(code)
    draft.external_id = data.get("external_id") or (code if draft.number is None else "")
    draft.channel = channels.resolve(data.get("channel"))
    draft.ordered_at = data.get("ordered_at")
    if draft.ordered_at is None:
        fail("ordered_at", _("the order date is empty"))
    delivered = data.get("delivered_at")
    status = data.get("status") or (OrderStatus.DELIVERED if delivered else OrderStatus.NEW)
    draft.status = status
    if status in (OrderStatus.DELIVERED, OrderStatus.RETURNED):
        draft.delivered_at = delivered or draft.ordered_at
        if delivered and draft.ordered_at and delivered < draft.ordered_at:
            if timezone.localdate(delivered) < timezone.localdate(draft.ordered_at):
                fail("delivered_at", _("delivered on %(delivered)s, before the order date "
                                       "%(ordered)s") % {
                    "delivered": timezone.localtime(delivered).strftime("%d/%m/%Y"),
                    "ordered": timezone.localtime(draft.ordered_at).strftime("%d/%m/%Y")})
            else:  # the same day, written without its time (noon): not before the order
                draft.delivered_at = draft.ordered_at
    _settle_amounts(draft, fail)


def _settle_amounts(draft: Draft, fail: Callable) -> None:
    data = draft.data
    discount, shipping = data.get("discount", 0), data.get("shipping_fee", 0)
    total = data.get("total")
    if total is None:
        if not draft.lines or any(line.unit_price is None for line in draft.lines):
            fail("total", _("the order has no total and its lines no unit price"))
            return
        total = sum(line.quantity * line.unit_price for line in draft.lines) \
            - discount + shipping
        if total < 0:
            fail("discount", _("the discount is more than the lines and the shipping fee: "
                               "the total would be below 0"))
            return
        if total > MAX_AMOUNT:
            fail("total", _("the total of the lines is too large"))
            return
    draft.total = total
    paid = data.get("paid", 0)
    if paid > total:
        fail("paid", _("paid %(paid)s is more than the order total %(total)s") % {
            "paid": _shown("paid", paid), "total": _shown("total", total)})


class Channels:
    """The shop's sources by name ("Shopee", "Sàn TMĐT › Shopee"); a name it does not have
    becomes a new channel under "Khác" when the run writes."""

    def __init__(self, tenant):
        self.tenant = tenant
        self.by_name = {}
        for source in Source.objects.for_tenant(tenant).select_related("parent"):
            self.by_name.setdefault(fold(str(source)), source)
            self.by_name.setdefault(fold(source.name), source)
        self.new: dict[str, str] = {}  # folded -> name as first written

    def resolve(self, text: str | None):
        if not text:
            return None
        key = fold(text.replace(">", "›"))
        source = self.by_name.get(key) or self.by_name.get(fold(text))
        if source is not None:
            return source
        self.new.setdefault(key, text)
        return ("new", key)

    def create(self, keys: set) -> None:
        """Make the new channels ``keys`` (those the written orders name)."""
        other = Source.objects.for_tenant(self.tenant).filter(code="other",
                                                              parent=None).first()
        for key in sorted(keys):
            self.by_name[key] = Source.objects.create(tenant=self.tenant, parent=other,
                                                      name=self.new[key][:100], position=1000)

    def written(self, channel):
        """The Source of a resolved channel, once ``create`` made the new ones."""
        if isinstance(channel, tuple):
            return self.by_name[channel[1]]
        return channel


def _channel_key(channel):
    if channel is None:
        return None
    return channel if isinstance(channel, tuple) else channel.pk


def reject_orders(drafts: list[Draft], errors: list) -> list[Draft]:
    """The drafts none of whose rows has an error; the other rows of a rejected order are
    listed too (the error workbook then holds whole orders)."""
    bad_rows = {e.row: e for e in errors}
    kept = []
    for draft in drafts:
        first_bad = next((r for r in draft.rows if r in bad_rows), None)
        if first_bad is None:
            kept.append(draft)
            continue
        for number in draft.rows:
            if number not in bad_rows:
                errors.append(engine.RowError(number, "", _(
                    "another row of this order has an error (row %(row)d)")
                    % {"row": first_bad}))
    return kept


# --- 3. matching ----------------------------------------------------------------------------

def match_existing(tenant, drafts: list[Draft], errors: list, header_of: dict) -> list[Draft]:
    """Set ``order_id`` of the drafts the shop already has (by our number, else by channel
    and channel order id); returns them. A number of ours on an order of another day is
    refused; two orders of the file with one channel order id too."""
    numbers = sorted({d.number for d in drafts if d.number is not None})
    externals = sorted({d.external_id for d in drafts if d.external_id})
    orders = Order.objects.for_tenant(tenant)
    by_number, by_external = {}, {}
    for chunk in engine._chunks(numbers):
        for number, pk, ordered_at in orders.filter(number__in=chunk).values_list(
                "number", "id", "ordered_at"):
            by_number[number] = (pk, ordered_at)
    for chunk in engine._chunks(externals):
        for channel_id, external_id, pk in orders.filter(external_id__in=chunk).values_list(
                "channel_id", "external_id", "id"):
            by_external[(channel_id, external_id)] = pk
    existing, seen = [], {}
    for draft in drafts:
        found = by_number.get(draft.number) if draft.number is not None else None
        if found is not None:
            pk, ordered_at = found
            if draft.ordered_at and timezone.localdate(ordered_at) != timezone.localdate(
                    draft.ordered_at):
                errors.append(engine.RowError(draft.row, header_of.get("code", ""), _(
                    "%(code)s is an order of this shop of %(date)s, another day: if this "
                    "column holds another system's codes, choose “Channel order id” for it")
                    % {"code": order_code(draft.number),
                       "date": timezone.localtime(ordered_at).strftime("%d/%m/%Y")}))
                continue
            draft.order_id = pk
            existing.append(draft)
            continue
        if draft.external_id:
            ext = (_channel_key(draft.channel), draft.external_id)
            pk = by_external.get(ext) if not isinstance(ext[0], tuple) else None
            if pk is not None:
                draft.order_id = pk
                existing.append(draft)
                continue
            if ext in seen:
                errors.append(engine.RowError(draft.row, header_of.get(
                    "external_id", header_of.get("code", "")), _(
                    "channel order id %(id)s is also on another order of the file (row "
                    "%(row)d)") % {"id": draft.external_id, "row": seen[ext]}))
                continue
            seen[ext] = draft.row
    return existing


class CustomerIndex:
    """Who the codes, phones and emails of the new orders belong to in this shop: one set
    query per kind and chunk."""

    def __init__(self, tenant, drafts: list[Draft]):
        codes = sorted({d.data["customer_code"] for d in drafts if d.data.get("customer_code")})
        phones = sorted({n for d in drafts for _r, n in d.data.get("phone", [])})
        emails = sorted({e for d in drafts for e in d.data.get("email", [])})
        self.by_code, self.by_phone, self.by_email = {}, {}, {}
        customers = Customer.objects.for_tenant(tenant)
        for chunk in engine._chunks(codes):
            # The code another system gave, read by a customer import (latest import wins),
            # then a merged customer's old code, then this shop's own code.
            self.by_code.update(ImportedCustomer.objects.for_tenant(tenant)
                                .filter(source_code__in=chunk).order_by("id")
                                .values_list("source_code", "customer_id"))
            self.by_code.update(CustomerAlias.objects.for_tenant(tenant)
                                .filter(code__in=chunk).values_list("code", "customer_id"))
            self.by_code.update(customers.filter(code__in=chunk).values_list("code", "id"))
        for chunk in engine._chunks(phones):
            self.by_phone.update(CustomerPhone.objects.for_tenant(tenant)
                                 .filter(normalized__in=chunk)
                                 .values_list("normalized", "customer_id"))
        for chunk in engine._chunks(emails):
            self.by_email.update(CustomerEmail.objects.for_tenant(tenant)
                                 .filter(email__in=chunk).values_list("email", "customer_id"))

    def link(self, draft: Draft) -> bool:
        """Set the draft's customer; False when nobody matches (a walk-in customer may be
        made), True when it is linked or ambiguous (left unlinked)."""
        code = draft.data.get("customer_code")
        if code and code in self.by_code:
            draft.customer_id = self.by_code[code]
            return True
        owners = {self.by_phone[n] for _r, n in draft.data.get("phone", [])
                  if n in self.by_phone}
        owners |= {self.by_email[e] for e in draft.data.get("email", []) if e in self.by_email}
        if len(owners) == 1:
            draft.customer_id = owners.pop()
        return bool(owners) or draft.customer_id is not None


def plan_guests(drafts: list[Draft]) -> list[engine.Record]:
    """One walk-in customer per person among ``drafts`` (orders sharing a phone, an email
    or a customer code), as records of the customer importer's writer."""
    records, owner = [], {}
    for draft in drafts:
        data = draft.data
        phones = data.get("phone", [])
        record = engine.Record(row=draft.row, rows=list(draft.rows), data={
            "name": data.get("customer_name") or None,
            "street": data.get("address") or None}, phones=list(phones),
            emails=list(data.get("email", [])), code=data.get("customer_code", ""))
        records.append(record)
        owner[id(record)] = draft
    guests = []
    for group in engine.group_duplicates(records):
        drafts_of = [owner[id(r)] for r in group]
        guest = engine.merge_group(group, DuplicateRule.MERGE)
        first = drafts_of[0]
        if not guest.data.get("name"):
            guest.data["name"] = (guest.phones[0][0] if guest.phones else guest.emails[0])
        guest.data["created"] = min(timezone.localdate(d.ordered_at) for d in drafts_of)
        guest.data["channel"] = first.channel
        for draft in drafts_of:
            draft.guest = guest
        guests.append(guest)
    return guests


# --- 4. writing -----------------------------------------------------------------------------

def _number_orders(tenant, drafts: list[Draft]) -> None:
    """Free DH numbers of the file are kept; the others take the shop's next numbers; the
    sequence then stands past every number used (numbers are never reused)."""
    kept = {d.number for d in drafts if d.number is not None}
    TenantSequence.objects.get_or_create(tenant=tenant, name="order")
    seq = TenantSequence.objects.select_for_update().get(tenant=tenant, name="order")
    top = Order.objects.for_tenant(tenant).aggregate(m=Max("number"))["m"] or 0
    start = max(seq.last_value, top, max(kept, default=0)) + 1
    others = [d for d in drafts if d.number is None]
    for offset, draft in enumerate(others):
        draft.number = start + offset
    seq.last_value = max(start + len(others) - 1, seq.last_value, max(kept, default=0))
    seq.save(update_fields=["last_value"])


CONTACT_KEYS = ("customer_name", "phone", "email", "address")


def _contacts_of_customers(tenant, drafts: list[Draft]) -> None:
    """An order linked by its customer code alone keeps the customer's contact of today,
    as ``order_create`` does for an order entered for a known customer."""
    bare = [d for d in drafts if d.customer_id is not None
            and not any(d.data.get(k) for k in CONTACT_KEYS)]
    found = {}
    for chunk in engine._chunks(sorted({d.customer_id for d in bare})):
        for c in Customer.objects.for_tenant(tenant).filter(pk__in=chunk).only(
                "id", "full_name", "phone", "phone_normalized", "email", "street",
                "ward_code", "province_code", "legacy_address"):
            found[c.pk] = c
    for draft in bare:
        c = found[draft.customer_id]
        draft.data.update({"customer_name": c.full_name, "address": c.address_display[:255]})
        if c.phone_normalized:
            draft.data["phone"] = [(c.phone, c.phone_normalized)]
        if c.email:
            draft.data["email"] = [c.email]


def _order_rows(tenant, user_id, drafts: list[Draft], channels: Channels) -> list[dict]:
    now = timezone.now()
    rows = []
    for d in drafts:
        data = d.data
        phone = data.get("phone") or [("", "")]
        emails = data.get("email") or [""]
        channel = channels.written(d.channel)
        counted = d.status in (OrderStatus.DELIVERED, OrderStatus.RETURNED)
        rows.append({
            "tenant_id": tenant.pk, "number": d.number, "code": order_code(d.number),
            "channel_id": channel.pk if channel else None, "external_id": d.external_id,
            "status": d.status, "ordered_at": d.ordered_at,
            "delivered_at": d.delivered_at if counted else None,
            "delivered_month": order_stats.month_start(d.delivered_at) if counted else None,
            "total_amount": d.total, "discount": data.get("discount", 0),
            "shipping_fee": data.get("shipping_fee", 0), "paid_amount": data.get("paid", 0),
            "returned_amount": d.total if d.status == OrderStatus.RETURNED else 0,
            "points_redeemed": 0, "points_discount": 0,
            "contact_name": data.get("customer_name", ""), "contact_phone": phone[0][0][:40],
            "contact_phone_normalized": phone[0][1], "contact_email": emails[0],
            "contact_address": data.get("address", ""), "customer_id": d.customer_id,
            "note": "\n".join(d.notes), "created_by_id": user_id, "created_at": now,
            "updated_at": now,
        })
    return rows


def _order_ids(tenant, drafts: list[Draft]) -> None:
    ids = {}
    for chunk in engine._chunks([d.number for d in drafts]):
        ids.update(Order.objects.for_tenant(tenant).filter(number__in=chunk)
                   .values_list("number", "id"))
    for draft in drafts:
        draft.order_id = ids[draft.number]


def _children(tenant, user_id, drafts: list[Draft]) -> tuple[list, list, list]:
    lines, payments, returns = [], [], []
    paid_note = _("Paid (imported with the order)")
    return_note = _("Returned (imported with the order)")
    for d in drafts:
        for line in d.lines:
            lines.append({"tenant_id": tenant.pk, "order_id": d.order_id,
                          "product_name": line.product, "sku": line.sku,
                          "quantity": line.quantity, "unit_price": line.unit_price or 0})
        paid = d.data.get("paid", 0)
        if paid:
            payments.append({"tenant_id": tenant.pk, "order_id": d.order_id, "amount": paid,
                             "paid_at": d.ordered_at, "note": paid_note,
                             "created_by_id": user_id})
        if d.status == OrderStatus.RETURNED:
            returns.append({"tenant_id": tenant.pk, "order_id": d.order_id,
                            "returned_at": d.delivered_at, "amount": d.total,
                            "reason": return_note, "created_by_id": user_id})
    return lines, payments, returns


def _create_guests(tenant, actor, job, options, guests: list[engine.Record],
                   channels: Channels, progress: Callable) -> None:
    """The walk-in customers, written as the customer importer writes new customers."""
    if not guests:
        return
    for guest in guests:
        channel = channels.written(guest.data.pop("channel", None))
        if channel is not None:
            guest.data["source"] = channel
    writer = engine.Writer(tenant, actor, options, resolver=None)
    writer.create(guests, progress)
    writer.contacts(guests, {})
    if job is not None:
        engine.insert_rows(ImportedCustomer, engine._imported_rows(tenant, job, guests, []))


def _analyze(*models) -> None:
    """Fresh planner statistics for tables this transaction filled (PostgreSQL's ANALYZE
    counts the rows of its own transaction). Without them the recompute's join of customers
    and orders is planned for the tables as they were: a loop over every order of the batch
    for each customer, minutes instead of a second for 50,000 orders."""
    if connection.vendor != "postgresql":
        return
    tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in models)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {tables}")


def recompute_customers(tenant, customer_ids) -> None:
    """The aggregates and lifecycle stage of these customers, set-based, in the caller's
    transaction."""
    ids = sorted(set(customer_ids))
    window = order_stats.vip_window_start(tenant)
    by_stage = defaultdict(list)
    for chunk in engine._chunks(ids):
        order_stats.recompute_batch(tenant, chunk[0], chunk[-1], customer_ids=chunk)
        current = dict(Customer.objects.for_tenant(tenant).filter(pk__in=chunk)
                       .values_list("pk", "lifecycle_stage"))
        bought = set(CustomerStats.objects.for_tenant(tenant).filter(
            customer_id__in=chunk, delivered_orders__gt=0).values_list("customer_id",
                                                                       flat=True))
        vip = set(MonthlySpend.objects.for_tenant(tenant).filter(
            customer_id__in=chunk, month__gte=window, spend__gte=tenant.vip_threshold)
            .values_list("customer_id", flat=True))
        for pk, stage in current.items():
            wanted = lifecycle_stage_for(stage, bought=pk in bought, vip=pk in vip)
            if wanted != stage:
                by_stage[wanted].append(pk)
    for stage, stage_ids in by_stage.items():
        for chunk in engine._chunks(stage_ids):
            customers_set_lifecycle(tenant=tenant, ids=chunk, stage=stage)


# --- the whole run --------------------------------------------------------------------------

def run(tenant, actor, sheet, mapping: list, options: engine.Options, *, dry_run: bool,
        job=None, progress: Callable | None = None,
        should_stop: Callable | None = None) -> OrderSummary:
    """Check (``dry_run``) or import the orders of ``sheet``. Raises AccessDenied,
    CancelledError; a run in "all or nothing" with a rejected row writes nothing."""
    access.require(actor, "import.run", tenant)
    access.require(actor, "order.create", tenant)
    started = time.monotonic()
    report = progress or (lambda phase, done, total: None)
    stop = should_stop or (lambda: False)
    summary = OrderSummary(rows=len(sheet.rows))
    parser = Parser(sheet.headers, mapping, options)
    header_of = {}
    for column, key in parser.columns:
        header_of.setdefault(key, column.header)

    parsed = []
    for i, (number, cells) in enumerate(sheet.rows, 1):
        parsed.append(parser.parse(number, cells, summary.errors))
        if i % engine.CHUNK == 0:
            report("checking", i, summary.rows)
            if stop():
                raise engine.CancelledError
    drafts = reject_orders(gather(parsed, summary.errors, header_of), summary.errors)
    channels = Channels(tenant)
    for draft in drafts:
        settle(draft, summary.errors, header_of, channels)
    drafts = reject_orders(drafts, summary.errors)
    existing = match_existing(tenant, drafts, summary.errors, header_of)
    drafts = reject_orders(drafts, summary.errors)
    if stop():
        raise engine.CancelledError
    new = [d for d in drafts if d.order_id is None]
    summary.unchanged = len({d.order_id for d in existing})
    summary.created = len(new)
    summary.lines = sum(len(d.lines) for d in new)
    for status, action in ((OrderStatus.CANCELLED, "order.cancel"),
                           (OrderStatus.RETURNED, "order.return")):
        if any(d.status == status for d in new):
            access.require(actor, action, tenant)

    index = CustomerIndex(tenant, new)
    unknown = [d for d in new if not index.link(d)]
    guests = plan_guests([d for d in unknown if d.data.get("phone") or d.data.get("email")]) \
        if tenant.auto_create_guest_customers else []
    summary.new_customers = len(guests)
    summary.linked = sum(1 for d in new if d.customer_id is not None)
    summary.unlinked = sum(1 for d in new if d.customer_id is None and d.guest is None)
    new_channels = {d.channel[1] for d in new if isinstance(d.channel, tuple)}
    summary.new_sources = sorted(channels.new[key] for key in new_channels)
    report("checking", summary.rows, summary.rows)
    if dry_run or (options.mode == ImportMode.ALL_OR_NOTHING and summary.errors):
        summary.duration = time.monotonic() - started
        return summary
    if not new:  # every order is there already (or rejected): the run is done
        summary.written = True
        summary.duration = time.monotonic() - started
        return summary

    user = access.user_of(actor)
    user_id = user.pk if user else None
    total = len(new)
    with transaction.atomic():
        report("writing", 0, total)
        channels.create(new_channels)
        _create_guests(tenant, actor, job, options, guests, channels,
                       lambda done: report("writing", 0, total))
        for draft in new:
            if draft.guest is not None:
                draft.customer_id = draft.guest.customer_id
        if stop():
            raise engine.CancelledError
        _contacts_of_customers(tenant, new)
        _number_orders(tenant, new)
        engine.insert_rows(Order, _order_rows(tenant, user_id, new, channels),
                           lambda done: report("writing", done, total))
        if len(new) >= ANALYZE_AFTER:
            _analyze(Order, Customer)
        _order_ids(tenant, new)
        lines, payments, returns = _children(tenant, user_id, new)
        engine.insert_rows(OrderLine, lines)
        engine.insert_rows(Payment, payments)
        engine.insert_rows(Return, returns)
        if stop():
            raise engine.CancelledError
        report("finishing", total, total)
        customer_ids = {d.customer_id for d in new if d.customer_id is not None}
        recompute_customers(tenant, customer_ids)
        if stop():
            raise engine.CancelledError
        audit_record(tenant, actor, "import.run", after={
            "file": job.file_name if job else "", "kind": "orders", "created": len(new),
            "customers_created": len(guests)})
        customers_bulk_changed.send(sender=Customer, tenant=tenant, reason="import")
    summary.written = True
    summary.duration = time.monotonic() - started
    return summary
