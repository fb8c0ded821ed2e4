"""Exports: the customer list, a group's members, the order list and the point ledger to
.xlsx and .csv, exactly as the list shows them (its filters, search, sort and columns).

Selection: each export reads its list's own code path (``customers.selectors.
customer_matches`` with the list's scope and sorts, ``groups.selectors.group_customers``,
the order list's FilterSet and search, the ledger's FilterSet). Columns: the customer
field registry (the list's chosen columns, or with ``columns=all`` every exportable field
of ``customers.fields.io_fields``, for a round trip through the importer); orders and the
ledger have their columns here. Headers are the labels in the active language.

Small exports (up to ``EXPORT_STREAM_MAX_ROWS``) are answered by the request; larger ones
become an ``ExportJob`` that Celery writes (``export_execute``) with its progress, its file
downloadable by the person who asked, in their shop only.

Cells: dates are date cells (dd/mm/yyyy), money numbers in a đồng format, every text a
text cell. A text starting with = + - @ tab or CR stays text in the .xlsx (an inline
string, never a formula, with Excel's quote prefix) and gets a leading ' in the .csv (see
``neutralise``: the importer undoes exactly that, ``unneutralise``).

The .xlsx is written here, not by openpyxl or XlsxWriter: with the same rows read the same
way, 100,000 customers of ten columns took 21.0 s with openpyxl's write-only mode and
19.9 s with XlsxWriter's constant_memory mode, 10.3 s written here (bench/export_bench.py;
their 10-15 µs of Python per cell is the difference). One sheet of inline strings,
numbers and dates is a small, fixed part of SpreadsheetML (ECMA-376); the tests read every
file back with openpyxl and calamine.
"""

import array
import contextlib
import csv
import datetime
import functools
import gc
import io
import logging
import re
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import connections, transaction
from django.db.models import BooleanField, Prefetch, Q, QuerySet, prefetch_related_objects
from django.db.models.base import ModelState
from django.db.models.expressions import RawSQL
from django.http import FileResponse, QueryDict, StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl.utils import get_column_letter

from crm import access
from crm import registry as crm_registry
from crm.models import Membership
from crm.pagination import capped_count
from customers.normalize import fold

from .models import ExportFormat, ExportJob, ExportKind, ImportState

logger = logging.getLogger(__name__)

CHUNK_SIZE = 2000  # rows per database round trip (and per prefetch of their tags)
PROGRESS_EVERY = 5000  # rows between two progress writes of a job
WIDTH_SAMPLE = 200  # rows read before the column widths are fixed
XLSX_COMPRESSION = 1  # deflate level: 6 costs twice the time for a file ~10% smaller

# Kinds of cells: how a column's values are shown.
TEXT, NUMBER, MONEY, DATE, DATETIME = "text", "number", "money", "date", "datetime"

# What a spreadsheet may take for a formula or a command (OWASP, "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NEUTRALISED = re.compile(r"^'*[=+\-@\t\r]")


def neutralise(text: str) -> str:
    """A .csv text cell that no spreadsheet reads as a formula: a leading ' before a text
    that starts with = + - @ tab or CR — and before one that already starts with quotes
    followed by one of those, so that ``unneutralise`` gives every text back unchanged."""
    return "'" + text if _NEUTRALISED.match(text) else text


def unneutralise(text: str) -> str:
    """What the importer does to a .csv cell: drop the one ' that ``neutralise`` added."""
    return text[1:] if text.startswith("'") and _NEUTRALISED.match(text[1:]) else text


# --- columns ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class ExportColumn:
    key: str
    label: Any  # a lazy translation: the header in the active language
    value: Callable[[Any], Any]  # (row) -> str, int, Decimal, date, datetime, list or None
    kind: str = TEXT
    related: tuple = ()  # select_related paths ``value`` reads
    prefetch: tuple = ()  # Prefetch objects ``value`` reads


@dataclass
class Selection:
    """What one export writes: its rows in the list's order and its columns."""

    kind: str
    queryset: QuerySet  # sorted; the joins and prefetches come from the columns (RowReader)
    columns: list[ExportColumn]
    title: str  # the sheet's name and the file name's first word
    matches: QuerySet  # the same rows without order or joins: what is counted
    tenant: Any = None
    stem: str = ""  # the file name's first words when not the title (a group's name)
    limit: int | None = None  # the first rows only (the bench)

    def rows(self) -> Iterator[list]:
        """Each row's plain values (``plain``; "" for an empty text), read in chunks."""
        getters = [(c.value, c.kind) for c in self.columns]
        as_cell = _cells()
        for row in RowReader(self.queryset, self.columns, self.tenant, self.limit):
            yield [value if type(value) in _KEPT else as_cell(value, kind)
                   for get, kind in getters for value in (get(row),)]


# Values that are cells as they are (a datetime is not: it becomes the shop's local time).
_KEPT = frozenset({str, int, Decimal, float, datetime.date, type(None)})


def _cells() -> Callable:
    """``plain`` for one export, with the text of each lazy translation (a stage's label
    on every row) looked up once: the language does not change during an export."""
    texts: dict = {}

    def as_cell(value, kind):
        key = getattr(value, "_args", None) if isinstance(value, Promise) else None
        if key is None or getattr(value, "_kw", None):
            return plain(value, kind)
        if key not in texts:
            texts[key] = plain(str(value), kind)
        return texts[key]

    return as_cell


def _among(field, ids, db: str) -> Q:
    """``field IN ids`` (a field of the query's own table). On PostgreSQL one array
    parameter (``= ANY(%s)``): 2,000 placeholders cost psycopg more to parse than the
    query takes."""
    ids = list(ids)
    if connections[db].vendor == "postgresql":
        # The table's and the column's names come from the model, the ids are a parameter.
        column = f'"{field.model._meta.db_table}"."{field.column}"'
        return Q(RawSQL(f"{column} = ANY(%s)", (ids,),  # noqa: S611
                        output_field=BooleanField()))
    return Q(**{f"{field.attname}__in": ids})


