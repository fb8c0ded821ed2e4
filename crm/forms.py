from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from .models import Tenant


class StyledFormMixin:
    """Bootstrap classes on every widget, so templates stay loops over fields."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if getattr(field, "empty_label", None) == "---------":
                field.empty_label = "—"
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput | forms.CheckboxSelectMultiple
                          | forms.RadioSelect):
                widget.attrs.setdefault("class", "form-check-input")
            elif isinstance(widget, forms.Select | forms.SelectMultiple):
                widget.attrs.setdefault("class", "form-select")
            else:
                widget.attrs.setdefault("class", "form-control")


class LoginForm(AuthenticationForm):
    username = forms.CharField(
        label=_("Username"),
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )
    error_messages = {
        "invalid_login": _("Wrong username or password. Passwords are case-sensitive."),
        "inactive": _("This account is disabled."),
    }


class SwitchTenantForm(forms.Form):
    tenant = forms.IntegerField()


class ShopSettingsForm(StyledFormMixin, forms.ModelForm):
    class Meta:
        model = Tenant
        fields = [
            "name", "vip_threshold", "vip_window_months",
            "staff_see_own_customers_only", "only_managers_change_care_status",
            "auto_create_guest_customers",
        ]
        widgets = {"vip_threshold": forms.NumberInput(attrs={"step": 1, "min": 0})}

    def clean_vip_window_months(self):
        value = self.cleaned_data["vip_window_months"]
        if not 1 <= value <= 12:
            raise forms.ValidationError(_("Choose between 1 and 12 months."))
        return value


class ApiKeyForm(StyledFormMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100,
                           help_text=_("Which channel or program uses it, e.g. “Haravan”."))
