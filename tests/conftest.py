import pytest

from customers.defaults import seed_defaults
from tests.crm.factories import MembershipFactory, TenantFactory


@pytest.fixture
def tenant(db):
    return TenantFactory(name="Shop A", slug="shop-a")


@pytest.fixture
def other_tenant(db):
    return TenantFactory(name="Shop B", slug="shop-b")


def _member(tenant, role):
    return MembershipFactory(tenant=tenant, role=role)


@pytest.fixture
def owner(tenant):
    return _member(tenant, "owner")


@pytest.fixture
def manager(tenant):
    return _member(tenant, "manager")


@pytest.fixture
def staff(tenant):
    return _member(tenant, "staff")


@pytest.fixture
def collaborator(tenant):
    return _member(tenant, "collaborator")


@pytest.fixture
def other_manager(other_tenant):
    return _member(other_tenant, "manager")


@pytest.fixture
def login(client):
    """login(membership) signs the membership's user in and returns the client."""

    def do(membership):
        client.force_login(membership.user)
        return client

    return do


@pytest.fixture
def lists(tenant):
    """The shop's default sources, tags and care statuses."""
    from customers.selectors import lookup_lists

    seed_defaults(tenant)
    return lookup_lists(tenant)


@pytest.fixture
def empty_cache():
    """A cache with nothing in it before and after the test (dashboard figures, locks)."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
