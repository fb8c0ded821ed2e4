"""imports.reading: what an uploaded file is, its header and rows, and every refusal.

Workbooks are built in tmp_path: .xlsx with openpyxl (or by hand, part by part, when the
test needs XML openpyxl would not write); .xls by hand (xlwt is not installed and calamine
cannot write): a minimal BIFF8 workbook stream inside a minimal compound file, both
written by the helpers below and read back by calamine in the tests that use them.
"""

import io
import math
import random
import struct
import types
import unicodedata
import zipfile

import openpyxl
import pytest
from django.utils import translation

from imports import reading
from imports.reading import FileRefused, inspect, read_sheet


@pytest.fixture(autouse=True)
def english():
    # The msgids are the English messages; the Vietnamese ones come from the .po files.
    with translation.override("en"):
        yield


def refused(path, name=None, *, code, sheet=None, **kwargs):
    """The FileRefused of inspect (then read_sheet) on the file, checked for its code."""
    name = name or path.name
    with pytest.raises(FileRefused) as caught:
        book = inspect(path, name, **{k: v for k, v in kwargs.items() if k == "max_bytes"})
        read_sheet(path, book, sheet, **{k: v for k, v in kwargs.items() if k == "max_rows"})
    assert caught.value.code == code, str(caught.value)
    return str(caught.value)


# -- building files ------------------------------------------------------------------------


