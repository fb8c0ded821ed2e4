"""Thin Celery wrappers: load by id, call one service."""

from celery import shared_task

from crm.access import SYSTEM
from crm.models import Tenant

from . import services
from .models import CustomerGroup, GroupRun, RecomputeState


def _run_summary(run: GroupRun) -> dict:
    return {"group": run.group_id, "state": run.state, "joined": run.joined,
            "left": run.left, "total": run.total, "duration_ms": run.duration_ms}


@shared_task(name="groups.group_recompute")
def group_recompute(tenant_id: int, group_id: int,
                    trigger: str = GroupRun.Trigger.MANUAL) -> dict | None:
    """The request was checked against the access table when it was queued; the run is
    the system's."""
    tenant = Tenant.objects.get(pk=tenant_id)
    group = CustomerGroup.objects.for_tenant(tenant).filter(pk=group_id).first()
    if group is None:
        return None
    if group.is_archived:  # archived after the request: nothing to show progress for
        CustomerGroup.objects.filter(pk=group.pk).update(recompute_state=RecomputeState.IDLE)
        return None
    run = services.group_recompute(tenant=tenant, actor=SYSTEM, group=group, trigger=trigger)
    return _run_summary(run)


@shared_task(name="groups.groups_recompute_all")
def groups_recompute_all(tenant_id: int, trigger: str = GroupRun.Trigger.NIGHTLY) -> list:
    tenant = Tenant.objects.get(pk=tenant_id)
    return [_run_summary(run)
            for run in services.groups_recompute_all(tenant=tenant, trigger=trigger)]


@shared_task(name="groups.groups_recompute_nightly")
def groups_recompute_nightly() -> int:
    """Queue one groups_recompute_all per active shop (each shop its own task: one slow
    shop or one failure does not hold up the others); returns how many were queued."""
    ids = list(Tenant.objects.filter(is_active=True).values_list("pk", flat=True))
    for tenant_id in ids:
        groups_recompute_all.delay(tenant_id, GroupRun.Trigger.NIGHTLY)
    return len(ids)
