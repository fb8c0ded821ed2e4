"""Mounted at /admin/customers/ before the customers' own URLs (crm/urls.py): the group
screens under groups/, and a customer's Nhóm tab at <code>/groups/ beside their other tabs."""

from django.urls import path

from . import filter_views, views

app_name = "groups"

urlpatterns = [
    path("groups/", views.GroupListView.as_view(), name="group_list"),
    path("groups/new/", views.GroupCreateView.as_view(), name="group_create"),
    path("groups/count/", views.GroupCountView.as_view(), name="group_count"),
    path("groups/bulk/", views.GroupBulkView.as_view(), name="group_bulk"),
    path("groups/<int:pk>/", views.GroupDetailView.as_view(), name="group_detail"),
    path("groups/<int:pk>/edit/", views.GroupUpdateView.as_view(), name="group_edit"),
    path("groups/<int:pk>/status/", views.GroupStatusView.as_view(), name="group_status"),
    path("groups/<int:pk>/recompute/", views.GroupRecomputeView.as_view(),
         name="group_recompute"),
    path("groups/<int:pk>/archive/", views.GroupArchiveView.as_view(), name="group_archive"),
    path("groups/<int:pk>/restore/", views.GroupArchiveView.as_view(archive=False),
         name="group_restore"),
    path("groups/<int:pk>/pins/add/", views.GroupPinView.as_view(), name="group_pin_add"),
    path("groups/<int:pk>/pins/remove/", views.GroupPinView.as_view(remove=True),
         name="group_pin_remove"),
    path("groups/<int:pk>/why/<str:code>/", views.GroupExplainView.as_view(),
         name="group_explain"),
    # The customer list's saved filters (groups/filter_views.py).
    path("saved-filters/new/", filter_views.SavedFilterCreateView.as_view(),
         name="saved_filter_create"),
    path("saved-filters/to-group/", filter_views.FilterToGroupView.as_view(),
         name="saved_filter_to_group"),
    path("saved-filters/<int:pk>/edit/", filter_views.SavedFilterEditView.as_view(),
         name="saved_filter_edit"),
    path("saved-filters/<int:pk>/delete/", filter_views.SavedFilterDeleteView.as_view(),
         name="saved_filter_delete"),
    path("saved-filters/<int:pk>/columns/", filter_views.SavedFilterColumnsView.as_view(),
         name="saved_filter_columns"),
    path("<str:code>/groups/", views.CustomerGroupsTabView.as_view(), name="customer_groups"),
]
