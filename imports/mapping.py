"""Which column of an uploaded file fills which field: the targets and the automatic guess.

The targets of a customer import are the importable fields of the customer field registry
(``customers.fields.io_fields``), the two name parts (``first_name``, ``last_name``: a
file with "Họ" and "Tên" columns, or Shopify's "First Name" / "Last Name"; the engine
joins them family name first) and one ``tags:<pk>`` per tag group of the shop (its column
holds tags of that group, headed by the group's name: "Tính chất mua").

Headers are matched folded (``header_key``: case, accents and punctuation off, so
"Số điện thoại (*)" is "so dien thoai") against each target's words: its ``FieldIO``
synonyms and its labels in Vietnamese and in English (the export's headers come back).
First every header equal to a target's words once "khách hàng" / "KH" / "customer" are
set aside ("Email khách hàng" -> email), then every header that contains them as whole
words ("Điện thoại 2" -> phone; the most words first, then the earliest). One-word
synonyms under four letters ("Tên", "Mã", "Họ") match only a header equal to them. A
target is used once, by the first column that matches it; the rest stay unmapped ("").
The guess is a proposal: the manager confirms or changes it.

"Tên" alone is the whole name ("Tên khách hàng" in short) unless the file also has a
family-name column ("Họ", "Last name"): then it is the given name. A tag group's name
wins over a field's synonym (the shop named its group "Khu vực": that column is tags).
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass

from django.utils import translation
from django.utils.translation import gettext_lazy as _

from customers.fields import SECTIONS, get_field, io_fields
from customers.models import TagGroup
from customers.normalize import fold

FIRST_NAME, LAST_NAME = "first_name", "last_name"
TAGS_PREFIX = "tags:"

# Words of the name parts: a family name (with the middle names) and a given name.
LAST_NAME_WORDS = ("Họ", "Họ và tên đệm", "Họ và chữ lót", "Họ đệm", "Họ và đệm", "Last name",
                   "Family name", "Surname")
FIRST_NAME_WORDS = ("First name", "Given name", "Tên riêng", "Tên gọi")
_GIVEN_NAME = "ten"  # "Tên": the whole name, or the given name next to a family name

# Words that say whose value a column holds, not which: set aside before containment.
_QUALIFIERS = re.compile(r"\b(?:khach hang|khach|kh|customer|customers|cua)\b")
# One-word synonyms under four letters match only a header equal to them, never inside a
# longer one ("Mã đơn hàng" is no customer code, "Hộ kinh doanh" no family name), except
# these abbreviations, which mean one thing wherever they stand ("SĐT liên hệ").
_SHORT_OK = {"sdt", "mst", "dob", "ctv"}


@dataclass(frozen=True)
class Target:
    key: str
    label: str
    group: str = ""  # a section label: the mapping screen's option groups


def header_key(header) -> str:
    """The folded header templates store: "Số điện thoại (*)" -> "so dien thoai"."""
    return " ".join(re.findall(r"[a-z0-9]+", fold(str(header or ""))))


def _labels(*texts) -> list[str]:
    """Each (lazy) text in Vietnamese and in English."""
    found = []
    for language in ("vi", "en"):
        with translation.override(language):
            found.extend(str(text) for text in texts if text)
    return found


def _tag_groups(tenant) -> list[TagGroup]:
    return list(TagGroup.objects.for_tenant(tenant).filter(is_active=True)
                .order_by("position", "id"))


def _customer_targets(tenant) -> list[tuple[Target, list[str]]]:
    """[(target, its words)] in the order the mapping screen lists them."""
    found = []
    for entry in io_fields(tenant, importable=True):
        group = str(SECTIONS.get(entry.section, ""))
        column_label = getattr(entry.column, "label", None) if entry.column else None
        words = [*entry.io.synonyms, *_labels(entry.label, column_label)]
        found.append((Target(entry.key, str(entry.label), group), words))
        if entry.key == "name":
            found.append((Target(LAST_NAME, str(_("Family name")), group),
                          [*LAST_NAME_WORDS, *_labels(_("Family name"))]))
            found.append((Target(FIRST_NAME, str(_("Given name")), group),
                          [*FIRST_NAME_WORDS, *_labels(_("Given name"))]))
    tags = get_field("tags")
    tags_group = str(tags.label) if tags else str(_("Tags"))
    for group in _tag_groups(tenant):
        found.append((Target(f"{TAGS_PREFIX}{group.pk}", group.name, tags_group), [group.name]))
    return found


def _spec(spec, name: str, index: int, default):
    """A part of an ORDER_TARGETS entry (whatever shape the orders engine gives it): an
    object's attribute, a dict's key or a tuple's item (label, synonyms, group)."""
    if isinstance(spec, Mapping):
        return spec.get(name, default)
    if isinstance(spec, (tuple, list)):
        return spec[index] if len(spec) > index else default
    if isinstance(spec, str):
        return spec if index == 0 else default
    return getattr(spec, name, default)


