from django.urls import path

from . import views
from .services import LOOKUP_MODELS

app_name = "customers"

urlpatterns = [
    path("", views.CustomerListView.as_view(), name="customer_list"),
    path("new/", views.CustomerCreateView.as_view(), name="customer_create"),
    path("bulk/", views.CustomerBulkActionView.as_view(), name="customer_bulk"),
    path("columns/", views.ListColumnsView.as_view(), name="list_columns"),
    path("wards/", views.WardOptionsView.as_view(), name="ward_options"),
]
for kind in LOOKUP_MODELS:
    urlpatterns += [
        path(f"settings/{kind}/", views.LookupListView.as_view(kind=kind),
             name=f"lookup_list_{kind}"),
        path(f"settings/{kind}/new/", views.LookupEditView.as_view(kind=kind),
             name=f"lookup_create_{kind}"),
        path(f"settings/{kind}/<int:pk>/", views.LookupEditView.as_view(kind=kind),
             name=f"lookup_edit_{kind}"),
        path(f"settings/{kind}/<int:pk>/move/<str:direction>/",
             views.LookupMoveView.as_view(kind=kind), name=f"lookup_move_{kind}"),
    ]
# Last: a customer code matches any other word.
urlpatterns.append(path("<str:code>/", views.CustomerDetailView.as_view(),
                        name="customer_detail"))
