"""Extension points that let higher apps add to pages owned by lower ones (DESIGN.md:
``crm`` imports no app). Apps register in their ``AppConfig.ready()``."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SettingsSection:
    label: str
    url_name: str
    icon: str
    description: str = ""
    action: str = "settings.view"  # the access table's action that shows the section


settings_sections: list[SettingsSection] = []


def register_settings_section(section: SettingsSection) -> None:
    if section not in settings_sections:
        settings_sections.append(section)


# Demo data: ``seed_demo`` creates the shop and its staff, then calls each app's seeder
# with (tenant, memberships_by_role, count) so that apps add their own demo rows.
demo_seeders: list = []


def register_demo_seeder(func) -> None:
    if func not in demo_seeders:
        demo_seeders.append(func)


# --- the dashboard (/admin/) ----------------------------------------------------------------

@dataclass(frozen=True)
class DashboardCard:
    """One card of the dashboard.

    ``provider(ctx: crm.dashboard.DashboardContext) -> dict | None`` computes the card's
    figures in SQL (None: nothing to show, the card is left out). The dict is cached for a
    few minutes per shop, month and visibility scope (``personal``: per member), so it holds
    plain values (lazy translations are fine) and no query sets. ``template`` renders it
    with ``data`` (the dict) and ``card``. Cards are shown to roles the access table allows
    ``action``, in ``order``: "kpi" cards in the row of figures at the top, "chart" and
    "list" cards in the panels below it.
    """

    key: str
    order: int
    provider: Callable[[Any], dict | None]
    template: str = "crm/dashboard/_kpi.html"
    kind: str = "kpi"
    action: str = "dashboard.view"
    personal: bool = False  # the signed-in member's own figures, not the scope's
    width: str = "col-lg-6"  # grid column of a chart or list card from laptop width up


dashboard_cards: list[DashboardCard] = []


def register_dashboard_card(card: DashboardCard) -> None:
    """Add ``card``, or replace the card of its key; cards stay in ``order``."""
    kept = [c for c in dashboard_cards if c.key != card.key]
    dashboard_cards[:] = sorted([*kept, card], key=lambda c: c.order)


# --- the customer's timeline (profile › Ghi chú & hoạt động) --------------------------------

@dataclass(frozen=True)
class TimelineEntry:
    """One event of a customer's timeline, told by the app that owns it."""

    when: Any  # an aware datetime
    icon: str  # tabler icon name, "ti-truck-delivery"
    sentence: str  # what happened, in words: "Đơn DH000012 đã giao"
    url: str = ""  # where the event's object opens (the order page)
    actor: str = ""  # who did it, a person's name; empty for the system or a channel
    amount: int | None = None  # whole đồng, when the event is about money
    tone: str = ""  # "danger" / "success" / "warning" to colour the icon; "" neutral


@dataclass(frozen=True)
class TimelineSource:
    """``provider(customer, actor, limit) -> list[TimelineEntry]``: at most ``limit``
    newest events of the customer, in a fixed number of queries (the profile pins its
    count). Shown to members the access table allows ``action``; the provider still
    answers only what ``actor`` may see."""

    key: str
    provider: Callable[[Any, Any, int], list[TimelineEntry]]
    action: str = "customer.view"


timeline_sources: list[TimelineSource] = []


def register_timeline_source(source: TimelineSource) -> None:
    """Add ``source``, or replace the one registered under its key."""
    timeline_sources[:] = [s for s in timeline_sources if s.key != source.key] + [source]
