"""Membership: Khách vãng lai -> Tạm thời -> Chính thức, Đã hủy; members made from an
order's contact; the public registration page and its requests."""



from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm import access
from crm.audit import audit_record, diff_fields

from ..models import (
    Customer,
    CustomerEmail,
    MembershipState,
    RegistrationRequest,
    Source,
)
from ..normalize import format_phone, normalize_email, normalize_phone
from ..selectors import contact_owners
from .bulk import _locked
from .records import (
    ContactConflictError,
    _customer_insert,
    _fresh,
    require_customer,
    snapshot,
)

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
    """The customer with this normalized phone, else the one with this email."""
    by_phone, by_email = contact_owners(tenant, phones=[phone], emails=[email])
    row = by_phone or by_email
    return row.customer if row else None


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
