"""The shop's loyalty program and its tiers: settings, tier list, and putting every account
in its tier (after the tiers change, and nightly when tiers follow spend)."""

import datetime

from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from crm import access
from crm.audit import audit_record, diff_fields

from ..models import LoyaltyAccount, LoyaltyProgram, Tier, TierBasis, TierChange

DEFAULT_TIERS = [  # (name, threshold in points, colour): the defaults of a new program
    ("Đồng", 0, "#a0522d"), ("Bạc", 1_000, "#8a96a3"), ("Vàng", 5_000, "#d4a017")]
SPEND_DEFAULTS = [0, 5_000_000, 20_000_000]  # the same tiers by spend of 12 months (đồng)

PROGRAM_FIELDS = ["enabled", "earn_amount", "point_value", "expiry_months", "tier_basis",
                  "tiers_can_drop"]


def program_of(tenant) -> LoyaltyProgram:
    """The shop's program (an unsaved, switched-off one when it never set one up)."""
    program = LoyaltyProgram.objects.filter(tenant_id=tenant.pk).first()
    return program or LoyaltyProgram(tenant_id=tenant.pk)


def loyalty_enabled(tenant) -> bool:
    return LoyaltyProgram.objects.filter(tenant_id=tenant.pk, enabled=True).exists()


def tiers_of(tenant) -> list[Tier]:
    return list(Tier.objects.for_tenant(tenant).order_by("threshold"))


def tier_for(tiers: list[Tier], value: int) -> Tier | None:
    """The highest tier (``tiers`` sorted by threshold) whose threshold ``value`` reaches."""
    reached = None
    for tier in tiers:
        if value >= tier.threshold:
            reached = tier
    return reached


def spend_window_start(now: datetime.datetime | None = None) -> datetime.datetime:
    return (now or timezone.localtime()) - relativedelta(months=12)


def spend_12_months(customer_id: int, tenant) -> int:
    """Delivered spend (what was kept after returns) of the last 12 months."""
    from orders.models import Order, OrderStatus

    return Order.objects.filter(
        tenant_id=tenant.pk, customer_id=customer_id, status=OrderStatus.DELIVERED,
        delivered_at__gte=spend_window_start()).aggregate(
        s=Coalesce(Sum("total_amount") - Sum("returned_amount"), 0))["s"]


@transaction.atomic
def program_save(*, tenant, actor, data: dict, channels=None) -> LoyaltyProgram:
    """Owner or manager: switch the program on or off and set its terms. The first time it
    is switched on, the default tiers (Đồng, Bạc, Vàng) are created; a change of what
    tiers follow puts every account in its tier again."""
    access.require(actor, "loyalty.manage", tenant)
    program = LoyaltyProgram.objects.select_for_update().filter(tenant_id=tenant.pk).first()
    created = program is None
    program = program or LoyaltyProgram(tenant_id=tenant.pk)
    before = {f: getattr(program, f) for f in PROGRAM_FIELDS} if not created else {}
    for name in PROGRAM_FIELDS:
        if name in data:
            setattr(program, name, data[name])
    if channels is not None and any(c.tenant_id != tenant.pk for c in channels):
        raise ValidationError({"earn_channels": _("These channels belong to another shop.")})
    program.full_clean(exclude=["tenant", "earn_channels"])
    program.save()
    if channels is not None:
        program.earn_channels.set(channels)
    after = {f: getattr(program, f) for f in PROGRAM_FIELDS}
    changed_before, changed_after = diff_fields(before, after) if before else ({}, after)
    if program.enabled and not Tier.objects.for_tenant(tenant).exists():
        spend = program.tier_basis == TierBasis.SPEND
        Tier.objects.bulk_create(
            Tier(tenant=tenant, name=name, color=color,
                 threshold=SPEND_DEFAULTS[i] if spend else threshold)
            for i, (name, threshold, color) in enumerate(DEFAULT_TIERS))
        transaction.on_commit(lambda: _queue_refresh(tenant.pk))
    elif "tier_basis" in changed_after or "tiers_can_drop" in changed_after:
        transaction.on_commit(lambda: _queue_refresh(tenant.pk))
    if changed_after:
        audit_record(tenant, actor, "loyalty.settings", None, before=changed_before,
                     after={k: str(v) if v is not None else None for k, v in
                            changed_after.items()})
    return program


def _queue_refresh(tenant_id: int) -> None:
    from .. import tasks

    forget_tier_counts(tenant_id)
    tasks.tiers_refresh.delay(tenant_id)


def tier_counts_key(tenant_id: int) -> str:
    """The cache key of the Tích điểm page's customers per tier (loyalty.selectors)."""
    return f"loyalty:tier-counts:{tenant_id}"


