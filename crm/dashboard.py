"""The dashboard's frame: the periods it compares (Vietnam time), the visibility scope its
figures belong to, and their cache. The cards themselves come from the apps
(``crm.registry.register_dashboard_card``); this module knows none of them.

Figures are computed in SQL by each card's provider and cached for ``CACHE_SECONDS`` per
shop, month, visibility scope, language and card: a shop of a million customers pays for its
aggregates once every few minutes, not on every visit (the cold computation is about
1.5 s at 1M customers and 10M orders; a warm page needs no query of its own). "Làm mới"
forgets the entries of the member's scope.
"""

import datetime
from dataclasses import dataclass

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Q
from django.utils import timezone, translation
from django.utils.functional import Promise

from . import access
from .filters import day_start

CACHE_SECONDS = 300  # figures older than this are recomputed
STALE_SECONDS = 3600  # how long older figures may still be shown while one request recomputes
LOCK_SECONDS = 60
CACHE_VERSION = 1  # bump when a provider's dict changes shape: old entries are not read


@dataclass(frozen=True)
class DashboardContext:
    """What a provider needs: the shop, the member (their visibility decides the figures)
    and the periods, all aware datetimes in the shop's time zone (Asia/Ho_Chi_Minh)."""

    tenant: object
    actor: object
    now: datetime.datetime
    month_start: datetime.datetime  # this month's first midnight
    last_month_start: datetime.datetime
    # As far into last month as we are into this one: "this month so far" is compared
    # with the same stretch of last month, not with a whole month.
    last_month_until: datetime.datetime

    @classmethod
    def build(cls, tenant, actor, now: datetime.datetime | None = None) -> "DashboardContext":
        now = timezone.localtime(now or timezone.now())
        month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        last_month_start = day_start(month_start.date() - relativedelta(months=1))
        elapsed = now - month_start
        return cls(tenant=tenant, actor=actor, now=now, month_start=month_start,
                   last_month_start=last_month_start,
                   last_month_until=min(last_month_start + elapsed, month_start))

    @property
    def month(self) -> datetime.date:
        return self.month_start.date()

    def months(self, count: int) -> list[datetime.date]:
        """First days of the last ``count`` months, oldest first, this month last."""
        return [self.month - relativedelta(months=n) for n in range(count - 1, -1, -1)]

    def month_on_month(self, queryset, field: str, measure=None, **extra) -> dict:
        """``measure`` (a filter Q -> aggregate; default a count) over ``queryset`` this month
        so far ("current") and over the same stretch of last month ("previous"), in one
        query that reads only rows since last month's start on ``field``."""
        measure = measure or (lambda condition: Count("pk", filter=condition))
        return queryset.filter(**{f"{field}__gte": self.last_month_start}).aggregate(
            current=measure(Q(**{f"{field}__gte": self.month_start})),
            previous=measure(Q(**{f"{field}__lt": self.last_month_until})), **extra)

    def first_day_param(self) -> str:
        """This month's first day as list filters take it (dd/mm/yyyy)."""
        return self.month.strftime("%d/%m/%Y")

    @property
    def scope(self) -> str:
        """Whose figures these are: the whole shop, or one member's customers."""
        visibility = access.customer_visibility(self.actor)
        if visibility is access.Visibility.ALL:
            return "all"
        return f"{visibility.value}:{getattr(self.actor, 'pk', '-')}"


def compare(current: int, previous: int) -> dict:
    """A figure against the same stretch of last month, for the ▲/▼ badge."""
    # Nothing last month: no percentage (not "+100%"), the page says what it was.
    pct = round(abs(current - previous) * 100 / previous) if previous else None
    return {"current": current, "previous": previous, "pct": pct,
            "up": current > previous, "down": current < previous}


def cache_key(card, ctx: DashboardContext, language: str | None = None) -> str:
    scope = f"member:{getattr(ctx.actor, 'pk', '-')}" if card.personal else ctx.scope
    language = language or translation.get_language() or settings.LANGUAGE_CODE
    return (f"dashboard:v{CACHE_VERSION}:{ctx.tenant.pk}:{ctx.month:%Y%m}:{scope}:"
            f"{language}:{card.key}")


def _plain(value):
    """The provider's dict with its lazy translations made text: unpickling a lazy string
    builds a proxy class each time (about 3 ms per page), text costs nothing. So entries are
    per language."""
    if isinstance(value, Promise):
        return str(value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def figures(cards, ctx: DashboardContext) -> dict:
    """key -> {"data": provider's dict, "at": when computed} for each card that has
    something to show; one cache round trip when warm.

    A card's figures are recomputed when older than ``CACHE_SECONDS``, by one request: the
    others that find them stale meanwhile show them as they are (with their time) for up
    to ``STALE_SECONDS``, instead of all running the same aggregates over a million rows
    at once when the entry expires.
    """
    keys = {card.key: cache_key(card, ctx) for card in cards}
    found = cache.get_many(list(keys.values()))
    fresh_after = timezone.now() - datetime.timedelta(seconds=CACHE_SECONDS)
    result, computed = {}, {}
    for card in cards:
        key = keys[card.key]
        entry = found.get(key)
        stale = entry is not None and entry["at"] < fresh_after
        if entry is None or (stale and cache.add(f"{key}:lock", 1, LOCK_SECONDS)):
            entry = computed[key] = {"data": _plain(card.provider(ctx)), "at": timezone.now()}
        result[card.key] = entry
    if computed:
        cache.set_many(computed, STALE_SECONDS)
        cache.delete_many([f"{key}:lock" for key in computed])
    return {key: entry for key, entry in result.items() if entry["data"] is not None}


def forget(cards, ctx: DashboardContext) -> None:
    """Drop the cached figures these cards have for this member's scope ("Làm mới")."""
    cache.delete_many([cache_key(card, ctx, language) for card in cards
                       for language, _name in settings.LANGUAGES])
