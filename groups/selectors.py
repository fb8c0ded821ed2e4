"""Reads of groups shared by the group screens and the customer profile's Nhóm tab."""

from dataclasses import dataclass, field

from django.db.models import F, OuterRef, QuerySet, Subquery

from crm.pagination import ListResult, capped_count, keyset_paginate
from customers.normalize import fold

from .models import CustomerGroup, GroupEvent, GroupKind, GroupMember, GroupPin, GroupRun, PinMode

# Sort keys offered on the group list: key -> keyset order (the last key unique).
GROUP_SORTS = {
    "name": ["name", "id"],
    "-name": ["-name", "-id"],
    "members": ["member_count", "id"],
    "-members": ["-member_count", "-id"],
}
DEFAULT_GROUP_SORT = "name"


def groups_of(tenant, *, archived: bool = False) -> QuerySet:
    """The shop's groups in use (or its archived ones)."""
    return CustomerGroup.objects.for_tenant(tenant).filter(archived_at__isnull=not archived)


def group_search(queryset: QuerySet, query: str) -> QuerySet:
    """By name, in any case and accents ("khach moi" finds "Khách mới")."""
    query = (query or "").strip()
    if not query:
        return queryset
    # Group names are few per shop (tens, hundreds): the accent-folded match runs on the
    # shop's names in Python rather than on a second, folded column kept in sync.
    words = fold(query).split()
    names = queryset.order_by().values_list("pk", "name")
    wanted = [pk for pk, name in names if all(w in fold(name) for w in words)]
    return queryset.filter(pk__in=wanted)


def _with_last_run(queryset: QuerySet) -> QuerySet:
    """Each group with its latest finished run's joined / left (two subqueries of the
    run index, in the list's one query)."""
    last = (GroupRun.objects.filter(group=OuterRef("pk"), state=GroupRun.State.DONE)
            .order_by("-started_at", "-id"))
    return queryset.annotate(last_joined=Subquery(last.values("joined")[:1]),
                             last_left=Subquery(last.values("left")[:1]),
                             # The one table's row checkbox posts a row's "code".
                             code=F("pk"))


def group_list(*, queryset: QuerySet, sort: str, after: str | None, before: str | None,
               size: int = 50, count: bool = True) -> ListResult:
    sort = sort if sort in GROUP_SORTS else DEFAULT_GROUP_SORT
    page = keyset_paginate(_with_last_run(queryset), order=GROUP_SORTS[sort], after=after,
                           before=before, size=size)
    total, more = capped_count(queryset) if count else (None, False)
    return ListResult(page=page, count=total, more=more, sort=sort)


def group_last_run(group: CustomerGroup) -> GroupRun | None:
    return (GroupRun.objects.for_tenant(group.tenant).filter(group=group)
            .exclude(state=GroupRun.State.RUNNING).order_by("-started_at", "-id").first())


def group_pins(group: CustomerGroup, limit: int = 200) -> dict[str, list]:
    """The customers put in by hand, newest first, per mode ("include", "exclude")."""
    pins = (GroupPin.objects.for_tenant(group.tenant).filter(group=group)
            .select_related("customer", "added_by").order_by("-added_at", "-id")[:limit])
    lists: dict[str, list] = {PinMode.INCLUDE: [], PinMode.EXCLUDE: []}
    for pin in pins:
        lists[pin.mode].append(pin)
    return lists


def group_customers(group: CustomerGroup, queryset: QuerySet) -> QuerySet:
    """The members of ``group`` among ``queryset`` (the customers a member sees): the
    group page's list and its export."""
    members = GroupMember.objects.for_tenant(group.tenant).filter(group=group)
    return queryset.filter(pk__in=members.values("customer_id"))


def group_member_ids(tenant, groups) -> QuerySet:
    return (GroupMember.objects.for_tenant(tenant).filter(group__in=groups)
            .values_list("customer_id", flat=True).distinct())


# --- one customer and their groups ----------------------------------------------------------

