import phonenumbers
from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm, PasswordResetForm
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.utils.translation import gettext_lazy as _

from .models import Membership, Role, Tenant
from .money import MoneyField
from .services import PasswordMethod


class StyledFormMixin:
    """Bootstrap classes on every widget, and one layout for ``{{ form }}``
    (includes/form_fields.html): the form's errors, then its fields in rows. ``widths``
    gives a field its Bootstrap column out of 12 from md up; fields fill a row in order
    and a field without a width takes a row of its own."""

    template_name = "includes/form_fields.html"
    widths: dict[str, int] = {}

    def rows(self) -> list[list[tuple]]:
        rows, used = [], 12
        for field in self.visible_fields():
            width = self.widths.get(field.name, 12)
            if used + width > 12:
                rows.append([])
                used = 0
            rows[-1].append((field, width))
            used += width
        return rows

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
    vip_threshold = MoneyField(label=Tenant._meta.get_field("vip_threshold").verbose_name)

    class Meta:
        model = Tenant
        fields = [
            "name", "vip_threshold", "vip_window_months",
            "staff_see_own_customers_only", "only_managers_change_care_status",
            "auto_create_guest_customers",
        ]

    def clean_vip_window_months(self):
        value = self.cleaned_data["vip_window_months"]
        if not 1 <= value <= 12:
            raise forms.ValidationError(_("Choose between 1 and 12 months."))
        return value


class ApiKeyForm(StyledFormMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100,
                           help_text=_("Which channel or program uses it, e.g. “Haravan”."))


def _clean_phone(value: str) -> str:
    """A staff phone is kept as typed; it only has to be a Vietnamese (or +country) number."""
    value = value.strip()
    if not value:
        return value
    try:
        number = phonenumbers.parse(value, "VN")
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise forms.ValidationError(_("Not a valid phone number."))
    return value


class StaffAddForm(StyledFormMixin, forms.Form):
    last_name = forms.CharField(label=_("Family name"), max_length=150, required=False,
                                help_text=_("With middle name, e.g. “Nguyễn Thị”."))
    first_name = forms.CharField(label=_("Given name"), max_length=150, required=False)
    username = forms.CharField(
        label=_("Username"), max_length=150, validators=[UnicodeUsernameValidator()],
        help_text=_("What they type to sign in: letters, digits and @ . + - _ only. If the "
                    "person already has an account (they work in another shop), type its "
                    "username and its email exactly: they are added to this shop with the "
                    "role chosen here and keep their password and name."))
    email = forms.EmailField(label=_("Email"), required=False,
                             help_text=_("Where the link to set a password is sent."))
    phone = forms.CharField(label=_("Phone"), max_length=20, required=False)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.STAFF)
    password_method = forms.ChoiceField(
        label=_("Password"), choices=PasswordMethod.choices, initial=PasswordMethod.LINK,
        widget=forms.RadioSelect,
        help_text=_("For a new account. The temporary password is shown on the next page "
                    "only: give it to the person, who then changes it under “My account”."))

    field_order = ["last_name", "first_name", "username", "email", "phone", "role",
                   "password_method"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].widget.attrs.update(autocomplete="off", autocapitalize="none",
                                                    spellcheck="false")
        self.fields["email"].widget.attrs["autocomplete"] = "off"
        self.fields["phone"].widget.attrs.update(inputmode="tel", autocomplete="off")

    def clean_phone(self):
        return _clean_phone(self.cleaned_data["phone"])


class StaffUpdateForm(StyledFormMixin, forms.ModelForm):
    widths = {"role": 6, "phone": 6}

    class Meta:
        model = Membership
        fields = ["role", "phone"]
        widgets = {"phone": forms.TextInput(attrs={"inputmode": "tel"})}

    def clean_phone(self):
        return _clean_phone(self.cleaned_data["phone"])


class StaffPasswordForm(forms.Form):
    method = forms.ChoiceField(choices=PasswordMethod.choices)


class AccountNameForm(StyledFormMixin, forms.ModelForm):
    widths = {"last_name": 7, "first_name": 5}

    class Meta:
        model = get_user_model()
        fields = ["last_name", "first_name"]
        labels = {"last_name": _("Family name"), "first_name": _("Given name")}
        help_texts = {"last_name": _("With middle name, e.g. “Nguyễn Thị”.")}

    def clean(self):
        data = super().clean()
        if not (data.get("first_name", "").strip() or data.get("last_name", "").strip()):
            raise forms.ValidationError(_("Type your name."))
        return data


class AccountPasswordForm(StyledFormMixin, PasswordChangeForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The page opens on the name form: no jump to the password field.
        self.fields["old_password"].widget.attrs.pop("autofocus", None)


class ShopPasswordResetForm(StyledFormMixin, PasswordResetForm):
    """Django's form, also for a person who never set a password (a new staff member whose
    link expired); still only active accounts that work in an active shop."""

    def get_users(self, email):
        users = get_user_model()._default_manager.filter(
            email__iexact=email, is_active=True,
            memberships__is_active=True, memberships__tenant__is_active=True,
        ).distinct()
        return (u for u in users if u.email.casefold() == email.casefold())


def add_service_errors(form, error) -> None:
    """Put a service's ValidationError on ``form``: each field's messages on that field
    when the form has it, the others (and a message without a field) on the form."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)
