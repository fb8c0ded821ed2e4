"""Demo customers for the demo shop (``manage.py seed_demo``), made through the services."""

import random

from django.core.exceptions import ValidationError
from faker import Faker

from crm import access
from crm.models import Role

from . import services
from .models import PROVINCE_CHOICES, CareStatus, Gender, Source, Tag, wards_of

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
    return created


def _pick_tags(rng, tags):
    chosen, groups = [], set()
    for tag in rng.sample(tags, k=min(len(tags), rng.randint(0, 3))):
        if tag.group_id and not tag.group.multiple and tag.group_id in groups:
            continue
        groups.add(tag.group_id)
        chosen.append(tag)
    return chosen
