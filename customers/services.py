"""Every write to customers and their lists: one function per use case, in a transaction."""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from crm.audit import audit_record
from crm.models import Membership, Role, TenantSequence, UserPreference

from .columns import COLUMNS_BY_KEY, PREFERENCE_KEY
from .models import (
    CareStatus,
    Customer,
    CustomerEmail,
    CustomerPhone,
    CustomerTag,
    LifecycleStage,
    Source,
    Tag,
    TagGroup,
    wards_of,
)
from .normalize import format_phone, normalize_email, normalize_phone

CUSTOMER_CODE_PREFIX = "KH"


def customer_code(number: int) -> str:
    return f"{CUSTOMER_CODE_PREFIX}{number:06d}"


class ContactConflictError(ValidationError):
    """A phone or email already belongs to another customer of the shop."""

    def __init__(self, field: str, value: str, customer: Customer):
        self.field = field
        self.value = value
        self.customer = customer
        message = _("%(value)s already belongs to customer %(code)s – %(name)s.") % {
            "value": value, "code": customer.code, "name": customer.full_name,
        }
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


def _check_contacts_free(tenant, contacts: Contacts, customer: Customer | None) -> None:
    numbers = [n for _r, n in contacts.phones]
    taken_phone = (
        CustomerPhone.objects.for_tenant(tenant).filter(normalized__in=numbers)
        .exclude(customer=customer).select_related("customer").first()
        if numbers else None
    )
    if taken_phone:
        raise ContactConflictError("phone", format_phone(taken_phone.normalized),
                                   taken_phone.customer)
    taken_email = (
        CustomerEmail.objects.for_tenant(tenant).filter(email__in=contacts.emails)
        .exclude(customer=customer).select_related("customer").first()
        if contacts.emails else None
    )
    if taken_email:
        raise ContactConflictError("email", taken_email.email, taken_email.customer)


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


CUSTOMER_FIELDS = [
    "full_name", "company", "tax_code", "gender", "birth_day", "birth_month", "birth_year",
    "national_id", "country", "province_code", "ward_code", "street", "legacy_address", "note",
    "source", "referrer", "assigned_staff", "collaborator", "care_status", "lifecycle_stage",
    "membership_state", "avatar",
]


@transaction.atomic
def customer_create(*, tenant, actor, data: dict) -> Customer:
    """Create a customer with its phones, emails and tags.

    ``data`` holds the model fields of CUSTOMER_FIELDS plus phone, extra_phones, email,
    extra_emails and tags. Raises ValidationError (ContactConflictError for a phone or email of
    another customer) and writes nothing in that case.
    """
    contacts = normalize_contacts(data.get("phone", ""), data.get("extra_phones", []),
                                  data.get("email", ""), data.get("extra_emails", []))
    tags = list(data.get("tags", []))
    _check_same_tenant(tenant, source=data.get("source"), referrer=data.get("referrer"),
                       care_status=data.get("care_status"))
    _check_people(tenant, data.get("assigned_staff"), data.get("collaborator"))
    _check_address(data.get("province_code"), data.get("ward_code"))
    check_tags(tenant, tags)
    if data.get("lifecycle_stage") not in (None, "", LifecycleStage.NEW,
                                           LifecycleStage.POTENTIAL):
        raise ValidationError({"lifecycle_stage": _(
            "Purchased and VIP are set automatically by orders.")})
    _check_contacts_free(tenant, contacts, None)

    (number,) = TenantSequence.next_values(tenant, "customer")
    customer = Customer(tenant=tenant, number=number, code=customer_code(number),
                        created_by=actor, updated_by=actor)
    for field in CUSTOMER_FIELDS:
        if data.get(field) not in (None, ""):
            setattr(customer, field, data[field])
    _write_contacts_and_save(customer, contacts, creating=True)
    CustomerTag.objects.bulk_create(
        CustomerTag(tenant=tenant, customer=customer, tag=tag) for tag in tags
    )
    audit_record(tenant, actor, "customer.create", customer, after={
        "code": customer.code, "full_name": customer.full_name,
        "phone": customer.phone_normalized, "email": customer.email,
    })
    return customer


def _write_contacts_and_save(customer: Customer, contacts: Contacts, *, creating: bool) -> None:
    customer.full_clean()
    try:
        with transaction.atomic():
            if creating:
                customer.save()
            _write_contacts(customer, contacts)
            customer.save()
    except IntegrityError:
        # Lost a race with another save of the same phone/email: report it like the check.
        _check_contacts_free(customer.tenant, contacts, customer if not creating else None)
        raise


# --- bulk actions on the list ------------------------------------------------------------

def _bulk_update(*, tenant, actor, customers, field: str, value, action: str, label) -> int:
    changed = 0
    for customer in customers:
        old = getattr(customer, field)
        if old == value:
            continue
        setattr(customer, field, value)
        customer.updated_by = actor
        customer.save(update_fields=[field, "updated_by", "updated_at"])
        audit_record(tenant, actor, action, customer,
                     before={field: label(old)}, after={field: label(value)})
        changed += 1
    return changed


def _locked(tenant, customer_ids):
    return list(Customer.objects.for_tenant(tenant).filter(pk__in=customer_ids)
                .select_for_update().order_by("pk")
                .select_related("assigned_staff__user", "care_status"))


@transaction.atomic
def customers_assign_staff(*, tenant, actor, customer_ids, staff: Membership | None) -> int:
    _check_people(tenant, staff, None)
    return _bulk_update(tenant=tenant, actor=actor, customers=_locked(tenant, customer_ids),
                        field="assigned_staff", value=staff, action="customer.assign_staff",
                        label=lambda m: m.display_name if m else None)


@transaction.atomic
def customers_set_care_status(*, tenant, actor, customer_ids, status: CareStatus | None) -> int:
    _check_same_tenant(tenant, care_status=status)
    return _bulk_update(tenant=tenant, actor=actor, customers=_locked(tenant, customer_ids),
                        field="care_status", value=status, action="customer.care_status",
                        label=lambda s: s.name if s else None)


@transaction.atomic
def customers_add_tag(*, tenant, actor, customer_ids, tag: Tag) -> int:
    _check_same_tenant(tenant, tag=tag)
    customers = _locked(tenant, customer_ids)
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
    _check_same_tenant(tenant, tag=tag)
    customers = _locked(tenant, customer_ids)
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
    keys = list(dict.fromkeys(k for k in keys if k in COLUMNS_BY_KEY))
    UserPreference.objects.update_or_create(
        tenant=tenant, user=user, key=PREFERENCE_KEY, defaults={"value": {"columns": keys}}
    )
    return keys
