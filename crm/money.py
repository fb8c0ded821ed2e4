"""Money typed the way Vietnamese shops type it, read back as whole đồng.

One field and one widget for every amount a person types (order lines, discount, shipping,
payments, returns, the VIP threshold, list filters). The server's parse is the source of
truth; static/js/app.js (section "Money inputs") only groups digits while typing and
mirrors ``parse_money`` on blur so the user sees how the amount was read.

Accepted: ``220000``, ``220.000``, ``220,000``, ``220 000``, ``220k``, ``1,5tr``,
``1.5 triệu``, ``2tr5`` (2.500.000), ``1 tỷ``; spaces around and a trailing ``đ``, ``₫``,
``vnd``, ``vnđ`` or ``đồng``. Đồng has no decimals, so a dot or comma between digits is a
thousands separator and must be followed by groups of exactly three digits: ``1.5``,
``220.5``, ``12.34.5`` and ``1.500,000`` are refused rather than guessed. With a unit the
separator is a decimal one (``1,5tr``) unless it is followed by exactly three digits
(``1.500k``: 1.500 thousand or 1,5 thousand?), which is refused too.
"""

import re
import unicodedata
from decimal import Decimal

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

MAX_AMOUNT = 10**12  # the order API's bound too: a thousand billion đồng

UNITS = {
    "k": 1_000, "nghìn": 1_000, "nghin": 1_000, "ngàn": 1_000, "ngan": 1_000,
    "tr": 1_000_000, "triệu": 1_000_000, "trieu": 1_000_000,
    "tỷ": 1_000_000_000, "tỉ": 1_000_000_000, "ty": 1_000_000_000, "ti": 1_000_000_000,
}
_UNIT = "|".join(sorted((re.escape(u) for u in UNITS), key=len, reverse=True))
_CURRENCY = re.compile(r"\s*(?:₫|vnđ|vnd|đồng|dong|đ|d)\.?$")
_PLAIN = re.compile(r"[0-9]+")
# 1-3 digits, then groups of three after one and the same separator.
_GROUPED = re.compile(r"[0-9]{1,3}(?P<sep>[., ])[0-9]{3}(?:(?P=sep)[0-9]{3})*")
_WITH_UNIT = re.compile(rf"(?P<int>[0-9]+)(?:[.,](?P<frac>[0-9]+))? ?(?P<unit>{_UNIT})")
# "2tr5" = 2,5 triệu, "1tr250" = 1.250.000: the digits after the unit continue it.
_SPOKEN = re.compile(rf"(?P<int>[0-9]+) ?(?P<unit>{_UNIT}) ?(?P<frac>[0-9]{{1,3}})")


class MoneyParseError(ValueError):
    pass


def parse_money(text: str) -> int | None:
    """Whole đồng from what a person typed; None for an empty box.

    Raises MoneyParseError for anything that cannot be read without guessing.
    """
    s = unicodedata.normalize("NFC", str(text)).lower()
    s = re.sub(r"[\s\u00a0\u202f]+", " ", s).strip()
    if not s:
        return None
    s = _CURRENCY.sub("", s).strip()
    negative = s[:1] in ("-", "\u2212")
    if negative:
        s = s[1:].strip()
    amount = _amount(s)
    if amount is None:
        raise MoneyParseError(text)
    return -amount if negative else amount


def _amount(s: str) -> int | None:
    if _PLAIN.fullmatch(s):
        return int(s)
    if m := _GROUPED.fullmatch(s):
        return int(s.replace(m["sep"], ""))
    m = _WITH_UNIT.fullmatch(s) or _SPOKEN.fullmatch(s)
    if m is None:
        return None
    frac = m["frac"] or ""
    if len(frac) == 3 and m.re is _WITH_UNIT:
        return None  # 1.500k: a thousands group or a decimal? Refuse to guess.
    value = Decimal(f"{m['int']}.{frac or 0}") * UNITS[m["unit"]]
    if value != value.to_integral_value():
        return None  # 1,2345k is 1.234,5 đồng: no such amount
    return int(value)


def format_money(value) -> str:
    """1500000 -> '1.500.000' (no currency sign: that is the `vnd` filter's job)."""
    return f"{int(value):,}".replace(",", ".")


