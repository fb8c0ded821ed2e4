from django.urls import path

from . import export_views, import_views

app_name = "imports"

urlpatterns = [
    # Import: the history and the upload form, then one page per uploaded file.
    path("", import_views.ImportListView.as_view(), name="list"),
    path("upload/", import_views.ImportUploadView.as_view(), name="upload"),
    path("template/", import_views.template_workbook, name="template_workbook"),  # ?kind=
    path("<int:pk>/", import_views.ImportJobView.as_view(), name="job"),
    path("<int:pk>/sheet/", import_views.ImportSheetView.as_view(), name="job_sheet"),
    path("<int:pk>/mapping/", import_views.ImportMappingView.as_view(), name="job_mapping"),
    path("<int:pk>/progress/", import_views.ImportProgressView.as_view(), name="job_progress"),
    path("<int:pk>/run/", import_views.ImportRunView.as_view(), name="job_run"),
    path("<int:pk>/cancel/", import_views.ImportCancelView.as_view(), name="job_cancel"),
    path("<int:pk>/errors/", import_views.ImportErrorsView.as_view(), name="job_errors"),
    path("mappings/<int:pk>/delete/", import_views.MappingTemplateDeleteView.as_view(),
         name="template_delete"),
    # Export: small exports stream, large ones become a job with a progress page.
    path("export/customers/", export_views.CustomerExportView.as_view(),
         name="export_customers"),
    path("export/group/<int:pk>/", export_views.GroupExportView.as_view(), name="export_group"),
    path("export/orders/", export_views.OrderExportView.as_view(), name="export_orders"),
    path("export/ledger/", export_views.LedgerExportView.as_view(), name="export_ledger"),
    path("exports/<int:pk>/", export_views.ExportJobView.as_view(), name="export_job"),
    path("exports/<int:pk>/download/", export_views.ExportDownloadView.as_view(),
         name="export_download"),
]
