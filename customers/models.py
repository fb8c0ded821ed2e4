"""The customer record and the shop-editable lists it points at."""

import datetime
import uuid
from pathlib import Path

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from vietnam_provinces import Province, Ward

from crm.models import Membership, Tenant, TenantOwned, TenantOwnedDetail
from crm.text import initials

from .normalize import fold, format_phone

PROVINCE_CHOICES = sorted(
    ((int(p.code), p.name) for p in Province.iter_all()), key=lambda c: fold(c[1])
)
PROVINCE_NAMES = dict(PROVINCE_CHOICES)


def ward_name(code: int | None) -> str:
    if not code:
        return ""
    try:
        return Ward.from_code(code).name
    except ValueError:
        return ""


def wards_of(province_code: int) -> list[tuple[int, str]]:
    try:
        province = Province.from_code(province_code)
    except ValueError:
        return []
    return sorted(((int(w.code), w.name) for w in Ward.iter_by_province(province.code)),
                  key=lambda c: fold(c[1]))


class OrderedLookup(TenantOwned):
    """A shop-editable list entry: renamed, reordered, deactivated, never hard-deleted."""

    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("in use"), default=True)

    class Meta:
        abstract = True
        ordering = ["position", "id"]

    def __str__(self):
        return self.name


class Source(OrderedLookup):
    """Where a customer came from: a channel group (parent=None) or a channel inside one."""

    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children",
        verbose_name=_("channel group"),
    )
    # Stable key for sources the software itself picks (Excel import, referral, Shopee...).
    code = models.SlugField(_("system key"), max_length=40, blank=True)

    class Meta(OrderedLookup.Meta):
        verbose_name = _("source")
        verbose_name_plural = _("sources")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "parent", "name"], name="source_unique_name",
                                    condition=models.Q(parent__isnull=False)),
            models.UniqueConstraint(fields=["tenant", "name"], name="source_unique_group_name",
                                    condition=models.Q(parent__isnull=True)),
            models.UniqueConstraint(fields=["tenant", "code"], name="source_unique_code",
                                    condition=~models.Q(code="")),
        ]

    def __str__(self):
        # Channels read "Sàn TMĐT › Shopee"; querysets that print sources select parent.
        return f"{self.parent.name} › {self.name}" if self.parent_id else self.name


class TagGroup(OrderedLookup):
    multiple = models.BooleanField(
        _("a customer may hold several tags of this group"), default=True
    )

    class Meta(OrderedLookup.Meta):
        verbose_name = _("tag group")
        verbose_name_plural = _("tag groups")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="taggroup_unique_name"),
        ]


class Tag(OrderedLookup):
    group = models.ForeignKey(
        TagGroup, null=True, blank=True, on_delete=models.PROTECT, related_name="tags",
        verbose_name=_("tag group"),
    )
    color = models.CharField(_("color"), max_length=7, default="#206bc4",
                             validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$")])

    class Meta(OrderedLookup.Meta):
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "group", "name"],
                                    name="tag_unique_name_in_group",
                                    condition=models.Q(group__isnull=False)),
            models.UniqueConstraint(fields=["tenant", "name"], name="tag_unique_free_name",
                                    condition=models.Q(group__isnull=True)),
        ]


class CareStatus(OrderedLookup):
    color = models.CharField(_("color"), max_length=7, default="#206bc4",
                             validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$")])

    class Meta(OrderedLookup.Meta):
        verbose_name = _("care status")
        verbose_name_plural = _("care statuses")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="carestatus_unique_name"),
        ]


class Gender(models.TextChoices):
    MALE = "male", _("Male")
    FEMALE = "female", _("Female")
    OTHER = "other", _("Other")


class LifecycleStage(models.TextChoices):
    NEW = "new", _("New")
    POTENTIAL = "potential", _("Potential")
    PURCHASED = "purchased", _("Purchased")
    VIP = "vip", _("VIP")


class MembershipState(models.TextChoices):
    GUEST = "guest", _("Walk-in guest")
    PENDING = "pending", _("Pending")
    ACTIVE = "active", _("Active member")
    CANCELLED = "cancelled", _("Cancelled")


