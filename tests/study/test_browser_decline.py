"""Bot 2: a participant reads the consent and declines."""

import re

import pytest

from study.models import ConsentRecord, Participant
from tests.study import browser_steps as bot


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_declining_consent_ends_politely_and_stores_nothing_but_the_code(page):
    study = bot.tiny_study("bot-decline")
    participant = bot.start(page, study, recruiter_id="decline-bot")
    assert page.get_by_role("link", name="Download a copy of this text").is_visible()
    page.get_by_role("button", name="I do not agree — leave the study").click()
    page.wait_for_url(re.compile(r"/end/$"))
    assert page.get_by_role("heading", level=1).inner_text() == "You have left the study"
    participant = Participant.objects.get(pk=participant.pk)
    assert participant.state == Participant.State.DECLINED
    assert participant.recruiter_id == "" and participant.external_ids == {}
    assert not ConsentRecord.objects.filter(participant=participant).exists()
    assert not participant.trials.exists() and participant.background == {}
    page.goto(page.url.replace("/end/", "/trial/"))
    assert page.url.endswith("/end/")
