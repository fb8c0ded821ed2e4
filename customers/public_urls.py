"""Public pages of the customers app (no sign-in), included at the site root."""

from django.urls import path

from .views import RegistrationView

urlpatterns = [
    path("r/<slug:slug>/", RegistrationView.as_view(), name="register"),
]