class RowShape:
    """A model's concrete fields and the joined rows of ``joins`` (select_related paths)
    as one ``values_list`` row, and how to make the instances back from it: ``__new__``
    and the field values in ``__dict__``, as ``Model.from_db`` ends up with, without
    ``Model.__init__``'s descriptor call per foreign key (10 per customer) — the models
    read here have no pre_init / post_init receivers."""

    def __init__(self, model, prefix: str, joins: list[str], via=None,
                 fields_of: dict | None = None):
        """``fields_of``: {prefix ("" the model, "stats__" a joined row): the fields to
        read}; a model not in it is read whole."""
        self.model, self.prefix, self.via = model, prefix, via
        fields_of = fields_of or {}
        fields = fields_of.get(prefix) or model._meta.concrete_fields
        self.names = [f"{prefix}{f.name}" for f in fields]
        self.attnames = [f.attname for f in fields]
        self.pk_index = next(i for i, f in enumerate(fields) if f.primary_key)
        by_hop: dict[str, list[str]] = {}
        for path in joins:
            first, _sep, rest = path.partition("__")
            by_hop.setdefault(first, [])
            if rest:
                by_hop[first].append(rest)
        self.children = []
        for first, rests in by_hop.items():
            field = model._meta.get_field(first)
            self.children.append(RowShape(field.related_model, f"{prefix}{first}__", rests,
                                          via=field, fields_of=fields_of))

    def shapes(self) -> list:
        """This model's shape and every joined one's."""
        return [self, *(s for child in self.children for s in child.shapes())]

    def paths(self) -> list[str]:
        return [*self.names, *(p for child in self.children for p in child.paths())]

    def make(self, values, db: str, made: dict | None = None):
        """The instance of ``values`` (a row of ``paths()``), its joined rows cached;
        ``made`` collects the instances by prefix."""
        return self._make(values, db, 0, made)[0]

    def _make(self, values, db, start, made=None):
        """(instance or None, where the next model's values start)."""
        end = start + len(self.attnames)
        if values[start + self.pk_index] is None:  # a LEFT JOIN that found nothing
            obj = None
        else:
            obj = self.model.__new__(self.model)
            obj.__dict__.update(zip(self.attnames, values[start:end], strict=False))
            state = ModelState()
            state.adding, state.db = False, db
            obj._state = state
            if made is not None:
                made[self.prefix].append(obj)
        for child in self.children:
            related, end = child._make(values, db, end, made)
            if obj is not None:
                # No way back (stats.customer) as select_related sets: a cycle per row would
                # leave every row to the garbage collector instead of freeing it at once.
                obj._state.fields_cache[child.via.cache_name] = related
        return obj, end


# A table of the shop with at most this many rows, that the exported rows point to (care
# statuses, sources, staff, tags), is read once instead of joined to every row.
LOOKUP_MAX = 5000