@dataclass
class CustomerGroupRow:
    """One group of the profile's Nhóm tab: the customer is a member, or was, or is
    pinned out of it."""

    group: CustomerGroup
    joined_at: object = None  # None: not a member now
    pin: str = ""  # "include" / "exclude" / ""
    events: list = field(default_factory=list)  # the customer's joins and leaves, newest first


def customer_groups(customer, *, events_limit: int = 200) -> list[CustomerGroupRow]:
    """The customer's groups (members now first, then the ones they left or are kept out
    of), in three queries whatever the number of groups."""
    tenant = customer.tenant
    rows: dict[int, CustomerGroupRow] = {}
    members = (GroupMember.objects.for_tenant(tenant).filter(customer=customer)
               .select_related("group").order_by("group__name"))
    for member in members:
        rows[member.group_id] = CustomerGroupRow(group=member.group, joined_at=member.joined_at)
    for pin in (GroupPin.objects.for_tenant(tenant).filter(customer=customer)
                .select_related("group")):
        row = rows.setdefault(pin.group_id, CustomerGroupRow(group=pin.group))
        row.pin = pin.mode
    for event in (GroupEvent.objects.for_tenant(tenant).filter(customer=customer)
                  .select_related("group").order_by("-at", "-id")[:events_limit]):
        rows.setdefault(event.group_id, CustomerGroupRow(group=event.group)).events.append(event)
    return sorted(rows.values(), key=lambda r: (r.joined_at is None, r.group.is_archived,
                                                r.group.name.lower()))


@dataclass
class Explanation:
    """"Vì sao?": why ``customer`` is, or is not, in ``group``."""

    group: CustomerGroup
    customer: object
    member: GroupMember | None
    pin: GroupPin | None
    conditions: list  # customers.rules.Explained, [] for a fixed list
    holds: bool  # the conditions hold (a fixed list: the customer is on it)
    events: list  # the customer's joins and leaves of this group, newest first
    error: str = ""  # the rule could not be read (a tag of it deleted since)

    @property
    def expected_member(self) -> bool:
        """Member by the rule and the pins now (what the next recompute settles on)."""
        if self.pin is not None:
            return self.pin.mode == PinMode.INCLUDE
        return self.holds and self.group.kind == GroupKind.RULE

    @property
    def pending(self) -> bool:
        """The membership does not follow the rule and pins yet (a recompute will)."""
        return (self.member is not None) != self.expected_member


def group_explain(group: CustomerGroup, customer, *, events_limit: int = 20) -> Explanation:
    from django.core.exceptions import ValidationError

    from customers.rules import rule_explain

    tenant = group.tenant
    member = GroupMember.objects.for_tenant(tenant).filter(group=group, customer=customer).first()
    pin = (GroupPin.objects.for_tenant(tenant).filter(group=group, customer=customer)
           .select_related("added_by").first())
    events = list(GroupEvent.objects.for_tenant(tenant).filter(group=group, customer=customer)
                  .order_by("-at", "-id")[:events_limit])
    conditions, error = [], ""
    if group.has_rule:
        try:
            conditions = rule_explain(tenant, group.rule, customer)
        except ValidationError as exc:
            error = " ".join(exc.messages)
    holds = (bool(conditions) and all(c.holds for c in conditions)) if group.has_rule \
        else member is not None
    return Explanation(group=group, customer=customer, member=member, pin=pin,
                       conditions=conditions, holds=holds, events=events, error=error)


def rule_match_count(tenant, rule) -> dict:
    """The live count of the form's conditions: {"empty"} for a rule without conditions,
    else {"count", "more"} capped (crm.pagination.capped_count). The rule is validated once
    (ValidationError with its Vietnamese messages)."""
    from customers.models import Customer
    from customers.rules import conditions_q, rule_validate

    clean = rule_validate(tenant, rule)
    if not clean["conditions"]:
        return {"empty": True, "count": None}
    count, more = capped_count(Customer.objects.for_tenant(tenant).filter(
        conditions_q(tenant, clean["conditions"])))
    return {"empty": False, "count": count, "more": more}
