"""Reading an uploaded file of customers or orders (issue 13, import step 1: upload).

``inspect`` says what a file is (kind, sheets, text encoding) or refuses it; ``read_sheet``
finds the header row of one sheet, even below a title row, and returns its data rows with
the row numbers Excel shows. A refusal is a ``FileRefused`` carrying a message for the
manager (English msgid, Vietnamese translation) and nothing is written by this module.

Excel files are read by python-calamine: fast, and a formula cell gives the value Excel
cached, never an evaluation. calamine trusts what is inside a file, and a few hostile bytes
make it allocate hundreds of gigabytes, which aborts the whole worker process (no Python
exception): two cells at A1 and XFD1048576, a sharedStrings ``uniqueCount`` of 10^11, an
.xls DIMENSIONS record of four billion rows, a loop in a compound-file sector chain. So
nothing reaches calamine before this module has checked, in bounded memory:

- .xlsx: the zip central directory (number of entries, total expansion, per-entry ratio)
  before anything is inflated; then every part calamine reads, inflated as a stream that is
  stopped as soon as it outgrows the size its directory entry declares; and, for a sheet,
  the cells it really spans (calamine allocates the dense rectangle around its cells).
- .xls: the compound-file structure (sector chains inside the file and without loops),
  encryption (a FILEPASS record, or an encrypted .xlsx container renamed), and the cells
  each sheet really spans (calamine parses every sheet of an .xls when it opens it).

The compound-file and record checks are written here rather than with olefile: it is not a
dependency, and only the directory entries and a handful of record types are needed. CSV
text encodings are decided by a rule among the few that occur (UTF-8 with or without BOM,
UTF-16 with BOM, cp1258 for Vietnamese Windows, else cp1252) rather than by a statistical
detector, which is unreliable on short Vietnamese text.
"""

import codecs
import contextlib
import csv
import functools
import gc
import html
import io
import posixpath
import re
import struct
import unicodedata
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import python_calamine
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.utils.translation import gettext_lazy as _
from openpyxl.utils import get_column_letter

KINDS = ("xlsx", "xls", "csv")

# A normal workbook has a few dozen zip entries; a directory of more is refused before
# Python even builds its list (each entry costs memory to describe).
MAX_ZIP_ENTRIES = 10_000
MAX_ZIP_DIRECTORY_BYTES = 4 * 1024 * 1024
# Below this size an entry cannot hurt (the total is bounded anyway), and the ratio of a
# tiny, very regular part (printer settings, a few comments) can be high for no harm.
RATIO_FLOOR_BYTES = 64 * 1024
# calamine holds the dense rectangle around a sheet's cells, about 32 bytes per cell:
# 12 million cells (200,000 rows x 60 columns) is about 400 MB. Raised with IMPORT_MAX_ROWS.
MIN_CELL_BUDGET = 12_000_000
CELLS_PER_ROW = 60
# The header row is looked for among the first rows that are not blank.
HEADER_WINDOW = 20
# No sane start tag is this long; refusing it keeps the sheet scan's memory bounded.
MAX_TAG_BYTES = 1024 * 1024

_READ = 256 * 1024  # compressed bytes read at a time
_INFLATE = 2 * 1024 * 1024  # inflated bytes produced at a time

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"

# Whitespace (str.isspace: spaces, tabs, line breaks, no-break spaces...) and the invisible
# characters spreadsheets carry over from web pages: a cell made only of these is blank.
_BLANK_CHARS = "".join(chr(c) for c in range(0x3001) if chr(c).isspace()) + (
    "\u200b\u200c\u200d\u2060\ufeff\u180e\u00ad"
)
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u180e\u00ad"))
# Digits, separators, currency: a phone, an amount, a date written as text.
_NUMBER_LIKE = re.compile(r"[\d\s.,:;/+\-()%₫đĐ$]*")


class FileRefused(ValidationError):  # noqa: N818 - the name is the contract's
    """The uploaded file cannot be imported; nothing was written. ``code`` says why,
    ``messages`` (and ``str()``) say it to the manager in the active language."""

    def __str__(self):
        return " ".join(self.messages)


@dataclass
class Book:
    kind: str  # "xlsx" | "xls" | "csv"
    sheets: list[str]
    encoding: str = ""  # the CSV text encoding, "" for a workbook


@dataclass
class Sheet:
    name: str
    header_row: int  # 1-based, as Excel shows it
    headers: list[str]
    # (1-based row number as Excel shows it, raw cell values), one list per data row below
    # the header, as wide as the headers; blank and blank-looking rows are left out.
    rows: list[tuple[int, list]] = field(default_factory=list)


# -- messages ----------------------------------------------------------------------------

EXTENSION = _(
    "This kind of file cannot be imported: choose an Excel file (.xlsx or .xls) or a CSV "
    "file (.csv)."
)
TOO_LARGE = _("The file is too large: at most %(limit)s MB can be imported at once.")
EMPTY_FILE = _("The file is empty: there is nothing to import.")
MISMATCH = _(
    "This is not a real %(kind)s file: its name ends in .%(ext)s but its content is "
    "something else. Open it in Excel, save it as %(kind)s and upload the saved file."
)
PASSWORD = _(
    "The file is password-protected: remove the password in Excel and upload again."
)
UNZIPPED_SIZE = _(
    "The file would take more than %(limit)s MB once unpacked, which is far more than a "
    "list of customers needs: it cannot be imported."
)
ZIP_BOMB = _(
    "The file is built abnormally (it looks like a decompression bomb) and cannot be "
    "imported."
)
DAMAGED = _(
    "The file is damaged or in a form that cannot be read. Open it in Excel, save it again "
    "and upload the saved file."
)
TOO_MANY_CELLS = _(
    "The sheet “%(sheet)s” spans too many cells (more than %(limit)s). Delete the unused "
    "rows and columns, save and upload again."
)
TOO_MANY_ROWS = _(
    "The sheet “%(sheet)s” has more than %(limit)s rows of data: split it into several "
    "files and import them one after the other."
)
EMPTY_SHEET = _("The sheet “%(sheet)s” is empty.")
NO_DATA = _("The sheet “%(sheet)s” has column names but no rows of data.")
NO_HEADER = _(
    "No row of column names was found at the top of the sheet “%(sheet)s”: one of its "
    "first rows must name the columns (for example “Name”, “Phone”)."
)
NO_SHEET = _("The file has no sheet named “%(sheet)s”.")
ENCODING = _(
    "The text encoding of this CSV file was not recognised: save it in Excel as "
    "“CSV UTF-8” and upload it again."
)


