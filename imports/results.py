"""Workbooks the importer gives back: the rejected rows with a "Lỗi" column, and the example
file a shop fills in."""

import datetime
import io

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from customers.fields import io_fields

from .models import ImportKind

BOLD = Font(bold=True)


def cell(sheet, value, *, bold: bool = False):
    """A write-only cell that shows ``value`` as it is: text stays text, even "=SUM(A1)"
    (never a formula), dates read dd/mm/yyyy."""
    out = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str) and value:
        out.data_type = "s"
    elif isinstance(value, datetime.datetime | datetime.date):
        out.number_format = "dd/mm/yyyy"
    if bold:
        out.font = BOLD
    return out


def _save(book: Workbook) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def error_workbook(sheet, errors: list) -> bytes:
    """The rejected rows as uploaded (same columns, the file's row number first) and a
    "Lỗi" column with every error of the row in words."""
    by_row = {}
    for error in errors:
        by_row.setdefault(error.row, []).append(
            f"{error.column}: {error.message}" if error.column else error.message)
    book = Workbook(write_only=True)
    out = book.create_sheet(_("Rejected rows")[:31])
    out.append([cell(out, _("Row"), bold=True),
                *[cell(out, h, bold=True) for h in sheet.headers],
                cell(out, _("Error"), bold=True)])
    width = len(sheet.headers)
    for number, cells in sheet.rows:
        if number not in by_row:
            continue
        row = list(cells[:width]) + [None] * (width - len(cells[:width]))
        out.append([cell(out, number), *[cell(out, v) for v in row],
                    cell(out, "; ".join(by_row[number]))])
    return _save(book)


CUSTOMER_EXAMPLE = {
    "code": "", "name": "Nguyễn Thị Lan", "phone": "0912 345 678", "email": "lan@example.com",
    "company": "", "tax_code": "", "national_id": "", "gender": "Nữ",
    "birthday": "15/08/1990", "province": "Hà Nội", "street": "12 Hàng Bạc",
    "legacy_address": "", "note": "Thích trà ô long", "care_status": "Đã liên lạc",
    "membership": "Chính thức", "tags": "Lẻ, Trà", "staff": "", "collaborator": "",
    "source": "Facebook", "created": "01/03/2024", "points": 120,
}


def template_workbook(tenant, kind: str) -> bytes:
    """Vietnamese headers of every importable field (customers) or order column, and one
    example row."""
    book = Workbook(write_only=True)
    out = book.create_sheet(_("Customers") if kind == ImportKind.CUSTOMERS else _("Orders"))
    if kind == ImportKind.ORDERS:
        from .orders_engine import template_columns

        columns = template_columns()
    else:
        columns = [(str(f.label), CUSTOMER_EXAMPLE.get(f.key, ""))
                   for f in io_fields(tenant, importable=True)]
    out.append([cell(out, label, bold=True) for label, _example in columns])
    out.append([cell(out, example) for _label, example in columns])
    return _save(book)
