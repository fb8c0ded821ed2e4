"""The backoffice sidebar. Apps' pages appear once their URL exists (others stay hidden)."""

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .models import Role


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    icon: str
    min_role: str = Role.COLLABORATOR


NAV_ITEMS = [
    NavItem(_("Dashboard"), "crm:dashboard", "ti-layout-dashboard"),
    NavItem(_("Customers"), "customers:customer_list", "ti-users"),
    NavItem(_("Customer groups"), "groups:group_list", "ti-users-group", Role.STAFF),
    NavItem(_("Orders"), "orders:order_list", "ti-receipt", Role.STAFF),
    NavItem(_("Loyalty points"), "loyalty:overview", "ti-award", Role.STAFF),
    NavItem(_("Excel import/export"), "customers:import", "ti-file-spreadsheet", Role.MANAGER),
    NavItem(_("Care schedule"), "customers:followup_list", "ti-calendar-event"),
    NavItem(_("Reports"), "crm:reports", "ti-chart-bar", Role.MANAGER),
    NavItem(pgettext_lazy("menu", "Staff"), "crm:staff_list", "ti-id-badge-2", Role.MANAGER),
    NavItem(_("Settings"), "crm:settings", "ti-settings", Role.MANAGER),
]


def nav_for(membership, current_path: str) -> list[dict]:
    items = []
    for item in NAV_ITEMS:
        if membership is None or not membership.has_role(item.min_role):
            continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue
        root = reverse("crm:dashboard")
        active = current_path == url if url == root else current_path.startswith(url)
        items.append({"label": item.label, "url": url, "icon": item.icon, "active": active})
    return items
