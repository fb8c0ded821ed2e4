"""Columns of the customer list that a user may show, hide and reorder.

Higher apps add columns, sorts and filters (e.g. orders: spend, last order, debt) through
``register_list_extension`` in their ``AppConfig.ready()``.
"""

from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

PREFERENCE_KEY = "customers.list.columns"


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    sort: str | None = None  # key of the list's sorts
    template: str = ""  # a cell template of another app; "" = customers/_cell.html


COLUMNS = [
    Column("code", _("Code"), "code"),
    Column("name", _("Customer"), "name"),
    Column("phone", _("Phone")),
    Column("email", _("Email")),
    Column("care_status", _("Care status")),
    Column("lifecycle", _("Lifecycle stage")),
    Column("membership", _("Membership")),
    Column("source", _("Source")),
    Column("tags", _("Tags")),
    Column("staff", _("Staff in charge")),
    Column("collaborator", _("Collaborator")),
    Column("province", _("Province / city")),
    Column("birthday", _("Birthday")),
    Column("gender", _("Gender")),
    Column("company", _("Company")),
    Column("created", _("Created at"), "created"),
]
# Fits 1366 px with the orders app's spend and last order columns.
DEFAULT_COLUMNS = ["code", "name", "phone", "care_status", "lifecycle", "tags", "staff"]


@dataclass
class ListExtension:
    columns: list[Column] = field(default_factory=list)
    default_columns: list[str] = field(default_factory=list)
    # sort key -> (keyset order, annotations the order needs)
    sorts: dict = field(default_factory=dict)
    filterset_mixins: list = field(default_factory=list)
    select_related: list[str] = field(default_factory=list)


extensions: list[ListExtension] = []


def register_list_extension(extension: ListExtension) -> None:
    if extension not in extensions:
        extensions.append(extension)


def all_columns() -> list[Column]:
    return COLUMNS + [c for ext in extensions for c in ext.columns]


def columns_by_key() -> dict[str, Column]:
    return {c.key: c for c in all_columns()}


def default_columns() -> list[str]:
    return DEFAULT_COLUMNS + [k for ext in extensions for k in ext.default_columns]
