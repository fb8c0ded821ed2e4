import datetime

import django_filters
from django import forms
from django.utils import timezone

from .tenancy import scope_choice_fields


class TenantFilterSet(django_filters.FilterSet):
    """A FilterSet whose choice lists hold only the shop's rows (like TenantFormMixin)."""

    def __init__(self, data=None, queryset=None, *, tenant, **kwargs):
        self.tenant = tenant
        super().__init__(data, queryset, **kwargs)
        scope_choice_fields(self.form, tenant)


def day_start(day: datetime.date) -> datetime.datetime:
    """Midnight of ``day`` in the shop's time zone (Vietnam), not UTC's."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def date_filter(label, method: str) -> django_filters.DateFilter:
    """A dd/mm/yyyy date box for a list's filter panel."""
    return django_filters.DateFilter(
        label=label, method=method,
        widget=forms.DateInput(attrs={"class": "form-control form-control-sm",
                                      "placeholder": "dd/mm/yyyy"}))


def filter_from(queryset, field: str, day: datetime.date):
    return queryset.filter(**{f"{field}__gte": day_start(day)})


def filter_until(queryset, field: str, day: datetime.date):
    """Up to and including ``day``."""
    return queryset.filter(**{f"{field}__lt": day_start(day + datetime.timedelta(days=1))})