class RowReader:
    """The rows of an export with what their columns read, in chunks of CHUNK_SIZE, at a
    fixed number of queries per chunk and the least Python per row.

    The ORM's way costs a model instance per joined row, set field by field through the
    model's descriptors, and for a prefetch a queryset per row (``_apply_rel_filters``):
    100,000 customers with their care status, staff and tags took longer than the whole
    10 s goal. Here the small tables of the shop that a forward foreign key points to are
    read once and put in each row's relation cache; a many-to-many prefetch onto such a
    table (the tags) is one query of the link table per chunk, its rows put in the prefetch
    cache (as a list: ``row.tags.all()`` reads it); anything else is joined and read in the
    same statement (``RowShape``) or prefetched the ORM's way per chunk. Every row is a
    model instance, as ``Model.from_db`` makes it.

    The rows are picked and ordered by one narrow query (their primary keys, in the list's
    order), then read by primary key a chunk at a time: sorting the wide rows of 100,000
    customers spilled to disk and joined every customer's stats row by a hash join (3.3 s
    of the database's time), a chunk's 2,000 rows are index lookups. No cursor stays open
    between chunks, so a job's progress writes commit on their own.

    Only the fields the columns read are fetched (the timestamps and notes a customer
    column does not show cost a third of the reading): which ones is learnt, not declared
    (a field's ``value`` or ``export`` may read anything). A row is made with the fields
    known so far; the first read of another one loads that field for the whole chunk in
    one query (Django's deferred field, with the row's ``refresh_from_db`` answered here)
    and every later chunk fetches it with the rest; the joined rows (a customer's stats)
    the same way.
    """

    def __init__(self, queryset: QuerySet, columns: list[ExportColumn], tenant=None,
                 limit: int | None = None):
        model = queryset.model
        self.tenant = tenant if any(f.name == "tenant" for f in model._meta.concrete_fields) \
            else None
        self.lookups: list[tuple[str, str, dict]] = []
        self.links: list[tuple] = []
        self.prefetches: list[Prefetch] = []
        by_hop: dict[str, list[str]] = {}
        for path in dict.fromkeys(p for c in columns for p in c.related):
            first, _sep, rest = path.partition("__")
            by_hop.setdefault(first, []).append(rest)
        joins = []
        for first, rests in by_hop.items():
            field = model._meta.get_field(first)
            rows = self._small_table(field, [r for r in rests if r])
            if rows is None:
                joins += [f"{first}__{r}" if r else first for r in rests]
            else:
                self.lookups.append((field.name, field.attname, rows))
        for prefetch in {p.prefetch_to: p for c in columns for p in c.prefetch}.values():
            link = self._link(model, prefetch)
            if link is None:  # a fresh Prefetch: prefetching may re-prefix the one it is given
                self.prefetches.append(Prefetch(prefetch.prefetch_through,
                                                queryset=prefetch.queryset,
                                                to_attr=prefetch.to_attr))
            else:
                self.links.append(link)
        self.joins, self.pk = joins, model._meta.pk
        # The fields fetched, per model of the row: the keys, and the foreign keys the
        # lookups read, to start with.
        self.models = {s.prefix: s.model for s in RowShape(model, "", joins).shapes()}
        self.fields_of = {prefix: [m._meta.pk] for prefix, m in self.models.items()}
        self.fields_of[""] += [model._meta.get_field(name) for name, _a, _r in self.lookups]
        self.shape = RowShape(model, "", joins, fields_of=self.fields_of)
        ordered = queryset.values_list("pk", flat=True)
        self.ordered = ordered[:limit] if limit else ordered
        rows = model._default_manager.all()
        if self.tenant is not None:
            rows = rows.filter(tenant=self.tenant)
        self.base = rows
        self.db = queryset.db

    def _scoped(self, model):
        """``model``'s rows of the shop, None when it has no tenant or too many rows."""
        if self.tenant is None or not any(f.name == "tenant"
                                          for f in model._meta.concrete_fields):
            return None
        rows = model._default_manager.filter(tenant=self.tenant)
        return None if capped_count(rows, cap=LOOKUP_MAX)[1] else rows

    def _small_table(self, field, rests: list[str]) -> dict | None:
        if not field.many_to_one or field.related_model is field.model:
            return None
        rows = self._scoped(field.related_model)
        if rows is None:
            return None
        key = field.target_field.attname
        return {getattr(row, key): row for row in rows.select_related(*rests)}

    def _link(self, model, prefetch: Prefetch) -> tuple | None:
        from django.db.models import ManyToManyField

        if "__" in prefetch.prefetch_through:
            return None
        field = model._meta.get_field(prefetch.prefetch_through)
        if not isinstance(field, ManyToManyField):
            return None
        targets = prefetch.queryset if prefetch.queryset is not None \
            else field.related_model._default_manager.all()
        if self._scoped(field.related_model) is None:
            return None
        targets = list(targets.filter(tenant=self.tenant))
        through = field.remote_field.through
        source = through._meta.get_field(field.m2m_field_name())
        target = through._meta.get_field(field.m2m_reverse_field_name())
        links = through._default_manager.all()
        if any(f.name == "tenant" for f in through._meta.concrete_fields):
            links = links.filter(tenant=self.tenant)
        return (prefetch.to_attr, field.name, links, source, target,
                {t.pk: t for t in targets}, {t.pk: i for i, t in enumerate(targets)})

    def __iter__(self) -> Iterator:
        # All the keys in one plain query: a cursor kept open over it would be planned for
        # its first rows (PostgreSQL's cursor_tuple_fraction): the list's order walked on
        # its index, every customer of the shop read to filter them (1.8 s, not 0.3 s).
        # Kept as 8 bytes per row: a million rows' keys are 8 MB.
        keys = self.ordered
        keys = array.array("q", keys) if self.pk.get_internal_type() in (
            "AutoField", "BigAutoField") else list(keys)
        for start in range(0, len(keys), CHUNK_SIZE):
            wanted = keys[start:start + CHUNK_SIZE]
            shape, db = self.shape, self.db
            found = {values[shape.pk_index]: values for values in self.base.filter(
                _among(self.pk, wanted, db)).values_list(*shape.paths())}
            # In the list's order; a row deleted since the keys were read is left out.
            made = {prefix: [] for prefix in self.models}
            chunk = [shape.make(found[pk], db, made) for pk in wanted if pk in found]
            for prefix, rows in made.items():
                load = functools.partial(self._load, prefix, {row.pk: row for row in rows})
                for row in rows:
                    row.__dict__["refresh_from_db"] = load
            yield from self._complete(chunk)

    def _load(self, prefix: str, rows: dict, fields=None, **kwargs) -> None:
        """A row's ``refresh_from_db(fields=[...])``, called by Django for a field it does
        not hold yet: that field for every row of the chunk (of the model at ``prefix``),
        and fetched from now on."""
        model = self.models[prefix]
        new = [model._meta.get_field(name) for name in fields or ()]
        if not new or any(not f.concrete for f in new):
            raise ValueError(f"export rows cannot load {fields!r}")  # a programming error
        known = self.fields_of[prefix]
        known += [f for f in new if f not in known]
        self.shape = RowShape(self.shape.model, "", self.joins, fields_of=self.fields_of)
        base = self.base if not prefix else model._default_manager.all()
        attnames = [f.attname for f in new]
        for values in base.filter(_among(model._meta.pk, list(rows), self.db)).values_list(
                "pk", *(f.name for f in new)):
            row = rows.get(values[0])
            if row is not None:
                row.__dict__.update(zip(attnames, values[1:], strict=True))
        for row in rows.values():  # deleted since its chunk was read: empty
            for attname in attnames:
                row.__dict__.setdefault(attname, None)

    def _complete(self, chunk: list) -> list:
        tenant = self.tenant
        for row in chunk:
            cache = row._state.fields_cache
            if tenant is not None:
                cache["tenant"] = tenant
            for name, attname, rows in self.lookups:
                cache[name] = rows.get(getattr(row, attname))
        for to_attr, name, links, source, target, targets, order in self.links:
            found: dict = {}
            ids = [row.pk for row in chunk]
            for source_id, target_id in (links.filter(_among(source, ids, links.db))
                                         .values_list(source.attname, target.attname)):
                if target_id in targets:
                    found.setdefault(source_id, []).append(targets[target_id])
            for held in found.values():
                held.sort(key=lambda t: order[t.pk])
            for row in chunk:
                held = found.get(row.pk, [])
                if to_attr:
                    setattr(row, to_attr, held)
                else:
                    row.__dict__.setdefault("_prefetched_objects_cache", {})[name] = held
        if self.prefetches:
            prefetch_related_objects(chunk, *self.prefetches)
        return chunk


def plain(value, kind: str = TEXT):
    """A field's value as a cell: None, str, int, Decimal, float, date or datetime (local,
    naive). Lists join with ", " (tags), other objects read as text (a source, a tier)."""
    if value is None:
        return None
    kind_of = type(value)
    if kind_of is str:
        return value or None
    if kind_of is bool:
        return _("Yes") if value else _("No")
    if kind_of in (int, Decimal, float):
        return value
    if kind_of is datetime.datetime:
        if timezone.is_aware(value):
            value = timezone.localtime(value).replace(tzinfo=None)
        return value.date() if kind == DATE else value
    if kind_of is datetime.date:
        return value
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(str(v) for v in value if v is not None) or None
    if callable(getattr(value, "all", None)):  # a related manager not prefetched
        return plain(list(value.all()), kind)
    return plain(str(value), kind)


_PLAIN_TYPES = frozenset({str, int, Decimal, float, bool, datetime.date, datetime.datetime})


