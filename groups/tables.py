"""Columns of the group list (crm/tables.py; cells in templates/groups/cells.html), and the
"Vì sao?" column the group page adds to the customer list of its members."""

from django.utils.translation import gettext_lazy as _

from crm.tables import Column

CELLS = "groups/cells.html#group_"

GROUP_COLUMNS = [
    Column("name", _("Group name"), sort="name", cell=CELLS + "name", card=True),
    Column("kind", _("Kind"), cell=CELLS + "kind", card=True),
    Column("members", _("Members"), sort="members", cell=CELLS + "members",
           css="text-end", card=True),
    Column("recomputed", _("Last recompute"), cell=CELLS + "recomputed",
           css="d-none d-lg-table-cell"),
    Column("actions", "", cell=CELLS + "actions", css="text-end", card=True),
]

WHY_COLUMN = Column("why", "", cell=CELLS + "why", css="text-end", card=True)
