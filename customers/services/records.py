"""Customer records: codes, contacts, create, edit, care status, assignment, notes."""


from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from crm import access
from crm.access import AccessDenied
from crm.audit import audit_record, diff_fields
from crm.models import Membership, Role, TenantSequence
from crm.tenancy import ensure_same_tenant

from ..models import (
    CareStatus,
    Customer,
    CustomerEmail,
    CustomerNote,
    CustomerPhone,
    CustomerTag,
    LifecycleStage,
    MembershipState,
    Source,
    Tag,
    wards_of,
)
from ..normalize import format_phone, normalize_email, normalize_phone
from ..selectors import can_see_customer, contact_owners

CUSTOMER_CODE_PREFIX = "KH"


def customer_code(number: int) -> str:
    return f"{CUSTOMER_CODE_PREFIX}{number:06d}"


class ContactConflictError(ValidationError):
    """A phone or email already belongs to another customer of the shop."""

    def __init__(self, field: str, value: str, customer: Customer, actor):
        self.field = field
        self.value = value
        # Name, code and link only for a customer the person may see; otherwise only that
        # the number is taken (staff who see only their own customers learn nothing more).
        self.customer = customer if can_see_customer(actor, customer) else None
        if self.customer is not None:
            message = _("%(value)s already belongs to customer %(code)s – %(name)s.") % {
                "value": value, "code": customer.code, "name": customer.full_name,
            }
        else:
            message = _("%(value)s already belongs to another customer of this shop.") % {
                "value": value}
        super().__init__({field: [message]})


@dataclass
class Contacts:
    """Normalized phones and emails of one customer, the primary first."""

    phones: list[tuple[str, str]]  # (as typed, E.164)
    emails: list[str]


def normalize_contacts(phone: str, extra_phones: list[str], email: str,
                       extra_emails: list[str]) -> Contacts:
    """Parse every phone/email, drop repeats, and raise one error listing every bad value."""
    errors: dict[str, list] = {}
    phones: list[tuple[str, str]] = []
    for field, values in (("phone", [phone]), ("extra_phones", extra_phones)):
        for raw in values:
            if not raw or not raw.strip():
                continue
            try:
                normalized = normalize_phone(raw)
            except ValidationError as exc:
                errors.setdefault(field, []).extend(exc.messages)
                continue
            if all(n != normalized for _r, n in phones):
                phones.append((raw.strip(), normalized))
    emails: list[str] = []
    for values in ([email], extra_emails):
        for raw in values:
            value = normalize_email(raw)
            if value and value not in emails:
                emails.append(value)
    if errors:
        raise ValidationError(errors)
    return Contacts(phones=phones, emails=emails)


def _check_contacts_free(tenant, contacts: Contacts, customer: Customer | None, actor) -> None:
    taken_phone, taken_email = contact_owners(
        tenant, phones=[n for _r, n in contacts.phones], emails=contacts.emails,
        exclude=customer)
    if taken_phone:
        raise ContactConflictError("phone", format_phone(taken_phone.normalized),
                                   taken_phone.customer, actor)
    if taken_email:
        raise ContactConflictError("email", taken_email.email, taken_email.customer, actor)


def _write_contacts(customer: Customer, contacts: Contacts) -> None:
    tenant = customer.tenant
    CustomerPhone.objects.filter(customer=customer).exclude(
        normalized__in=[n for _r, n in contacts.phones]).delete()
    CustomerEmail.objects.filter(customer=customer).exclude(email__in=contacts.emails).delete()
    existing = {p.normalized: p for p in CustomerPhone.objects.filter(customer=customer)}
    for index, (raw, normalized) in enumerate(contacts.phones):
        row = existing.get(normalized) or CustomerPhone(tenant=tenant, customer=customer,
                                                        normalized=normalized)
        row.raw = raw
        row.reversed_digits = normalized.lstrip("+")[::-1]
        row.is_primary = index == 0
        row.save()
    existing_emails = {e.email: e for e in CustomerEmail.objects.filter(customer=customer)}
    for index, value in enumerate(contacts.emails):
        row = existing_emails.get(value) or CustomerEmail(tenant=tenant, customer=customer,
                                                          email=value)
        row.is_primary = index == 0
        row.save()
    customer.phone = contacts.phones[0][0] if contacts.phones else ""
    customer.phone_normalized = contacts.phones[0][1] if contacts.phones else ""
    customer.email = contacts.emails[0] if contacts.emails else ""


