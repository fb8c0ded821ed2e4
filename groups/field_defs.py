"""The groups app's field in the customer field registry: "Thuộc nhóm" (the customer is
a member of one of these groups now: the materialized membership)."""

from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from customers.fields import CustomerField, FieldType, register_field

from .models import CustomerGroup, GroupMember


def member_of_q(tenant, op, value) -> Q:
    member = Exists(GroupMember.objects.for_tenant(tenant).filter(
        customer=OuterRef("pk"), group__in=value))
    return ~member if op == "not_in" else member


def groups_of(customer) -> list:
    return list(CustomerGroup.objects.for_tenant(customer.tenant_id)
                .filter(members__customer=customer, archived_at__isnull=True))


FIELDS = [
    CustomerField(
        "group", _("Member of group"), FieldType.RELATION, section="groups",
        operators=("in", "not_in"), condition=member_of_q, value=groups_of,
        queryset=lambda: CustomerGroup.objects.filter(archived_at__isnull=True),
        order=90, panel="main"),
]


def register() -> None:
    for entry in FIELDS:
        register_field(entry)