def _refuse(message, code, **params) -> FileRefused:
    return FileRefused(message, code=code, params=params or None)


def _number(n: int) -> str:
    return f"{n:,}".replace(",", ".")  # 200.000, as Vietnamese write it


def _mismatch(kind: str) -> FileRefused:
    label = {"xlsx": "Excel (.xlsx)", "xls": "Excel 97-2003 (.xls)", "csv": "CSV"}[kind]
    return _refuse(MISMATCH, "mismatch", kind=label, ext=kind)


def _cell_budget(max_rows: int | None) -> int:
    rows = settings.IMPORT_MAX_ROWS if max_rows is None else max_rows
    return max(MIN_CELL_BUDGET, rows * CELLS_PER_ROW)


# -- public API --------------------------------------------------------------------------


def inspect(path, file_name: str, *, max_bytes=None, max_rows=None) -> Book:
    """What the uploaded file is, or ``FileRefused``: wrong or unknown kind, too large,
    empty, a decompression bomb, damaged, encrypted, spanning too many cells. Rows are
    counted by ``read_sheet``. Reads no more than the checks need."""
    path = Path(path)
    kind = Path(file_name).suffix.lower().lstrip(".")
    if kind not in KINDS:
        raise _refuse(EXTENSION, "extension")
    max_bytes = settings.IMPORT_MAX_BYTES if max_bytes is None else max_bytes
    size = path.stat().st_size
    if size > max_bytes:
        raise _refuse(TOO_LARGE, "too_large", limit=_number(max(1, max_bytes // 2**20)))
    if size == 0:
        raise _refuse(EMPTY_FILE, "empty_file")
    if kind == "csv":
        return Book("csv", [Path(file_name).stem or "CSV"], _csv_encoding(path))
    workbook = _Workbook(path, kind, _cell_budget(max_rows))
    try:
        sheets = workbook.visible_sheets()
    finally:
        workbook.close()
    if not sheets:
        raise _refuse(EMPTY_FILE, "empty_file")
    return Book(kind, sheets, "")


def read_sheet(path, book: Book, sheet: str | None = None, *, max_rows=None,
               limit: int | None = None) -> Sheet:
    """The header and data rows of ``sheet`` (by default the first sheet of ``book`` that
    has data). ``limit`` stops after that many data rows (samples for the mapping screen);
    otherwise more than ``max_rows`` (IMPORT_MAX_ROWS) real rows is refused, as soon as
    the row past the limit is met."""
    path = Path(path)
    max_rows = settings.IMPORT_MAX_ROWS if max_rows is None else max_rows
    if book.kind == "csv":
        name = book.sheets[0] if book.sheets else "CSV"
        if sheet is not None and sheet != name:
            raise _refuse(NO_SHEET, "no_sheet", sheet=sheet)
        return _read_csv(path, name, book.encoding, max_rows, limit)
    workbook = _Workbook(path, book.kind, _cell_budget(max_rows))
    try:
        if sheet is not None:
            if sheet not in workbook.names:
                raise _refuse(NO_SHEET, "no_sheet", sheet=sheet)
            return _read_workbook_sheet(workbook, sheet, max_rows, limit)
        first_refusal = None
        for name in book.sheets:
            if name not in workbook.names:
                continue
            try:
                return _read_workbook_sheet(workbook, name, max_rows, limit)
            except FileRefused as exc:
                # A cover sheet, a notes sheet or an empty one: try the next sheet.
                if exc.code not in ("empty_sheet", "no_header", "no_data"):
                    raise
                if first_refusal is None or first_refusal.code == "empty_sheet":
                    first_refusal = exc
        raise first_refusal or _refuse(EMPTY_FILE, "empty_file")
    finally:
        workbook.close()


# -- rows: header row, blank rows ---------------------------------------------------------


def _is_blank(value) -> bool:
    if value is None:
        return True
    if type(value) is str:
        return not value.strip(_BLANK_CHARS)
    return False


def _row_is_blank(row) -> bool:
    for value in row:
        if not _is_blank(value):
            return False
    return True


def _is_wordy(value) -> bool:
    return type(value) is str and not _NUMBER_LIKE.fullmatch(value)


def clean_header(value) -> str:
    """A header cell as a label: NFC, invisible characters dropped, whitespace collapsed."""
    if _is_blank(value):
        return ""
    if type(value) is float and value.is_integer():
        value = int(value)
    text = unicodedata.normalize("NFC", str(value)).translate(_INVISIBLE)
    return " ".join(text.split())


def _header_index(window) -> int | None:
    """The header is the first of the top rows with at least two filled cells, mostly words
    (not numbers, dates, phones), more filled cells than every row above it, and at least
    half as many as the widest of those rows, so that a title ("DANH SÁCH KHÁCH HÀNG") or a
    two-cell subtitle ("Ngày xuất:", "01/01/2025") above the real header is skipped."""
    filled = [[v for v in row if not _is_blank(v)] for _number_, row in window]
    widest = max(len(cells) for cells in filled)
    above = 0
    for index, cells in enumerate(filled):
        count = len(cells)
        words = sum(1 for v in cells if _is_wordy(v))
        if count >= 2 and words * 2 > count and count > above and count * 2 >= widest:
            return index
        above = max(above, count)
    return None


def _fit(row: list, width: int, pad) -> list:
    if len(row) == width:
        return row
    if len(row) > width:
        return row[:width]
    return row + [pad] * (width - len(row))


def _collect(numbered_rows, sheet_name: str, max_rows: int, limit: int | None,
             pad) -> Sheet:
    """Header row and data rows out of (row number, cells) pairs, blank rows skipped."""
    window = []
    for number, row in numbered_rows:
        if not _row_is_blank(row):
            window.append((number, row))
            if len(window) == HEADER_WINDOW:
                break
    if not window:
        raise _refuse(EMPTY_SHEET, "empty_sheet", sheet=sheet_name)
    index = _header_index(window)
    if index is None:
        raise _refuse(NO_HEADER, "no_header", sheet=sheet_name)
    header_row, header_cells = window[index]
    headers = [clean_header(v) for v in header_cells]
    while headers and not headers[-1]:
        headers.pop()
    width = len(headers)
    rows = []
    for source in (window[index + 1:], numbered_rows):
        for number, row in source:
            row = _fit(row, width, pad)
            if _row_is_blank(row):
                continue
            if len(rows) >= max_rows:
                raise _refuse(TOO_MANY_ROWS, "too_many_rows", sheet=sheet_name,
                              limit=_number(max_rows))
            rows.append((number, row))
            if limit is not None and len(rows) >= limit:
                return Sheet(sheet_name, header_row, headers, rows)
    if not rows:
        raise _refuse(NO_DATA, "no_data", sheet=sheet_name)
    return Sheet(sheet_name, header_row, headers, rows)


@contextlib.contextmanager
def gc_paused():
    """Collecting 100,000 rows creates millions of objects, which makes the cyclic garbage
    collector run full collections over and over (more than half the time spent here).
    Rows hold no reference cycles, and reference counting still frees everything, so the
    collector waits until the rows are read. The import's services keep it waiting until
    the rows are gone (imports.services): back while they live, its next passes would walk
    them all, young objects that they are."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _read_workbook_sheet(workbook, name: str, max_rows: int, limit: int | None) -> Sheet:
    calamine_sheet = workbook.load(name)
    if calamine_sheet.start is None:
        raise _refuse(EMPTY_SHEET, "empty_sheet", sheet=name)
    yielded = 0

    def numbered():
        # python-calamine 0.9.1: iter_rows() starts at the sheet's first row (row 1), with
        # empty lists for the rows above the data, so the n-th row is Excel's row n. It
        # starts at the first used column: column positions are relative to it.
        nonlocal yielded
        for number, row in enumerate(calamine_sheet.iter_rows(), start=1):
            yielded = number
            yield number, row

    rows = numbered()
    with _CalamineErrors(), gc_paused():
        result = _collect(rows, name, max_rows, limit, "")
    if limit is None or len(result.rows) < limit:
        last_row = calamine_sheet.end[0] + 1
        if yielded != last_row:
            raise ImproperlyConfigured(
                f"python-calamine iter_rows() gave {yielded} rows for a sheet ending at row "
                f"{last_row}: row numbers would be wrong (is python-calamine still 0.9.1?)"
            )
    return result


# -- calamine ----------------------------------------------------------------------------


class _CalamineErrors:
    """calamine's errors as refusals. A Rust panic surfaces as pyo3's PanicException,
    which derives from BaseException: it is recognised by name, nothing else is caught."""

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, traceback):
        if exc_type is None:
            return False
        if issubclass(exc_type, python_calamine.PasswordError):
            raise _refuse(PASSWORD, "password") from exc
        if issubclass(exc_type, python_calamine.CalamineError) or (
            exc_type.__name__ == "PanicException"
        ):
            raise _refuse(DAMAGED, "damaged") from exc
        return False


class _Workbook:
    """An .xlsx or .xls file, checked, opened with calamine."""

    def __init__(self, path: Path, kind: str, budget: int):
        self.path, self.kind, self.budget = path, kind, budget
        self.sheet_parts: dict[str, str] = {}
        self.all_sheet_parts: set[str] = set()
        self.zip_infos: dict[str, zipfile.ZipInfo] = {}
        if kind == "xlsx":
            self._check_xlsx()
        else:
            self._check_xls()
        with _CalamineErrors():
            self.calamine = python_calamine.CalamineWorkbook.from_path(str(path))
            self.metadata = list(self.calamine.sheets_metadata)
        self.names = [m.name for m in self.metadata
                      if m.typ == python_calamine.SheetTypeEnum.WorkSheet]

    def close(self):
        self.calamine.close()

    def visible_sheets(self) -> list[str]:
        visible = [m.name for m in self.metadata
                   if m.typ == python_calamine.SheetTypeEnum.WorkSheet
                   and m.visible == python_calamine.SheetVisibleEnum.Visible]
        return visible or self.names

    def load(self, name: str):
        if self.kind == "xlsx":
            part = self.sheet_parts.get(name)
            # A sheet whose part cannot be told: every sheet part is checked.
            parts = [part] if part in self.zip_infos else sorted(
                self.all_sheet_parts & self.zip_infos.keys())
            with open(self.path, "rb") as fh:
                for part in parts:
                    _check_sheet_extent(fh, self.zip_infos[part], name, self.budget)
        with _CalamineErrors():
            return self.calamine.get_sheet_by_name(name)

    # .xlsx

    def _check_xlsx(self):
        with open(self.path, "rb") as fh:
            head = fh.read(8)
            if head == OLE_MAGIC:
                # Excel saves an encrypted .xlsx as a compound file holding the package.
                if _Cfb.names_of(fh) & {"EncryptionInfo", "EncryptedPackage"}:
                    raise _refuse(PASSWORD, "password")
                raise _mismatch("xlsx")
            if not head.startswith(ZIP_MAGIC):
                raise _mismatch("xlsx")
            infos = _zip_directory(fh, self.path.stat().st_size)
            self.zip_infos = {info.filename: info for info in infos}
            if len(self.zip_infos) != len(infos):  # which of two same-named parts is read?
                raise _refuse(DAMAGED, "damaged")
            if not {"[Content_Types].xml", "xl/workbook.xml"} <= self.zip_infos.keys():
                raise _mismatch("xlsx")
            self.sheet_parts, self.all_sheet_parts = _xlsx_sheet_parts(fh, self.zip_infos)
            # Every part calamine may read when it opens the file (shared strings, styles,
            # relationships, pictures...) is inflated once here, and stopped as soon as it
            # outgrows its declared size. Sheets are checked when one is read.
            for name, info in self.zip_infos.items():
                if name in self.all_sheet_parts:
                    continue
                if name.lower().endswith("sharedstrings.xml"):
                    _check_shared_strings(fh, info)
                else:
                    for _piece in _inflate(fh, info):
                        pass

    # .xls

    def _check_xls(self):
        with open(self.path, "rb") as fh:
            head = fh.read(8)
            if head != OLE_MAGIC:
                raise _mismatch("xls")
            cfb = _Cfb(fh, self.path.stat().st_size)
            names = {entry.name for entry in cfb.entries}
            if names & {"EncryptionInfo", "EncryptedPackage"}:
                raise _refuse(PASSWORD, "password")
            # The names calamine looks for, in its order.
            entry = next((e for n in ("Workbook", "Book", "WORKBOOK", "BOOK")
                          for e in cfb.entries if e.name == n), None)
            if entry is None:
                raise _mismatch("xls")
            cfb.check_for_calamine()
            _check_biff(cfb.stream(entry), self.budget)


# -- .xlsx: zip directory, inflating, sheet extents ----------------------------------------


def _zip_directory(fh, size: int) -> list[zipfile.ZipInfo]:
    """The zip entries, refused from the central directory alone, before any inflating:
    too many, too large together, or one inflating more than IMPORT_MAX_ZIP_RATIO times."""
    tail_size = min(size, 22 + 65535)
    fh.seek(size - tail_size)
    tail = fh.read(tail_size)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or at + 22 > len(tail):
        raise _refuse(DAMAGED, "damaged")
    entries, directory_size = struct.unpack_from("<HI", tail, at + 10)
    if entries == 0xFFFF or directory_size == 0xFFFFFFFF:  # zip64 end of directory
        locator = at - 20
        if locator >= 0 and tail[locator:locator + 4] == b"PK\x06\x07":
            (offset,) = struct.unpack_from("<Q", tail, locator + 8)
            fh.seek(offset)
            record = fh.read(56)
            if len(record) == 56 and record[:4] == b"PK\x06\x06":
                entries, directory_size = struct.unpack_from("<QQ", record, 32)
    if entries > MAX_ZIP_ENTRIES or directory_size > MAX_ZIP_DIRECTORY_BYTES:
        raise _refuse(ZIP_BOMB, "zip_bomb")
    fh.seek(0)
    try:
        with zipfile.ZipFile(fh) as archive:  # reads the central directory only
            infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError,
            NotImplementedError, OSError) as exc:
        raise _refuse(DAMAGED, "damaged") from exc
    if len(infos) > MAX_ZIP_ENTRIES:
        raise _refuse(ZIP_BOMB, "zip_bomb")
    if any(info.flag_bits & 0x1 for info in infos):
        raise _refuse(PASSWORD, "password")
    total_limit = settings.IMPORT_MAX_UNZIPPED_BYTES
    if sum(info.file_size for info in infos) > total_limit:
        raise _refuse(UNZIPPED_SIZE, "unzipped_size",
                      limit=_number(max(1, total_limit // 2**20)))
    ratio = settings.IMPORT_MAX_ZIP_RATIO
    for info in infos:
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise _refuse(DAMAGED, "damaged")
        if info.file_size > RATIO_FLOOR_BYTES and (
            info.compress_size == 0 or info.file_size > ratio * info.compress_size
        ):
            raise _refuse(ZIP_BOMB, "zip_bomb")
    return infos


def _inflate(fh, info: zipfile.ZipInfo):
    """The entry's bytes, in pieces of at most 2 MB, read from its local header. Refused as
    soon as it produces more than the size the directory declared (a lying directory),
    and as damaged when it ends short or is not valid deflate."""
    fh.seek(info.header_offset)
    local = fh.read(30)
    if len(local) < 30 or local[:4] != ZIP_MAGIC:
        raise _refuse(DAMAGED, "damaged")
    name_size, extra_size = struct.unpack_from("<HH", local, 26)
    fh.seek(info.header_offset + 30 + name_size + extra_size)
    left = info.compress_size
    if info.compress_type == zipfile.ZIP_STORED:
        if left != info.file_size:
            raise _refuse(DAMAGED, "damaged")
        while left:
            raw = fh.read(min(_INFLATE, left))
            if not raw:
                raise _refuse(DAMAGED, "damaged")
            left -= len(raw)
            yield raw
        return
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    produced = 0
    while True:
        if inflater.unconsumed_tail:
            raw = inflater.unconsumed_tail
        elif left:
            raw = fh.read(min(_READ, left))
            if not raw:
                raise _refuse(DAMAGED, "damaged")
            left -= len(raw)
        else:
            raw = b""
        try:
            piece = inflater.decompress(raw, _INFLATE)
        except zlib.error as exc:
            raise _refuse(DAMAGED, "damaged") from exc
        produced += len(piece)
        if produced > info.file_size:
            raise _refuse(ZIP_BOMB, "zip_bomb")
        if piece:
            yield piece
        if inflater.eof or (not raw and not piece):
            break
    if not inflater.eof or produced != info.file_size:
        raise _refuse(DAMAGED, "damaged")


def _read_part(fh, info: zipfile.ZipInfo, limit: int = 16 * 1024 * 1024) -> bytes:
    if info.file_size > limit:
        raise _refuse(DAMAGED, "damaged")
    return b"".join(_inflate(fh, info))


_TAG_NAME = rb"<(?:[A-Za-z_][\w.\-]*:)?"
_ATTRIBUTE = re.compile(rb"([A-Za-z_][\w.\-]*(?::[A-Za-z_][\w.\-]*)?)\s*=\s*"
                        rb"(?:\"([^\"]*)\"|'([^']*)')")
_SHEET_TAG = re.compile(_TAG_NAME + rb"sheet\s([^>]*)>")
_RELATIONSHIP_TAG = re.compile(_TAG_NAME + rb"Relationship\s([^>]*)>")
_SHEET_TYPES = ("/worksheet", "/chartsheet", "/dialogsheet", "/macrosheet")


def _attributes(text: bytes) -> dict[str, str]:
    return {
        name.decode("utf-8", "replace"): html.unescape(
            (double if double is not None else single).decode("utf-8", "replace"))
        for name, double, single in _ATTRIBUTE.findall(text)
    }


def _xlsx_sheet_parts(fh, infos) -> tuple[dict[str, str], set[str]]:
    """Sheet name -> worksheet part, from xl/workbook.xml and its relationships (read as
    text: no XML parser here would be safe against entity tricks, and two attributes are
    all that is needed); and every part of any kind of sheet."""
    relationships = {}
    kinds = {}
    rels = infos.get("xl/_rels/workbook.xml.rels")
    if rels is not None:
        lower = {name.lower(): name for name in infos}
        for tag in _RELATIONSHIP_TAG.findall(_read_part(fh, rels)):
            attrs = _attributes(tag)
            target = attrs.get("Target", "")
            if target.startswith("/"):
                target = target.lstrip("/")
            else:
                target = posixpath.normpath(posixpath.join("xl", target))
            target = lower.get(target.lower(), target)
            relationships[attrs.get("Id", "")] = target
            kinds[target] = attrs.get("Type", "")
    parts = {}
    for tag in _SHEET_TAG.findall(_read_part(fh, infos["xl/workbook.xml"])):
        attrs = _attributes(tag)
        rid = next((v for k, v in attrs.items() if k.endswith(":id")), None)
        if "name" in attrs and rid in relationships:
            parts[attrs["name"]] = relationships[rid]
    sheet_parts = {target for target, kind in kinds.items() if kind.endswith(_SHEET_TYPES)}
    sheet_parts |= set(parts.values())
    sheet_parts |= {name for name in infos if name.startswith("xl/worksheets/")
                    and name.endswith(".xml")}
    return parts, sheet_parts


_UNIQUE_COUNT = re.compile(_TAG_NAME + rb"sst\b[^>]*?\buniqueCount\s*=\s*[\"']\s*(\d+)")


def _check_shared_strings(fh, info):
    """calamine reserves memory for ``uniqueCount`` strings before reading one: a count
    that the part could not possibly hold (a string takes at least 5 bytes, ``<si/>``) is
    a bomb."""
    first = True
    for piece in _inflate(fh, info):
        if first:
            first = False
            match = _UNIQUE_COUNT.search(piece[:65536])
            if match and int(match.group(1)) > info.file_size // 5 + 16:
                raise _refuse(ZIP_BOMB, "zip_bomb")


def _tag_chunks(fh, info):
    """The inflated part in pieces cut after a '>', so no tag straddles two pieces."""
    carry = b""
    for piece in _inflate(fh, info):
        chunk = carry + piece if carry else piece
        cut = chunk.rfind(b">") + 1
        carry = chunk[cut:]
        lt = carry.rfind(b"<")
        carry = carry[lt:] if lt >= 0 else b""
        if len(carry) > MAX_TAG_BYTES:
            raise _refuse(DAMAGED, "damaged")
        if cut:
            yield chunk[:cut]


def _column_number(letters: bytes) -> int:
    number = 0
    for byte in letters.upper():
        number = number * 26 + byte - 64
    return number


@functools.lru_cache(maxsize=64)
def _at_most_number(limit: int) -> str:
    """A regex for the decimal numbers 1..limit (leading zeros allowed)."""
    digits = str(limit)
    size = len(digits)
    options = []
    if size > 1:
        options.append(rf"[1-9]\d{{0,{size - 2}}}" if size > 2 else "[1-9]")
    for i, char in enumerate(digits):
        low = 1 if i == 0 else 0
        if int(char) > low:
            rest = size - i - 1
            options.append(f"{digits[:i]}[{low}-{int(char) - 1}]"
                           + (rf"\d{{{rest}}}" if rest else ""))
    options.append(digits)
    return "0*(?:" + "|".join(options) + ")"


@functools.lru_cache(maxsize=64)
def _at_most_column(limit: int) -> str:
    """A regex for the column letters A..limit."""
    letters = get_column_letter(limit)
    size = len(letters)
    options = [f"[A-Z]{{1,{size - 1}}}"] if size > 1 else []
    for i, char in enumerate(letters):
        if char > "A":
            rest = size - i - 1
            options.append(f"{letters[:i]}[A-{chr(ord(char) - 1)}]"
                           + (f"[A-Z]{{{rest}}}" if rest else ""))
    options.append(letters)
    return "(?:" + "|".join(options) + ")"


# Two spellings of each pattern: elements without a namespace prefix (Excel and most
# writers), and with any prefix ("<x:c>", .NET's Open XML SDK), slower because it is tried
# at every "<". A piece of XML without ":c" cannot hold a prefixed cell.
_PREFIX = {False: rb"<", True: _TAG_NAME}
_ODD_CELL = {p: re.compile(t + rb"c(?=[\s/>])(?!\s+r=\"[A-Z]{1,3}[0-9]{1,7}\")")
             for p, t in _PREFIX.items()}
_CELL_REF = {p: re.compile(t + rb"c\s+r=\"([A-Z]{1,3})([0-9]{1,7})\"") for p, t in _PREFIX.items()}


@functools.lru_cache(maxsize=256)
def _outside(max_col: int, max_row: int, prefixed: bool) -> re.Pattern:
    """A cell whose reference is not a plain r="A1" first attribute inside A1:max."""
    inside = (_at_most_column(max_col) + _at_most_number(max_row)).encode()
    return re.compile(_PREFIX[prefixed] + rb"c(?=[\s/>])(?!\s+r=\"" + inside + rb"\")")


def _fast_within(fh, info, budget: int) -> bool:
    """Whether the sheet surely spans at most ``budget`` cells, at regex speed, for sheets
    written the usual way (each cell's reference as its first attribute). Every cell must
    lie in A1:<max_col><budget // max_col>, max_col growing to the widest reference seen.
    False when that cannot be shown: the exact scan decides."""
    max_col = 26
    rows_bound = 0  # no cell seen so far lies below this row
    for chunk in _tag_chunks(fh, info):
        prefixed = b":c" in chunk  # only cells count here, rows do not
        if _outside(max_col, budget // max_col, prefixed).search(chunk) is None:
            rows_bound = max(rows_bound, budget // max_col)
            continue
        if _ODD_CELL[prefixed].search(chunk):
            return False
        refs = _CELL_REF[prefixed].findall(chunk)
        max_col = max(max_col, max(_column_number(c) for c in {c for c, _r in refs}))
        rows_bound = max(rows_bound, max(int(r) for _c, r in refs))
        if rows_bound * max_col > budget:
            return False
    return rows_bound * max_col <= budget


# A <row> or <c> tag: closing slash, name, attributes, and its r="..." value if any.
_ANY_TAG = re.compile(rb"<(/?)(?:[A-Za-z_][\w.\-]*:)?(row|c)(?=[\s/>])"
                      rb"((?:[^>]*?\sr\s*=\s*(?:\"([^\"]*)\"|'([^']*)'))?[^>]*)>")
_REFERENCE = re.compile(rb"\s*([A-Za-z]*)([0-9]+)\s*")


def _reference(value: bytes, columns: dict) -> tuple[int, int | None]:
    """(row, column or None), 0-based, of an r="..." value, as calamine reads it."""
    parts = _REFERENCE.fullmatch(value)
    if parts is None or int(parts.group(2)) < 1:
        raise _refuse(DAMAGED, "damaged")
    letters = parts.group(1)
    if not letters:
        return int(parts.group(2)) - 1, None
    column = columns.get(letters)
    if column is None:
        column = columns[letters] = _column_number(letters) - 1
    return int(parts.group(2)) - 1, column


def _exact_extent(fh, info, budget: int) -> int:
    """The cells calamine will allocate, following its reading of the XML: a cell's own
    reference, else the row's and the running column; stops as soon as over the budget."""
    row_index = col_index = 0
    top = left = 1 << 62
    bottom = right = -1
    columns = {}
    for chunk in _tag_chunks(fh, info):
        for closing, name, attrs, double, single in _ANY_TAG.findall(chunk):
            value = double or single or None
            if name == b"c":
                if closing or attrs.endswith(b"/"):  # calamine reads only <c ...>...</c>
                    continue
                if value is None:
                    row = row_index
                else:
                    row, col_index = _reference(value, columns)
                    if col_index is None:
                        raise _refuse(DAMAGED, "damaged")
                if row < top:
                    top = row
                if row > bottom:
                    bottom = row
                if col_index < left:
                    left = col_index
                if col_index > right:
                    right = col_index
                col_index += 1
                if (bottom - top + 1) * (right - left + 1) > budget:
                    return budget + 1
            elif closing:
                row_index, col_index = row_index + 1, 0
            elif value is not None and not attrs.endswith(b"/"):
                row_index = _reference(value, columns)[0]
    return 0 if bottom < 0 else (bottom - top + 1) * (right - left + 1)


def _check_sheet_extent(fh, info, sheet_name: str, budget: int):
    if _fast_within(fh, info, budget):
        return
    if _exact_extent(fh, info, budget) > budget:
        raise _refuse(TOO_MANY_CELLS, "too_many_cells", sheet=sheet_name,
                      limit=_number(budget))


# -- .xls: compound file, BIFF records ---------------------------------------------------

_FREE, _END, _FAT_SECTOR, _DIFAT_SECTOR = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFC


@dataclass
class _Entry:
    name: str
    start: int
    size: int


class _Cfb:
    """The parts of a compound file (OLE2) that calamine walks, checked: every sector it
    will read inside the file, no chain that loops, no index past the allocation table."""

    def __init__(self, fh, size: int):
        self.fh, self.file_size = fh, size
        self.mini_stream: bytes | None = None
        self.mini_fat: list[int] = []
        fh.seek(0)
        header = fh.read(512)
        if len(header) < 512 or header[:8] != OLE_MAGIC:
            raise _refuse(DAMAGED, "damaged")
        sector_shift, mini_shift = struct.unpack_from("<HH", header, 30)
        if sector_shift not in (9, 12) or mini_shift != 6:
            raise _refuse(DAMAGED, "damaged")
        self.sector_size = 1 << sector_shift
        self.sectors = max(0, (size - self.sector_size) // self.sector_size)
        if (size - self.sector_size) % self.sector_size:
            self.sectors += 1  # calamine reads a last, partial sector
        dir_start, = struct.unpack_from("<I", header, 48)
        self.mini_fat_start, self.mini_fat_sectors = struct.unpack_from("<II", header, 60)
        difat_start, = struct.unpack_from("<I", header, 68)
        difat = list(struct.unpack_from("<109I", header, 76))
        seen = set()
        sector = difat_start
        while sector < 0xFFFFFFFA:  # calamine follows the DIFAT chain up to reserved ids
            if sector >= self.sectors or sector in seen:
                raise _refuse(DAMAGED, "damaged")
            seen.add(sector)
            difat.extend(self._u32s(self._sector(sector)))
            sector = difat.pop()
        self.fat = []
        for sector in difat:
            if sector < _DIFAT_SECTOR:
                if sector >= self.sectors:
                    raise _refuse(DAMAGED, "damaged")
                self.fat.extend(self._u32s(self._sector(sector)))
        directory = self._chain(dir_start, self.fat, self._sector, None)
        self.entries = []
        for at in range(0, len(directory) - 127, 128):
            raw = directory[at:at + 128]
            name = raw[:64].decode("utf-16-le", "replace").split("\x00", 1)[0]
            start, = struct.unpack_from("<I", raw, 116)
            if self.sector_size == 512:
                size_, = struct.unpack_from("<I", raw, 120)
            else:
                size_, = struct.unpack_from("<Q", raw, 120)
            self.entries.append(_Entry(name, start, size_))
        if not self.entries:
            raise _refuse(DAMAGED, "damaged")

    @classmethod
    def names_of(cls, fh) -> set[str]:
        """The entry names of a compound file, or none if it cannot be read."""
        fh.seek(0, 2)
        size = fh.tell()
        try:
            return {entry.name for entry in cls(fh, size).entries}
        except FileRefused:
            return set()

    @staticmethod
    def _u32s(data: bytes) -> list[int]:
        return list(struct.unpack_from(f"<{len(data) // 4}I", data))

    def _sector(self, sector: int) -> bytes:
        self.fh.seek((sector + 1) * self.sector_size)
        return self.fh.read(self.sector_size)

    def _chain(self, start: int, table: list[int], read, size: int | None) -> bytes:
        """A stream's bytes along its chain; ``size`` None reads to the chain's end."""
        out = bytearray()
        seen = set()
        sector = start
        while sector != _END:
            if sector >= len(table) or sector in seen:
                raise _refuse(DAMAGED, "damaged")
            seen.add(sector)
            out += read(sector)
            if size is not None and len(out) >= size:
                return bytes(out[:size])
            sector = table[sector]
        if size is not None and len(out) < size:
            raise _refuse(DAMAGED, "damaged")
        return bytes(out)

    def _checked_sector(self, sector: int) -> bytes:
        if sector >= self.sectors:
            raise _refuse(DAMAGED, "damaged")
        return self._sector(sector)

    def check_for_calamine(self):
        """The mini stream and mini allocation table calamine loads when it opens."""
        if self.mini_fat_sectors == 0:
            self.mini_stream, self.mini_fat = b"", []
            return
        root = self.entries[0]
        if root.size > self.file_size or self.mini_fat_sectors * self.sector_size > (
                self.file_size):
            raise _refuse(DAMAGED, "damaged")
        self.mini_stream = self._chain(root.start, self.fat, self._checked_sector, root.size)
        self.mini_fat = self._u32s(self._chain(
            self.mini_fat_start, self.fat, self._checked_sector,
            self.mini_fat_sectors * self.sector_size))

    def stream(self, entry: _Entry) -> bytes:
        if entry.size > self.file_size:
            raise _refuse(DAMAGED, "damaged")
        if entry.size >= 4096:
            return self._chain(entry.start, self.fat, self._checked_sector, entry.size)
        if self.mini_stream is None:
            self.check_for_calamine()

        def mini(sector):
            if (sector + 1) * 64 > len(self.mini_stream):
                raise _refuse(DAMAGED, "damaged")
            return self.mini_stream[sector * 64:(sector + 1) * 64]

        return self._chain(entry.start, self.mini_fat, mini, entry.size)


# BIFF record types calamine turns into cells: (row, column) are the record's first words.
_CELL_RECORDS = frozenset({0x0203, 0x0204, 0x00D6, 0x0205, 0x027E, 0x00FD, 0x0006})
_MULRK, _DIMENSIONS, _BOF, _EOF, _FILEPASS, _BOUNDSHEET = (
    0x00BD, 0x0200, 0x0809, 0x000A, 0x002F, 0x0085)
_BIFF8_CELLS = 65536 * 256


def _check_biff(data: bytes, budget: int):
    """Refuse an encrypted workbook (FILEPASS) and sheets calamine would allocate too many
    cells for: calamine reserves what a DIMENSIONS record says, then the dense rectangle
    around each sheet's cells, for every sheet at once."""
    size = len(data)
    unpack = struct.unpack_from
    sheets = []
    biff8 = True
    at = 0
    while at + 4 <= size:
        kind, length = unpack("<HH", data, at)
        body = at + 4
        if kind == _FILEPASS:
            raise _refuse(PASSWORD, "password")
        if kind == _BOF and at == 0 and length >= 2:
            biff8 = unpack("<H", data, body)[0] != 0x0500
        if kind == _BOUNDSHEET and length >= 4:
            sheets.append((unpack("<I", data, body)[0],
                           _biff_sheet_name(data[body + 6:body + length], biff8)))
        if kind == _EOF:
            break
        at = body + length
    total = 0
    for start, sheet_name in sheets:
        if start > size:
            raise _refuse(DAMAGED, "damaged")
        total += _biff_sheet_cells(data, start)
        if total > budget:
            raise _refuse(TOO_MANY_CELLS, "too_many_cells", sheet=sheet_name,
                          limit=_number(budget))


def _biff_sheet_cells(data: bytes, at: int) -> int:
    """The cells calamine allocates for the sheet substream at ``at``: the rectangle around
    its cell records, plus the one around its formulas. Cells of embedded charts are
    counted too (calamine skips them): an over-estimate, never an under-estimate."""
    size = len(data)
    unpack = struct.unpack_from
    top = left = f_top = f_left = 1 << 40
    bottom = right = f_bottom = f_right = -1
    depth = -1  # the sheet's own BOF makes it 0
    while at + 8 <= size:
        kind, length, row, col = unpack("<HHHH", data, at)
        at += 4 + length
        if at > size:
            break
        if kind in _CELL_RECORDS:
            last = col
            if kind == 0x0006:
                if row < f_top:
                    f_top = row
                if row > f_bottom:
                    f_bottom = row
                if col < f_left:
                    f_left = col
                if col > f_right:
                    f_right = col
        elif kind == _MULRK:
            if length < 6:
                continue
            (last,) = unpack("<H", data, at - 2)
            if last < col:
                continue
        elif kind == _BOF:
            depth += 1
            continue
        elif kind == _EOF:
            if depth <= 0:
                break
            depth -= 1
            continue
        elif kind == _DIMENSIONS:
            _check_dimensions(data, at - length, length)
            continue
        else:
            continue
        if row < top:
            top = row
        if row > bottom:
            bottom = row
        if col < left:
            left = col
        if last > right:
            right = last
    cells = 0 if bottom < 0 else (bottom - top + 1) * (right - left + 1)
    if f_bottom >= 0:
        cells += (f_bottom - f_top + 1) * (f_right - f_left + 1)
    return cells


def _check_dimensions(data: bytes, body: int, length: int):
    """calamine reserves rows x columns cells as DIMENSIONS says (u32 arithmetic)."""
    if length == 14:
        first_row, last_row, first_col, last_col = struct.unpack_from("<IIHH", data, body)
    elif length == 10:
        first_row, last_row, first_col, last_col = struct.unpack_from("<HHHH", data, body)
    else:
        return
    if first_col > 0xFF or last_col < first_col:
        first_col = 0
    if last_row >= 1 and last_col >= 1:
        rows = (last_row - 1 - first_row + 1) & 0xFFFFFFFF
        cols = (last_col - 1 - first_col + 1) & 0xFFFFFFFF
        if rows * cols > _BIFF8_CELLS:
            raise _refuse(DAMAGED, "damaged")


def _biff_sheet_name(raw: bytes, biff8: bool) -> str:
    """A BoundSheet name, for messages only."""
    if not raw:
        return ""
    count = raw[0]
    if biff8 and len(raw) >= 2:
        wide = raw[1] & 1
        text = raw[2:2 + count * (2 if wide else 1)]
        return text.decode("utf-16-le" if wide else "latin-1", "replace")
    return raw[1:1 + count].decode("latin-1", "replace")


# -- CSV ---------------------------------------------------------------------------------

_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"))
# In cp1258 Vietnamese tones are combining marks (bytes CC D2 DE EC F2) written after a
# vowel, and đ/Đ are F0/D0; in cp1252 those bytes are ÌÒÞìò and ð/Ð, rare after a vowel
# in Western text.
_VIETNAMESE_CP1258 = re.compile(
    rb"[AEIOUYaeiouy\xc2\xca\xd4\xe2\xea\xf4\xc3\xe3\xd5\xf5\xdd\xfd][\xcc\xd2\xde\xec\xf2]"
    rb"|[\xd0\xf0]")


def _decodes(path: Path, encoding: str) -> bool:
    """The whole file decodes strictly, read in bounded pieces, and has some text."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    text = False
    try:
        with open(path, "rb") as fh:
            while chunk := fh.read(1 << 20):
                decoded = decoder.decode(chunk)
                if "\x00" in decoded:
                    raise _mismatch("csv")
                text = text or bool(decoded.strip(_BLANK_CHARS + ",;\t\"'"))
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    if not text:
        raise _refuse(EMPTY_FILE, "empty_file")
    return True


def _csv_encoding(path: Path) -> str:
    with open(path, "rb") as fh:
        head = fh.read(8)
    if head.startswith((ZIP_MAGIC, OLE_MAGIC)):
        raise _mismatch("csv")
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            if _decodes(path, encoding):
                return encoding
            raise _refuse(ENCODING, "encoding")
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            if b"\x00" in chunk:
                raise _mismatch("csv")  # binary, or UTF-16 without its BOM
    if _decodes(path, "utf-8"):
        return "utf-8"
    vietnamese = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            vietnamese += len(_VIETNAMESE_CP1258.findall(chunk))
    order = ("cp1258", "cp1252") if vietnamese else ("cp1252", "cp1258")
    for encoding in order:
        if _decodes(path, encoding):
            return encoding
    raise _refuse(ENCODING, "encoding")


_SEP_LINE = re.compile(r"\ufeff?sep=(.)\r?\n")


def _sniff(path: Path, encoding: str) -> tuple[str, bool]:
    """(delimiter, whether the first line is Excel's "sep=;" hint). The delimiter among
    , ; and tab that splits the first records most consistently into most columns."""
    with open(path, encoding=encoding, newline="") as fh:
        sample = fh.read(65536)
        more = bool(fh.read(1))
    hint = _SEP_LINE.match(sample)
    if hint and hint.group(1) in ",;\t|":
        return hint.group(1), True
    if more and "\n" in sample:
        sample = sample[:sample.rfind("\n") + 1]
    best, best_score = ",", (0, 0)
    for delimiter in (",", ";", "\t"):
        try:
            counts = [len(r) for r in csv.reader(io.StringIO(sample), delimiter=delimiter)]
        except csv.Error:
            continue
        counts = [c for c in counts[:100] if c >= 2]
        if not counts:
            continue
        width, agreeing = Counter(counts).most_common(1)[0]
        score = (agreeing, width)
        if score > best_score:
            best, best_score = delimiter, score
    return best, False


def _read_csv(path: Path, name: str, encoding: str, max_rows: int,
              limit: int | None) -> Sheet:
    if not encoding:
        encoding = _csv_encoding(path)
    delimiter, hint = _sniff(path, encoding)
    # cp1258 writes Vietnamese tones as separate combining marks: composed (NFC) here so
    # that cells read as they were typed.
    compose = encoding == "cp1258"
    try:
        with open(path, encoding=encoding, newline="") as fh:
            if hint:
                fh.readline()
            reader = csv.reader(fh, delimiter=delimiter)
            if compose:
                numbered = ((n, [unicodedata.normalize("NFC", c) for c in row])
                            for n, row in enumerate(reader, start=1))
            else:
                numbered = enumerate(reader, start=1)
            with gc_paused():
                return _collect(numbered, name, max_rows, limit, "")
    except csv.Error as exc:
        raise _refuse(DAMAGED, "damaged") from exc
    except UnicodeDecodeError as exc:
        raise _refuse(ENCODING, "encoding") from exc