def check_tags(tenant, tags: list[Tag]) -> None:
    """A single-choice tag group allows one of its tags per customer."""
    ensure_same_tenant(tenant, tags=tags)
    seen: dict[int, Tag] = {}
    for tag in tags:
        if tag.group_id is None or tag.group.multiple:
            continue
        if tag.group_id in seen:
            raise ValidationError({"tags": _(
                "Group “%(group)s” allows one tag per customer: choose either %(a)s or %(b)s."
            ) % {"group": tag.group.name, "a": seen[tag.group_id].name, "b": tag.name}})
        seen[tag.group_id] = tag


def _check_people(tenant, assigned_staff, collaborator) -> None:
    ensure_same_tenant(tenant, assigned_staff=assigned_staff, collaborator=collaborator)
    if collaborator is not None and collaborator.role != Role.COLLABORATOR:
        raise ValidationError({"collaborator": _("Choose a member with the collaborator role.")})
    if assigned_staff is not None and assigned_staff.role == Role.COLLABORATOR:
        raise ValidationError({"assigned_staff": _("A collaborator is assigned as collaborator, "
                                                   "not as staff in charge.")})


def _check_address(province_code, ward_code) -> None:
    if ward_code and not province_code:
        raise ValidationError({"province_code": _("Choose the province of this ward.")})
    if ward_code and ward_code not in dict(wards_of(province_code)):
        raise ValidationError({"ward_code": _("This ward is not in the chosen province.")})


def _validated_input(tenant, data: dict) -> tuple[Contacts, list[Tag]]:
    """The checks create and update share; returns the normalized contacts and the tags."""
    contacts = normalize_contacts(data.get("phone", ""), data.get("extra_phones", []),
                                  data.get("email", ""), data.get("extra_emails", []))
    tags = list(data.get("tags", []))
    ensure_same_tenant(tenant, source=data.get("source"), referrer=data.get("referrer"),
                       care_status=data.get("care_status"))
    _check_people(tenant, data.get("assigned_staff"), data.get("collaborator"))
    _check_address(data.get("province_code"), data.get("ward_code"))
    check_tags(tenant, tags)
    return contacts, tags


CUSTOMER_FIELDS = [
    "full_name", "company", "tax_code", "gender", "birth_day", "birth_month", "birth_year",
    "national_id", "country", "province_code", "ward_code", "street", "legacy_address", "note",
    "source", "referrer", "assigned_staff", "collaborator", "care_status", "lifecycle_stage",
    "membership_state", "avatar",
]


def require_customer(actor, action: str, customer: Customer) -> None:
    """The access table's answer for ``action`` on one customer: the role (and the shop's
    settings) allow it, and the customer is one the actor may see."""
    access.require(actor, action, customer.tenant)
    if not can_see_customer(actor, customer):
        raise AccessDenied(action, _("This customer is not assigned to you."))


def _check_create_rights(tenant, actor, data: dict) -> None:
    """What a create may set besides the details: assignment, care status, membership."""
    access.require(actor, "customer.create", tenant)
    may_assign = access.can(actor, "customer.assign")
    if not may_assign:
        if data.get("collaborator") or data.get("assigned_staff") not in (None, actor):
            access.require(actor, "customer.assign")
        if isinstance(actor, Membership) and actor.role != Role.COLLABORATOR:
            # Staff who may not assign are in charge of the customers they bring in (with
            # "staff see only their own customers" they would otherwise lose sight of them).
            data["assigned_staff"] = actor
    if data.get("care_status") is not None:
        access.require(actor, "customer.set_care_status", tenant)
    # Tạm thời is where every membership starts (the public page makes the same): anyone who
    # may create a customer may start one; Chính thức is an approval, Đã hủy a membership
    # decision.
    state = data.get("membership_state")
    if state == MembershipState.ACTIVE:
        access.require(actor, "customer.approve_membership", tenant)
    elif state == MembershipState.CANCELLED:
        access.require(actor, "customer.set_membership", tenant)


