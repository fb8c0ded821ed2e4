import pytest

from customers.defaults import seed_defaults


@pytest.fixture
def lists(tenant):
    """The shop's default sources, tags and care statuses."""
    seed_defaults(tenant)
    from customers.selectors import lookup_lists

    return lookup_lists(tenant)
