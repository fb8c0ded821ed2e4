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


def buyer(tenant, name: str, phone: str, *amounts: int):
    """A customer (through the service) with one delivered order per amount."""
    from crm.access import SYSTEM
    from customers import services as customer_services
    from orders import services as order_services
    from orders.models import OrderStatus

    customer = customer_services.customer_create(
        tenant=tenant, actor=SYSTEM, data={"full_name": name, "phone": phone})
    for amount in amounts:
        order_services.order_create(tenant=tenant, actor=SYSTEM, customer=customer,
                                    data={"total_amount": amount,
                                          "status": OrderStatus.DELIVERED})
    return customer
