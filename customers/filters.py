"""The customer list's filter panel, generated from the customer field registry.

Each field with a ``panel`` place gets the boxes its type calls for, named after its
``param``: a choice or a row of the shop -> a multiple select (``care_status=3&care_status=5``);
a number or money -> ``<param>_min`` / ``<param>_max``; a date -> ``<param>_from`` /
``<param>_to`` (dd/mm/yyyy); tags -> ``tags`` with ``tags_mode`` (any / all / none); "has /
has no ... in the last N" -> ``<param>_within`` with ``<param>_mode``. The panel's values
are read back as rule conditions (``CustomerFilterSet.conditions``) and filtered through
the rule engine, so a list state and a group's rule are the same thing:
``query_to_rule`` turns one into the other (saved filters, "Tạo nhóm từ bộ lọc").
"""

import functools

import django_filters
from django import forms
from django.http import QueryDict
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from crm.filters import TenantFilterSet, date_filter
from crm.money import MoneyFilter, MoneyInput

from .fields import FieldType, panel_fields
from .models import Customer
from .rules import conditions_q

TAG_MODES = [("any", _("any of them")), ("all", _("all of them")), ("none", _("none of them"))]
RECENT_MODES = [("with", _("has")), ("without", _("has none"))]
BOOLEAN_CHOICES = [("yes", _("Yes")), ("no", _("No"))]
SELECT_CLASS = "form-select form-select-sm"


def _select(multiple=False, **attrs):
    """A filter's select; empty it reads "All" (single: FILTERS_EMPTY_CHOICE_LABEL, many: the
    placeholder Tom Select shows)."""
    attrs = {"class": SELECT_CLASS, "data-tom-select": "", **attrs}
    if multiple:
        return forms.SelectMultiple(attrs={**attrs, "placeholder": _("All")})
    return forms.Select(attrs=attrs)


def _number(label, money: bool):
    if money:
        return MoneyFilter(label=label, widget=MoneyInput(
            attrs={"class": "form-control form-control-sm"}))
    return django_filters.NumberFilter(label=label, min_value=0, widget=forms.NumberInput(
        attrs={"class": "form-control form-control-sm", "min": 0}))


def panel_filters(entry) -> dict:
    """The filter panel's boxes of one field, by query parameter."""
    p, label = entry.param_name, entry.label
    kind = entry.type
    if kind in (FieldType.NUMBER, FieldType.MONEY, FieldType.DAYS):
        money = kind == FieldType.MONEY
        return {f"{p}_min": _number(format_lazy(_("{field} from"), field=label), money),
                f"{p}_max": _number(format_lazy(_("{field} to"), field=label), money)}
    if kind == FieldType.DATE:
        return {f"{p}_from": date_filter(format_lazy(_("{field} from"), field=label), None),
                f"{p}_to": date_filter(format_lazy(_("{field} to"), field=label), None)}
    if kind == FieldType.TEXT:
        return {p: django_filters.CharFilter(label=label, widget=forms.TextInput(
            attrs={"class": "form-control form-control-sm"}))}
    if kind == FieldType.BOOLEAN:
        return {p: django_filters.ChoiceFilter(label=label, choices=BOOLEAN_CHOICES,
                                               widget=_select())}
    if kind == FieldType.RECENT:
        return {
            f"{p}_within": django_filters.ChoiceFilter(
                label=format_lazy(_("{field}: in the last"), field=label),
                choices=list(entry.windows), widget=_select()),
            f"{p}_mode": django_filters.ChoiceFilter(
                label=_("Within that time"), choices=RECENT_MODES, empty_label=None,
                widget=forms.Select(attrs={"class": SELECT_CLASS,
                                           "data-clean-default": "with"})),
        }
    if entry.queryset is not None:
        boxes = {p: django_filters.ModelMultipleChoiceFilter(
            label=label, queryset=entry.queryset(), widget=_select(True))}
        if kind == FieldType.MULTI:
            boxes[f"{p}_mode"] = django_filters.ChoiceFilter(
                label=_("Match"), choices=TAG_MODES, empty_label=None,
                widget=forms.Select(attrs={"class": SELECT_CLASS, "data-clean-default": "any"}))
        return boxes
    choices = [(value, text) for value, text, _group in entry.choices(None)]
    return {p: django_filters.MultipleChoiceFilter(label=label, choices=choices,
                                                   widget=_select(True))}


