"""Bot 3: a participant on loudspeakers fails the Huggins-pitch headphone screen."""

import re

import pytest

from study import flow
from study.models import Participant
from tests.study import browser_steps as bot


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_failing_the_headphone_screen_ends_politely_with_a_screen_out_code(page):
    study = bot.tiny_study("bot-screen")
    participant = bot.start(page, study, recruiter_id="screen-bot")
    bot.consent(page)
    bot.background(page)
    page.wait_for_url(re.compile(r"/screen/$"))
    with page.expect_response(re.compile(r"/screen/1\.wav$")) as sound:
        page.get_by_role("button", name="Play trial 1").click()
    assert sound.value.status in (200, 206)
    bot.screen(page, participant, correct=False)
    page.wait_for_url(re.compile(r"/end/$"))
    participant = Participant.objects.get(pk=participant.pk)
    assert participant.state == Participant.State.SCREENED_OUT
    assert participant.screening_passed is False
    assert sum(response["correct"] for response in participant.screening) == 0
    assert page.locator("#screen-out-code").inner_text() == flow.screen_out_code(participant)
    assert not participant.trials.exists()
