"""Thin Celery wrappers: load by id, call one service."""

from celery import shared_task

from crm.models import Tenant

from . import services
from .models import LoyaltyProgram, TierBasis


@shared_task(name="loyalty.tiers_refresh")
def tiers_refresh(tenant_id: int) -> int:
    return services.tiers_refresh(tenant=Tenant.objects.get(pk=tenant_id))


@shared_task(name="loyalty.loyalty_nightly_shop")
def loyalty_nightly_shop(tenant_id: int) -> dict:
    """One shop's night: expiry, tiers by spend, then the ledger check."""
    tenant = Tenant.objects.get(pk=tenant_id)
    program = services.program_of(tenant)
    expired = services.points_expire(tenant=tenant)
    moved = (services.tiers_refresh(tenant=tenant)
             if program.tier_basis == TierBasis.SPEND else 0)
    check = services.ledger_verify(tenant=tenant)
    return {"expired": expired, "tiers_moved": moved, "mismatches": check.mismatches}


@shared_task(name="loyalty.loyalty_nightly")
def loyalty_nightly() -> int:
    """Queue one task per active shop that has (or had) a program: each shop its own task,
    so one slow shop or one failure does not hold up the others."""
    ids = list(LoyaltyProgram.objects.filter(tenant__is_active=True)
               .values_list("tenant_id", flat=True))
    for tenant_id in ids:
        loyalty_nightly_shop.delay(tenant_id)
    return len(ids)
