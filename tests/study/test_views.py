import io

import pytest
import soundfile as sf
from django.urls import reverse

from study import flow, huggins, services, views
from study.models import ConsentRecord, Participant, PlaybackEvent, Rating, Trial
from tests.factories import ConsentDocumentFactory, good_ratings, study_with_items

State = Participant.State
BACKGROUND = {
    "role": "mixing_engineer",
    "years_mixing": "6",
    "daw": "reaper",
    "genres": ["pop", "rock"],
    "hearing_issues": "no",
}


def _start(client, study, **params):
    response = client.post(reverse("study:start", args=[study.slug]), params)
    assert response.status_code == 302
    return Participant.objects.get(code=client.session[views.SESSION_KEY])


def _url(name, participant):
    return reverse(f"study:{name}", args=[participant.code])


def _consent(client, participant):
    return client.post(_url("consent", participant), {"statement_1": "on", "statement_2": "on"})


def _screen(client, participant, *, correct=True):
    key = huggins.answer_key(flow.screen_seed(participant), flow.screen_config(participant.study))
    answers = key if correct else [k % 3 + 1 for k in key]
    return client.post(_url("screen", participant), {f"trial_{i}": a for i, a in enumerate(answers, 1)})


def _through_screen(client, study):
    participant = _start(client, study)
    _consent(client, participant)
    client.post(_url("background", participant), BACKGROUND)
    _screen(client, participant)
    participant.refresh_from_db()
    return participant


def test_the_platform_landing_page_links_to_the_open_studies(client, study):
    study_with_items(slug="draft-study", status="draft", scenarios=1)
    html = client.get("/").content.decode()
    assert reverse("study:index") in html
    listing = client.get(reverse("study:index")).content.decode()
    assert reverse("study:landing", args=[study.slug]) in listing
    assert "draft-study" not in listing


def test_starting_sets_the_session_and_lands_on_consent_storing_only_the_code_and_ids(client, study):
    response = client.post(reverse("study:start", args=[study.slug]), {"PROLIFIC_PID": "pid-1", "junk": "x"})
    participant = Participant.objects.get()
    assert response.url == _url("consent", participant)
    assert client.session[views.SESSION_KEY] == participant.code
    assert participant.external_ids == {"PROLIFIC_PID": "pid-1"}
    assert participant.state == State.STARTED and not participant.background


def test_the_landing_page_carries_the_recruiter_parameters_into_the_start_form(client, study):
    html = client.get(
        reverse("study:landing", args=[study.slug]), {"PROLIFIC_PID": "abc", "other": "not-a-recruiter-id"}
    )
    content = html.content.decode()
    assert 'name="PROLIFIC_PID" value="abc"' in content
    assert 'name="other"' not in content
    assert "not-a-recruiter-id" not in content


def test_a_second_start_in_the_same_browser_resumes_instead_of_starting_again(client, study):
    first = _start(client, study)
    _consent(client, first)
    response = client.post(reverse("study:start", args=[study.slug]))
    assert response.url == _url("background", first)
    assert client.get(reverse("study:landing", args=[study.slug])).url == _url("background", first)
    assert Participant.objects.count() == 1


def test_a_reused_recruiter_id_in_another_browser_gets_the_same_session(client, study):
    from django.test import Client

    first = _start(client, study, PROLIFIC_PID="same")
    other = Client()
    second = _start(other, study, PROLIFIC_PID="same")
    assert first == second and Participant.objects.count() == 1


@pytest.mark.parametrize("name", ["background", "screen", "instructions", "trial", "closing", "debrief"])
def test_no_later_step_is_reachable_before_consent(client, study, name):
    participant = _start(client, study)
    response = client.get(_url(name, participant))
    assert response.status_code == 302 and response.url == _url("consent", participant)
    assert client.post(_url(name, participant), BACKGROUND).url == _url("consent", participant)
    participant.refresh_from_db()
    assert participant.state == State.STARTED and participant.background == {}


def test_the_trials_are_unreachable_until_the_screen_is_passed(client, study):
    participant = _start(client, study)
    _consent(client, participant)
    client.post(_url("background", participant), BACKGROUND)
    assert client.get(_url("trial", participant)).url == _url("screen", participant)
    assert client.get(_url("instructions", participant)).url == _url("screen", participant)
    assert not Trial.objects.exists()


def test_a_participant_url_in_another_browser_session_is_404(client, study):
    from django.test import Client

    participant = _start(client, study)
    stranger = Client()
    for name in ("participant", "consent", "consent_download", "withdraw", "ending"):
        assert stranger.get(_url(name, participant)).status_code == 404


