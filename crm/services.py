import hashlib
import hmac
import secrets

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

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
        membership_create(tenant=tenant, user=owner, role=Role.OWNER, actor=None)
    audit_record(tenant, owner, "tenant.create", tenant, after={"name": name, "slug": slug})
    tenant_created.send(sender=Tenant, tenant=tenant)
    return tenant


@transaction.atomic
def tenant_update_settings(*, tenant: Tenant, actor, data: dict) -> Tenant:
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
    membership = Membership(tenant=tenant, user=user, role=role)
    membership.full_clean()
    membership.save()
    audit_record(tenant, actor, "membership.create", membership, after={"role": role})
    return membership


@transaction.atomic
def staff_user_create(*, tenant: Tenant, username: str, password: str, role: str,
                      first_name: str = "", last_name: str = "", email: str = "",
                      actor=None) -> Membership:
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
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    key = ApiKey(tenant=tenant, name=name.strip(), prefix=prefix, key_hash=_hash_key(secret),
                 created_by=actor)
    key.full_clean()
    key.save()
    audit_record(tenant, actor, "apikey.create", key, after={"name": key.name, "prefix": prefix})
    return key, f"kh_{prefix}_{secret}"


@transaction.atomic
def api_key_revoke(*, tenant: Tenant, actor, key: ApiKey) -> None:
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
