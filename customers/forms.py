import datetime
import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from crm import access
from crm.forms import StyledFormMixin
from crm.models import Membership, Role
from crm.tenancy import TenantFormMixin

from .countries import COUNTRY_CHOICES
from .models import (
    PROVINCE_CHOICES,
    CareStatus,
    Gender,
    LifecycleStage,
    MembershipState,
    Source,
    Tag,
    TagGroup,
    wards_of,
)
from .normalize import normalize_phone, try_normalize_phone
from .selectors import CODE_QUERY, can_see_customer, customers_visible_to

MAX_AVATAR_BYTES = 2 * 1024 * 1024
BIRTHDAY_RE = re.compile(r"^\s*(\d{1,2})[/.\-](\d{1,2})(?:[/.\-](\d{4}))?\s*$")


class RowsWidget(forms.Widget):
    """Several text inputs of one name, with add/remove buttons (static/js/app.js)."""

    template_name = "includes/widgets/rows.html"

    def __init__(self, attrs=None, input_type="text"):
        super().__init__(attrs)
        self.input_type = input_type

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        values = value if isinstance(value, list | tuple) else _split_lines(value or "")
        context["widget"].update(values=values or [""], input_type=self.input_type)
        return context

    def value_from_datadict(self, data, files, name):
        return data.getlist(name) if hasattr(data, "getlist") else data.get(name, [])


class CheckboxChips(forms.CheckboxSelectMultiple):
    """Tags of a many-choice group as chips that wrap whole
    (templates/includes/widgets/chips.html)."""

    template_name = "includes/widgets/chips.html"


class RadioChips(forms.RadioSelect):
    """Tags of a one-choice group as chips, the first one "Not set"."""

    template_name = "includes/widgets/chips.html"


class ListField(forms.Field):
    """A list of non-empty, stripped strings (e.g. the other phones)."""

    def to_python(self, value):
        if isinstance(value, str):
            value = _split_lines(value)
        return [v.strip() for v in value or [] if v and v.strip()]


def _split_lines(value: str) -> list[str]:
    return [v.strip() for v in re.split(r"[\n;,]+", value or "") if v.strip()]


def customer_reference(visible, value: str):
    """The customer a staff member means by a code (KH000123) or a phone, among the
    customers ``visible`` to them (customers.selectors.customers_visible_to); None for an
    empty box; a clear error when nobody matches (a customer they may not see is nobody)."""
    value = (value or "").strip()
    if not value:
        return None
    if match := CODE_QUERY.match(value):
        found = visible.filter(number=int(match.group(1))).first()
    else:
        normalized = try_normalize_phone(value)
        found = visible.filter(phones__normalized=normalized).first() if normalized else None
    if found is None:
        raise ValidationError(_("No customer of this shop has code or phone %(v)s.")
                              % {"v": value})
    return found


def parse_birthday(value: str) -> tuple[int | None, int | None, int | None]:
    """'15/08/1990' -> (15, 8, 1990); '15/08' -> (15, 8, None) when the year is unknown."""
    if not value or not value.strip():
        return None, None, None
    match = BIRTHDAY_RE.match(value)
    if not match:
        raise ValidationError(_("Type the birthday as dd/mm/yyyy, or dd/mm if the year is "
                                "unknown."))
    day, month = int(match.group(1)), int(match.group(2))
    year = int(match.group(3)) if match.group(3) else None
    try:
        # 2000 is a leap year, so 29/02 without a year is accepted.
        date = datetime.date(year or 2000, month, day)
    except ValueError as exc:
        raise ValidationError(_("%(value)s is not a real date.") % {"value": value}) from exc
    if year and (date > datetime.date.today() or year < 1900):
        raise ValidationError(_("The birthday must be between 1900 and today."))
    return day, month, year


class MembershipChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.display_name


