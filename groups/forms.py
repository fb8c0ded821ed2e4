import json

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from crm.forms import StyledFormMixin
from crm.tenancy import TenantFormMixin
from customers.forms import customer_reference
from customers.models import Tag

from .models import CustomerGroup, GroupKind, PinMode


class RuleField(forms.CharField):
    """The rule builder's hidden JSON (static/js/groups.js), read back as a dict; the
    form validates it with customers.rules.rule_validate."""

    widget = forms.HiddenInput

    def to_python(self, value):
        if isinstance(value, dict):
            return value
        value = (value or "").strip()
        if not value:
            return {"conditions": []}
        try:
            rule = json.loads(value)
        except ValueError:
            raise ValidationError(_("The conditions could not be read.")) from None
        if not isinstance(rule, dict):
            raise ValidationError(_("The conditions could not be read."))
        return rule

    def prepare_value(self, value):
        if isinstance(value, dict):
            return json.dumps(value, ensure_ascii=False)
        return value


class GroupForm(StyledFormMixin, TenantFormMixin, forms.Form):
    """Name, description, kind (on creation only) and the conditions of a group."""

    name = forms.CharField(label=_("Group name"), max_length=120)
    description = forms.CharField(label=_("Description"), required=False,
                                  widget=forms.Textarea(attrs={"rows": 2}))
    kind = forms.ChoiceField(
        label=_("Members"), choices=[
            (GroupKind.RULE, _("By conditions: the customers who match, kept up to date")),
            (GroupKind.FIXED, _("A fixed list: customers I add by hand")),
        ], initial=GroupKind.RULE, widget=forms.RadioSelect)
    rule = RuleField(required=False)

    def __init__(self, *args, group: CustomerGroup | None = None, **kwargs):
        self.group = group
        if group is not None:
            kwargs["initial"] = {"name": group.name, "description": group.description,
                                 "kind": group.kind, "rule": group.rule or None,
                                 **(kwargs.get("initial") or {})}
        super().__init__(*args, **kwargs)
        self.fields["name"].widget.attrs.update(autocomplete="off", autofocus=True)
        if group is not None:
            # The kind is chosen once (groups.services.group_update keeps it).
            del self.fields["kind"]

    @property
    def group_kind(self) -> str:
        if self.group is not None:
            return self.group.kind
        return (self.data.get("kind") if self.is_bound else None) or GroupKind.RULE

    def clean_rule(self):
        rule = self.cleaned_data["rule"]
        if self.group_kind == GroupKind.FIXED:
            return {}
        from customers.rules import rule_validate

        try:
            return rule_validate(self.tenant, rule)
        except ValidationError as error:
            raise ValidationError(error.messages) from None

    def service_data(self) -> dict:
        data = {k: self.cleaned_data[k] for k in ("name", "description", "rule")}
        if "kind" in self.fields:
            data["kind"] = self.cleaned_data["kind"]
        return data


class CountForm(TenantFormMixin, forms.Form):
    """What the live count reads of the group form: only the conditions."""

    rule = RuleField(required=False)


class PinForm(forms.Form):
    """Add a customer to a fixed list, or to a rule group's always-include / always-exclude
    list: typed as a code (picked from the suggestions) or a phone."""

    customer = forms.CharField(label=_("Customer"), max_length=100, widget=forms.TextInput(
        attrs={"class": "form-control", "autocomplete": "off", "list": "pin-options",
               "placeholder": _("Name, phone or code KH…")}))
    mode = forms.ChoiceField(choices=PinMode.choices, initial=PinMode.INCLUDE, required=False,
                             widget=forms.Select(attrs={"class": "form-select w-auto"}))

    def __init__(self, *args, visible, **kwargs):
        self.visible = visible  # the customers the member may pick
        super().__init__(*args, **kwargs)

    def clean_customer(self):
        return customer_reference(self.visible, self.cleaned_data["customer"])

    def clean_mode(self):
        return self.cleaned_data.get("mode") or PinMode.INCLUDE


class GroupBulkForm(TenantFormMixin, forms.Form):
    """The group list's action on the selected groups: add a tag to all their members."""

    ACTIONS = [("add_tag", _("Add a tag to the members"))]
    action = forms.ChoiceField(choices=ACTIONS, widget=forms.Select(attrs={
        "class": "form-select form-select-sm w-auto", "aria-label": _("Bulk action")}))
    # "codes": the one table's row checkboxes (includes/table.html); a group's code is its id.
    codes = forms.ModelMultipleChoiceField(
        queryset=CustomerGroup.objects.filter(archived_at__isnull=True),
        error_messages={"required": _("Select at least one group."),
                        "invalid_choice": _("Select groups of this shop.")},
        widget=forms.MultipleHiddenInput)
    tag = forms.ModelChoiceField(
        queryset=Tag.objects.filter(is_active=True).select_related("group"), empty_label=None,
        error_messages={"required": _("Choose a tag.")},
        widget=forms.Select(attrs={"class": "form-select form-select-sm w-auto",
                                   "aria-label": _("Tag")}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tag"].widget.choices = list(iter(self.fields["tag"].choices))
