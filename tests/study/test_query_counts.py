"""The participant hot path's database round trips stay few and do not grow with the session.

Each request reads the session, then the trial with its participant and study in one query.
The counts include the test transaction's SAVEPOINT/RELEASE around each service's atomic block
(on a real server those are BEGIN/COMMIT, which Django does not count). Speed itself is measured
in ``benchmarks/study_load.py``.
"""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from study import services
from study.models import PlaybackEvent, Rating
from study.permissions import SESSION_KEY
from tests.factories import good_ratings, participant_in_trials

EVENT = {"kind": "play", "state": "as_given", "audio_time": 0.0, "client_time": 120.0, "detail": {}}
STATE_QUERIES = 2  # session, trial + participant + study + item + scenario + progress
SUBMIT_QUERIES = 7  # session, trial + participant + study + next trial, savepoint, gated update, ratings, feedback, release
EVENTS_QUERIES = (
    7  # session, trial + participant + study, savepoint, consent exists, events, trial started, release
)
PAGE_QUERIES = 5  # session, participant, the flow's guard, the trial list, the trial with item


def _client(participant):
    client = APIClient()
    session = client.session
    session[SESSION_KEY] = participant.code
    session.save()
    return client


def _url(name, participant, trial):
    return reverse(f"api:{name}", kwargs={"code": participant.code, "trial_id": trial.pk})


def _submit_body():
    return {"ratings": good_ratings(), "feedback": "Clear.", "listened_seconds": 30.0}


@pytest.fixture
def client(participant):
    return _client(participant)


@pytest.fixture
def trial(participant):
    return participant.trials.get(position=1)


@pytest.mark.django_db
def test_trial_state_is_the_session_and_one_query(client, participant, trial, django_assert_num_queries):
    with django_assert_num_queries(STATE_QUERIES):
        response = client.get(_url("trial-state", participant, trial))
    assert response.status_code == 200
    assert (response.json()["submitted"], response.json()["total"]) == (0, 6)


@pytest.mark.django_db
def test_trial_state_of_a_submitted_trial_adds_only_its_saved_answers(
    client, participant, trial, django_assert_num_queries
):
    client.post(_url("trial-submit", participant, trial), _submit_body(), format="json")
    with django_assert_num_queries(STATE_QUERIES + 2):
        state = client.get(_url("trial-state", participant, trial)).json()
    assert state["saved"] == {"ratings": good_ratings(), "feedback": "Clear."}
    assert state["submitted"] == 1


@pytest.mark.django_db
def test_submit_is_one_gated_update_and_two_inserts(client, participant, trial, django_assert_num_queries):
    with django_assert_num_queries(SUBMIT_QUERIES):
        response = client.post(_url("trial-submit", participant, trial), _submit_body(), format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["next_trial"] == participant.trials.get(position=0).pk
    assert Rating.objects.filter(trial=trial).count() == 5


@pytest.mark.django_db
def test_submit_costs_the_same_late_in_a_long_session(study, django_assert_num_queries):
    participant = participant_in_trials(study)
    trials = list(participant.trials.order_by("position"))
    for earlier in trials[:-1]:
        services.trial_submit(trial=earlier, ratings=good_ratings(), feedback="", listened_seconds=30.0)
    client = _client(participant)
    with django_assert_num_queries(SUBMIT_QUERIES):
        response = client.post(_url("trial-submit", participant, trials[-1]), _submit_body(), format="json")
    assert response.json()["next_trial"] is None


@pytest.mark.django_db
def test_a_retried_submit_reads_and_writes_nothing_new(
    client, participant, trial, django_assert_max_num_queries
):
    client.post(_url("trial-submit", participant, trial), _submit_body(), format="json")
    with django_assert_max_num_queries(SUBMIT_QUERIES - 1):
        response = client.post(_url("trial-submit", participant, trial), _submit_body(), format="json")
    assert response.status_code == 200
    assert Rating.objects.filter(trial=trial).count() == 5


@pytest.mark.django_db
def test_an_event_batch_of_a_hundred_is_one_insert(client, participant, trial, django_assert_num_queries):
    with django_assert_num_queries(EVENTS_QUERIES):
        response = client.post(
            _url("trial-events", participant, trial), {"events": [EVENT] * 100}, format="json"
        )
    assert response.status_code == 201
    assert PlaybackEvent.objects.filter(trial=trial).count() == 100


@pytest.mark.django_db
def test_the_trial_page_reads_the_trial_list_once(participant, django_assert_num_queries):
    client = _client(participant)
    with django_assert_num_queries(PAGE_QUERIES):
        response = client.get(reverse("study:trial", args=[participant.code]))
    assert response.status_code == 200
    assert response.context["trial_state"]["trial"] == participant.trials.get(position=0).pk


@pytest.mark.django_db
def test_another_participants_trial_is_a_404_in_the_same_single_query(
    client, participant, study, django_assert_num_queries
):
    other = participant_in_trials(study).trials.get(position=1)
    with django_assert_num_queries(2):
        assert client.get(_url("trial-state", participant, other)).status_code == 404
    with django_assert_num_queries(2):
        assert (
            client.post(_url("trial-submit", participant, other), _submit_body(), format="json").status_code
            == 404
        )
    assert not Rating.objects.filter(trial=other).exists()