class CustomerCreateForm(StyledFormMixin, TenantFormMixin, forms.Form):
    full_name = forms.CharField(label=_("Full name"), max_length=200)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False,
                            widget=forms.TextInput(attrs={"inputmode": "tel",
                                                          "placeholder": "0912 345 678"}))
    extra_phones = ListField(label=_("Other phones"), required=False,
                             widget=RowsWidget(attrs={"inputmode": "tel"}, input_type="tel"))
    email = forms.EmailField(label=_("Email"), required=False)
    extra_emails = ListField(label=_("Other emails"), required=False,
                             widget=RowsWidget(input_type="email"))
    gender = forms.ChoiceField(label=_("Gender"), required=False,
                               choices=[("", _("Unknown")), *Gender.choices])
    birthday = forms.CharField(
        label=_("Birthday"), required=False, max_length=10,
        widget=forms.TextInput(attrs={"placeholder": "dd/mm/yyyy"}),
        help_text=_("dd/mm/yyyy; dd/mm if the year is unknown."))
    company = forms.CharField(label=_("Company"), max_length=200, required=False)
    tax_code = forms.CharField(label=_("Tax code"), max_length=14, required=False)
    national_id = forms.CharField(label=_("ID card (CMND/CCCD)"), max_length=12, required=False)
    country = forms.ChoiceField(label=_("Country"), choices=COUNTRY_CHOICES, initial="VN")
    province_code = forms.TypedChoiceField(
        label=_("Province / city"), required=False, coerce=int, empty_value=None,
        choices=[("", "—"), *PROVINCE_CHOICES])
    ward_code = forms.TypedChoiceField(label=_("Ward / commune"), required=False, coerce=int,
                                       empty_value=None, choices=[("", "—")])
    street = forms.CharField(label=_("Street address"), max_length=255, required=False)
    legacy_address = forms.CharField(
        label=_("Old address (before 2025)"), max_length=255, required=False,
        help_text=_("Free text with the old district, as the customer wrote it."))
    source = forms.ModelChoiceField(label=_("Source"), required=False,
                                    queryset=Source.objects.filter(is_active=True)
                                    .select_related("parent").order_by("parent__position",
                                                                       "position"))
    referrer = forms.CharField(
        label=_("Referred by"), required=False, max_length=40,
        help_text=_("Code (KH000123) or phone of the customer who referred them."),
        widget=forms.TextInput(attrs={"list": "referrer-options", "autocomplete": "off"}))
    assigned_staff = MembershipChoiceField(
        label=_("Staff in charge"), required=False,
        queryset=Membership.objects.filter(is_active=True).exclude(role=Role.COLLABORATOR)
        .select_related("user"))
    collaborator = MembershipChoiceField(
        label=_("Collaborator"), required=False,
        queryset=Membership.objects.filter(is_active=True, role=Role.COLLABORATOR)
        .select_related("user"))
    care_status = forms.ModelChoiceField(label=_("Care status"), required=False,
                                         queryset=CareStatus.objects.filter(is_active=True))
    lifecycle_stage = forms.ChoiceField(
        label=_("Lifecycle stage"), initial=LifecycleStage.NEW,
        choices=[(LifecycleStage.NEW, LifecycleStage.NEW.label),
                 (LifecycleStage.POTENTIAL, LifecycleStage.POTENTIAL.label)],
        help_text=_("Purchased and VIP are set automatically by orders."))
    membership_state = forms.ChoiceField(
        label=_("Membership"), initial=MembershipState.GUEST,
        choices=[c for c in MembershipState.choices if c[0] != MembershipState.CANCELLED])
    note = forms.CharField(label=_("Note"), required=False,
                           widget=forms.Textarea(attrs={"rows": 3}))
    avatar = forms.ImageField(label=_("Avatar"), required=False,
                              help_text=_("JPEG, PNG or WebP, at most 2 MB."))

    def __init__(self, *args, actor, **kwargs):
        self.actor = actor
        super().__init__(*args, **kwargs)
        # Offer only what the access table lets this person set; the service refuses the
        # rest from any other door.
        if not access.can(actor, "customer.assign"):
            del self.fields["assigned_staff"], self.fields["collaborator"]
        if not access.can(actor, "customer.set_care_status"):
            del self.fields["care_status"]
        if not access.can(actor, "customer.approve_membership"):
            self.fields["membership_state"].choices = [
                (s, label) for s, label in self.fields["membership_state"].choices
                if s != MembershipState.ACTIVE]
        for name in ("source", "assigned_staff", "collaborator", "care_status", "province_code"):
            if name in self.fields:
                self.fields[name].widget.attrs["data-tom-select"] = ""
        province = self.data.get("province_code") or self.initial.get("province_code")
        if province and str(province).isdigit():
            self.fields["ward_code"].choices = [("", "—"), *wards_of(int(province))]
        self._add_tag_fields(held=self.initial.get("tags", []))

    def _add_tag_fields(self, held):
        """One field per tag group: a select for single-choice groups, chips otherwise."""
        held_ids = {t.pk for t in held}
        tags = [t for t in Tag.objects.for_tenant(self.tenant).select_related("group")
                .order_by("group__position", "group_id", "position", "id")
                if t.is_active or t.pk in held_ids]
        self.tags_by_id = {t.pk: t for t in tags}
        groups: dict = {}
        for tag in tags:
            groups.setdefault(tag.group, []).append(tag)
        self.tag_field_names = []
        for group, items in groups.items():
            name = f"tags_{group.pk if group else 'free'}"
            choices = [(t.pk, t.name) for t in items]
            initial = [t.pk for t in items if t.pk in held_ids]
            if group is not None and not group.multiple:
                field = forms.TypedChoiceField(
                    label=group.name, required=False, coerce=int, empty_value=None,
                    choices=[("", _("Not set")), *choices],
                    initial=initial[0] if initial else "", widget=RadioChips())
                field.single = True
            else:
                field = forms.TypedMultipleChoiceField(
                    label=group.name if group else _("Other tags"), required=False, coerce=int,
                    choices=choices, initial=initial, widget=CheckboxChips())
            self.fields[name] = field
            self.tag_field_names.append(name)

    def tag_fields(self):
        return [self[name] for name in self.tag_field_names]

    def clean_birthday(self):
        day, month, year = parse_birthday(self.cleaned_data["birthday"])
        self.birth = {"birth_day": day, "birth_month": month, "birth_year": year}
        return self.cleaned_data["birthday"]

    def clean_referrer(self):
        return customer_reference(customers_visible_to(self.actor, self.tenant),
                                  self.cleaned_data["referrer"])

    def clean_avatar(self):
        avatar = self.cleaned_data.get("avatar")
        if avatar and avatar.size > MAX_AVATAR_BYTES:
            raise ValidationError(_("The picture is larger than 2 MB."))
        if avatar and getattr(avatar, "image", None) is not None and \
                avatar.image.format not in ("JPEG", "PNG", "WEBP"):
            raise ValidationError(_("Use a JPEG, PNG or WebP picture."))
        return avatar

    def clean(self):
        data = super().clean()
        if not data.get("phone") and not data.get("email") and "phone" not in self.errors:
            self.add_error("phone", _("Enter a phone number or an email."))
        return data

    def service_data(self) -> dict:
        data = {k: v for k, v in self.cleaned_data.items() if k not in self.tag_field_names}
        data.pop("birthday", None)
        data.update(getattr(self, "birth", {}))
        tag_ids = []
        for name in self.tag_field_names:
            value = self.cleaned_data.get(name)
            tag_ids += value if isinstance(value, list) else [value] if value else []
        data["tags"] = [self.tags_by_id[i] for i in tag_ids]
        return data