def path_value(entry) -> Callable:
    """``customers.fields.value_of`` of a field read by its ``path``, with the path split
    once instead of on every call (a million calls for 100,000 rows of ten columns)."""
    parts, missing = tuple(entry.path.split("__")), entry.missing

    def get(row):
        current = row
        for part in parts:
            try:
                current = getattr(current, part)
            except Exception:  # noqa: BLE001 -- value_of's rule: a missing one-to-one row
                return missing
            if current is None:
                return missing
        if type(current) in _PLAIN_TYPES:
            return current
        if hasattr(current, "all") and callable(current.all):
            return list(current.all())
        return current

    return get


def _prefetched(name: str, otherwise: Callable, row):
    cache = row.__dict__.get("_prefetched_objects_cache")
    return cache[name] if cache and name in cache else otherwise(row)


FIELD_KINDS = {"money": MONEY, "number": NUMBER, "days": NUMBER, "date": DATE}


def field_column(entry, tenant) -> ExportColumn:
    """A customer field (customers.fields.CustomerField) as an export column: its ``io``'s
    export, or its value (a choice as its label), with what the value reads."""
    from customers.fields import FieldType, value_of

    io_export = entry.io.export if entry.io is not None else None
    if io_export is not None:
        get = io_export
    elif entry.type == FieldType.CHOICE and entry.choices is not None:
        labels = {value: str(label) for value, label, _group in entry.choices(tenant)}
        raw = functools.partial(value_of, entry)

        def get(customer, raw=raw, labels=labels):
            value = raw(customer)
            return labels.get(value, value)
    else:
        get = path_value(entry) if entry.value is None and entry.path \
            else functools.partial(value_of, entry)
        if entry.column is not None and entry.path in {
                p.prefetch_to for p in entry.column.prefetch}:
            # A many-to-many the reader puts in the prefetch cache (the tags): read there,
            # without a related manager made per row.
            get = functools.partial(_prefetched, entry.path, get)
    column = entry.column
    return ExportColumn(
        entry.key, entry.label, get, FIELD_KINDS.get(entry.type, TEXT),
        related=tuple(entry.related) + (tuple(column.related) if column else ()),
        prefetch=tuple(column.prefetch) if column else ())


def customer_columns(tenant, user, wanted: str = "") -> list[ExportColumn]:
    """The columns of a customer export: ``wanted`` "all" is every exportable field of the
    registry (what the importer reads back); "" the columns ``user`` shows in the list, in
    their order; else the field keys it names, comma-separated."""
    from customers.columns import CUSTOMER_COLUMNS
    from customers.fields import customer_fields, io_fields

    if wanted == "all":
        entries = io_fields(tenant, importable=False)
    else:
        by_column = {f.column.key: f for f in customer_fields() if f.column is not None}
        if wanted:
            known = {f.key: f for f in customer_fields()
                     if (f.io is not None and f.io.exportable) or f.column is not None}
            keys = [k.strip() for k in wanted.split(",")]
            entries = [known[k] for k in dict.fromkeys(keys) if k in known]
            if not entries:
                raise ValidationError(_("None of these columns can be exported."))
        else:
            entries = [by_column[c.key] for c in CUSTOMER_COLUMNS.chosen(tenant, user)
                       if c.key in by_column]
        entries = [f for f in entries if f.shown_in(tenant)]
    return [field_column(entry, tenant) for entry in entries]


def _money(name: str) -> Callable:
    return lambda row: getattr(row, name)


ORDER_COLUMNS = [
    ExportColumn("code", gettext_lazy("Order code"), lambda o: o.code),
    ExportColumn("external_id", gettext_lazy("Channel's order id"), lambda o: o.external_id),
    ExportColumn("ordered_at", gettext_lazy("Ordered at"), lambda o: o.ordered_at, DATE),
    ExportColumn("delivered_at", gettext_lazy("Delivered at"), lambda o: o.delivered_at, DATE),
    ExportColumn("customer_code", gettext_lazy("Customer code"),
                 lambda o: o.customer.code if o.customer_id else None, related=("customer",)),
    ExportColumn("customer", gettext_lazy("Customer name"),
                 lambda o: o.customer.full_name if o.customer_id else None,
                 related=("customer",)),
    ExportColumn("contact_name", gettext_lazy("Contact name"), lambda o: o.contact_name),
    ExportColumn("contact_phone", gettext_lazy("Contact phone"),
                 lambda o: o.contact_phone_display),
    ExportColumn("contact_email", gettext_lazy("Contact email"), lambda o: o.contact_email),
    ExportColumn("address", gettext_lazy("Delivery address"), lambda o: o.contact_address),
    ExportColumn("channel", gettext_lazy("Channel"),
                 lambda o: o.channel if o.channel_id else None, related=("channel__parent",)),
    ExportColumn("status", gettext_lazy("Status"), lambda o: o.get_status_display()),
    ExportColumn("total", gettext_lazy("Total"), _money("total_amount"), MONEY),
    ExportColumn("discount", gettext_lazy("Discount"), _money("discount"), MONEY),
    ExportColumn("shipping_fee", gettext_lazy("Shipping fee"), _money("shipping_fee"), MONEY),
    ExportColumn("paid", gettext_lazy("Paid"), _money("paid_amount"), MONEY),
    ExportColumn("returned", gettext_lazy("Returned amount"), _money("returned_amount"), MONEY),
    ExportColumn("debt", gettext_lazy("Debt"), _money("debt"), MONEY),
    ExportColumn("note", gettext_lazy("Note"), lambda o: o.note),
]


def _actor_name(entry) -> str:
    from customers.activity import actor_name

    return actor_name(entry.actor)


LEDGER_COLUMNS = [
    ExportColumn("date", gettext_lazy("Date of use"), lambda e: e.effective_date, DATE),
    ExportColumn("customer_code", gettext_lazy("Customer code"), lambda e: e.customer.code,
                 related=("customer",)),
    ExportColumn("customer", gettext_lazy("Customer name"), lambda e: e.customer.full_name,
                 related=("customer",)),
    ExportColumn("kind", gettext_lazy("Kind"), lambda e: e.get_kind_display()),
    ExportColumn("points", gettext_lazy("Points"), lambda e: e.delta, NUMBER),
    ExportColumn("content", gettext_lazy("Content"), lambda e: e.reason),
    ExportColumn("order", gettext_lazy("Order code"),
                 lambda e: e.order.code if e.order_id else None, related=("order",)),
    ExportColumn("actor", gettext_lazy("Done by"), _actor_name, related=("actor",)),
    ExportColumn("recorded", gettext_lazy("Recorded at"), lambda e: e.created_at, DATETIME),
]


