"""The customers app's own fields in the customer field registry (customers.fields).

Registered in CustomersConfig.ready(); the orders app adds order count, spend, debt...
(orders/field_defs.py), the groups app "Thuộc nhóm".
"""

import datetime

from django.db.models import Count, Exists, OuterRef, Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.models import Membership, Role
from crm.tables import Column

from .fields import CustomerField, FieldIO, FieldType, register_field, vietnam_today
from .models import (
    PROVINCE_CHOICES,
    CareStatus,
    CustomerNote,
    CustomerTag,
    Gender,
    LifecycleStage,
    MembershipState,
    Source,
    Tag,
)

CELLS = "customers/cells.html#"
UNKNOWN = "unknown"  # the gender "Chưa rõ": an empty column

# A row's tags in the shop's order (one query for the page).
TAGS = Prefetch("tags", queryset=Tag.objects.select_related("group").order_by("position", "id"))


def _column(key, label, sort=None, **kwargs) -> Column:
    return Column(key, label, sort, cell=CELLS + key, **kwargs)


def _sorts(key: str, order: list[str]) -> dict:
    """The ascending and descending keyset sorts ``key`` on ``order`` (last key unique)."""
    return {key: (order, {}),
            f"-{key}": ([f"-{name}" for name in order], {})}


def keyword_q(tenant, op, value) -> Q:
    """The list's search box as a condition: a code, a phone, an email or a name."""
    from .models import Customer
    from .selectors import customer_search

    matches = customer_search(Customer.objects.for_tenant(tenant), tenant, value)
    return Q(pk__in=matches.values("pk"))


def name_q(tenant, op, value) -> Q:
    from .normalize import fold

    words = fold(value).split()
    if op == "eq":
        return Q(search_name=" ".join(words))
    if op == "starts_with":
        return Q(search_name__startswith=" ".join(words))
    if op in ("empty", "not_empty"):
        return Q(full_name="") if op == "empty" else ~Q(full_name="")
    q = Q()
    for word in words:
        q &= Q(search_name__contains=word)
    return ~q if op == "not_contains" else q


def phone_q(tenant, op, value) -> Q:
    from .models import CustomerPhone
    from .normalize import phone_digits_for_search

    phones = CustomerPhone.objects.for_tenant(tenant).filter(customer=OuterRef("pk"))
    if op in ("empty", "not_empty"):
        return ~Exists(phones) if op == "empty" else Exists(phones)
    prefix, digits = phone_digits_for_search(value)
    if op == "starts_with" and prefix is not None:
        return Exists(phones.filter(normalized__startswith=prefix))
    match = Exists(phones.filter(reversed_digits__startswith=digits[::-1]) if op != "contains"
                   else phones.filter(normalized__contains=digits.lstrip("0")))
    return ~match if op == "not_contains" else match


def gender_q(tenant, op, value) -> Q:
    if op in ("empty", "not_empty"):
        return Q(gender="") if op == "empty" else ~Q(gender="")
    values = ["" if v == UNKNOWN else v for v in value]
    q = Q(gender__in=values)
    return ~q if op == "not_in" else q


def age_of(customer) -> int | None:
    return vietnam_today().year - customer.birth_year if customer.birth_year else None


def age_q(tenant, op, value) -> Q:
    """Age by the year of birth (what a shop knows): age ≥ 30 is born in or before
    this year − 30. A customer without a year of birth has no age."""
    year = vietnam_today().year
    if op == "between":
        low, high = value
        return Q(birth_year__gte=year - high, birth_year__lte=year - low)
    mirrored = {"gte": "lte", "lte": "gte", "gt": "lt", "lt": "gt", "eq": "exact"}
    if op == "neq":
        return ~Q(birth_year=year - value) & Q(birth_year__isnull=False)
    return Q(**{f"birth_year__{mirrored[op]}": year - value})


def source_q(tenant, op, value) -> Q:
    """A channel group (a source without a parent) stands for its channels too."""
    if op in ("empty", "not_empty"):
        return Q(source__isnull=op == "empty")
    q = Q(source__in=value) | Q(source__parent__in=value)
    return ~q | Q(source__isnull=True) if op == "not_in" else q


