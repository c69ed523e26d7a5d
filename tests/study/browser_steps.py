"""What the browser bots do on each participant page (shared by tests/study/test_browser_*.py)."""

import re

from django.urls import reverse

from study import flow, huggins
from study.models import Participant
from tests.factories import stem_audio_write, study_with_items


def tiny_study(slug):
    """An open study with real 3-s stems: one practice, one instructed and two rated trials each."""
    study = study_with_items(
        slug=slug, scenarios=5, trials_per_participant=2, min_listening_seconds=1, free_text_required=False
    )
    stem_audio_write(study, seconds=3.0)
    return study


def start(page, study, *, recruiter_id="bot"):
    page.goto(reverse("study:landing", args=[study.slug]) + f"?PROLIFIC_PID={recruiter_id}")
    page.get_by_role("button", name="Start the study").click()
    page.wait_for_url(re.compile(r"/consent/$"))
    return Participant.objects.get(study=study, recruiter_id=recruiter_id)


def consent(page):
    for box in page.locator(".consent-form input[type=checkbox]").all():
        box.check()
    page.get_by_role("button", name="I agree and want to take part").click()
    page.wait_for_url(re.compile(r"/background/$"))


def background(page, *, years="6"):
    page.get_by_label("Mixing or mastering engineer").check()
    page.get_by_label("How many years have you been mixing music?").fill(years)
    page.get_by_label("Which DAW or console do you mix on most?").select_option("reaper")
    page.get_by_label("Pop").check()
    page.locator("input[name=hearing_issues][value=no]").check()
    page.get_by_role("button", name="Continue").click()


def screen(page, participant, *, correct=True):
    page.wait_for_url(re.compile(r"/screen/$"))
    participant.refresh_from_db()
    key = huggins.answer_key(flow.screen_seed(participant), flow.screen_config(participant.study))
    for trial, target in enumerate(key, start=1):
        answer = target if correct else target % 3 + 1
        page.locator(f"input[name=trial_{trial}][value='{answer}']").check()
    page.get_by_role("button", name="Continue").click()


def to_trials(page, study, *, recruiter_id="bot"):
    """From the study's landing page to the first (practice) trial; returns the participant."""
    participant = start(page, study, recruiter_id=recruiter_id)
    consent(page)
    background(page)
    screen(page, participant)
    page.wait_for_url(re.compile(r"/instructions/$"))
    page.get_by_role("button", name="Start the practice trial").click()
    page.wait_for_url(re.compile(r"/trial/$"))
    return participant


def snapshot(page):
    return page.evaluate("window.mixadvicePlayer.snapshot()")


def listen(page):
    """Press Play and wait until the scales unlock (the study's minimum listening time)."""
    page.get_by_role("button", name="Play").click()
    page.wait_for_function("window.mixadvicePlayer && window.mixadvicePlayer.playing")
    page.wait_for_selector("fieldset[data-dimension]:not([disabled])")


def rate_and_save(page, *, score=4, feedback="Clear advice."):
    """Answer the five scales (or what an attention item asks for), save, and wait for the next page."""
    attention = page.locator(".instructed")
    match = re.search(r"select (\d) on every scale", attention.inner_text()) if attention.count() else None
    score = int(match.group(1)) if match else score
    for fieldset in page.locator("fieldset[data-dimension]").all():
        fieldset.locator(f"input[value='{score}']").check()
    page.locator("#feedback").fill(feedback)
    with page.expect_navigation():
        page.get_by_role("button", name="Save and continue").click()
