from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm import access
from crm.forms import StyledFormMixin
from crm.money import MoneyField, PointsField, format_money
from crm.tenancy import TenantFormMixin
from customers.forms import customer_reference
from customers.models import Source
from customers.normalize import normalize_phone
from customers.selectors import customers_visible_to

from . import services
from .models import OrderStatus

# A use of points typed by hand is at most this (a billion: far above any balance, far
# below what a column holds even times the point's value).
MAX_POINTS = 10**9


class OrderForm(StyledFormMixin, TenantFormMixin, forms.Form):
    """A phone order typed by staff; the lines come from OrderLineFormSet."""

    customer = forms.CharField(
        label=_("Customer"), required=False, max_length=40,
        help_text=_("Code or phone of an existing customer; empty: found or created from "
                    "the contact below."),
        widget=forms.TextInput(attrs={"list": "referrer-options", "autocomplete": "off"}))
    contact_name = forms.CharField(label=_("Contact name"), max_length=200, required=False)
    contact_phone = forms.CharField(label=_("Contact phone"), max_length=40, required=False)
    contact_email = forms.EmailField(label=_("Contact email"), required=False)
    contact_address = forms.CharField(label=_("Delivery address"), max_length=255,
                                      required=False)
    channel = forms.ModelChoiceField(
        label=_("Channel"), required=False,
        queryset=Source.objects.filter(is_active=True, parent__isnull=False)
        .select_related("parent"))
    status = forms.ChoiceField(label=_("Status"), initial=OrderStatus.NEW,
                               choices=[c for c in OrderStatus.choices
                                        if c[0] != OrderStatus.RETURNED])
    ordered_at = forms.DateTimeField(label=_("Ordered at"), required=False,
                                     widget=forms.DateTimeInput(
                                         attrs={"placeholder": "dd/mm/yyyy hh:mm"}))
    discount = MoneyField(label=_("Discount (đồng)"), initial=0)
    # Shown only when the shop runs a loyalty program and the member may use points
    # (__init__); the service prices them and refuses more than the customer's balance.
    points_redeemed = PointsField(label=_("Use points"), required=False, initial=0,
                                  max_value=MAX_POINTS, empty_value=0)
    shipping_fee = MoneyField(label=_("Shipping fee (đồng)"), initial=0)
    paid_amount = MoneyField(label=_("Paid (đồng)"), initial=0)
    note = forms.CharField(label=_("Note"), required=False,
                           widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, actor, **kwargs):
        self.actor = actor
        super().__init__(*args, **kwargs)
        if not access.can(actor, "order.cancel"):
            self.fields["status"].choices = [c for c in self.fields["status"].choices
                                             if c[0] != OrderStatus.CANCELLED]
        price = services.points_price(self.tenant) if access.can(actor, "points.redeem") \
            else None
        if price is None:
            del self.fields["points_redeemed"]
        else:
            self.fields["points_redeemed"].help_text = _(
                "1 point = %(value)s ₫. Taken off the order total; at most the customer's "
                "points.") % {"value": format_money(price)}

    def clean_customer(self):
        # Only customers this person may see: another's code or phone is "no customer".
        return customer_reference(customers_visible_to(self.actor, self.tenant),
                                  self.cleaned_data["customer"])

    def clean_contact_phone(self):
        value = self.cleaned_data["contact_phone"]
        if value:
            normalize_phone(value)
        return value

    def clean(self):
        data = super().clean()
        customer = data.get("customer")
        if customer is None and not data.get("contact_phone") and not data.get("contact_email") \
                and not self.errors:
            raise ValidationError(_("Choose a customer or enter the contact's phone or email."))
        if customer is not None:
            data["contact_name"] = data.get("contact_name") or customer.full_name
            data["contact_phone"] = data.get("contact_phone") or customer.phone
            data["contact_email"] = data.get("contact_email") or customer.email
        return data

    def service_data(self) -> dict:
        d = self.cleaned_data
        return {
            "channel": d.get("channel"), "status": d["status"],
            "ordered_at": d.get("ordered_at") or timezone.now(),
            "discount": d["discount"], "shipping_fee": d["shipping_fee"],
            "paid_amount": d["paid_amount"], "note": d["note"],
            "points_redeemed": d.get("points_redeemed") or 0,
            "contact": {"name": d["contact_name"], "phone": d["contact_phone"],
                        "email": d["contact_email"], "address": d["contact_address"]},
        }


class OrderLineForm(StyledFormMixin, forms.Form):
    product_name = forms.CharField(label=_("Product"), max_length=255)
    sku = forms.CharField(label=_("SKU"), max_length=64, required=False)
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, initial=1)
    unit_price = MoneyField(label=_("Unit price (đồng)"))


class BaseLineFormSet(forms.BaseFormSet):
    def clean(self):
        super().clean()
        if not any(f.cleaned_data and not f.cleaned_data.get("DELETE") for f in self.forms):
            raise ValidationError(_("Add at least one product line."))


OrderLineFormSet = forms.formset_factory(OrderLineForm, formset=BaseLineFormSet, extra=1,
                                         can_delete=True)


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=OrderStatus.choices)


class PaymentForm(StyledFormMixin, forms.Form):
    amount = MoneyField(label=_("Amount (đồng)"), min_value=1)
    note = forms.CharField(label=_("Note"), max_length=255, required=False)


class ReturnForm(StyledFormMixin, forms.Form):
    amount = MoneyField(label=_("Amount returned (đồng)"), min_value=1)
    reason = forms.CharField(label=_("Reason"), max_length=255, required=False)


class RefundForm(PaymentForm):
    """Money given back to the customer (a cancelled order paid for, an overpayment after a
    return): the amount field of a payment, as typed the same way."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["amount"].label = _("Amount refunded (đồng)")
