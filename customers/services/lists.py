"""The shop's lists (sources, tag groups, tags, care statuses) and list columns."""



from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from crm import access
from crm.audit import audit_record
from crm.tenancy import ensure_same_tenant

from ..models import (
    CareStatus,
    Customer,
    CustomerTag,
    Source,
    Tag,
    TagGroup,
)

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
    ensure_same_tenant(tenant, **related)
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
