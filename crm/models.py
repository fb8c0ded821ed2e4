"""Core models: the shop (tenant), who works in it (membership) and what they changed (audit).

Every shop-owned table inherits ``TenantOwned``. Its manager has no default filtering on
purpose: code must say ``Model.objects.for_tenant(tenant)`` (or go through the view mixin in
``crm.tenancy``), so a forgotten tenant is visible in review and fails closed (``None``
gives an empty queryset, never every row).
"""

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils.translation import gettext_lazy as _


class Tenant(models.Model):
    name = models.CharField(_("shop name"), max_length=200)
    slug = models.SlugField(_("short name"), max_length=60, unique=True)
    is_active = models.BooleanField(_("active"), default=True)
    # Settings that rules read; typed columns rather than a JSON bag so forms validate them.
    vip_threshold = models.BigIntegerField(
        _("VIP threshold (đồng per calendar month)"), default=30_000_000
    )
    vip_window_months = models.PositiveSmallIntegerField(
        _("VIP window (months, this month included)"), default=2
    )
    staff_see_own_customers_only = models.BooleanField(
        _("staff see only the customers assigned to them"), default=False
    )
    only_managers_change_care_status = models.BooleanField(
        _("only managers change the care status"), default=False
    )
    auto_create_guest_customers = models.BooleanField(
        _("an order from an unknown phone creates a walk-in customer"), default=True
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("shop")
        verbose_name_plural = _("shops")
        ordering = ["name"]

    def __str__(self):
        return self.name


class Role(models.TextChoices):
    # Ordered from most to least powerful; ROLE_RANK below relies on that order.
    OWNER = "owner", _("Owner")
    MANAGER = "manager", _("Manager")
    STAFF = "staff", _("Staff")
    COLLABORATOR = "collaborator", _("Collaborator")


ROLE_RANK = {role: rank for rank, role in enumerate(reversed(Role.values))}


class MembershipQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True, tenant__is_active=True)


class Membership(models.Model):
    """A user's place in one shop. A user may belong to several shops."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.STAFF)
    is_active = models.BooleanField(_("active"), default=True)
    # Per shop, not on the user: the number a shop reaches its staff on (shown on Nhân sự).
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("staff membership")
        verbose_name_plural = _("staff memberships")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "user"], name="membership_unique_user"),
        ]

    def __str__(self):
        return self.display_name

    @property
    def display_name(self):
        # Vietnamese order: family name first ("Nguyễn Thu Lan"), unlike get_full_name().
        user = self.user
        return " ".join(p for p in (user.last_name, user.first_name) if p) or user.get_username()

    def has_role(self, minimum: str) -> bool:
        return ROLE_RANK[self.role] >= ROLE_RANK[minimum]

    @property
    def is_manager(self) -> bool:
        return self.has_role(Role.MANAGER)


class TenantQuerySet(models.QuerySet):
    def for_tenant(self, tenant):
        if tenant is None:
            return self.none()
        return self.filter(tenant=tenant)

    def tenant_id_filtered(self) -> int | None:
        """The shop this queryset was narrowed to by ``for_tenant`` (None if not), read from
        its WHERE clause without a query: a selector that builds a query on another table
        (the customers' stats) needs it to walk that table's tenant-first index."""
        from django.db.models.lookups import Exact

        column = self.model._meta.get_field("tenant").column
        for child in self.query.where.children:
            target = getattr(getattr(child, "lhs", None), "target", None)
            if isinstance(child, Exact) and getattr(target, "column", None) == column \
                    and child.lhs.alias == self.query.base_table:
                return getattr(child.rhs, "pk", child.rhs)
        return None


class TenantOwned(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, db_index=True, editable=False)

    objects = TenantQuerySet.as_manager()

    class Meta:
        abstract = True


class TenantOwnedDetail(TenantOwned):
    """A row of a shop that belongs to another row of that shop (a customer's phone, email
    or tag link, an import's record of a customer, a group's member and join/leave event),
    written by the hundred thousand by an import or the recompute that follows it. Its
    ``tenant`` copies its parent's and serves the per-shop unique constraints and indexes,
    which all start with it: the database checks the parent's foreign key and not this one
    (a check per row, at the import's commit, for a shop that cannot be missing), and keeps
    no index of its own on it. Deleting a shop still deletes these rows (Django's
    ``on_delete``)."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, editable=False,
                               db_index=False, db_constraint=False)

    class Meta:
        abstract = True


class TenantSequence(models.Model):
    """Per-shop counters for human codes (KH000001, DH000001). Values are never reused."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE)
    name = models.CharField(max_length=30)
    last_value = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="sequence_unique_name"),
        ]

    def __str__(self):
        return f"{self.name}={self.last_value}"

    @classmethod
    def next_values(cls, tenant, name: str, count: int = 1) -> range:
        """Reserve ``count`` consecutive values under a row lock and return them."""
        with transaction.atomic():
            cls.objects.get_or_create(tenant=tenant, name=name)
            seq = cls.objects.select_for_update().get(tenant=tenant, name=name)
            start = seq.last_value + 1
            seq.last_value += count
            seq.save(update_fields=["last_value"])
        return range(start, start + count)


class AuditLog(TenantOwned):
    """One row per business change, written explicitly by services through audit_record()."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    action = models.CharField(_("action"), max_length=60)
    object_type = models.CharField(max_length=60)
    object_id = models.BigIntegerField(null=True)
    object_repr = models.CharField(max_length=200, blank=True)
    before = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    after = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(_("at"), auto_now_add=True, db_index=False)

    class Meta:
        verbose_name = _("change log entry")
        verbose_name_plural = _("change log")
        indexes = [
            models.Index(fields=["tenant", "object_type", "object_id", "-created_at"],
                         name="audit_object_idx"),
            models.Index(fields=["tenant", "-created_at"], name="audit_recent_idx"),
        ]

    def __str__(self):
        return f"{self.action} {self.object_repr}"


class UserPreference(TenantOwned):
    """Per-user, per-shop UI choices such as the customer list's columns."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=60)
    value = models.JSONField(default=dict)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "user", "key"], name="preference_unique_key"),
        ]

    def __str__(self):
        return self.key


class ApiKey(TenantOwned):
    """A key a sales channel uses to send orders. Only a hash of the secret is stored."""

    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=12, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")

    def __str__(self):
        return f"{self.name} ({self.prefix})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
