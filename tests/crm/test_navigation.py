"""crm.navigation: the sidebar entry a page belongs to."""

import pytest

from crm.navigation import nav_for

pytestmark = pytest.mark.django_db


def active(membership, path):
    return [item["label"] for item in nav_for(membership, path) if item["active"]]


@pytest.mark.parametrize("path,entry", [
    ("/admin/", "Dashboard"),
    ("/admin/customers/", "Customers"),
    ("/admin/customers/KH000001/history/", "Customers"),
    ("/admin/customers/pending/", "Customers"),
    ("/admin/orders/DH000001/", "Orders"),
    # Settings sections that live under another app's URL belong to Settings.
    ("/admin/settings/", "Settings"),
    ("/admin/customers/settings/tag/", "Settings"),
    ("/admin/customers/settings/source/3/", "Settings"),
    ("/admin/orders/api-keys/", "Settings"),
    ("/admin/orders/recompute/", "Settings"),
    # Nhân sự is an entry of its own and a Settings section: it lights itself.
    ("/admin/staff/", "Staff"),
    ("/admin/staff/3/", "Staff"),
])
def test_the_page_lights_its_own_sidebar_entry(owner, path, entry):
    from django.utils import translation

    with translation.override("en"):
        assert active(owner, path) == [entry]


def test_pages_outside_every_entry_light_none(owner):
    assert active(owner, "/admin/account/") == []
