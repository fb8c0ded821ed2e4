"""What the groups app does when a lower app acts: groups by conditions follow large
changes of what their rules read. Each receiver only queues the shop's recompute after
the sender's transaction commits; the recompute is a diff, so a second one in a row writes
nothing (receivers and the work they queue are idempotent)."""

from django.db import transaction

from .models import GroupRun


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