def forget_tier_counts(tenant_id: int) -> None:
    """The Tích điểm page's customers per tier are counted again on its next visit."""
    from django.core.cache import cache

    cache.delete(tier_counts_key(tenant_id))


@transaction.atomic
def tier_save(*, tenant, actor, tier: Tier | None, data: dict) -> Tier:
    """Add or edit a tier (name, threshold, colour); accounts move to their tier after."""
    access.require(actor, "loyalty.manage", tenant)
    if tier is not None and tier.tenant_id != tenant.pk:
        raise ValidationError(_("This tier belongs to another shop."))
    tier = tier or Tier(tenant=tenant)
    before = {"name": tier.name, "threshold": tier.threshold} if tier.pk else {}
    tier.name = (data.get("name") or "").strip()
    tier.threshold = data.get("threshold") or 0
    tier.color = data.get("color") or tier.color
    tier.full_clean(exclude=["tenant"], validate_unique=False)
    others = Tier.objects.for_tenant(tenant).exclude(pk=tier.pk)
    if others.filter(name__iexact=tier.name).exists():
        raise ValidationError({"name": _("Another tier has this name.")})
    if others.filter(threshold=tier.threshold).exists():
        raise ValidationError({"threshold": _("Another tier starts at this threshold.")})
    tier.save()
    audit_record(tenant, actor, "loyalty.tier_save", None, before=before,
                 after={"name": tier.name, "threshold": tier.threshold})
    transaction.on_commit(lambda: _queue_refresh(tenant.pk))
    return tier


@transaction.atomic
def tier_delete(*, tenant, actor, tier: Tier) -> None:
    """Remove a tier; its customers move to the tier their points reach."""
    access.require(actor, "loyalty.manage", tenant)
    if tier.tenant_id != tenant.pk:
        raise ValidationError(_("This tier belongs to another shop."))
    audit_record(tenant, actor, "loyalty.tier_delete", None,
                 before={"name": tier.name, "threshold": tier.threshold})
    tier.delete()
    transaction.on_commit(lambda: _queue_refresh(tenant.pk))


def tiers_refresh(*, tenant, batch: int = 10_000) -> int:
    """Put every account of the shop in the tier its lifetime points (or spend of the last
    12 months) reach — set-based, a batch of accounts per transaction; each change is
    recorded for the timeline. Returns how many accounts changed tier."""
    program = program_of(tenant)
    tiers = tiers_of(tenant)
    accounts = LoyaltyAccount.objects.filter(tenant_id=tenant.pk)
    if program.tier_basis == TierBasis.SPEND:
        from orders.models import Order, OrderStatus

        spend = (Order.objects.filter(tenant_id=tenant.pk, customer_id=OuterRef("customer_id"),
                                      status=OrderStatus.DELIVERED,
                                      delivered_at__gte=spend_window_start())
                 .values("customer_id")
                 .annotate(s=Sum("total_amount") - Sum("returned_amount")).values("s"))
        accounts = accounts.annotate(value=Coalesce(Subquery(spend), 0))
    else:
        accounts = accounts.annotate(value=F("lifetime"))
    by_pk = {t.pk: t for t in tiers}
    changed = 0
    last = 0
    while True:
        with transaction.atomic():
            # Locked: a point posted meanwhile (under the same lock) cannot be overtaken by
            # a tier decided on the lifetime points read before it.
            rows = list(accounts.select_for_update(of=("self",))
                        .filter(customer_id__gt=last).order_by("customer_id")
                        .values_list("customer_id", "tier_id", "value")[:batch])
            if not rows:
                break
            last = rows[-1][0]
            moves: dict = {}
            for customer_id, tier_id, value in rows:
                new = tier_for(tiers, value)
                current = by_pk.get(tier_id)
                if not program.tiers_can_drop and current is not None and (
                        new is None or new.threshold < current.threshold):
                    new = current
                if (new.pk if new else None) != tier_id:
                    moves.setdefault(new.pk if new else None, []).append((customer_id, current))
            now = timezone.now()
            for tier_pk, items in moves.items():
                new = by_pk.get(tier_pk)
                LoyaltyAccount.objects.filter(
                    tenant_id=tenant.pk, customer_id__in=[c for c, _t in items]).update(
                    tier_id=tier_pk, tier_since=now)
                TierChange.objects.bulk_create(
                    TierChange(tenant_id=tenant.pk, customer_id=c,
                               from_name=cur.name if cur else "", to_name=new.name if new else "",
                               promoted=new is not None and (cur is None
                                                             or new.threshold > cur.threshold))
                    for c, cur in items)
                changed += len(items)
    if changed:
        forget_tier_counts(tenant.pk)
    return changed