# --- what each export reads (the lists' own code paths) -------------------------------------

def _sorted_customers(queryset: QuerySet, sort: str) -> QuerySet:
    """Every match in the list's ``sort`` (its default when unknown)."""
    from customers.columns import list_sorts
    from customers.selectors import DEFAULT_SORT

    sorts = list_sorts()
    order, annotations, *_parts = sorts[sort if sort in sorts else DEFAULT_SORT]
    return queryset.annotate(**annotations).order_by(*order)


def customer_matches(*, tenant, actor, params: QueryDict, group=None) -> QuerySet:
    """The customers the list (or the group page) shows for ``params``, unsorted."""
    from customers.selectors import customer_matches as list_matches
    from customers.selectors import customers_visible_to

    visible = customers_visible_to(actor, tenant)
    if group is not None:
        from groups.selectors import group_customers

        visible = group_customers(group, visible)
    return list_matches(queryset=visible, tenant=tenant, params=params)


def customer_selection(*, tenant, actor, params: QueryDict, group=None) -> Selection:
    user = actor.user if isinstance(actor, Membership) else None
    columns = customer_columns(tenant, user, params.get("columns", ""))
    matches = customer_matches(tenant=tenant, actor=actor, params=params, group=group)
    rows = _sorted_customers(matches, params.get("sort", ""))
    title = (_("Group %(name)s") % {"name": group.name}) if group is not None \
        else _("Customers")
    return Selection(ExportKind.GROUP if group is not None else ExportKind.CUSTOMERS,
                     rows, columns, title, matches, tenant,
                     stem=group.name if group is not None else "")


def order_matches(*, tenant, actor, params: QueryDict) -> QuerySet:
    """The orders the order list shows for ``params``: what ``OrderListView`` reads (its
    scope, its FilterSet, its search box)."""
    from orders.filters import OrderFilterSet
    from orders.models import Order
    from orders.selectors import order_search, scope_orders

    visible = scope_orders(Order.objects.for_tenant(tenant), actor)
    filtered = OrderFilterSet(params or None, queryset=visible, tenant=tenant).qs
    return order_search(filtered, params.get("q", ""), tenant=tenant)


def order_selection(*, tenant, actor, params: QueryDict) -> Selection:
    from orders.selectors import ORDER_SORT

    matches = order_matches(tenant=tenant, actor=actor, params=params)
    rows = matches.order_by(*ORDER_SORT)
    return Selection(ExportKind.ORDERS, rows, ORDER_COLUMNS, _("Orders"), matches, tenant)


def ledger_matches(*, tenant, actor, params: QueryDict) -> QuerySet:
    """The entries the Tích điểm page's ledger shows for ``params`` (its FilterSet), of the
    customers ``actor`` sees."""
    from customers.selectors import scope_customers
    from loyalty.forms import LedgerFilterSet
    from loyalty.models import PointEntry

    entries = scope_customers(PointEntry.objects.for_tenant(tenant), actor, path="customer__")
    return LedgerFilterSet(params or None, queryset=entries, tenant=tenant).qs


def ledger_selection(*, tenant, actor, params: QueryDict) -> Selection:
    from loyalty.selectors import LEDGER_ORDER

    matches = ledger_matches(tenant=tenant, actor=actor, params=params)
    rows = matches.order_by(*LEDGER_ORDER)
    return Selection(ExportKind.LEDGER, rows, LEDGER_COLUMNS, _("Point history"), matches,
                     tenant)


def selection_of(kind: str, *, tenant, actor, params: QueryDict, group=None) -> Selection:
    if kind in (ExportKind.CUSTOMERS, ExportKind.GROUP):
        return customer_selection(tenant=tenant, actor=actor, params=params, group=group)
    if kind == ExportKind.ORDERS:
        return order_selection(tenant=tenant, actor=actor, params=params)
    if kind == ExportKind.LEDGER:
        return ledger_selection(tenant=tenant, actor=actor, params=params)
    raise ValueError(f"unknown export kind {kind!r}")  # a programming error


def list_url(kind: str, params: QueryDict, group_id: int | None = None) -> str:
    """The list an export came from, with its query (the job page's way back)."""
    names = {ExportKind.CUSTOMERS: "customers:customer_list",
             ExportKind.ORDERS: "orders:order_list", ExportKind.LEDGER: "loyalty:program"}
    url = (reverse("groups:group_detail", kwargs={"pk": group_id}) if kind == ExportKind.GROUP
           else reverse(names[kind]))
    query = params.copy()
    query.pop("columns", None)
    return f"{url}?{query.urlencode()}" if query else url


# --- writing: .xlsx --------------------------------------------------------------------------

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
EXCEL_EPOCH = datetime.date(1899, 12, 30).toordinal()

# cellXfs of styles.xml, by position.
STYLE_HEADER, STYLE_DATE, STYLE_MONEY, STYLE_NUMBER, STYLE_DATETIME, STYLE_QUOTED = range(1, 7)
STYLES_XML = (
    XML_HEAD + f'<styleSheet xmlns="{MAIN_NS}">'
    '<numFmts count="3"><numFmt numFmtId="164" formatCode="dd/mm/yyyy"/>'
    '<numFmt numFmtId="165" formatCode="#,##0 &quot;₫&quot;"/>'
    '<numFmt numFmtId="166" formatCode="dd/mm/yyyy hh:mm"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
    '</cellStyleXfs><cellXfs count="7">'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="3" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="166" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" quotePrefix="1"/>'
    '</cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/>'
    '</cellStyles></styleSheet>')
CONTENT_TYPES_XML = (
    XML_HEAD + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.'
    'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.styles+xml"/></Types>')
ROOT_RELS_XML = (
    XML_HEAD + f'<Relationships xmlns="{PKG_REL_NS}">'
    f'<Relationship Id="rId1" Type="{REL_NS}/officeDocument" Target="xl/workbook.xml"/>'
    '</Relationships>')
WORKBOOK_RELS_XML = (
    XML_HEAD + f'<Relationships xmlns="{PKG_REL_NS}">'
    f'<Relationship Id="rId1" Type="{REL_NS}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{REL_NS}/styles" Target="styles.xml"/></Relationships>')