def tags_q(tenant, op, value) -> Q:
    links = CustomerTag.objects.for_tenant(tenant).filter(customer=OuterRef("pk"))
    if op in ("empty", "not_empty"):
        return ~Exists(links) if op == "empty" else Exists(links)
    if op == "all":
        wanted = sorted(set(value))
        holders = (CustomerTag.objects.for_tenant(tenant).filter(tag__in=wanted)
                   .values("customer_id").annotate(n=Count("tag_id", distinct=True))
                   .filter(n=len(wanted)).values("customer_id"))
        return Q(pk__in=holders)
    held = Exists(links.filter(tag__in=value))
    return ~held if op == "none" else held


def referrer_q(tenant, op, value) -> Q:
    return Q(referrer__isnull=op == "no")


def noted_within_q(tenant, op, value) -> Q:
    """A note (the contact log) written in the last ``value`` days."""
    since = timezone.now() - datetime.timedelta(days=value)
    recent = Exists(CustomerNote.objects.for_tenant(tenant).filter(
        customer=OuterRef("pk"), created_at__gte=since))
    return recent if op == "within" else ~recent


def last_note_at(customer):
    note = customer.notes.order_by("-created_at").first()
    return note.created_at if note else None


def month_choices(tenant=None) -> list[tuple]:
    return [(m, _("Month %(m)d") % {"m": m}, "") for m in range(1, 13)]


def _staff():
    return Membership.objects.exclude(role=Role.COLLABORATOR).select_related("user")


def _collaborators():
    return Membership.objects.filter(role=Role.COLLABORATOR).select_related("user")


def _plain(choices) -> callable:
    return lambda tenant: [(value, label, "") for value, label in choices]


def _names(rows, *names) -> dict:
    """{folded name: row} for a relation's import lookup; the first row of a name wins."""
    from .normalize import fold

    found = {}
    for row in rows:
        for name in names:
            key = fold(str(name(row) or ""))
            if key:
                found.setdefault(key, row)
    return found


def _source_lookup(tenant) -> dict:
    """A source by its name ("Shopee") or its full name ("Sàn TMĐT › Shopee")."""
    rows = list(Source.objects.for_tenant(tenant).select_related("parent"))
    return _names(rows, str, lambda s: s.name)


def _people_lookup(queryset):
    def lookup(tenant) -> dict:
        rows = list(queryset().filter(tenant=tenant, is_active=True))
        return _names(rows, lambda m: m.user.username, lambda m: m.user.get_full_name(),
                      lambda m: m.user.email)
    return lookup


def _care_lookup(tenant) -> dict:
    return _names(CareStatus.objects.for_tenant(tenant), lambda c: c.name)


def _person(membership) -> str:
    return (membership.user.get_full_name() or membership.user.username) if membership else ""


