"""The export screens: the buttons above the lists post here with the list's query string
(crm.registry.ListAction, imports.exports.LIST_ACTIONS); a small export answers with the
file, a large one opens its job page (a progress bar polled every second, then the
download link). A job and its file are the asking person's, in their shop only: anyone
else gets a 404."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from crm.http import safe_next, serve_private_file
from crm.tenancy import BackofficeMixin, tenant_get_object_or_404
from groups.models import CustomerGroup

from . import exports
from .models import ExportJob, ExportKind, ImportState


class ExportView(BackofficeMixin, View):
    """POST ``format`` (xlsx, csv) and, for customers, ``columns`` ("all": every field);
    the list's query string is the request's. GET is not taken (405): an export writes a
    job, and a link followed from another site must not start one."""

    action = "export.run"
    http_method_names = ["post"]

    def export(self, *, params, fmt):
        raise NotImplementedError

    def post(self, request, *args, **kwargs):
        params = request.GET.copy()
        params.pop("columns", None)
        if request.POST.get("columns"):
            params["columns"] = request.POST["columns"]
        try:
            result = self.export(params=params, fmt=request.POST.get("format", "xlsx"))
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
            return redirect(safe_next(request, request.META.get("HTTP_REFERER"), "/admin/"))
        if isinstance(result, ExportJob):
            return redirect("imports:export_job", pk=result.pk)
        return result


class CustomerExportView(ExportView):
    def export(self, *, params, fmt):
        return exports.export_customers(tenant=self.tenant, actor=self.actor, params=params,
                                        fmt=fmt)


class GroupExportView(ExportView):
    def prepare(self, request, *args, **kwargs):
        self.group = tenant_get_object_or_404(CustomerGroup.objects.for_tenant(request.tenant),
                                              pk=kwargs["pk"])
        return None

    def export(self, *, params, fmt):
        return exports.export_group(tenant=self.tenant, actor=self.actor, group=self.group,
                                    params=params, fmt=fmt)


class OrderExportView(ExportView):
    def export(self, *, params, fmt):
        return exports.export_orders(tenant=self.tenant, actor=self.actor, params=params,
                                     fmt=fmt)


class LedgerExportView(ExportView):
    def export(self, *, params, fmt):
        return exports.export_ledger(tenant=self.tenant, actor=self.actor, params=params,
                                     fmt=fmt)


class ExportJobMixin(BackofficeMixin):
    action = "export.run"

    def prepare(self, request, *args, **kwargs):
        self.job = tenant_get_object_or_404(
            exports.export_jobs(tenant=request.tenant, user=request.user), pk=kwargs["pk"])
        return None


class ExportJobView(ExportJobMixin, TemplateView):
    """The job's page; its status block comes back alone to htmx's polling."""

    template_name = "imports/export_job.html"
    status_template = "imports/export_status.html"

    def get_template_names(self):
        if self.request.htmx and not self.request.htmx.boosted:
            return [self.status_template]
        return [self.template_name]

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            job=self.job, progress=exports.export_progress(self.job),
            kind_label=ExportKind(self.job.kind).label, **kwargs)


class ExportDownloadView(ExportJobMixin, View):
    def get(self, request, pk):
        job = self.job
        if job.state != ImportState.DONE or not job.file:
            raise Http404(_("This export is not ready, or its file was deleted."))
        response = serve_private_file(job.file)
        response["Content-Type"] = ("text/csv; charset=utf-8" if job.format == "csv" else
                                    "application/vnd.openxmlformats-officedocument."
                                    "spreadsheetml.sheet")
        response["Content-Disposition"] = content_disposition_header(True, job.file_name)
        return response
