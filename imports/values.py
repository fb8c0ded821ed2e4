"""Cell values of an imported spreadsheet read the way Vietnamese shops write them.

Every reader takes a raw cell (``str``, ``int``, ``float``, ``bool``, ``datetime``,
``date``, ``time`` or ``None``, as ``imports.reading`` gives it) and returns a clean value
or raises ``CellError``, whose text is a sentence a shop manager reads, naming the value:
"31/02/1990 không phải ngày hợp lệ". The engine prefixes the row and the column.

Decisions (the tests hold each one):

- Empty cells: ``parse_phones``, ``parse_emails`` and ``split_tags`` give ``[]``,
  ``clean_text``, ``clean_name`` and ``parse_gender`` give ``""``; the other readers raise
  "the cell is empty". The engine asks ``is_blank`` first: an empty cell means "no value"
  (kept or cleared, as the manager chose).
- Text: ``clean_text`` drops control characters, zero-width and direction marks (they
  are invisible, break matching and can reverse what a screen shows), applies NFC and
  collapses spaces. It keeps line breaks (notes, addresses: at most one empty line in a
  row) unless ``multiline=False``; ``clean_name`` is always one line. A value starting
  with "=" is plain text here: nothing is ever evaluated, exports neutralise it.
- Dates: ``d/m/yyyy`` with "/", "-" or "." and a two-digit year, optionally followed by
  a time ("15/08/1990 10:30"); ``yyyy-mm-dd`` is always year first. The day/month order
  is the column's (``date_order_of``), never guessed row by row; anything but "mdy" reads
  day first. A two-digit year is in this century when that is not after this year, else
  in the last one ("25" -> 2025, "26" -> 1926 in 2025): a birthday is never in the future.
  Excel serial numbers use the 1900 date system with its leap-year bug (serial 60 is the
  29/02/1900 that never was: refused), from 1 (01/01/1900) to 80000 (2119).
- Birthdays may lack the year ("15/08"); a year must be 1900..this year and the date not
  in the future; a bare year (1990) is refused with its own message. Number cells with a
  fraction are not birthdays.
- Phones: see ``parse_phones``.
- Money: ``crm.money.parse_money``, the rule of every amount box of the app (a separator
  followed by exactly three digits groups thousands; "150k", "1,5tr"; "1,5" is refused,
  never read as 1.5 đồng), plus what other systems export: a leading or trailing
  currency, and a decimal part of zeros ("150000.00", "1.500.000,00"). A decimal part
  that is not zero is refused ("not a whole number of đồng"). Negative amounts only with a
  leading "-" (refunds; the caller refuses them where they make no sense); at most
  ``crm.money.MAX_AMOUNT``.
- Gender: "Nam"/"Nữ"/"Khác" in any case and with or without accents, "Nam giới", male /
  female / M / F, and the forms of address "Anh", "Chị", "Ông", "Bà", "Cô" (a column of
  them says the gender as clearly); "Chưa rõ", "Không xác định", "unknown" are "".
- Tax codes and ID numbers typed in a number cell lost their leading zeros: a tax code
  of 9 or 12 digits becomes 10 or 13, a CMND of 8 digits 9, a CCCD of 10 or 11 digits 12
  (every CCCD starts with the 0 of its province code). Text cells are never padded: a
  missing digit there is a typo, not Excel.
"""

import datetime
import decimal
import functools
import math
import re
import unicodedata
from collections.abc import Iterable
from decimal import Decimal

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.money import MAX_AMOUNT, MoneyParseError
from crm.money import parse_money as _money_text
from customers.normalize import OLD_MOBILE_PREFIXES, fold, normalize_email, normalize_phone


class CellError(ValueError):
    """A cell that cannot be read; ``str()`` is the message in the active language."""

    def __init__(self, message, params: dict | None = None):
        super().__init__(message, params)
        self.message = message
        self.params = params

    def __str__(self):
        text = str(self.message)
        return text % self.params if self.params else text


def _error(message, value, **params) -> CellError:
    shown = _shown(value)
    if not shown:
        return CellError(_("The cell is empty"))
    return CellError(message, {"value": shown, **params})


def _shown(value) -> str:
    """The value as the message quotes it: one line, at most 40 characters."""
    text = " ".join(_strip_invisible(cell_text(value)).split())
    return text if len(text) <= 40 else text[:39] + "…"


