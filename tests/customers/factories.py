import factory

from customers.models import CareStatus, Customer, CustomerPhone, Source, Tag, TagGroup
from customers.normalize import fold, normalize_phone
from customers.services import customer_code
from tests.crm.factories import TenantFactory


class CustomerFactory(factory.django.DjangoModelFactory):
    """A customer row with its primary phone (no service: fast, for list/query tests)."""

    class Meta:
        model = Customer
        skip_postgeneration_save = True

    tenant = factory.SubFactory(TenantFactory)
    number = factory.Sequence(lambda n: n + 1)
    code = factory.LazyAttribute(lambda o: customer_code(o.number))
    full_name = factory.Faker("name", locale="vi_VN")
    search_name = factory.LazyAttribute(lambda o: fold(o.full_name))
    phone = factory.Sequence(lambda n: f"09{n:08d}")
    phone_normalized = factory.LazyAttribute(lambda o: normalize_phone(o.phone))

    @factory.post_generation
    def with_phone_row(obj, create, extracted, **kwargs):  # noqa: N805
        if create and obj.phone_normalized:
            CustomerPhone.objects.create(
                tenant=obj.tenant, customer=obj, raw=obj.phone, normalized=obj.phone_normalized,
                reversed_digits=obj.phone_normalized.lstrip("+")[::-1], is_primary=True)


class CareStatusFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CareStatus

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Sequence(lambda n: f"Trạng thái {n}")


class SourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Source

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Sequence(lambda n: f"Nguồn {n}")


class TagGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TagGroup

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Sequence(lambda n: f"Nhóm thẻ {n}")


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Sequence(lambda n: f"Thẻ {n}")