class CustomerEditForm(CustomerCreateForm):
    """Every field of an existing customer; membership changes go through their actions."""

    avatar = forms.ImageField(label=_("Avatar"), required=False,
                              help_text=_("JPEG, PNG or WebP, at most 2 MB."),
                              widget=forms.ClearableFileInput)

    def __init__(self, *args, customer, **kwargs):
        self.customer = customer
        kwargs.setdefault("initial", {}).update(self.initial_from(customer))
        super().__init__(*args, **kwargs)
        del self.fields["membership_state"]
        if customer.referrer_id and not can_see_customer(self.actor, customer.referrer):
            # Referred by a customer this person may not see: neither shown nor changeable
            # here (left out, the service keeps it).
            del self.fields["referrer"]
        if customer.lifecycle_stage not in (LifecycleStage.NEW, LifecycleStage.POTENTIAL):
            stage = LifecycleStage(customer.lifecycle_stage)
            self.fields["lifecycle_stage"].choices = [(stage.value, stage.label)]
            self.fields["lifecycle_stage"].disabled = True

    @staticmethod
    def initial_from(customer) -> dict:
        phones = sorted(customer.phones.all(), key=lambda p: (not p.is_primary, p.pk))
        emails = sorted(customer.emails.all(), key=lambda e: (not e.is_primary, e.pk))
        initial = {f: getattr(customer, f) for f in (
            "full_name", "gender", "company", "tax_code", "national_id", "country",
            "province_code", "ward_code", "street", "legacy_address", "note",
            "lifecycle_stage", "avatar")}
        initial.update(
            phone=phones[0].raw if phones else "", extra_phones=[p.raw for p in phones[1:]],
            email=emails[0].email if emails else "",
            extra_emails=[e.email for e in emails[1:]],
            birthday=customer.birthday_display,
            source=customer.source_id, care_status=customer.care_status_id,
            assigned_staff=customer.assigned_staff_id, collaborator=customer.collaborator_id,
            referrer=customer.referrer.code if customer.referrer_id else "",
            tags=list(customer.tags.all()),
        )
        return initial

    def clean_referrer(self):
        referrer = super().clean_referrer()
        if referrer is not None and referrer.pk == self.customer.pk:
            raise ValidationError(_("A customer cannot refer themselves."))
        return referrer


