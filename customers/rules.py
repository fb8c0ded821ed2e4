"""The rule engine: a validated JSON document of conditions, compiled into a query through
the customer field registry (customers.fields). Groups, saved filters, the list's filter
panel and reports all go through it, so "spend ≥ 1.500.000 ₫" means one thing everywhere.

A rule::

    {"conditions": [
        {"field": "orders", "op": "gte", "value": 5},
        {"any": [{"field": "spend", "op": "gte", "value": 1500000},
                 {"field": "tags", "op": "any", "value": [12, 14]}]}]}

Top-level conditions must all hold ("tất cả"); an ``any`` block holds when one of its
conditions does ("một trong"); blocks do not nest. A rule without conditions matches no
one (an empty group, not the whole shop).
"""

import datetime
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db.models import BooleanField, Case, F, Q, Value, When
from django.utils.translation import gettext as _

from crm.money import MAX_AMOUNT, MoneyParseError, format_money, parse_money

from .fields import OPERATORS, CustomerField, FieldType, field_choices, get_field, value_of

MAX_CONDITIONS = 30
MAX_TEXT = 200
NUMERIC = (FieldType.NUMBER, FieldType.MONEY, FieldType.DAYS, FieldType.RECENT)
LISTED = (FieldType.CHOICE, FieldType.RELATION, FieldType.MULTI, FieldType.MONTH)


class _RefusalError(Exception):
    pass


def _conditions(rule) -> list:
    if not isinstance(rule, dict) or not isinstance(rule.get("conditions", []), list):
        raise ValidationError(_("The conditions could not be read."), code="invalid")
    return rule.get("conditions", [])


def rule_validate(tenant, rule) -> dict:
    """A normalized copy of ``rule``; ValidationError with one message per bad condition."""
    conditions = _conditions(rule)
    errors, clean = [], []
    count = 0
    for n, item in enumerate(conditions, start=1):
        if isinstance(item, dict) and "any" in item:
            block = item["any"]
            if not isinstance(block, list) or not block:
                errors.append(_("Condition %(n)s: a “one of” block needs conditions.")
                              % {"n": n})
                continue
            children = []
            for m, child in enumerate(block, start=1):
                label = f"{n}.{m}"
                if isinstance(child, dict) and "any" in child:
                    errors.append(_("Condition %(n)s: “one of” blocks cannot be nested.")
                                  % {"n": label})
                    continue
                count += 1
                _clean_into(tenant, child, label, children, errors)
            clean.append({"any": children})
        else:
            count += 1
            _clean_into(tenant, item, n, clean, errors)
    if count > MAX_CONDITIONS:
        errors.append(_("A rule holds at most %(max)s conditions.") % {"max": MAX_CONDITIONS})
    if errors:
        raise ValidationError(errors, code="invalid")
    return {"conditions": clean}


def _clean_into(tenant, item, label, out: list, errors: list) -> None:
    try:
        out.append(clean_condition(tenant, item))
    except _RefusalError as refusal:
        errors.append(_("Condition %(n)s: %(error)s") % {"n": label, "error": refusal})


def clean_condition(tenant, item) -> dict:
    if not isinstance(item, dict):
        raise _RefusalError(_("it could not be read."))
    entry = get_field(str(item.get("field", "")))
    if entry is None or not entry.rule:
        raise _RefusalError(_("unknown field “%(field)s”.") % {"field": item.get("field", "")})
    op = item.get("op")
    if op not in entry.operator_keys:
        raise _RefusalError(_("“%(field)s” cannot be compared with “%(op)s”.")
                       % {"field": entry.label, "op": OPERATORS[op].label
                          if op in OPERATORS else op})
    return {"field": entry.key, "op": op,
            "value": _clean_value(tenant, entry, op, item.get("value"))}


