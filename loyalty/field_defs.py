"""The loyalty app's fields in the customer field registry (customers.fields): points,
lifetime points and tier, read from the narrow ``LoyaltyAccount`` row.

A customer without an account has never earned: 0 points, and the tier that starts at 0
(Đồng by default) — "tier is Đồng" holds for them too.
"""

from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from crm.tables import Column
from customers.fields import CustomerField, FieldIO, FieldType, register_field

from .extensions import shown
from .models import Tier
from .services.program import tier_for, tiers_of

CELLS = "loyalty/cells.html#"


def tier_q(tenant, op, value) -> Q:
    ids = [int(v) for v in value]
    q = Q(loyalty__tier__in=ids)
    base = tier_for(tiers_of(tenant), 0)
    if base is not None and base.pk in ids:
        q |= Q(loyalty__isnull=True)
    return ~q if op == "not_in" else q


def tier_of(customer):
    """The account's tier (none while a deleted tier's customers wait for the refresh);
    without an account, the tier that starts at 0 — what ``tier_q`` and the profile say."""
    account = getattr(customer, "loyalty", None)
    if account is not None:
        return account.tier if account.tier_id else None
    return _base_tier(customer.tenant)


def _base_tier(tenant):
    """The tier that starts at 0, read once per tenant object (a list or an export asks it
    for every customer without an account)."""
    if not hasattr(tenant, "_loyalty_base_tier"):
        tenant._loyalty_base_tier = tier_for(tiers_of(tenant), 0)
    return tenant._loyalty_base_tier


def balance_of(customer) -> int:
    account = getattr(customer, "loyalty", None)
    return account.balance if account is not None else 0


def import_balances(tenant, actor, job, pairs) -> None:
    """The importer's "Điểm" column: each customer's balance becomes the file's count."""
    from .services import points_set_balances

    reason = (gettext("Opening balance from the Excel file %(file)s") % {"file": job.file_name}
              if job is not None else gettext("Opening balance from an Excel file"))
    points_set_balances(tenant=tenant, actor=actor, balances=pairs, reason=reason)


FIELDS = [
    CustomerField(
        "points", _("Points"), FieldType.NUMBER, section="loyalty", path="loyalty__balance",
        missing=0, related=("loyalty",), unit=_("points"), order=70, panel="more", shown=shown,
        io=FieldIO(("Điểm", "Điểm tích lũy", "Điểm hiện tại", "Số điểm", "Điểm thưởng",
                    "Points", "Loyalty points"), parse="points", export=balance_of,
                   apply=import_balances, shown=shown),
        column=Column("points", _("Points"), None, cell=CELLS + "points", css="text-end",
                      related=("loyalty",))),
    CustomerField(
        "lifetime_points", _("Lifetime points"), FieldType.NUMBER, section="loyalty",
        path="loyalty__lifetime", missing=0, related=("loyalty",), unit=_("points"),
        order=71, panel="more", shown=shown),
    CustomerField(
        "tier", _("Tier"), FieldType.RELATION, section="loyalty", path="loyalty__tier",
        queryset=Tier.objects.all, condition=tier_q, value=tier_of,
        related=("loyalty__tier",), operators=("in", "not_in"), order=72, panel="more",
        shown=shown,
        column=Column("tier", _("Tier"), None, cell=CELLS + "tier",
                      related=("loyalty__tier",))),
]


def register() -> None:
    for entry in FIELDS:
        register_field(entry)