def _order_targets() -> list[tuple[Target, list[str]]]:
    try:
        from .orders_engine import ORDER_TARGETS
    except ImportError:
        return []
    if isinstance(ORDER_TARGETS, Mapping):
        items = ORDER_TARGETS.items()
    else:  # [(key, label, synonyms[, group])] or objects with a key
        items = [(entry[0], entry[1:]) if isinstance(entry, (tuple, list))
                 else (entry.key, entry) for entry in ORDER_TARGETS]
    found = []
    for key, spec in items:
        label = _spec(spec, "label", 0, key)
        synonyms = list(_spec(spec, "synonyms", 1, ()) or ())
        group = str(_spec(spec, "group", 2, "") or "")
        found.append((Target(key, str(label), group), [*synonyms, *_labels(label)]))
    return found


def _targets_with_words(tenant, kind: str) -> list[tuple[Target, list[str]]]:
    if kind == "orders":
        return _order_targets()
    return _customer_targets(tenant)


def targets(tenant, kind: str) -> list[Target]:
    """What a column can fill, for the mapping screen and for checking a mapping."""
    return [target for target, _words in _targets_with_words(tenant, kind)]


def _word_table(pairs, *, given_name_is_first: bool) -> tuple[dict, list]:
    """({folded words: key} for equal headers, [(words, key)] for containment).

    Tag groups first (the shop's own names win), then the fields in the registry's order,
    then the name parts ("Tên", the label of the given name in Vietnamese, stays the
    whole name's); the first target of a word keeps it."""
    exact, contained = {}, []
    tag_groups = [p for p in pairs if p[0].key.startswith(TAGS_PREFIX)]
    name_parts = [p for p in pairs if p[0].key in (FIRST_NAME, LAST_NAME)]
    fields = [p for p in pairs if p not in tag_groups and p not in name_parts]
    if given_name_is_first:
        exact[_GIVEN_NAME] = FIRST_NAME
    for target, words in [*tag_groups, *fields, *name_parts]:
        for word in words:
            key = header_key(word)
            if not key:
                continue
            exact.setdefault(key, target.key)
            if _bare(key) and (" " in key or len(key) >= 4 or key in _SHORT_OK):
                contained.append((key, target.key))  # "Khách hàng" alone: equal only
    return exact, contained


def _bare(key: str) -> str:
    """A folded header without the words saying whose value it is."""
    return " ".join(_QUALIFIERS.sub(" ", key).split())


def _contained(header: str, words: list, used: set) -> str:
    """The target whose words the header holds as whole words: the most words, then the
    earliest in the header ("Ghi chú địa chỉ" is a note)."""
    padded, bare = f" {header} ", f" {_bare(header)} "
    best, best_rank = "", None
    for word, key in words:
        if key in used:
            continue
        at = padded.find(f" {word} ")
        if at < 0:
            at = bare.find(f" {word} ")
        if at < 0:
            continue
        rank = (-len(word.split()), at)
        if best_rank is None or rank < best_rank:
            best, best_rank = key, rank
    return best


def auto_map(tenant, kind: str, headers: list[str]) -> list[str]:
    """Per header the target key it fills, or "" (see the module's docstring)."""
    pairs = _targets_with_words(tenant, kind)
    keys = [header_key(h) for h in headers]
    family = {header_key(w) for w in LAST_NAME_WORDS}
    has_family = any(k in family or _bare(k) in family for k in keys if k)
    exact, contained = _word_table(pairs, given_name_is_first=has_family)
    mapping, used = [""] * len(headers), set()
    for i, key in enumerate(keys):
        target = exact.get(key) or exact.get(_bare(key)) or "" if key else ""
        if target and target not in used:
            mapping[i] = target
            used.add(target)
    for i, key in enumerate(keys):
        if mapping[i] or not key or exact.get(key) or exact.get(_bare(key)):
            continue  # equal to a target another column took: that column wins
        target = _contained(key, contained, used)
        if target:
            mapping[i] = target
            used.add(target)
    return mapping


def apply_template(template_mapping: dict, headers) -> list[str]:
    """A saved mapping ({header_key: target}) applied to this file's headers; a header the
    template does not know, or a target an earlier column took, is left unmapped."""
    mapping, used = [], set()
    for header in headers:
        target = template_mapping.get(header_key(header), "") or ""
        if target in used:
            target = ""
        if target:
            used.add(target)
        mapping.append(target)
    return mapping
