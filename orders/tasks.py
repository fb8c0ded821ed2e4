"""Thin Celery wrappers: load by id, call one service."""

from celery import shared_task

from crm.models import Tenant

from . import services


@shared_task(name="orders.aggregates_recompute")
def aggregates_recompute(tenant_id: int, customer_ids=None, job_id: str | None = None) -> int:
    return services.aggregates_recompute(tenant_id=tenant_id, customer_ids=customer_ids,
                                         job_id=job_id)


def _for_every_active_shop(task) -> int:
    """Queue ``task`` once per active shop (each shop its own task: one slow shop or one
    failure does not hold up the others); returns how many were queued."""
    ids = list(Tenant.objects.filter(is_active=True).values_list("pk", flat=True))
    for tenant_id in ids:
        task.delay(tenant_id)
    return len(ids)


@shared_task(name="orders.aggregates_recompute_all")
def aggregates_recompute_all() -> int:
    return _for_every_active_shop(aggregates_recompute)


@shared_task(name="orders.lifecycle_recompute")
def lifecycle_recompute(tenant_id: int) -> dict:
    return services.lifecycle_recompute(tenant=Tenant.objects.get(pk=tenant_id))


@shared_task(name="orders.lifecycle_recompute_all")
def lifecycle_recompute_all() -> int:
    return _for_every_active_shop(lifecycle_recompute)
