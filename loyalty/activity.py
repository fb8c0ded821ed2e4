"""What the loyalty app tells in words: its change-log actions, and the customer's timeline
events (tier changes, points updated by hand) merged into the profile's "Ghi chú & hoạt
động" tab (crm.registry.TimelineSource)."""

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.audit import ActionText
from crm.money import format_money
from crm.registry import TimelineEntry
from customers.activity import actor_name

from .models import EntryKind, PointEntry, TierChange

ACTION_TEXTS = {
    "points.adjust": ActionText(gettext_lazy("updated a customer's points"), "ti-award"),
    "loyalty.settings": ActionText(gettext_lazy("changed the loyalty program"), "ti-settings"),
    "loyalty.tier_save": ActionText(gettext_lazy("saved a tier"), "ti-award"),
    "loyalty.tier_delete": ActionText(gettext_lazy("removed a tier"), "ti-trash"),
}


def loyalty_timeline(customer, actor, limit: int) -> list[TimelineEntry]:
    """Tier changes and points updated by hand, at most ``limit`` of each, in two queries
    (earning and using points show with their orders), when the shop runs a program."""
    from .extensions import shown

    tenant = customer.tenant
    if not shown(tenant):
        return []  # a shop without a program: its timeline has no points to tell
    entries = []
    points_url = reverse("loyalty:customer_points", kwargs={"code": customer.code})
    for change in (TierChange.objects.for_tenant(tenant).filter(customer=customer)
                   .order_by("-changed_at", "-id")[:limit]):
        if change.to_name:
            sentence = (_("Moved up to tier %(tier)s") if change.promoted
                        else _("Moved down to tier %(tier)s")) % {"tier": change.to_name}
        else:
            sentence = _("Left tier %(tier)s") % {"tier": change.from_name}
        entries.append(TimelineEntry(change.changed_at, "ti-award", sentence, points_url,
                                     tone="success" if change.promoted else "warning"))
    manual = (PointEntry.objects.for_tenant(tenant)
              .filter(customer=customer, kind=EntryKind.MANUAL)
              .select_related("actor").order_by("-id")[:limit])
    for entry in manual:
        sentence = (_("%(n)s points added") if entry.delta > 0 else _("%(n)s points taken off")) \
            % {"n": format_money(abs(entry.delta))}
        if entry.reason:
            sentence += f": {entry.reason}"
        entries.append(TimelineEntry(
            entry.created_at, "ti-award", sentence, points_url,
            actor_name(entry.actor) if entry.actor_id else "",
            tone="success" if entry.delta > 0 else "warning"))
    return entries
