import hashlib
import hmac
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import models, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext_lazy as _

from . import access
from .audit import audit_record, diff_fields
from .models import ApiKey, Membership, Role, Tenant
from .signals import tenant_created

SHOP_SETTING_FIELDS = [
    "name", "vip_threshold", "vip_window_months",
    "staff_see_own_customers_only", "only_managers_change_care_status",
    "auto_create_guest_customers",
]


@transaction.atomic
def tenant_create(*, name: str, slug: str, owner=None) -> Tenant:
    tenant = Tenant(name=name, slug=slug)
    tenant.full_clean()
    tenant.save()
    if owner is not None:
        membership_create(tenant=tenant, user=owner, role=Role.OWNER, actor=access.SYSTEM)
    audit_record(tenant, owner, "tenant.create", tenant, after={"name": name, "slug": slug})
    tenant_created.send(sender=Tenant, tenant=tenant)
    return tenant


@transaction.atomic
def tenant_update_settings(*, tenant: Tenant, actor, data: dict) -> Tenant:
    access.require(actor, "settings.edit", tenant)
    # Read "before" from the locked row: a ModelForm may already have mutated ``tenant``.
    tenant = Tenant.objects.select_for_update().get(pk=tenant.pk)
    before = {f: getattr(tenant, f) for f in SHOP_SETTING_FIELDS}
    for field in SHOP_SETTING_FIELDS:
        if field in data:
            setattr(tenant, field, data[field])
    tenant.full_clean()
    tenant.save(update_fields=SHOP_SETTING_FIELDS)
    old, new = diff_fields(before, {f: getattr(tenant, f) for f in SHOP_SETTING_FIELDS})
    if new:
        audit_record(tenant, actor, "tenant.settings", tenant, before=old, after=new)
    return tenant


@transaction.atomic
def membership_create(*, tenant: Tenant, user, role: str, actor) -> Membership:
    access.require(actor, "staff.manage", tenant)
    membership = Membership(tenant=tenant, user=user, role=role)
    membership.full_clean()
    membership.save()
    audit_record(tenant, actor, "membership.create", membership, after={"role": role})
    return membership


@transaction.atomic
def staff_user_create(*, tenant: Tenant, username: str, password: str, role: str,
                      first_name: str = "", last_name: str = "", email: str = "",
                      actor=access.SYSTEM) -> Membership:
    user = get_user_model().objects.create_user(
        username=username, password=password, first_name=first_name, last_name=last_name,
        email=email,
    )
    return membership_create(tenant=tenant, user=user, role=role, actor=actor)


def _hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def api_key_create(*, tenant: Tenant, actor, name: str) -> tuple[ApiKey, str]:
    """Create a key; the full key is returned once and never stored."""
    access.require(actor, "api_keys.manage", tenant)
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    key = ApiKey(tenant=tenant, name=name.strip(), prefix=prefix, key_hash=_hash_key(secret),
                 created_by=access.user_of(actor))
    key.full_clean()
    key.save()
    audit_record(tenant, actor, "apikey.create", key, after={"name": key.name, "prefix": prefix})
    return key, f"kh_{prefix}_{secret}"


@transaction.atomic
def api_key_revoke(*, tenant: Tenant, actor, key: ApiKey) -> None:
    access.require(actor, "api_keys.manage", tenant)
    if key.tenant_id != tenant.pk or key.revoked_at:
        return
    key.revoked_at = timezone.now()
    key.save(update_fields=["revoked_at"])
    audit_record(tenant, actor, "apikey.revoke", key, before={"prefix": key.prefix})


def api_key_authenticate(raw: str) -> ApiKey | None:
    """The active key matching ``raw`` ("kh_<prefix>_<secret>"), or None."""
    parts = (raw or "").split("_", 2)
    if len(parts) != 3 or parts[0] != "kh":
        return None
    key = ApiKey.objects.select_related("tenant").filter(
        prefix=parts[1], revoked_at__isnull=True, tenant__is_active=True).first()
    if key is None or not hmac.compare_digest(key.key_hash, _hash_key(parts[2])):
        return None
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=timezone.now())
    return key


# --- Staff (Nhân sự): who works in the shop, with which role, and how they sign in ---------


class PasswordMethod(models.TextChoices):
    LINK = "link", _("Email a link to set a password")
    TEMPORARY = "temporary", _("Show a temporary password once")


@dataclass(frozen=True)
class StaffAdded:
    membership: Membership
    created_user: bool  # False: an existing account was added to this shop
    temporary_password: str | None = None  # shown once on the page, never stored


# No 0/O, 1/l/i: a temporary password is read aloud or copied from a screen.
_TEMPORARY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def _temporary_password() -> str:
    return "-".join("".join(secrets.choice(_TEMPORARY_ALPHABET) for _ in range(4))
                    for _ in range(3))


