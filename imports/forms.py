"""The import screens' forms: the upload, the sheet, the column mapping with its options, and
a saved mapping to apply. They check input only; imports.services decides and writes."""

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from openpyxl.utils import get_column_letter

from crm.forms import StyledFormMixin
from crm.tenancy import TenantFormMixin

from .engine import MULTI_COLUMN
from .models import DuplicateRule, EmptyCells, ImportKind, ImportMode, MappingTemplate, MatchMode

ACCEPT = ".xlsx,.xls,.csv"
DATE_ORDERS = [("dmy", _("Day/month/year")), ("mdy", _("Month/day/year"))]
AMBIGUOUS = "ambiguous"
OPTION_DEFAULTS = {"mode": ImportMode.ALL_OR_NOTHING, "match": MatchMode.BOTH,
                   "empty": EmptyCells.IGNORE, "duplicates": DuplicateRule.MERGE}


class UploadForm(StyledFormMixin, forms.Form):
    file = forms.FileField(
        label=_("File"), widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}),
        error_messages={"required": _("Choose an Excel (.xlsx, .xls) or CSV file."),
                        "empty": _("The file is empty.")})
    kind = forms.ChoiceField(label=_("What the file holds"), choices=ImportKind.choices,
                             initial=ImportKind.CUSTOMERS, widget=forms.RadioSelect)

    def clean_file(self):
        # The service refuses for real (and by content); this only answers a file that is
        # plainly too big without reading it.
        upload = self.cleaned_data["file"]
        if upload.size > settings.IMPORT_MAX_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(mb)s MB.")
                % {"mb": settings.IMPORT_MAX_BYTES // (1024 * 1024)})
        return upload


class SheetForm(forms.Form):
    sheet = forms.ChoiceField(label=_("Sheet"))

    def __init__(self, *args, job, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sheet"].choices = [(name, name) for name in job.sheets]
        self.fields["sheet"].initial = job.sheet or (job.sheets[0] if job.sheets else "")
        self.fields["sheet"].widget.attrs["class"] = "form-select"


class TemplateApplyForm(TenantFormMixin, forms.Form):
    template = forms.ModelChoiceField(label=_("Use a saved mapping"),
                                      queryset=MappingTemplate.objects.all(),
                                      empty_label=_("— Choose a saved mapping —"))

    def __init__(self, *args, kind, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["template"]
        field.queryset = field.queryset.filter(kind=kind).order_by("name")
        field.widget.attrs["class"] = "form-select"


def target_choices(targets) -> list:
    """The select's options: "ignore" first, the targets without a section, then one
    <optgroup> per section in the order the targets come."""
    plain, sections = [], {}
    for target in targets:
        if target.group:
            sections.setdefault(str(target.group), []).append((target.key, target.label))
        else:
            plain.append((target.key, target.label))
    return [("", _("— Skip this column —")), *plain, *sections.items()]


class MappingForm(StyledFormMixin, forms.Form):
    """One select per column of the file (``col_<i>``), a day/month order for the columns
    whose dates need one (``date_<i>``), the import's options and an optional template
    name to save the mapping under."""

    mode = forms.ChoiceField(label=_("If some rows have errors"), choices=ImportMode.choices,
                             widget=forms.RadioSelect)
    match = forms.ChoiceField(label=_("Existing customers"), choices=MatchMode.choices,
                              help_text=_("A row is the same customer when its code, else its "
                                          "phone, else its email is already in the shop."))
    empty = forms.ChoiceField(label=_("Empty cells"), choices=EmptyCells.choices)
    duplicates = forms.ChoiceField(
        label=_("Rows of the same person in the file"), choices=DuplicateRule.choices,
        help_text=_("Same phone or same email in several rows."))
    save_as = forms.CharField(label=_("Save this mapping as"), max_length=100, required=False,
                              help_text=_("A name, e.g. “KiotViet”: the next file with the "
                                          "same headers is mapped in one click."))

    def __init__(self, *args, job, targets, date_keys=frozenset(), **kwargs):
        super().__init__(*args, **kwargs)
        self.job = job
        choices = target_choices(targets)
        self.labels = {t.key: t.label for t in targets}
        mapping = list(job.mapping or [])
        options = {**OPTION_DEFAULTS, **(job.options or {})}
        orders = options.get("date_orders") or {}
        column_dates = list(job.column_dates or [])
        self.columns = []
        for index, header in enumerate(job.headers):
            field = forms.ChoiceField(label=header or _("Column %(n)s") % {"n": index + 1},
                                      choices=choices, required=False)
            field.widget.attrs.update({"class": "form-select", "data-mapping-select": ""})
            current = mapping[index] if index < len(mapping) else ""
            field.initial = current if current in self.labels else ""
            self.fields[f"col_{index}"] = field
            found = column_dates[index] if index < len(column_dates) else None
            if found or current in date_keys:
                ambiguous = found == AMBIGUOUS
                order = forms.ChoiceField(
                    label=_("Date order"), required=ambiguous,
                    choices=([("", _("— Choose —"))] if ambiguous else []) + DATE_ORDERS,
                    error_messages={"required": _("Choose the order of this column's dates.")})
                order.widget.attrs["class"] = "form-select form-select-sm"
                order.initial = orders.get(str(index)) or (found if found in ("dmy", "mdy")
                                                           else ("" if ambiguous else "dmy"))
                self.fields[f"date_{index}"] = order
            self.columns.append({"index": index, "header": header,
                                 "letter": get_column_letter(index + 1),
                                 "samples": self._samples(index), "ambiguous": found == AMBIGUOUS})
        for name in ("mode", "match", "empty", "duplicates"):
            self.fields[name].initial = options.get(name) or OPTION_DEFAULTS[name]
        # The mode choice stays radios, not a select: both consequences are read at once.
        self.fields["mode"].widget.attrs["class"] = "form-check-input"
        self.order_fields([f for f in self.fields if f.startswith(("col_", "date_"))])

    def _samples(self, index: int) -> list[str]:
        values = []
        for row in self.job.samples or []:
            value = row[index] if index < len(row) else ""
            if value not in (None, ""):
                values.append(str(value))
            if len(values) == 3:
                break
        return values

    def column_rows(self):
        """Per column: its header, its samples, its select and its date order (or None)."""
        for column in self.columns:
            index = column["index"]
            names = [f"col_{index}", f"date_{index}"]
            for name in names:
                if name in self.fields and self.errors.get(name):
                    widget = self.fields[name].widget
                    widget.attrs["class"] = widget.attrs.get("class", "") + " is-invalid"
            yield {**column, "field": self[names[0]],
                   "date": self[names[1]] if names[1] in self.fields else None}

    def option_fields(self):
        return [self[name] for name in ("match", "empty", "duplicates")]

    def clean(self):
        cleaned = super().clean()
        seen = {}
        for column in self.columns:
            name = f"col_{column['index']}"
            key = cleaned.get(name)
            if not key:
                continue
            if key in seen and key.split(":", 1)[0] not in MULTI_COLUMN:
                self.add_error(name, _("“%(target)s” is already filled by column “%(other)s”.")
                               % {"target": self.labels.get(key, key),
                                  "other": seen[key]})
            else:
                seen[key] = column["header"]
        if not seen:
            raise forms.ValidationError(_("Map at least one column."))
        return cleaned

    def mapping(self) -> list[str]:
        return [self.cleaned_data.get(f"col_{column['index']}") or ""
                for column in self.columns]

    def options(self) -> dict:
        data = self.cleaned_data
        return {"mode": data["mode"], "match": data["match"], "empty": data["empty"],
                "duplicates": data["duplicates"],
                "date_orders": {name.removeprefix("date_"): data[name]
                                for name in self.fields
                                if name.startswith("date_") and data.get(name)}}
