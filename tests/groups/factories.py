"""Groups factories: every chain starts from a tenant."""

import factory

from groups.models import CustomerGroup, GroupKind, GroupPin, PinMode
from tests.crm.factories import TenantFactory
from tests.customers.factories import CustomerFactory


class CustomerGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustomerGroup

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Sequence(lambda n: f"Nhóm {n}")
    kind = GroupKind.RULE
    rule = factory.LazyFunction(lambda: {"conditions": []})


class GroupPinFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GroupPin

    tenant = factory.SubFactory(TenantFactory)
    group = factory.SubFactory(CustomerGroupFactory, tenant=factory.SelfAttribute("..tenant"))
    customer = factory.SubFactory(CustomerFactory, tenant=factory.SelfAttribute("..tenant"))
    mode = PinMode.INCLUDE
