"""Reads shared by views, tasks and reports."""

import re
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Prefetch, QuerySet

from crm.models import Role, UserPreference
from crm.pagination import KeysetPage, capped_count, keyset_paginate

from .columns import COLUMNS_BY_KEY, DEFAULT_COLUMNS, PREFERENCE_KEY, Column
from .models import CareStatus, Customer, CustomerEmail, CustomerPhone, Source, Tag, TagGroup
from .normalize import PHONE_CHARS, fold, normalize_email, phone_digits_for_search

CODE_QUERY = re.compile(r"^\s*kh\s*0*(\d{1,12})\s*$", re.IGNORECASE)
MIN_PHONE_DIGITS = 4

# Sort keys offered on the list: name -> keyset order (last key unique).
SORTS = {
    "name": ["search_name", "id"],
    "-name": ["-search_name", "-id"],
    "code": ["number"],
    "-code": ["-number"],
    "created": ["created_at", "id"],
    "-created": ["-created_at", "-id"],
}
DEFAULT_SORT = "-created"


def customers_visible_to(membership) -> QuerySet:
    """The customers one member may see."""
    tenant = membership.tenant if membership else None
    return scope_customers(Customer.objects.for_tenant(tenant), membership)


def scope_customers(queryset: QuerySet, membership) -> QuerySet:
    """A collaborator sees only their customers; staff all of them, or only those assigned
    to them when the shop says so."""
    if membership is None:
        return queryset.none()
    if membership.role == Role.COLLABORATOR:
        return queryset.filter(collaborator=membership)
    if membership.role == Role.STAFF and membership.tenant.staff_see_own_customers_only:
        return queryset.filter(assigned_staff=membership)
    return queryset


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
        phones = CustomerPhone.objects.for_tenant(tenant).filter(customer=OuterRef("pk"))
        by_suffix = phones.filter(reversed_digits__startswith=digits[::-1])
        if prefix is None:
            return queryset.filter(Exists(by_suffix))
        by_prefix = phones.filter(normalized__startswith=prefix)
        return queryset.filter(Exists(by_prefix) | Exists(by_suffix))
    for word in fold(query).split():
        queryset = queryset.filter(search_name__contains=word)
    return queryset


def customer_list_queryset(queryset: QuerySet) -> QuerySet:
    """What a list row shows, in a fixed number of queries whatever the page size."""
    return queryset.select_related(
        "source__parent", "care_status", "assigned_staff__user", "collaborator__user",
    ).prefetch_related(
        Prefetch("tags", queryset=Tag.objects.select_related("group").order_by("position"))
    )


@dataclass
class CustomerListResult:
    page: KeysetPage
    count: int
    more: bool
    sort: str


def customer_list(*, queryset: QuerySet, sort: str, after: str | None, before: str | None,
                  size: int = 50) -> CustomerListResult:
    sort = sort if sort in SORTS else DEFAULT_SORT
    page = keyset_paginate(customer_list_queryset(queryset), order=SORTS[sort], after=after,
                           before=before, size=size)
    count, more = capped_count(queryset)
    return CustomerListResult(page=page, count=count, more=more, sort=sort)


def lookup_lists(tenant) -> dict:
    """The shop's lists for settings pages and forms."""
    return {
        "sources": Source.objects.for_tenant(tenant).select_related("parent"),
        "tag_groups": TagGroup.objects.for_tenant(tenant),
        "tags": Tag.objects.for_tenant(tenant).select_related("group"),
        "care_statuses": CareStatus.objects.for_tenant(tenant),
    }


def contact_owner(tenant, *, phone: str | None = None, email: str | None = None):
    """The customer holding an (already normalized) phone or email in the shop, if any."""
    if phone:
        row = CustomerPhone.objects.for_tenant(tenant).filter(normalized=phone).first()
        if row:
            return row.customer
    if email:
        row = CustomerEmail.objects.for_tenant(tenant).filter(email=email).first()
        if row:
            return row.customer
    return None


def list_columns(tenant, user) -> list[Column]:
    """The user's chosen list columns in their order, or the default set."""
    pref = UserPreference.objects.for_tenant(tenant).filter(user=user, key=PREFERENCE_KEY).first()
    keys = pref.value.get("columns", []) if pref else []
    chosen = [COLUMNS_BY_KEY[k] for k in keys if k in COLUMNS_BY_KEY]
    return chosen or [COLUMNS_BY_KEY[k] for k in DEFAULT_COLUMNS]


def dashboard_cards(tenant, membership) -> list[dict]:
    from django.utils.translation import gettext as _

    from .models import MembershipState

    visible = customers_visible_to(membership)
    total, more = capped_count(visible, cap=1_000_000)
    pending, _m = capped_count(visible.filter(membership_state=MembershipState.PENDING))
    return [
        {"label": _("Customers"), "value": f"{total:,}".replace(",", ".") + ("+" if more else ""),
         "icon": "ti-users"},
        {"label": _("Pending registrations"), "value": pending, "icon": "ti-user-question"},
    ]