FIELDS = [
    CustomerField(
        "keyword", _("Keyword (name, phone, email, code)"), FieldType.TEXT,
        operators=("contains",), condition=keyword_q, order=1,
        value=lambda c: c.full_name),
    CustomerField(
        "name", _("Customer name"), FieldType.TEXT, path="full_name", condition=name_q,
        io=FieldIO(("Tên khách hàng", "Tên khách", "Họ tên", "Họ và tên", "Tên", "Khách hàng",
                    "Name", "Full name", "Customer name", "Tên KH"), parse="name"),
        column=_column("name", _("Customer"), "name", card=True), default_column=True,
        sorts=_sorts("name", ["search_name", "id"]), order=2),
    CustomerField(
        "code", _("Code"), FieldType.TEXT, path="code", blank_is_empty=True,
        operators=("eq", "starts_with", "contains"),
        io=FieldIO(("Mã khách hàng", "Mã KH", "Mã", "Customer code", "Code"), parse="code",
                   max_length=40),
        column=_column("code", _("Code"), "code"), sorts=_sorts("code", ["number"]), order=3),
    CustomerField(
        "phone", _("Phone"), FieldType.TEXT, condition=phone_q,
        operators=("contains", "starts_with", "empty", "not_empty"),
        value=lambda c: c.phone_display, order=4,
        io=FieldIO(("Số điện thoại", "Điện thoại", "SĐT", "SDT", "Di động", "Điện thoại di động",
                    "Phone", "Mobile", "Phone number", "Số ĐT"), parse="phone", max_length=100),
        column=_column("phone", _("Phone"), card=True), default_column=True),
    CustomerField(
        "email", _("Email"), FieldType.TEXT, path="email", blank_is_empty=True, order=5,
        io=FieldIO(("E-mail", "Thư điện tử", "Địa chỉ email"), parse="email", max_length=254),
        column=_column("email", _("Email"))),
    CustomerField(
        "company", _("Company"), FieldType.TEXT, path="company", blank_is_empty=True, order=6,
        io=FieldIO(("Công ty", "Tên công ty", "Company name", "Đơn vị"), max_length=200),
        column=_column("company", _("Company"))),
    CustomerField(
        "gender", _("Gender"), FieldType.CHOICE, path="gender", blank_is_empty=True,
        choices=_plain([*Gender.choices, (UNKNOWN, _("Unknown"))]), condition=gender_q,
        value=lambda c: c.gender or UNKNOWN, order=10, panel="main",
        io=FieldIO(("Giới tính", "Gender", "Sex", "Phái"), parse="gender",
                   export=lambda c: Gender(c.gender).label if c.gender else ""),
        column=_column("gender", _("Gender"))),
    CustomerField(
        "age", _("Age"), FieldType.NUMBER, condition=age_q, value=age_of, unit=_("years old"),
        min_value=0, max_value=150, order=11, panel="more"),
    CustomerField(
        "birth_month", _("Birthday month"), FieldType.MONTH, path="birth_month",
        choices=month_choices, order=12, panel="main"),
    CustomerField(
        "birthday", _("Birthday"), FieldType.DATE, rule=False, value=lambda c: c.birthday,
        io=FieldIO(("Ngày sinh", "Sinh nhật", "Birthday", "Date of birth", "DOB",
                    "Ngày tháng năm sinh"),
                   parse="birthday", export=lambda c: c.birthday_display),
        column=_column("birthday", _("Birthday")), order=13),
    CustomerField(
        "province", _("Province / city"), FieldType.CHOICE, path="province_code",
        choices=_plain(PROVINCE_CHOICES), param="province_code", order=14, panel="main",
        io=FieldIO(("Tỉnh/Thành phố", "Tỉnh thành", "Tỉnh", "Thành phố", "Tỉnh/TP", "Khu vực",
                    "Province", "City"), parse="province", export=lambda c: c.province_name),
        column=_column("province", _("Province / city"))),
    CustomerField(
        "source", _("Source"), FieldType.RELATION, path="source", condition=source_q,
        queryset=lambda: Source.objects.select_related("parent"),
        choice_group=lambda s: s.parent or "", section="status", related=("source__parent",),
        io=FieldIO(("Nguồn", "Nguồn khách hàng", "Nguồn khách", "Kênh", "Source"),
                   parse="relation", lookup=_source_lookup,
                   export=lambda c: str(c.source) if c.source_id else ""),
        order=36, panel="main", column=_column("source", _("Source"), related=("source__parent",))),
    CustomerField(
        "tags", _("Tags"), FieldType.MULTI, path="tags", condition=tags_q,
        queryset=lambda: Tag.objects.select_related("group"),
        choice_group=lambda t: t.group or "", section="status", order=33, panel="main",
        io=FieldIO(("Thẻ", "Nhãn", "Tags", "Tag", "Nhóm khách hàng", "Nhóm KH", "Phân loại"),
                   parse="tags"),
        column=_column("tags", _("Tags"), prefetch=(TAGS,)), default_column=True),
    CustomerField(
        "care_status", _("Care status"), FieldType.RELATION, path="care_status",
        queryset=CareStatus.objects.all, section="status", order=30, panel="main",
        io=FieldIO(("Trạng thái chăm sóc", "Trạng thái CSKH", "Tình trạng chăm sóc",
                    "Care status"), parse="relation", lookup=_care_lookup,
                   export=lambda c: c.care_status.name if c.care_status_id else ""),
        column=_column("care_status", _("Care status"), card=True,
                       related=("care_status",)), default_column=True),
    CustomerField(
        "lifecycle", _("Lifecycle stage"), FieldType.CHOICE, path="lifecycle_stage",
        choices=_plain(LifecycleStage.choices), param="lifecycle_stage", section="status",
        operators=("in", "not_in"), order=31, panel="main",
        io=FieldIO(("Giai đoạn",), importable=False, export=lambda c: c.lifecycle_label),
        column=_column("lifecycle", _("Lifecycle stage"), card=True), default_column=True),
    CustomerField(
        "membership", _("Membership"), FieldType.CHOICE, path="membership_state",
        choices=_plain(MembershipState.choices), param="membership_state", section="status",
        operators=("in", "not_in"), order=32, panel="main",
        io=FieldIO(("Thành viên", "Hạng thành viên", "Trạng thái thành viên", "Membership"),
                   parse="choice",
                   export=lambda c: MembershipState(c.membership_state).label),
        column=_column("membership", _("Membership"))),
    CustomerField(
        "staff", _("Staff in charge"), FieldType.RELATION, path="assigned_staff",
        queryset=_staff, param="assigned_staff", section="status", order=34, panel="main",
        io=FieldIO(("Nhân viên phụ trách", "NV phụ trách", "Nhân viên", "Người phụ trách",
                    "Nhân viên bán hàng", "NVKD", "Sales", "Staff"), parse="relation",
                   lookup=_people_lookup(_staff), export=lambda c: _person(c.assigned_staff)),
        related=("assigned_staff__user",),
        column=_column("staff", _("Staff in charge"), related=("assigned_staff__user",)),
        default_column=True),
    CustomerField(
        "collaborator", _("Collaborator"), FieldType.RELATION, path="collaborator",
        queryset=_collaborators, section="status", order=35, panel="main",
        io=FieldIO(("Cộng tác viên", "CTV", "Collaborator"), parse="relation",
                   lookup=_people_lookup(_collaborators),
                   export=lambda c: _person(c.collaborator)),
        related=("collaborator__user",),
        column=_column("collaborator", _("Collaborator"), related=("collaborator__user",))),
    CustomerField(
        "referrer", _("Referred by someone"), FieldType.BOOLEAN, condition=referrer_q,
        value=lambda c: c.referrer_id is not None, section="status", order=37, panel="more"),
    CustomerField(
        "noted", _("Notes (contact log)"), FieldType.RECENT, condition=noted_within_q,
        value=last_note_at, unit=_("days"), min_value=1, max_value=3650,
        windows=((7, _("7 days")), (30, _("30 days")), (60, _("60 days")),
                 (90, _("90 days"))),
        section="status", order=38, panel="more"),
    CustomerField(
        "created", _("Created at"), FieldType.DATE, path="created_at", order=40,
        io=FieldIO(("Ngày tạo", "Ngày tham gia", "Ngày đăng ký", "Created at", "Created"),
                   parse="date", export=lambda c: timezone.localtime(c.created_at).date()),
        operators=("from", "to", "between", "on"), panel="main",
        column=_column("created", _("Created at"), "created"),
        sorts=_sorts("created", ["created_at", "id"])),
    # Written and exported, not (yet) filtered or shown as list columns.
    CustomerField(
        "tax_code", _("Tax code"), FieldType.TEXT, path="tax_code", blank_is_empty=True,
        rule=False, order=7,
        io=FieldIO(("Mã số thuế", "MST", "Tax code", "Tax ID"), parse="tax_code")),
    CustomerField(
        "national_id", _("ID card (CMND/CCCD)"), FieldType.TEXT, path="national_id",
        blank_is_empty=True, rule=False, order=8,
        io=FieldIO(("CMND/CCCD", "CCCD", "CMND", "Số CCCD", "Số CMND", "Căn cước",
                    "ID card"), parse="national_id")),
    CustomerField(
        "street", _("Street address"), FieldType.TEXT, path="street", blank_is_empty=True,
        rule=False, order=15,
        io=FieldIO(("Địa chỉ", "Số nhà, đường", "Địa chỉ chi tiết", "Address", "Street"))),
    CustomerField(
        "legacy_address", _("Old address (before 2025)"), FieldType.TEXT,
        path="legacy_address", blank_is_empty=True, rule=False, order=16,
        io=FieldIO(("Địa chỉ cũ", "Quận/Huyện", "Quận huyện", "Địa chỉ (cũ)", "District"))),
    CustomerField(
        "note", _("Note"), FieldType.TEXT, path="note", blank_is_empty=True, rule=False,
        order=17, io=FieldIO(("Ghi chú", "Ghi chú khách hàng", "Note", "Notes", "Mô tả"),
                             max_length=5000)),
]



def register() -> None:
    for entry in FIELDS:
        register_field(entry)

