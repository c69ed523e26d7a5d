"""Bot 4: a participant rates, then withdraws; their data leaves the database and the exports."""

import re

import pytest

from study import selectors
from study.models import Feedback, Participant, PlaybackEvent, Rating, Trial
from tests.study import browser_steps as bot


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_withdrawing_deletes_the_participants_ratings_events_and_export_rows(page):
    study = bot.tiny_study("bot-withdraw")
    participant = bot.to_trials(page, study, recruiter_id="withdraw-bot")
    bot.listen(page)
    bot.rate_and_save(page)
    while page.url.endswith("/trial/") and not selectors.ratings_for_export(study):
        bot.listen(page)
        bot.rate_and_save(page)
    pseudonym = Participant.objects.get(pk=participant.pk).pseudonym
    assert {row["participant"] for row in selectors.ratings_for_export(study)} == {pseudonym}
    assert PlaybackEvent.objects.filter(trial__participant=participant).exists()

    page.get_by_role("link", name="Withdraw from the study").click()
    page.wait_for_url(re.compile(r"/withdraw/$"))
    page.get_by_role("button", name=re.compile("Yes, withdraw")).click()
    page.get_by_role("heading", name="You have withdrawn").wait_for()

    participant = Participant.objects.get(pk=participant.pk)
    assert participant.state == Participant.State.WITHDRAWN and participant.withdrawn_at
    assert participant.background == {} and participant.recruiter_id == ""
    for model in (Trial, Rating, Feedback, PlaybackEvent):
        field = "participant" if model is Trial else "trial__participant"
        assert not model.objects.filter(**{field: participant}).exists(), model.__name__
    assert selectors.ratings_for_export(study) == []
    assert selectors.playback_events_for_export(study) == []
    assert page.goto(f"/study/p/{participant.code}/trial/").status == 404
