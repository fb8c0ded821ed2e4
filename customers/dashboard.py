"""The customers app's dashboard cards (registered in apps.py): new customers, VIPs,
pending approvals, new customers by source, the lifecycle funnel and "my customers not
contacted for 30 days".

Each provider is one or two aggregate queries over the customers the member sees
(``scope_customers``), shaped for an index: the created-date range walks
``customer_created_idx``, the stages ``customer_stage_idx``, pending members the partial
``customer_pending_idx``. The frame (crm.dashboard) caches what they return.

Counts name a column of the index they walk (COUNT(*) where nothing is filtered): the id
is not in ``customer_stage_idx``, and COUNT(id) made PostgreSQL read the whole table.
"""

import datetime
from urllib.parse import urlencode

from django.db.models import Count, Exists, F, OuterRef, Subquery
from django.urls import reverse
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from crm.dashboard import DashboardContext, compare
from crm.models import Role
from crm.pagination import capped_count
from crm.registry import DashboardCard, register_dashboard_card

from .models import Customer, CustomerNote, LifecycleStage, MembershipState
from .normalize import format_phone
from .selectors import open_registration_requests, scope_customers

NOT_CONTACTED_DAYS = 30
NOT_CONTACTED_SHOWN = 10


def customer_list_url(**params) -> str:
    url = reverse("customers:customer_list")
    return f"{url}?{urlencode(params, doseq=True)}" if params else url


def _customers(ctx: DashboardContext):
    return scope_customers(Customer.objects.for_tenant(ctx.tenant), ctx.actor)


def new_customers(ctx: DashboardContext) -> dict:
    """Customers created this month, against the same stretch of last month."""
    figures = ctx.month_on_month(_customers(ctx), "created_at")
    return {
        "label": _("New customers this month"), "icon": "ti-user-plus", "tone": "primary",
        "value": figures["current"], "compare": compare(figures["current"], figures["previous"]),
        "url": customer_list_url(created_from=ctx.first_day_param()),
    }


def vip_customers(ctx: DashboardContext) -> dict:
    count = _customers(ctx).filter(lifecycle_stage=LifecycleStage.VIP).count()
    return {
        "label": _("VIP customers"), "icon": "ti-crown", "tone": "yellow", "value": count,
        "note": _("Spent over the shop's VIP threshold in a month"),
        "url": customer_list_url(lifecycle_stage=LifecycleStage.VIP),
    }


def pending_approvals(ctx: DashboardContext) -> dict:
    """Pending members plus registrations of existing customers, as "Chờ duyệt" lists."""
    members = _customers(ctx).filter(membership_state=MembershipState.PENDING).count()
    requests = open_registration_requests(ctx.tenant, ctx.actor).count()
    return {
        "label": _("Waiting for approval"), "icon": "ti-user-question", "tone": "orange",
        "value": members + requests,
        # Lazy: the cached figures are read in each member's language.
        "note": format_lazy(_("{members} pending members, {requests} registrations"),
                            members=members, requests=requests),
        "url": reverse("customers:pending_list"),
    }


def new_customers_by_source(ctx: DashboardContext) -> dict:
    """This month's new customers by channel group (a channel counts for its group)."""
    rows = (_customers(ctx).filter(created_at__gte=ctx.month_start)
            .values("source_id", "source__name", "source__parent_id", "source__parent__name")
            .annotate(n=Count("*")).order_by())
    groups: dict = {}
    for row in rows:
        if row["source_id"] is None:
            key, name = None, _("Unknown source")
        elif row["source__parent_id"] is None:
            key, name = row["source_id"], row["source__name"]
        else:
            key, name = row["source__parent_id"], row["source__parent__name"]
        entry = groups.setdefault(key, {"name": name, "count": 0})
        entry["count"] += row["n"]
    since = ctx.first_day_param()
    items = sorted(groups.items(), key=lambda item: -item[1]["count"])
    total = sum(entry["count"] for _key, entry in items)
    return {
        "title": _("New customers by source"), "subtitle": _("This month, by channel group"),
        "chart": "sources", "total": total,
        "url": customer_list_url(created_from=since),
        "items": [{"label": entry["name"], "value": entry["count"],
                   "share": round(entry["count"] * 100 / total),
                   "url": customer_list_url(created_from=since, source=key) if key else ""}
                  for key, entry in items],
    }


