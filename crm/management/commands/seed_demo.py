"""Creates the demo shop with one user per role and realistic demo data.

Idempotent: run it again and it reports the existing shop instead of duplicating it.
"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from crm import access, registry, services
from crm.models import Role, Tenant

DEMO_SLUG = "demo"
DEMO_PASSWORD = "demo12345"  # noqa: S105 - printed on purpose, demo shop only
DEMO_USERS = [
    ("chushop", "Trần", "Minh Chủ", Role.OWNER),
    ("quanly", "Nguyễn", "Thu Lan", Role.MANAGER),
    ("nhanvien", "Lê", "Văn Hùng", Role.STAFF),
    ("ctv", "Phạm", "Thị Hoa", Role.COLLABORATOR),
]


class Command(BaseCommand):
    help = "Create the demo shop, its staff accounts and N demo customers."

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=300)

    def handle(self, *args, **options):
        if Tenant.objects.filter(slug=DEMO_SLUG).exists():
            self.stdout.write("Demo shop already exists.")
        else:
            with transaction.atomic():
                self._create(options["customers"])
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for username, _last, _first, role in DEMO_USERS:
            self.stdout.write(f"  {username:<10} {Role(role).label}")

    def _create(self, customer_count: int):
        User = get_user_model()  # noqa: N806
        tenant = services.tenant_create(name="Cửa hàng Trà & Cà phê Mộc", slug=DEMO_SLUG)
        memberships = {}
        for username, last, first, role in DEMO_USERS:
            if User.objects.filter(username=username).exists():
                user = User.objects.get(username=username)
                memberships[role] = services.membership_create(
                    tenant=tenant, user=user, role=role, actor=access.SYSTEM
                )
            else:
                memberships[role] = services.staff_user_create(
                    tenant=tenant, username=username, password=DEMO_PASSWORD, role=role,
                    first_name=first, last_name=last, actor=access.SYSTEM,
                )
        for seeder in registry.demo_seeders:
            seeder.seed(tenant, memberships, customer_count)
        self.stdout.write(self.style.SUCCESS(f"Created demo shop '{tenant.name}'."))