class AssignForm(StyledFormMixin, TenantFormMixin, forms.Form):
    assigned_staff = MembershipChoiceField(
        label=_("Staff in charge"), required=False,
        queryset=Membership.objects.filter(is_active=True).exclude(role=Role.COLLABORATOR)
        .select_related("user"),
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}))
    collaborator = MembershipChoiceField(
        label=_("Collaborator"), required=False,
        queryset=Membership.objects.filter(is_active=True, role=Role.COLLABORATOR)
        .select_related("user"),
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}))


class NoteForm(forms.Form):
    body = forms.CharField(label=_("Note"), max_length=4000, widget=forms.Textarea(attrs={
        "rows": 2, "class": "form-control",
        "placeholder": _("Call, need, promise... what should the next person know?")}))


class BulkActionForm(TenantFormMixin, forms.Form):
    ACTIONS = [
        ("assign_staff", _("Assign staff")),
        ("set_care_status", _("Set care status")),
        ("add_tag", _("Add tag")),
        ("remove_tag", _("Remove tag")),
        ("activate_membership", _("Activate membership")),
    ]
    action = forms.ChoiceField(choices=ACTIONS, widget=forms.Select(attrs={
        "class": "form-select form-select-sm w-auto", "data-bulk-action": "",
        "aria-label": _("Bulk action")}))
    # Checked in clean_codes, so the message says what to do rather than "required".
    codes = forms.Field(required=False, widget=forms.MultipleHiddenInput)
    staff = MembershipChoiceField(
        required=False, empty_label=_("— nobody —"),
        queryset=Membership.objects.filter(is_active=True).exclude(role=Role.COLLABORATOR)
        .select_related("user"),
        widget=forms.Select(attrs={"class": "form-select form-select-sm w-auto",
                                   "data-bulk-param": "assign_staff",
                                   "aria-label": _("Staff in charge")}))
    care_status = forms.ModelChoiceField(
        required=False, queryset=CareStatus.objects.filter(is_active=True), empty_label=None,
        widget=forms.Select(attrs={"class": "form-select form-select-sm w-auto d-none",
                                   "data-bulk-param": "set_care_status",
                                   "aria-label": _("Care status")}))
    tag = forms.ModelChoiceField(
        required=False, queryset=Tag.objects.filter(is_active=True), empty_label=None,
        widget=forms.Select(attrs={"class": "form-select form-select-sm w-auto d-none",
                                   "data-bulk-param": "add_tag remove_tag",
                                   "aria-label": _("Tag")}))

    # The access table's action behind each bulk action.
    ACTION_RULES = {"assign_staff": "customer.assign",
                    "set_care_status": "customer.set_care_status",
                    "add_tag": "customer.tag", "remove_tag": "customer.tag",
                    "activate_membership": "customer.approve_membership"}

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [
            (key, label) for key, label in self.ACTIONS
            if access.can(actor, self.ACTION_RULES[key])]
        # Evaluate each choice list once: Select reads its choices twice when rendering.
        for name in ("staff", "care_status", "tag"):
            self.fields[name].widget.choices = list(iter(self.fields[name].choices))

    def clean_codes(self):
        codes = self.data.getlist("codes") if hasattr(self.data, "getlist") else []
        codes = [c for c in codes if c]
        if not codes:
            raise ValidationError(_("Select at least one customer."))
        if len(codes) > 500:
            raise ValidationError(_("Select at most 500 customers at a time."))
        return codes

    def clean(self):
        data = super().clean()
        action = data.get("action")
        if action in ("add_tag", "remove_tag") and not data.get("tag"):
            self.add_error("tag", _("Choose a tag."))
        if action == "set_care_status" and not data.get("care_status"):
            self.add_error("care_status", _("Choose a care status."))
        return data