FUNNEL = [LifecycleStage.NEW, LifecycleStage.POTENTIAL, LifecycleStage.PURCHASED,
          LifecycleStage.VIP]


def lifecycle_funnel(ctx: DashboardContext) -> dict:
    counts = dict(_customers(ctx).values_list("lifecycle_stage").annotate(n=Count("*"))
                  .order_by())
    total = sum(counts.values())
    return {
        "title": _("Lifecycle funnel"), "subtitle": _("Customers by lifecycle stage"),
        "chart": "funnel", "total": total,
        "url": customer_list_url(),
        "items": [{"label": stage.label, "value": counts.get(stage.value, 0),
                   "share": round(counts.get(stage.value, 0) * 100 / total) if total else 0,
                   "url": customer_list_url(lifecycle_stage=stage.value)} for stage in FUNNEL],
    }


def _own(ctx: DashboardContext) -> tuple[str, object]:
    """The filter that says "my customers": the collaborator's, or the staff in charge."""
    return ("collaborator" if ctx.actor.role == Role.COLLABORATOR else "assigned_staff",
            ctx.actor.pk)


def not_contacted(ctx: DashboardContext) -> dict | None:
    """The member's own customers without a note (the contact log) for 30 days, those
    never noted first, then the longest silent."""
    if not hasattr(ctx.actor, "role"):
        return None
    field, member = _own(ctx)
    mine = _customers(ctx).filter(**{field: member})
    since = ctx.now - datetime.timedelta(days=NOT_CONTACTED_DAYS)
    notes = CustomerNote.objects.for_tenant(ctx.tenant).filter(customer=OuterRef("pk"))
    silent = mine.filter(~Exists(notes.filter(created_at__gte=since)))
    rows = list(silent.annotate(last_contact=Subquery(
        notes.order_by("-created_at").values("created_at")[:1]))
        .order_by(F("last_contact").asc(nulls_first=True), "created_at", "pk")
        .values("code", "full_name", "phone", "phone_normalized", "last_contact")
        [:NOT_CONTACTED_SHOWN])
    count, more = capped_count(silent, cap=999) if len(rows) == NOT_CONTACTED_SHOWN \
        else (len(rows), False)
    return {
        "days": NOT_CONTACTED_DAYS,
        "rows": [{"code": row["code"], "name": row["full_name"],
                  "phone": format_phone(row["phone_normalized"]) or row["phone"],
                  "tel": row["phone_normalized"] or row["phone"],
                  "last_contact": row["last_contact"],
                  "url": reverse("customers:customer_detail", args=[row["code"]])}
                 for row in rows],
        "count": count, "more": more,
        "has_customers": bool(rows) or mine.exists(),
        "url": customer_list_url(**{field: member, "noted_within": NOT_CONTACTED_DAYS,
                                    "noted_mode": "without"}),
    }


def register() -> None:
    for card in [
        DashboardCard("customers.new", 10, new_customers, action="customer.view"),
        DashboardCard("customers.vip", 50, vip_customers, action="customer.view"),
        DashboardCard("customers.pending", 70, pending_approvals,
                      action="customer.approve_membership"),
        DashboardCard("customers.sources", 120, new_customers_by_source, kind="chart",
                      template="crm/dashboard/_chart.html", action="customer.view"),
        DashboardCard("customers.funnel", 130, lifecycle_funnel, kind="chart",
                      template="crm/dashboard/_chart.html", action="customer.view"),
        DashboardCard("customers.not_contacted", 210, not_contacted, kind="list",
                      template="customers/_dashboard_not_contacted.html",
                      action="customer.view", personal=True, width="col-12"),
    ]:
        register_dashboard_card(card)