def xlsx(path, sheets: dict, hidden=()):
    """sheets: {name: {(row, col): value}} (1-based) or {name: [row lists from row 1]}."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, cells in sheets.items():
        ws = book.create_sheet(name)
        if name in hidden:
            ws.sheet_state = "hidden"
        if isinstance(cells, list):
            for row in cells:
                ws.append(row)
        else:
            for (row, col), value in cells.items():
                ws.cell(row=row, column=col, value=value)
    book.save(path)
    return path


def rewrite_part(path, part, change):
    """The same .xlsx with one part's bytes changed."""
    with zipfile.ZipFile(path) as source:
        parts = [(info.filename, source.read(info.filename)) for info in source.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in parts:
            target.writestr(name, change(data) if name == part else data)
    return path


CONTENT_TYPES = (
    '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
    'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-'
    'package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/'
    'sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.'
    'worksheet+xml"/></Types>'
)
ROOT_RELS = (
    '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
    '2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
    'officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
    '</Relationships>'
)
WORKBOOK = (
    '<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
    '2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships"><sheets><sheet name="Khách" sheetId="1" r:id="rId1"/></sheets>'
    '</workbook>'
)
WORKBOOK_RELS = (
    '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
    '2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
    'officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>'
)
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def raw_xlsx(path, sheet_data: str, *, prefix="", shared=None, extra=()):
    """An .xlsx written part by part; sheet_data is the inside of <sheetData>."""
    tag = f"{prefix}:" if prefix else ""
    xmlns = f'xmlns:{prefix}="{MAIN_NS}"' if prefix else f'xmlns="{MAIN_NS}"'
    sheet = (f'<?xml version="1.0"?><{tag}worksheet {xmlns}><{tag}sheetData>{sheet_data}'
             f"</{tag}sheetData></{tag}worksheet>")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", CONTENT_TYPES)
        z.writestr("_rels/.rels", ROOT_RELS)
        z.writestr("xl/workbook.xml", WORKBOOK)
        z.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        z.writestr("xl/worksheets/sheet1.xml", sheet)
        if shared is not None:
            z.writestr("xl/sharedStrings.xml", shared)
        for name, data in extra:
            z.writestr(name, data)
    return path


def inline(ref, text):
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


# Compound file (OLE2) and BIFF8 records, the least calamine reads.
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
END, FREE, FAT_SECTOR, NO_STREAM = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF


def compound_file(streams: dict, *, loop_directory=False) -> bytes:
    """A version-3 compound file (512-byte sectors) holding the streams, each padded to
    4096 bytes at least so that none lives in the mini stream."""
    names = list(streams)
    datas = []
    for name in names:
        data = streams[name].ljust(max(4096, len(streams[name])), b"\0")
        datas.append(data.ljust(len(data) + (-len(data) % 512), b"\0"))
    dir_sectors = math.ceil((1 + len(names)) / 4)
    data_sectors = sum(len(d) // 512 for d in datas)
    fat_sectors = 1
    while fat_sectors * 128 < fat_sectors + dir_sectors + data_sectors:
        fat_sectors += 1
    fat = [FREE] * (fat_sectors * 128)
    fat[:fat_sectors] = [FAT_SECTOR] * fat_sectors
    dir_start = fat_sectors
    for i in range(dir_sectors):
        fat[dir_start + i] = dir_start + i + 1 if i < dir_sectors - 1 else END
    if loop_directory:
        fat[dir_start + dir_sectors - 1] = dir_start
    starts, at = [], dir_start + dir_sectors
    for data in datas:
        count = len(data) // 512
        starts.append(at)
        for j in range(count):
            fat[at + j] = at + j + 1 if j < count - 1 else END
        at += count

    def entry(name, kind, start, size, child=NO_STREAM, right=NO_STREAM):
        raw = name.encode("utf-16-le") + b"\0\0"
        return struct.pack("<64sHBBIII16sIQQIII", raw, len(raw), kind, 1, NO_STREAM, right,
                           child, b"", 0, 0, 0, start, size, 0)

    entries = [entry("Root Entry", 5, END, 0, child=1 if names else NO_STREAM)]
    for i, name in enumerate(names):
        entries.append(entry(name, 2, starts[i], len(datas[i]),
                             right=i + 2 if i < len(names) - 1 else NO_STREAM))
    directory = b"".join(entries).ljust(dir_sectors * 512, b"\0")
    difat = list(range(fat_sectors)) + [FREE] * (109 - fat_sectors)
    header = (OLE_MAGIC + b"\0" * 16 + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
              + b"\0" * 6 + struct.pack("<9I", 0, fat_sectors, dir_start, 0, 4096, END, 0,
                                        END, 0)
              + struct.pack("<109I", *difat))
    return header + struct.pack(f"<{len(fat)}I", *fat) + directory + b"".join(datas)


def record(kind, body=b""):
    return struct.pack("<HH", kind, len(body)) + body


def bof(substream):
    return record(0x0809, struct.pack("<HHHHII", 0x0600, substream, 0x0DBB, 0x07CC, 0, 0))


def label(row, col, text):
    return record(0x0204, struct.pack("<HHHHB", row, col, 0, len(text), 1)
                  + text.encode("utf-16-le"))


def number(row, col, value):
    return record(0x0203, struct.pack("<HHHd", row, col, 0, value))


def dimensions(first_row, last_row, first_col, last_col):
    return record(0x0200, struct.pack("<IIHHH", first_row, last_row, first_col, last_col, 0))


def boundsheet(position, name):
    return record(0x0085, struct.pack("<IBBBB", position, 0, 0, len(name), 1)
                  + name.encode("utf-16-le"))


def biff_workbook(sheets: dict, *, filepass=None) -> bytes:
    """A BIFF8 workbook stream: sheets is {name: [cell records]}; filepass: None, or the
    encryption type of a FILEPASS record (0 XOR obfuscation, 1 RC4)."""
    head = bof(0x0005)
    if filepass is not None:  # the rest of the record does not matter here
        head += record(0x002F, struct.pack("<HHH", filepass, 1, 1) + b"\0" * 48)
    position = len(head) + sum(len(boundsheet(0, n)) for n in sheets) + len(record(0x000A))
    globals_, bodies = head, []
    for name, records in sheets.items():
        body = bof(0x0010) + b"".join(records) + record(0x000A)
        globals_ += boundsheet(position, name)
        bodies.append(body)
        position += len(body)
    return globals_ + record(0x000A) + b"".join(bodies)


def xls(path, sheets: dict, **kwargs):
    path.write_bytes(compound_file({"Workbook": biff_workbook(sheets, **kwargs)}))
    return path


CUSTOMERS = [
    ["Họ tên", "Số điện thoại", "Ngày sinh"],
    ["Nguyễn Văn Đức", "0912345678", "15/08/1990"],
    ["Trần Thị Mai", "0987654321", "01/02/1985"],
]


# -- xlsx: header, rows, sheets ------------------------------------------------------------


def test_header_below_a_title_row_merged_across_the_columns(tmp_path):
    path = tmp_path / "khach.xlsx"
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "Khách hàng"
    ws["A1"] = "DANH SÁCH KHÁCH HÀNG"
    ws.merge_cells("A1:C1")
    ws["A2"] = "Ngày xuất:"
    ws["B2"] = "01/01/2025"
    for row in CUSTOMERS:
        ws.append(row)
    book.save(path)

    book = inspect(path, "khach.xlsx")
    sheet = read_sheet(path, book)

    assert (book.kind, book.sheets, book.encoding) == ("xlsx", ["Khách hàng"], "")
    assert sheet.name == "Khách hàng"
    assert sheet.header_row == 3
    assert sheet.headers == ["Họ tên", "Số điện thoại", "Ngày sinh"]
    assert sheet.rows == [(4, ["Nguyễn Văn Đức", "0912345678", "15/08/1990"]),
                          (5, ["Trần Thị Mai", "0987654321", "01/02/1985"])]


def test_data_starting_at_row_3_column_c_keeps_excel_row_numbers(tmp_path):
    path = xlsx(tmp_path / "c3.xlsx", {"S": {
        (3, 3): "Tên", (3, 4): "SĐT",
        (4, 3): "An", (4, 4): 912345678,
        (6, 3): "Bình", (6, 4): 987654321,
    }})

    sheet = read_sheet(path, inspect(path, "c3.xlsx"))

    assert sheet.header_row == 3
    assert sheet.headers == ["Tên", "SĐT"]
    # Row 5 is blank: skipped, and the numbers stay those Excel shows.
    assert sheet.rows == [(4, ["An", 912345678]), (6, ["Bình", 987654321])]


def test_trailing_blank_looking_rows_and_blank_rows_inside_are_left_out(tmp_path):
    rows = [CUSTOMERS[0], CUSTOMERS[1], [None, None, None], ["   ", "\u00a0", ""],
            CUSTOMERS[2], ["\u200b", " \u3000 ", "\ufeff"], ["\t", None, "\u00a0\u200b"]]
    path = xlsx(tmp_path / "blank.xlsx", {"S": rows})

    sheet = read_sheet(path, inspect(path, "blank.xlsx"))

    assert [number for number, _cells in sheet.rows] == [2, 5]


def test_headers_are_cleaned_and_trailing_empty_header_columns_dropped(tmp_path):
    decomposed = unicodedata.normalize("NFD", "Ngày sinh")
    path = xlsx(tmp_path / "h.xlsx", {"S": {
        (1, 1): "  Họ \u00a0  tên\u200b ", (1, 2): None, (1, 3): decomposed, (1, 4): 2024,
        (2, 1): "An", (2, 2): "x", (2, 3): "1/1/1990", (2, 4): 5, (2, 6): "no header",
        (3, 5): "only beyond the headers",
    }})

    sheet = read_sheet(path, inspect(path, "h.xlsx"))

    assert sheet.headers == ["Họ tên", "", "Ngày sinh", "2024"]
    assert unicodedata.is_normalized("NFC", sheet.headers[2])
    # Rows are as wide as the headers; a row with data only past them is blank.
    assert sheet.rows == [(2, ["An", "x", "1/1/1990", 5])]


def test_several_sheets_first_with_data_or_the_named_one(tmp_path):
    path = xlsx(tmp_path / "multi.xlsx", {
        "Trống": {},
        "Ghi chú": {(1, 1): "File xuất từ KiotViet"},
        "Khách hàng": CUSTOMERS,
        "Đơn hàng": [["Mã đơn", "Tổng tiền"], ["DH001", 1500000]],
        "Ẩn": CUSTOMERS,
    }, hidden=("Ẩn",))

    book = inspect(path, "multi.xlsx")

    assert book.sheets == ["Trống", "Ghi chú", "Khách hàng", "Đơn hàng"]
    assert read_sheet(path, book).name == "Khách hàng"
    orders = read_sheet(path, book, "Đơn hàng")
    assert (orders.headers, orders.rows) == (["Mã đơn", "Tổng tiền"], [(2, ["DH001", 1500000])])
    assert "Trống" in refused(path, sheet="Trống", code="empty_sheet")
    assert "Ghi chú" in refused(path, sheet="Ghi chú", code="no_header")
    assert "Không có" in refused(path, sheet="Không có", code="no_sheet")


def test_limit_stops_after_that_many_rows(tmp_path):
    rows = [CUSTOMERS[0]] + [[f"Khách {i}", f"09{i:08d}", ""] for i in range(50)]
    path = xlsx(tmp_path / "many.xlsx", {"S": rows})

    sheet = read_sheet(path, inspect(path, "many.xlsx"), limit=3, max_rows=10)

    assert [n for n, _cells in sheet.rows] == [2, 3, 4]


def test_formula_cells_give_their_cached_value_never_an_evaluation(tmp_path):
    path = raw_xlsx(tmp_path / "f.xlsx", (
        '<row r="1">' + inline("A1", "Tên") + inline("B1", "Tổng") + inline("C1", "Ghi chú")
        + '</row><row r="2">' + inline("A2", "An")
        + '<c r="B2"><f>1+2</f><v>99</v></c>'
        + '<c r="C2" t="str"><f>HYPERLINK("http://x","y")</f><v>đã lưu</v></c></row>'))

    sheet = read_sheet(path, inspect(path, "f.xlsx"))

    assert sheet.rows == [(2, ["An", 99, "đã lưu"])]


def test_prefixed_elements_without_cell_references_are_read(tmp_path):
    # .NET's Open XML SDK writes <x:row><x:c> with no r="A1": the slow, exact scan
    # follows the running row and column like calamine does.
    cell = '<x:c t="inlineStr"><x:is><x:t>{}</x:t></x:is></x:c>'
    rows = "".join("<x:row>" + "".join(cell.format(v) for v in row) + "</x:row>"
                   for row in (["Tên", "SĐT"], ["An", "0912"], ["Bình", "0913"]))
    path = raw_xlsx(tmp_path / "sdk.xlsx", rows, prefix="x")

    sheet = read_sheet(path, inspect(path, "sdk.xlsx"))

    assert sheet.headers == ["Tên", "SĐT"]
    assert sheet.rows == [(2, ["An", "0912"]), (3, ["Bình", "0913"])]


# -- CSV ---------------------------------------------------------------------------------

CSV_TEXT = "Họ tên,Số điện thoại,Ghi chú\r\nNguyễn Văn Đức,0912345678,\"Q1, TP.HCM\"\r\n"


TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}


def cp1258(text: str) -> bytes:
    """Vietnamese as Windows writes it in cp1258: letters with their hats and horns are
    single bytes (ê, ơ, ă), tones are combining marks after them."""
    out = []
    for char in text:
        parts = unicodedata.normalize("NFD", char)
        base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in TONES))
        out.append(base + "".join(c for c in parts if c in TONES))
    return "".join(out).encode("cp1258")


