"""Columns of the customer list that a user may show, hide and reorder."""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

PREFERENCE_KEY = "customers.list.columns"


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    sort: str | None = None  # key of selectors.SORTS


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
COLUMNS_BY_KEY = {c.key: c for c in COLUMNS}
DEFAULT_COLUMNS = ["code", "name", "phone", "care_status", "lifecycle", "source", "tags",
                   "staff", "created"]

