"""Top-level URL map: landing page, admin, API schema and each app's pages."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from config import views
from study.dashboard import study_dashboard, study_report

urlpatterns = [
    path("", views.landing, name="landing"),
    path("advisor/", include("modelgen.urls")),
    path("admin/", admin.site.urls),
    path("study/", include("study.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/", include("study.api_urls")),
    path("researcher/studies/<slug:slug>/", study_dashboard, name="study-dashboard"),
    path("researcher/studies/<slug:slug>/report/", study_report, name="study-report"),
]