# Characters XML 1.0 cannot hold (written as Excel's _xHHHH_ escape, which Excel and
# calamine read back), a CR (a character reference: a parser would make it a line feed),
# and a text that readers would take for that escape (its "_" escaped).
_XML_SPECIAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\r]|_(?=x[0-9A-Fa-f]{4}_)")
_XML_REPLACE = {"\r": "&#13;"}
_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")


def _xml_special(match) -> str:
    char = match.group()
    return _XML_REPLACE.get(char) or f"_x{ord(char):04X}_"


# Anything that makes a text need more than the plain inline string: XML's own characters,
# what _XML_SPECIAL handles, a leading or trailing space, a formula's first character.
_NOT_PLAIN = re.compile(r"[&<>\x00-\x1f\ufffe\uffff]|_x[0-9A-Fa-f]{4}_|^[\s=+\-@]|\s$")


def _text_cell(ref: str, text: str) -> str:
    if not _NOT_PLAIN.search(text):  # most names, codes, phones
        return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'
    body = escape(text)
    if _XML_SPECIAL.search(body):
        body = _XML_SPECIAL.sub(_xml_special, body)
    space = ' xml:space="preserve"' if text[0].isspace() or text[-1].isspace() else ""
    # Excel's quote prefix: the cell shows as typed text and stays text when edited.
    style = f' s="{STYLE_QUOTED}"' if text[0] in FORMULA_START else ""
    return f'<c r="{ref}"{style} t="inlineStr"><is><t{space}>{body}</t></is></c>'


class XlsxWriter:
    """One sheet written row by row into a zip (``fileobj``), in bounded memory: a bold,
    frozen header row with a filter, widths from the first rows, inline strings (no shared
    string table to hold), numbers, dates."""

    def __init__(self, fileobj, columns: list[ExportColumn], sheet_name: str):
        self.zip = zipfile.ZipFile(fileobj, "w", zipfile.ZIP_DEFLATED,
                                   compresslevel=XLSX_COMPRESSION)
        self.columns = columns
        self.letters = [get_column_letter(i + 1) for i in range(len(columns))]
        self.number_styles = [STYLE_MONEY if c.kind == MONEY else STYLE_NUMBER
                              for c in columns]
        self.sheet_name = (_SHEET_NAME_BAD.sub(" ", sheet_name).strip() or "Sheet")[:31]
        self.headers = [str(c.label) for c in columns]
        self.widths = [len(h) + 4 for h in self.headers]  # room for the filter's arrow
        self.row_number = 1
        self.pending: list[str] = []  # rows held until the widths are known
        self.sheet = None

    def write(self, values: list) -> None:
        self.row_number += 1
        row = self._row(self.row_number, values)
        if self.sheet is not None:
            self.pending.append(row)
            if len(self.pending) >= 500:
                self._flush()
            return
        self.pending.append(row)
        self._measure(values)
        if len(self.pending) >= WIDTH_SAMPLE:
            self._start()

    def _row(self, number: int, values: list) -> str:
        cells = []
        suffix = str(number)
        for letter, style, value in zip(self.letters, self.number_styles, values, strict=True):
            if value is None or value == "":
                continue
            kind = type(value)
            if kind is str:
                cells.append(_text_cell(letter + suffix, value))
            elif kind is int or kind is Decimal or kind is float:
                cells.append(f'<c r="{letter}{suffix}" s="{style}"><v>{value}</v></c>')
            elif kind is datetime.date:
                cells.append(f'<c r="{letter}{suffix}" s="{STYLE_DATE}">'
                             f'<v>{value.toordinal() - EXCEL_EPOCH}</v></c>')
            elif kind is datetime.datetime:
                serial = (value.toordinal() - EXCEL_EPOCH + (
                    value.hour * 3600 + value.minute * 60 + value.second) / 86400)
                cells.append(f'<c r="{letter}{suffix}" s="{STYLE_DATETIME}">'
                             f'<v>{serial!r}</v></c>')
            else:
                cells.append(_text_cell(letter + suffix, str(value)))
        return f'<row r="{suffix}">{"".join(cells)}</row>'

    def _measure(self, values: list) -> None:
        for i, value in enumerate(values):
            if value is None:
                continue
            kind = type(value)
            if kind is datetime.date:
                width = 12
            elif kind is datetime.datetime:
                width = 17
            elif kind is str:
                width = max(len(line) for line in value.split("\n")) + 2
            else:
                width = len(f"{value:,}") + (4 if self.number_styles[i] == STYLE_MONEY else 2)
            if width > self.widths[i]:
                self.widths[i] = width

    def _start(self) -> None:
        cols = "".join(f'<col min="{i}" max="{i}" width="{min(w, 60)}" customWidth="1"/>'
                       for i, w in enumerate(self.widths, start=1))
        header = "".join(f'<c r="{letter}1" s="{STYLE_HEADER}" t="inlineStr"><is><t>'
                         f'{escape(text)}</t></is></c>'
                         for letter, text in zip(self.letters, self.headers, strict=True))
        self.sheet = self.zip.open("xl/worksheets/sheet1.xml", "w", force_zip64=True)
        self.sheet.write((
            XML_HEAD + f'<worksheet xmlns="{MAIN_NS}" xmlns:r="{REL_NS}">'
            '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" '
            'activePane="bottomLeft" state="frozen"/><selection pane="bottomLeft" '
            'activeCell="A2" sqref="A2"/></sheetView></sheetViews>'
            f'<sheetFormatPr defaultRowHeight="15"/><cols>{cols}</cols><sheetData>'
            f'<row r="1">{header}</row>').encode())
        self._flush()

    def _flush(self) -> None:
        self.sheet.write("".join(self.pending).encode())
        self.pending = []

    def abort(self) -> None:
        """Let go of the file after a failure (what was written is no workbook)."""
        with contextlib.suppress(Exception):
            if self.sheet is not None:
                self.sheet.close()
            self.zip.close()

    def close(self) -> None:
        if self.sheet is None:
            self._start()
        self._flush()
        last = get_column_letter(max(len(self.columns), 1))
        area = f"A1:{last}{self.row_number}"
        self.sheet.write(f'</sheetData><autoFilter ref="{area}"/></worksheet>'.encode())
        self.sheet.close()
        quoted = "'" + self.sheet_name.replace("'", "''") + "'"
        absolute = f"$A$1:${last}${self.row_number}"
        self.zip.writestr("xl/workbook.xml", (
            XML_HEAD + f'<workbook xmlns="{MAIN_NS}" xmlns:r="{REL_NS}">'
            '<bookViews><workbookView/></bookViews><sheets>'
            f'<sheet name={quoteattr(self.sheet_name)} sheetId="1" r:id="rId1"/></sheets>'
            '<definedNames><definedName name="_xlnm._FilterDatabase" localSheetId="0" '
            f'hidden="1">{escape(quoted)}!{absolute}</definedName></definedNames>'
            '</workbook>'))
        self.zip.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS_XML)
        self.zip.writestr("xl/styles.xml", STYLES_XML)
        self.zip.writestr("_rels/.rels", ROOT_RELS_XML)
        self.zip.writestr("[Content_Types].xml", CONTENT_TYPES_XML)
        self.zip.close()