def format_birthday(day, month, year) -> str:
    """dd/mm/yyyy, or dd/mm when the year is unknown; empty without day and month."""
    if not day or not month:
        return ""
    text = f"{day:02d}/{month:02d}"
    return f"{text}/{year}" if year else text


def avatar_path(customer, filename: str) -> str:
    """avatars/<shop>/<random>.<ext>: the customer's own file name (often their name or
    phone) never reaches the disk or a URL, and names cannot be guessed. The file is served
    only through the profile's avatar view, which checks the shop."""
    ext = Path(filename).suffix.lower()[:5] or ".jpg"
    return f"avatars/{customer.tenant_id}/{uuid.uuid4().hex}{ext}"


class Customer(TenantOwned):
    # Every index of the table starts with the shop (Meta): none of its own.
    # Not checked by the database (nor indexed alone: every index below starts with it):
    # a shop is never deleted while its customers are written, and the check cost a
    # lookup per row at an import's commit. Deleting a shop still deletes its customers
    # (Django's on_delete).
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, editable=False, db_index=False,
                               db_constraint=False)
    number = models.PositiveBigIntegerField(_("number"), editable=False)
    code = models.CharField(_("code"), max_length=20, editable=False)
    full_name = models.CharField(_("full name"), max_length=200)
    search_name = models.CharField(max_length=200, editable=False)
    avatar = models.ImageField(_("avatar"), upload_to=avatar_path, blank=True)
    company = models.CharField(_("company"), max_length=200, blank=True)
    tax_code = models.CharField(
        _("tax code"), max_length=14, blank=True,
        validators=[RegexValidator(r"^\d{10}(-?\d{3})?$",
                                   _("A tax code has 10 or 13 digits."))],
    )
    # Primary contacts, copied from the CustomerPhone/CustomerEmail rows marked primary so
    # the list shows them without a join. All lookups by phone/email go through those rows.
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    phone_normalized = models.CharField(max_length=20, blank=True, editable=False)
    email = models.EmailField(_("email"), blank=True)
    gender = models.CharField(_("gender"), max_length=10, choices=Gender.choices, blank=True)
    # Birthday as day + month + optional year: customers often give "15/08" without a year,
    # and the birthday-month filter and group rule read birth_month directly.
    birth_day = models.PositiveSmallIntegerField(_("birth day"), null=True, blank=True)
    birth_month = models.PositiveSmallIntegerField(_("birth month"), null=True, blank=True)
    birth_year = models.PositiveSmallIntegerField(_("birth year"), null=True, blank=True)
    national_id = models.CharField(
        _("ID card (CMND/CCCD)"), max_length=12, blank=True,
        validators=[RegexValidator(r"^(\d{9}|\d{12})$",
                                   _("CMND has 9 digits, CCCD has 12 digits."))],
    )
    country = models.CharField(_("country"), max_length=2, default="VN")
    province_code = models.PositiveSmallIntegerField(
        _("province / city"), null=True, blank=True, choices=PROVINCE_CHOICES
    )
    ward_code = models.PositiveIntegerField(_("ward / commune"), null=True, blank=True)
    street = models.CharField(_("street address"), max_length=255, blank=True)
    legacy_address = models.CharField(
        _("old address (before 2025)"), max_length=255, blank=True,
        help_text=_("Free text with the old district, as the customer wrote it."),
    )
    note = models.TextField(_("note"), blank=True)
    source = models.ForeignKey(Source, null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+", verbose_name=_("source"))
    # The foreign keys most customers leave empty are indexed where set (Meta.indexes).
    referrer = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="referrals", verbose_name=_("referred by"),
                                 db_index=False)
    assigned_staff = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("staff in charge"), db_index=False,
    )
    collaborator = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("collaborator"), db_index=False,
    )
    care_status = models.ForeignKey(CareStatus, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("care status"),
                                    db_index=False)
    lifecycle_stage = models.CharField(_("lifecycle stage"), max_length=12,
                                       choices=LifecycleStage.choices,
                                       default=LifecycleStage.NEW)
    membership_state = models.CharField(_("membership"), max_length=12,
                                        choices=MembershipState.choices,
                                        default=MembershipState.GUEST)
    tags = models.ManyToManyField(Tag, through="CustomerTag", related_name="customers",
                                  blank=True, verbose_name=_("tags"))
    # Who wrote the row, for the record: neither checked by the database nor indexed (a
    # lookup and two index entries per row of an import, for the rare deletion of a
    # login, which Django's on_delete still empties, by a scan).
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+", db_index=False,
                                   db_constraint=False)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+", db_index=False,
                                   db_constraint=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "number"], name="customer_unique_number"),
            models.UniqueConstraint(fields=["tenant", "code"], name="customer_unique_code"),
            models.CheckConstraint(
                condition=models.Q(birth_month__isnull=True)
                | models.Q(birth_month__gte=1, birth_month__lte=12),
                name="customer_birth_month_range",
            ),
        ]
        indexes = [
            # Sort orders of the list (keyset pagination walks these).
            models.Index(fields=["tenant", "search_name", "id"], name="customer_name_idx"),
            models.Index(fields=["tenant", "created_at", "id"], name="customer_created_idx"),
            # Filters that narrow a big shop, on a value chosen (a status, a staff member, a
            # month): indexed where set, as most customers of an import have none of them
            # (an entry per empty value cost every insert; "not set" is most of a shop and
            # reads the shop's rows anyway).
            *[models.Index(fields=["tenant", name], name=index,
                           condition=models.Q(**{f"{name}__isnull": False}))
              for name, index in (("care_status", "customer_care_idx"),
                                  ("assigned_staff", "customer_staff_idx"),
                                  ("collaborator", "customer_ctv_idx"),
                                  ("birth_month", "customer_birth_month_idx"))],
            # The dashboard: stage counts (the funnel, VIPs) read this index only; pending
            # members are few, their partial index also serves "Chờ duyệt" sorted by date.
            models.Index(fields=["tenant", "lifecycle_stage"], name="customer_stage_idx"),
            models.Index(fields=["tenant", "created_at", "id"], name="customer_pending_idx",
                         condition=models.Q(membership_state="pending")),
            # The foreign keys that are mostly empty (an import of 100,000 customers sets
            # none of them), indexed where set: what deleting a staff member or a status
            # (Django's on_delete) and "referred by" look up. An index entry per empty
            # value cost every insert for nothing. No index on the shop alone: every index
            # above starts with it.
            *[models.Index(fields=[name], name=f"cust_{name}_set_idx",
                           condition=models.Q(**{f"{name}__isnull": False}))
              for name in ("referrer", "assigned_staff", "collaborator", "care_status")],
            # PostgreSQL-only search indexes (trigram GIN on search_name, pattern_ops on
            # phones and emails) are created by migration 0002, which SQLite skips.
        ]

    def __str__(self):
        return f"{self.code} {self.full_name}"

    def save(self, *args, **kwargs):
        self.search_name = fold(self.full_name)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "full_name" in update_fields:
            kwargs["update_fields"] = {*update_fields, "search_name"}
        super().save(*args, **kwargs)

    @property
    def birthday_display(self) -> str:
        return format_birthday(self.birth_day, self.birth_month, self.birth_year)

    @property
    def birthday(self) -> datetime.date | None:
        if self.birth_year and self.birth_month and self.birth_day:
            return datetime.date(self.birth_year, self.birth_month, self.birth_day)
        return None

    @property
    def phone_display(self) -> str:
        return format_phone(self.phone_normalized) or self.phone

    @property
    def province_name(self) -> str:
        return PROVINCE_NAMES.get(self.province_code, "")

    @property
    def ward_name(self) -> str:
        return ward_name(self.ward_code)

    @property
    def country_name(self) -> str:
        from .countries import country_name

        return country_name(self.country)

    @property
    def address_display(self) -> str:
        parts = [self.street, self.ward_name, self.province_name]
        return ", ".join(p for p in parts if p) or self.legacy_address

    @property
    def lifecycle_label(self) -> str:
        """get_lifecycle_stage_display without rebuilding the choices dict per call (the
        list shows it on every row)."""
        return LifecycleStage(self.lifecycle_stage).label if self.lifecycle_stage else ""

    @property
    def initials(self) -> str:
        """The avatar's letter, the rule staff avatars use too (crm.text.initials)."""
        return initials(self.full_name)


