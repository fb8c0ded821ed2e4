"""The customer list's saved filters (Bộ lọc đã lưu): a user saves the list's state under a
name, for themselves or (managers) for the whole shop; renames and deletes it; turns it
into a customer group.

A saved filter belongs to one person (``owner``, a membership): only they rename it. A
shared filter may also be deleted by anyone who may share ("filter.share"), so a shop is
never stuck with a colleague's stale filter. The built-in filters are not rows
(``groups.saved_filters``).
"""

import re

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from crm import access
from crm.access import AccessDenied
from crm.audit import audit_record, diff_fields
from crm.models import Membership

from ..models import CustomerGroup, GroupKind, SavedFilter
from ..saved_filters import MAX_QUERY_LENGTH, list_state

MAX_NAME_LENGTH = SavedFilter._meta.get_field("name").max_length
MAX_COLUMNS = 40
COLUMN_KEY = re.compile(r"^[\w.:-]{1,60}$")


def _person(tenant, actor) -> Membership:
    """The membership that will own the filter, locked: one person's saves are taken one at
    a time, so two quick clicks cannot make two filters of one name."""
    if not isinstance(actor, Membership):
        raise AccessDenied("filter.save", _("A saved filter belongs to a person of the shop."))
    return Membership.objects.select_for_update().get(pk=actor.pk, tenant=tenant)


def _clean_name(tenant, owner, name: str, *, shared: bool, exclude_pk=None) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError({"name": ValidationError(_("Type a name for the filter."),
                                                       code="required")})
    if len(name) > MAX_NAME_LENGTH:
        raise ValidationError({"name": ValidationError(
            _("A filter's name has at most %(n)d characters.") % {"n": MAX_NAME_LENGTH},
            code="max_length")})
    # Compared in Python: SQLite folds the case of ASCII letters only (Á, Ư...), and a
    # person or a shop has a few dozen filters.
    rows = SavedFilter.objects.for_tenant(tenant).filter(Q(owner=owner) | Q(shared=True))
    if exclude_pk is not None:
        rows = rows.exclude(pk=exclude_pk)
    folded = name.casefold()
    same = [(owner_id, is_shared) for other, owner_id, is_shared
            in rows.values_list("name", "owner_id", "shared") if other.casefold() == folded]
    if any(owner_id == owner.pk for owner_id, _shared in same):
        raise ValidationError({"name": ValidationError(
            _("You already have a filter named “%(name)s”. Choose another name.")
            % {"name": name}, code="unique")})
    if shared and any(is_shared for _owner, is_shared in same):
        raise ValidationError({"name": ValidationError(
            _("The shop already shares a filter named “%(name)s”. Choose another name.")
            % {"name": name}, code="unique_shared")})
    return name


def _clean_query(query: str) -> str:
    too_long = ValidationError({"query": ValidationError(
        _("This list state is too long to save (at most %(n)d characters).")
        % {"n": MAX_QUERY_LENGTH}, code="max_length")})
    if len(query or "") > MAX_QUERY_LENGTH:
        raise too_long
    state = list_state(query or "")
    if len(state) > MAX_QUERY_LENGTH:
        raise too_long
    return state


def _clean_columns(columns) -> list[str]:
    keys = list(dict.fromkeys(str(c) for c in columns or ()))
    if len(keys) > MAX_COLUMNS or not all(COLUMN_KEY.match(k) for k in keys):
        raise ValidationError({"columns": ValidationError(_("Unknown column."),
                                                          code="invalid")})
    return keys


def _snapshot(saved: SavedFilter) -> dict:
    return {"name": saved.name, "shared": saved.shared, "query": saved.query,
            "columns": saved.columns}


@transaction.atomic
def saved_filter_create(*, tenant, actor, name: str, query: str, columns=(),
                        shared: bool = False) -> SavedFilter:
    """Save the list's state (``query``: its query string; ``columns``: the column keys
    shown, [] for the viewer's own) under ``name``, private or shared with the shop."""
    access.require(actor, "filter.save", tenant)
    if shared:
        access.require(actor, "filter.share", tenant)
    owner = _person(tenant, actor)
    saved = SavedFilter(tenant=tenant, owner=owner, shared=bool(shared),
                        name=_clean_name(tenant, owner, name, shared=shared),
                        query=_clean_query(query), columns=_clean_columns(columns))
    saved.full_clean(exclude=["tenant", "owner"])
    saved.save()
    audit_record(tenant, actor, "saved_filter.create", saved, after=_snapshot(saved))
    return saved