class MoneyInput(forms.TextInput):
    """A text box (a number box drops '220.000' to 220) that app.js groups while typing."""

    def __init__(self, attrs=None):
        defaults = {"inputmode": "numeric", "autocomplete": "off", "data-money": "",
                    "spellcheck": "false"}
        super().__init__({**defaults, **(attrs or {})})

    def format_value(self, value):
        if value is None or value == "":
            return None
        if isinstance(value, int):
            return format_money(value)
        try:  # what was posted back: shown as read when it can be read, else as typed
            amount = parse_money(value)
        except MoneyParseError:
            return str(value)
        return None if amount is None else format_money(amount)


class MoneyField(forms.Field):
    """Whole đồng as an int. ``min_value`` defaults to 0 (no negative amounts)."""

    widget = MoneyInput
    default_error_messages = {
        "invalid": _("“%(value)s” is not an amount. Type it like 220.000, 220000 or 220k."),
        "negative": _("The amount cannot be negative."),
        "min_value": _("The amount must be at least %(limit)s."),
        "max_value": _("The amount must be at most %(limit)s."),
    }

    def __init__(self, *, min_value: int | None = 0, max_value: int | None = MAX_AMOUNT,
                 **kwargs):
        self.min_value, self.max_value = min_value, max_value
        super().__init__(**kwargs)

    def to_python(self, value):
        if isinstance(value, int):
            return value
        if value in self.empty_values:
            return None
        try:
            return parse_money(value)
        except MoneyParseError:
            shown = str(value).strip()
            shown = shown if len(shown) <= 30 else shown[:29] + "…"
            raise ValidationError(self.error_messages["invalid"], code="invalid",
                                  params={"value": shown}) from None

    def validate(self, value):
        super().validate(value)
        if value is None:
            return
        if self.min_value is not None and value < self.min_value:
            if self.min_value == 0:
                raise ValidationError(self.error_messages["negative"], code="min_value")
            raise ValidationError(self.error_messages["min_value"], code="min_value",
                                  params={"limit": format_money(self.min_value) + " ₫"})
        if self.max_value is not None and value > self.max_value:
            raise ValidationError(self.error_messages["max_value"], code="max_value",
                                  params={"limit": format_money(self.max_value) + " ₫"})


class MoneyFilter(django_filters.Filter):
    """A list filter on an amount, typed like any other amount (``5tr``, ``5.000.000``)."""

    field_class = MoneyField


# A whole count with or without thousands separators, one kind of separator throughout:
# "1.500", "1,500", "1 500", "1500". "1,5" or "10k" are refused rather than guessed.
_COUNT = re.compile(r"[0-9]{1,3}(?P<sep>[., ])[0-9]{3}(?:(?P=sep)[0-9]{3})*|[0-9]+")


class PointsField(forms.Field):
    """A whole number of loyalty points, typed as the shop types amounts (the box groups the
    digits while typing), with messages about points, not đồng. Empty is ``empty_value``
    (None: the ``required`` check applies)."""

    widget = MoneyInput
    default_error_messages = {
        "invalid": _("“%(value)s” is not a number of points. Type it like 1.000 or 1000."),
        "negative": _("The points cannot be negative."),
        "min_value": _("Enter at least %(limit)s point."),
        "max_value": _("At most %(limit)s points."),
    }

    def __init__(self, *, min_value: int = 0, max_value: int | None = None,
                 empty_value=None, **kwargs):
        self.min_value, self.max_value, self.empty_value = min_value, max_value, empty_value
        super().__init__(**kwargs)

    def to_python(self, value):
        if isinstance(value, int):
            return value
        text = re.sub(r"[\s\u00a0\u202f]+", " ", str(value or "")).strip()
        if not text:
            return self.empty_value
        if text[:1] in ("-", "\u2212"):
            raise ValidationError(self.error_messages["negative"], code="negative")
        match = _COUNT.fullmatch(text)
        if match is None:
            shown = text if len(text) <= 30 else text[:29] + "…"
            raise ValidationError(self.error_messages["invalid"], code="invalid",
                                  params={"value": shown})
        return int(text.replace(match["sep"], "") if match["sep"] else text)

    def validate(self, value):
        super().validate(value)
        if value is None:
            return
        if value < 0:
            raise ValidationError(self.error_messages["negative"], code="negative")
        if value < self.min_value:
            raise ValidationError(self.error_messages["min_value"], code="min_value",
                                  params={"limit": format_money(self.min_value)})
        if self.max_value is not None and value > self.max_value:
            raise ValidationError(self.error_messages["max_value"], code="max_value",
                                  params={"limit": format_money(self.max_value)})