class CustomerPhone(TenantOwnedDetail):
    """Every phone of a customer, the primary one included: unique per shop."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="phones")
    raw = models.CharField(_("phone as typed"), max_length=40)
    normalized = models.CharField(max_length=20)
    # Digits reversed: "ends with 5678" becomes an indexed prefix search.
    reversed_digits = models.CharField(max_length=20)
    is_primary = models.BooleanField(default=False)
    label = models.CharField(_("label"), max_length=40, blank=True)

    class Meta:
        constraints = [
            # Also the index of the search by the first digits (LIKE '091%'): one index,
            # where a plain unique one and a pattern one were two entries per phone.
            models.UniqueConstraint(fields=["tenant", "normalized"], name="phone_unique_per_shop",
                                    opclasses=["int8_ops", "varchar_pattern_ops"]),
        ]

    def __str__(self):
        return self.normalized

    @property
    def display(self):
        return format_phone(self.normalized)


class CustomerEmail(TenantOwnedDetail):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="emails")
    email = models.EmailField(_("email"))
    is_primary = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "email"], name="email_unique_per_shop",
                                    opclasses=["int8_ops", "varchar_pattern_ops"]),
        ]

    def __str__(self):
        return self.email


class CustomerTag(TenantOwnedDetail):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE)
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "customer", "tag"],
                                    name="customertag_unique"),
        ]
        indexes = [models.Index(fields=["tenant", "tag", "customer"], name="customertag_tag_idx")]

    def __str__(self):
        return f"{self.customer_id}:{self.tag_id}"


class CustomerNote(TenantOwned):
    """A note staff write on the profile (calls, needs, promises)."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")
    body = models.TextField(_("note"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("customer note")
        verbose_name_plural = _("customer notes")
        indexes = [models.Index(fields=["tenant", "customer", "-created_at"],
                                name="customernote_timeline_idx")]

    def __str__(self):
        return self.body[:50]


class CustomerAlias(TenantOwned):
    """The code of a customer merged into another: old links redirect to the survivor."""

    code = models.CharField(max_length=20)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="aliases")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "code"], name="customeralias_unique_code"),
        ]

    def __str__(self):
        return f"{self.code} -> {self.customer_id}"


