"""On PostgreSQL: concurrent submits and assignments never duplicate or lose a rating."""

import threading
from collections import Counter

import pytest
from django.db import connection, connections

from study import services
from study.assignment import item_loads
from study.dimensions import DIMENSION_NAMES
from study.models import Participant, Rating
from tests.factories import good_ratings, participant_in_trials, study_with_items

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.django_db(transaction=True),
]

THREADS = 20


@pytest.fixture(autouse=True)
def _postgres_only(transactional_db):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's row locks; run with .ci/with-postgres")


def _in_threads(work, arguments):
    barrier = threading.Barrier(len(arguments))
    errors = []

    def run(argument):
        try:
            barrier.wait()
            work(argument)
        except Exception as error:  # collected and re-raised in the test thread
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(argument,)) for argument in arguments]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


def test_twenty_threads_submitting_the_same_and_different_trials_store_exactly_one_rating_each():
    study = study_with_items(scenarios=8, slug="concurrent")
    participants = [participant_in_trials(study) for _ in range(4)]
    shared = participants[0].trials.get(position=1)
    others = [trial for p in participants[1:] for trial in p.trials.order_by("position")][: THREADS // 2]
    work = [shared] * (THREADS // 2) + others

    def submit(trial):
        services.trial_submit(trial=trial, ratings=good_ratings(3), feedback="same", listened_seconds=30.0)

    assert _in_threads(submit, work) == []
    submitted = {trial.pk for trial in work}
    per_pair = Counter(Rating.objects.values_list("trial_id", "dimension"))
    assert set(per_pair.values()) == {1}, "a rating was duplicated"
    assert set(per_pair) == {(pk, name) for pk in submitted for name in DIMENSION_NAMES}, "a rating was lost"


def test_twenty_threads_assigning_at_once_keep_item_counts_within_one():
    study = study_with_items(scenarios=10, slug="assign-race")
    ready = []
    for _ in range(THREADS):
        participant = participant_in_trials(study)
        participant.trials.all().delete()
        Participant.objects.filter(pk=participant.pk).update(state=Participant.State.SCREENED)
        ready.append(participant)

    assert _in_threads(lambda p: services.trials_assign(participant=p), ready) == []
    loads = item_loads(study)
    assert sum(loads.values()) == THREADS * study.trials_per_participant
    assert max(loads.values()) - min(loads.values()) <= 1