def _clean_value(tenant, entry: CustomerField, op: str, value):
    arity = OPERATORS[op].arity
    if arity == 0:
        return None
    if arity == 2:
        if not isinstance(value, list | tuple) or len(value) != 2:
            raise _RefusalError(_("“%(field)s” between needs two values.") % {"field": entry.label})
        low, high = (_one_value(tenant, entry, v) for v in value)
        if low > high:
            raise _RefusalError(_("“%(field)s”: the first value is greater than the second.")
                           % {"field": entry.label})
        return [low, high]
    if arity == "many":
        values = value if isinstance(value, list | tuple) else [value]
        values = [v for v in values if v not in (None, "")]
        if not values:
            raise _RefusalError(_("choose at least one value of “%(field)s”.")
                           % {"field": entry.label})
        return _listed_values(tenant, entry, values)
    return _one_value(tenant, entry, value)


def _one_value(tenant, entry: CustomerField, value):
    if entry.type in NUMERIC:
        return _number(entry, value)
    if entry.type == FieldType.DATE:
        return _date(entry, value)
    if entry.type == FieldType.TEXT:
        text = str(value or "").strip()
        if not text:
            raise _RefusalError(_("type a value for “%(field)s”.") % {"field": entry.label})
        if len(text) > MAX_TEXT:
            raise _RefusalError(_("“%(field)s” is too long.") % {"field": entry.label})
        return text
    raise _RefusalError(_("“%(field)s” takes a list of values.") % {"field": entry.label})


def _number(entry: CustomerField, value) -> int:
    if isinstance(value, bool) or value in (None, ""):
        raise _RefusalError(_("type a number for “%(field)s”.") % {"field": entry.label})
    try:
        if entry.type == FieldType.MONEY:
            amount = value if isinstance(value, int) else parse_money(str(value))
        else:
            amount = int(str(value).replace(".", "").strip()) if not isinstance(value, int) \
                else value
    except (MoneyParseError, ValueError):
        raise _RefusalError(_("“%(value)s” is not a number for “%(field)s”.")
                       % {"value": value, "field": entry.label}) from None
    if amount is None:
        raise _RefusalError(_("type a number for “%(field)s”.") % {"field": entry.label})
    if amount < 0:
        raise _RefusalError(_("“%(field)s” cannot be negative.") % {"field": entry.label})
    if entry.type == FieldType.MONEY and amount > MAX_AMOUNT:
        raise _RefusalError(_("“%(field)s” is too large.") % {"field": entry.label})
    if entry.min_value is not None and amount < entry.min_value \
            or entry.max_value is not None and amount > entry.max_value:
        raise _RefusalError(_("“%(field)s” must be between %(low)s and %(high)s.")
                       % {"field": entry.label, "low": entry.min_value,
                          "high": entry.max_value})
    return amount


def _date(entry: CustomerField, value) -> str:
    text = str(value or "").strip()
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.datetime.strptime(text, fmt).date().isoformat()
        except ValueError:
            continue
    raise _RefusalError(_("“%(value)s” is not a date (dd/mm/yyyy) for “%(field)s”.")
                   % {"value": text, "field": entry.label})


def _listed_values(tenant, entry: CustomerField, values: list) -> list:
    if entry.type not in LISTED:
        raise _RefusalError(_("“%(field)s” takes one value.") % {"field": entry.label})
    if entry.type == FieldType.MONTH:
        try:
            months = sorted({int(v) for v in values})
        except (TypeError, ValueError):
            months = [0]
        if any(not 1 <= m <= 12 for m in months):
            raise _RefusalError(_("a month is between 1 and 12."))
        return months
    if entry.queryset is not None:
        try:
            ids = sorted({int(v) for v in values})
        except (TypeError, ValueError):
            raise _RefusalError(_("“%(field)s”: a value is not in this shop.")
                           % {"field": entry.label}) from None
        found = entry.queryset().filter(tenant=tenant, pk__in=ids).count() if tenant else 0
        if found != len(ids):
            # The same words for a missing row and another shop's: nothing is revealed.
            raise _RefusalError(_("“%(field)s”: a value is not in this shop.")
                           % {"field": entry.label})
        return ids
    known = {str(v): v for v, _label, _group in field_choices(entry, tenant)}
    if any(str(v) not in known for v in values):
        raise _RefusalError(_("“%(field)s”: a value is not one of its choices.")
                       % {"field": entry.label})
    return [known[str(v)] for v in dict.fromkeys(str(v) for v in values)]


# --- compiling ------------------------------------------------------------------------------

