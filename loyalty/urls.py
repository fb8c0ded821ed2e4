from django.urls import path

from . import views

app_name = "loyalty"

urlpatterns = [
    path("", views.ProgramView.as_view(), name="program"),
    path("settings/", views.ProgramEditView.as_view(), name="program_edit"),
    path("tiers/new/", views.TierEditView.as_view(), name="tier_add"),
    path("tiers/<int:pk>/", views.TierEditView.as_view(), name="tier_edit"),
    path("tiers/<int:pk>/delete/", views.TierDeleteView.as_view(), name="tier_delete"),
    path("customer/<str:code>/", views.CustomerPointsTabView.as_view(),
         name="customer_points"),
    path("customer/<str:code>/update/", views.PointsAdjustView.as_view(),
         name="points_adjust"),
]
