"""Participant pages of the listening study, mounted at ``study/``."""

from django.urls import path

from study import views

app_name = "study"

urlpatterns = [
    path("", views.study_index, name="index"),
    path("s/<slug:slug>/", views.study_landing, name="landing"),
    path("s/<slug:slug>/start/", views.study_start, name="start"),
    path("s/<slug:slug>/preview/", views.preview, name="preview"),
    path("s/<slug:slug>/preview/<str:step_name>/", views.preview, name="preview_step"),
    path(
        "s/<slug:slug>/preview-audio/screen/<int:number>.wav",
        views.preview_screen_audio,
        name="preview_screen_audio",
    ),
    path(
        "s/<slug:slug>/preview-audio/<int:item_id>/<str:stem>",
        views.preview_stem_audio,
        name="preview_stem_audio",
    ),
    path("p/<str:code>/", views.participant_home, name="participant"),
    path("p/<str:code>/consent/", views.step_page, {"step_name": "consent"}, name="consent"),
    path("p/<str:code>/consent/decline/", views.consent_decline, name="consent_decline"),
    path("p/<str:code>/consent/download/", views.consent_download, name="consent_download"),
    path("p/<str:code>/background/", views.step_page, {"step_name": "background"}, name="background"),
    path("p/<str:code>/screen/", views.step_page, {"step_name": "screen"}, name="screen"),
    path("p/<str:code>/screen/<int:number>.wav", views.screen_audio, name="screen_audio"),
    path("p/<str:code>/instructions/", views.step_page, {"step_name": "instructions"}, name="instructions"),
    path("p/<str:code>/trial/", views.step_page, {"step_name": "trial"}, name="trial"),
    path("p/<str:code>/trials/<int:trial_id>/stems/<str:stem>/", views.stem_audio, name="stem_audio"),
    path("p/<str:code>/closing/", views.step_page, {"step_name": "closing"}, name="closing"),
    path("p/<str:code>/done/", views.step_page, {"step_name": "debrief"}, name="debrief"),
    path("p/<str:code>/end/", views.ending, name="ending"),
    path("p/<str:code>/withdraw/", views.withdraw, name="withdraw"),
]
