"""Bot 1: a participant walks from the platform's landing page to the completion code."""

import re

import pytest

from study.models import Participant, PlaybackEvent, Rating, Trial
from tests.study import browser_steps as bot


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_participant_completes_the_study_resuming_after_a_reload_with_stems_on_one_clock(page):
    study = bot.tiny_study("bot-journey")
    study.completion_url = "https://recruiter.example/complete?cc={code}"
    study.save()
    page.goto("/")
    page.get_by_role("link", name="Go to the listening study").click()
    page.get_by_role("link", name=study.title).click()
    participant = bot.start(page, study, recruiter_id="journey-bot")
    bot.consent(page)
    bot.background(page)
    bot.screen(page, participant)
    page.wait_for_url(re.compile(r"/instructions/$"))
    page.get_by_role("button", name="Start the practice trial").click()
    page.wait_for_url(re.compile(r"/trial/$"))
    assert page.locator("#trial-progress").inner_text() == "Practice trial"
    page.wait_for_function("window.mixadvicePlayer !== undefined")
    assert bot.snapshot(page)["contextState"] == "none", "no AudioContext before the first gesture"

    bot.listen(page)
    bot.rate_and_save(page)
    progress = page.locator("#trial-progress").inner_text()
    assert re.fullmatch(r"Trial 1 of 3", progress)
    advice = page.locator("#advice-text").inner_text()

    # Reload mid-trial: the same trial comes back, in the same order.
    page.reload()
    assert page.locator("#trial-progress").inner_text() == progress
    assert page.locator("#advice-text").inner_text() == advice

    bot.listen(page)
    started = bot.snapshot(page)
    stems = list(started["startWhens"])
    assert started["contextState"] == "running"
    assert len(stems) == 4 and started["sourceStarts"] == 4
    assert len(set(started["startWhens"].values())) == 1, "every stem starts at one clock time"

    page.get_by_role("button", name="Advice applied").click()
    # The switch ramps the gains over ~30 ms; wait for the ramp to end rather than a fixed time.
    page.wait_for_function(
        """() => {
            const s = window.mixadvicePlayer.snapshot();
            return s.state === "advice_applied"
                && Object.keys(s.gains).every((k) => Math.abs(s.gains[k] - s.targetGains[k]) < 1e-3)
                && Math.abs(s.masterGain - s.targetMaster) < 1e-3;
        }"""
    )
    switched = bot.snapshot(page)
    assert switched["state"] == "advice_applied"
    assert switched["sourceStarts"] == started["sourceStarts"], "switching must not restart playback"
    assert switched["startWhens"] == started["startWhens"]
    assert switched["currentTime"] > started["currentTime"]
    for stem in stems:
        assert switched["gains"][stem] == pytest.approx(switched["targetGains"][stem], abs=1e-3)
    assert switched["masterGain"] == pytest.approx(switched["targetMaster"], abs=1e-3)
    assert switched["masterGain"] != pytest.approx(started["masterGain"], abs=1e-3)

    page.get_by_role("button", name="Mute drums").click()
    page.wait_for_function("() => Math.abs(window.mixadvicePlayer.snapshot().gains.drums) < 1e-3")
    assert bot.snapshot(page)["gains"]["drums"] == pytest.approx(0.0, abs=1e-3)
    assert bot.snapshot(page)["sourceStarts"] == started["sourceStarts"]

    bot.rate_and_save(page)
    while page.url.endswith("/trial/"):
        bot.listen(page)
        bot.rate_and_save(page)

    page.wait_for_url(re.compile(r"/closing/$"))
    page.get_by_label("How would advice like this fit into your own mixing workflow?").fill(
        "A second opinion."
    )
    page.locator("input[name=trust][value='4']").check()
    page.get_by_role("button", name="Finish the study").click()
    page.wait_for_url(re.compile(r"/done/$"))

    participant = Participant.objects.get(pk=participant.pk)
    assert participant.state == Participant.State.COMPLETED
    assert page.locator("#completion-code").inner_text() == participant.completion_code
    link = page.get_by_role("link", name=re.compile("Return to the recruiter"))
    assert (
        link.get_attribute("href") == f"https://recruiter.example/complete?cc={participant.completion_code}"
    )
    trials = Trial.objects.filter(participant=participant)
    assert trials.count() == 4 and not trials.exclude(state=Trial.State.SUBMITTED).exists()
    assert Rating.objects.filter(trial__participant=participant).count() == 4 * 5
    kinds = set(PlaybackEvent.objects.filter(trial__participant=participant).values_list("kind", flat=True))
    assert {"play", "state_switch", "mute"} <= kinds
