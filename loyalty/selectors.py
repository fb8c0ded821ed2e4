"""Reads of the loyalty app that views, tasks and reports share."""

from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import Count, Sum

from crm.pagination import ListResult, keyset_paginate
from customers.activity import actor_name
from customers.models import Customer

from .models import LedgerCheck, LoyaltyAccount, LoyaltyProgram, PointEntry, Tier, TierBasis
from .services.program import (
    program_of,
    spend_12_months,
    tier_counts_key,
    tier_for,
    tiers_of,
)


@dataclass(frozen=True)
class AccountView:
    """What the profile shows: a customer without an account holds 0 points and the tier
    that starts at 0 (if the shop has one)."""

    balance: int
    lifetime: int
    tier: Tier | None


def account_of(customer, tiers: list[Tier] | None = None) -> AccountView:
    """``tiers`` (the shop's, by threshold) when the caller has them already."""
    account = (LoyaltyAccount.objects.filter(customer_id=customer.pk,
                                             tenant_id=customer.tenant_id)
               .select_related("tier").first())
    if account is not None:
        return AccountView(account.balance, account.lifetime,
                           account.tier if account.tier_id else None)
    tiers = tiers_of(customer.tenant) if tiers is None else tiers
    return AccountView(0, 0, tier_for(tiers, 0))


def customer_ledger(customer, *, page_size: int = 20, before_id: int | None = None,
                    balance: int | None = None) -> dict:
    """A page of the customer's entries, newest first, each with the balance right after it
    (the account's balance minus what the newer entries moved). Keyset by id. ``balance``:
    the account's balance when the caller read it already."""
    entries = (PointEntry.objects.filter(tenant_id=customer.tenant_id, customer_id=customer.pk)
               .select_related("order", "actor").order_by("-id"))
    account = balance if balance is not None else (
        LoyaltyAccount.objects.filter(customer_id=customer.pk,
                                      tenant_id=customer.tenant_id).values_list(
            "balance", flat=True).first() or 0)
    balance = account
    if before_id is not None:
        newer = entries.filter(id__gte=before_id).aggregate(s=Sum("delta"))["s"] or 0
        balance -= newer
        entries = entries.filter(id__lt=before_id)
    rows = list(entries[: page_size + 1])
    more = len(rows) > page_size
    rows = rows[:page_size]
    for row in rows:
        row.balance_after = balance
        row.actor_label = actor_name(row.actor)
        balance -= row.delta
    return {"entries": rows, "next_before": rows[-1].pk if more and rows else None,
            "balance": account}


def shop_ledger(tenant, *, kind: str = "", actor_id: int | None = None, date_from=None,
                date_to=None):
    """The shop's entries, newest first (the Tích điểm page filters them)."""
    entries = (PointEntry.objects.for_tenant(tenant)
               .select_related("customer", "order", "actor").order_by("-id"))
    if kind:
        entries = entries.filter(kind=kind)
    if actor_id:
        entries = entries.filter(actor_id=actor_id)
    if date_from:
        entries = entries.filter(effective_date__gte=date_from)
    if date_to:
        entries = entries.filter(effective_date__lte=date_to)
    return entries


TIER_COUNTS_SECONDS = 300


