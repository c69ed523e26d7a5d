"""The trial page never loses a rating: failed fetches and saves are retried, and said so plainly."""

import re

import pytest

from study.models import Rating
from tests.study import browser_steps as bot


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_failed_stem_fetch_is_retried_and_a_failed_save_keeps_the_page_until_the_server_confirms(page):
    study = bot.tiny_study("bot-saving")
    page.add_init_script("window.mixadviceSaveDelaysMs = [100, 100, 100];")
    stem_requests = []

    def flaky_stems(route):
        stem_requests.append(route.request.url)
        if stem_requests.count(route.request.url) == 1:
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route(re.compile(r"/trials/\d+/stems/\w+/$"), flaky_stems)
    participant = bot.to_trials(page, study, recruiter_id="saving-bot")
    bot.listen(page)
    assert len(stem_requests) == 8 and len(set(stem_requests)) == 4

    submits = {"blocked": True, "seen": 0}

    def flaky_submit(route):
        submits["seen"] += 1
        if submits["blocked"]:
            route.abort("internetdisconnected")
        else:
            route.continue_()

    page.route(re.compile(r"/submit/$"), flaky_submit)
    for fieldset in page.locator("fieldset[data-dimension]").all():
        fieldset.locator("input[value='3']").check()
    trial_url = page.url
    page.get_by_role("button", name="Save and continue").click()
    status = page.locator("#save-status")
    status.filter(has_text="could not be saved").wait_for()
    assert "Do not close this page" in status.inner_text()
    assert submits["seen"] == 4, "one try and three retries"
    assert page.url == trial_url
    assert not Rating.objects.filter(trial__participant=participant).exists()
    assert page.locator("fieldset[data-dimension] input[value='3']:checked").count() == 5

    submits["blocked"] = False
    with page.expect_navigation():
        page.get_by_role("button", name="Save and continue").click()
    assert Rating.objects.filter(trial__participant=participant).count() == 5
    assert page.locator("#trial-progress").inner_text().startswith("Trial 1 of")
