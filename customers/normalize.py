"""Normal forms of what staff type: names (accent-folded search key), phones (E.164), emails.

Phones are parsed by ``phonenumbers`` (region VN). Before parsing, the 11-digit mobile
numbers of before 2018 are mapped to today's 10-digit ones, so ``0162 912 3456`` and
``0329 123 456`` are the same customer.
"""

import functools
import re
import unicodedata

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# Ministry of Information and Communications, 2018: old 11-digit mobile prefixes (without
# the leading 0) and the 10-digit prefixes that replaced them.
OLD_MOBILE_PREFIXES = {
    # Viettel
    "162": "32", "163": "33", "164": "34", "165": "35", "166": "36", "167": "37",
    "168": "38", "169": "39",
    # MobiFone
    "120": "70", "121": "79", "122": "77", "126": "76", "128": "78",
    # VinaPhone
    "123": "83", "124": "84", "125": "85", "127": "81", "129": "82",
    # Vietnamobile
    "186": "56", "188": "58",
    # Gmobile
    "199": "59",
}

_NON_DIGIT = re.compile(r"\D")
_SPACES = re.compile(r"\s+")
PHONE_CHARS = re.compile(r"^[\d\s+().\-]+$")


def fold(text: str) -> str:
    """Lower-case, accent-free, single-spaced: 'Nguyễn  Văn Đức' -> 'nguyen van duc'.

    NFC and NFD input give the same key; đ/Đ fold to d (they are letters, not accents,
    so NFD alone keeps them).
    """
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    stripped = stripped.replace("đ", "d").replace("Đ", "D")
    return _SPACES.sub(" ", stripped).strip().lower()


def _national_digits(raw: str) -> str | None:
    """The Vietnamese national significant number of ``raw``, or None if not Vietnamese."""
    digits = _NON_DIGIT.sub("", raw)
    stripped = raw.strip()
    if stripped.startswith("+") or stripped.startswith("00"):
        digits = digits[2:] if stripped.startswith("00") else digits
        if not digits.startswith("84"):
            return None
        return digits[2:]
    if digits.startswith("84") and len(digits) in (11, 12):
        return digits[2:]
    if digits.startswith("0"):
        return digits[1:]
    return digits


def normalize_phone(raw: str) -> str:
    """Return the E.164 form of ``raw`` or raise ValidationError with a message for staff."""
    raw = (raw or "").strip()
    if not raw:
        raise ValidationError(_("Enter a phone number."), code="empty")
    if not PHONE_CHARS.match(raw):
        raise ValidationError(
            _("“%(value)s” is not a phone number: use digits, spaces, + - . ( )."),
            code="invalid", params={"value": raw},
        )
    national = _national_digits(raw)
    if national is not None:
        if len(national) == 10 and national[:3] in OLD_MOBILE_PREFIXES:
            national = OLD_MOBILE_PREFIXES[national[:3]] + national[3:]
        candidate = "0" + national
    else:
        candidate = raw
    try:
        number = phonenumbers.parse(candidate, "VN")
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(
            _("“%(value)s” is not a valid phone number."), code="invalid", params={"value": raw}
        ) from exc
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(
            _("“%(value)s” is not a valid phone number."), code="invalid", params={"value": raw}
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def try_normalize_phone(raw: str) -> str | None:
    try:
        return normalize_phone(raw)
    except ValidationError:
        return None


@functools.lru_cache(maxsize=65_536)
def format_phone(e164: str) -> str:
    """Display form: Vietnamese numbers nationally ('0912 345 678'), others internationally.

    Memoized: a list page formats 50 numbers and phonenumbers parses each (~50 µs). A
    Vietnamese number is laid out like the first one formatted of its length and first
    three digits (phonenumbers picks the VN layout from those alone), so an export of
    100,000 customers parses a few hundred numbers, not 100,000."""
    if not e164:
        return ""
    national = e164[3:]
    if e164.startswith("+84") and national.isdigit() and national[:1] != "0":
        layout = _vn_layout(len(national), national[:3], national)
        if layout is not None:
            digits = iter(national)
            return "".join(next(digits) if c == "#" else c for c in layout)
    return _format_phone(e164)


def _format_phone(e164: str) -> str:
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    fmt = (phonenumbers.PhoneNumberFormat.NATIONAL if number.country_code == 84
           else phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return phonenumbers.format_number(number, fmt)


_VN_LAYOUTS: dict[tuple[int, str], str | None] = {}


def _vn_layout(length: int, prefix: str, sample: str) -> str | None:
    """How phonenumbers lays out Vietnamese numbers of ``length`` digits starting with
    ``prefix`` ("0### ### ###": # a digit of the number), learnt from the first ``sample``
    of them; None when its formatted digits are not its own digits in order."""
    key = (length, prefix)
    if key not in _VN_LAYOUTS:
        formatted = _format_phone("+84" + sample)
        layout, digits = [], iter(sample)
        expected = next(digits, None)
        for char in formatted:
            if char == expected:
                layout.append("#")
                expected = next(digits, None)
            elif char.isdigit() and (char != "0" or layout):
                layout = None  # a digit that is neither the trunk 0 nor the number's own
                break
            else:
                layout.append(char)
        _VN_LAYOUTS[key] = "".join(layout) if layout is not None and expected is None \
            else None
    return _VN_LAYOUTS[key]


def phone_digits_for_search(query: str) -> tuple[str | None, str]:
    """For a phone-like search text: (E.164 prefix or None, digits the number ends with).

    '0912 34' -> ('+8491234', '91234'): the first finds numbers starting like that, the
    second (searched reversed) numbers ending with those digits ('5678' -> (None, '5678')).
    The trunk 0 and the country code are dropped from the ending: stored numbers are E.164.
    """
    digits = _NON_DIGIT.sub("", query)
    national = _national_digits(query)
    if national is None or not (digits.startswith(("0", "84")) or query.strip().startswith("+")):
        return None, digits
    if len(national) >= 3 and national[:3] in OLD_MOBILE_PREFIXES:
        national = OLD_MOBILE_PREFIXES[national[:3]] + national[3:]
    return "+84" + national, national


def normalize_email(raw: str) -> str:
    return (raw or "").strip().casefold()
