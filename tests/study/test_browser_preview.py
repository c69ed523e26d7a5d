"""A researcher previews the trial page as a participant would; nothing is stored."""

import re

import pytest
from django.urls import reverse

from study.models import Participant, PlaybackEvent, Rating, Trial
from tests.factories import ResearcherFactory
from tests.study import browser_steps as bot


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_staff_preview_plays_and_rates_a_trial_without_storing_anything(page):
    study = bot.tiny_study("bot-preview")
    ResearcherFactory(username="previewer", is_superuser=True)
    page.goto(reverse("admin:login"))
    page.get_by_label("Username").fill("previewer")
    page.get_by_label("Password").fill("correct horse battery staple")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/admin/$"))

    page.goto(reverse("study:preview_step", args=[study.slug, "trial"]))
    assert page.get_by_text("Preview — nothing is stored").is_visible()
    bot.listen(page)
    assert bot.snapshot(page)["contextState"] == "running"
    page.get_by_role("button", name="Reference").click()
    bot.rate_and_save(page)
    assert page.url.endswith("/preview/closing/")
    for model in (Participant, Trial, Rating, PlaybackEvent):
        assert not model.objects.exists(), model.__name__