def test_the_consent_page_renders_markdown_escapes_raw_html_and_offers_the_exact_copy(client, study):
    study.consent_documents.all().delete()
    ConsentDocumentFactory(
        study=study,
        text="# About the study\n\n**Bold** words.\n\n<script>alert(1)</script>",
        statements=["I am 18 or older.", "I agree."],
        irb_protocol_number="IRB-2026-042",
        sha256="a" * 64,
    )
    participant = _start(client, study)
    html = client.get(_url("consent", participant)).content.decode()
    assert "<h1>About the study</h1>" in html and "<strong>Bold</strong>" in html
    assert "<script>alert(1)</script>" not in html
    assert 'type="checkbox"' in html and "I am 18 or older." in html
    download = client.get(_url("consent_download", participant))
    text = download.content.decode()
    assert download["Content-Disposition"].startswith("attachment;")
    assert "a" * 64 in text and "IRB-2026-042" in text and "**Bold** words." in text
    assert download["X-Consent-SHA256"] == "a" * 64


def test_consent_without_every_box_ticked_stores_nothing(client, study):
    participant = _start(client, study)
    response = client.post(_url("consent", participant), {"statement_1": "on"})
    assert response.status_code == 200
    assert "Please tick this statement" in response.content.decode()
    participant.refresh_from_db()
    assert participant.state == State.STARTED and not ConsentRecord.objects.exists()


def test_consent_records_the_ticked_statements_and_moves_on(client, study):
    participant = _start(client, study)
    response = _consent(client, participant)
    assert response.url == _url("background", participant)
    record = ConsentRecord.objects.get(participant=participant)
    assert record.answers == {"I am 18 or older.": True, "I agree to take part.": True}


def test_declining_ends_politely_and_drops_the_recruiter_id(client, study):
    participant = _start(client, study, PROLIFIC_PID="pid-9")
    response = client.post(_url("consent_decline", participant))
    assert response.url == _url("ending", participant)
    participant.refresh_from_db()
    assert participant.state == State.DECLINED and participant.recruiter_id == ""
    assert "You have left the study" in client.get(_url("ending", participant)).content.decode()
    assert client.get(_url("background", participant)).url == _url("ending", participant)


def test_an_ineligible_background_ends_politely(client, study):
    participant = _start(client, study)
    _consent(client, participant)
    response = client.post(_url("background", participant), {**BACKGROUND, "years_mixing": "0"})
    assert response.url == _url("ending", participant)
    assert "do not match" in client.get(response.url).content.decode()


def test_an_incomplete_background_is_shown_again_with_errors(client, study):
    participant = _start(client, study)
    _consent(client, participant)
    response = client.post(_url("background", participant), {"role": "producer"})
    assert response.status_code == 200 and "This field is required" in response.content.decode()
    participant.refresh_from_db()
    assert participant.eligible is None


def test_the_screen_serves_a_stereo_wav_per_trial_and_a_volume_check(client, study):
    participant = _start(client, study)
    _consent(client, participant)
    client.post(_url("background", participant), BACKGROUND)
    page = client.get(_url("screen", participant)).content.decode()
    for number in range(0, 7):
        url = reverse("study:screen_audio", args=[participant.code, number])
        assert url in page
        response = client.get(url)
        audio, rate = sf.read(io.BytesIO(b"".join(response.streaming_content)))
        assert rate == huggins.SAMPLE_RATE and audio.shape[1] == 2
    assert client.get(reverse("study:screen_audio", args=[participant.code, 7])).status_code == 404


def test_failing_the_screen_ends_with_a_screen_out_code(client, study):
    participant = _start(client, study)
    _consent(client, participant)
    client.post(_url("background", participant), BACKGROUND)
    response = _screen(client, participant, correct=False)
    participant.refresh_from_db()
    assert participant.state == State.SCREENED_OUT and participant.screening_passed is False
    page = client.get(response.url).content.decode()
    assert flow.screen_out_code(participant) in page
    assert client.get(reverse("study:screen_audio", args=[participant.code, 1])).status_code == 404


def test_passing_the_screen_then_the_instructions_assign_the_trials_starting_with_practice(client, study):
    participant = _through_screen(client, study)
    assert participant.state == State.SCREENED
    response = client.post(_url("instructions", participant))
    assert response.url == _url("trial", participant)
    first = participant.trials.order_by("position").first()
    assert first.is_practice
    page = client.get(_url("trial", participant)).content.decode()
    assert "Practice trial" in page and first.item.text in page
    assert 'id="trial-config"' in page


def test_the_trial_page_shows_progress_the_anchor_and_five_required_scales(client, study):
    participant = _through_screen(client, study)
    client.post(_url("instructions", participant))
    practice = participant.trials.order_by("position").first()
    services.trial_submit(trial=practice, ratings=good_ratings(), feedback="", listened_seconds=9.0)
    page = client.get(_url("trial", participant)).content.decode()
    rated = participant.trials.filter(is_practice=False).count()
    assert f"Trial 1 of {rated}" in page
    assert "Anchor stem" in page and "vocals" in page
    assert page.count('type="radio"') == 25
    assert "How well does the advice address the mixing problem?" in page
    assert "Does not address the problem" in page and "Fully addresses the problem" in page


