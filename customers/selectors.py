"""Reads shared by views, tasks and reports."""

import functools
import re

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from crm import access
from crm.models import Membership
from crm.pagination import ListResult, capped_count, keyset_paginate

from .columns import all_columns, list_related, list_sorts
from .models import CareStatus, Customer, CustomerEmail, CustomerPhone, Source, Tag, TagGroup
from .normalize import PHONE_CHARS, fold, normalize_email, phone_digits_for_search

CODE_QUERY = re.compile(r"^\s*kh\s*0*(\d{1,12})\s*$", re.IGNORECASE)
MIN_PHONE_DIGITS = 4

DEFAULT_SORT = "-created"


def customers_visible_to(actor, tenant=None) -> QuerySet:
    """The customers one actor (a membership, or a system actor with ``tenant``) may see."""
    tenant = tenant or (actor.tenant if isinstance(actor, Membership) else None)
    return scope_customers(Customer.objects.for_tenant(tenant), actor)


def scope_customers(queryset: QuerySet, actor, path: str = "") -> QuerySet:
    """Narrow ``queryset`` to the customers ``actor`` may see: the access table decides
    (crm.access.customer_visibility), this turns the answer into a filter. Every read that
    shows or picks a customer goes through it; ``path`` reaches the customer from another
    model (``customer__`` for orders, whose unlinked rows only "see all" keeps)."""
    visibility = access.customer_visibility(actor)
    if visibility is access.Visibility.ALL:
        return queryset
    if visibility is access.Visibility.ASSIGNED:
        return queryset.filter(**{f"{path}assigned_staff": actor})
    if visibility is access.Visibility.COLLABORATED:
        return queryset.filter(**{f"{path}collaborator": actor})
    return queryset.none()


def can_see_customer(actor, customer) -> bool:
    """The same rule for one customer already loaded (no query)."""
    visibility = access.customer_visibility(actor)
    if visibility is access.Visibility.ALL:
        return actor.tenant_id in (None, customer.tenant_id)
    if visibility is access.Visibility.ASSIGNED:
        return customer.assigned_staff_id == actor.pk
    if visibility is access.Visibility.COLLABORATED:
        return customer.collaborator_id == actor.pk
    return False


def customer_search(queryset: QuerySet, tenant, query: str) -> QuerySet:
    """One box for everything: a code, an email, a phone in any format or its last digits,
    or a name in any accents, case and word order."""
    query = (query or "").strip()
    if not query:
        return queryset
    if match := CODE_QUERY.match(query):
        return queryset.filter(number=int(match.group(1)))
    if "@" in query:
        emails = CustomerEmail.objects.for_tenant(tenant).filter(
            email__startswith=normalize_email(query), customer=OuterRef("pk"))
        return queryset.filter(Exists(emails))
    digits = re.sub(r"\D", "", query)
    if PHONE_CHARS.match(query) and len(digits) >= MIN_PHONE_DIGITS:
        prefix, digits = phone_digits_for_search(query)
        match = Q(reversed_digits__startswith=digits[::-1])
        if prefix is not None:
            match |= Q(normalized__startswith=prefix)
        # One IN (subquery) over the phone table, where the OR becomes a BitmapOr of the
        # two pattern_ops indexes; an OR of two EXISTS made PostgreSQL scan every customer.
        phones = CustomerPhone.objects.for_tenant(tenant).filter(match)
        return queryset.filter(pk__in=phones.values("customer_id"))
    for word in fold(query).split():
        queryset = queryset.filter(search_name__contains=word)
    return queryset


def customer_filter(params, *, queryset: QuerySet, tenant, panel: bool = False):
    """The customer list's FilterSet for its query string ``params`` over ``queryset``,
    with only the boxes the query fills (``panel``: every box, for the filter panel)."""
    from .filters import customer_filterset

    return customer_filterset(None if panel else set(params))(
        params or None, queryset=queryset, tenant=tenant)


