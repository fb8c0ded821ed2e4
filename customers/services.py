"""Every write to customers and their lists: one function per use case, in a transaction."""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from crm import access
from crm.access import AccessDenied
from crm.audit import audit_record, diff_fields
from crm.models import AuditLog, Membership, Role, TenantSequence, UserPreference

from .columns import PREFERENCE_KEY, columns_by_key
from .models import (
    CareStatus,
    Customer,
    CustomerAlias,
    CustomerEmail,
    CustomerNote,
    CustomerPhone,
    CustomerTag,
    LifecycleStage,
    MembershipState,
    RegistrationRequest,
    Source,
    Tag,
    TagGroup,
    wards_of,
)
from .normalize import format_phone, normalize_email, normalize_phone
from .selectors import can_see_customer, scope_customers
from .signals import customers_merged

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


def _check_same_tenant(tenant, **objects) -> None:
    for name, obj in objects.items():
        items = obj if isinstance(obj, list | tuple | set) else [obj]
        for item in items:
            if item is not None and item.tenant_id != tenant.pk:
                raise ValidationError({name: _("This choice belongs to another shop.")})


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
    numbers = [n for _r, n in contacts.phones]
    taken_phone = (
        CustomerPhone.objects.for_tenant(tenant).filter(normalized__in=numbers)
        .exclude(customer=customer).select_related("customer").first()
        if numbers else None
    )
    if taken_phone:
        raise ContactConflictError("phone", format_phone(taken_phone.normalized),
                                   taken_phone.customer, actor)
    taken_email = (
        CustomerEmail.objects.for_tenant(tenant).filter(email__in=contacts.emails)
        .exclude(customer=customer).select_related("customer").first()
        if contacts.emails else None
    )
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
    _check_same_tenant(tenant, tags=tags)
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
    _check_same_tenant(tenant, assigned_staff=assigned_staff, collaborator=collaborator)
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
    _check_same_tenant(tenant, source=data.get("source"), referrer=data.get("referrer"),
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


# --- bulk actions on the list ------------------------------------------------------------

def _bulk_update(*, tenant, actor, customers, field: str, value, action: str, label) -> int:
    changed = 0
    user = access.user_of(actor)
    for customer in customers:
        old = getattr(customer, field)
        if old == value:
            continue
        setattr(customer, field, value)
        customer.updated_by = user
        customer.save(update_fields=[field, "updated_by", "updated_at"])
        audit_record(tenant, actor, action, customer,
                     before={field: label(old)}, after={field: label(value)})
        changed += 1
    return changed


def _locked(tenant, actor, customer_ids):
    """The customers of ``customer_ids`` the actor may see, locked; the others are left
    out (a bulk action never reaches a customer its author cannot see)."""
    visible = scope_customers(Customer.objects.for_tenant(tenant), actor)
    return list(visible.filter(pk__in=customer_ids)
                .select_for_update(of=("self",)).order_by("pk")
                .select_related("assigned_staff__user", "care_status"))


def _require_bulk(tenant, actor, action: str) -> None:
    access.require(actor, "customer.bulk_edit", tenant)
    access.require(actor, action, tenant)


@transaction.atomic
def customers_assign_staff(*, tenant, actor, customer_ids, staff: Membership | None) -> int:
    _require_bulk(tenant, actor, "customer.assign")
    _check_people(tenant, staff, None)
    return _bulk_update(tenant=tenant, actor=actor, customers=_locked(tenant, actor, customer_ids),
                        field="assigned_staff", value=staff, action="customer.assign_staff",
                        label=lambda m: m.display_name if m else None)


@transaction.atomic
def customers_set_care_status(*, tenant, actor, customer_ids, status: CareStatus | None) -> int:
    _require_bulk(tenant, actor, "customer.set_care_status")
    return _set_care_status(tenant, actor, _locked(tenant, actor, customer_ids), status)


def _set_care_status(tenant, actor, customers, status) -> int:
    _check_same_tenant(tenant, care_status=status)
    return _bulk_update(tenant=tenant, actor=actor, customers=customers,
                        field="care_status", value=status, action="customer.care_status",
                        label=lambda s: s.name if s else None)


@transaction.atomic
def customers_add_tag(*, tenant, actor, customer_ids, tag: Tag) -> int:
    _require_bulk(tenant, actor, "customer.tag")
    _check_same_tenant(tenant, tag=tag)
    customers = _locked(tenant, actor, customer_ids)
    held = set(CustomerTag.objects.for_tenant(tenant).filter(
        tag=tag, customer__in=customers).values_list("customer_id", flat=True))
    if tag.group_id and not tag.group.multiple:
        # Single-choice group: the new tag replaces the customer's other tag of the group.
        CustomerTag.objects.for_tenant(tenant).filter(
            customer__in=customers, tag__group=tag.group).exclude(tag=tag).delete()
    new = [c for c in customers if c.pk not in held]
    CustomerTag.objects.bulk_create(CustomerTag(tenant=tenant, customer=c, tag=tag) for c in new)
    for customer in new:
        audit_record(tenant, actor, "customer.tag_add", customer, after={"tag": tag.name})
    return len(new)


@transaction.atomic
def customers_remove_tag(*, tenant, actor, customer_ids, tag: Tag) -> int:
    _require_bulk(tenant, actor, "customer.tag")
    _check_same_tenant(tenant, tag=tag)
    customers = _locked(tenant, actor, customer_ids)
    links = CustomerTag.objects.for_tenant(tenant).filter(tag=tag, customer__in=customers)
    holders = [c for c in customers if c.pk in set(links.values_list("customer_id", flat=True))]
    links.delete()
    for customer in holders:
        audit_record(tenant, actor, "customer.tag_remove", customer, before={"tag": tag.name})
    return len(holders)


# --- the shop's lists: sources, tag groups, tags, care statuses ---------------------------

LOOKUP_MODELS = {"source": Source, "taggroup": TagGroup, "tag": Tag, "carestatus": CareStatus}


def _lookup_values(obj) -> dict:
    return {f: getattr(obj, f"{f}_id", getattr(obj, f, None))
            for f in ("name", "position", "is_active", "color", "multiple", "parent", "group")
            if hasattr(obj, f)}


@transaction.atomic
def lookup_save(*, tenant, actor, instance, data: dict):
    """Create (instance.pk is None) or edit an entry of one of the shop's lists."""
    access.require(actor, "settings.lists", tenant)
    related = {k: v for k, v in data.items() if k in ("parent", "group")}
    _check_same_tenant(tenant, **related)
    if isinstance(instance, Source) and data.get("parent") is not None:
        parent = data["parent"]
        if parent.parent_id is not None or parent == instance:
            raise ValidationError({"parent": _("Sources have two levels: choose a channel "
                                               "group, not a channel.")})
        if instance.pk and instance.children.exists():
            raise ValidationError({"parent": _("This group has channels; it cannot become a "
                                               "channel itself.")})
    creating = instance.pk is None
    model = type(instance)
    # "before" from the database: a ModelForm has already copied its data onto instance.
    before = {} if creating else _lookup_values(model.objects.get(pk=instance.pk))
    instance.tenant = tenant
    for key, value in data.items():
        setattr(instance, key, value)
    if creating and not data.get("position"):
        siblings = model.objects.for_tenant(tenant)
        instance.position = (siblings.aggregate(m=Max("position"))["m"] or 0) + 1
    instance.full_clean()
    instance.save()
    name = model._meta.model_name
    audit_record(tenant, actor, f"{name}.{'create' if creating else 'update'}", instance,
                 before=before, after=_lookup_values(instance))
    return instance


@transaction.atomic
def lookup_move(*, tenant, actor, instance, up: bool) -> None:
    """Swap the entry with its neighbour in the list (renumbering positions 1..n first)."""
    access.require(actor, "settings.lists", tenant)
    model = type(instance)
    siblings = model.objects.for_tenant(tenant).select_for_update()
    if isinstance(instance, Source):
        siblings = siblings.filter(parent=instance.parent)
    if isinstance(instance, Tag):
        siblings = siblings.filter(group=instance.group)
    ordered = list(siblings.order_by("position", "id"))
    index = next(i for i, s in enumerate(ordered) if s.pk == instance.pk)
    target = index - 1 if up else index + 1
    if not 0 <= target < len(ordered):
        return
    ordered[index], ordered[target] = ordered[target], ordered[index]
    for position, item in enumerate(ordered, start=1):
        if item.position != position:
            model.objects.filter(pk=item.pk).update(position=position)
    audit_record(tenant, actor, f"{model._meta.model_name}.move", instance,
                 after={"position": target + 1})


def lookup_usage(instance) -> int:
    """How many customers use this entry (shown before deactivating it)."""
    tenant_customers = Customer.objects.for_tenant(instance.tenant)
    if isinstance(instance, Source):
        return tenant_customers.filter(source__in=[instance, *instance.children.all()]).count()
    if isinstance(instance, CareStatus):
        return tenant_customers.filter(care_status=instance).count()
    if isinstance(instance, Tag):
        return CustomerTag.objects.for_tenant(instance.tenant).filter(tag=instance).count()
    if isinstance(instance, TagGroup):
        return CustomerTag.objects.for_tenant(instance.tenant).filter(
            tag__group=instance).values("customer").distinct().count()
    return 0



def list_columns_save(*, tenant, user, keys: list[str]) -> list[str]:
    """Keep the user's list columns (known keys, in the given order); empty = default."""
    known = columns_by_key()
    keys = list(dict.fromkeys(k for k in keys if k in known))
    UserPreference.objects.update_or_create(
        tenant=tenant, user=user, key=PREFERENCE_KEY, defaults={"value": {"columns": keys}}
    )
    return keys


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
def customer_set_care_status(*, tenant, actor, customer: Customer, status) -> bool:
    require_customer(actor, "customer.set_care_status", customer)
    return _set_care_status(tenant, actor, _locked(tenant, actor, [customer.pk]), status) == 1


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


# --- membership: Khách vãng lai -> Tạm thời -> Chính thức, Đã hủy -----------------------

# The one place that says which membership changes are allowed.
MEMBERSHIP_TRANSITIONS = {
    MembershipState.GUEST: {MembershipState.PENDING, MembershipState.ACTIVE},
    MembershipState.PENDING: {MembershipState.ACTIVE, MembershipState.CANCELLED},
    MembershipState.ACTIVE: {MembershipState.CANCELLED},
    MembershipState.CANCELLED: {MembershipState.PENDING, MembershipState.ACTIVE},
}


def can_transition(current: str, target: str) -> bool:
    return target in MEMBERSHIP_TRANSITIONS.get(current, set())


def membership_action(to_state: str) -> str:
    """The access table's action for a membership change: becoming an active member is an
    approval; the other moves are plain membership changes."""
    return ("customer.approve_membership" if to_state == MembershipState.ACTIVE
            else "customer.set_membership")


@transaction.atomic
def membership_transition(*, tenant, actor, customer: Customer, to_state: str) -> Customer:
    customer = _fresh(customer)
    if customer.tenant_id != tenant.pk:
        raise ValidationError(_("This customer belongs to another shop."))
    require_customer(actor, membership_action(to_state), customer)
    if not can_transition(customer.membership_state, to_state):
        raise ValidationError(_("%(code)s cannot go from “%(from)s” to “%(to)s”.") % {
            "code": customer.code,
            "from": MembershipState(customer.membership_state).label,
            "to": MembershipState(to_state).label,
        })
    before = customer.membership_state
    customer.membership_state = to_state
    customer.updated_by = access.user_of(actor)
    customer.save(update_fields=["membership_state", "updated_by", "updated_at"])
    audit_record(tenant, actor, "customer.membership", customer,
                 before={"membership_state": before}, after={"membership_state": to_state})
    return customer


@transaction.atomic
def memberships_transition(*, tenant, actor, customer_ids, to_state: str) -> tuple[int, list]:
    """Approve or cancel many; returns (changed, messages of the refused ones)."""
    access.require(actor, membership_action(to_state), tenant)
    changed, refused = 0, []
    for customer in _locked(tenant, actor, customer_ids):
        try:
            membership_transition(tenant=tenant, actor=actor, customer=customer,
                                  to_state=to_state)
            changed += 1
        except ValidationError as exc:
            refused.extend(exc.messages)
    return changed, refused


def _fill_blanks(customer: Customer, values: dict) -> list[str]:
    filled = []
    for field, value in values.items():
        if value and not getattr(customer, field):
            setattr(customer, field, value)
            filled.append(field)
    return filled


def _find_by_contact(tenant, phone: str | None, email: str | None) -> Customer | None:
    if phone:
        row = (CustomerPhone.objects.for_tenant(tenant).filter(normalized=phone)
               .select_related("customer").first())
        if row:
            return row.customer
    if email:
        row = (CustomerEmail.objects.for_tenant(tenant).filter(email=email)
               .select_related("customer").first())
        if row:
            return row.customer
    return None


@transaction.atomic
def member_from_contact(*, tenant, actor, contact: dict) -> tuple[Customer, bool]:
    """Create or link an active member from an order's contact (name, phone, email, address).

    An existing customer with the same normalized phone (first) or email is linked: it
    becomes an active member and blank fields are filled from the contact. Returns
    (customer, created).
    """
    access.require(actor, "customer.approve_membership", tenant)
    phone = normalize_phone(contact["phone"]) if contact.get("phone") else None
    email = normalize_email(contact.get("email", "")) or None
    if not phone and not email:
        raise ValidationError(_("The contact has neither phone nor email."))
    customer = _find_by_contact(tenant, phone, email)
    if customer is None:
        customer = _customer_insert(tenant, actor, {
            "full_name": contact.get("name") or phone or email, "phone": contact.get("phone", ""),
            "email": email or "", "street": contact.get("address", ""),
            "membership_state": MembershipState.ACTIVE,
        })
        return customer, True
    customer = _fresh(customer)
    require_customer(actor, "customer.edit", customer)
    filled = _fill_blanks(customer, {"full_name": contact.get("name"),
                                     "street": contact.get("address")})
    if filled:
        customer.save(update_fields=[*filled, "updated_at"])
    if customer.membership_state != MembershipState.ACTIVE:
        customer = membership_transition(tenant=tenant, actor=actor, customer=customer,
                                         to_state=MembershipState.ACTIVE)
    if email and not customer.emails.filter(email=email).exists():
        _add_email(customer, email)
    return customer, False


def _add_email(customer: Customer, email: str) -> None:
    if CustomerEmail.objects.for_tenant(customer.tenant).filter(email=email).exists():
        return  # another customer holds it; the phone decided who this contact is
    CustomerEmail.objects.create(tenant=customer.tenant, customer=customer, email=email,
                                 is_primary=not customer.email)
    if not customer.email:
        customer.email = email
        customer.save(update_fields=["email", "updated_at"])


@transaction.atomic
def registration_submit(*, tenant, actor, data: dict) -> tuple[Customer | None, bool]:
    """A registration from the shop's public page.

    A new phone creates a pending member (Tạm thời) for a manager to approve. A phone that
    already belongs to a customer changes nothing of that customer — an anonymous form
    could otherwise rewrite anyone's email or birthday: the submission is kept as an open
    RegistrationRequest (one per customer; a later one replaces its values), shown in
    "Chờ duyệt" next to the stored values. Returns (customer or None, created).
    """
    access.require(actor, "customer.register", tenant)
    phone = normalize_phone(data["phone"])
    email = normalize_email(data.get("email", "")) or None
    customer = _find_by_contact(tenant, phone, None)
    birth = {k: data.get(k) for k in ("birth_day", "birth_month", "birth_year")}
    if customer is None:
        email_owner = _find_by_contact(tenant, None, email) if email else None
        customer = _customer_insert(tenant, actor, {
            "full_name": data["full_name"], "phone": data["phone"],
            "email": "" if email_owner else (email or ""), **birth,
            "source": Source.objects.for_tenant(tenant).filter(code="website").first(),
            "membership_state": MembershipState.PENDING,
        })
        return customer, True
    values = {"full_name": data["full_name"][:200], "phone": data["phone"][:40],
              "email": email or "", **birth}
    open_requests = RegistrationRequest.objects.for_tenant(tenant).select_for_update().filter(
        customer=customer, state=RegistrationRequest.State.OPEN)
    if not open_requests.update(**values):
        try:
            with transaction.atomic():
                RegistrationRequest.objects.create(tenant=tenant, customer=customer, **values)
        except IntegrityError:  # the same phone, sent twice at once: keep the later values
            open_requests.update(**values)
    audit_record(tenant, actor, "customer.registration", customer,
                 after={"full_name": data["full_name"], "phone": format_phone(phone)})
    return None, False


REQUEST_FIELDS = ("full_name", "email", "birthday")


@transaction.atomic
def registration_request_decide(*, tenant, actor, request: RegistrationRequest,
                                apply: list[str], approve: bool) -> Customer:
    """A manager's answer to a registration of an existing customer: copy the chosen
    submitted values (``apply``: full_name, email, birthday) and, with ``approve``, make
    them an active member; without ``approve`` and ``apply`` the request is dismissed."""
    request = (RegistrationRequest.objects.for_tenant(tenant).select_for_update()
               .select_related("customer").get(pk=request.pk))
    customer = _fresh(request.customer)
    require_customer(actor, "customer.approve_membership", customer)
    if request.state != RegistrationRequest.State.OPEN:
        raise ValidationError(_("This registration was already handled."))
    unknown = set(apply) - set(REQUEST_FIELDS)
    if unknown:
        raise ValidationError(_("Unknown field: %(f)s.") % {"f": ", ".join(sorted(unknown))})
    before = snapshot(customer)
    changed = []
    if "full_name" in apply and request.full_name:
        customer.full_name = request.full_name
        changed.append("full_name")
    if "birthday" in apply and request.birth_day:
        customer.birth_day, customer.birth_month, customer.birth_year = (
            request.birth_day, request.birth_month, request.birth_year)
        changed += ["birth_day", "birth_month", "birth_year"]
    if "email" in apply and request.email:
        owner = _find_by_contact(tenant, None, request.email)
        if owner is not None and owner.pk != customer.pk:
            raise ContactConflictError("email", request.email, owner, actor)
        if owner is None:
            _add_email(customer, request.email)
    if changed:
        customer.updated_by = access.user_of(actor)
        customer.full_clean()
        customer.save(update_fields=[*changed, "updated_by", "updated_at"])
    old, new = diff_fields(before, snapshot(_fresh(customer)))
    if new:
        audit_record(tenant, actor, "customer.update", customer, before=old, after=new)
    if approve and customer.membership_state != MembershipState.ACTIVE:
        customer = membership_transition(tenant=tenant, actor=actor, customer=customer,
                                         to_state=MembershipState.ACTIVE)
    request.state = (RegistrationRequest.State.APPLIED if approve or apply
                     else RegistrationRequest.State.DISMISSED)
    request.decided_by = access.user_of(actor)
    request.decided_at = timezone.now()
    request.save(update_fields=["state", "decided_by", "decided_at"])
    return customer


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
