"""Columns of the order list (crm/tables.py); cells in templates/orders/cells.html.

Narrower screens drop what is repeated elsewhere: the contact's phone shows under the
customer below 1400 px, the channel below 992 px, the date below 768 px; on a phone each
order is a card with its code, customer, status and total.
"""

from django.utils.translation import gettext_lazy as _

from crm.tables import Column

CELLS = "orders/cells.html#order_"

ORDER_COLUMNS = [
    Column("code", _("Code"), cell=CELLS + "code", card=True),
    Column("ordered_at", _("Ordered at"), cell=CELLS + "ordered_at",
           css="d-none d-md-table-cell"),
    Column("customer", _("Customer"), cell=CELLS + "customer", card=True),
    Column("contact", _("Contact"), cell=CELLS + "contact", css="d-none d-xxl-table-cell"),
    Column("channel", _("Channel"), cell=CELLS + "channel", css="d-none d-lg-table-cell"),
    Column("status", _("Status"), cell=CELLS + "status", card=True),
    Column("total", _("Total"), cell=CELLS + "total", css="text-end", card=True),
    Column("debt", _("Debt"), cell=CELLS + "debt", css="text-end"),
]
