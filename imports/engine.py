"""The customer importer: rows of a sheet -> validated records -> one set-based write.

One code path for the preview (``dry_run``: everything but the write), the run, the
management command and the bench:

1. **parse**: each mapped cell through the reader its field names (``FieldIO.parse``, read by
   ``imports.values``); an error is kept with its row and column, in words. A large file's
   last rows are parsed by a second process meanwhile (``imports.parallel``);
2. **in-file duplicates**: rows sharing a normalized phone, an email or a code are one
   person: shown, and merged by the chosen rule;
3. **match**: by code (this shop's code, or a merged customer's old code), else phone, else
   email — a handful of set queries, never one per row; a row whose code and contacts point
   at two customers is refused;
4. **compare**: a matched row whose values are already stored is "unchanged";
5. **write** (the run only), in one transaction: new customers by ``COPY`` on PostgreSQL,
   each row made as the ``COPY`` sends it (``bulk_create`` elsewhere), the name index's
   pending list left to a task after commit (``customers.search_index``), their phones,
   emails and tags; changed ones by bulk updates;
   which import each came from (``ImportedCustomer``); the apps' hooks (loyalty's opening
   balance); ``customers_bulk_changed`` so that groups recompute.

Another shop's customers are never read or touched: every query names the tenant.
"""

import datetime
import functools
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.db.models import BooleanField, Max
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext as _

from crm import access
from crm.audit import audit_record
from crm.models import AuditLog, TenantSequence
from customers.fields import get_field, io_fields
from customers.models import (
    CareStatus,
    Customer,
    CustomerAlias,
    CustomerEmail,
    CustomerPhone,
    CustomerTag,
    MembershipState,
    Source,
    Tag,
    TagGroup,
)
from customers.normalize import fold
from customers.search_index import defer_name_index
from customers.services.records import CUSTOMER_CODE_PREFIX, customer_code
from customers.signals import customers_bulk_changed

from . import parallel, values
from .models import DuplicateRule, EmptyCells, ImportedCustomer, ImportMode, MatchMode

CHUNK = 5000  # rows between progress reports and cancel checks; rows per set query
ERRORS_KEPT = 500  # errors kept on the job for the screen (the workbook has every row)

NAME_PARTS = ("last_name", "first_name")  # family name first when joined
# Targets that may fill from several columns ("Điện thoại 1", "Điện thoại 2").
MULTI_COLUMN = {"phone", "email", "tags"}


class CancelledError(Exception):
    """The manager pressed Hủy: the transaction is rolled back."""


@dataclass
class Options:
    mode: str = ImportMode.ALL_OR_NOTHING
    match: str = MatchMode.BOTH
    empty: str = EmptyCells.IGNORE
    duplicates: str = DuplicateRule.MERGE
    date_orders: dict = field(default_factory=dict)  # {column index: "dmy" | "mdy"}

    @classmethod
    def from_dict(cls, data: dict | None) -> "Options":
        data = data or {}
        return cls(
            mode=data.get("mode") or ImportMode.ALL_OR_NOTHING,
            match=data.get("match") or MatchMode.BOTH,
            empty=data.get("empty") or EmptyCells.IGNORE,
            duplicates=data.get("duplicates") or DuplicateRule.MERGE,
            date_orders={int(k): v for k, v in (data.get("date_orders") or {}).items() if v})

    def as_dict(self) -> dict:
        return {"mode": self.mode, "match": self.match, "empty": self.empty,
                "duplicates": self.duplicates,
                "date_orders": {str(k): v for k, v in self.date_orders.items()}}


@dataclass
class RowError:
    row: int
    column: str
    message: str

    def text(self) -> str:
        if self.column:
            return _("Row %(row)d, column %(column)s: %(message)s") % {
                "row": self.row, "column": self.column, "message": self.message}
        return _("Row %(row)d: %(message)s") % {"row": self.row, "message": self.message}

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "message": self.message}


@dataclass
class Summary:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0  # matched in "create only", or matched nobody in "update only"
    errors: list = field(default_factory=list)  # RowError, every one
    duplicates: list = field(default_factory=list)  # [[row numbers]] of one person
    new_tags: list = field(default_factory=list)  # tag names the import creates
    new_sources: list = field(default_factory=list)
    written: bool = False
    duration: float = 0.0

    @property
    def rejected_rows(self) -> set:
        return {e.row for e in self.errors}

    @property
    def rejected(self) -> int:
        return len(self.rejected_rows)

    @property
    def valid(self) -> int:
        return self.rows - self.rejected

    def counts(self) -> dict:
        return {"rows": self.rows, "valid": self.valid, "rejected": self.rejected,
                "created": self.created, "updated": self.updated,
                "unchanged": self.unchanged, "skipped": self.skipped,
                "duplicates": sum(len(g) - 1 for g in self.duplicates),
                "new_tags": len(self.new_tags), "new_sources": len(self.new_sources)}

    def as_json(self) -> dict:
        return {**self.counts(), "written": self.written,
                "duration": round(self.duration, 3),
                "errors": [e.as_dict() for e in self.errors],
                "duplicate_rows": self.duplicates, "tags_created": self.new_tags,
                "sources_created": self.new_sources}


@dataclass(slots=True)
class Record:
    """One row (or several rows of one person, merged) as values ready to write (slots:
    made 100,000 times, read millions of times)."""

    row: int
    rows: list  # every file row merged into this record
    data: dict = field(default_factory=dict)  # field key -> parsed value (None: empty cell)
    phones: list = field(default_factory=list)  # [(as written, E.164)]
    emails: list = field(default_factory=list)
    tags: list = field(default_factory=list)  # [(tag group pk or None, name)]
    tag_columns: set = field(default_factory=set)  # "tags" / "tags:<pk>" columns present
    code: str = ""
    # The tag groups the row's tag cells named (None: the plain tags column), read before
    # ``_changes`` drops the tags the customer already holds ("empty cells clear" only
    # clears a column whose cell was empty).
    named_groups: set | None = None
    customer_id: int | None = None  # the matched customer
    number: int | None = None  # a new customer's number
    # A matched customer's columns the row changes: stored values and the row's (_changes).
    before: dict | None = None
    after: dict | None = None


# --- 1. parsing -----------------------------------------------------------------------------

@dataclass
class Column:
    index: int
    header: str
    target: str
    key: str = ""  # the field key: the target without its ":<tag group>" (read per cell)

    def __post_init__(self):
        self.key = self.target.split(":", 1)[0]