def customer_matches(*, queryset: QuerySet, tenant, params) -> QuerySet:
    """The customers the list shows for its query string ``params`` among ``queryset``
    (the customers a member sees): its filters, then its search box. The list and the
    exports read the same rows."""
    filterset = customer_filter(params, queryset=queryset, tenant=tenant)
    return customer_search(filterset.qs, tenant, params.get("q", ""))


def customer_list_queryset(queryset: QuerySet, columns=None) -> QuerySet:
    """What a list row shows, in a fixed number of queries whatever the page size: the
    joins and prefetches of the shown ``columns`` (crm.tables.Column.related/prefetch), or
    of every column when ``columns`` is None (the profile, the merge page)."""
    if columns is None:
        columns = all_columns()
        related = list_related()
    else:
        related = []
    related += [path for col in columns for path in col.related]
    # A fresh Prefetch each time: prefetching may re-prefix a Prefetch object it is given.
    prefetch = {p.prefetch_to: Prefetch(p.prefetch_through, queryset=p.queryset,
                                        to_attr=p.to_attr)
                for col in columns for p in col.prefetch}
    return queryset.select_related(*dict.fromkeys(related)).prefetch_related(
        *prefetch.values())


def _list_rows(page: list, columns=None) -> QuerySet:
    """A list page's rows, by primary key, with what a row shows (see keyset_paginate)."""
    return customer_list_queryset(Customer.objects.for_tenant(page[0].tenant_id)
                                  .filter(pk__in=[row.pk for row in page]), columns)


def customer_list(*, queryset: QuerySet, sort: str, after: str | None, before: str | None,
                  size: int = 50, columns=None, count: bool = True) -> ListResult:
    """One page of customers in ``sort``, with what the shown ``columns`` need (all when
    None), and the capped count of matches unless ``count`` is False (the list view
    fetches it by its own request: ``count`` is then None)."""
    sorts = list_sorts()
    sort = sort if sort in sorts else DEFAULT_SORT
    order, annotations, *parts = sorts[sort]
    page = keyset_paginate(queryset.annotate(**annotations), order=order, after=after,
                           before=before, size=size,
                           load=functools.partial(_list_rows, columns=columns),
                           parts=parts[0](queryset) if parts else None)
    total, more = capped_count(queryset) if count else (None, False)
    return ListResult(page=page, count=total, more=more, sort=sort)


def lookup_lists(tenant) -> dict:
    """The shop's lists for settings pages and forms."""
    return {
        "sources": Source.objects.for_tenant(tenant).select_related("parent"),
        "tag_groups": TagGroup.objects.for_tenant(tenant),
        "tags": Tag.objects.for_tenant(tenant).select_related("group"),
        "care_statuses": CareStatus.objects.for_tenant(tenant),
    }


# --- the profile ---------------------------------------------------------------------------

def customer_for_profile(queryset: QuerySet, code: str):
    """The customer of ``code`` in an already scoped queryset, with what the overview shows.

    Returns (customer, None), or (None, survivor_code) for the code of a merged customer.
    """
    from crm.tenancy import tenant_get_object_or_404

    from .models import CustomerAlias

    code = code.upper()
    found = (customer_list_queryset(queryset).select_related("referrer")
             .prefetch_related("phones", "emails").filter(code=code).first())
    if found:
        return found, None
    alias = (CustomerAlias.objects.filter(tenant_id__in=queryset.values("tenant_id")[:1],
                                          code=code, customer__in=queryset)
             .select_related("customer").first())
    if alias:
        return None, alias.customer.code
    return tenant_get_object_or_404(queryset.none(), code=code), None


def customer_audit_rows(customer) -> QuerySet:
    from crm.models import AuditLog

    return (AuditLog.objects.for_tenant(customer.tenant)
            .filter(object_type=Customer._meta.label_lower, object_id=customer.pk)
            .select_related("actor").order_by("-created_at", "-id"))


