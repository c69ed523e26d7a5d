"""The researcher dashboard: staff only; states, completion, balance, flags, download links."""

import pytest
from django.urls import reverse

from study import services
from tests.factories import good_ratings, participant_in_trials


def _finish(participant, instructed_score):
    for trial in participant.trials.order_by("position"):
        score = instructed_score if trial.instructed_response else 3
        services.trial_submit(trial=trial, ratings=good_ratings(score), feedback="", listened_seconds=10.0)
    services.participant_complete(participant=participant)


@pytest.mark.django_db
def test_dashboard_shows_states_completion_and_flagged_participants(client, researcher, study):
    careful, careless = participant_in_trials(study), participant_in_trials(study)
    participant_in_trials(study)
    _finish(careful, 2)
    _finish(careless, 5)
    client.force_login(researcher)
    response = client.get(reverse("study-dashboard", args=[study.slug]))
    assert response.status_code == 200
    assert response.context["completed"] == 2 and response.context["completion_rate"] == pytest.approx(2 / 3)
    flagged = [participant.pk for participant, _ in response.context["flagged"]]
    assert flagged == [careless.pk]
    page = response.content.decode()
    assert careless.pseudonym in page and careful.pseudonym not in page
    assert reverse("api:study-ratings", args=[study.slug]) in page


@pytest.mark.django_db
def test_dashboard_sends_everyone_else_to_the_login(client, outsider, study):
    url = reverse("study-dashboard", args=[study.slug])
    assert client.get(url).status_code == 302
    client.force_login(outsider)
    assert client.get(url).status_code == 302