class Resolver:
    """The shop's lists, read once: relations by name, tags by (group, name)."""

    def __init__(self, tenant):
        self.tenant = tenant
        self.lookups = {}
        for entry in io_fields(tenant, importable=True):
            if entry.io.parse == "relation" and entry.io.lookup is not None:
                self.lookups[entry.key] = entry.io.lookup(tenant)
        self.groups = {g.pk: g for g in TagGroup.objects.for_tenant(tenant)}
        self.tags = {}  # (group pk, folded name) -> Tag; (None, folded) -> first of that name
        for tag in Tag.objects.for_tenant(tenant).order_by("group_id", "position", "id"):
            self.tags.setdefault((tag.group_id, fold(tag.name)), tag)
            self.tags.setdefault((None, fold(tag.name)), tag)
            if tag.group_id:
                self.tags.setdefault(
                    (None, fold(f"{self.groups[tag.group_id].name} › {tag.name}")), tag)
        self.membership = {}
        for value, label in MembershipState.choices:
            self.membership[fold(str(label))] = value
            self.membership[value] = value
        with_vi = {"khach vang lai": MembershipState.GUEST, "tam thoi": MembershipState.PENDING,
                   "chinh thuc": MembershipState.ACTIVE, "da huy": MembershipState.CANCELLED,
                   "thanh vien": MembershipState.ACTIVE, "cho duyet": MembershipState.PENDING}
        for key, value in with_vi.items():
            self.membership.setdefault(key, value)

    def relation(self, key: str, text: str):
        row = self.lookups.get(key, {}).get(fold(text))
        if row is None and key == "source" and "›" not in text and ">" in text:
            row = self.lookups[key].get(fold(text.replace(">", "›")))
        return row


def _columns(headers: list, mapping: list) -> list[Column]:
    return [Column(i, headers[i] if i < len(headers) else "", target)
            for i, target in enumerate(mapping) if target]


# Parse kinds read cell by cell: their cells are nearly all different (a memo would only
# cost). Every other kind is read once per distinct cell of its column.
UNIQUE_KINDS = frozenset({"phone", "email", "code", "name"})
MEMO_MAX = 50_000  # distinct cells remembered per column


class Parser:
    """Reads the mapped cells of each row into a Record.

    Each column gets its reader once, from its field's parse kind: the row loop calls it
    with the cell and nothing is decided again per cell (100,000 rows of 15 columns are
    1.5 million cells). A reader checks the cell's length, sees an empty cell, reads the
    value — once per distinct cell for the columns that repeat (genders, dates, provinces,
    tags, sources...) — and puts it on the record."""

    def __init__(self, headers, mapping, options: Options, resolver: Resolver):
        self.columns = _columns(headers, mapping)
        self.options = options
        self.resolver = resolver
        self.max_chars = settings.IMPORT_MAX_CELL_CHARS
        self.plan = [(c.index, c.header, self._reader(c)) for c in self.columns]
        self.parts = any(c.key in NAME_PARTS for c in self.columns)

    def parse(self, number: int, cells: list, errors: list) -> Record | None:
        record = Record(row=number, rows=[number])
        size = len(cells)
        failed = False
        for index, header, read in self.plan:
            try:
                read(record, cells[index] if index < size else None)
            except values.CellError as exc:
                errors.append(RowError(number, header, str(exc)))
                failed = True
        if self.parts:
            data = record.data
            joined = " ".join(p for p in (data.pop("last_name", ""), data.pop("first_name", ""))
                              if p)
            if data.get("name") is None:
                data["name"] = joined or None
        return None if failed else record

    def _reader(self, column: Column) -> Callable:
        key = column.key
        entry = get_field(key)
        kind = entry.io.parse if entry else ""
        value_of, apply, empty = self._kind(column, key, entry, kind)
        memo = None if kind in UNIQUE_KINDS or key in NAME_PARTS else {}
        max_chars = self.max_chars
        too_long = _("the cell is longer than %(n)d characters") % {"n": max_chars}

        def read(record: Record, raw) -> None:
            if raw is None:
                empty(record)
                return
            if raw.__class__ is str:
                if len(raw) > max_chars:
                    raise values.CellError(too_long)
                # Most cells begin with a visible character: they are not blank, and the
                # full test (a strip, a pattern) is for the others.
                first = raw[:1]
                if not (first and first != " " and first.isprintable()) and values.is_blank(raw):
                    empty(record)
                    return
            if memo is None:
                apply(record, value_of(raw))
                return
            # (type, value) for cells that are not text: 1, 1.0 and True are equal keys
            # but different cells.
            seen = raw if raw.__class__ is str else (raw.__class__, raw)
            hit = memo.get(seen)
            if hit is None:
                try:
                    hit = (value_of(raw), None)
                except values.CellError as exc:
                    hit = (None, str(exc))
                if len(memo) < MEMO_MAX:
                    memo[seen] = hit
            if hit[1] is not None:
                raise values.CellError(hit[1])
            apply(record, hit[0])

        return read

    def _kind(self, column: Column, key: str, entry, kind: str) -> tuple:
        """(the value of a cell, how it goes on the record, what an empty cell does)."""

        def set_value(record, value):
            record.data[key] = value

        def set_empty(record):
            record.data.setdefault(key, None)

        def set_no_part(record):
            record.data[key] = ""

        text = values.cell_text
        order = self.options.date_orders.get(column.index, "dmy")
        if key in NAME_PARTS:
            return ((lambda raw: values.clean_name(raw, max_length=self.max_chars)),
                    set_value, set_no_part)
        if key == "tags":
            target, group = column.target, tag_group_of(column.target)

            def tags_of(raw):
                return tuple((group, name) for name in values.split_tags(text(raw)))

            def add_tags(record, found):
                record.tag_columns.add(target)
                record.tags.extend(found)

            return tags_of, add_tags, lambda record: record.tag_columns.add(target)
        if kind == "phone":
            def add_phones(record, pairs):
                for pair in pairs:
                    if all(pair[1] != n for _r, n in record.phones):
                        record.phones.append(pair)

            return values.parse_phones, add_phones, _nothing
        if kind == "email":
            def add_emails(record, emails):
                for email in emails:
                    if email not in record.emails:
                        record.emails.append(email)

            return values.parse_emails, add_emails, _nothing
        if kind == "code":
            def set_code(record, code):
                record.code = code

            return (lambda raw: values.clean_text(text(raw), max_length=40).upper(),
                    set_code, set_empty)
        if kind == "name":
            def name_of(raw):
                name = values.clean_name(raw, max_length=self.max_chars)
                if len(name) > 200:
                    raise values.CellError(_("longer than %(n)d characters") % {"n": 200})
                return name

            return name_of, set_value, set_empty
        if kind == "gender":
            return values.parse_gender, set_value, set_empty
        if kind == "birthday":
            today = timezone.localdate()
            return ((lambda raw: values.parse_birthday(raw, order, today)), set_value,
                    set_empty)
        if kind == "date":
            return (lambda raw: values.parse_date(raw, order)), set_value, set_empty
        if kind == "province":
            return _province, set_value, set_empty
        if kind == "tax_code":
            return values.parse_tax_code, set_value, set_empty
        if kind == "national_id":
            return values.parse_national_id, set_value, set_empty
        if kind == "relation":
            return self._relation(key, entry), set_value, set_empty
        if kind == "choice":
            return self._choice, set_value, set_empty
        if kind == "points":
            return values.parse_int, set_value, set_empty
        # a plain text column
        limit = (entry.io.max_length or Customer._meta.get_field(entry.path).max_length
                 or self.max_chars)
        return (lambda raw: values.clean_text(text(raw), max_length=limit)), set_value, set_empty

    def _relation(self, key: str, entry) -> Callable:
        def relation_of(raw):
            name = values.clean_text(values.cell_text(raw))
            row = self.resolver.relation(key, name)
            if row is None and key in ("source", "care_status"):
                return ("new", name)  # created by the run (a source under "Khác")
            if row is None:
                raise values.CellError(_("%(value)s is not among the shop's %(what)s") % {
                    "value": name, "what": str(entry.label).lower()})
            return row

        return relation_of

    def _choice(self, raw):
        name = values.clean_text(values.cell_text(raw))
        value = self.resolver.membership.get(fold(name))
        if value is None:
            allowed = ", ".join(str(label) for _v, label in MembershipState.choices)
            raise values.CellError(_("%(value)s is not one of: %(allowed)s") % {
                "value": name, "allowed": allowed})
        return value


