"""Thin Celery wrappers: load by id, call one service."""

from celery import shared_task

from crm.models import Tenant

from . import services


@shared_task(name="orders.aggregates_recompute")
def aggregates_recompute(tenant_id: int, customer_ids=None, job_id: str | None = None) -> int:
    return services.aggregates_recompute(tenant_id=tenant_id, customer_ids=customer_ids,
                                         job_id=job_id)


@shared_task(name="orders.aggregates_recompute_all")
def aggregates_recompute_all() -> int:
    ids = list(Tenant.objects.filter(is_active=True).values_list("pk", flat=True))
    for tenant_id in ids:
        aggregates_recompute.delay(tenant_id)
    return len(ids)


@shared_task(name="orders.lifecycle_recompute")
def lifecycle_recompute(tenant_id: int) -> dict:
    return services.lifecycle_recompute(tenant=Tenant.objects.get(pk=tenant_id))


@shared_task(name="orders.lifecycle_recompute_all")
def lifecycle_recompute_all() -> int:
    ids = list(Tenant.objects.filter(is_active=True).values_list("pk", flat=True))
    for tenant_id in ids:
        lifecycle_recompute.delay(tenant_id)
    return len(ids)
