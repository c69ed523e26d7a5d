"""URLs of the study API, mounted at ``api/`` (namespace ``api``); listed in docs/study-data.md."""

from django.urls import path

from study import apis

app_name = "api"

urlpatterns = [
    path("participants/<str:code>/trials/<int:trial_id>/", apis.TrialStateApi.as_view(), name="trial-state"),
    path(
        "participants/<str:code>/trials/<int:trial_id>/submit/",
        apis.TrialSubmitApi.as_view(),
        name="trial-submit",
    ),
    path(
        "participants/<str:code>/trials/<int:trial_id>/events/",
        apis.TrialEventsApi.as_view(),
        name="trial-events",
    ),
    path("studies/<slug:slug>/", apis.StudyStatusApi.as_view(), name="study-status"),
    path(
        "studies/<slug:slug>/ratings.csv",
        apis.StudyRatingsCsvApi.as_view(),
        name="study-ratings",
    ),
    path(
        "studies/<slug:slug>/ratings.json",
        apis.StudyRatingsJsonApi.as_view(),
        name="study-ratings-json",
    ),
    path("studies/<slug:slug>/events.csv", apis.StudyEventsApi.as_view(), name="study-events"),
]
