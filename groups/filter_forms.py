"""Forms of the customer list's saved filters (groups.filter_views)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from crm import access
from crm.forms import StyledFormMixin

from .models import SavedFilter


class SavedFilterForm(StyledFormMixin, forms.Form):
    """"Thêm bộ lọc": a name for the list as it is; shared with the shop (managers); with
    the columns shown now. ``query`` is the list's query string (the page fills it with
    the address as it is when the form is sent: the list moves by htmx)."""

    name = forms.CharField(label=_("Filter name"), max_length=SavedFilter._meta.get_field(
        "name").max_length, widget=forms.TextInput(attrs={
            "autocomplete": "off", "placeholder": _("e.g. Khách Shopee chi trên 5 triệu")}))
    shared = forms.BooleanField(label=_("Share with the whole shop"), required=False,
                                help_text=_("Everyone in the shop sees it among their "
                                            "filters; only you can rename it."))
    with_columns = forms.BooleanField(
        label=_("Keep the columns shown now"), required=False, initial=True,
        help_text=_("The filter remembers your columns; “Use its columns” on the filter "
                    "puts them back."))
    query = forms.CharField(required=False, widget=forms.HiddenInput(
        attrs={"data-current-query": ""}))

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        if not access.can(actor, "filter.share"):
            del self.fields["shared"]


class SavedFilterEditForm(StyledFormMixin, forms.Form):
    """Rename a saved filter; managers also share it or stop sharing it."""

    name = SavedFilterForm.base_fields["name"]
    shared = SavedFilterForm.base_fields["shared"]

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        if not access.can(actor, "filter.share"):
            del self.fields["shared"]
