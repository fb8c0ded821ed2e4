"""The backoffice sidebar. Apps' pages appear once their URL exists (others stay hidden)."""

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .access import can


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    icon: str
    action: str = "dashboard.view"


NAV_ITEMS = [
    NavItem(_("Dashboard"), "crm:dashboard", "ti-layout-dashboard"),
    NavItem(_("Customers"), "customers:customer_list", "ti-users", "customer.view"),
    NavItem(_("Customer groups"), "groups:group_list", "ti-users-group", "order.view"),
    NavItem(_("Orders"), "orders:order_list", "ti-receipt", "order.view"),
    NavItem(_("Loyalty points"), "loyalty:overview", "ti-award", "order.view"),
    NavItem(_("Excel import/export"), "customers:import", "ti-file-spreadsheet", "settings.view"),
    NavItem(_("Care schedule"), "customers:followup_list", "ti-calendar-event"),
    NavItem(_("Reports"), "crm:reports", "ti-chart-bar", "settings.view"),
    NavItem(pgettext_lazy("menu", "Staff"), "crm:staff_list", "ti-id-badge-2", "staff.view"),
    NavItem(_("Settings"), "crm:settings", "ti-settings", "settings.view"),
]


def nav_for(membership, current_path: str) -> list[dict]:
    items = []
    for item in NAV_ITEMS:
        if not can(membership, item.action):
            continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue
        root = reverse("crm:dashboard")
        active = current_path == url if url == root else current_path.startswith(url)
        items.append({"label": item.label, "url": url, "icon": item.icon, "active": active})
    return items