def condition_q(tenant, condition: dict) -> Q:
    """One validated condition as a Q on Customer."""
    entry = get_field(condition["field"])
    return entry.q(tenant, condition["op"], condition["value"])


def conditions_q(tenant, conditions: list) -> Q:
    """AND of already validated conditions (``any`` blocks ORed inside)."""
    q = Q()
    for item in conditions:
        if "any" in item:
            block = Q()
            for child in item["any"]:
                block |= condition_q(tenant, child)
            q &= block
        else:
            q &= condition_q(tenant, item)
    return q


def rule_q(tenant, rule) -> Q:
    """The customers ``rule`` holds for, as a Q (the rule is validated first)."""
    clean = rule_validate(tenant, rule)
    if not clean["conditions"]:
        return Q(pk__in=[])
    return conditions_q(tenant, clean["conditions"])


def rule_customers(tenant, rule):
    """The shop's customers ``rule`` holds for."""
    from .models import Customer

    return Customer.objects.for_tenant(tenant).filter(rule_q(tenant, rule))


def rule_target(tenant, rule):
    """The ids (one column, ``id``) of the shop's customers ``rule`` holds for, read from the
    narrowest table: a rule only on a customer's one-to-one row of figures (the orders app's
    stats: order count, spend, debt, dates) reads that table alone, tenant first, without
    the customer rows (at a million customers the join with them was most of a group's
    recompute); any other rule reads the customers."""
    from .models import Customer

    q = rule_q(tenant, rule)
    narrowed = _narrowed(q)
    if narrowed is not None:
        model, customer_column, inner = narrowed
        return model._default_manager.filter(tenant=tenant).filter(inner).values(
            id=F(customer_column))
    return Customer.objects.for_tenant(tenant).filter(q).order_by().values("id")


def _narrowed(q: Q):
    """(model, its customer column, q on it) when every lookup of ``q`` goes through one
    reverse one-to-one relation of Customer and keeps its meaning there: no negation (a
    customer without the row satisfies "not ...") and no ``isnull=True`` (true of a
    customer without the row too). None otherwise."""
    from .models import Customer

    prefixes: set = set()

    def strip(node):
        if not isinstance(node, Q) or node.negated:
            return None
        children = []
        for child in node.children:
            if isinstance(child, Q):
                inner = strip(child)
                if inner is None:
                    return None
                children.append(inner)
                continue
            if not isinstance(child, tuple) or "__" not in child[0]:
                return None  # an expression (Exists), or a lookup on the customer row
            prefix, rest = child[0].split("__", 1)
            if rest == "isnull" or rest.endswith("__isnull") and child[1]:
                return None
            prefixes.add(prefix)
            children.append((rest, child[1]))
        return Q(*children, _connector=node.connector)

    inner = strip(q)
    if inner is None or len(prefixes) != 1:
        return None
    try:
        relation = Customer._meta.get_field(prefixes.pop())
    except Exception:  # noqa: BLE001 -- not a relation: stay on the customers
        return None
    if not (relation.one_to_one and relation.auto_created) or not any(
            f.name == "tenant" for f in relation.related_model._meta.concrete_fields):
        return None
    return relation.related_model, relation.field.attname, inner


# --- reading a rule: in words, and for one customer ----------------------------------------

@dataclass
class Explained:
    label: str
    operator: str
    expected: str
    actual: str = ""
    holds: bool | None = None
    children: list = field(default_factory=list)
    sentence: str = ""


def _vnd(amount) -> str:
    return format_money(amount) + " ₫"


def _dmy(value) -> str:
    from django.utils import timezone

    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
    elif isinstance(value, str):
        value = datetime.date.fromisoformat(value)
    return f"{value.day:02d}/{value.month:02d}/{value.year}"


