"""The loyalty screens' forms: "Cập nhật điểm", the program's settings, a tier, and the
filters of the shop's ledger on the Tích điểm page. They check what was typed; the rules
that span rows (the balance, the program being on) are the services'."""

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.filters import TenantFilterSet
from crm.forms import StyledFormMixin
from crm.models import Membership
from crm.money import MoneyField, MoneyInput, PointsField
from crm.tenancy import TenantFormMixin
from customers.models import Source

from .models import EntryKind, PointEntry, TierBasis
from .services import MAX_MANUAL

DATE_FORMAT = "%d/%m/%Y"


def _date_input(**attrs) -> forms.DateInput:
    return forms.DateInput(format=DATE_FORMAT, attrs={
        "placeholder": "dd/mm/yyyy", "inputmode": "numeric", "autocomplete": "off", **attrs})


# --- "Cập nhật điểm" -------------------------------------------------------------------------

class PointsAdjustForm(StyledFormMixin, TenantFormMixin, forms.Form):
    ADD, SUBTRACT = "add", "subtract"

    direction = forms.ChoiceField(
        label=_("Update"), choices=[(ADD, _("Add points")), (SUBTRACT, _("Subtract points"))],
        initial=ADD, widget=forms.RadioSelect)
    # Named like the service's argument, so that its refusals land on this box.
    delta = PointsField(label=_("Number of points"), min_value=1, max_value=MAX_MANUAL,
                        widget=MoneyInput(attrs={"autofocus": True}),
                        error_messages={"required": _("Enter the number of points.")})
    effective_date = forms.DateField(label=_("Date of use"), input_formats=[DATE_FORMAT],
                                     widget=_date_input(),
                                     error_messages={"invalid": _(
                                         "Type the date as dd/mm/yyyy, e.g. 05/03/2026.")})
    reason = forms.CharField(label=_("Reason"), max_length=255,
                             error_messages={"required": _("Enter the reason for the change.")},
                             widget=forms.TextInput(attrs={
                                 "placeholder": _("e.g. Birthday gift, points of an in-store "
                                                  "order")}))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("effective_date", timezone.localdate())
        super().__init__(*args, **kwargs)

    def signed_delta(self) -> int:
        points = self.cleaned_data["delta"]
        return -points if self.cleaned_data["direction"] == self.SUBTRACT else points


# --- the program -----------------------------------------------------------------------------

class ChannelChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return str(obj)  # "Sàn TMĐT › Shopee"


