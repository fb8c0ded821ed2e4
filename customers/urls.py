from django.urls import path

from crm.generic import ListColumnsView

from . import views
from .columns import CUSTOMER_COLUMNS
from .services import LOOKUP_MODELS

app_name = "customers"

urlpatterns = [
    path("", views.CustomerListView.as_view(), name="customer_list"),
    path("new/", views.CustomerCreateView.as_view(), name="customer_create"),
    path("bulk/", views.CustomerBulkActionView.as_view(), name="customer_bulk"),
    path("columns/", ListColumnsView.as_view(column_choice=CUSTOMER_COLUMNS,
                                             list_url="customers:customer_list"),
         name="list_columns"),
    path("wards/", views.WardOptionsView.as_view(), name="ward_options"),
    path("lookup/", views.CustomerLookupView.as_view(), name="customer_lookup"),
    path("pending/", views.PendingMembersView.as_view(), name="pending_list"),
    path("pending/requests/<int:pk>/", views.RegistrationRequestView.as_view(),
         name="registration_request"),
    path("members/from-contact/", views.MemberFromContactView.as_view(),
         name="member_from_contact"),
    path("duplicates/", views.DuplicatesView.as_view(), name="duplicates"),
    path("merge/", views.MergeView.as_view(), name="merge"),
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
urlpatterns += [
    path("<str:code>/", views.CustomerDetailView.as_view(), name="customer_detail"),
    path("<str:code>/info/", views.CustomerInfoTabView.as_view(), name="customer_info"),
    path("<str:code>/activity/", views.CustomerActivityTabView.as_view(),
         name="customer_activity"),
    path("<str:code>/history/", views.CustomerHistoryTabView.as_view(),
         name="customer_history"),
    path("<str:code>/edit/", views.CustomerEditView.as_view(), name="customer_edit"),
    path("<str:code>/avatar/", views.CustomerAvatarView.as_view(), name="customer_avatar"),
    path("<str:code>/care-status/", views.CustomerCareStatusView.as_view(),
         name="customer_care_status"),
    path("<str:code>/assign/", views.CustomerAssignView.as_view(), name="customer_assign"),
    path("<str:code>/membership/", views.CustomerMembershipView.as_view(),
         name="customer_membership"),
]