# A large file's rows are read in two processes (imports.parallel): the second one takes
# the last part, smaller, as it also pickles its records for the first.
PARALLEL_MIN_ROWS = 20_000
HELPER_SHARE = 0.4


def parse_rows(parser: Parser, rows: list, errors: list, report: Callable,
               stop: Callable) -> list[Record]:
    """The records of ``rows``, in the rows' order; a row with an error makes none and its
    errors go to ``errors``, in the rows' order too. Reports progress; raises
    CancelledError."""
    total = len(rows)
    helper, split = None, total
    if total >= PARALLEL_MIN_ROWS:
        split = total - int(total * HELPER_SHARE)
        helper = parallel.Helper.start(functools.partial(_parse_part, parser), rows[split:])
    if helper is None:
        split = total
    records = []
    try:
        for i, (number, cells) in enumerate(rows[:split], 1):
            record = parser.parse(number, cells, errors)
            if record is not None:
                records.append(record)
            if i % CHUNK == 0:
                report("checking", i * total // split, total)
                if stop():
                    raise CancelledError
    except BaseException:
        if helper is not None:
            helper.stop()
        raise
    if helper is not None:
        part = helper.result() or _parse_part(parser, rows[split:])
        records += part[0]
        errors += part[1]
    return records


def _parse_part(parser: Parser, rows: list) -> tuple[list, list]:
    errors = []
    records = [parser.parse(number, cells, errors) for number, cells in rows]
    return [r for r in records if r is not None], errors


def _nothing(record: Record) -> None:
    """An empty phone, email or tags cell: nothing to keep (another column may fill)."""


def _province(raw):
    from .provinces import province_of

    name = values.clean_text(values.cell_text(raw))
    code, was_old = province_of(name)
    if code is None:
        raise values.CellError(_("%(value)s is not a province or city of Vietnam")
                               % {"value": name})
    return (code, name if was_old else "")


# --- 2. in-file duplicates ------------------------------------------------------------------

def tag_group_of(target: str) -> int | None:
    """The tag group of a tags column: "tags:<pk>" -> pk, "tags" (every group) -> None."""
    return int(target.split(":", 1)[1]) if ":" in target else None


def empty_tag_columns(record: Record, named: set) -> list:
    """The row's tag columns left empty, as their groups (None: the general column, empty
    when the row names no tag at all); ``named``: the groups the row names tags of."""
    return [group for group in map(tag_group_of, record.tag_columns)
            if group not in named and not (group is None and named)]


def _identity_keys(record: Record) -> list[str]:
    keys = [f"p:{n}" for _r, n in record.phones] + [f"e:{e}" for e in record.emails]
    if record.code:
        keys.append(f"c:{record.code}")
    return keys


def group_duplicates(records: list[Record]) -> list[list[Record]]:
    """Records of one person (a shared phone, email or code, transitively), in file order."""
    parent = list(range(len(records)))

    def root(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    seen = {}
    for i, record in enumerate(records):
        for key in _identity_keys(record):
            if key in seen:
                a, b = root(i), root(seen[key])
                if a != b:
                    parent[max(a, b)] = min(a, b)
            else:
                seen[key] = i
    groups = defaultdict(list)
    for i, record in enumerate(records):
        groups[root(i)].append(record)
    return list(groups.values())


def merge_group(group: list[Record], rule: str) -> Record:
    if len(group) == 1:
        return group[0]
    if rule == DuplicateRule.FIRST:
        kept = group[0]
    elif rule == DuplicateRule.LAST:
        kept = group[-1]
    else:
        kept = Record(row=group[0].row, rows=[])
        for record in group:
            for key, value in record.data.items():
                if kept.data.get(key) is None:
                    kept.data[key] = value
            kept.phones += [p for p in record.phones if p[1] not in {n for _r, n in kept.phones}]
            kept.emails += [e for e in record.emails if e not in kept.emails]
            kept.tags += [t for t in record.tags if t not in kept.tags]
            kept.tag_columns |= record.tag_columns
            kept.code = kept.code or record.code
    kept.rows = [r.row for r in group]
    return kept


# --- 3. matching ----------------------------------------------------------------------------

def _chunks(items: list, size: int = CHUNK):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _among(queryset, column: str, keys):
    """``queryset`` narrowed to the rows whose ``column`` is one of ``keys``, as one or more
    querysets. On PostgreSQL one statement with the keys as one array parameter of the
    column's type (``= ANY(%s::bigint[])``): ``__in`` binds a placeholder per key, which the
    ORM, psycopg's client-side binding and the planner pay for per key; and psycopg sends
    ints as integer[], while bigint = integer is a cross-type operator PostgreSQL cannot
    hash, so a plan that filters the shop's rows by the array (the shop's statistics not
    yet counting the rows just written) compared every row with every key: 23 s for
    98,000 ids. Elsewhere ``__in`` by chunks."""
    keys = list(keys)
    if not keys:
        return
    if connection.vendor == "postgresql":
        model = queryset.model
        field = model._meta.get_field(column)
        # The table, column and type come from the model; the keys are a parameter.
        sql = (f'"{model._meta.db_table}"."{field.column}" = '
               f"ANY(%s::{field.db_type(connection)}[])")
        yield queryset.filter(RawSQL(sql, (array_text(keys),),  # noqa: S611
                                     output_field=BooleanField()))
        return
    for chunk in _chunks(keys):
        yield queryset.filter(**{f"{column}__in": chunk})


def array_text(keys: list) -> str:
    """``keys`` (all ints or all strs) as a PostgreSQL array's text, for a ``%s::type[]``
    parameter: psycopg dumps a list element by element (0.3 s for 100,000 keys, sent by
    each of a re-import's lookups), the server casts one text much faster. Texts are
    always quoted, their backslashes and double quotes escaped: a comma, a brace, a space
    or the word NULL inside is a plain character."""
    if all(type(k) is int for k in keys):
        return "{" + ",".join(map(str, keys)) + "}"
    return "{" + ",".join('"' + k.replace("\\", "\\\\").replace('"', '\\"') + '"'
                          for k in keys) + "}"


def _code_number(code: str) -> int | None:
    """The number of a code of this software's form (KH000123), else None."""
    digits = code[len(CUSTOMER_CODE_PREFIX):]
    if code.startswith(CUSTOMER_CODE_PREFIX) and digits.isdigit() and len(digits) <= 12:
        number = int(digits)
        return number if number and customer_code(number) == code else None
    return None


class Matcher:
    def __init__(self, tenant, records: list[Record]):
        self.tenant = tenant
        codes = sorted({r.code for r in records if r.code})
        phones = sorted({n for r in records for _r, n in r.phones})
        emails = sorted({e for r in records for e in r.emails})
        self.by_code, self.by_phone, self.by_email = {}, {}, {}
        self.names = {}
        customers = Customer.objects.for_tenant(tenant)
        self.empty = not customers.exists()
        if self.empty:
            return  # a new shop's first import: nobody to match, no lookups to make
        for part in _among(customers, "code", codes):
            self.by_code.update(part.values_list("code", "id"))
        for part in _among(CustomerAlias.objects.for_tenant(tenant), "code", codes):
            self.by_code.update(part.values_list("code", "customer_id"))
        for part in _among(CustomerPhone.objects.for_tenant(tenant), "normalized", phones):
            self.by_phone.update(part.values_list("normalized", "customer_id"))
        for part in _among(CustomerEmail.objects.for_tenant(tenant), "email", emails):
            self.by_email.update(part.values_list("email", "customer_id"))
        ids = set(self.by_code.values())
        for part in _among(customers, "id", sorted(ids)):
            self.names.update(part.values_list("id", "search_name"))

    def match(self, record: Record, errors: list, header_of: dict) -> None:
        if self.empty:
            return
        by_contact = {}
        for _raw, number in record.phones:
            if number in self.by_phone:
                by_contact.setdefault(self.by_phone[number], ("phone", number))
        for email in record.emails:
            if email in self.by_email:
                by_contact.setdefault(self.by_email[email], ("email", email))
        code_id = self.by_code.get(record.code) if record.code else None
        owners = set(by_contact)
        if code_id is not None:
            if owners and owners != {code_id}:
                errors.append(RowError(record.row, header_of.get("code", ""), _(
                    "code %(code)s is another customer than the one with this phone or email")
                    % {"code": record.code}))
                return
            name = record.data.get("name")
            if not owners and name and fold(name) != self.names.get(code_id):
                errors.append(RowError(record.row, header_of.get("code", ""), _(
                    "code %(code)s belongs to another customer of the shop (another name, "
                    "and no phone or email of theirs in the row): check the code column")
                    % {"code": record.code}))
                return
            record.customer_id = code_id
            return
        if len(owners) > 1:
            errors.append(RowError(record.row, header_of.get("phone", ""), _(
                "the phones and emails of this row belong to %(n)d different customers")
                % {"n": len(owners)}))
            return
        if owners:
            # phone first, then email: one owner anyway
            record.customer_id = next(iter(owners))


# --- 4. comparing and writing ---------------------------------------------------------------

# Field key -> the Customer columns it sets.
COLUMNS = {"name": ("full_name",), "company": ("company",), "tax_code": ("tax_code",),
           "national_id": ("national_id",), "gender": ("gender",),
           "birthday": ("birth_day", "birth_month", "birth_year"),
           "province": ("province_code", "legacy_address"), "street": ("street",),
           "legacy_address": ("legacy_address",), "note": ("note",),
           "care_status": ("care_status_id",), "membership": ("membership_state",),
           "staff": ("assigned_staff_id",), "collaborator": ("collaborator_id",),
           "source": ("source_id",), "created": ("created_at",)}


def _empty_values(key: str) -> dict:
    """The Customer columns an empty cell of field ``key`` clears."""
    if key == "province":  # the old-address text stays: it may come from its own column
        return {"province_code": None}
    empty = {"full_name": None, "created_at": None, "membership_state": None}
    return {c: (None if c.endswith("_id") or c in ("birth_day", "birth_month",
                                                      "birth_year", "province_code")
                else "") for c in COLUMNS[key] if c not in empty}


def _province_values(value) -> dict:
    code, old_text = value
    return {"province_code": code, **({"legacy_address": old_text} if old_text else {})}


@functools.lru_cache(maxsize=4096)
def _noon(day: datetime.date) -> datetime.datetime:
    """A "created" date as a time: noon in the site's time zone (settings.TIME_ZONE, never
    switched per request); a file's rows share their dates."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))


def _relation_values(key: str):
    """A relation's column: the row's key, or a source / care status the run is to create,
    ("new", name), as is (``_changes`` lists it; ``_update`` writes the row made for it)."""
    column = COLUMNS[key][0]

    def values(value) -> dict:
        return {column: value if isinstance(value, tuple) else value.pk}

    return values


# The fields whose value is not their one column's value as is.
_VALUES = {
    "birthday": lambda value: dict(zip(COLUMNS["birthday"], value, strict=True)),
    "province": _province_values,
    **{key: _relation_values(key) for key in ("care_status", "staff", "collaborator", "source")},
    "created": lambda value: {"created_at": _noon(value)},
}


# What a new customer's row holds, in the order Writer.create makes it (the id first on
# PostgreSQL, from the sequence).
NEW_CUSTOMER_COLUMNS = (
    "tenant_id", "number", "code", "full_name", "search_name", "avatar", "company", "tax_code",
    "phone", "phone_normalized", "email", "gender", "birth_day", "birth_month", "birth_year",
    "national_id", "country", "province_code", "ward_code", "street", "legacy_address", "note",
    "source_id", "referrer_id", "assigned_staff_id", "collaborator_id", "care_status_id",
    "lifecycle_stage", "membership_state", "created_by_id", "updated_by_id", "created_at",
    "updated_at")


def record_columns(record: Record, options: Options, creating: bool) -> dict:
    """The Customer columns the record sets."""
    out = {}
    keep_empty = not creating and options.empty == EmptyCells.CLEAR
    for key, value in record.data.items():
        cols = COLUMNS.get(key)
        if cols is None:
            continue
        if value is None:
            if keep_empty:
                out.update(_empty_values(key))
            continue
        special = _VALUES.get(key)
        if special is None:
            out[cols[0]] = value
        else:
            out.update(special(value))
    return out


def _comparable(value, zone):
    """A value as the file can say it: a time by its date in ``zone`` (the current time
    zone, read once by the caller: ``timezone.localdate`` looks it up at each call)."""
    if isinstance(value, datetime.datetime):
        return value.astimezone(zone).date()
    return value


class Writer:
    """Resolves what the run creates (tags, sources) and writes the records."""

    def __init__(self, tenant, actor, options: Options, resolver: Resolver):
        self.tenant, self.options = tenant, options
        self.resolver = resolver
        self.user = access.user_of(actor)
        self.folds = {}  # tag name -> folded: a file names a few tags many times

    # New list entries -----------------------------------------------------------------------
    def planned_new(self, records: list[Record]) -> tuple[list, list]:
        tags, sources, planned = [], [], set()
        for record in records:
            for group, name in record.tags:
                if self._tag(group, name) is None:
                    key = (group, self._fold(name))
                    if key not in planned:  # a set, not rebuilt for each of 58,000 tags
                        planned.add(key)
                        tags.append((group, name))
            source = record.data.get("source")
            if isinstance(source, tuple) and source[1] not in sources:
                sources.append(source[1])
        return tags, sources

    def _fold(self, name: str) -> str:
        folded = self.folds.get(name)
        if folded is None:
            folded = self.folds[name] = fold(name)
        return folded

    def _tag(self, group, name):
        return self.resolver.tags.get((group, self._fold(name)))

    def create_lists(self, records: list[Record]) -> None:
        """Tags and sources the file names that the shop does not have yet (the preview
        listed them), and the relation placeholders replaced by rows."""
        new_tags, new_sources = self.planned_new(records)
        for group, name in new_tags:
            tag = Tag.objects.create(tenant=self.tenant, group_id=group, name=name[:100],
                                     position=1000)
            self.resolver.tags[(group, fold(name))] = tag
            self.resolver.tags.setdefault((None, fold(name)), tag)
        other = Source.objects.for_tenant(self.tenant).filter(code="other",
                                                              parent=None).first()
        created_sources = {}
        for name in new_sources:
            created_sources[name] = Source.objects.create(
                tenant=self.tenant, parent=other, name=name[:100], position=1000)
        created_status = {}
        for record in records:
            if isinstance(record.data.get("source"), tuple):
                record.data["source"] = created_sources[record.data["source"][1]]
            status = record.data.get("care_status")
            if isinstance(status, tuple):
                if status[1] not in created_status:
                    created_status[status[1]] = CareStatus.objects.create(
                        tenant=self.tenant, name=status[1][:100], position=1000)
                record.data["care_status"] = created_status[status[1]]

    def excel_source(self) -> Source:
        source = Source.objects.for_tenant(self.tenant).filter(code="excel").first()
        if source is None:
            other = Source.objects.for_tenant(self.tenant).filter(code="other",
                                                                  parent=None).first()
            source = Source.objects.create(tenant=self.tenant, parent=other, code="excel",
                                           name=_("Excel import"), position=1000)
        return source

    # Creating -------------------------------------------------------------------------------
    def number_new(self, records: list[Record]) -> None:
        """Codes of this software's form (KH000123) past every number the shop has issued
        keep their number (a shop moving from a system with the same codes keeps them);
        the others get the shop's next numbers. The sequence then stands past every
        number used, so a code is never issued twice — not even one whose customer is
        gone."""
        TenantSequence.objects.get_or_create(tenant=self.tenant, name="customer")
        seq = TenantSequence.objects.select_for_update().get(tenant=self.tenant,
                                                             name="customer")
        top = Customer.objects.for_tenant(self.tenant).aggregate(m=Max("number"))["m"] or 0
        issued = max(seq.last_value, top)
        taken = set()
        for record in records:
            number = _code_number(record.code)
            if number and number > issued and number not in taken:
                record.number = number
                taken.add(number)
        others = [r for r in records if r.number is None]
        start = max(issued, max(taken, default=0)) + 1
        for offset, record in enumerate(others):
            record.number = start + offset
        seq.last_value = max(start + len(others) - 1, issued, max(taken, default=0))
        seq.save(update_fields=["last_value"])

    def create(self, records: list[Record], progress: Callable) -> dict:
        """Insert ``records`` as new customers; returns {number: id}."""
        self.number_new(records)
        source_pk = self.excel_source().pk
        now = timezone.now()
        user_pk = self.user.pk if self.user else None
        tenant_pk, options = self.tenant.pk, self.options
        guest = MembershipState.GUEST

        def row(record: Record) -> tuple:
            cols = record_columns(record, options, creating=True)
            get = cols.get
            phone = record.phones[0] if record.phones else ("", "")
            name = get("full_name") or ""
            return (tenant_pk, record.number, customer_code(record.number), name, fold(name),
                    "", get("company", ""), get("tax_code", ""), phone[0], phone[1],
                    record.emails[0] if record.emails else "", get("gender", ""),
                    get("birth_day"), get("birth_month"), get("birth_year"),
                    get("national_id", ""), "VN", get("province_code"), None,
                    get("street", ""), get("legacy_address", ""), get("note", ""),
                    get("source_id") or source_pk, None, get("assigned_staff_id"),
                    get("collaborator_id"), get("care_status_id"), "new",
                    get("membership_state") or guest, user_pk, user_pk,
                    get("created_at") or now, now)

        if connection.vendor == "postgresql" and records:
            defer_name_index(len(records))
            # The new rows' ids taken from their sequence first (rather than read back by
            # number after the COPY), and the rows made while the COPY sends them: the
            # database writes (its indexes) while this process builds the next rows.
            with connection.cursor() as cursor:
                # The sequence's name looked up once: inside nextval() the lookup ran
                # for every row (0.8 s of 100,000 ids, 0.1 s without).
                cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')",
                               [Customer._meta.db_table])
                cursor.execute("SELECT nextval(%s::regclass) FROM generate_series(1, %s)",
                               [cursor.fetchone()[0], len(records)])
                for record, (pk,) in zip(records, cursor.fetchall(), strict=True):
                    record.customer_id = pk
            copy_rows(Customer, ("id", *NEW_CUSTOMER_COLUMNS),
                      ((r.customer_id, *row(r)) for r in records), progress)
            return {r.number: r.customer_id for r in records}
        insert_rows(Customer, [dict(zip(NEW_CUSTOMER_COLUMNS, row(r), strict=True))
                               for r in records], progress)
        ids = {}
        numbers = [r.number for r in records]
        for part in _among(Customer.objects.for_tenant(self.tenant), "number", numbers):
            ids.update(part.values_list("number", "id"))
        for record in records:
            record.customer_id = ids[record.number]
        return ids

    def contacts(self, records: list[Record], held: dict) -> None:
        """Phones and emails the customers do not hold yet (a new customer's first phone and
        email are primary)."""
        tenant_pk = self.tenant.pk

        def phones():
            for record in records:
                primary = not held.get(record.customer_id, (False, False))[0]
                for i, (raw, number) in enumerate(record.phones):
                    yield (tenant_pk, record.customer_id, raw[:40], number,
                           number.lstrip("+")[::-1], i == 0 and primary, "")

        def emails():
            for record in records:
                primary = not held.get(record.customer_id, (False, False))[1]
                for i, email in enumerate(record.emails):
                    yield (tenant_pk, record.customer_id, email, i == 0 and primary)

        insert_tuples(CustomerPhone, ("tenant_id", "customer_id", "raw", "normalized",
                                      "reversed_digits", "is_primary", "label"), phones())
        insert_tuples(CustomerEmail, ("tenant_id", "customer_id", "email", "is_primary"),
                      emails())

    def tag_links(self, new: list[Record], changed: list[Record],
                  cleared: list[Record]) -> None:
        """The tags of the new customers (a COPY: they hold none yet) and of the changed
        ones (added to theirs; a single-choice group's other tag taken off)."""
        fresh = dict.fromkeys(pair for record in new for pair in self._links(record)[0])
        insert_tuples(CustomerTag, ("tenant_id", "customer_id", "tag_id"),
                      ((self.tenant.pk, c, t) for c, t in fresh))
        links, single = [], {}
        for record in changed:
            some, chosen = self._links(record)
            links += some
            single.update(chosen)
        self._clear_tags(cleared)
        for (customer_id, group_id), tag_id in single.items():
            CustomerTag.objects.for_tenant(self.tenant).filter(
                customer_id=customer_id, tag__group_id=group_id).exclude(tag_id=tag_id).delete()
        if connection.vendor == "postgresql" and links:
            # One statement, the pairs as two array parameters (bulk_create builds a model
            # instance and binds three placeholders per link).
            with connection.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO customers_customertag (tenant_id, customer_id, tag_id) "
                    "SELECT %s, c, t FROM unnest(%s::bigint[], %s::bigint[]) AS l(c, t) "
                    "ON CONFLICT DO NOTHING",
                    [self.tenant.pk, [c for c, _t in links], [t for _c, t in links]])
            return
        CustomerTag.objects.bulk_create(
            [CustomerTag(tenant=self.tenant, customer_id=c, tag_id=t) for c, t in links],
            batch_size=2000, ignore_conflicts=True)

    def _links(self, record: Record) -> tuple[list, dict]:
        """(customer, tag) pairs of the record's tags, the single-choice groups' included
        (the row's last tag of each), and those single-choice ones by (customer, group)."""
        links, single = [], {}
        for group, name in record.tags:
            tag = self._tag(group, name)
            if tag.group_id and not self.resolver.groups[tag.group_id].multiple:
                single[(record.customer_id, tag.group_id)] = tag.pk
            else:
                links.append((record.customer_id, tag.pk))
        return links + [(c, t) for (c, _g), t in single.items()], single

    def _clear_tags(self, records: list[Record]) -> None:
        """"Empty cells clear": an empty tag cell removes the tags of its column (all tags, or
        the tags of its tag group)."""
        for record in records:
            named = record.named_groups
            if named is None:
                named = {t[0] for t in record.tags}
            for group in empty_tag_columns(record, named):
                links = CustomerTag.objects.for_tenant(self.tenant).filter(
                    customer_id=record.customer_id)
                if group is not None:
                    links = links.filter(tag__group_id=group)
                links.delete()


def insert_rows(model, rows: list[dict], progress: Callable | None = None) -> None:
    """Insert plain rows: ``COPY`` on PostgreSQL (a tenth of ``bulk_create``'s time),
    ``bulk_create`` elsewhere."""
    if not rows:
        return
    if connection.vendor == "postgresql":
        columns = tuple(rows[0])
        copy_rows(model, columns, ([row[c] for c in columns] for row in rows), progress)
        return
    objects = [model(**row) for row in rows]
    # bulk_create stamps auto_now(_add) columns with "now": put the file's values back.
    stamped = [f.name for f in model._meta.concrete_fields
               if getattr(f, "auto_now_add", False) or getattr(f, "auto_now", False)]
    stamped = [name for name in stamped if name in rows[0]]
    for start in range(0, len(objects), 1000):
        batch = objects[start:start + 1000]
        model.objects.bulk_create(batch)
        if stamped:
            for obj, row in zip(batch, rows[start:start + 1000], strict=True):
                for name in stamped:
                    setattr(obj, name, row[name])
            model.objects.bulk_update(batch, stamped)
        if progress:
            progress(min(start + 1000, len(objects)))


def insert_tuples(model, columns: tuple, rows: Iterable) -> None:
    """Insert ``rows`` (sequences in the order of ``columns``; a generator is made as it
    is sent on PostgreSQL)."""
    if connection.vendor == "postgresql":
        copy_rows(model, columns, rows)
    else:
        insert_rows(model, [dict(zip(columns, row, strict=True)) for row in rows])


def copy_rows(model, columns: tuple, rows: Iterable, progress: Callable | None = None) -> None:
    """``COPY`` of ``rows`` (sequences in the order of ``columns``) into ``model``'s table,
    on PostgreSQL; ``rows`` may be a generator: each row is made as the COPY sends."""
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            write = copy.write_row
            for i, row in enumerate(rows, 1):
                write(row)
                if progress and i % CHUNK == 0:
                    progress(i)


# --- the whole run --------------------------------------------------------------------------

def run(tenant, actor, sheet, mapping: list, options: Options, *, dry_run: bool,
        job=None, progress: Callable | None = None,
        should_stop: Callable | None = None) -> Summary:
    """Check (``dry_run``) or import the customers of ``sheet``. Raises AccessDenied,
    CancelledError; a run in "all or nothing" with a rejected row writes nothing."""
    access.require(actor, "import.run", tenant)
    started = time.monotonic()
    report = progress or (lambda phase, done, total: None)
    stop = should_stop or (lambda: False)
    summary = Summary(rows=len(sheet.rows))
    resolver = Resolver(tenant)
    parser = Parser(sheet.headers, mapping, options, resolver)
    header_of = {}
    for column in parser.columns:
        header_of.setdefault(column.key, column.header)

    records = parse_rows(parser, sheet.rows, summary.errors, report, stop)
    _require_identity(records, summary)
    rejected = summary.rejected_rows  # a property that builds the set: once, not per record
    records = [r for r in records if r.row not in rejected]

    groups = group_duplicates(records)
    summary.duplicates = [[r.row for r in g] for g in groups if len(g) > 1]
    records = [merge_group(g, options.duplicates) for g in groups]

    matcher = Matcher(tenant, records)
    for record in records:
        matcher.match(record, summary.errors, header_of)
    rejected = summary.rejected_rows
    records = _same_customer(
        [r for r in records if not set(r.rows) & rejected], options, summary)

    new = [r for r in records if r.customer_id is None]
    old = [r for r in records if r.customer_id is not None]
    if options.match == MatchMode.CREATE:
        summary.skipped += len(old)
        old = []
    elif options.match == MatchMode.UPDATE:
        summary.skipped += len(new)
        new = []
    for record in new:
        if not record.data.get("name"):
            summary.errors.append(RowError(record.row, header_of.get("name", ""), _(
                "a new customer needs a name")))
    new = [r for r in new if r.data.get("name")]

    writer = Writer(tenant, actor, options, resolver)
    changes = _changes(tenant, old, options, writer)
    summary.updated = len(changes)
    summary.unchanged = len(old) - len(changes)
    summary.created = len(new)
    new_tags, new_sources = writer.planned_new(new + old)
    summary.new_tags = [n for _g, n in new_tags]
    summary.new_sources = new_sources
    report("checking", summary.rows, summary.rows)
    if dry_run or (options.mode == ImportMode.ALL_OR_NOTHING and summary.errors):
        summary.duration = time.monotonic() - started
        return summary

    with transaction.atomic():
        report("writing", 0, len(new) + len(changes))
        writer.create_lists(new + old)
        writer.create(new, lambda done: report("writing", done, len(new) + len(changes)))
        if stop():
            raise CancelledError
        held = _contacts_held(tenant, [r.customer_id for r in changes])
        writer.contacts(new + [r for r in changes if r.phones or r.emails], held)
        _update(tenant, writer, changes)
        writer.tag_links(new, changes,
                         cleared=changes if options.empty == EmptyCells.CLEAR else [])
        _apply_hooks(tenant, actor, job, new + changes)
        if job is not None:
            insert_rows(ImportedCustomer, _imported_rows(tenant, job, new, changes))
        if stop():
            raise CancelledError
        report("finishing", len(new) + len(changes), len(new) + len(changes))
        audit_record(tenant, actor, "import.run", after={
            "file": job.file_name if job else "", "created": len(new),
            "updated": len(changes)})
        customers_bulk_changed.send(sender=Customer, tenant=tenant, reason="import")
    summary.written = True
    summary.duration = time.monotonic() - started
    return summary


def _same_customer(records: list, options: Options, summary: Summary) -> list:
    """Rows that name one existing customer in different ways (one by code, one by phone)
    are one person too: merged by the same rule, shown with the file's duplicates."""
    by_customer = defaultdict(list)
    for record in records:
        if record.customer_id is not None:
            by_customer[record.customer_id].append(record)
    merged, seen = [], set()
    for record in records:
        if record.customer_id is None:
            merged.append(record)
            continue
        # Once per customer: the group is sorted below, so "is it the group's first?"
        # would hold again for a later record (keep-last's record carries its last row).
        if record.customer_id in seen:
            continue
        seen.add(record.customer_id)
        group = by_customer[record.customer_id]
        if len(group) > 1:
            group.sort(key=lambda r: r.row)
            rows = sorted(n for r in group for n in r.rows)
            summary.duplicates = [g for g in summary.duplicates if not set(g) & set(rows)]
            summary.duplicates.append(rows)
            kept = merge_group(group, options.duplicates)
            kept.customer_id, kept.rows = record.customer_id, rows
            record = kept
        merged.append(record)
    summary.duplicates.sort()
    return merged


def _require_identity(records: list, summary: Summary) -> None:
    """A row must say who it is: a name, a phone, an email or a code."""
    for record in records:
        if not (record.data.get("name") or record.phones or record.emails or record.code):
            summary.errors.append(RowError(record.row, "", _(
                "the row has no name, phone, email or code")))


def _imported_rows(tenant, job, new: list, changes: list) -> list[dict]:
    return [{"tenant_id": tenant.pk, "job_id": job.pk, "customer_id": r.customer_id,
             "created": created, "row": r.row, "source_code": r.code[:40]}
            for created, records in ((True, new), (False, changes)) for r in records]


def _contacts_held(tenant, ids: list) -> dict:
    """{customer id: (has a phone, has an email)} of customers about to get contacts."""
    held = {}
    ids = sorted(set(ids))
    for part in _among(CustomerPhone.objects.for_tenant(tenant), "customer", ids):
        for cid in part.values_list("customer_id", flat=True):
            held[cid] = (True, held.get(cid, (False, False))[1])
    for part in _among(CustomerEmail.objects.for_tenant(tenant), "customer", ids):
        for cid in part.values_list("customer_id", flat=True):
            held[cid] = (held.get(cid, (False, False))[0], True)
    return held


STORED = ["id", "full_name", "company", "tax_code", "national_id", "gender", "birth_day",
          "birth_month", "birth_year", "province_code", "street", "legacy_address", "note",
          "care_status_id", "membership_state", "assigned_staff_id", "collaborator_id",
          "source_id", "created_at"]


def _changes(tenant, old: list, options: Options, writer: Writer) -> list:
    """The matched records that change something; each gets ``before`` / ``after`` (the
    columns that change), and loses the phones, emails and tags its customer holds."""
    if not old:
        return []
    stored, phones, emails, tags = {}, defaultdict(set), defaultdict(set), defaultdict(set)
    ids = sorted({r.customer_id for r in old})
    for part in _among(Customer.objects.for_tenant(tenant), "id", ids):
        for row in part.values(*STORED):
            stored[row["id"]] = row
    for part in _among(CustomerPhone.objects.for_tenant(tenant), "customer", ids):
        for cid, number in part.values_list("customer_id", "normalized"):
            phones[cid].add(number)
    for part in _among(CustomerEmail.objects.for_tenant(tenant), "customer", ids):
        for cid, email in part.values_list("customer_id", "email"):
            emails[cid].add(email)
    for part in _among(CustomerTag.objects.for_tenant(tenant), "customer", ids):
        for cid, tag in part.values_list("customer_id", "tag_id"):
            tags[cid].add(tag)
    # Fields written by their app's hook (loyalty's balance): compared with what the
    # customer holds through the field's path, so that a new balance alone is a change.
    hooked = {}
    for entry in io_fields(tenant, importable=True):
        if entry.io.apply is not None and any(r.data.get(entry.key) is not None for r in old):
            held = hooked[entry.key] = defaultdict(lambda entry=entry: entry.missing)
            for part in _among(Customer.objects.for_tenant(tenant), "id", ids):
                held.update((cid, value) for cid, value in part.values_list("id", entry.path)
                            if value is not None)
    changed = []
    zone = timezone.get_current_timezone()
    for record in old:
        row = stored[record.customer_id]
        wanted = record_columns(record, options, creating=False)
        if ("birth_year" in wanted and wanted["birth_year"] is None
                and (wanted.get("birth_day"), wanted.get("birth_month"))
                == (row["birth_day"], row["birth_month"])):
            del wanted["birth_year"]  # "15/08" says nothing against a stored 15/08/1990
        record.before, record.after = {}, {}
        for column, value in wanted.items():
            if isinstance(value, tuple):  # a source / care status the run creates
                record.after[column] = value
                continue
            if _comparable(row.get(column), zone) != _comparable(value, zone) and not (
                    column == "created_at" and value is None):
                record.before[column], record.after[column] = row.get(column), value
        hook_changes = any(record.data.get(key) is not None
                           and record.data[key] != held[record.customer_id]
                           for key, held in hooked.items())
        record.phones = [p for p in record.phones if p[1] not in phones[record.customer_id]]
        record.emails = [e for e in record.emails if e not in emails[record.customer_id]]
        new_tags = []
        for group, name in record.tags:
            tag = writer._tag(group, name)
            if tag is None or tag.pk not in tags[record.customer_id]:
                new_tags.append((group, name))
        record.named_groups = {t[0] for t in record.tags}
        cleared = bool(options.empty == EmptyCells.CLEAR and tags[record.customer_id]
                       and empty_tag_columns(record, record.named_groups))
        record.tags = new_tags if not cleared else record.tags
        if (record.after or record.phones or record.emails or record.tags or cleared
                or hook_changes):
            changed.append(record)
    return changed


def _update(tenant, writer: Writer, changes: list) -> None:
    """Write the changed columns (grouped by the set of columns changed) and one history
    row per customer, as the profile's Lịch sử thay đổi shows it."""
    by_columns = defaultdict(list)
    for record in changes:
        after = {}
        for column, value in record.after.items():
            if isinstance(value, tuple):  # resolved by create_lists: re-read the record
                key = "source" if column == "source_id" else "care_status"
                value = record.data[key].pk
            after[column] = value
        record.after = after
        if after:
            by_columns[tuple(sorted(after))].append(record)
    now = timezone.now()
    user = writer.user
    for columns, records in by_columns.items():
        objects = []
        for record in records:
            customer = Customer(pk=record.customer_id, tenant_id=tenant.pk, updated_at=now,
                                updated_by_id=user.pk if user else None)
            for column, value in record.after.items():
                setattr(customer, column, value)
            if "full_name" in columns:
                customer.search_name = fold(customer.full_name)
            objects.append(customer)
        names = [c[:-3] if c.endswith("_id") else c for c in columns]
        extra = ["search_name"] if "full_name" in columns else []
        Customer.objects.bulk_update(objects, [*names, *extra, "updated_at", "updated_by"],
                                     batch_size=1000)
    primary = [r for r in changes if r.phones or r.emails]
    if primary:
        _refresh_primary(tenant, primary)
    readable = _Readable(tenant)
    AuditLog.objects.bulk_create([
        AuditLog(tenant=tenant, actor=user if getattr(user, "is_authenticated", False)
                 else None, action="customer.import_update",
                 object_type="customers.customer", object_id=r.customer_id,
                 before=readable(r.before), after=readable(r.after))
        for r in changes if r.after], batch_size=2000)


class _Readable:
    """History values as the profile's edits write them (customers.services.snapshot):
    field names, and names rather than ids."""

    def __init__(self, tenant):
        from crm.models import Membership

        self.names = {
            "care_status_id": {c.pk: c.name for c in CareStatus.objects.for_tenant(tenant)},
            "source_id": {s.pk: str(s) for s in
                          Source.objects.for_tenant(tenant).select_related("parent")},
        }
        people = {m.pk: m.display_name for m in
                  Membership.objects.filter(tenant=tenant).select_related("user")}
        self.names["assigned_staff_id"] = self.names["collaborator_id"] = people

    def __call__(self, changed: dict) -> dict:
        out = {}
        for column, value in changed.items():
            if column in self.names:
                out[column[:-3]] = self.names[column].get(value) if value else None
            elif isinstance(value, datetime.date | datetime.datetime):
                out[column] = value.isoformat()
            else:
                out[column] = value
        return out


def _refresh_primary(tenant, records: list) -> None:
    """Customer.phone / email copy the primary contact rows: set them for customers that
    had none before this import."""
    ids = [r.customer_id for r in records]
    for chunk in _chunks(ids):
        for row in CustomerPhone.objects.for_tenant(tenant).filter(
                customer_id__in=chunk, is_primary=True):
            Customer.objects.for_tenant(tenant).filter(pk=row.customer_id, phone="").update(
                phone=row.raw, phone_normalized=row.normalized)
        for row in CustomerEmail.objects.for_tenant(tenant).filter(
                customer_id__in=chunk, is_primary=True):
            Customer.objects.for_tenant(tenant).filter(pk=row.customer_id, email="").update(
                email=row.email)


def _apply_hooks(tenant, actor, job, records: list) -> None:
    """Fields written by their own app (loyalty's opening balance)."""
    for entry in io_fields(tenant, importable=True):
        if entry.io.apply is None:
            continue
        pairs = [(r.customer_id, r.data[entry.key]) for r in records
                 if r.data.get(entry.key) is not None]
        if pairs:
            entry.io.apply(tenant, actor, job, pairs)