def _locked(tenant, saved: SavedFilter) -> SavedFilter:
    return SavedFilter.objects.for_tenant(tenant).select_for_update().get(pk=saved.pk)


@transaction.atomic
def saved_filter_update(*, tenant, actor, saved_filter: SavedFilter, name: str | None = None,
                        shared: bool | None = None, query: str | None = None,
                        columns=None) -> SavedFilter:
    """Rename, share or stop sharing, or keep a new list state; only the owner does (sharing
    and unsharing also take "filter.share"). A value left None is kept."""
    access.require(actor, "filter.save", tenant)
    saved = _locked(tenant, saved_filter)
    if saved.owner_id != getattr(actor, "pk", None) or not isinstance(actor, Membership):
        raise AccessDenied("filter.save", _("Only the person who saved a filter changes it."))
    before = _snapshot(saved)
    if shared is not None and bool(shared) != saved.shared:
        access.require(actor, "filter.share", tenant)
        saved.shared = bool(shared)
    if name is not None or saved.shared != before["shared"]:
        saved.name = _clean_name(tenant, actor, saved.name if name is None else name,
                                 shared=saved.shared, exclude_pk=saved.pk)
    if query is not None:
        saved.query = _clean_query(query)
    if columns is not None:
        saved.columns = _clean_columns(columns)
    old, new = diff_fields(before, _snapshot(saved))
    if not new:
        return saved
    saved.full_clean(exclude=["tenant", "owner"])
    saved.save(update_fields=["name", "shared", "query", "columns"])
    audit_record(tenant, actor, "saved_filter.update", saved, before=old, after=new)
    return saved


def may_delete(actor, saved: SavedFilter) -> bool:
    """The owner deletes their filter; a shared one may also go by anyone who may share."""
    if not access.can(actor, "filter.save"):
        return False
    return saved.owner_id == getattr(actor, "pk", None) or (
        saved.shared and access.can(actor, "filter.share"))


@transaction.atomic
def saved_filter_delete(*, tenant, actor, saved_filter: SavedFilter) -> None:
    access.require(actor, "filter.save", tenant)
    saved = _locked(tenant, saved_filter)
    if not isinstance(actor, Membership) or not may_delete(actor, saved):
        raise AccessDenied("filter.save",
                           _("Only the person who saved a filter deletes it; a shared filter "
                             "may also be deleted by a manager."))
    audit_record(tenant, actor, "saved_filter.delete", saved, before=_snapshot(saved))
    saved.delete()


def visible_saved_filters(tenant, actor):
    """The saved filters ``actor`` sees: the shop's shared ones and their own (one query,
    with each owner's name)."""
    if not isinstance(actor, Membership):
        return SavedFilter.objects.none()
    return (SavedFilter.objects.for_tenant(tenant)
            .filter(Q(shared=True) | Q(owner=actor))
            .select_related("owner__user").order_by("name", "pk"))


# --- a saved filter (or the list as it is) becomes a group --------------------------------

def _free_group_name(tenant, name: str) -> str:
    """``name``, or "name (2)", "name (3)"... when the shop has a group of that name."""
    name = " ".join(name.split())[:110] or _("New group")
    taken = {n.lower() for n in CustomerGroup.objects.for_tenant(tenant)
             .filter(name__istartswith=name).values_list("name", flat=True)}
    candidate, n = name, 1
    while candidate.lower() in taken:
        n += 1
        candidate = f"{name} ({n})"
    return candidate


@transaction.atomic
def group_from_filter(*, tenant, actor, name: str, query: str) -> CustomerGroup:
    """A group by conditions that holds the customers of the list state ``query`` (its
    search and filters; the sort, page size and columns do not make a group), named
    ``name`` or, when the shop has that name already, "name (2)"."""
    from customers.filters import query_to_rule

    from .records import group_create

    access.require(actor, "group.manage", tenant)
    rule = query_to_rule(tenant, _clean_query(query))
    if not rule.get("conditions"):
        raise ValidationError(_("Choose at least one filter first: a group of every customer "
                                "is the customer list itself."), code="empty")
    return group_create(tenant=tenant, actor=actor, data={
        "name": _free_group_name(tenant, name), "kind": GroupKind.RULE, "rule": rule,
        "description": _("Made from the filter “%(name)s” on %(date)s.") % {
            "name": name, "date": timezone.localdate().strftime("%d/%m/%Y")}})