def panel_conditions(entry, data: dict) -> list[dict]:
    """The conditions the panel's boxes of ``entry`` hold (``data``: the cleaned form)."""
    p, key, kind = entry.param_name, entry.key, entry.type

    def cond(op, value=None):
        return {"field": key, "op": op, "value": value}

    if kind in (FieldType.NUMBER, FieldType.MONEY, FieldType.DAYS):
        low, high = data.get(f"{p}_min"), data.get(f"{p}_max")
        low = None if low is None else int(low)
        high = None if high is None else int(high)
        if low is not None and high is not None:
            return [cond("between", [min(low, high), max(low, high)])]
        if low is not None:
            return [cond("gte", low)]
        return [cond("lte", high)] if high is not None else []
    if kind == FieldType.DATE:
        start, end = data.get(f"{p}_from"), data.get(f"{p}_to")
        if start and end:
            return [cond("between", sorted([start.isoformat(), end.isoformat()]))]
        if start:
            return [cond("from", start.isoformat())]
        return [cond("to", end.isoformat())] if end else []
    if kind == FieldType.TEXT:
        return [cond("contains", data[p].strip())] if (data.get(p) or "").strip() else []
    if kind == FieldType.BOOLEAN:
        return [cond(data[p])] if data.get(p) else []
    if kind == FieldType.RECENT:
        window = data.get(f"{p}_within")
        op = "not_within" if data.get(f"{p}_mode") == "without" else "within"
        return [cond(op, int(window))] if window else []
    values = data.get(p)
    if not values:
        return []
    values = [getattr(v, "pk", v) for v in values]
    if kind == FieldType.MONTH:
        values = [int(v) for v in values]
    if kind == FieldType.MULTI:
        return [cond(data.get(f"{p}_mode") or "any", values)]
    return [cond("in", values)]


class CustomerFilterSet(TenantFilterSet):
    """The panel's boxes (added by ``customer_filterset`` from the registry) read back as
    rule conditions; the queryset is filtered by the rule engine, not box by box."""

    class Meta:
        model = Customer
        fields: list[str] = []

    def conditions(self) -> list[dict]:
        """The valid boxes as conditions; a box with an error is left out (as
        django-filter does), the others still filter."""
        if not self.is_bound:
            return []
        self.form.is_valid()  # cleans once
        data = self.form.cleaned_data
        return [c for entry in panel_fields() for c in panel_conditions(entry, data)]

    def filter_queryset(self, queryset):
        conditions = self.conditions()
        return queryset.filter(conditions_q(self.tenant, conditions)) if conditions else queryset

    @property
    def panel_sections(self) -> list:
        """The common filters, then "More filters" folded unless one of them is set."""
        form, tenant = self.form, self.tenant

        def bound(place):
            return [form[name] for entry in panel_fields()
                    if entry.panel == place and entry.shown_in(tenant)
                    for name in _box_names(entry) if name in form.fields]

        more = bound("more")
        return [{"title": "", "fields": bound("main")},
                {"title": _("More filters"), "fields": more,
                 "open": any(self.data.get(f.name) for f in more)}]


def customer_filterset(params=None) -> type[CustomerFilterSet]:
    """The list's FilterSet with the boxes of every registered panel field, or with
    ``params`` (query parameter names) only the boxes of the fields they fill: the list
    filters with those, and building ~45 form fields it does not read cost a third of its
    Python time; the filter panel asks for every box."""
    entries = [f for f in panel_fields()
               if params is None or any(name in params for name in _box_names(f))]
    return _filterset_of(tuple(f.key for f in entries))


def _box_names(entry) -> tuple:
    if entry.key not in _BOX_NAMES:
        _BOX_NAMES[entry.key] = tuple(panel_filters(entry))
    return _BOX_NAMES[entry.key]


_BOX_NAMES: dict = {}


@functools.lru_cache(maxsize=256)
def _filterset_of(keys: tuple) -> type[CustomerFilterSet]:
    """One class per set of fields (an app's ``ready()`` may register more)."""
    from .fields import get_field

    filters = {name: box for key in keys
               for name, box in panel_filters(get_field(key)).items()}
    return type("CustomerFilterSet", (CustomerFilterSet,), filters)


def query_to_rule(tenant, query: str) -> dict:
    """The customer list's query string as a rule document: the panel's filters, and the
    search box as a "keyword" condition. Invalid boxes are left out, as the list does."""
    data = QueryDict(query or "")
    filterset = customer_filterset(set(data))(data, queryset=Customer.objects.none(),
                                              tenant=tenant)
    conditions = filterset.conditions()
    if keyword := data.get("q", "").strip():
        conditions.insert(0, {"field": "keyword", "op": "contains", "value": keyword})
    return {"conditions": conditions}
