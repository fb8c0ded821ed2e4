
import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from crm.filters import TenantFilterSet, date_filter, filter_from, filter_until
from customers.models import Source

from .models import Order, OrderStatus


class OrderFilterSet(TenantFilterSet):
    status = django_filters.MultipleChoiceFilter(
        label=_("Status"), choices=OrderStatus.choices,
        widget=forms.SelectMultiple(attrs={"class": "form-select form-select-sm",
                                           "data-tom-select": "", "placeholder": _("All")}),
        distinct=False)  # one status per order: no DISTINCT (it sorted every match)
    channel = django_filters.ModelChoiceFilter(
        label=_("Channel"), queryset=Source.objects.select_related("parent"),
        widget=forms.Select(attrs={"class": "form-select form-select-sm", "data-tom-select": ""}))
    ordered_from = date_filter(_("Ordered from"), "filter_ordered_from")
    ordered_to = date_filter(_("Ordered to"), "filter_ordered_to")
    delivered_from = date_filter(_("Delivered from"), "filter_delivered_from")
    delivered_to = date_filter(_("Delivered to"), "filter_delivered_to")
    unlinked = django_filters.BooleanFilter(
        label=_("Without customer"), field_name="customer", lookup_expr="isnull",
        widget=forms.Select(attrs={"class": "form-select form-select-sm"},
                            choices=[("", _("All")), ("true", _("Yes")), ("false", _("No"))]))

    class Meta:
        model = Order
        fields: list[str] = []

    def filter_ordered_from(self, queryset, name, value):
        return filter_from(queryset, "ordered_at", value)

    def filter_ordered_to(self, queryset, name, value):
        return filter_until(queryset, "ordered_at", value)

    def filter_delivered_from(self, queryset, name, value):
        return filter_from(queryset, "delivered_at", value)

    def filter_delivered_to(self, queryset, name, value):
        return filter_until(queryset, "delivered_at", value)