# --- writing: .csv ---------------------------------------------------------------------------

BOM = "\ufeff"


def csv_cell(value):
    """dd/mm/yyyy dates, whole numbers without grouping, neutralised text."""
    if value is None:
        return ""
    kind = type(value)
    if kind is str:
        return neutralise(value)
    if kind is datetime.date:
        return f"{value.day:02d}/{value.month:02d}/{value.year}"
    if kind is datetime.datetime:
        return (f"{value.day:02d}/{value.month:02d}/{value.year} "
                f"{value.hour:02d}:{value.minute:02d}")
    if kind is Decimal and value == value.to_integral_value():
        return str(int(value))
    return str(value)


def csv_chunks(columns: list[ExportColumn], rows: Iterable[list],
               rows_per_chunk: int = 500) -> Iterator[str]:
    """The .csv as text chunks: a BOM (Excel then reads UTF-8), the headers, the rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([neutralise(str(c.label)) for c in columns])
    pending = 0
    yield BOM + buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    for row in rows:
        writer.writerow([csv_cell(v) for v in row])
        pending += 1
        if pending >= rows_per_chunk:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    if pending:
        yield buffer.getvalue()


def write_file(selection: Selection, fmt: str, fileobj,
               progress: Callable[[int], None] | None = None) -> int:
    """Write ``selection`` as ``fmt`` into ``fileobj`` (binary); ``progress(rows done)``
    every PROGRESS_EVERY rows. Returns the number of rows."""
    count = 0

    def counted():
        nonlocal count
        for values in selection.rows():
            yield values
            count += 1
            if progress is not None and count % PROGRESS_EVERY == 0:
                progress(count)

    with _heap_frozen():
        if fmt == ExportFormat.CSV:
            for chunk in csv_chunks(selection.columns, counted()):
                fileobj.write(chunk.encode())
        else:
            writer = XlsxWriter(fileobj, selection.columns, selection.title)
            try:
                for values in counted():
                    writer.write(values)
            except BaseException:
                writer.abort()
                raise
            writer.close()
    return count


@contextlib.contextmanager
def _heap_frozen():
    """The objects alive before the export left out of the garbage collector's full
    passes while it runs (``gc.freeze``): an export allocates a few objects per cell, and
    each full pass walked the whole process (Django, the app) again — 2.5 of 9 s of CPU
    for 100,000 customers. What the export itself allocates is collected as usual."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def file_name(selection: Selection, fmt: str) -> str:
    """khach-hang-20260115.xlsx: the title (a group: its name), folded, and the date."""
    stem = slugify(fold(selection.stem or selection.title)) or "export"
    return f"{stem}-{timezone.localdate():%Y%m%d}.{fmt}"


# --- the services ----------------------------------------------------------------------------

def _check(*, tenant, actor, fmt: str) -> None:
    access.require(actor, "export.run", tenant)
    if fmt not in ExportFormat.values:
        raise ValidationError(_("Unknown file format."))


def _respond(selection: Selection, fmt: str):
    """The file of a small export, from the request: the .csv streamed as it is read, the
    .xlsx written to a spooled temporary file (a zip needs its end before it is sent)."""
    name = file_name(selection, fmt)
    if fmt == ExportFormat.CSV:
        chunks = (chunk.encode() for chunk in csv_chunks(selection.columns, selection.rows()))
        response = StreamingHttpResponse(chunks, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    spooled = tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024)
    write_file(selection, fmt, spooled)
    spooled.seek(0)
    return FileResponse(spooled, as_attachment=True, filename=name, content_type=(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))


def _export(kind: str, *, tenant, actor, params: QueryDict, fmt: str, group=None):
    """A response with the file (up to EXPORT_STREAM_MAX_ROWS rows), or the queued job."""
    _check(tenant=tenant, actor=actor, fmt=fmt)
    if group is not None and group.tenant_id != tenant.pk:
        raise ValidationError(_("This choice belongs to another shop."))
    selection = selection_of(kind, tenant=tenant, actor=actor, params=params, group=group)
    _count, more = capped_count(selection.matches, cap=settings.EXPORT_STREAM_MAX_ROWS)
    if not more:
        return _respond(selection, fmt)
    query = params.copy()
    columns = query.pop("columns", [""])[-1]
    with transaction.atomic():
        job = ExportJob(
            tenant=tenant, kind=kind, format=fmt, created_by=actor.user,
            params={"query": query.urlencode(), "columns": columns,
                    "group": group.pk if group is not None else None,
                    "membership": actor.pk, "language": translation.get_language(),
                    "back": list_url(kind, params, group.pk if group is not None else None)},
            file_name=file_name(selection, fmt))
        job.full_clean()
        job.save()
        transaction.on_commit(functools.partial(_enqueue, job.pk))
    return job


def _enqueue(job_id: int) -> None:
    from .tasks import export_run

    export_run.delay(job_id)


def export_customers(*, tenant, actor, params: QueryDict, fmt: str):
    """The customer list as it is shown for ``params`` (its query string, plus ``columns``:
    "" the member's columns, "all" every exportable field): a response with the file, or
    the ExportJob when there are more than EXPORT_STREAM_MAX_ROWS rows."""
    return _export(ExportKind.CUSTOMERS, tenant=tenant, actor=actor, params=params, fmt=fmt)