def tier_distribution(tenant, tiers: list[Tier] | None = None) -> list[dict]:
    """Customers per tier (as of up to 5 minutes ago) and their share in percent.
    Customers without an account (never earned) hold 0 points: they count in the tier
    that starts at 0, or under "no tier"."""
    counted = cache.get(tier_counts_key(tenant.pk))
    if counted is None:
        # Two scans of the shop (its accounts by tier, its customers): ~110 ms at a
        # million customers, so kept a few minutes; a tier change or refresh drops it.
        counted = {"tiers": dict(LoyaltyAccount.objects.filter(tenant_id=tenant.pk)
                                 .values_list("tier_id").annotate(n=Count("customer_id"))
                                 .order_by()),
                   "customers": Customer.objects.for_tenant(tenant).count()}
        cache.set(tier_counts_key(tenant.pk), counted, TIER_COUNTS_SECONDS)
    counts = counted["tiers"]
    tiers = tiers_of(tenant) if tiers is None else tiers
    without_account = counted["customers"] - sum(counts.values())
    base = tier_for(tiers, 0)
    rows = [{"tier": t, "count": counts.get(t.pk, 0)
             + (without_account if base is not None and t.pk == base.pk else 0)}
            for t in tiers]
    rest = counts.get(None, 0) + (without_account if base is None else 0)
    if rest:
        rows.append({"tier": None, "count": rest})
    total = sum(row["count"] for row in rows)
    for row in rows:
        row["percent"] = round(row["count"] * 100 / total) if total else 0
    return rows


def latest_check(tenant) -> LedgerCheck | None:
    return LedgerCheck.objects.for_tenant(tenant).order_by("-ran_at").first()


# --- what the screens add ------------------------------------------------------------------

LEDGER_ORDER = ["-id"]  # newest first; point_shop_idx (tenant, id) walks it


def ledger_page(queryset, *, after=None, before=None, size: int = 50) -> ListResult:
    """One keyset page of (filtered) shop entries for the Tích điểm page, with who wrote
    each. Not counted: at ten million entries even a capped count costs more than the page,
    and the page says "newest first" instead of a total."""
    page = keyset_paginate(queryset.select_related("customer", "order", "actor"),
                           order=LEDGER_ORDER, after=after, before=before, size=size)
    for row in page.rows:
        row.actor_label = actor_name(row.actor)
    return ListResult(page=page, count=None, more=False)


@dataclass(frozen=True)
class TierProgress:
    """How far a customer is from the next tier: ``remaining`` points (or đồng of spend,
    ``by_spend``) and the share of the way from the current tier, in percent."""

    tier: Tier
    remaining: int
    percent: int
    by_spend: bool


def tier_progress(customer, account: AccountView, program: LoyaltyProgram,
                  tiers: list[Tier]) -> TierProgress | None:
    """None at the top tier or without tiers. Tiers by spend read the customer's spend of
    the last 12 months (one query)."""
    if not tiers:
        return None
    by_spend = program.tier_basis == TierBasis.SPEND
    value = spend_12_months(customer.pk, customer.tenant) if by_spend else account.lifetime
    floor = account.tier.threshold if account.tier is not None else None
    upcoming = next((t for t in tiers if t.threshold > value
                     and (floor is None or t.threshold > floor)), None)
    if upcoming is None:
        return None
    start = floor if floor is not None else 0
    span = upcoming.threshold - start
    percent = 0 if span <= 0 else max(0, min(100, (value - start) * 100 // span))
    return TierProgress(upcoming, upcoming.threshold - value, percent, by_spend)


def points_tab(customer, *, before_id: int | None = None, page_size: int = 20) -> dict:
    """Everything the Điểm tab shows, in a fixed number of queries (program, tiers,
    account, the page of entries; one more for spend when tiers follow it; one more for
    the balance before an older page)."""
    program = program_of(customer.tenant)
    tiers = tiers_of(customer.tenant)
    account = account_of(customer, tiers)
    ledger = customer_ledger(customer, page_size=page_size, before_id=before_id,
                             balance=account.balance)
    return {"program": program, "tiers": tiers, "account": account, "ledger": ledger,
            "worth": account.balance * program.point_value,
            "progress": tier_progress(customer, account, program, tiers)}


def program_channels(program: LoyaltyProgram) -> list:
    """The channels that earn (empty: every channel), named "Group › Channel"."""
    if program._state.adding:
        return []
    return list(program.earn_channels.select_related("parent").order_by(
        "parent__position", "position", "id"))


__all__ = ["account_of", "customer_ledger", "latest_check", "ledger_page", "points_tab",
           "program_channels", "program_of", "shop_ledger", "tier_distribution",
           "tier_progress"]
