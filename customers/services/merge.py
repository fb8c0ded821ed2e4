"""Merging duplicate customers."""

import unicodedata

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
    format_birthday,
)
from ..normalize import fold
from ..signals import customers_merged
from .records import CUSTOMER_FIELDS, _fresh, require_customer, snapshot

# --- merging duplicates ------------------------------------------------------------------

MERGE_FIELDS = [f for f in CUSTOMER_FIELDS if f not in ("membership_state", "lifecycle_stage")]
MEMBERSHIP_RANK = [MembershipState.CANCELLED, MembershipState.GUEST, MembershipState.PENDING,
                   MembershipState.ACTIVE]
LIFECYCLE_RANK = [LifecycleStage.NEW, LifecycleStage.POTENTIAL, LifecycleStage.PURCHASED,
                  LifecycleStage.VIP]


# Fields chosen together on the merge page: a birthday is one date, and a ward belongs to
# its province (taking the province of one and the ward of the other could make an address
# that does not exist). Every other field of MERGE_FIELDS is a choice of its own.
MERGE_GROUPS: dict[str, tuple[str, ...]] = {
    "birthday": ("birth_day", "birth_month", "birth_year"),
    "address": ("province_code", "ward_code", "street"),
}


def merge_choice_keys() -> list[tuple[str, tuple[str, ...]]]:
    """The merge page's rows in field order: (key, fields), a group where its first field
    stands."""
    grouped = {f: key for key, fields in MERGE_GROUPS.items() for f in fields}
    keys, seen = [], set()
    for field in MERGE_FIELDS:
        key = grouped.get(field, field)
        if key not in seen:
            seen.add(key)
            keys.append((key, MERGE_GROUPS.get(key, (field,))))
    return keys


def _diacritics(text: str) -> int:
    """How many accent marks and đ a text carries ("Dương Thu Thảo": 3, "Duong thu thao": 0)."""
    decomposed = unicodedata.normalize("NFD", text)
    return sum(1 for c in decomposed if unicodedata.combining(c)) + \
        sum(1 for c in text if c in "đĐ")


# Free text a person types, where two values may be copies of one another ("Duong thu thao"
# and "Dương Thu Thảo"); any other field is the same value or a different one.
FREE_TEXT_FIELDS = {"full_name", "company", "street", "legacy_address", "note"}


def _fullness(values: tuple) -> tuple[int, int, int]:
    """How complete a value (or a group's values) is: filled parts first, then the accents
    of its text (the same name typed without them is the poorer copy), then its length
    ("Lan" inside "Nguyễn Thị Lan")."""
    filled = sum(1 for v in values if v not in (None, ""))
    texts = [v for v in values if isinstance(v, str) and v]
    return filled, sum(_diacritics(t) for t in texts), sum(len(t.strip()) for t in texts)


def _copies(fields: tuple[str, ...], a: tuple, b: tuple) -> bool:
    """Whether one side is a fuller copy of the other: every part filled on both sides is
    the same value, or for free text the same once folded (or one folded text inside the
    other)."""
    for field, x, y in zip(fields, a, b, strict=True):
        if x in (None, "") or y in (None, "") or x == y:
            continue
        if field not in FREE_TEXT_FIELDS:
            return False
        fx, fy = fold(x), fold(y)
        if not (fx == fy or fx in fy or fy in fx):
            return False
    return True


def merge_defaults(survivor: Customer, merged: Customer) -> dict[str, str]:
    """For each field, which side wins by default ("survivor" or "merged").

    The filled one over an empty one; of two copies of the same value, the fuller one (with
    its accents, longer, more parts of a birthday or address); of two different values, the
    one updated most recently. The fields of a group (MERGE_GROUPS) go together."""
    newer = "merged" if merged.updated_at > survivor.updated_at else "survivor"
    choices = {}
    for _key, fields in merge_choice_keys():
        s_val = tuple(getattr(survivor, f) for f in fields)
        m_val = tuple(getattr(merged, f) for f in fields)
        if s_val == m_val or not any(v not in (None, "") for v in m_val):
            side = "survivor"
        elif not any(v not in (None, "") for v in s_val):
            side = "merged"
        elif _copies(fields, s_val, m_val) and _fullness(s_val) != _fullness(m_val):
            side = "survivor" if _fullness(s_val) > _fullness(m_val) else "merged"
        else:
            side = newer
        choices.update(dict.fromkeys(fields, side))
    return choices


def merge_choices(picks: dict[str, str]) -> dict[str, str]:
    """Per-field choices from the merge page's picks per row key (a group's key stands for
    all its fields): {"birthday": "merged"} -> birth_day, birth_month, birth_year."""
    choices = {}
    for key, fields in merge_choice_keys():
        if picks.get(key) in ("survivor", "merged"):
            choices.update(dict.fromkeys(fields, picks[key]))
    return choices


def merge_rows(a: Customer, b: Customer) -> list[dict]:
    """The merge page's rows (``a`` kept by default): one per field or group that either
    customer has filled, with both values as a person reads them and the default pick
    ("survivor" = a, "merged" = b). A birthday is one row ("15/08/1990"), so is an address."""
    from ..activity import field_label, value_text

    defaults = merge_defaults(a, b)
    snap_a, snap_b = snapshot(a), snapshot(b)
    labels = {"birthday": _("Birthday"), "address": _("Address")}

    def shown(customer, snap, key, fields):
        if key == "birthday":
            return format_birthday(customer.birth_day, customer.birth_month, customer.birth_year)
        if key == "address":
            parts = [customer.street, value_text("ward_code", customer.ward_code),
                     value_text("province_code", customer.province_code)]
            return ", ".join(p for p in parts if p and p != "—")
        value = snap[fields[0]]
        return "" if value in (None, "") else value_text(fields[0], value)

    rows = []
    for key, fields in merge_choice_keys():
        a_text, b_text = shown(a, snap_a, key, fields), shown(b, snap_b, key, fields)
        if a_text or b_text:
            rows.append({"key": key, "label": labels.get(key) or field_label(fields[0]),
                         "a": a_text or "—", "b": b_text or "—", "pick": defaults[fields[0]]})
    return rows


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
