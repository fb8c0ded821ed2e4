import datetime

import django_filters
from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.filters import TenantFilterSet
from customers.models import Source

from .models import Order, OrderStatus


def _day_start(day: datetime.date):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


class OrderFilterSet(TenantFilterSet):
    status = django_filters.MultipleChoiceFilter(
        label=_("Status"), choices=OrderStatus.choices,
        widget=forms.SelectMultiple(attrs={"class": "form-select form-select-sm",
                                           "data-tom-select": ""}))
    channel = django_filters.ModelChoiceFilter(
        label=_("Channel"), queryset=Source.objects.select_related("parent"),
        widget=forms.Select(attrs={"class": "form-select form-select-sm", "data-tom-select": ""}))
    ordered_from = django_filters.DateFilter(
        label=_("Ordered from"), method="filter_from",
        widget=forms.DateInput(attrs={"class": "form-control form-control-sm",
                                      "placeholder": "dd/mm/yyyy"}))
    ordered_to = django_filters.DateFilter(
        label=_("Ordered to"), method="filter_to",
        widget=forms.DateInput(attrs={"class": "form-control form-control-sm",
                                      "placeholder": "dd/mm/yyyy"}))
    unlinked = django_filters.BooleanFilter(
        label=_("Without customer"), field_name="customer", lookup_expr="isnull",
        widget=forms.Select(attrs={"class": "form-select form-select-sm"},
                            choices=[("", _("All")), ("true", _("Yes")), ("false", _("No"))]))

    class Meta:
        model = Order
        fields: list[str] = []

    def filter_from(self, queryset, name, value):
        return queryset.filter(ordered_at__gte=_day_start(value))

    def filter_to(self, queryset, name, value):
        return queryset.filter(ordered_at__lt=_day_start(value + datetime.timedelta(days=1)))
