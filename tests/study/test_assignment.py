"""Balanced assignment: least-filled first, no repeated scenario, balanced systems, stored order."""

from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from study import services
from study.assignment import INSTRUCTED_SCORE, item_loads
from study.models import AdviceItem, Participant, Trial
from tests.factories import participant_in_trials, study_with_items


def _rated(participant):
    return [t for t in participant.trials.select_related("item__scenario") if t.is_rated]


def _screened(study, n):
    """``n`` consented participants who passed the screen, created in one query."""
    now = timezone.now()
    return Participant.objects.bulk_create(
        [
            Participant(study=study, state=Participant.State.SCREENED, consented_at=now, assignment_seed=seed)
            for seed in range(n)
        ]
    )


@pytest.mark.slow
@pytest.mark.django_db
def test_thousand_participants_keep_item_counts_within_one_and_never_repeat_a_scenario():
    study = study_with_items(scenarios=12, trials_per_participant=8)
    for participant in _screened(study, 1000):
        trials = services.trials_assign(participant=participant)
        scenarios = [t.item.scenario_id for t in trials]
        assert len(scenarios) == len(set(scenarios)) == 10, "a scenario was repeated for one participant"
        systems = Counter(t.item.system for t in trials if t.is_rated)
        assert max(systems.values()) <= 2, systems
    loads = item_loads(study)
    assert len(loads) == 60
    assert max(loads.values()) - min(loads.values()) <= 1, Counter(loads.values())
    assert sum(loads.values()) == 8000


@pytest.mark.django_db
def test_systems_are_balanced_within_a_participant(study):
    participant = participant_in_trials(study)
    systems = Counter(t.item.system for t in _rated(participant))
    assert len(_rated(participant)) == 4
    assert max(systems.values()) == 1


@pytest.mark.django_db
def test_trials_include_one_practice_first_and_one_instructed_item(participant):
    trials = list(participant.trials.order_by("position"))
    assert [t.position for t in trials] == list(range(6))
    assert trials[0].is_practice
    instructed = [t for t in trials if t.instructed_response is not None]
    assert len(instructed) == 1
    assert instructed[0].instructed_response == INSTRUCTED_SCORE
    assert instructed[0].position > 0


@pytest.mark.django_db
def test_assigning_again_returns_the_same_trials_in_the_same_order(participant):
    before = [(t.pk, t.item_id) for t in participant.trials.order_by("position")]
    again = services.trials_assign(participant=participant)
    assert [(t.pk, t.item_id) for t in again] == before


@pytest.mark.django_db
def test_the_order_is_shuffled_by_the_participants_seed():
    study = study_with_items(
        scenarios=10,
        systems=("ideal",),
        trials_per_participant=8,
        practice_trials=0,
        instructed_response_check=False,
    )
    orders = [
        [t.item.scenario_id for t in services.trials_assign(participant=p)] for p in _screened(study, 12)
    ]
    assert len({tuple(sorted(order)) for order in orders[:1]}) == 1
    assert any(order != sorted(order) for order in orders), (
        "every participant got the scenarios in one fixed order"
    )


@pytest.mark.django_db
def test_an_abandoned_assignment_is_released_to_the_next_participant():
    study = study_with_items(
        scenarios=6,
        systems=("ideal",),
        trials_per_participant=2,
        practice_trials=0,
        instructed_response_check=False,
        assignment_timeout_minutes=30,
    )
    first = participant_in_trials(study)
    taken = {t.item_id for t in first.trials.all()}
    Participant.objects.filter(pk=first.pk).update(last_active_at=timezone.now() - timedelta(minutes=31))
    assert all(load == 0 for load in item_loads(study).values())
    second = participant_in_trials(study)
    assert {t.item_id for t in second.trials.all()} == taken
    assert first.trials.count() == 2, "the abandoned participant keeps their trials and may resume"


@pytest.mark.django_db
def test_a_small_study_drops_extras_before_rated_items():
    study = study_with_items(scenarios=2, systems=("ideal", "sham"), trials_per_participant=8)
    participant = participant_in_trials(study)
    trials = list(participant.trials.all())
    assert len(trials) == 2
    assert sum(t.is_rated for t in trials) == 1
    assert AdviceItem.objects.filter(scenario__study=study).count() == 4
    assert Trial.objects.filter(participant=participant, is_practice=True).count() == 1