def test_closing_completes_and_the_debrief_links_to_the_recruiter_with_the_code(client, study):
    study.completion_url = "https://recruiter.example/done?cc={code}"
    study.save()
    participant = _through_screen(client, study)
    client.post(_url("instructions", participant))
    for trial in participant.trials.order_by("position"):
        ratings = good_ratings(trial.instructed_response or 4)
        services.trial_submit(trial=trial, ratings=ratings, feedback="", listened_seconds=9.0)
    assert client.get(_url("participant", participant)).url == _url("closing", participant)
    response = client.post(
        _url("closing", participant), {"workflow_fit": "As a second opinion.", "trust": "4"}
    )
    assert response.url == _url("debrief", participant)
    participant.refresh_from_db()
    assert participant.state == State.COMPLETED and participant.closing["trust"] == 4
    page = client.get(response.url).content.decode()
    assert participant.completion_code in page
    assert f"https://recruiter.example/done?cc={participant.completion_code}" in page


def test_a_missing_required_closing_answer_is_asked_again(client, participant):
    session = client.session
    session[views.SESSION_KEY] = participant.code
    session.save()
    for trial in participant.trials.order_by("position"):
        services.trial_submit(
            trial=trial,
            ratings=good_ratings(trial.instructed_response or 4),
            feedback="",
            listened_seconds=9.0,
        )
    response = client.post(_url("closing", participant), {"trust": "4"})
    assert response.status_code == 200 and "This field is required" in response.content.decode()
    participant.refresh_from_db()
    assert participant.state == State.IN_TRIALS


def test_withdrawing_asks_first_then_deletes_ratings_events_and_answers(client, participant):
    session = client.session
    session[views.SESSION_KEY] = participant.code
    session.save()
    trial = participant.trials.order_by("position").first()
    services.trial_submit(trial=trial, ratings=good_ratings(), feedback="meh", listened_seconds=9.0)
    services.playback_events_record(
        trial=trial, events=[{"kind": "play", "state": "as_given", "audio_time": 0, "client_time": 5}]
    )
    confirm = client.get(_url("withdraw", participant))
    assert "will be deleted" in confirm.content.decode()
    assert Rating.objects.exists()
    response = client.post(_url("withdraw", participant))
    assert "You have withdrawn" in response.content.decode()
    participant.refresh_from_db()
    assert participant.state == State.WITHDRAWN and participant.background == {}
    assert not Rating.objects.exists() and not PlaybackEvent.objects.exists() and not Trial.objects.exists()
    assert client.get(_url("trial", participant)).status_code == 404


def test_an_ineligible_participant_can_still_withdraw_and_their_answers_are_deleted(client, study):
    participant = _start(client, study)
    _consent(client, participant)
    response = client.post(_url("background", participant), {**BACKGROUND, "years_mixing": "0"})
    assert _url("withdraw", participant) in client.get(response.url).content.decode()
    client.post(_url("withdraw", participant))
    participant.refresh_from_db()
    assert participant.state == State.WITHDRAWN and participant.background == {}


def test_a_participant_who_declined_has_nothing_to_withdraw(client, study):
    participant = _start(client, study)
    client.post(_url("consent_decline", participant))
    assert _url("withdraw", participant) not in client.get(_url("ending", participant)).content.decode()
    assert client.post(_url("withdraw", participant)).status_code == 302
    participant.refresh_from_db()
    assert participant.state == State.DECLINED


def test_every_participant_page_has_the_withdraw_link(client, study):
    participant = _start(client, study)
    link = _url("withdraw", participant)
    assert link in client.get(_url("consent", participant)).content.decode()
    _consent(client, participant)
    assert link in client.get(_url("background", participant)).content.decode()


def test_starting_sessions_is_rate_limited_per_address(client, study, settings):
    from django.core.cache import cache
    from django.test import Client

    cache.clear()
    settings.MIXADVICE_SESSION_START_RATE = "2/hour"
    for _ in range(2):
        assert Client().post(reverse("study:start", args=[study.slug])).status_code == 302
    assert Client().post(reverse("study:start", args=[study.slug])).status_code == 429
    cache.clear()


def test_a_closed_study_cannot_be_started(client, study):
    study.status = "closed"
    study.save()
    response = client.post(reverse("study:start", args=[study.slug]))
    assert response.status_code == 400 and not Participant.objects.exists()


def test_staff_preview_walks_every_page_and_stores_nothing(client, study, researcher):
    client.force_login(researcher)
    before = (Participant.objects.count(), ConsentRecord.objects.count())
    for step in flow.JOURNEY:
        response = client.get(reverse("study:preview_step", args=[study.slug, step.name]))
        assert response.status_code == 200, step.name
        assert "Preview — nothing is stored" in response.content.decode()
        assert client.post(reverse("study:preview_step", args=[study.slug, step.name])).status_code == 302
    assert (Participant.objects.count(), ConsentRecord.objects.count()) == before


def test_the_preview_is_for_staff_only(client, study, outsider):
    url = reverse("study:preview", args=[study.slug])
    assert client.get(url).status_code == 302
    client.force_login(outsider)
    assert client.get(url).status_code == 302