@transaction.atomic
def customer_create(*, tenant, actor, data: dict) -> Customer:
    """Create a customer with its phones, emails and tags.

    ``data`` holds the model fields of CUSTOMER_FIELDS plus phone, extra_phones, email,
    extra_emails and tags. Refused by the access table (AccessDenied) for an assignment,
    care status or active membership the actor may not set. Raises ValidationError
    (ContactConflictError for a phone or email of another customer) and writes nothing in
    either case.
    """
    data = dict(data)
    _check_create_rights(tenant, actor, data)
    return _customer_insert(tenant, actor, data)


def _customer_insert(tenant, actor, data: dict) -> Customer:
    """The write behind customer_create, for services that have made their own check."""
    contacts, tags = _validated_input(tenant, data)
    if data.get("lifecycle_stage") not in (None, "", LifecycleStage.NEW,
                                           LifecycleStage.POTENTIAL):
        raise ValidationError({"lifecycle_stage": _(
            "Purchased and VIP are set automatically by orders.")})
    _check_contacts_free(tenant, contacts, None, actor)

    (number,) = TenantSequence.next_values(tenant, "customer")
    user = access.user_of(actor)
    customer = Customer(tenant=tenant, number=number, code=customer_code(number),
                        created_by=user, updated_by=user)
    for field in CUSTOMER_FIELDS:
        if data.get(field) not in (None, ""):
            setattr(customer, field, data[field])
    _write_contacts_and_save(customer, contacts, actor, creating=True)
    CustomerTag.objects.bulk_create(
        CustomerTag(tenant=tenant, customer=customer, tag=tag) for tag in tags
    )
    audit_record(tenant, actor, "customer.create", customer, after={
        "code": customer.code, "full_name": customer.full_name,
        "phone": customer.phone_normalized, "email": customer.email,
    })
    return customer


def _write_contacts_and_save(customer: Customer, contacts: Contacts, actor, *,
                             creating: bool) -> None:
    customer.full_clean()
    try:
        with transaction.atomic():
            if creating:
                customer.save()
            _write_contacts(customer, contacts)
            customer.save()
    except IntegrityError:
        # Lost a race with another save of the same phone/email: report it like the check.
        _check_contacts_free(customer.tenant, contacts, customer if not creating else None,
                             actor)
        raise



# --- the profile: edit, care status, assignment, notes -----------------------------------

def snapshot(customer: Customer) -> dict:
    """Plain, readable values of a customer for the audit log (names, not ids)."""
    values = {}
    for field in CUSTOMER_FIELDS:
        value = getattr(customer, field)
        if field in ("assigned_staff", "collaborator"):
            value = value.display_name if value else None
        elif field == "referrer":
            value = value.code if value else None
        elif field == "avatar":
            value = value.name if value else ""
        elif isinstance(value, CareStatus | Source):
            value = str(value)
        values[field] = value
    values["phones"] = [format_phone(p.normalized) for p in
                        sorted(customer.phones.all(), key=lambda p: (not p.is_primary, p.pk))]
    values["emails"] = [e.email for e in
                        sorted(customer.emails.all(), key=lambda e: (not e.is_primary, e.pk))]
    values["tags"] = sorted(t.name for t in customer.tags.all())
    return values


def _fresh(customer: Customer) -> Customer:
    return (Customer.objects.select_for_update(of=("self",))
            .select_related("source__parent", "care_status", "assigned_staff__user",
                            "collaborator__user", "referrer")
            .get(pk=customer.pk))