def _staff_locked(*, tenant: Tenant, membership: Membership) -> Membership:
    """Lock the shop (the one point that serialises staff changes, so two owners cannot
    demote each other at once) and re-read ``membership`` from this shop."""
    Tenant.objects.select_for_update().get(pk=tenant.pk)
    if membership.tenant_id != tenant.pk:
        raise ValueError("staff: membership belongs to another shop")
    return Membership.objects.select_for_update().select_related("user").get(pk=membership.pk)


def _keep_an_owner(membership: Membership, *, role: str, is_active: bool) -> None:
    """Refuse a change that would leave the shop without an active owner."""
    if membership.role != Role.OWNER or not membership.is_active:
        return
    if role == Role.OWNER and is_active:
        return
    others = (Membership.objects.filter(tenant_id=membership.tenant_id, role=Role.OWNER,
                                        is_active=True).exclude(pk=membership.pk))
    if not others.exists():
        raise ValidationError(_("The shop needs at least one active owner: make someone else "
                                "an owner first."), code="last_owner")


def _works_elsewhere(user, tenant: Tenant) -> bool:
    return Membership.objects.filter(user=user).exclude(tenant=tenant).exists()


@transaction.atomic
def staff_add(*, tenant: Tenant, actor, username: str, role: str, email: str = "",
              first_name: str = "", last_name: str = "", phone: str = "",
              password_method: str = PasswordMethod.LINK, site_url: str = "") -> StaffAdded:
    """Add a person to the shop: a new account, or an existing one (a person who already
    works in another shop) when ``email`` is that account's email, so that an owner cannot
    take over an account by typing its username. A new account gets no usable password:
    either a set-password link is emailed (after commit) or a temporary password is
    returned to be shown once."""
    access.require(actor, "staff.manage", tenant)
    Tenant.objects.select_for_update().get(pk=tenant.pk)
    User = get_user_model()  # noqa: N806
    username, email = username.strip(), email.strip()
    candidates = list(User.objects.filter(username__iexact=username))
    if candidates:
        user = next((u for u in candidates
                     if email and u.email and u.email.casefold() == email.casefold()), None)
        if user is None:
            raise ValidationError({"email": _(
                "This username belongs to an existing account and the email does not match "
                "it. Type that person's email exactly as on their account, or choose another "
                "username.")})
        if not user.is_active:
            raise ValidationError({"username": _("This account is disabled.")})
        existing = Membership.objects.filter(tenant=tenant, user=user).first()
        if existing is not None:
            raise ValidationError({"username": _(
                "This person is already in the shop's staff list (deactivated: reactivate "
                "them there).") if not existing.is_active else _(
                "This person already works in this shop.")})
        created, password = False, None
    else:
        if not (first_name.strip() or last_name.strip()):
            raise ValidationError({"first_name": _("Type the person's name.")})
        if password_method == PasswordMethod.LINK and not email:
            raise ValidationError({"email": _(
                "Type an email to send the link to, or choose a temporary password.")})
        user = User(username=username, email=email, first_name=first_name.strip(),
                    last_name=last_name.strip())
        password = _temporary_password() if password_method == PasswordMethod.TEMPORARY else None
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.full_clean()
        user.save()
        created = True
    membership = Membership(tenant=tenant, user=user, role=role, phone=phone.strip())
    membership.full_clean()
    membership.save()
    audit_record(tenant, actor, "staff.add", membership, after={
        "username": user.username, "role": role, "phone": membership.phone,
        "existing_account": not created,
    })
    if created and password is None:
        _send_password_link(membership, site_url)
    return StaffAdded(membership=membership, created_user=created, temporary_password=password)


@transaction.atomic
def staff_update(*, tenant: Tenant, actor, membership: Membership, role: str,
                 phone: str = "") -> Membership:
    """Change a person's role in this shop (and the phone the shop reaches them on)."""
    access.require(actor, "staff.manage", tenant)
    membership = _staff_locked(tenant=tenant, membership=membership)
    _keep_an_owner(membership, role=role, is_active=membership.is_active)
    before = {"role": membership.role, "phone": membership.phone}
    membership.role, membership.phone = role, phone.strip()
    membership.full_clean()
    old, new = diff_fields(before, {"role": membership.role, "phone": membership.phone})
    if new:
        membership.save(update_fields=list(new))
        audit_record(tenant, actor, "staff.update", membership, before=old, after=new)
    return membership


@transaction.atomic
def staff_set_active(*, tenant: Tenant, actor, membership: Membership,
                     is_active: bool) -> Membership:
    """Deactivate or reactivate a person in this shop. Never a delete: their customers,
    notes and history keep pointing at them. A deactivated person cannot open this shop
    (the tenant middleware reads active memberships only), even if signed in now."""
    access.require(actor, "staff.manage", tenant)
    membership = _staff_locked(tenant=tenant, membership=membership)
    if membership.is_active == is_active:
        return membership
    _keep_an_owner(membership, role=membership.role, is_active=is_active)
    membership.is_active = is_active
    membership.save(update_fields=["is_active"])
    audit_record(tenant, actor, "staff.reactivate" if is_active else "staff.deactivate",
                 membership, before={"is_active": not is_active}, after={"is_active": is_active})
    return membership


