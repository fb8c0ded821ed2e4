"""The backoffice sidebar, from the entries apps register (``crm.registry.NavEntry``)."""

from django.urls import reverse

from . import registry
from .access import can

SETTINGS_KEY = "settings"


def active_prefixes(entries: list) -> list[tuple[str, str, bool]]:
    """(URL prefix, entry key, is the entry's own URL) for every prefix that lights an entry:
    each entry's own URL, and each Settings section's URL for Settings, since a section may
    live under another app's URL (/admin/customers/settings/tag/, /admin/orders/api-keys/)."""
    prefixes = [(url, e.key, True) for e, url in entries]
    prefixes += [(reverse(s.url_name), SETTINGS_KEY, False) for s in registry.settings_sections]
    return prefixes


def active_key(current_path: str, prefixes: list[tuple[str, str, bool]]) -> str | None:
    """The entry of the longest prefix of ``current_path``; on a tie an entry's own URL wins
    (Nhân sự is an entry and a Settings section: its pages light Nhân sự). The backoffice
    root (the dashboard) matches itself only, not every page under it."""
    root = reverse("crm:dashboard")
    matches = [(len(url), own, key) for url, key, own in prefixes
               if (current_path == url if url == root else current_path.startswith(url))]
    return max(matches)[2] if matches else None


def nav_for(membership, current_path: str) -> list[dict]:
    """The entries ``membership`` may open, the one the current page belongs to active."""
    entries = [(e, reverse(e.url_name)) for e in registry.nav_entries
               if can(membership, e.action)]
    active = active_key(current_path, active_prefixes(entries))
    return [{"label": e.label, "url": url, "icon": e.icon, "active": e.key == active}
            for e, url in entries]
