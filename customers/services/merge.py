"""Merging duplicate customers."""



from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm import access
from crm.audit import audit_record
from crm.models import AuditLog

from ..models import (
    Customer,
    CustomerAlias,
    CustomerEmail,
    CustomerNote,
    CustomerPhone,
    CustomerTag,
    LifecycleStage,
    MembershipState,
    RegistrationRequest,
    Tag,
)
from ..signals import customers_merged
from .records import CUSTOMER_FIELDS, _fresh, require_customer, snapshot

# --- merging duplicates ------------------------------------------------------------------

MERGE_FIELDS = [f for f in CUSTOMER_FIELDS if f not in ("membership_state", "lifecycle_stage")]
MEMBERSHIP_RANK = [MembershipState.CANCELLED, MembershipState.GUEST, MembershipState.PENDING,
                   MembershipState.ACTIVE]
LIFECYCLE_RANK = [LifecycleStage.NEW, LifecycleStage.POTENTIAL, LifecycleStage.PURCHASED,
                  LifecycleStage.VIP]


def merge_defaults(survivor: Customer, merged: Customer) -> dict[str, str]:
    """For each field, which side wins by default: the non-empty one; if both are filled,
    the one updated most recently."""
    newer = "merged" if merged.updated_at > survivor.updated_at else "survivor"
    choices = {}
    for field in MERGE_FIELDS:
        s_val, m_val = getattr(survivor, field), getattr(merged, field)
        if not m_val:
            choices[field] = "survivor"
        elif not s_val:
            choices[field] = "merged"
        else:
            choices[field] = "survivor" if s_val == m_val else newer
    return choices


@transaction.atomic
def customers_merge(*, tenant, actor, survivor: Customer, merged: Customer,
                    choices: dict[str, str] | None = None) -> Customer:
    """Merge ``merged`` into ``survivor``; nothing of either is lost.

    Field values follow ``choices`` (field -> "survivor" | "merged"; defaults from
    merge_defaults). Phones, emails, tags, notes, referrals and history move to the
    survivor, higher apps move their rows on ``customers_merged``, the merged code stays
    as an alias that redirects, and one audit row records both codes.
    """
    if survivor.tenant_id != tenant.pk or merged.tenant_id != tenant.pk:
        raise ValidationError(_("Both customers must belong to this shop."))
    require_customer(actor, "customer.merge", survivor)
    require_customer(actor, "customer.merge", merged)
    if survivor.pk == merged.pk:
        raise ValidationError(_("Choose two different customers."))
    locked = {c.pk: c for c in Customer.objects.for_tenant(tenant)
              .filter(pk__in=[survivor.pk, merged.pk]).select_for_update().order_by("pk")}
    if len(locked) != 2:
        raise ValidationError(_("One of the customers no longer exists."))
    survivor, merged = _fresh(survivor), _fresh(merged)
    before = {"survivor": snapshot(survivor), "merged": snapshot(merged)}
    picks = {**merge_defaults(survivor, merged), **(choices or {})}
    for field in MERGE_FIELDS:
        if picks.get(field) == "merged":
            setattr(survivor, field, getattr(merged, field))
    if survivor.note != merged.note and merged.note and picks.get("note") != "merged":
        survivor.note = "\n\n".join(n for n in (survivor.note, merged.note) if n)
    survivor.membership_state = max(survivor.membership_state, merged.membership_state,
                                    key=MEMBERSHIP_RANK.index)
    survivor.lifecycle_stage = max(survivor.lifecycle_stage, merged.lifecycle_stage,
                                   key=LIFECYCLE_RANK.index)
    if survivor.referrer_id == merged.pk:
        survivor.referrer = merged.referrer if merged.referrer_id != survivor.pk else None

    # Contacts, tags, notes and referrals move to the survivor.
    CustomerPhone.objects.filter(customer=merged).update(customer=survivor, is_primary=False)
    CustomerEmail.objects.filter(customer=merged).update(customer=survivor, is_primary=False)
    held = set(CustomerTag.objects.filter(customer=survivor).values_list("tag_id", flat=True))
    single_groups = set(Tag.objects.filter(pk__in=held, group__multiple=False)
                        .values_list("group_id", flat=True))
    for link in CustomerTag.objects.filter(customer=merged).select_related("tag"):
        if link.tag_id not in held and link.tag.group_id not in single_groups:
            CustomerTag.objects.create(tenant=tenant, customer=survivor, tag=link.tag)
    CustomerNote.objects.filter(customer=merged).update(customer=survivor)
    # One open registration per customer: the survivor's own, else the merged one's.
    merged_requests = RegistrationRequest.objects.filter(customer=merged)
    if RegistrationRequest.objects.filter(customer=survivor,
                                          state=RegistrationRequest.State.OPEN).exists():
        merged_requests.filter(state=RegistrationRequest.State.OPEN).update(
            state=RegistrationRequest.State.DISMISSED, decided_at=timezone.now(),
            decided_by=access.user_of(actor))
    merged_requests.update(customer=survivor)
    Customer.objects.filter(referrer=merged).exclude(pk=survivor.pk).update(referrer=survivor)
    AuditLog.objects.for_tenant(tenant).filter(
        object_type=Customer._meta.label_lower, object_id=merged.pk).update(object_id=survivor.pk)
    CustomerAlias.objects.filter(customer=merged).update(customer=survivor)
    CustomerAlias.objects.create(tenant=tenant, code=merged.code, customer=survivor)
    customers_merged.send(sender=Customer, tenant=tenant, survivor=survivor, merged=merged)

    merged_code = merged.code
    merged.delete()
    survivor.updated_by = access.user_of(actor)
    survivor.save()
    survivor = _fresh(survivor)
    phones = sorted(survivor.phones.all(), key=lambda p: (not p.is_primary, p.pk))
    survivor.phone, survivor.phone_normalized = (phones[0].raw, phones[0].normalized) \
        if phones else ("", "")
    survivor.save(update_fields=["phone", "phone_normalized"])
    audit_record(tenant, actor, "customer.merge", survivor,
                 before={"merged_code": merged_code, **before},
                 after={"survivor_code": survivor.code, "merged_code": merged_code,
                        "values": snapshot(survivor)})
    return survivor
