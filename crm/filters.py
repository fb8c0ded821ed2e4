import django_filters

from .tenancy import scope_choice_fields


class TenantFilterSet(django_filters.FilterSet):
    """A FilterSet whose choice lists hold only the shop's rows (like TenantFormMixin)."""

    def __init__(self, data=None, queryset=None, *, tenant, **kwargs):
        self.tenant = tenant
        super().__init__(data, queryset, **kwargs)
        scope_choice_fields(self.form, tenant)