class LookupForm(StyledFormMixin, TenantFormMixin, forms.ModelForm):
    """Create/edit an entry of the shop's lists; fields depend on the model."""

    FIELDS = {
        Source: ["name", "parent", "is_active"],
        TagGroup: ["name", "multiple", "is_active"],
        Tag: ["name", "group", "color", "is_active"],
        CareStatus: ["name", "color", "is_active"],
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "parent" in self.fields:
            self.fields["parent"].queryset = self.fields["parent"].queryset.filter(
                parent__isnull=True).exclude(pk=self.instance.pk)
            self.fields["parent"].empty_label = _("— none: this is a channel group —")
        if "group" in self.fields:
            self.fields["group"].empty_label = _("— no group —")
        if "color" in self.fields:
            self.fields["color"].widget = forms.TextInput(
                attrs={"type": "color", "class": "form-control form-control-color"})


def lookup_form_class(model):
    return forms.modelform_factory(model, form=LookupForm, fields=LookupForm.FIELDS[model])


class ContactForm(StyledFormMixin, forms.Form):
    """An order's contact, typed by a manager (the orders app fills it from an order)."""

    widths = {"phone": 6, "email": 6}

    name = forms.CharField(label=_("Full name"), max_length=200)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    email = forms.EmailField(label=_("Email"), required=False)
    address = forms.CharField(label=_("Address"), max_length=255, required=False)

    def clean_phone(self):
        value = self.cleaned_data["phone"]
        if value:
            normalize_phone(value)  # raises with a clear message
        return value

    def clean(self):
        data = super().clean()
        if not data.get("phone") and not data.get("email") and not self.errors:
            raise ValidationError(_("Enter a phone number or an email."))
        return data


class RegistrationForm(StyledFormMixin, forms.Form):
    full_name = forms.CharField(label=_("Full name"), max_length=200)
    phone = forms.CharField(label=_("Phone"), max_length=40,
                            widget=forms.TextInput(attrs={"inputmode": "tel",
                                                          "autocomplete": "tel"}))
    email = forms.EmailField(label=_("Email"), required=False)
    birthday = forms.CharField(label=_("Birthday"), required=False, max_length=10,
                               widget=forms.TextInput(attrs={"placeholder": "dd/mm/yyyy"}))
    # Honeypot: hidden from people by CSS, filled in by bots.
    website = forms.CharField(required=False, label=_("Leave this empty"),
                              widget=forms.TextInput(attrs={"autocomplete": "off",
                                                            "tabindex": "-1"}))

    def clean_phone(self):
        value = self.cleaned_data["phone"]
        normalize_phone(value)
        return value

    def clean_birthday(self):
        day, month, year = parse_birthday(self.cleaned_data["birthday"])
        self.birth = {"birth_day": day, "birth_month": month, "birth_year": year}
        return self.cleaned_data["birthday"]

    def is_spam(self) -> bool:
        return bool(self.cleaned_data.get("website"))

    def service_data(self) -> dict:
        return {"full_name": self.cleaned_data["full_name"], "phone": self.cleaned_data["phone"],
                "email": self.cleaned_data.get("email", ""), **getattr(self, "birth", {})}