class ProgramForm(StyledFormMixin, TenantFormMixin, forms.Form):
    """Tích điểm settings (owner or manager). Labels are this form's own, in the shop's
    words; the rules on each value are the model's and the service's."""

    widths = {"earn_amount": 6, "point_value": 6, "expiry_months": 6, "tier_basis": 6}

    enabled = forms.BooleanField(label=_("Run a loyalty program"), required=False)
    earn_amount = MoneyField(
        label=_("Amount paid for 1 point (đồng)"), min_value=1,
        help_text=_("A delivered order earns 1 point for each this many đồng paid, rounded "
                    "down. E.g. 10.000: an order of 255.000 ₫ earns 25 points."))
    point_value = MoneyField(
        label=_("Value of 1 point (đồng)"),
        help_text=_("What one point takes off an order when the customer uses it."))
    expiry_months = forms.IntegerField(
        label=_("Points expire after (months)"), required=False, min_value=1, max_value=120,
        help_text=_("Empty: points never expire. The oldest points expire first."),
        error_messages={"invalid": _("Type a number of months, e.g. 12, or leave it empty."),
                        "min_value": _("At least 1 month, or leave it empty."),
                        "max_value": _("At most 120 months, or leave it empty.")},
        widget=forms.NumberInput(attrs={"placeholder": _("never")}))
    tier_basis = forms.ChoiceField(
        label=_("Tiers follow"), choices=TierBasis.choices, widget=forms.RadioSelect,
        help_text=_("After changing this, check the tiers' thresholds: they are read as "
                    "points or as đồng spent."))
    tiers_can_drop = forms.BooleanField(
        label=_("Tiers can go down"), required=False,
        help_text=_("Off: a customer keeps the highest tier reached."))
    earn_channels = ChannelChoiceField(
        label=_("Channels that earn points"), required=False,
        queryset=Source.objects.filter(parent__isnull=False).select_related("parent"),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: orders of every channel earn points."))

    field_order = ["enabled", "earn_amount", "point_value", "expiry_months", "tier_basis",
                   "tiers_can_drop", "earn_channels"]

    def __init__(self, *args, program, **kwargs):
        self.program = program
        chosen = list(program.earn_channels.values_list("pk", flat=True)) \
            if program.pk and not program._state.adding else []
        kwargs["initial"] = {
            "enabled": program.enabled, "earn_amount": program.earn_amount,
            "point_value": program.point_value, "expiry_months": program.expiry_months,
            "tier_basis": program.tier_basis, "tiers_can_drop": program.tiers_can_drop,
            "earn_channels": chosen, **(kwargs.get("initial") or {})}
        super().__init__(*args, **kwargs)
        # The shop's channels in use, and any it chose before that is no longer in use (so
        # that saving does not silently drop it).
        field = self.fields["earn_channels"]
        field.queryset = field.queryset.filter(Q(is_active=True) | Q(pk__in=chosen)).order_by(
            "parent__position", "parent_id", "position", "id")

    def service_data(self) -> dict:
        data = self.cleaned_data
        return {name: data[name] for name in ("enabled", "earn_amount", "point_value",
                                              "expiry_months", "tier_basis", "tiers_can_drop")}


# --- a tier ----------------------------------------------------------------------------------

class TierForm(StyledFormMixin, forms.Form):
    """A tier's name, threshold (points or đồng, as the program's tiers follow) and colour."""

    widths = {"name": 6, "threshold": 6}

    name = forms.CharField(label=_("Tier name"), max_length=60,
                           widget=forms.TextInput(attrs={"placeholder": _("e.g. Kim cương")}))
    color = forms.CharField(
        label=_("Colour"), max_length=7, initial="#a0522d",
        widget=forms.TextInput(attrs={"type": "color", "class": "form-control form-control-color"}))

    def __init__(self, *args, by_spend: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if by_spend:
            threshold = MoneyField(label=_("From (spend in the last 12 months, đồng)"),
                                   help_text=_("A customer whose delivered spend of the last "
                                               "12 months reaches this amount holds the tier."))
        else:
            threshold = PointsField(label=_("From (lifetime points)"), min_value=0,
                                    help_text=_("A customer whose lifetime points reach this "
                                                "number holds the tier."))
        threshold.widget.attrs.setdefault("class", "form-control")  # added after the styling
        self.fields["threshold"] = threshold
        self.order_fields(["name", "threshold", "color"])

    def clean_color(self):
        value = self.cleaned_data["color"].strip()
        if len(value) != 7 or value[0] != "#" or any(
                c not in "0123456789abcdefABCDEF" for c in value[1:]):
            raise ValidationError(_("Choose a colour."))
        return value


# --- the shop's ledger (Tích điểm page) ------------------------------------------------------

SYSTEM_ACTOR = "system"


class LedgerFilterSet(TenantFilterSet):
    """Kind, staff (the shop's members, or the system: points of orders), dates of use."""

    kind = django_filters.ChoiceFilter(
        label=_("Kind"), choices=EntryKind.choices, empty_label=_("All"),
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}))
    actor = django_filters.ChoiceFilter(
        label=_("Done by"), method="filter_actor", empty_label=_("All"),
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}))
    date_from = django_filters.DateFilter(
        label=_("Used from"), field_name="effective_date", lookup_expr="gte",
        input_formats=[DATE_FORMAT],
        widget=_date_input(**{"class": "form-control form-control-sm"}))
    date_to = django_filters.DateFilter(
        label=_("Used until"), field_name="effective_date", lookup_expr="lte",
        input_formats=[DATE_FORMAT],
        widget=_date_input(**{"class": "form-control form-control-sm"}))

    class Meta:
        model = PointEntry
        fields: list[str] = []

    def __init__(self, *args, tenant, **kwargs):
        super().__init__(*args, tenant=tenant, **kwargs)
        members = (Membership.objects.filter(tenant=tenant).select_related("user")
                   .order_by("user__last_name", "user__first_name", "user__username"))
        self.filters["actor"].extra["choices"] = self.form.fields["actor"].choices = [
            ("", _("All")), (SYSTEM_ACTOR, _("The system (orders, expiry)")),
            *((str(m.user_id), m.display_name) for m in members)]

    def filter_actor(self, queryset, name, value):
        if value == SYSTEM_ACTOR:
            return queryset.filter(actor__isnull=True)
        return queryset.filter(actor_id=int(value))
