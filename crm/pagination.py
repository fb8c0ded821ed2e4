"""Keyset pagination and capped counts: lists stay fast at a million rows.

No OFFSET: a page is "the next N rows after this one" in a fixed, unique ordering, so page
10,000 costs the same as page 1. No unbounded COUNT(*): the count stops at ``cap``.
"""

import json
from dataclasses import dataclass

from django.core import signing
from django.core.exceptions import ValidationError
from django.db import connections
from django.db.models import Q

SALT = "crm.keyset"


@dataclass
class KeysetPage:
    rows: list
    next_cursor: str | None
    prev_cursor: str | None


class _Serializer:
    # Full isoformat (DjangoJSONEncoder would cut microseconds and break equality on ties).
    def dumps(self, obj):
        return json.dumps(obj, separators=(",", ":"), default=lambda o: o.isoformat()).encode()

    def loads(self, data):
        return json.loads(data.decode())


def _field(queryset, name: str):
    """The field that parses a cursor value: a model field, or an annotation's output
    field for sorts on computed values (e.g. total spend from the stats table)."""
    annotation = queryset.query.annotations.get(name)
    if annotation is not None:
        return annotation.output_field
    return queryset.model._meta.get_field(name)


def cursor_for(row, order: list[str]) -> str:
    values = [getattr(row, key.lstrip("-")) for key in order]
    return signing.dumps(values, salt=SALT, serializer=_Serializer, compress=True)


def _decode(cursor: str, queryset, order: list[str]) -> list | None:
    try:
        raw = signing.loads(cursor, salt=SALT, serializer=_Serializer)
    except (signing.BadSignature, ValueError):
        return None
    if not isinstance(raw, list) or len(raw) != len(order):
        return None
    try:
        return [_field(queryset, key.lstrip("-")).to_python(v)
                for key, v in zip(order, raw, strict=True)]
    except (ValidationError, TypeError, ValueError):
        return None  # a cursor from another sort: start from the first page


def _after(order: list[str], values: list, reverse: bool) -> Q:
    """Rows strictly after ``values`` in ``order`` (or before, when ``reverse``).

    (a, id) > (x, y) is written a > x OR (a = x AND id > y), plus the redundant a >= x in
    front: without it PostgreSQL cannot turn the OR into an index range and walks the
    index from the start (page 10,000 took a second instead of a millisecond).
    """
    condition = Q()
    for i, key in enumerate(order):
        name = key.lstrip("-")
        descending = key.startswith("-") != reverse
        step = Q(**{f"{name}__{'lt' if descending else 'gt'}": values[i]})
        for prev_key, prev_value in zip(order[:i], values[:i], strict=True):
            step &= Q(**{prev_key.lstrip("-"): prev_value})
        condition |= step
    first = order[0].lstrip("-")
    descending = order[0].startswith("-") != reverse
    return Q(**{f"{first}__{'lte' if descending else 'gte'}": values[0]}) & condition


def keyset_paginate(queryset, *, order: list[str], after: str | None = None,
                    before: str | None = None, size: int = 50, load=None,
                    parts=None) -> KeysetPage:
    """One page of ``queryset`` in ``order`` (its last key must be unique, e.g. id).

    ``load``, when given, is called with the page's rows (primary key, tenant and sort keys
    only) and returns a queryset of the rows to show, with the joins a row needs: the page
    is picked by the filtered query alone, then its rows are read by primary key. With a
    list row's joins in the same statement (nine tables for a customer) PostgreSQL passes
    its join_collapse_limit, keeps the joins in written order and joins every customer of
    the shop before a search's semi-join narrows them (a phone search: 1.6 s, not 1 ms).

    ``parts``, when given, are querysets that split ``queryset`` (every row in exactly one,
    each with the sort keys under the same names): each part's page is read with its own
    ORDER BY ... LIMIT and the pages are merged by UNION ALL. A sort on a value of a joined
    row that may be missing (a customer's spend: COALESCE over a LEFT JOIN) then walks an
    index per part instead of sorting every row (PostgreSQL; other databases, which do not
    order the branches of a UNION, read ``queryset``).
    """
    if parts and not connections[queryset.db].features.supports_slicing_ordering_in_compound:
        parts = None
    parts = list(parts or [queryset])
    if load is not None:
        parts = [part.select_related(None).prefetch_related(None).only(
            *_page_fields(part, order)) for part in parts]
    reverse, condition = False, None
    if before and (values := _decode(before, queryset, order)) is not None:
        reverse, condition = True, _after(order, values, reverse=True)
    elif after and (values := _decode(after, queryset, order)) is not None:
        condition = _after(order, values, reverse=False)
    else:
        after = None
    flipped = [k[1:] if k.startswith("-") else f"-{k}" for k in order]
    ordering = flipped if reverse else order
    pages = [(part if condition is None else part.filter(condition))
             .order_by(*ordering)[: size + 1] for part in parts]
    if len(pages) > 1:
        pages = [pages[0].union(*pages[1:], all=True).order_by(*ordering)[: size + 1]]
    rows = list(pages[0])
    more = len(rows) > size
    rows = rows[:size]
    if reverse:
        rows.reverse()
        has_next, has_prev = True, more
    else:
        has_next, has_prev = more, bool(after)
    return KeysetPage(
        rows=_load(rows, load, parts[0].query.annotations) if load and rows else rows,
        next_cursor=cursor_for(rows[-1], order) if rows and has_next else None,
        prev_cursor=cursor_for(rows[0], order) if rows and has_prev else None,
    )


def _page_fields(queryset, order: list[str]) -> list[str]:
    fields = {f.name for f in queryset.model._meta.concrete_fields}
    keys = [key.lstrip("-") for key in order if key.lstrip("-") in fields]
    return [queryset.model._meta.pk.name, *(["tenant"] if "tenant" in fields else []), *keys]


def _load(rows: list, load, annotations) -> list:
    """The rows ``load`` returns, in the page's order, with the page query's annotations
    (a row deleted in between is left out)."""
    loaded = {row.pk: row for row in load(rows)}
    page = []
    for row in rows:
        full = loaded.get(row.pk)
        if full is not None:
            for name in annotations:
                setattr(full, name, getattr(row, name))
            page.append(full)
    return page


def capped_count(queryset, cap: int = 10_000) -> tuple[int, bool]:
    """(count, more): the exact count up to ``cap``; ``more`` is True beyond it."""
    count = queryset.order_by()[: cap + 1].count()
    return min(count, cap), count > cap


@dataclass
class ListResult:
    """One page of a list with its capped count and the sort it was taken in."""

    page: KeysetPage
    count: int | None  # None: not counted here (a list that loads its count afterwards)
    more: bool
    sort: str = ""
