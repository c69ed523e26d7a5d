"""Security and privacy of the study API: own data only, consent first, CSRF, size and rate limits."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import override_settings
from django.urls import reverse
from rest_framework.test import APIClient

from study import services
from study.models import Participant, Rating
from study.permissions import SESSION_KEY, session_start_allowed
from tests.factories import good_ratings, participant_in_trials
from tests.study.test_apis import participant_client

BODY = {"ratings": good_ratings(), "feedback": "", "listened_seconds": 30.0}


def _urls(participant, trial):
    kwargs = {"code": participant.code, "trial_id": trial.pk}
    return {
        name: reverse(f"api:{name}", kwargs=kwargs)
        for name in ("trial-state", "trial-submit", "trial-events")
    }


def _call(client, name, url):
    if name == "trial-state":
        return client.get(url)
    body = BODY if name == "trial-submit" else {"events": []}
    return client.post(url, body, format="json")


@pytest.fixture
def other(study):
    return participant_in_trials(study, external_ids={"PROLIFIC_PID": "other-pid"})


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["trial-state", "trial-submit", "trial-events"])
def test_another_participants_trial_is_404(participant, other, name):
    foreign = other.trials.get(position=1)
    client = participant_client(participant)
    kwargs = {"code": participant.code, "trial_id": foreign.pk}
    assert _call(client, name, reverse(f"api:{name}", kwargs=kwargs)).status_code == 404
    assert not Rating.objects.filter(trial=foreign).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["trial-state", "trial-submit", "trial-events"])
def test_someone_elses_code_in_the_url_is_404_even_with_a_valid_session(participant, other, name):
    trial = other.trials.get(position=1)
    assert _call(participant_client(participant), name, _urls(other, trial)[name]).status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["trial-state", "trial-submit", "trial-events"])
def test_a_code_without_its_session_is_404(participant, name):
    trial = participant.trials.get(position=1)
    assert _call(APIClient(), name, _urls(participant, trial)[name]).status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["trial-state", "trial-submit", "trial-events"])
def test_a_withdrawn_participant_is_404(participant, name):
    trial = participant.trials.get(position=1)
    urls = _urls(participant, trial)
    services.participant_withdraw(participant=participant)
    assert _call(participant_client(participant), name, urls[name]).status_code == 404


@pytest.mark.django_db
def test_nothing_is_stored_for_a_participant_who_has_not_consented(study, participant):
    trial = participant.trials.get(position=1)
    Participant.objects.filter(pk=participant.pk).update(consented_at=None)
    response = participant_client(participant).post(
        _urls(participant, trial)["trial-submit"], BODY, format="json"
    )
    assert response.status_code == 404
    assert not Rating.objects.exists()


@pytest.mark.django_db
def test_posts_without_the_csrf_token_are_refused(participant):
    trial = participant.trials.get(position=1)
    client = APIClient(enforce_csrf_checks=True)
    session = client.session
    session[SESSION_KEY] = participant.code
    session.save()
    response = client.post(_urls(participant, trial)["trial-submit"], BODY, format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert not Rating.objects.exists()


@pytest.mark.django_db
def test_an_oversized_body_is_refused_with_413(participant):
    trial = participant.trials.get(position=1)
    body = {**BODY, "feedback": "x" * 40_000}
    response = participant_client(participant).post(
        _urls(participant, trial)["trial-submit"], body, format="json"
    )
    assert response.status_code == 413
    assert "at most" in response.json()["detail"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name", ["api:study-status", "api:study-ratings", "api:study-ratings-json", "api:study-events"]
)
def test_researcher_endpoints_refuse_participants_anonymous_and_non_staff(participant, outsider, name):
    url = reverse(name, args=[participant.study.slug])
    assert participant_client(participant).get(url).status_code == 403
    assert APIClient().get(url).status_code == 403
    client = APIClient()
    client.force_login(outsider)
    assert client.get(url).status_code == 403


@pytest.mark.django_db
def test_exports_carry_no_direct_identifiers(client, researcher, participant):
    trial = participant.trials.get(position=1)
    participant_client(participant).post(_urls(participant, trial)["trial-submit"], BODY, format="json")
    client.force_login(researcher)
    slug = participant.study.slug
    for name in ("api:study-ratings", "api:study-ratings-json", "api:study-events"):
        text = client.get(reverse(name, args=[slug])).content.decode()
        assert participant.code not in text
        assert "persona-pid" not in text
    assert participant.pseudonym in client.get(reverse("api:study-ratings", args=[slug])).content.decode()


@pytest.mark.django_db
@override_settings(MIXADVICE_SESSION_START_RATE="3/hour")
def test_starting_sessions_is_rate_limited_per_client(rf):
    from django.core.cache import cache

    cache.clear()
    request = rf.get("/", REMOTE_ADDR="203.0.113.9")
    request.user = AnonymousUser()
    assert [session_start_allowed(request) for _ in range(4)] == [True, True, True, False]
    other = rf.get("/", REMOTE_ADDR="203.0.113.10")
    other.user = request.user
    assert session_start_allowed(other)
    cache.clear()
