"""Columns of the customer list that a user may show, hide and reorder.

Higher apps add columns, sorts and filters (e.g. orders: spend, last order, debt) with
``crm.registry.register_list_extension(ListExtension(list_key="customers", ...))`` in their
``AppConfig.ready()``.
"""

from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _

from crm import registry
from crm.tables import Column, ColumnChoice

from .models import Tag

PREFERENCE_KEY = "customers.list.columns"
LIST_KEY = "customers"
CELLS = "customers/cells.html#"

# A row's tags in the shop's order (one query for the page).
TAGS = Prefetch("tags", queryset=Tag.objects.select_related("group").order_by("position"))


def _column(key, label, sort=None, **kwargs) -> Column:
    return Column(key, label, sort, cell=CELLS + key, **kwargs)


COLUMNS = [
    _column("code", _("Code"), "code"),
    _column("name", _("Customer"), "name", card=True),
    _column("phone", _("Phone"), card=True),
    _column("email", _("Email")),
    _column("care_status", _("Care status"), card=True, related=("care_status",)),
    _column("lifecycle", _("Lifecycle stage"), card=True),
    _column("membership", _("Membership")),
    _column("source", _("Source"), related=("source__parent",)),
    _column("tags", _("Tags"), prefetch=(TAGS,)),
    _column("staff", _("Staff in charge"), related=("assigned_staff__user",)),
    _column("collaborator", _("Collaborator"), related=("collaborator__user",)),
    _column("province", _("Province / city")),
    _column("birthday", _("Birthday")),
    _column("gender", _("Gender")),
    _column("company", _("Company")),
    _column("created", _("Created at"), "created"),
]
# The name cell carries the code, so the code column is off by default; with the orders
# app's spend and last order this fits a 1366 px screen.
DEFAULT_COLUMNS = ["name", "phone", "care_status", "lifecycle", "tags", "staff"]


def extensions():
    return registry.extensions_of(LIST_KEY)


def all_columns() -> list[Column]:
    return COLUMNS + [c for ext in extensions() for c in ext.columns]


def columns_by_key() -> dict[str, Column]:
    return {c.key: c for c in all_columns()}


def default_columns() -> list[str]:
    return DEFAULT_COLUMNS + [k for ext in extensions() for k in ext.default_columns]


# The customer list's column chooser (crm.generic.TenantListView.column_choice).
CUSTOMER_COLUMNS = ColumnChoice(PREFERENCE_KEY, all_columns, default_columns)