def export_group(*, tenant, actor, group, params: QueryDict, fmt: str):
    """The group page's members list, as ``export_customers``."""
    return _export(ExportKind.GROUP, tenant=tenant, actor=actor, params=params, fmt=fmt,
                   group=group)


def export_orders(*, tenant, actor, params: QueryDict, fmt: str):
    return _export(ExportKind.ORDERS, tenant=tenant, actor=actor, params=params, fmt=fmt)


def export_ledger(*, tenant, actor, params: QueryDict, fmt: str):
    return _export(ExportKind.LEDGER, tenant=tenant, actor=actor, params=params, fmt=fmt)


def export_execute(export_id: int) -> None:
    """Write a queued export's file (the Celery task's body). Outside any long transaction:
    each progress write commits on its own, so the job page sees it."""
    job = ExportJob.objects.select_related("tenant", "created_by").filter(
        pk=export_id, state=ImportState.QUEUED).first()
    if job is None:
        return  # already run (a redelivered task) or gone
    ExportJob.objects.filter(pk=job.pk).update(state=ImportState.RUNNING)
    params = job.params
    try:
        with translation.override(params.get("language") or settings.LANGUAGE_CODE):
            count = _write_job(job, params)
    except (access.AccessDenied, ValidationError) as refused:
        _finish(job, ImportState.FAILED, message=" ".join(getattr(
            refused, "messages", [str(refused)])))
    except Exception:
        logger.exception("export %s failed", job.pk)
        _finish(job, ImportState.FAILED, message=_("The export failed. Try again later."))
    else:
        _finish(job, ImportState.DONE, done_rows=count)


def _write_job(job: ExportJob, params: dict) -> int:
    from groups.models import CustomerGroup

    tenant = job.tenant
    # The person who asked, as they are now (a member who left, or no longer a manager,
    # gets nothing).
    actor = Membership.objects.active().select_related("tenant", "user").filter(
        pk=params.get("membership"), tenant=tenant, user=job.created_by).first()
    access.require(actor, "export.run", tenant)
    group = None
    if job.kind == ExportKind.GROUP:
        group = CustomerGroup.objects.for_tenant(tenant).filter(pk=params.get("group")).first()
        if group is None:
            raise ValidationError(_("The group no longer exists."))
    query = QueryDict(params.get("query", ""), mutable=True)
    if params.get("columns"):
        query["columns"] = params["columns"]
    selection = selection_of(job.kind, tenant=tenant, actor=actor, params=query, group=group)
    total = selection.matches.order_by().count()
    ExportJob.objects.filter(pk=job.pk).update(total_rows=total)

    def progress(done: int) -> None:
        ExportJob.objects.filter(pk=job.pk).update(done_rows=min(done, total))

    with tempfile.TemporaryFile() as out:
        count = write_file(selection, job.format, out, progress)
        out.seek(0)
        job.file.save(job.file_name or file_name(selection, job.format), File(out),
                      save=False)
    ExportJob.objects.filter(pk=job.pk).update(file=job.file.name)
    return count


def _finish(job: ExportJob, state: str, *, message: str = "", done_rows: int | None = None):
    changes = {"state": state, "message": message, "finished_at": timezone.now()}
    if done_rows is not None:
        changes.update(done_rows=done_rows, total_rows=done_rows)
    ExportJob.objects.filter(pk=job.pk).update(**changes)


# --- reads for the job page ------------------------------------------------------------------

def export_jobs(*, tenant, user) -> QuerySet:
    """The exports one person asked for in one shop: nobody else's, no other shop's."""
    return ExportJob.objects.for_tenant(tenant).filter(created_by=user)


def export_progress(job: ExportJob) -> dict:
    """{"done", "total", "percent", "running", "finished"} for the progress bar."""
    total, done = job.total_rows, job.done_rows
    finished = job.state in (ImportState.DONE, ImportState.FAILED, ImportState.CANCELLED)
    percent = 100 if job.state == ImportState.DONE else (
        min(99, done * 100 // total) if total else 0)
    return {"done": done, "total": total, "percent": percent, "finished": finished,
            "running": job.state == ImportState.RUNNING}


def exports_purge(before: datetime.datetime) -> int:
    """Delete the exports asked for before ``before``, their files and their rows (every
    shop's: the nightly purge, imports.services.files_purge). Returns how many files went."""
    removed = 0
    old = ExportJob.objects.filter(created_at__lt=before)
    for job in old.only("pk", "file").iterator(chunk_size=200):
        if job.file:
            job.file.delete(save=False)
            removed += 1
    old.delete()
    return removed


# --- the buttons above the lists (imports.apps registers them) ------------------------------

_CHOICES = (
    crm_registry.ListActionItem(gettext_lazy("Excel (.xlsx)"), (("format", "xlsx"),),
                                "ti-file-spreadsheet"),
    crm_registry.ListActionItem(gettext_lazy("CSV (.csv)"), (("format", "csv"),),
                                "ti-file-text"),
)
_CUSTOMER_CHOICES = (
    crm_registry.ListActionItem(gettext_lazy("Excel (.xlsx), the columns shown"),
                                (("format", "xlsx"),), "ti-file-spreadsheet"),
    crm_registry.ListActionItem(gettext_lazy("CSV (.csv), the columns shown"),
                                (("format", "csv"),), "ti-file-text"),
    crm_registry.ListActionItem(gettext_lazy("Excel (.xlsx), every field (to import back)"),
                                (("format", "xlsx"), ("columns", "all")), "ti-table-export"),
)
LIST_ACTIONS = [
    crm_registry.ListAction("export_customers", "customers", gettext_lazy("Export to Excel"),
                            "imports:export_customers", "ti-download", "export.run",
                            _CUSTOMER_CHOICES),
    crm_registry.ListAction("export_group", "group", gettext_lazy("Export to Excel"),
                            "imports:export_group", "ti-download", "export.run",
                            _CUSTOMER_CHOICES),
    crm_registry.ListAction("export_orders", "orders", gettext_lazy("Export to Excel"),
                            "imports:export_orders", "ti-download", "export.run", _CHOICES),
    crm_registry.ListAction("export_ledger", "ledger", gettext_lazy("Export to Excel"),
                            "imports:export_ledger", "ti-download", "export.run", _CHOICES),
]
