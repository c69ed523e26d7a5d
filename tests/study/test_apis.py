"""The REST API: trial state, idempotent submit, event batches, researcher status and exports."""

import csv
import io
import json

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from study.models import PlaybackEvent, Rating
from study.permissions import SESSION_KEY
from tests.factories import good_ratings

EVENT = {"kind": "play", "state": "as_given", "audio_time": 0.0, "client_time": 120.0, "detail": {}}


def participant_client(participant):
    client = APIClient()
    session = client.session
    session[SESSION_KEY] = participant.code
    session.save()
    return client


def _url(name, participant, trial):
    return reverse(f"api:{name}", kwargs={"code": participant.code, "trial_id": trial.pk})


def _body(**overrides):
    return {"ratings": good_ratings(), "feedback": "Clear.", "listened_seconds": 30.0, **overrides}


@pytest.fixture
def trial(participant):
    return participant.trials.get(position=1)


@pytest.mark.django_db
def test_trial_state_gives_stems_and_loudness_matched_states_without_the_system(participant, trial):
    response = participant_client(participant).get(_url("trial-state", participant, trial))
    assert response.status_code == 200
    state = response.json()
    assert state["trial"] == trial.pk and state["total"] == 6
    assert [stem["name"] for stem in state["stems"]] == ["vocals", "drums", "bass", "other"]
    assert state["stems"][0]["url"].endswith(f"/trials/{trial.pk}/stems/vocals/")
    gains = {name: value["gains_db"] for name, value in state["states"].items()}
    scenario = trial.item.scenario
    assert gains["as_given"]["drums"] == scenario.gains_db["drums"]
    assert gains["advice_applied"]["drums"] == scenario.gains_db["drums"] + trial.item.corrections_db["drums"]
    assert set(gains["reference"].values()) == {0.0}
    assert state["states"]["as_given"]["master_db"] == trial.item.master_gain_db["as_given"]
    assert trial.item.system not in json.dumps(state)
    assert state["saved"] is None


@pytest.mark.django_db
def test_submit_saves_five_ratings_and_names_the_next_trial(participant, trial):
    response = participant_client(participant).post(
        _url("trial-submit", participant, trial), _body(), format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json() == {
        "trial": trial.pk,
        "state": "submitted",
        "next_trial": participant.trials.get(position=0).pk,
    }
    assert Rating.objects.filter(trial=trial).count() == 5


@pytest.mark.django_db
def test_a_retried_submit_answers_200_and_stores_nothing_new(participant, trial):
    client = participant_client(participant)
    for _ in range(3):
        assert (
            client.post(_url("trial-submit", participant, trial), _body(), format="json").status_code == 200
        )
    assert Rating.objects.filter(trial=trial).count() == 5
    state = client.get(_url("trial-state", participant, trial)).json()
    assert state["saved"] == {"ratings": good_ratings(), "feedback": "Clear."}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            _body(ratings={**good_ratings(), "effectiveness": 6}),
            "effectiveness: score 6 is outside the scale 1–5",
        ),
        (_body(ratings={**good_ratings(), "effectiveness": 0}), "outside the scale 1–5"),
        (_body(ratings={**good_ratings(), "effectiveness": "4"}), "outside the scale 1–5"),
        (_body(ratings={**good_ratings(), "loudness": 3}), "unknown dimension(s) ['loudness']"),
        (_body(ratings={"effectiveness": 3}), "missing a score for"),
        (_body(ratings=[1, 2, 3]), "ratings"),
        (_body(listened_seconds=2), "rating needs at least 5 s"),
        (_body(listened_seconds=-1), "listened_seconds"),
        ({"feedback": "x"}, "ratings: This field is required"),
    ],
)
def test_bad_submissions_answer_400_saying_what_is_wrong(participant, trial, body, message):
    response = participant_client(participant).post(
        _url("trial-submit", participant, trial), body, format="json"
    )
    assert response.status_code == 400
    assert message in response.json()["detail"]
    assert not Rating.objects.filter(trial=trial).exists()


@pytest.mark.django_db
def test_missing_required_free_text_answers_400(participant, trial):
    participant.study.free_text_required = True
    participant.study.save()
    response = participant_client(participant).post(
        _url("trial-submit", participant, trial), _body(feedback="  "), format="json"
    )
    assert response.status_code == 400
    assert "a written comment is required" in response.json()["detail"]


@pytest.mark.django_db
def test_a_body_that_is_not_json_object_answers_400(participant, trial):
    client = participant_client(participant)
    response = client.post(
        _url("trial-submit", participant, trial), "[1, 2]", content_type="application/json"
    )
    assert response.status_code == 400
    response = client.post(
        _url("trial-submit", participant, trial), "{not json", content_type="application/json"
    )
    assert response.status_code == 400


@pytest.mark.django_db
def test_events_are_stored_in_batches(participant, trial):
    response = participant_client(participant).post(
        _url("trial-events", participant, trial),
        {"events": [EVENT, {**EVENT, "kind": "state_switch"}]},
        format="json",
    )
    assert response.status_code == 201 and response.json() == {"stored": 2}
    assert PlaybackEvent.objects.filter(trial=trial).count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({**EVENT, "kind": "explode"}, "events[0].kind"),
        ({**EVENT, "state": "louder"}, "events[0].state"),
        ({**EVENT, "audio_time": -1}, "events[0].audio_time"),
        (
            {key: value for key, value in EVENT.items() if key != "kind"},
            "events: 0: kind: This field is required",
        ),
    ],
)
def test_bad_events_answer_400_and_store_nothing(participant, trial, event, message):
    response = participant_client(participant).post(
        _url("trial-events", participant, trial), {"events": [event]}, format="json"
    )
    assert response.status_code == 400
    assert message in response.json()["detail"]
    assert not PlaybackEvent.objects.exists()


@pytest.mark.django_db
def test_researcher_sees_study_status(client, researcher, participant):
    client.force_login(researcher)
    response = client.get(reverse("api:study-status", args=[participant.study.slug]))
    assert response.status_code == 200
    assert response.json()["participants_by_state"]["in_trials"] == 1
    assert response.json()["items"] == 30


@pytest.mark.django_db
def test_researcher_downloads_ratings_csv_and_json_and_events(client, researcher, participant, trial):
    participant_client(participant).post(_url("trial-submit", participant, trial), _body(), format="json")
    participant_client(participant).post(
        _url("trial-events", participant, trial), {"events": [EVENT]}, format="json"
    )
    client.force_login(researcher)
    slug = participant.study.slug
    rows = list(
        csv.DictReader(io.StringIO(client.get(reverse("api:study-ratings", args=[slug])).content.decode()))
    )
    assert len(rows) == 5 and rows[0]["participant"] == participant.pseudonym
    document = client.get(reverse("api:study-ratings-json", args=[slug])).json()
    assert len(document["ratings"]) == 5
    events = client.get(reverse("api:study-events", args=[slug])).content.decode()
    assert "play" in events and participant.code not in events


@pytest.mark.django_db
def test_schema_lists_the_study_endpoints(client):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    schema = response.content.decode()
    for operation in (
        "trial_state",
        "trial_submit",
        "trial_events",
        "study_status",
        "study_ratings",
        "study_events",
    ):
        assert operation in schema


@pytest.mark.django_db
def test_the_schema_validates_without_warnings(tmp_path):
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))
    assert "trial_submit" in (tmp_path / "schema.yml").read_text()