class RegistrationRequest(TenantOwned):
    """A registration from the public page for a phone that already belongs to a customer.

    An anonymous form never changes an existing customer: what was submitted waits here,
    and a manager sees it next to the stored values in "Chờ duyệt" and chooses what to
    apply when approving.
    """

    class State(models.TextChoices):
        OPEN = "open", _("Waiting")
        APPLIED = "applied", _("Approved")
        DISMISSED = "dismissed", _("Dismissed")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE,
                                 related_name="registration_requests")
    full_name = models.CharField(_("full name"), max_length=200)
    phone = models.CharField(_("phone"), max_length=40)
    email = models.EmailField(_("email"), blank=True)
    birth_day = models.PositiveSmallIntegerField(null=True, blank=True)
    birth_month = models.PositiveSmallIntegerField(null=True, blank=True)
    birth_year = models.PositiveSmallIntegerField(null=True, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    created_at = models.DateTimeField(_("submitted at"), auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("registration request")
        verbose_name_plural = _("registration requests")
        indexes = [models.Index(fields=["tenant", "state", "-created_at"],
                                name="registration_open_idx")]
        constraints = [models.UniqueConstraint(
            fields=["tenant", "customer"], condition=models.Q(state="open"),
            name="registration_one_open_per_customer")]

    def __str__(self):
        return f"{self.full_name} ({self.phone})"

    @property
    def birthday_display(self) -> str:
        return format_birthday(self.birth_day, self.birth_month, self.birth_year)
