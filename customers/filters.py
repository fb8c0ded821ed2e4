import datetime

import django_filters
from django import forms
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from crm.filters import TenantFilterSet, date_filter, filter_from, filter_until
from crm.models import Membership, Role

from .models import (
    PROVINCE_CHOICES,
    CareStatus,
    Customer,
    CustomerNote,
    CustomerTag,
    Gender,
    LifecycleStage,
    MembershipState,
    Source,
    Tag,
)

MONTH_CHOICES = [(m, _("Month %(m)d") % {"m": m}) for m in range(1, 13)]
GENDER_CHOICES = [*Gender.choices, ("unknown", _("Unknown"))]
TAG_MODES = [("any", _("any of the tags")), ("all", _("all of the tags"))]
NOT_CONTACTED_CHOICES = [(days, format_lazy(_("{days} days"), days=days)) for days in (30, 60, 90)]


def _select(multiple=False):
    """A filter's select; empty it reads "All" (single: FILTERS_EMPTY_CHOICE_LABEL, many: the
    placeholder Tom Select shows)."""
    attrs = {"class": "form-select form-select-sm", "data-tom-select": ""}
    if multiple:
        return forms.SelectMultiple(attrs={**attrs, "placeholder": _("All")})
    return forms.Select(attrs=attrs)


class CustomerFilterSet(TenantFilterSet):
    # distinct=False: one value per customer, so no duplicate rows to remove. django-filter's
    # default SELECT DISTINCT made PostgreSQL sort every matching customer with all the
    # list's joined columns before the LIMIT (one care status of a million: 2 to 4 s).
    care_status = django_filters.ModelMultipleChoiceFilter(
        label=_("Care status"), queryset=CareStatus.objects.all(), widget=_select(True),
        distinct=False)
    lifecycle_stage = django_filters.MultipleChoiceFilter(
        label=_("Lifecycle stage"), choices=LifecycleStage.choices, widget=_select(True),
        distinct=False)
    membership_state = django_filters.MultipleChoiceFilter(
        label=_("Membership"), choices=MembershipState.choices, widget=_select(True),
        distinct=False)
    source = django_filters.ModelChoiceFilter(
        label=_("Source"), queryset=Source.objects.select_related("parent"),
        method="filter_source", widget=_select())
    tags = django_filters.ModelMultipleChoiceFilter(
        label=_("Tags"), queryset=Tag.objects.select_related("group"), method="filter_tags",
        widget=_select(True))
    tags_mode = django_filters.ChoiceFilter(
        label=_("Match"), choices=TAG_MODES, method="filter_nothing", empty_label=None,
        widget=forms.Select(attrs={"class": "form-select form-select-sm",
                                   "data-clean-default": "any"}))
    assigned_staff = django_filters.ModelChoiceFilter(
        label=_("Staff in charge"), widget=_select(),
        queryset=Membership.objects.exclude(role=Role.COLLABORATOR).select_related("user"))
    collaborator = django_filters.ModelChoiceFilter(
        label=_("Collaborator"), widget=_select(),
        queryset=Membership.objects.filter(role=Role.COLLABORATOR).select_related("user"))
    province_code = django_filters.ChoiceFilter(label=_("Province / city"),
                                                choices=PROVINCE_CHOICES, widget=_select())
    gender = django_filters.ChoiceFilter(label=_("Gender"), choices=GENDER_CHOICES,
                                         method="filter_gender", widget=_select())
    birth_month = django_filters.ChoiceFilter(label=_("Birthday month"), choices=MONTH_CHOICES,
                                              widget=_select())
    created_from = date_filter(_("Created from"), "filter_created_from")
    created_to = date_filter(_("Created to"), "filter_created_to")
    not_contacted = django_filters.ChoiceFilter(
        label=_("No note for"), choices=NOT_CONTACTED_CHOICES, method="filter_not_contacted",
        widget=_select())

    class Meta:
        model = Customer
        fields: list[str] = []

    def filter_nothing(self, queryset, name, value):
        return queryset

    def filter_source(self, queryset, name, value):
        if value.parent_id is None:
            return queryset.filter(Q(source=value) | Q(source__parent=value))
        return queryset.filter(source=value)

    def filter_tags(self, queryset, name, value):
        tags = list(value)
        if not tags:
            return queryset
        links = CustomerTag.objects.for_tenant(self.tenant).filter(tag__in=tags)
        if self.form.cleaned_data.get("tags_mode") == "all":
            holders = (links.values("customer_id").annotate(n=Count("tag_id", distinct=True))
                       .filter(n=len(tags)).values("customer_id"))
            return queryset.filter(pk__in=holders)
        return queryset.filter(Exists(links.filter(customer=OuterRef("pk"))))

    def filter_gender(self, queryset, name, value):
        return queryset.filter(gender="" if value == "unknown" else value)

    def filter_created_from(self, queryset, name, value):
        return filter_from(queryset, "created_at", value)

    def filter_created_to(self, queryset, name, value):
        return filter_until(queryset, "created_at", value)

    def filter_not_contacted(self, queryset, name, value):
        """No note (the contact log) written in the last ``value`` days, or never."""
        since = timezone.now() - datetime.timedelta(days=int(value))
        recent = CustomerNote.objects.for_tenant(self.tenant).filter(
            customer=OuterRef("pk"), created_at__gte=since)
        return queryset.filter(~Exists(recent))


def customer_filterset() -> type[CustomerFilterSet]:
    """The list's FilterSet with the filters other apps registered (orders: spend...)."""
    from .columns import extensions

    mixins = tuple(m for ext in extensions() for m in ext.filterset_mixins)
    if mixins not in _COMBINED:
        _COMBINED[mixins] = (type("CustomerFilterSet", (CustomerFilterSet, *mixins), {})
                             if mixins else CustomerFilterSet)
    return _COMBINED[mixins]


_COMBINED: dict = {}
