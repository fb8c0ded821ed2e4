"""What the groups app does when a lower app acts: groups by conditions follow large
changes of what their rules read. Each receiver only queues the shop's recompute after
the sender's transaction commits; the recompute is a diff, so a second one in a row writes
nothing (receivers and the work they queue are idempotent)."""

from django.db import transaction

from .models import CustomerGroup, GroupEvent, GroupMember, GroupPin, GroupRun


def _queue_recompute_all(tenant, trigger: str) -> None:
    from . import tasks

    tenant_id = tenant.pk
    transaction.on_commit(lambda: tasks.groups_recompute_all.delay(tenant_id, trigger))


def recompute_after_aggregates(sender, tenant, changed=None, **kwargs):
    """orders.signals.aggregates_recomputed: spend, order counts and dates moved."""
    if changed == 0:
        return  # the figures were already right: no rule reads anything new
    _queue_recompute_all(tenant, GroupRun.Trigger.STATS)


def recompute_after_bulk_change(sender, tenant, reason="", **kwargs):
    """customers.signals.customers_bulk_changed: an import (or a bulk edit) wrote many
    customers."""
    _queue_recompute_all(tenant, GroupRun.Trigger.IMPORT)


def move_rows_on_merge(sender, tenant, survivor, merged, **kwargs):
    """customers.signals.customers_merged (inside the merge, before ``merged`` is deleted):
    the merged customer's join/leave history, pins and memberships become the survivor's.
    Where the survivor already has a pin or a membership in the same group, the survivor's
    own row stays and the merged one goes with the merged customer; the groups' member
    counts are counted again. Groups by conditions are right again at their next recompute
    (the survivor's figures changed with the merge)."""
    GroupEvent.objects.filter(tenant=tenant, customer=merged).update(customer=survivor)
    pinned = GroupPin.objects.filter(tenant=tenant, customer=survivor).values("group_id")
    GroupPin.objects.filter(tenant=tenant, customer=merged).exclude(
        group_id__in=pinned).update(customer=survivor)
    member_of = GroupMember.objects.filter(tenant=tenant, customer=survivor)
    both = list(GroupMember.objects.filter(tenant=tenant, customer=merged,
                                           group_id__in=member_of.values("group_id"))
                .values_list("group_id", flat=True))
    GroupMember.objects.filter(tenant=tenant, customer=merged).exclude(
        group_id__in=both).update(customer=survivor)
    GroupMember.objects.filter(tenant=tenant, customer=merged).delete()
    for group_id in both:  # one member fewer: the two were one customer
        CustomerGroup.objects.filter(tenant=tenant, pk=group_id).update(
            member_count=GroupMember.objects.filter(group_id=group_id).count())
