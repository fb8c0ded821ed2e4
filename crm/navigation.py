"""The backoffice sidebar, from the entries apps register (``crm.registry.NavEntry``)."""

from django.urls import reverse

from . import registry
from .access import can


def nav_for(membership, current_path: str) -> list[dict]:
    """The entries ``membership`` may open, the one the current page belongs to active.

    A page belongs to the entry with the longest URL prefix of its path; a Settings section
    that lives under another app's URL (/admin/customers/settings/tag/, /admin/orders/api-keys/)
    belongs to Settings.
    """
    entries = [(e, reverse(e.url_name)) for e in registry.nav_entries
               if can(membership, e.action)]
    settings_urls = [reverse(s.url_name) for s in registry.settings_sections]
    if any(current_path.startswith(url) for url in settings_urls):
        active = "settings"
    else:
        matches = [(len(url), e.key) for e, url in entries if current_path.startswith(url)]
        active = max(matches)[1] if matches else None
    return [{"label": e.label, "url": url, "icon": e.icon, "active": e.key == active}
            for e, url in entries]
