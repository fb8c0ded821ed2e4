"""Province names as shops wrote them, old (63 provinces) or new (34, from 1 July 2025).

``vietnam-provinces`` knows only the 34 provinces of 2025. Which of the 63 old provinces
went into which new one (Resolution 202/2025/QH15) is data, ``data/provinces_2025.json``:
old name -> new province code, plus the short forms people type ("HCM", "Sài Gòn",
"BR-VT", "TT Huế"). Nothing here reaches the network.

Names are compared folded (case, accents, spaces and punctuation off: "Đắk Lắk",
"Dak Lak" and "ĐắkLắk" are one key), without a leading "Tỉnh", "Thành phố", "TP.", "TP"
or "T." and a trailing "city" / "province". A cell holding more than the province
("Quận 1, TP HCM", "Hà Nội - Quận Ba Đình") is read part by part when the whole is no
province; parts naming two different provinces give no province.
"""

import functools
import json
import re
from pathlib import Path

from vietnam_provinces import Province

from customers.normalize import fold

from .values import cell_text

DATA = Path(__file__).resolve().parent / "data" / "provinces_2025.json"

_PREFIX = re.compile(r"^(?:tinh|thanh pho|tp\.?|t\.)\s*(?=[a-z0-9])")
_SUFFIX = re.compile(r"\s*(?:city|province)$")
_PARTS = re.compile(r"\s*[,;|/()\-\u2013]\s*")


def _key(text: str) -> str:
    folded = fold(text)
    folded = _SUFFIX.sub("", _PREFIX.sub("", folded))
    return re.sub(r"[^a-z0-9]", "", folded)


@functools.cache
def load() -> dict:
    with DATA.open(encoding="utf-8") as f:
        return json.load(f)


@functools.cache
def _table() -> dict[str, tuple[int, bool]]:
    """{key: (2025 province code, the name is an old one)}."""
    data = load()
    new = {_key(p.name): int(p.code) for p in Province.iter_all()}
    table = {key: (code, False) for key, code in new.items()}
    for name, code in data["old_provinces"].items():
        table.setdefault(_key(name), (code, True))
    for alias, name in data["aliases"].items():
        table.setdefault(_key(alias), table[_key(name)])
    return table


def province_of(text) -> tuple[int | None, bool]:
    """(the 2025 province code, whether ``text`` named one of the old provinces); (None,
    False) when no province is recognised. "Hà Giang" -> (8, True) (now Tuyên Quang),
    "Tuyên Quang" -> (8, False)."""
    if text is None or isinstance(text, (int, float)):
        return None, False  # a number is no province name (old and new codes differ)
    return _province_of(cell_text(text))


@functools.lru_cache(maxsize=4096)
def _province_of(raw: str) -> tuple[int | None, bool]:
    if not raw:
        return None, False
    table = _table()
    found = table.get(_key(raw))
    if found is not None:
        return found
    parts = [part for part in _PARTS.split(raw) if part]
    matches = {table[k] for part in parts if (k := _key(part)) in table}
    codes = {code for code, _old in matches}
    if len(codes) != 1:
        return None, False
    return next(iter(codes)), any(old for _code, old in matches)