def customer_activity(customer, limit: int = 100) -> list:
    """Notes and audit rows, newest first, as Activity items."""
    from .activity import Activity, _actor_name, describe
    from .models import CustomerNote

    notes = (CustomerNote.objects.for_tenant(customer.tenant).filter(customer=customer)
             .select_related("author").order_by("-created_at")[:limit])
    items = [Activity(at=n.created_at, actor=_actor_name(n.author), text=n.body,
                      icon="ti-note", is_note=True) for n in notes]
    items += [describe(row) for row in customer_audit_rows(customer)[:limit]]
    return sorted(items, key=lambda a: a.at, reverse=True)[:limit]


def customer_history(customer, limit: int = 200) -> list:
    """Field-level before/after of every change, newest first."""
    from .activity import describe

    return [describe(row) for row in customer_audit_rows(customer)[:limit]]


def duplicate_pairs(customers: QuerySet, limit: int = 100) -> list[dict]:
    """Likely duplicates: same folded name and the same birthday or the same street.

    Same phone or email cannot happen: they are unique per shop (CustomerPhone and
    CustomerEmail constraints), so imports and channel orders link to the existing customer
    instead. Pairs come ordered by the newer customer, newest first.
    """
    from django.db.models import Q
    from django.utils.translation import gettext as _

    same_name = customers.filter(search_name=OuterRef("search_name"), pk__lt=OuterRef("pk"))
    by_birthday = same_name.filter(birth_day=OuterRef("birth_day"),
                                   birth_month=OuterRef("birth_month"))
    by_street = same_name.filter(street__iexact=OuterRef("street"))
    candidates = list(customers.filter(
        Q(birth_day__isnull=False, birth_month__isnull=False) & Exists(by_birthday)
        | ~Q(street="") & Exists(by_street))
        .order_by("-pk")[:limit])
    # One query for every customer sharing a candidate's name, grouped in Python.
    namesakes: dict[str, list] = {}
    for other in customers.filter(search_name__in={c.search_name for c in candidates}) \
            .order_by("pk"):
        namesakes.setdefault(other.search_name, []).append(other)
    pairs = []
    for newer in candidates:
        for older in namesakes.get(newer.search_name, []):
            if older.pk >= newer.pk:
                break
            same_birthday = bool(newer.birth_day) and \
                (older.birth_day, older.birth_month) == (newer.birth_day, newer.birth_month) \
                and not (older.birth_year and newer.birth_year
                         and older.birth_year != newer.birth_year)
            same_street = bool(newer.street) and older.street.lower() == newer.street.lower()
            if same_birthday or same_street:
                pairs.append({"a": older, "b": newer, "reason": _("same name and birthday")
                              if same_birthday else _("same name and address")})
    return pairs


def open_registration_requests(tenant, actor) -> QuerySet:
    """Registrations of existing customers waiting for a manager, of the customers
    ``actor`` may see."""
    from .models import RegistrationRequest

    waiting = RegistrationRequest.objects.for_tenant(tenant).filter(
        state=RegistrationRequest.State.OPEN)
    return (scope_customers(waiting, actor, path="customer__")
            .select_related("customer").prefetch_related("customer__emails")
            .order_by("-created_at"))


def contact_owners(tenant, *, phones=(), emails=(), exclude=None) -> tuple:
    """(phone row, email row): the first customer phone among the normalized ``phones`` and
    the first customer email among ``emails``, each with its customer, ``exclude``-d
    customer left out. The one lookup of "who has this phone or email" that creating,
    editing, registering, merging and matching orders share (phones and emails are unique
    per shop, so a customer is found whatever its visibility; callers decide what to say)."""
    phones, emails = [p for p in phones if p], [e for e in emails if e]
    by_phone = by_email = None
    if phones:
        by_phone = (CustomerPhone.objects.for_tenant(tenant).filter(normalized__in=phones)
                    .exclude(customer=exclude).select_related("customer__tenant").first())
    if emails:
        by_email = (CustomerEmail.objects.for_tenant(tenant).filter(email__in=emails)
                    .exclude(customer=exclude).select_related("customer__tenant").first())
    return by_phone, by_email
