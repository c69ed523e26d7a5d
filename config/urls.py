"""Top-level URL map: landing page, admin, API schema and each app's pages."""

from django.contrib import admin
from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from config import views

urlpatterns = [
    path("", views.landing, name="landing"),
    path("advisor/", views.advisor_placeholder, name="advisor"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
]
