"""The extension points: how an app adds to pages owned by another (DESIGN.md: ``crm``
imports no app, ``customers`` imports no higher app). Each app calls these typed
``register_*`` functions in its ``AppConfig.ready()``; the pages only read what is
registered, so an app that is not installed leaves no trace (no URL names of other apps
here or in ``crm``'s views).

Registering twice (``ready()`` may run again in tests) keeps one entry per key.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


def _put(entries: list, entry, *, sort=None) -> None:
    """Add ``entry`` or replace the one with its key; keep ``entries`` sorted."""
    for i, existing in enumerate(entries):
        if existing.key == entry.key:
            entries[i] = entry
            break
    else:
        entries.append(entry)
    if sort:
        entries.sort(key=sort)


# --- the sidebar ----------------------------------------------------------------------------

@dataclass(frozen=True)
class NavEntry:
    key: str
    label: str
    url_name: str
    icon: str
    order: int
    action: str = "dashboard.view"  # the access table's action that shows the entry


nav_entries: list[NavEntry] = []


def register_nav_entry(entry: NavEntry) -> None:
    _put(nav_entries, entry, sort=lambda e: e.order)


# --- Settings sections ----------------------------------------------------------------------

@dataclass(frozen=True)
class SettingsSection:
    label: str
    url_name: str
    icon: str
    description: str = ""
    action: str = "settings.view"  # the access table's action that shows the section

    @property
    def key(self) -> str:
        return self.url_name


settings_sections: list[SettingsSection] = []


def register_settings_section(section: SettingsSection) -> None:
    _put(settings_sections, section)


# --- the customer profile's tabs (/admin/customers/<code>/<tab>/ or an app's own URL) --------

@dataclass(frozen=True)
class ProfileTab:
    key: str
    label: str
    url_name: str  # takes the customer code as ``code``
    order: int
    action: str = "customer.view"  # the access table's action that shows the tab
    # (tenant) -> bool: whether the shop uses what the tab shows (loyalty: the program is
    # on); None: always.
    shown: Callable[[Any], bool] | None = None


profile_tabs: list[ProfileTab] = []


def register_profile_tab(tab: ProfileTab) -> None:
    _put(profile_tabs, tab, sort=lambda t: t.order)


# --- figures on the profile's overview card -------------------------------------------------

@dataclass(frozen=True)
class CustomerTotals:
    """``provider(customer) -> dict`` of some of ``customers.tabs.TOTAL_KEYS``."""

    key: str
    provider: Callable[[Any], dict]


customer_totals_providers: list[CustomerTotals] = []


def register_customer_totals(entry: CustomerTotals) -> None:
    _put(customer_totals_providers, entry)


# --- rows of the profile's overview card ----------------------------------------------------

@dataclass(frozen=True)
class OverviewRows:
    """Rows an app adds to the overview card of the customer profile (loyalty: Xếp hạng
    thành viên, Điểm thành viên and "Cập nhật điểm").

    ``context(customer, actor) -> dict | None`` gives ``template`` its values as ``rows``
    (None: nothing to show, e.g. the shop does not use it); a fixed number of queries.
    Shown to members the access table allows ``action``, in ``order``.
    """

    key: str
    template: str
    context: Callable[[Any, Any], dict | None]
    order: int = 100
    action: str = "customer.view"


overview_rows: list[OverviewRows] = []


def register_overview_rows(entry: OverviewRows) -> None:
    _put(overview_rows, entry, sort=lambda e: e.order)


def _blocks(entries, actor, context: Callable[[Any], Any], name: str) -> list[dict]:
    """``{"template", name: data}`` for each entry the access table shows ``actor`` whose
    ``context(entry)`` is not None."""
    from . import access

    blocks = []
    for entry in entries:
        if not access.can(actor, entry.action):
            continue
        data = context(entry)
        if data is not None:
            blocks.append({"template": entry.template, name: data})
    return blocks


def overview_blocks(customer, actor) -> list[dict]:
    """What the overview card includes: ``{"template", "rows"}`` per shown entry."""
    return _blocks(overview_rows, actor, lambda e: e.context(customer, actor), "rows")


# --- toolbars above a list: a strip another app adds (saved filter chips) ------------------

@dataclass(frozen=True)
class ListToolbar:
    """A strip an app shows above a list owned by another (``list_key``, e.g. "customers").

    ``context(request, list_context) -> dict | None`` gives ``template`` its values as
    ``toolbar`` (None: nothing to show); ``list_context`` is the list's own context (its
    columns, query). It runs for the whole page only, never for the table's htmx requests,
    so its queries count once per visit. Shown to members the access table allows
    ``action``, in ``order``.
    """

    key: str
    list_key: str
    template: str
    context: Callable[[Any, dict], dict | None]
    order: int = 100
    action: str = "customer.view"


list_toolbars: list[ListToolbar] = []


def register_list_toolbar(toolbar: ListToolbar) -> None:
    _put(list_toolbars, toolbar, sort=lambda t: t.order)


def toolbars_of(list_key: str) -> list[ListToolbar]:
    return [t for t in list_toolbars if t.list_key == list_key]


def toolbar_blocks(list_key: str, request, list_context: dict) -> list[dict]:
    """What the list's template includes: ``{"template", "toolbar"}`` per shown toolbar."""
    return _blocks(toolbars_of(list_key), getattr(request, "membership", None),
                   lambda t: t.context(request, list_context), "toolbar")


