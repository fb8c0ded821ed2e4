"""The customer field registry: one definition of each customer field.

A field is what a person sees, sorts, filters or puts in a group's rule: its key, its
Vietnamese label, its type (which decides its operators, the value a rule holds and the
widget the filter panel and the rule builder show), how its cell renders and sorts, and how
``(operator, value)`` becomes a ``Q`` on Customer. Each app registers the fields it owns in
its ``AppConfig.ready()`` (customers: ``customers.field_defs``; orders: order count,
spend...; groups: "Thuộc nhóm"; loyalty: points and tier), and the readers only read the
registry: the customer list's columns, sorts and filter panel (``customers.columns``,
``customers.filters``), the rule engine (``customers.rules``) that groups, saved filters
and reports use, import and export.

Null semantics are the field's: a customer without a stats row has ``missing`` (0 orders,
0 đ spent) for a number, so "spend ≤ 100.000 ₫" holds for them while "spend ≥ 1 ₫" does
not; a date field has no value for them ("last order before 01/01/2026" does not hold);
"days since the last purchase" never holds for a customer who never bought unless the rule
says so with its own operator "never bought".
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.filters import day_start


class FieldType:
    TEXT = "text"
    NUMBER = "number"
    MONEY = "money"
    DATE = "date"
    CHOICE = "choice"  # one value of a fixed list
    MULTI = "multi"  # several values of a list (tags)
    MONTH = "month"  # a month of the year (birthday month)
    BOOLEAN = "boolean"
    RELATION = "relation"  # a row of the shop: staff, source, care status
    DAYS = "days"  # days since a moment (the last purchase)
    RECENT = "recent"  # "has / has no <event> in the last N <unit>"


@dataclass(frozen=True)
class Operator:
    key: str
    label: Any
    arity: Any  # 0: no value, 1, 2: [low, high], "many": a list of values
    symbol: str = ""  # how a condition reads: "Tổng chi tiêu ≥ 1.500.000 ₫"


OPERATORS = {op.key: op for op in [
    Operator("eq", _("equals"), 1, "="),
    Operator("neq", _("is not"), 1, "≠"),
    Operator("gte", _("at least"), 1, "≥"),
    Operator("lte", _("at most"), 1, "≤"),
    Operator("gt", _("more than"), 1, ">"),
    Operator("lt", _("less than"), 1, "<"),
    Operator("between", _("between"), 2),
    Operator("contains", _("contains"), 1),
    Operator("not_contains", _("does not contain"), 1),
    Operator("starts_with", _("starts with"), 1),
    Operator("on", _("on"), 1),
    Operator("from", _("from"), 1, "≥"),
    Operator("to", _("until"), 1, "≤"),
    Operator("in", _("is one of"), "many"),
    Operator("not_in", _("is none of"), "many"),
    Operator("any", _("has any of"), "many"),
    Operator("all", _("has all of"), "many"),
    Operator("none", _("has none of"), "many"),
    Operator("empty", _("is empty"), 0),
    Operator("not_empty", _("is filled in"), 0),
    Operator("yes", _("yes"), 0),
    Operator("no", _("no"), 0),
    Operator("this_month", _("is this month"), 0),
    Operator("next_month", _("is next month"), 0),
    Operator("never", _("never bought"), 0),
    Operator("within", _("has, in the last"), 1),
    Operator("not_within", _("has none in the last"), 1),
]}

TYPE_OPERATORS = {
    FieldType.TEXT: ("contains", "not_contains", "eq", "starts_with", "empty", "not_empty"),
    FieldType.NUMBER: ("gte", "lte", "eq", "neq", "gt", "lt", "between"),
    FieldType.MONEY: ("gte", "lte", "eq", "neq", "gt", "lt", "between"),
    FieldType.DAYS: ("gte", "lte", "between", "never"),
    FieldType.DATE: ("from", "to", "between", "on", "empty", "not_empty"),
    FieldType.CHOICE: ("in", "not_in", "empty", "not_empty"),
    FieldType.RELATION: ("in", "not_in", "empty", "not_empty"),
    FieldType.MULTI: ("any", "all", "none", "empty", "not_empty"),
    FieldType.MONTH: ("in", "this_month", "next_month", "empty"),
    FieldType.BOOLEAN: ("yes", "no"),
    FieldType.RECENT: ("within", "not_within"),
}

# Sections of the rule builder's field list, in order.
SECTIONS = {
    "profile": _("Customer details"),
    "status": _("Classification and care"),
    "orders": _("Orders"),
    "loyalty": _("Loyalty"),
    "groups": _("Groups"),
}


@dataclass(frozen=True)
class FieldIO:
    """How a field goes into and out of a spreadsheet: the importer and the exports read it.

    ``parse`` names how a cell is read and written (``imports.values`` and
    ``imports.engine`` implement each): "name", "code", "phone", "email", "text" (a plain
    column: ``CustomerField.path``), "tax_code", "national_id", "gender", "birthday",
    "date" (a moment column such as created_at), "province", "relation" (a row of the shop
    found by name through ``lookup``), "choice" (one of the field's choices, by label or
    value), "tags", "points" (written by ``apply``).
    """

    # Header words other systems use for the field, matched accent-folded and case-free
    # ("SĐT", "Di động"); the field's own label always matches.
    synonyms: tuple = ()
    parse: str = "text"
    importable: bool = True  # False: computed (spend, stage), export only
    exportable: bool = True
    max_length: int = 0  # a longer cell refuses its row (0: the path's column size)
    # (customer) -> the cell's value on export (plain: str, int, Decimal, date); default
    # ``value_of``, a relation's str().
    export: Callable | None = None
    # "relation": (tenant) -> {folded name: row}; several names may point at one row
    # (a staff member by username and by full name).
    lookup: Callable | None = None
    # A field not stored on Customer (loyalty's opening balance): called in the import's
    # transaction after the customers are written, with (tenant, actor, job, [(customer_id,
    # value)]); raises ValidationError to undo the whole import.
    apply: Callable | None = None
    # (tenant) -> bool: importable in this shop (points only with the program on).
    shown: Callable | None = None


@dataclass(frozen=True)
class CustomerField:
    key: str
    label: Any
    type: str
    section: str = "profile"
    # The ORM path of the value on Customer ("stats__total_spend"); fields without one give
    # ``condition`` and ``value``.
    path: str = ""
    # The value a customer counts as when the path reaches no row (no stats row: 0).
    missing: Any = None
    # True: an empty value is "" (a text column), not NULL.
    blank_is_empty: bool = False
    operators: tuple = ()  # () = the type's operators
    # (tenant) -> [(value, label, group label or "")] for choice / month / multi; relation
    # fields give ``queryset`` instead (a queryset of the shop's rows is scoped per tenant).
    choices: Callable | None = None
    queryset: Callable | None = None  # () -> QuerySet of the related model (relation, multi)
    choice_group: Callable | None = None  # (row) -> the group label of a relation's row
    # (tenant, op, value) -> Q for what ``path`` cannot say; value is already validated.
    condition: Callable | None = None
    # (customer) -> the customer's value, for "Vì sao?"; default: follow ``path``.
    value: Callable | None = None
    related: tuple = ()  # select_related paths ``value`` needs
    unit: Any = ""  # shown after a number in the builder and in sentences: "ngày", "tháng"
    min_value: int | None = None
    max_value: int | None = None
    windows: tuple = ()  # "recent": the filter panel's choices of N, [(n, label)]
    # The list: a Column (crm.tables) and its sorts (crm.pagination keyset sorts).
    column: Any = None
    default_column: bool = False
    sorts: dict = field(default_factory=dict)
    # Where the field is offered: in group rules; in the filter panel ("main", "more", "").
    rule: bool = True
    panel: str = ""
    param: str = ""  # the filter panel's query parameter (default: the key)
    order: int = 100
    # (tenant) -> bool: whether the shop uses the field (loyalty's, when it runs a
    # program); a hidden field is left out of the panel and the rule builder, but a rule
    # or a saved filter that holds it still works. None: always shown.
    shown: Callable | None = None
    io: FieldIO | None = None  # import / export; None: neither

    def shown_in(self, tenant) -> bool:
        return self.shown is None or tenant is None or self.shown(tenant)

    @property
    def param_name(self) -> str:
        return self.param or self.key

    @property
    def operator_keys(self) -> tuple:
        return self.operators or TYPE_OPERATORS[self.type]

    def q(self, tenant, op: str, value) -> Q:
        """The condition ``op value`` as a Q on Customer (value already validated)."""
        if self.condition is not None:
            return self.condition(tenant, op, value)
        return path_q(self, op, value)


_fields: dict[str, CustomerField] = {}


def register_field(entry: CustomerField) -> None:
    """Add ``entry``, or replace the field of its key (``ready()`` may run twice)."""
    _fields[entry.key] = entry


def customer_fields() -> list[CustomerField]:
    return sorted(_fields.values(), key=lambda f: (f.order, f.key))


def get_field(key: str) -> CustomerField | None:
    return _fields.get(key)


def io_fields(tenant=None, *, importable=None) -> list[CustomerField]:
    """The fields a spreadsheet can hold (import: ``importable=True``), in the registry's
    order; with a tenant, only those the shop uses."""
    chosen = []
    for entry in customer_fields():
        io = entry.io
        if io is None or (importable and not io.importable) or (
                importable is False and not io.exportable):
            continue
        if tenant is not None and not (entry.shown_in(tenant) and (
                io.shown is None or io.shown(tenant))):
            continue
        chosen.append(entry)
    return chosen


def rule_fields() -> list[CustomerField]:
    return [f for f in customer_fields() if f.rule]


# The filter panel starts with how the shop classifies and cares for customers.
PANEL_SECTIONS = ("status", "groups", "profile", "orders", "loyalty")


def panel_fields() -> list[CustomerField]:
    return sorted((f for f in customer_fields() if f.panel),
                  key=lambda f: (PANEL_SECTIONS.index(f.section)
                                 if f.section in PANEL_SECTIONS else len(PANEL_SECTIONS),
                                 f.order))


# --- turning a condition into a Q -----------------------------------------------------------

NUMBER_LOOKUPS = {"eq": "exact", "gte": "gte", "lte": "lte", "gt": "gt", "lt": "lt"}


def holds_for(op: str, value, candidate) -> bool:
    """Does ``candidate`` (a plain value: a missing row's 0) satisfy ``op value``?"""
    if candidate is None:
        return False
    if op == "between":
        return value[0] <= candidate <= value[1]
    return {"eq": candidate == value, "neq": candidate != value, "gte": candidate >= value,
            "lte": candidate <= value, "gt": candidate > value,
            "lt": candidate < value}.get(op, False)


def number_q(path: str, op: str, value, missing=None) -> Q:
    """``path op value``; a customer the path reaches no value for counts as ``missing``."""
    if op == "between":
        q = Q(**{f"{path}__gte": value[0], f"{path}__lte": value[1]})
    elif op == "neq":
        q = ~Q(**{path: value}) & Q(**{f"{path}__isnull": False})
    else:
        q = Q(**{f"{path}__{NUMBER_LOOKUPS[op]}": value})
    if missing is not None and holds_for(op, value, missing):
        q |= Q(**{f"{path}__isnull": True})
    return q


def date_range(op: str, value) -> tuple:
    """(first moment, moment after the last) of a date condition, in Vietnam time."""
    if op == "between":
        low, high = value
    elif op == "on":
        low = high = value
    elif op == "from":
        low, high = value, None
    else:  # "to"
        low, high = None, value
    start = day_start(to_date(low)) if low else None
    end = day_start(to_date(high) + datetime.timedelta(days=1)) if high else None
    return start, end


def to_date(value) -> datetime.date:
    return value if isinstance(value, datetime.date) else datetime.date.fromisoformat(value)


def date_q(path: str, op: str, value) -> Q:
    if op == "empty":
        return Q(**{f"{path}__isnull": True})
    if op == "not_empty":
        return Q(**{f"{path}__isnull": False})
    start, end = date_range(op, value)
    q = Q()
    if start:
        q &= Q(**{f"{path}__gte": start})
    if end:
        q &= Q(**{f"{path}__lt": end})
    return q


def empty_q(entry: CustomerField) -> Q:
    if entry.blank_is_empty:
        return Q(**{entry.path: ""}) | Q(**{f"{entry.path}__isnull": True})
    return Q(**{f"{entry.path}__isnull": True})


def vietnam_today() -> datetime.date:
    return timezone.localdate()


def path_q(entry: CustomerField, op: str, value) -> Q:
    """The generic condition of a field with a ``path``, by type."""
    path, kind = entry.path, entry.type
    if op == "empty":
        return empty_q(entry)
    if op == "not_empty":
        return ~empty_q(entry)
    if kind in (FieldType.NUMBER, FieldType.MONEY):
        return number_q(path, op, value, entry.missing)
    if kind == FieldType.DATE:
        return date_q(path, op, value)
    if kind == FieldType.TEXT:
        lookups = {"contains": "icontains", "not_contains": "icontains", "eq": "iexact",
                   "starts_with": "istartswith"}
        q = Q(**{f"{path}__{lookups[op]}": value})
        return ~q if op == "not_contains" else q
    if kind in (FieldType.CHOICE, FieldType.RELATION, FieldType.MONTH):
        if op == "this_month":
            return Q(**{path: vietnam_today().month})
        if op == "next_month":
            return Q(**{path: vietnam_today().month % 12 + 1})
        q = Q(**{f"{path}__in": value})
        return ~q if op == "not_in" else q
    if kind == FieldType.BOOLEAN:
        return Q(**{path: op == "yes"})
    raise ValueError(f"field {entry.key} needs a condition for {op}")  # a programming error


def value_of(entry: CustomerField, customer):
    """The customer's value of ``entry`` (for "Vì sao?"): ``value`` or the path followed."""
    if entry.value is not None:
        return entry.value(customer)
    current = customer
    for part in entry.path.split("__"):
        try:
            current = getattr(current, part)
        except Exception:  # noqa: BLE001 -- a missing one-to-one row (no stats yet)
            return entry.missing
        if current is None:
            return entry.missing
    if hasattr(current, "all") and callable(current.all):
        return list(current.all())
    return current


# --- what the rule builder and the filter panel need ---------------------------------------

def field_choices(entry: CustomerField, tenant) -> list[tuple]:
    """[(value, label, group)] a choice / relation / multi / month field offers in ``tenant``."""
    if entry.choices is not None:
        return list(entry.choices(tenant))
    if entry.queryset is not None:
        rows = entry.queryset().filter(tenant=tenant) if tenant else entry.queryset().none()
        group = entry.choice_group or (lambda row: "")
        return [(row.pk, str(row), str(group(row))) for row in rows]
    return []


def field_catalog(tenant) -> list[dict]:
    """The rule fields with their operators and choices, JSON-able (the rule builder)."""
    catalog = []
    for entry in rule_fields():
        if not entry.shown_in(tenant):
            continue
        catalog.append({
            "key": entry.key, "label": str(entry.label), "type": entry.type,
            "section": entry.section, "section_label": str(SECTIONS.get(entry.section, "")),
            "unit": str(entry.unit),
            "operators": [{"key": k, "label": str(OPERATORS[k].label),
                           "arity": OPERATORS[k].arity} for k in entry.operator_keys],
            "choices": [{"value": v, "label": str(label), "group": group}
                        for v, label, group in field_choices(entry, tenant)]
            if entry.type in (FieldType.CHOICE, FieldType.RELATION, FieldType.MULTI,
                              FieldType.MONTH) else [],
        })
    return sorted(catalog, key=lambda f: list(SECTIONS).index(f["section"])
                  if f["section"] in SECTIONS else len(SECTIONS))