def format_value(tenant, entry: CustomerField, value, labels: dict | None = None) -> str:
    """A value of ``entry`` the way a shop reads it (1.500.000 ₫, 05/03/2026, Tháng 3)."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, list | tuple) and entry.type not in LISTED:
        return " – ".join(format_value(tenant, entry, v, labels) for v in value)
    if entry.type == FieldType.MONEY:
        return _vnd(value)
    if entry.type in (FieldType.NUMBER, FieldType.DAYS, FieldType.RECENT):
        if isinstance(value, datetime.date | datetime.datetime):
            return _dmy(value)
        return f"{format_money(value)} {entry.unit}".strip()
    if entry.type == FieldType.DATE:
        return _dmy(value)
    if entry.type == FieldType.BOOLEAN:
        return _("Yes") if value else _("No")
    if entry.type in LISTED:
        items = value if isinstance(value, list | tuple) else [value]
        labels = labels if labels is not None else _labels(tenant, entry)
        return ", ".join(str(labels.get(_key(v), v)) for v in items)
    return str(value)


def _key(value):
    return getattr(value, "pk", value)


def _labels(tenant, entry: CustomerField) -> dict:
    return {v: label for v, label, _group in field_choices(entry, tenant)}


def _explained(tenant, condition: dict, labels_cache: dict) -> Explained:
    entry = get_field(condition["field"])
    op = OPERATORS[condition["op"]]
    if entry.key not in labels_cache and entry.type in LISTED:
        labels_cache[entry.key] = _labels(tenant, entry)
    labels = labels_cache.get(entry.key)
    expected = "" if op.arity == 0 else format_value(tenant, entry, condition["value"], labels)
    if op.key in ("within", "not_within"):
        expected = f"{condition['value']} {entry.unit}"
    words = op.symbol or str(op.label)
    if op.key in ("in", "not_in") and len(condition["value"]) == 1:
        words = _("is") if op.key == "in" else str(OPERATORS["neq"].label)  # "Thành viên là ..."
    sentence = " ".join(p for p in (str(entry.label), words, expected) if p)
    return Explained(label=str(entry.label), operator=str(op.label), expected=expected,
                     sentence=sentence)


def rule_describe(tenant, rule) -> list[str]:
    """One sentence per condition; an ``any`` block reads "Một trong: a; b"."""
    cache: dict = {}
    sentences = []
    for item in rule_validate(tenant, rule)["conditions"]:
        if "any" in item:
            parts = [_explained(tenant, c, cache).sentence for c in item["any"]]
            sentences.append(_("One of: %(conditions)s") % {"conditions": "; ".join(parts)})
        else:
            sentences.append(_explained(tenant, item, cache).sentence)
    return sentences


def rule_explain(tenant, rule, customer) -> list[Explained]:
    """Each condition of ``rule`` with ``customer``'s value and whether it holds.

    Whether it holds is asked of the database with the same Q the group's recompute uses
    (one query for every condition), so the answer agrees with the membership."""
    from .models import Customer

    clean = rule_validate(tenant, rule)
    flat = []
    for item in clean["conditions"]:
        flat += item["any"] if "any" in item else [item]
    annotations = {
        f"c{i}": Case(When(condition_q(tenant, c), then=Value(True)), default=Value(False),
                      output_field=BooleanField())
        for i, c in enumerate(flat)}
    holds = {}
    if flat:
        row = (Customer.objects.for_tenant(tenant).filter(pk=customer.pk)
               .annotate(**annotations).values(*annotations).first()) or {}
        holds = {i: bool(row.get(f"c{i}")) for i in range(len(flat))}
    related = {p for c in flat for p in get_field(c["field"]).related}
    loaded = (Customer.objects.for_tenant(tenant).select_related(*related)
              .filter(pk=customer.pk).first()) or customer
    cache: dict = {}
    position = 0
    explained = []

    def one(condition):
        nonlocal position
        entry = get_field(condition["field"])
        item = _explained(tenant, condition, cache)
        item.actual = format_value(tenant, entry, value_of(entry, loaded), cache.get(entry.key))
        item.holds = holds.get(position, False)
        position += 1
        return item

    for item in clean["conditions"]:
        if "any" in item:
            children = [one(c) for c in item["any"]]
            explained.append(Explained(
                label=_("One of"), operator="", expected="", children=children,
                holds=any(c.holds for c in children),
                sentence=_("One of: %(conditions)s")
                % {"conditions": "; ".join(c.sentence for c in children)}))
        else:
            explained.append(one(item))
    return explained