# --- actions above a list: a button or a dropdown another app adds (the export) ---------

@dataclass(frozen=True)
class ListActionItem:
    """One choice of a list action's dropdown: the fields it posts (``format=xlsx``)."""

    label: Any
    fields: tuple = ()  # ((name, value), ...)
    icon: str = ""


@dataclass(frozen=True)
class ListAction:
    """A button an app adds above a list owned by another (``list_key``: "customers",
    "group", "orders", "ledger"). It posts to ``url_name`` with the list's current query
    string (its filters, search and sort), so the action works on exactly what the list
    shows; with ``items``, a dropdown whose each choice posts its own ``fields``. Shown to
    members the access table allows ``action``, in ``order``. The list's template renders
    them with ``{% list_actions "customers" %}`` (URL kwargs after the key: ``pk=group.pk``).
    """

    key: str
    list_key: str
    label: Any
    url_name: str
    icon: str
    action: str = "customer.view"
    items: tuple = ()  # ListActionItem, ...; () posts nothing but the query string
    order: int = 100


list_actions: list[ListAction] = []

# Query parameters that move a list's page, not what it shows: never carried.
LIST_PAGE_PARAMS = ("after", "before", "_panel")


def register_list_action(entry: ListAction) -> None:
    _put(list_actions, entry, sort=lambda a: a.order)


def list_action_links(list_key: str, request, **url_kwargs) -> list[dict]:
    """The actions of ``list_key`` the signed-in member may take, each with its ``url``
    (the list's query string carried) and ``base`` (the URL without it)."""
    from django.urls import reverse

    from . import access

    actor = getattr(request, "membership", None)
    query = request.GET.copy()
    for name in LIST_PAGE_PARAMS:
        query.pop(name, None)
    query = query.urlencode()
    links = []
    for entry in list_actions:
        if entry.list_key != list_key or not access.can(actor, entry.action):
            continue
        base = reverse(entry.url_name, kwargs=url_kwargs or None)
        links.append({"entry": entry, "base": base,
                      "url": f"{base}?{query}" if query else base})
    return links


# --- demo data ------------------------------------------------------------------------------

@dataclass(frozen=True)
class DemoSeeder:
    """``seed_demo`` creates the shop and its staff, then calls each seeder in ``order``
    with (tenant, memberships_by_role, count) so that apps add their own demo rows."""

    key: str
    order: int
    seed: Callable[..., Any]


demo_seeders: list[DemoSeeder] = []


def register_demo_seeder(seeder: DemoSeeder) -> None:
    _put(demo_seeders, seeder, sort=lambda s: s.order)


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