@transaction.atomic
def customer_update(*, tenant, actor, customer: Customer, data: dict) -> Customer:
    """Save the edit form: every field, contacts and tags; audit the field-level diff.

    A field left out of ``data`` keeps its value. Changing the staff in charge, the
    collaborator or the care status takes those actions of the access table as well.
    """
    if customer.tenant_id != tenant.pk:
        raise ValidationError(_("This customer belongs to another shop."))
    customer = _fresh(customer)
    require_customer(actor, "customer.edit", customer)
    if any(f in data and data[f] != getattr(customer, f)
           for f in ("assigned_staff", "collaborator")):
        access.require(actor, "customer.assign", tenant)
    if "care_status" in data and data["care_status"] != customer.care_status:
        access.require(actor, "customer.set_care_status", tenant)
    if data.get("referrer") not in (None, customer.referrer) and \
            not can_see_customer(actor, data["referrer"]):
        raise AccessDenied("customer.edit", _("This customer is not assigned to you."))
    before = snapshot(customer)
    # Contacts and tags left out of ``data`` keep their values (an importer may send only
    # some columns); the edit form always sends them all.
    data = {**_contacts_and_tags(customer), **data}
    contacts, tags = _validated_input(tenant, data)
    if data.get("referrer") == customer:
        raise ValidationError({"referrer": _("A customer cannot refer themselves.")})
    stage = data.get("lifecycle_stage", customer.lifecycle_stage)
    if stage != customer.lifecycle_stage and (
            stage not in (LifecycleStage.NEW, LifecycleStage.POTENTIAL)
            or customer.lifecycle_stage not in (LifecycleStage.NEW, LifecycleStage.POTENTIAL)):
        raise ValidationError({"lifecycle_stage": _(
            "Purchased and VIP are set automatically by orders.")})
    if data.get("membership_state", customer.membership_state) != customer.membership_state:
        raise ValidationError({"membership_state": _(
            "Change the membership with the approve, activate or cancel actions.")})
    _check_contacts_free(tenant, contacts, customer, actor)
    for field in CUSTOMER_FIELDS:
        if field in data and field not in ("membership_state", "avatar"):
            setattr(customer, field, data[field] if data[field] is not None else
                    _empty_value(field))
    old_avatar = customer.avatar.name
    if data.get("avatar"):
        customer.avatar = data["avatar"]
    elif data.get("avatar") is False:  # the form's "clear" checkbox
        customer.avatar = ""
    if old_avatar and customer.avatar.name != old_avatar:
        # The replaced picture is personal data too: gone once the change is committed.
        storage = customer.avatar.storage
        transaction.on_commit(lambda: storage.delete(old_avatar))
    customer.updated_by = access.user_of(actor)
    _write_contacts_and_save(customer, contacts, actor, creating=False)
    CustomerTag.objects.filter(customer=customer).exclude(tag__in=tags).delete()
    held = set(CustomerTag.objects.filter(customer=customer).values_list("tag_id", flat=True))
    CustomerTag.objects.bulk_create(CustomerTag(tenant=tenant, customer=customer, tag=t)
                                    for t in tags if t.pk not in held)
    customer = _fresh(customer)
    old, new = diff_fields(before, snapshot(customer))
    if new:
        audit_record(tenant, actor, "customer.update", customer, before=old, after=new)
    return customer


def _contacts_and_tags(customer: Customer) -> dict:
    phones = sorted(customer.phones.all(), key=lambda p: (not p.is_primary, p.pk))
    emails = sorted(customer.emails.all(), key=lambda e: (not e.is_primary, e.pk))
    return {"phone": phones[0].raw if phones else "", "extra_phones": [p.raw for p in phones[1:]],
            "email": emails[0].email if emails else "",
            "extra_emails": [e.email for e in emails[1:]], "tags": list(customer.tags.all())}


def _empty_value(field: str):
    model_field = Customer._meta.get_field(field)
    return None if model_field.null else ""



@transaction.atomic
def customer_assign(*, tenant, actor, customer: Customer, staff, collaborator) -> bool:
    if customer.tenant_id != tenant.pk:
        raise ValidationError(_("This customer belongs to another shop."))
    require_customer(actor, "customer.assign", customer)
    _check_people(tenant, staff, collaborator)
    customer = _fresh(customer)
    before = {"assigned_staff": customer.assigned_staff.display_name
              if customer.assigned_staff else None,
              "collaborator": customer.collaborator.display_name
              if customer.collaborator else None}
    customer.assigned_staff, customer.collaborator = staff, collaborator
    customer.updated_by = access.user_of(actor)
    customer.save(update_fields=["assigned_staff", "collaborator", "updated_by", "updated_at"])
    old, new = diff_fields(before, {
        "assigned_staff": staff.display_name if staff else None,
        "collaborator": collaborator.display_name if collaborator else None})
    if new:
        audit_record(tenant, actor, "customer.assign", customer, before=old, after=new)
    return bool(new)


@transaction.atomic
def note_add(*, tenant, actor, customer: Customer, body: str) -> CustomerNote:
    if customer.tenant_id != tenant.pk:
        raise ValidationError(_("This customer belongs to another shop."))
    require_customer(actor, "customer.note", customer)
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": _("Write something in the note.")})
    return CustomerNote.objects.create(tenant=tenant, customer=customer,
                                       author=access.user_of(actor), body=body)
