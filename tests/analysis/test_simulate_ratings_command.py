"""simulate_ratings: flagged participants through the study's own services, out of real exports."""

import pytest
from django.core.management import CommandError, call_command

from study.models import Participant, Rating
from study.selectors import ratings_for_export
from tests.factories import study_with_items

pytestmark = pytest.mark.django_db


@pytest.fixture
def study():
    return study_with_items(scenarios=10, trials_per_participant=6)


def test_simulated_participants_complete_the_study_and_are_flagged(study, capsys):
    call_command("simulate_ratings", study=study.slug, participants=4, seed=2)
    participants = Participant.objects.filter(study=study)
    assert participants.count() == 4
    assert all(p.simulated and p.state == Participant.State.COMPLETED for p in participants)
    rated = ratings_for_export(study, include_simulated=True)
    assert len(rated) == 4 * 6 * 5
    assert all(row["simulated"] for row in rated)
    assert "added 4 simulated participants with 120 ratings" in capsys.readouterr().out


def test_simulated_ratings_stay_out_of_real_exports(study):
    call_command("simulate_ratings", study=study.slug, participants=2, seed=1)
    assert ratings_for_export(study) == []


def test_sham_advice_is_rated_lower_than_ideal_advice(study):
    call_command("simulate_ratings", study=study.slug, participants=25, seed=5)
    rows = ratings_for_export(study, include_simulated=True)
    mean = dict.fromkeys(("ideal", "sham"), 0.0)
    for system in mean:
        scores = [row["score"] for row in rows if row["system"] == system]
        mean[system] = sum(scores) / len(scores)
    assert mean["ideal"] > mean["sham"] + 0.5


def test_the_instructed_attention_item_is_answered_as_instructed(study):
    call_command("simulate_ratings", study=study.slug, participants=1, seed=3)
    instructed = Rating.objects.filter(
        trial__participant__study=study, trial__instructed_response__isnull=False
    )
    assert instructed.exists()
    assert all(r.score == r.trial.instructed_response for r in instructed.select_related("trial"))


def test_unknown_study_is_a_clear_error():
    with pytest.raises(CommandError, match="no study 'missing'"):
        call_command("simulate_ratings", study="missing", participants=1)


def test_a_study_without_consent_is_refused():
    study = study_with_items(scenarios=2, consent=False)
    with pytest.raises(CommandError, match="consent"):
        call_command("simulate_ratings", study=study.slug, participants=1)


def test_up_to_adds_only_the_missing_simulated_participants(study, capsys):
    call_command("simulate_ratings", study=study.slug, participants=3, seed=4, up_to=True)
    call_command("simulate_ratings", study=study.slug, participants=3, seed=4, up_to=True)
    call_command("simulate_ratings", study=study.slug, participants=5, seed=4, up_to=True)
    assert Participant.objects.filter(study=study, simulated=True).count() == 5
    out = capsys.readouterr().out
    assert "already has 3 simulated participants; added none" in out
    assert "added 2 simulated participants" in out
