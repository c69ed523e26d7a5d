"""URLs of the advisor page, mounted at ``advisor/``."""

from django.urls import path

from modelgen import views

urlpatterns = [
    path("", views.advisor_start, name="advisor"),
    path("r/<str:token>/", views.advisor_result, name="advisor_result"),
    path("r/<str:token>/status/", views.advisor_status, name="advisor_status"),
    path("r/<str:token>/audio/<str:role>.wav", views.advisor_audio, name="advisor_audio"),
]
