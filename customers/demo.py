"""Demo customers for the demo shop (``manage.py seed_demo``), made through the services."""

import random

from django.core.exceptions import ValidationError
from faker import Faker

from crm import access
from crm.models import Role

from . import services
from .models import (
    PROVINCE_CHOICES,
    CareStatus,
    Customer,
    Gender,
    MembershipState,
    Source,
    Tag,
    wards_of,
)

COMPANY_WORDS = ["Thương mại", "Xuất nhập khẩu", "Cà phê", "Trà", "Thực phẩm", "Dịch vụ"]
MOBILE_PREFIXES = ["090", "091", "093", "094", "096", "097", "098", "086", "088", "032", "035",
                   "038", "070", "077", "079", "081", "083", "085", "056", "059"]


def seed_demo_customers(tenant, memberships: dict, count: int, seed: int = 2026) -> int:
    fake = Faker("vi_VN")
    fake.seed_instance(seed)
    rng = random.Random(seed)
    sources = list(Source.objects.for_tenant(tenant).filter(parent__isnull=False)) or \
        list(Source.objects.for_tenant(tenant))
    statuses = list(CareStatus.objects.for_tenant(tenant))
    tags = list(Tag.objects.for_tenant(tenant).select_related("group"))
    staff = [m for r, m in memberships.items() if r in (Role.MANAGER, Role.STAFF)]
    collaborator = memberships.get(Role.COLLABORATOR)
    owner = memberships.get(Role.OWNER)
    created = 0
    for _i in range(count):
        gender = rng.choice([Gender.MALE, Gender.FEMALE, Gender.FEMALE, ""])
        # Vietnamese order: family, middle, given ("Nguyễn Văn Hùng"; "Trần Thị Lan").
        middle = rng.choice(["Văn", "Đức", "Minh", "Quang", "Hữu"]) if gender == Gender.MALE \
            else rng.choice(["Thị", "Ngọc", "Thu", "Thanh", "Mai"])
        given = fake.first_name_male() if gender == Gender.MALE else fake.first_name_female()
        name = f"{fake.last_name()} {middle} {given}"
        province = rng.choice(PROVINCE_CHOICES)[0]
        wards = wards_of(province)
        phone = rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**7):07d}"
        has_birthday = rng.random() < 0.7
        data = {
            "full_name": name,
            "phone": f"{phone[:4]} {phone[4:7]} {phone[7:]}",
            "email": fake.free_email() if rng.random() < 0.5 else "",
            "gender": gender,
            "birth_day": rng.randint(1, 28) if has_birthday else None,
            "birth_month": rng.randint(1, 12) if has_birthday else None,
            "birth_year": rng.randint(1960, 2005) if has_birthday and rng.random() < 0.8 else None,
            "province_code": province,
            "ward_code": rng.choice(wards)[0] if wards else None,
            "street": fake.street_address(),
            "company": f"Công ty TNHH {rng.choice(COMPANY_WORDS)} {fake.last_name()}"
            if rng.random() < 0.2 else "",
            "source": rng.choice(sources),
            "care_status": rng.choice(statuses),
            "assigned_staff": rng.choice(staff) if staff else None,
            "collaborator": collaborator if rng.random() < 0.15 else None,
            "tags": _pick_tags(rng, tags),
            "note": fake.sentence() if rng.random() < 0.3 else "",
        }
        try:
            services.customer_create(tenant=tenant, actor=owner or access.SYSTEM,
                                     data=data)
            created += 1
        except ValidationError:
            continue  # a random phone or email that collided: skip it
    return created + seed_demo_screens(tenant, memberships, rng)


# A demo shows every screen with data: "Khách trùng" (same folded name and the same birthday
# or street, customers.selectors.duplicate_pairs) and "Chờ duyệt" (pending members from the
# public page, and registrations sent with the phone of an existing customer).
DUPLICATE_PAIRS = [
    # (name, other spelling, shared values, phones)
    ("Dương Thu Thảo", "Duong thu thao", {"birth_day": 15, "birth_month": 8},
     ("0903 118 215", "0977 520 815"), {"birth_year": 1990}),
    ("Nguyễn Văn Hùng", "Nguyen Van Hung", {"street": "27 Hàng Bạc"},
     ("0912 640 227", "0385 640 227"), {"company": "Công ty TNHH Trà Hùng"}),
    ("Trần Thị Mai", "Tran Thi Mai", {"birth_day": 2, "birth_month": 9, "birth_year": 1985},
     ("0868 020 985", "0796 020 985"), {"email": "mai.tran85@gmail.com"}),
]
PENDING_MEMBERS = [
    ("Lê Hoàng Yến", "0934 221 507", "yen.le@gmail.com", (7, 3, 1996)),
    ("Phạm Quốc Bảo", "0965 118 302", "", (None, None, None)),
    ("Võ Ngọc Hân", "0707 334 912", "ngochan.vo@yahoo.com", (21, 11, 2001)),
]


def seed_demo_screens(tenant, memberships: dict, rng) -> int:
    """Duplicate pairs, pending members and two open registration requests, through the
    services (the public page's actor for registrations)."""
    owner = memberships.get(Role.OWNER) or access.SYSTEM
    staff = memberships.get(Role.STAFF)
    existing = list(Customer.objects.for_tenant(tenant).filter(
        membership_state=MembershipState.GUEST).order_by("pk")[:2])
    created = 0
    for full, plain, shared, phones, extra in DUPLICATE_PAIRS:
        # The fuller record first, the careless copy later (as a second channel would).
        for name, phone, more in ((full, phones[0], extra), (plain, phones[1], {})):
            try:
                services.customer_create(tenant=tenant, actor=owner, data={
                    "full_name": name, "phone": phone, **shared, **more,
                    "assigned_staff": staff})
                created += 1
            except ValidationError:
                continue
    for name, phone, email, (day, month, year) in PENDING_MEMBERS:
        try:
            services.registration_submit(tenant=tenant, actor=access.REGISTRATION, data={
                "full_name": name, "phone": phone, "email": email, "birth_day": day,
                "birth_month": month, "birth_year": year})
            created += 1
        except ValidationError:
            continue
    # Two customers of the shop who registered on the page with their own phone: the
    # manager sees what they sent next to what is stored.
    for customer, (day, month, year) in zip(existing, [(12, 4, 1992), (30, 6, None)],
                                            strict=False):
        services.registration_submit(tenant=tenant, actor=access.REGISTRATION, data={
            "full_name": customer.full_name.upper() if rng.random() < 0.5
            else customer.full_name, "phone": customer.phone,
            "email": f"{customer.code.lower()}@gmail.com", "birth_day": day,
            "birth_month": month, "birth_year": year})
    return created


def _pick_tags(rng, tags):
    chosen, groups = [], set()
    for tag in rng.sample(tags, k=min(len(tags), rng.randint(0, 3))):
        if tag.group_id and not tag.group.multiple and tag.group_id in groups:
            continue
        groups.add(tag.group_id)
        chosen.append(tag)
    return chosen