@pytest.mark.parametrize("encoding, reported", [
    ("utf-8", "utf-8"),
    ("utf-8-sig", "utf-8-sig"),
    ("utf-16", "utf-16"),  # Python writes the BOM
    ("cp1258", "cp1258"),
])
def test_csv_encodings(tmp_path, encoding, reported):
    path = tmp_path / "khach.csv"
    path.write_bytes(cp1258(CSV_TEXT) if encoding == "cp1258" else CSV_TEXT.encode(encoding))

    book = inspect(path, "khach.csv")
    sheet = read_sheet(path, book)

    assert (book.kind, book.encoding, book.sheets) == ("csv", reported, ["khach"])
    assert sheet.headers == ["Họ tên", "Số điện thoại", "Ghi chú"]
    assert sheet.rows == [(2, ["Nguyễn Văn Đức", "0912345678", "Q1, TP.HCM"])]
    # cp1258 stores the tones as combining marks: cells come back composed.
    assert all(unicodedata.is_normalized("NFC", cell) for cell in sheet.rows[0][1])


def test_csv_western_legacy_text_is_cp1252(tmp_path):
    path = tmp_path / "w.csv"
    path.write_bytes("Name,City\r\nJosé Müller,Zürich\r\nFrançois,Besançon\r\n"
                     .encode("cp1252"))

    book = inspect(path, "w.csv")

    assert book.encoding == "cp1252"
    assert read_sheet(path, book).rows[0] == (2, ["José Müller", "Zürich"])