@transaction.atomic
def staff_reset_password(*, tenant: Tenant, actor, membership: Membership, method: str,
                         site_url: str = "") -> str | None:
    """Email a one-time set-password link, or set and return a temporary password.

    A temporary password is refused for a person who also belongs to another shop (or is a
    platform operator): the owner of this shop would learn a password that opens the other
    shop too. The link goes to the person's own mailbox, so it is always allowed.
    """
    access.require(actor, "staff.manage", tenant)
    membership = _staff_locked(tenant=tenant, membership=membership)
    user = membership.user
    if not membership.is_active:
        raise ValidationError(_("Reactivate this person before resetting their password."))
    if user == access.user_of(actor):
        raise ValidationError(_("Change your own password on the “My account” page."))
    if method == PasswordMethod.LINK:
        if not user.email:
            raise ValidationError(_("This person has no email: use a temporary password."))
        audit_record(tenant, actor, "staff.password_link", membership)
        _send_password_link(membership, site_url)
        return None
    if method != PasswordMethod.TEMPORARY:
        raise ValueError(f"unknown password method {method!r}")
    if _works_elsewhere(user, tenant) or user.is_staff or user.is_superuser:
        raise ValidationError(_("This person also works in another shop, so only they may "
                                "choose their password: send them the link by email."))
    password = _temporary_password()
    user.set_password(password)
    user.save(update_fields=["password"])  # also signs them out everywhere
    audit_record(tenant, actor, "staff.password_temporary", membership)
    return password


@transaction.atomic
def staff_unlock(*, tenant: Tenant, actor, membership: Membership) -> int:
    """Clear the sign-in lock-out (django-axes) of a person; returns the attempts removed."""
    from axes.utils import reset

    access.require(actor, "staff.manage", tenant)
    membership = _staff_locked(tenant=tenant, membership=membership)
    count = reset(username=membership.user.get_username())
    audit_record(tenant, actor, "staff.unlock", membership, after={"attempts": count})
    return count


def _send_password_link(membership: Membership, site_url: str) -> None:
    from .tasks import staff_password_link_send

    transaction.on_commit(lambda: staff_password_link_send.delay(membership.pk, site_url))


def set_password_url(user, site_url: str) -> str:
    """An absolute one-time link to the set-password page. It stops working once the
    password changes or the user signs in (both are part of the token), or after
    PASSWORD_RESET_TIMEOUT."""
    path = reverse("password_reset_confirm", kwargs={
        "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
        "token": default_token_generator.make_token(user),
    })
    return site_url.rstrip("/") + path


def staff_password_link_send(*, membership_id: int, site_url: str) -> None:
    """Email the person a link to choose their password (run by the task of this name)."""
    membership = Membership.objects.select_related("user", "tenant").get(pk=membership_id)
    user = membership.user
    if not user.email:
        return
    context = {"user": user, "membership": membership, "tenant": membership.tenant,
               "url": set_password_url(user, site_url),
               "timeout_days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400)}
    # Staff read Vietnamese; a Celery worker has no request language anyway.
    with translation.override(settings.LANGUAGE_CODE):
        subject = render_to_string("registration/staff_set_password_subject.txt", context)
        body = render_to_string("registration/staff_set_password_email.txt", context)
    send_mail(" ".join(subject.split()), body, None, [user.email])


# --- My account: each person's own name and password -----------------------------------


@transaction.atomic
def account_update_name(*, tenant: Tenant, actor, first_name: str, last_name: str):
    access.require(actor, "dashboard.view", tenant)
    user = actor.user
    before = {"first_name": user.first_name, "last_name": user.last_name}
    user.first_name, user.last_name = first_name.strip(), last_name.strip()
    old, new = diff_fields(before, {"first_name": user.first_name,
                                    "last_name": user.last_name})
    if new:
        user.save(update_fields=list(new))
        audit_record(tenant, actor, "account.name", actor, before=old, after=new)
    return user


@transaction.atomic
def account_set_password(*, tenant: Tenant, actor, password: str):
    """Set the actor's own password (the form has checked the old one and the validators)."""
    access.require(actor, "dashboard.view", tenant)
    user = actor.user
    user.set_password(password)
    user.save(update_fields=["password"])
    audit_record(tenant, actor, "account.password", actor)
    return user


def list_columns_save(*, tenant: Tenant, user, choice, keys: list[str]) -> list[str]:
    """Keep a user's columns of one list (``choice``: crm.tables.ColumnChoice): known keys,
    once each, in the given order; none kept means the default set."""
    from .models import UserPreference

    known = choice.by_key()
    keys = list(dict.fromkeys(k for k in keys if k in known))
    UserPreference.objects.update_or_create(
        tenant=tenant, user=user, key=choice.preference_key,
        defaults={"value": {"columns": keys}})
    return keys
