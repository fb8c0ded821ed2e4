"""The import screens (Nhập / xuất Excel): the history with the upload form, then one page
per uploaded file that follows its state — sheet, column mapping, the check's progress, the
preview, the run's progress, the result with its error workbook.

Views are thin: forms check input, ``imports.services`` decides and writes (and asks the
access table again). A job or a saved mapping of another shop is a 404.
"""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from crm.generic import ReturnURLMixin
from crm.tenancy import BackofficeMixin, requires_action, tenant_get_object_or_404

from . import selectors, services
from .engine import MULTI_COLUMN
from .forms import MappingForm, SheetForm, TemplateApplyForm, UploadForm
from .mapping import targets
from .models import (
    DuplicateRule,
    ImportJob,
    ImportKind,
    ImportMode,
    ImportState,
    MappingTemplate,
)

ACTION = "import.run"
ACTIVE = {ImportState.CHECKING, ImportState.QUEUED, ImportState.RUNNING}
FINISHED = {ImportState.DONE, ImportState.FAILED, ImportState.CANCELLED}
WORKBOOK_NAMES = {ImportKind.CUSTOMERS: "mau-nhap-khach-hang.xlsx",
                  ImportKind.ORDERS: "mau-nhap-don-hang.xlsx"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def duration_text(seconds) -> str:
    """12.3 -> "12,3 giây", 75 -> "1 phút 15 giây" (words from the catalog)."""
    if seconds is None:
        return ""
    if seconds < 60:
        return _("%(s)s s") % {"s": number_format(seconds, 1)}
    minutes, rest = divmod(round(seconds), 60)
    return _("%(m)d min %(s)d s") % {"m": minutes, "s": rest}


def _add_errors(form, exc: ValidationError) -> None:
    """A service's ValidationError on the form: on the field it names when the form has
    that field, on the form otherwise."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc)


def _error_text(exc: ValidationError) -> str:
    return " ".join(exc.messages)


def job_page(job) -> str:
    """Which screen a job's page shows."""
    if job.state in ACTIVE:
        return "progress"
    if job.state == ImportState.CHECKED:
        return "preview"
    if job.state == ImportState.DONE or (job.state in FINISHED and not job.dry_run):
        return "result"
    if not job.headers:
        return "sheet"
    # Uploaded, or a check that failed or was cancelled: map (again).
    return "mapping"


class ImportListView(BackofficeMixin, TemplateView):
    """The upload form and the shop's import history."""

    action = ACTION
    template_name = "imports/import_list.html"

    def get_context_data(self, **kwargs):
        jobs = selectors.import_history(tenant=self.tenant)
        for job in jobs:
            job.duration_text = duration_text(job.duration)
        kwargs.setdefault("form", UploadForm())
        return super().get_context_data(
            jobs=jobs, kinds=ImportKind, states=ImportState, active_states=list(ACTIVE),
            max_mb=settings.IMPORT_MAX_BYTES // (1024 * 1024), max_rows=settings.IMPORT_MAX_ROWS,
            retention_days=settings.IMPORT_RETENTION_DAYS, **kwargs)


class ImportUploadView(ImportListView):
    """POST the file: the job's page next, or the list again with the refusal and the
    form (nothing of a refused file is kept)."""

    http_method_names = ["post"]

    def post(self, request):
        form = UploadForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                job = services.job_upload(tenant=self.tenant, actor=self.actor,
                                          uploaded_file=form.cleaned_data["file"],
                                          kind=form.cleaned_data["kind"])
            except ValidationError as exc:
                # A refusal (FileRefused) is about the file: shown under it.
                if hasattr(exc, "error_dict"):
                    _add_errors(form, exc)
                else:
                    form.add_error("file", exc)
            else:
                return redirect("imports:job", pk=job.pk)
        return self.render_to_response(self.get_context_data(form=form), status=400)


@requires_action(ACTION)
def template_workbook(request):
    """The example workbook of ``?kind=`` (customers, orders): the Vietnamese headers and
    a filled row."""
    kind = request.GET.get("kind", ImportKind.CUSTOMERS)
    if kind not in WORKBOOK_NAMES:
        raise Http404
    # A few kilobytes made in memory: one plain response, not a stream.
    response = HttpResponse(services.template_workbook(request.tenant, kind), content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=WORKBOOK_NAMES[kind])
    return response


class JobMixin(BackofficeMixin):
    """The URL's job in the active shop as ``self.job``; another shop's job is a 404."""

    action = ACTION

    def prepare(self, request, *args, **kwargs):
        self.job = tenant_get_object_or_404(
            ImportJob.objects.for_tenant(self.tenant).select_related("created_by"),
            pk=kwargs["pk"])
        if self.job.state in ACTIVE:
            # A worker that died mid-run leaves the job "running": shown as failed instead.
            self.job = services.job_refresh(self.job)
        return None

    def job_url(self) -> str:
        return reverse("imports:job", kwargs={"pk": self.job.pk})


class ImportJobView(JobMixin, TemplateView):
    """One uploaded file, on the screen its state calls for."""

    template_name = "imports/import_job.html"
    mapping_form = None

    def get_context_data(self, **kwargs):
        job = self.job
        page = kwargs.pop("page", None) or job_page(job)
        context = {"job": job, "page": page, "states": ImportState, "kinds": ImportKind,
                   "counts": job.counts or {}, "is_customers": job.kind == ImportKind.CUSTOMERS,
                   "duration": duration_text(job.duration), "file_gone": not job.file}
        if len(job.sheets) > 1 and page in ("sheet", "mapping"):
            context["sheet_form"] = SheetForm(job=job)
        if page == "mapping":
            context.update(self.mapping_context(kwargs.pop("form", None)))
        elif page == "progress":
            context["progress"] = progress_of(job)
        elif page in ("preview", "result"):
            context.update(self.summary_context())
        return super().get_context_data(**context, **kwargs)

    def mapping_context(self, form=None) -> dict:
        job = self.job
        form = form or MappingForm(job=job, targets=targets(self.tenant, job.kind),
                                   date_keys=selectors.date_target_keys(job.kind))
        return {"form": form, "multi_targets": " ".join(sorted(MULTI_COLUMN)),
                "template_form": TemplateApplyForm(tenant=self.tenant, kind=job.kind),
                "templates": selectors.mapping_templates(tenant=self.tenant, kind=job.kind)}

    def summary_context(self) -> dict:
        job = self.job
        options = job.options or {}
        counts = job.counts or {}
        rejected = counts.get("rejected", 0)
        all_or_nothing = options.get("mode", ImportMode.ALL_OR_NOTHING) \
            == ImportMode.ALL_OR_NOTHING
        to_write = counts.get("created", 0) + counts.get("updated", 0)
        return {"all_or_nothing": all_or_nothing, "rejected": rejected,
                "to_write": to_write, "blocked": all_or_nothing and rejected > 0,
                "duplicate_rule": _duplicate_rule_label(options),
                "errors_shown": len(job.errors or []),
                "has_error_file": bool(job.error_file),
                "percent": 100 if job.state == ImportState.DONE else None,
                "used_mapping": _used_mapping(job)}


def _used_mapping(job) -> list[tuple[str, str]]:
    """(header of the file, field it filled) of each column the import read: the mapping
    the history keeps."""
    labels = {t.key: str(t.label) for t in targets(job.tenant, job.kind)}
    return [(header, labels.get(target, target))
            for header, target in zip(job.headers, job.mapping, strict=False) if target]


def _duplicate_rule_label(options: dict) -> str:
    value = options.get("duplicates") or DuplicateRule.MERGE
    return str(DuplicateRule(value).label) if value in DuplicateRule.values else value


def progress_of(job) -> dict:
    """What the bar shows: rows done of total, the phase in words, the percent."""
    progress = services.job_progress(job) or {}
    done, total = progress.get("done", 0), progress.get("total", 0)
    phase = progress.get("phase", "")
    words = {"reading": _("Reading the file"), "checking": _("Checking the rows"),
             "writing": _("Writing the customers") if job.kind == ImportKind.CUSTOMERS
             else _("Writing the orders"), "finishing": _("Finishing"), "done": _("Finishing")}
    if job.state == ImportState.QUEUED or phase in ("", "queued"):
        text = _("Waiting for the worker…")
    else:
        text = words.get(phase, phase)
    return {"done": done, "total": total, "phase": phase, "text": text,
            "percent": min(100, done * 100 // total) if total else 0}


class ImportSheetView(JobMixin, View):
    def post(self, request, pk):
        form = SheetForm(request.POST, job=self.job)
        if form.is_valid():
            try:
                services.job_choose_sheet(tenant=self.tenant, actor=self.actor, job=self.job,
                                          sheet=form.cleaned_data["sheet"])
            except ValidationError as exc:
                messages.error(request, _error_text(exc))
        else:
            messages.error(request, _("Choose one of the workbook's sheets."))
        return redirect(self.job_url())


class ImportMappingView(ImportJobView):
    """GET: the mapping form (also from the preview: "Sửa ghép cột"). POST: apply a saved
    mapping, or save the mapping and its options and start the check."""

    def get(self, request, *args, **kwargs):
        if self.job.state in ACTIVE or job_page(self.job) == "result" or not self.job.headers:
            return redirect(self.job_url())
        return self.render_to_response(self.get_context_data(page="mapping"))

    def post(self, request, pk):
        if "apply_template" in request.POST:
            return self.apply_template(request)
        job = self.job
        form = MappingForm(request.POST, job=job, targets=targets(self.tenant, job.kind),
                           date_keys=selectors.date_target_keys(job.kind))
        if form.is_valid():
            try:
                job = services.job_configure(tenant=self.tenant, actor=self.actor, job=job,
                                             mapping=form.mapping(), options=form.options())
                if name := form.cleaned_data["save_as"].strip():
                    services.template_save(tenant=self.tenant, actor=self.actor, job=job,
                                           name=name)
                services.job_check(tenant=self.tenant, actor=self.actor, job=job)
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                return redirect(self.job_url())
            self.job.refresh_from_db()
        return self.render_to_response(self.get_context_data(page="mapping", form=form),
                                       status=400)

    def apply_template(self, request):
        form = TemplateApplyForm(request.POST, tenant=self.tenant, kind=self.job.kind)
        if form.is_valid():
            try:
                services.template_apply(tenant=self.tenant, actor=self.actor, job=self.job,
                                        template=form.cleaned_data["template"])
            except ValidationError as exc:
                messages.error(request, _error_text(exc))
            else:
                messages.success(request, _("Mapping “%(name)s” applied: check it, then "
                                            "press “Check the data”.")
                                 % {"name": form.cleaned_data["template"].name})
        else:
            messages.error(request, _("Choose a saved mapping."))
        return redirect("imports:job_mapping", pk=self.job.pk)


class ImportProgressView(JobMixin, View):
    """The progress bar, polled every second by htmx; once the job has left the running
    states the page reloads to show the preview or the result."""

    def get(self, request, pk):
        if not request.htmx:
            return redirect(self.job_url())
        if self.job.state not in ACTIVE:
            # Checked, done, failed or cancelled: the job's page shows what came of it.
            response = HttpResponse(status=204)
            response["HX-Redirect"] = self.job_url()
            return response
        return render(request, "imports/_progress.html",
                      {"job": self.job, "progress": progress_of(self.job), "states": ImportState})


class ImportRunView(JobMixin, View):
    def post(self, request, pk):
        try:
            services.job_start(tenant=self.tenant, actor=self.actor, job=self.job)
        except ValidationError as exc:
            messages.error(request, _error_text(exc))
        return redirect(self.job_url())


class ImportCancelView(JobMixin, View):
    def post(self, request, pk):
        try:
            services.job_cancel(tenant=self.tenant, actor=self.actor, job=self.job)
        except ValidationError as exc:
            messages.error(request, _error_text(exc))
        else:
            messages.info(request, _("Import cancelled: nothing was written."))
        return redirect(self.job_url())


class ImportErrorsView(JobMixin, View):
    """The error workbook: the rejected rows as uploaded, plus a "Lỗi" column."""

    def get(self, request, pk):
        found = services.job_error_file(self.job)
        if found is None:
            raise Http404(_("This import has no error file."))
        stored, filename = found
        response = FileResponse(stored.open("rb"), as_attachment=True, filename=filename)
        response["Cache-Control"] = "private, no-store"
        return response


class MappingTemplateDeleteView(ReturnURLMixin, BackofficeMixin, View):
    action = ACTION

    def post(self, request, pk):
        template = tenant_get_object_or_404(MappingTemplate.objects.for_tenant(self.tenant),
                                            pk=pk)
        try:
            services.template_delete(tenant=self.tenant, actor=self.actor, template=template)
        except ValidationError as exc:
            messages.error(request, _error_text(exc))
        else:
            messages.success(request, _("Saved mapping “%(name)s” deleted.")
                             % {"name": template.name})
        return redirect(self.get_return_url(reverse("imports:list")))
