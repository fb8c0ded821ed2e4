"""Shop A's data for the isolation sweep, and how each backoffice URL gets its arguments.

SWEEP maps a URL name to None (no arguments) or to a function world -> kwargs that point
at shop A's objects. The intruder is a manager of shop B.
"""

from dataclasses import dataclass, field

from crm.models import Role
from tests.crm.factories import MembershipFactory, TenantFactory


@dataclass
class World:
    tenant: object
    intruder: object
    objects: dict = field(default_factory=dict)
    markers: list = field(default_factory=list)


def build_world() -> World:
    shop_a = TenantFactory(name="Shop A", slug="shop-a")
    owner_a = MembershipFactory(tenant=shop_a, role=Role.OWNER)
    intruder = MembershipFactory(tenant=TenantFactory(name="Shop B", slug="shop-b"),
                                 role=Role.OWNER)
    world = World(tenant=shop_a, intruder=intruder, markers=["Shop A"])
    world.objects["owner"] = owner_a
    for builder in WORLD_BUILDERS:
        builder(world)
    return world


# Apps add functions world -> None that create shop A's rows and markers.
WORLD_BUILDERS: list = []

SWEEP = {
    "crm:dashboard": None,
    "crm:switch_tenant": None,
    "crm:settings": None,
}