@pytest.mark.parametrize("text, expected", [
    ("Họ tên;SĐT;Địa chỉ\nAn;0912;12 Lê Lợi, Q1\nBình;0913;3 Hai Bà Trưng, Q3\n",
     ["An", "0912", "12 Lê Lợi, Q1"]),
    ("Họ tên\tSĐT\tTiền\nAn\t0912\t1,5\nBình\t0913\t2,5\n", ["An", "0912", "1,5"]),
    ("sep=;\nHọ tên;SĐT\nAn;0912\n", ["An", "0912"]),
])
def test_csv_delimiter_is_sniffed(tmp_path, text, expected):
    path = tmp_path / "d.csv"
    path.write_text(text, encoding="utf-8")

    sheet = read_sheet(path, inspect(path, "d.csv"))

    assert sheet.rows[0] == (2, expected)


def test_csv_title_row_and_blank_lines(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("DANH SÁCH KHÁCH HÀNG,,\n,,\nHọ tên,SĐT,Email\nAn,0912,a@x.vn\n"
                    " , ,\u00a0\nBình,0913,b@x.vn\n,,\n\n", encoding="utf-8")

    sheet = read_sheet(path, inspect(path, "t.csv"))

    assert sheet.header_row == 3
    assert sheet.rows == [(4, ["An", "0912", "a@x.vn"]), (6, ["Bình", "0913", "b@x.vn"])]


# -- refusals: kind, size, emptiness -----------------------------------------------------


def test_unknown_extension(tmp_path):
    path = tmp_path / "khach.pdf"
    path.write_bytes(b"%PDF-1.7")
    assert ".xlsx" in refused(path, code="extension")


def test_too_large(tmp_path, settings):
    path = tmp_path / "big.csv"
    path.write_text("Tên,SĐT\n" + "An,0912\n" * 200_000)
    settings.IMPORT_MAX_BYTES = 1024 * 1024
    assert "at most 1 MB" in refused(path, code="too_large")
    assert refused(path, code="too_large", max_bytes=100)


@pytest.mark.parametrize("name", ["a.xlsx", "a.xls", "a.csv"])
def test_empty_file(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"")
    assert "empty" in refused(path, code="empty_file")


def test_blank_csv_is_empty(tmp_path):
    path = tmp_path / "blank.csv"
    path.write_bytes(b"\xef\xbb\xbf \r\n,,\r\n\t\r\n")
    refused(path, code="empty_file")


def test_empty_sheet_and_blank_looking_sheet(tmp_path):
    path = xlsx(tmp_path / "e.xlsx", {"Trống": {}})
    assert "Trống" in refused(path, code="empty_sheet")
    path = xlsx(tmp_path / "b.xlsx", {"S": [[" ", "\u00a0"], ["\u200b", ""]]})
    refused(path, code="empty_sheet")


def test_sheet_without_a_header_row_or_without_rows(tmp_path):
    title_only = xlsx(tmp_path / "t.xlsx", {"S": [["DANH SÁCH KHÁCH HÀNG"]]})
    assert "column names" in refused(title_only, code="no_header")
    numbers_only = xlsx(tmp_path / "n.xlsx", {"S": [[1, 2, 3], [4, 5, 6]]})
    refused(numbers_only, code="no_header")
    header_only = xlsx(tmp_path / "h.xlsx", {"S": [CUSTOMERS[0]]})
    assert "no rows" in refused(header_only, code="no_data")


@pytest.mark.parametrize("name, content", [
    ("fake.xlsx", b"Ho ten,SDT\nAn,0912\n"),  # text renamed .xlsx
    ("fake.xls", b"Ho ten,SDT\nAn,0912\n"),
    ("fake.xlsx", b"%PDF-1.7\n"),
])
def test_file_not_what_its_name_says(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    assert "not a real" in refused(path, code="mismatch")


def test_xlsx_renamed_xls_and_xls_renamed_xlsx_and_a_zip_that_is_no_workbook(tmp_path):
    real_xlsx = xlsx(tmp_path / "a.xlsx", {"S": CUSTOMERS})
    renamed = tmp_path / "a.xls"
    renamed.write_bytes(real_xlsx.read_bytes())
    refused(renamed, code="mismatch")

    real_xls = xls(tmp_path / "b.xls", {"S": [label(0, 0, "Tên"), label(0, 1, "SĐT")]})
    renamed = tmp_path / "b.xlsx"
    renamed.write_bytes(real_xls.read_bytes())
    refused(renamed, code="mismatch")

    docx = tmp_path / "c.xlsx"
    with zipfile.ZipFile(docx, "w") as z:
        z.writestr("[Content_Types].xml", CONTENT_TYPES)
        z.writestr("word/document.xml", "<w:document/>")
    refused(docx, code="mismatch")


def test_csv_with_nul_bytes_or_a_workbook_inside_is_not_csv(tmp_path):
    path = tmp_path / "bin.csv"
    path.write_bytes(b"Ten,SDT\nAn\x00,0912\n")
    refused(path, code="mismatch")
    workbook = xlsx(tmp_path / "w.xlsx", {"S": CUSTOMERS})
    path = tmp_path / "w.csv"
    path.write_bytes(workbook.read_bytes())
    refused(path, code="mismatch")


# -- refusals: zip bombs, decided from the directory -------------------------------------


@pytest.fixture
def forbid_inflating(monkeypatch):
    """Once called, fail the test if anything reads a zip entry or hands the file to
    calamine (whose stand-in has no attribute at all)."""

    def forbidden(*args, **kwargs):
        raise AssertionError("inflated before refusing")

    def forbid():
        monkeypatch.setattr(zipfile.ZipFile, "open", forbidden)
        monkeypatch.setattr(zipfile.ZipFile, "read", forbidden)
        monkeypatch.setattr(reading, "_inflate", forbidden)
        monkeypatch.setattr(reading, "python_calamine", types.SimpleNamespace())

    return forbid


def bomb(path, entries):
    """A workbook-looking zip; entries: {name: (chunk, count)}, written in chunks so that
    neither the test nor the file holds the inflated size."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", CONTENT_TYPES)
        z.writestr("xl/workbook.xml", WORKBOOK)
        for name, (chunk, count) in entries.items():
            with z.open(name, "w", force_zip64=True) as entry:
                for _ in range(count):
                    entry.write(chunk)
    return path


def test_zip_bomb_by_ratio_refused_from_the_directory(tmp_path, forbid_inflating):
    # 64 MB of zeros inflate from about 64 KB: a ratio near 1000 (a 20 MB upload of the
    # same kind would inflate to 20 GB).
    path = bomb(tmp_path / "bomb.xlsx", {"xl/worksheets/sheet1.xml": (bytes(1 << 20), 64)})
    assert path.stat().st_size < 1024 * 1024
    forbid_inflating()
    assert "decompression bomb" in refused(path, code="zip_bomb")


def test_zip_expanding_beyond_the_total_refused_from_the_directory(tmp_path, settings,
                                                                    forbid_inflating):
    settings.IMPORT_MAX_UNZIPPED_BYTES = 4 * 1024 * 1024
    noise = random.Random(13).randbytes(1 << 20)  # does not compress: ratio about 1
    path = bomb(tmp_path / "big.xlsx", {"xl/media/a.bin": (noise, 3),
                                        "xl/media/b.bin": (noise, 2)})
    forbid_inflating()
    assert "more than 4 MB" in refused(path, code="unzipped_size")


def test_zip_with_too_many_entries_refused_from_the_directory(tmp_path, forbid_inflating):
    path = tmp_path / "many.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr("[Content_Types].xml", CONTENT_TYPES)
        z.writestr("xl/workbook.xml", WORKBOOK)
        for i in range(reading.MAX_ZIP_ENTRIES):
            z.writestr(f"x/{i}", b"")
    forbid_inflating()
    refused(path, code="zip_bomb")


def test_zip_entry_inflating_past_its_declared_size_is_stopped(tmp_path):
    # The directory says 1 MB, the deflate stream holds 2 MB: inflating stops at the
    # first byte past the declared size, whatever the reader downstream would do.
    noise = random.Random(7).randbytes(2 << 20)
    path = raw_xlsx(tmp_path / "lie.xlsx", inline("A1", "x"),
                    extra=[("xl/styles.xml", noise)])
    data = bytearray(path.read_bytes())
    info = zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo("xl/styles.xml")
    struct.pack_into("<I", data, info.header_offset + 22, 1 << 20)  # local header
    at = data.find(b"PK\x01\x02")
    while at >= 0:  # central directory records
        name_size = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46:at + 46 + name_size] == b"xl/styles.xml":
            struct.pack_into("<I", data, at + 24, 1 << 20)
        at = data.find(b"PK\x01\x02", at + 4)
    path.write_bytes(bytes(data))
    with path.open("rb") as fh:  # the directory itself looks sane
        assert len(reading._zip_directory(fh, path.stat().st_size)) == 6
    refused(path, code="zip_bomb")


def test_shared_strings_count_past_what_the_part_can_hold(tmp_path):
    # calamine reserves memory for uniqueCount strings before reading any: 10^11 of them
    # would abort the process.
    shared = (f'<?xml version="1.0"?><sst xmlns="{MAIN_NS}" count="1" '
              'uniqueCount="100000000000"><si><t>An</t></si></sst>')
    path = raw_xlsx(tmp_path / "sst.xlsx", '<row r="1"><c r="A1" t="s"><v>0</v></c></row>',
                    shared=shared)
    refused(path, code="zip_bomb")


# -- refusals: dimensions, cells, rows ---------------------------------------------------


def set_dimension(ref):
    def change(xml):
        start = xml.index(b"<dimension")
        end = xml.index(b">", start) + 1
        return xml[:start] + f'<dimension ref="{ref}"/>'.encode() + xml[end:]
    return change


def test_false_dimension_is_never_trusted(tmp_path):
    rows = [CUSTOMERS[0]] + [[f"Khách {i}", f"09{i:08d}", ""] for i in range(30)]
    huge = rewrite_part(xlsx(tmp_path / "huge.xlsx", {"S": rows}),
                        "xl/worksheets/sheet1.xml", set_dimension("A1:Z1048576"))
    tiny = rewrite_part(xlsx(tmp_path / "tiny.xlsx", {"S": rows}),
                        "xl/worksheets/sheet1.xml", set_dimension("A1:B2"))

    for path in (huge, tiny):
        sheet = read_sheet(path, inspect(path, path.name))
        assert len(sheet.rows) == 30
        assert sheet.rows[-1] == (31, ["Khách 29", "0900000029", ""])

    assert "more than 10 rows" in refused(tiny, code="too_many_rows", max_rows=10)


def test_too_many_rows_counts_real_rows_and_stops_at_the_first_one_past(tmp_path, settings):
    settings.IMPORT_MAX_ROWS = 5
    rows = [CUSTOMERS[0]] + [["An", "0912", ""]] * 5 + [[None, " ", None]] * 40
    path = xlsx(tmp_path / "five.xlsx", {"S": rows})
    assert len(read_sheet(path, inspect(path, "five.xlsx")).rows) == 5

    path = xlsx(tmp_path / "six.xlsx", {"S": rows[:6] + [["Bình", "0913", ""]]})
    assert "more than 5 rows" in refused(path, code="too_many_rows")

    # The row past the limit is the last one read: a broken record after it (a field over
    # the csv module's size limit) is never met.
    settings.IMPORT_MAX_ROWS = 25
    path = tmp_path / "many.csv"
    path.write_text("Tên,SĐT\n" + "An,0912\n" * 26 + '"' + "x" * 200_000 + '",1\n')
    refused(path, code="too_many_rows")
    settings.IMPORT_MAX_ROWS = 30
    refused(path, code="damaged")


def test_sparse_cells_spanning_the_whole_sheet(tmp_path):
    # Two cells, A1 and XFD1048576: calamine would allocate 16384 x 1048576 cells.
    sparse = '<row r="1">' + inline("A1", "Tên") + inline("B1", "SĐT") + "</row>" + (
        '<row r="1048576">' + inline("XFD1048576", "z") + "</row>")
    path = raw_xlsx(tmp_path / "sparse.xlsx", sparse)
    assert "too many cells" in refused(path, code="too_many_cells")

    # The same, written the way the fast scan cannot follow: the exact scan refuses it.
    odd = sparse.replace(inline("XFD1048576", "z"),
                         '<c t="inlineStr" r="XFD1048576"><is><t>z</t></is></c>')
    assert odd != sparse
    path = raw_xlsx(tmp_path / "odd.xlsx", odd)
    refused(path, code="too_many_cells")

    prefixed = sparse.replace("<row", "<x:row").replace("</row", "</x:row")
    prefixed = prefixed.replace("<c ", "<x:c ").replace("</c>", "</x:c>")
    prefixed = prefixed.replace("<is>", "<x:is>").replace("</is>", "</x:is>")
    prefixed = prefixed.replace("<t>", "<x:t>").replace("</t>", "</x:t>")
    path = raw_xlsx(tmp_path / "prefixed.xlsx", prefixed, prefix="x")
    refused(path, code="too_many_cells")


def test_wide_sheet_within_the_cell_budget_is_read(tmp_path):
    header = [f"Cột {i}" for i in range(40)]
    path = xlsx(tmp_path / "wide.xlsx", {"S": [header, ["x"] * 40, ["y"] * 40]})
    sheet = read_sheet(path, inspect(path, "wide.xlsx"))
    assert len(sheet.headers) == 40 and len(sheet.rows) == 2


# -- refusals: encryption ----------------------------------------------------------------


def test_encrypted_xlsx_container(tmp_path):
    path = tmp_path / "secret.xlsx"
    path.write_bytes(compound_file({
        "EncryptionInfo": struct.pack("<HHI", 4, 4, 0x40),
        "EncryptedPackage": b"\x00" * 8,
    }))
    assert "password" in refused(path, code="password")


def test_encrypted_xlsx_renamed_xls(tmp_path):
    path = tmp_path / "secret.xls"
    path.write_bytes(compound_file({"EncryptionInfo": b"\x04\x00", "EncryptedPackage": b""}))
    refused(path, code="password")


@pytest.mark.parametrize("encryption", [0, 1])  # calamine itself notices only RC4 (1)
def test_encrypted_xls(tmp_path, encryption):
    path = xls(tmp_path / "secret.xls", {"S": [label(0, 0, "Tên"), label(0, 1, "SĐT")]},
               filepass=encryption)
    assert "remove the password" in refused(path, code="password")


# -- .xls --------------------------------------------------------------------------------


def test_xls_read_with_title_row_and_sheets(tmp_path):
    path = xls(tmp_path / "old.xls", {
        "Trống": [],
        "Khách hàng": [
            label(0, 0, "DANH SÁCH KHÁCH HÀNG"),
            label(2, 0, "Họ tên"), label(2, 1, "Số điện thoại"), label(2, 2, "Điểm"),
            label(3, 0, "Nguyễn Văn Đức"), label(3, 1, "0912345678"), number(3, 2, 120),
            label(5, 0, "Trần Thị Mai"), label(5, 1, " "), number(5, 2, 7.5),
        ],
    })

    book = inspect(path, "old.xls")
    sheet = read_sheet(path, book)

    assert (book.kind, book.sheets) == ("xls", ["Trống", "Khách hàng"])
    assert (sheet.name, sheet.header_row) == ("Khách hàng", 3)
    assert sheet.headers == ["Họ tên", "Số điện thoại", "Điểm"]
    assert sheet.rows == [(4, ["Nguyễn Văn Đức", "0912345678", 120]),
                          (6, ["Trần Thị Mai", " ", 7.5])]


def test_xls_sheet_spanning_too_many_cells(tmp_path):
    path = xls(tmp_path / "sparse.xls", {"S": [label(0, 0, "a"), label(65535, 255, "b")]})
    assert "“S”" in refused(path, code="too_many_cells")


def test_xls_dimensions_record_calamine_would_reserve_for(tmp_path):
    # calamine reserves rows x columns cells from DIMENSIONS before reading one.
    path = xls(tmp_path / "dim.xls", {"S": [dimensions(0, 0xFFFFFFF0, 0, 200),
                                             label(0, 0, "Tên"), label(0, 1, "SĐT")]})
    refused(path, code="damaged")


def test_compound_file_with_a_looping_chain(tmp_path):
    path = tmp_path / "loop.xls"
    path.write_bytes(compound_file({"Workbook": biff_workbook({"S": [label(0, 0, "a")]})},
                                   loop_directory=True))
    refused(path, code="damaged")


def test_compound_file_without_a_workbook_stream(tmp_path):
    path = tmp_path / "doc.xls"  # a Word 97 document renamed
    path.write_bytes(compound_file({"WordDocument": b"\xec\xa5"}))
    refused(path, code="mismatch")


def test_refusal_is_a_validation_error_with_its_message(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("x")
    with pytest.raises(FileRefused) as caught:
        inspect(path, "a.txt")
    error = caught.value
    assert isinstance(error, reading.ValidationError)
    assert error.messages == [str(error)]
    assert str(error).startswith("This kind of file cannot be imported")


def test_csv_in_no_known_encoding(tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes(b"Ten,SDT\r\nAn\x81\x8d,0912\r\n")  # 0x81: utf-8, cp1252, cp1258 all fail
    assert "CSV UTF-8" in refused(path, code="encoding")


def test_csv_limit_and_sheet_name(tmp_path):
    path = tmp_path / "khach.csv"
    path.write_text("Tên,SĐT\n" + "An,0912\n" * 30, encoding="utf-8")
    book = inspect(path, "khach.csv")

    sheet = read_sheet(path, book, "khach", limit=4, max_rows=10)

    assert [n for n, _cells in sheet.rows] == [2, 3, 4, 5]
    refused(path, sheet="Sheet1", code="no_sheet")


def test_no_usable_sheet_reports_the_most_telling_refusal(tmp_path):
    path = xlsx(tmp_path / "none.xlsx", {"Trống": {}, "Ghi chú": [["Chỉ một dòng ghi chú"]]})
    assert "Ghi chú" in refused(path, code="no_header")


def test_calamine_panic_becomes_a_refusal(tmp_path):
    # A BoundSheet record too short for calamine, which indexes past its end and panics
    # (pyo3's PanicException, a BaseException).
    stream = biff_workbook({"S": [label(0, 0, "Tên"), label(0, 1, "SĐT")]})
    at = stream.index(struct.pack("<H", 0x0085))
    position = stream[at + 4:at + 8]
    short = record(0x0085, position)
    stream = stream[:at] + short + stream[at + 4 + struct.unpack_from("<H", stream, at + 2)[0]:]
    path = tmp_path / "short.xls"
    path.write_bytes(compound_file({"Workbook": stream}))
    refused(path, code="damaged")


def test_two_word_subtitle_above_a_wide_header_is_skipped(tmp_path):
    header = ["Mã KH", "Họ tên", "Số điện thoại", "Email", "Ngày sinh", "Địa chỉ"]
    path = xlsx(tmp_path / "sub.xlsx", {"S": [
        ["DANH SÁCH KHÁCH HÀNG"],
        ["Cửa hàng:", "Chi nhánh Quận 1"],
        header,
        ["KH01", "An", "0912345678", "an@x.vn", "1/1/1990", "Q1"],
    ]})

    sheet = read_sheet(path, inspect(path, "sub.xlsx"))

    assert (sheet.header_row, sheet.headers) == (3, header)


def test_zip_with_two_parts_of_the_same_name(tmp_path):
    path = raw_xlsx(tmp_path / "dup.xlsx", '<row r="1">' + inline("A1", "Tên") + "</row>")
    with pytest.warns(UserWarning, match="Duplicate name"), \
            zipfile.ZipFile(path, "a") as z:
        z.writestr("xl/worksheets/sheet1.xml", "<worksheet/>")
    refused(path, code="damaged")
