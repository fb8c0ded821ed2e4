from django.contrib.auth import get_user_model
from django.db import transaction

from .audit import audit_record, diff_fields
from .models import Membership, Role, Tenant
from .signals import tenant_created

SHOP_SETTING_FIELDS = [
    "name", "vip_threshold", "vip_window_months",
    "staff_see_own_customers_only", "only_managers_change_care_status",
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