# --- text -----------------------------------------------------------------------------

# Control characters (not tab / line breaks, handled as white space) and the invisible
# format characters: soft hyphen, Arabic letter mark, Mongolian vowel separator,
# zero-width space / non-joiner / joiner, LRM/RLM, the embeddings and overrides
# (U+202A-U+202E), word joiner and invisible operators, the isolates (U+2066-U+2069),
# deprecated format controls, BOM / zero-width no-break space, interlinear annotations
# and the tag characters.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000e0000-\U000e007f]"
)
_LINE_BREAKS = re.compile("\r\n|[\r\x0b\x0c\x85\u2028\u2029]")
_BLANK_LINES = re.compile(r"\n{3,}")
# Either of the two above: most text (a Vietnamese name) has neither, and one search
# tells it.
_TO_CLEAN = re.compile(f"{_INVISIBLE.pattern}|[\r\x0b\x0c\x85\u2028\u2029]")


def is_blank(value) -> bool:
    """True for an empty cell or one holding only spaces and invisible characters."""
    if value is None:
        return True
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return True
        if _INVISIBLE.match(text) is None:
            return False  # its first character is seen
        return not _strip_invisible(text).strip()
    return False


def cell_text(value) -> str:
    """Any raw cell as the text the manager typed: 912345678.0 -> "912345678", a date
    -> "15/08/1990", a date and time -> "15/08/1990 10:30"."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        text = f"{value:.15g}"
        return format(Decimal(text), "f") if "e" in text else text
    if isinstance(value, Decimal):
        if value.is_finite() and value == value.to_integral_value():
            return str(int(value))
        return str(value)
    if isinstance(value, datetime.datetime):
        if value.time() == datetime.time(0):
            return value.strftime("%d/%m/%Y")
        return value.strftime("%d/%m/%Y %H:%M:%S" if value.second else "%d/%m/%Y %H:%M")
    if isinstance(value, datetime.date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, datetime.time):
        return value.strftime("%H:%M:%S" if value.second else "%H:%M")
    return str(value).strip()


def _strip_invisible(text: str) -> str:
    if text.isascii() and text.isprintable() or _TO_CLEAN.search(text) is None:
        return text
    return _INVISIBLE.sub("", _LINE_BREAKS.sub("\n", text))


def clean_text(value, *, max_length: int = 0, multiline: bool = True) -> str:
    """The cell as text to store: no invisible characters, NFC, single spaces.

    Line breaks are kept (``multiline``) with at most one empty line between paragraphs.
    Raises CellError when longer than ``max_length`` (``IMPORT_MAX_CELL_CHARS`` when 0).
    """
    text = cell_text(value)
    if not text:
        return ""
    text = _strip_invisible(text)
    if not text.isascii() and not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    if multiline and "\n" in text:
        lines = (" ".join(line.split()) for line in text.split("\n"))
        text = _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip("\n")
    else:
        text = " ".join(text.split())
    limit = max_length or settings.IMPORT_MAX_CELL_CHARS
    if len(text) > limit:
        raise _error(_("%(value)s is longer than %(limit)s characters"), text, limit=limit)
    return text


def clean_name(value, *, max_length: int = 0) -> str:
    """A name: ``clean_text`` on one line (a line break becomes a space)."""
    return clean_text(value, max_length=max_length, multiline=False)


def _line(value) -> str:
    """The cell as one line of visible text, for the readers below (no length check)."""
    return " ".join(_strip_invisible(cell_text(value)).split())


# --- dates ----------------------------------------------------------------------------

_TIME = (r"(?:[ T,]+(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:\.\d+)?)?"
         r"\s*(?P<ap>am|pm|sa|ch)?)?")
# Day and month (in the column's order), then an optional year: "15/08/1990", "8-15-90",
# "15.08", "15/08/1990 10:30". The same separator twice.
_DMY = re.compile(
    r"(?P<a>\d{1,2})(?P<sep>[/.\-])(?P<b>\d{1,2})(?:(?P=sep)(?P<y>\d{4}|\d{2}))?" + _TIME,
    re.IGNORECASE)
# Year first, always: "1990-08-15", "1990/8/15", "2024-05-01 10:00:00+07:00".
_ISO = re.compile(
    r"(?P<y>\d{4})(?P<sep>[/.\-])(?P<b>\d{1,2})(?P=sep)(?P<a>\d{1,2})"
    r"(?:[ T]+(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:\.\d+)?)?"
    r"\s*(?:z|[+-]\d{2}:?\d{2})?)?", re.IGNORECASE)
_YEAR_ONLY = re.compile(r"\d{4}")
_SERIAL_MAX = 80000  # 2119-01-11


def _this_year() -> int:
    return timezone.localdate().year


def _full_year(text: str) -> int:
    year = int(text)
    if len(text) == 2:
        now = _this_year()
        year += now - now % 100
        if year > now:
            year -= 100
    return year


def _time_ok(m) -> bool:
    if m["h"] is None:
        return True
    hours, minutes, seconds = int(m["h"]), int(m["mi"]), int(m["s"] or 0)
    limit = 12 if m.groupdict().get("ap") else 23
    return hours <= limit and minutes < 60 and seconds < 60


def _text_date(text: str, order: str) -> tuple[int, int, int | None] | None:
    """(day, month, year or None) of a text date, unchecked; None when not date-shaped."""
    m = _ISO.fullmatch(text)
    if m is None:
        m = _DMY.fullmatch(text)
        if m is None or not _time_ok(m):
            return None
        first, second = int(m["a"]), int(m["b"])
        day, month = (second, first) if order == "mdy" else (first, second)
        return day, month, _full_year(m["y"]) if m["y"] else None
    if not _time_ok(m):
        return None
    return int(m["a"]), int(m["b"]), int(m["y"])


def _serial_date(number) -> datetime.date | None:
    """An Excel serial number (1900 date system) as a date; the time of day dropped."""
    if isinstance(number, float) and not math.isfinite(number):
        return None
    whole = math.floor(number)
    if not 1 <= whole <= _SERIAL_MAX or whole == 60:
        return None  # 60 is Excel's 29/02/1900, a day that never was
    if whole < 60:
        return datetime.date(1899, 12, 31) + datetime.timedelta(days=whole)
    return datetime.date(1899, 12, 30) + datetime.timedelta(days=whole)


def date_order_of(values: Iterable) -> str | None:
    """How the text dates of one column are written: "dmy", "mdy", "ambiguous" or None.

    A first part above 12 can only be a day ("dmy"), a second part above 12 only a day
    ("mdy"). When both happen (a column mixing orders, or typos) the more frequent
    evidence wins, ties "dmy"; ``parse_date`` with that order then refuses the others,
    each with its row. "ambiguous": every text date reads both ways (05/06/1990), only the
    manager can tell. None: no text dates (real date cells, serials, year-first dates).
    """
    seen = day_first = month_first = 0
    for value in values:
        # Every text date has a separator: names, tags, notes skip the cleaning and regex
        # (the upload runs this over every column of every row).
        if not isinstance(value, str) or not ("/" in value or "-" in value or "." in value):
            continue
        m = _DMY.fullmatch(_line(value))
        if m is None:
            continue
        first, second = int(m["a"]), int(m["b"])
        if first > 31 or second > 31 or not first or not second:
            continue
        seen += 1
        if first > 12 and second <= 12:
            day_first += 1
        elif second > 12 and first <= 12:
            month_first += 1
    if not seen:
        return None
    if not day_first and not month_first:
        return "ambiguous"
    return "mdy" if month_first > day_first else "dmy"


def parse_date(value, order: str = "dmy") -> datetime.date:
    """A date cell: a real date, an Excel serial number or a text date in ``order``."""
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        found = _serial_date(value)
        if found is None:
            raise _error(_("%(value)s is not a valid date"), value)
        return found
    text = _line(value)
    if not text or isinstance(value, (bool, datetime.time)):
        raise _error(_("%(value)s is not a valid date"), value)
    parts = _text_date(text, order)
    if parts is None or parts[2] is None or not 1900 <= parts[2] <= 2200:
        raise _error(_("%(value)s is not a valid date"), value)
    day, month, year = parts
    try:
        return datetime.date(year, month, day)
    except ValueError:
        raise _error(_("%(value)s is not a valid date"), value) from None


def parse_birthday(value, order: str = "dmy",
                   today: datetime.date | None = None) -> tuple[int, int, int | None]:
    """(day, month, year or None): a full date or a day and month ("15/08"); ``today``
    (the shop's, by default) bounds it."""
    today = today or timezone.localdate()
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        if isinstance(value, float | Decimal) and not math.isfinite(value):
            raise _error(_("%(value)s is not a valid birthday"), value)
        if value == int(value) and 1900 <= value <= today.year:
            raise _error(_("%(value)s is only a year: a birthday needs a day and a month"),
                         value)
        found = _serial_date(value) if value == int(value) else None
        if found is None:
            raise _error(_("%(value)s is not a valid birthday"), value)
        return _birth_date(value, found, today)
    if isinstance(value, datetime.datetime):
        return _birth_date(value, value.date(), today)
    if isinstance(value, datetime.date):
        return _birth_date(value, value, today)
    text = _line(value)
    if _YEAR_ONLY.fullmatch(text):
        raise _error(_("%(value)s is only a year: a birthday needs a day and a month"), value)
    parts = _text_date(text, order) if text and not isinstance(value, bool) else None
    if parts is None:
        raise _error(_("%(value)s is not a valid birthday"), value)
    day, month, year = parts
    if year is None:
        try:
            datetime.date(2000, month, day)  # a leap year: 29/02 is a birthday
        except ValueError:
            raise _error(_("%(value)s is not a valid date"), value) from None
        return day, month, None
    try:
        found = datetime.date(year, month, day)
    except ValueError:
        raise _error(_("%(value)s is not a valid date"), value) from None
    return _birth_date(value, found, today)


def _birth_date(value, found: datetime.date, today: datetime.date) -> tuple[int, int, int]:
    if found.year < 1900 or found > today:
        raise _error(
            _("%(value)s is not a valid birthday: the year must be between 1900 and %(year)s"),
            value, year=today.year)
    return found.day, found.month, found.year


# --- phones ---------------------------------------------------------------------------


@functools.cache
def _vn_number_pattern() -> re.Pattern:
    """Every valid Vietnamese national number, from phonenumbers' own metadata: the types
    ``phonenumbers.is_valid_number`` accepts, each with its possible lengths."""
    meta = phonenumbers.PhoneMetadata.metadata_for_region("VN")
    general = meta.general_desc
    choices = []
    for name in ("fixed_line", "mobile", "toll_free", "premium_rate", "shared_cost",
                 "personal_number", "voip", "pager", "uan", "voicemail"):
        desc = getattr(meta, name)
        if desc is None or not desc.national_number_pattern:
            continue
        lengths = desc.possible_length or general.possible_length
        if lengths and lengths[0] == -1:
            continue
        length = "|".join(rf"\d{{{n}}}" for n in lengths)
        choices.append(rf"(?=(?:{length})\Z)(?:{desc.national_number_pattern})\Z")
    return re.compile(rf"(?=(?:{general.national_number_pattern})\Z)(?:{'|'.join(choices)})")


# Separators inside one number, dropped before reading its digits.
_NUMBER_SEPARATORS = str.maketrans("", "", " .-()\u00a0\u2013\u2011")
# Separators between numbers: / ; , | a line break, "hoặc", "or", "và", "&".
_PHONE_SPLIT = re.compile(r"\s*(?:[/;,|\n\\]|&|\b(?:hoặc|hoac|or|và|va)\b)\s*", re.IGNORECASE)
# Where a dash or spaces may separate two numbers: "0912345678 - 0987654321".
_PHONE_GAPS = re.compile(r"\s*[-\u2013]\s*|\s+")
_PHONE_LIKE = re.compile(r"\+?\(?\d[\d\s.\-()]{6,}\d")


def _vn_e164(text: str) -> str | None:
    """The fast path: E.164 of one Vietnamese number in a common form, else None.

    "0912 345 678", "0912.345.678", "(028) 3823 4567", "+84 912 345 678", "84912345678",
    "912345678" (a number cell lost its 0), "01629123456" (the 11-digit numbers of
    before 2018). Valid when phonenumbers' VN metadata says so, without parsing."""
    digits = text.translate(_NUMBER_SEPARATORS)
    international = True
    if digits.startswith("+"):
        if not digits.startswith("+84"):
            return None
        national = digits[3:]
    elif digits.startswith("00"):
        if not digits.startswith("0084"):
            return None
        national = digits[4:]
    elif digits.startswith("84") and len(digits) in (11, 12):
        national = digits[2:]
    else:
        international = False
        national = digits[1:] if digits.startswith("0") else digits
    if international and national.startswith("0"):
        national = national[1:]  # "+84 (0) 912 345 678"
    if not (national.isascii() and national.isdigit()):
        return None
    if len(national) == 10 and national[:3] in OLD_MOBILE_PREFIXES:
        national = OLD_MOBILE_PREFIXES[national[:3]] + national[3:]
    if _vn_number_pattern().match(national):
        return "+84" + national
    return None


def _one_phone(text: str) -> str | None:
    """E.164 of ``text`` holding one number (any country), else None."""
    found = _vn_e164(text)
    if found is not None or not text.lstrip("( ").startswith(("+", "00")):
        return found  # a Vietnamese number is valid on the fast path or not at all
    try:
        return normalize_phone(text)
    except ValidationError:
        return None


def _split_numbers(text: str) -> list[tuple[str, str]] | None:
    """``text`` cut at dashes or spaces into whole numbers, fewest pieces first:
    "0912-345-678 - 0987 654 321" -> two numbers. None when no cut works."""
    gaps = list(_PHONE_GAPS.finditer(text))
    if not gaps or len(gaps) > 16:
        return None
    starts = [0] + [g.end() for g in gaps]
    ends = [g.start() for g in gaps] + [len(text)]

    @functools.cache
    def best(i: int) -> tuple | None:  # the numbers of pieces i.., or None
        if i == len(starts):
            return ()
        for j in range(len(starts) - 1, i - 1, -1):
            piece = text[starts[i]:ends[j]]
            if sum(c.isdigit() for c in piece) < 9:
                continue
            found = _one_phone(piece)
            if found is not None and (rest := best(j + 1)) is not None:
                return ((piece, found), *rest)
        return None

    found = best(0)
    return list(found) if found and len(found) > 1 else None


def _numbers_in(text: str) -> list[tuple[str, str]] | None:
    e164 = _one_phone(text)
    if e164 is not None:
        return [(text, e164)]
    return _split_numbers(text)


def parse_phones(value) -> list[tuple[str, str]]:
    """Every phone number of a cell: [(as written, E.164)], without repeats.

    Numbers may be separated by / ; , | a line break, "hoặc"/"và", or a dash or spaces
    when both sides are whole numbers ("0912-345-678" stays one number). Text around a
    number is dropped ("0912 345 678 (Zalo)"). Vietnamese numbers in the usual forms take
    a fast path (no ``phonenumbers.parse``); others go through
    ``customers.normalize.normalize_phone``. Raises CellError naming the part that is no
    phone number.
    """
    text = _strip_invisible(cell_text(value)).strip()
    if not text:
        return []
    if text[0] == "'":
        text = text[1:].strip()  # a CSV keeping its leading zero
    found = _vn_e164(text)
    if found is not None:
        return [(text, found)]
    numbers = []
    for part in _PHONE_SPLIT.split(text):
        part = " ".join(part.split())
        if not part:
            continue
        pieces = _numbers_in(part)
        if pieces is None and any(c.isalpha() for c in part):
            # Words around the numbers: "0912 345 678 (Zalo)", "ĐT nhà: 028 3823 4567".
            pieces = [piece for m in _PHONE_LIKE.finditer(part)
                      for piece in _numbers_in(m[0].strip()) or ()]
        if not pieces:
            raise _error(_("%(value)s is not a valid phone number"), part)
        numbers.extend(pieces)
    unique, seen = [], set()
    for written, e164 in numbers:
        if e164 not in seen:
            seen.add(e164)
            unique.append((written, e164))
    return unique


# --- emails, gender, tags -------------------------------------------------------------

_EMAIL_SPLIT = re.compile(r"[\s,;|]+")
_validate_email = EmailValidator()
# The addresses nearly every cell holds (letters, digits, dots, a usual domain): each one
# also passes EmailValidator, which is kept for the rest (its regexes and IDNA checks cost
# ~20 µs an address).
_PLAIN_EMAIL = re.compile(r"[a-z0-9_%+-]+(?:\.[a-z0-9_%+-]+)*"
                          r"@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")


def parse_emails(value) -> list[str]:
    """Every email of a cell, case-folded, without repeats; "Tên <a@b.vn>" and "mailto:"
    are read too."""
    text = _line(value)
    if not text:
        return []
    text = re.sub(r"[^<>]*<([^<>]*)>", r" \1 ", text)
    found = []
    for part in _EMAIL_SPLIT.split(text):
        part = part.strip().strip(".")
        if part.lower().startswith("mailto:"):
            part = part[7:]
        if not part:
            continue
        email = normalize_email(part)
        if len(email) > 254 or not _PLAIN_EMAIL.fullmatch(email):
            try:
                _validate_email(email)
            except ValidationError:
                raise _error(_("%(value)s is not a valid email address"), part) from None
        if email not in found:
            found.append(email)
    return found


_MALE, _FEMALE, _OTHER = "male", "female", "other"
# Read after folding (case and accents off): words that stay unambiguous folded.
_GENDER_FOLDED = {
    "nam": _MALE, "nam gioi": _MALE, "gioi tinh nam": _MALE, "male": _MALE, "m": _MALE,
    "man": _MALE, "boy": _MALE, "trai": _MALE, "con trai": _MALE, "anh": _MALE,
    "ong": _MALE, "mr": _MALE,
    "nu": _FEMALE, "nu gioi": _FEMALE, "gioi tinh nu": _FEMALE, "female": _FEMALE,
    "f": _FEMALE, "woman": _FEMALE, "girl": _FEMALE, "gai": _FEMALE, "con gai": _FEMALE,
    "chi": _FEMALE, "mrs": _FEMALE, "ms": _FEMALE,
    "miss": _FEMALE,
    "khac": _OTHER, "gioi tinh khac": _OTHER, "other": _OTHER, "lgbt": _OTHER,
    "chua ro": "", "khong ro": "", "khong xac dinh": "", "chua xac dinh": "",
    "unknown": "", "n/a": "", "-": "", "?": "",
}
# Read with their accents: folded they collide ("bà" / "ba" father, "cô" / "có" yes).
_GENDER_ACCENTED = {"bà": _FEMALE, "cô": _FEMALE}


def parse_gender(value) -> str:
    """"male", "female", "other" or "" (not known) from the words shops use:
    Nam / Nữ / Khác, Nam giới, male / female, M / F, Anh / Chị, Ông / Bà, Chưa rõ."""
    text = _line(value)
    if not text:
        return ""
    accented = unicodedata.normalize("NFC", text).lower().rstrip(".")
    if accented in _GENDER_ACCENTED:
        return _GENDER_ACCENTED[accented]
    found = _GENDER_FOLDED.get(fold(text).rstrip(".") or fold(text))
    if found is None:
        raise _error(_("%(value)s is not a gender: write male, female or other"), value)
    return found


_TAG_SPLIT = re.compile(r"[,;|\n]+")


def split_tags(value) -> list[str]:
    """Tag names of a cell separated by , ; | or line breaks; cleaned, order kept, a tag
    repeated (whatever its case) kept once."""
    found, seen = [], set()
    for part in _TAG_SPLIT.split(clean_text(value)):
        name = clean_name(part)
        if name and name.casefold() not in seen:
            seen.add(name.casefold())
            found.append(name)
    return found


# --- numbers --------------------------------------------------------------------------

_CURRENCY_BEFORE = re.compile(r"^(?:₫|vnđ|vnd|đ)\s*", re.IGNORECASE)
_CURRENCY_AFTER = re.compile(r"\s*(?:₫|vnđ|vnd|đồng|dong|đ|d)\.?$", re.IGNORECASE)
# A decimal part after the whole number written by another system: "150000.00",
# "1.500.000,00", "1,500,000.50".
_DECIMALS = re.compile(r"(?P<whole>.*\d)(?P<sep>[.,])(?P<frac>\d{1,2})")
_INT = re.compile(r"[0-9]{1,3}(?P<sep>[., ])[0-9]{3}(?:(?P=sep)[0-9]{3})*|[0-9]+")


def _whole_number(value, too_large, not_whole):
    """int of a number cell (a float must be whole but for float noise)."""
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _error(not_whole, value)
        rounded = round(value)
        if abs(value - rounded) > 1e-6:
            raise _error(not_whole, value)
        value = rounded
    elif isinstance(value, Decimal):
        if not value.is_finite() or value != value.to_integral_value():
            raise _error(not_whole, value)
        value = int(value)
    if abs(value) > MAX_AMOUNT:
        raise _error(too_large, value)
    return int(value)


def parse_money(value) -> Decimal:
    """Whole đồng: a number cell, or text like 1.500.000 / 1,500,000 / 1.500.000 ₫ /
    "1.500.000đ" / 1.500.000 VND / 150k / 1,5tr (``crm.money.parse_money``)."""
    not_whole = _("%(value)s is not a whole number of đồng")
    too_large = _("%(value)s is too large")
    if isinstance(value, bool) or value is None:
        raise _error(_("%(value)s is not an amount: write it like 1.500.000"), value)
    if isinstance(value, (int, float, Decimal)):
        return Decimal(_whole_number(value, too_large, not_whole))
    text = _line(value)
    text = _CURRENCY_AFTER.sub("", _CURRENCY_BEFORE.sub("", text)).strip()
    sign, body = "", text
    if body[:1] in ("-", "\u2212", "+"):
        sign, body = body[:1], body[1:].strip()
    m = _DECIMALS.fullmatch(body)
    if m and m["sep"] not in m["whole"] and _INT.fullmatch(m["whole"]):
        if int(m["frac"]):
            raise _error(not_whole, value)  # "1,5", "1.500.000,50": no such amount
        body = m["whole"]
    try:
        amount = _money_text(body)
    except MoneyParseError:
        amount = None
    if amount is None or amount < 0:
        raise _error(_("%(value)s is not an amount: write it like 1.500.000"), value)
    if amount > MAX_AMOUNT:
        raise _error(too_large, value)
    return Decimal(-amount if sign in ("-", "\u2212") else amount)


def parse_int(value) -> int:
    """A whole number: a number cell or text like 1500, 1.500, 1,500, -20."""
    not_whole = _("%(value)s is not a whole number")
    too_large = _("%(value)s is too large")
    if isinstance(value, bool) or value is None:
        raise _error(not_whole, value)
    if isinstance(value, (int, float, Decimal)):
        return _whole_number(value, too_large, not_whole)
    text = _line(value)
    sign, body = "", text
    if body[:1] in ("-", "\u2212", "+"):
        sign, body = body[:1], body[1:].strip()
    m = _INT.fullmatch(body)
    if m is None:
        raise _error(not_whole, value)
    number = int(body.replace(m["sep"], "") if m["sep"] else body)
    if number > MAX_AMOUNT:
        raise _error(too_large, value)
    return -number if sign in ("-", "\u2212") else number


def _number_digits(value) -> str | None:
    """The digits of a number cell (int or whole float), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value) if value >= 0 else None
    if isinstance(value, (float, Decimal)):
        try:
            whole = int(value)
        except (ValueError, OverflowError, decimal.InvalidOperation):
            return None
        return str(whole) if whole == value and whole >= 0 else None
    return None


_TAX_CODE = re.compile(r"\d{10}(?:-?\d{3})?")
_ID_SEPARATORS = str.maketrans("", "", " .\u00a0")


def parse_tax_code(value) -> str:
    """10 digits, or 13 with or without the dash of a branch ("0101234567-001")."""
    digits = _number_digits(value)
    if digits is not None:
        code = digits.zfill(10) if len(digits) == 9 else (
            digits.zfill(13) if len(digits) == 12 else digits)
    else:
        code = _line(value).lstrip("'").translate(_ID_SEPARATORS).replace("\u2013", "-")
    if not _TAX_CODE.fullmatch(code):
        raise _error(_("%(value)s is not a tax code: a tax code has 10 or 13 digits"), value)
    return code


def parse_national_id(value) -> str:
    """A CMND (9 digits) or CCCD (12 digits) number."""
    digits = _number_digits(value)
    if digits is not None:
        number = digits.zfill(9) if len(digits) == 8 else (
            digits.zfill(12) if len(digits) in (10, 11) else digits)
    else:
        number = _line(value).lstrip("'").translate(_ID_SEPARATORS)
    if not (len(number) in (9, 12) and number.isascii() and number.isdigit()):
        raise _error(
            _("%(value)s is not an ID number: CMND has 9 digits, CCCD has 12 digits"), value)
    return number
