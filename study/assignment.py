"""Which items a participant rates, and in what order.

An item is a scenario × system (an :class:`~study.models.AdviceItem`). Each participant gets:

- ``K`` rated items (``study.trials_per_participant``), least-filled first so that the number
  of live assignments per item stays within one of each other; never the same scenario twice;
  systems balanced within the participant (each system at most ``ceil(K / systems)`` times
  when the study allows it);
- optionally one practice trial first and one instructed-response attention item ("select 2
  on every scale"), each on a scenario the participant does not otherwise see; these two are
  not rated items and do not count towards the balance;
- a shuffled order drawn from the participant's stored ``assignment_seed``, so a reload
  resumes the same order.

Ties in the fill level are broken by a fixed cyclic design (a scenario × system grid walked
diagonally, shuffled per study): consecutive participants take consecutive windows of it, which
keeps scenarios distinct and systems balanced inside a window and every item's count within one.

An assignment is *live* while it is submitted or its participant saved something within
``study.assignment_timeout_minutes``; an abandoned one is released — it stops counting, so the
next participant gets the item. The abandoned participant keeps the trials and can still resume.

Concurrency: the caller holds a transaction; the study row is locked with ``SELECT … FOR UPDATE``
on PostgreSQL, and SQLite's immediate transactions serialise writers, so two participants never
read the same fill levels.
"""

import math
import random
from collections import Counter
from datetime import timedelta

from django.db.models import Count, Q
from django.utils import timezone

from study.models import AdviceItem, Participant, Study, Trial

INSTRUCTED_SCORE = 2
"""The score the instructed-response item asks for on every scale."""


def live_trials(study, *, now=None):
    """Rated (not practice, not instructed) trials that count towards the fill level of their item."""
    now = now or timezone.now()
    cutoff = now - timedelta(minutes=study.assignment_timeout_minutes)
    return (
        Trial.objects.filter(item__scenario__study=study, is_practice=False, instructed_response__isnull=True)
        .exclude(
            participant__state=Participant.State.WITHDRAWN,
            state__in=[Trial.State.ASSIGNED, Trial.State.STARTED],
        )
        .filter(Q(state=Trial.State.SUBMITTED) | Q(participant__last_active_at__gte=cutoff))
    )


def item_loads(study, *, now=None):
    """Return ``{item_id: live assignments}`` for every item of the study (0 included)."""
    loads = dict.fromkeys(AdviceItem.objects.filter(scenario__study=study).values_list("pk", flat=True), 0)
    counted = live_trials(study, now=now).values("item").annotate(n=Count("pk"))
    loads.update({row["item"]: row["n"] for row in counted})
    return loads


def cyclic_positions(study, items):
    """Return ``{item_id: position}`` in the study's diagonal walk of the scenario × system grid."""
    rng = random.Random(f"study-design:{study.pk}")
    scenarios = sorted({item.scenario_id for item in items})
    systems = sorted({item.system for item in items})
    rng.shuffle(scenarios)
    rng.shuffle(systems)
    scenario_index = {pk: i for i, pk in enumerate(scenarios)}
    system_index = {name: i for i, name in enumerate(systems)}
    m, y = len(scenarios), len(systems)
    return {
        item.pk: scenario_index[item.scenario_id]
        + m * ((system_index[item.system] - scenario_index[item.scenario_id]) % y)
        for item in items
    }


def plan_sizes(study, n_scenarios):
    """Return ``(rated, practice, instructed)`` counts that fit the study's number of scenarios."""
    extras_wanted = min(study.practice_trials, 1) + int(study.instructed_response_check)
    rated = min(study.trials_per_participant, max(1, n_scenarios - extras_wanted))
    spare = n_scenarios - rated
    practice = min(study.practice_trials, 1, spare)
    instructed = min(int(study.instructed_response_check), spare - practice)
    return rated, practice, instructed


def rated_items_choose(items, loads, positions, k, *, cursor, period):
    """Choose ``k`` items: least-filled first, distinct scenarios, systems within quota."""
    systems = {item.system for item in items}
    quota = math.ceil(k / len(systems))
    ordered = sorted(items, key=lambda item: (loads[item.pk], (positions[item.pk] - cursor) % period))
    chosen, scenarios, per_system = [], set(), Counter()
    for strict in (True, False):
        for item in ordered:
            if len(chosen) == k:
                return chosen
            if item.scenario_id in scenarios or item in chosen:
                continue
            if strict and per_system[item.system] >= quota:
                continue
            chosen.append(item)
            scenarios.add(item.scenario_id)
            per_system[item.system] += 1
    return chosen


def assignment_create(*, participant):
    """Create and return the participant's trials in order (the caller holds a transaction)."""
    study = Study.objects.select_for_update().get(pk=participant.study_id)
    items = list(AdviceItem.objects.filter(scenario__study=study).only("pk", "scenario_id", "system"))
    if not items:
        raise ValueError(f"Study {study.slug!r} has no advice items to assign; run import_study.")
    n_scenarios = len({item.scenario_id for item in items})
    k, practice, instructed = plan_sizes(study, n_scenarios)
    loads = item_loads(study)
    positions = cyclic_positions(study, items)
    period = max(positions.values()) + 1
    rated = rated_items_choose(items, loads, positions, k, cursor=sum(loads.values()), period=period)

    rng = random.Random(participant.assignment_seed)
    used = {item.scenario_id for item in rated}
    extras = []
    for _ in range(practice + instructed):
        spare = [item for item in items if item.scenario_id not in used]
        pick = rng.choice(sorted(spare, key=lambda item: item.pk))
        extras.append(pick)
        used.add(pick.scenario_id)

    rng.shuffle(rated)
    plan = [(item, False, None) for item in rated]
    if instructed:
        plan.insert(rng.randint(1, len(plan)), (extras[-1], False, INSTRUCTED_SCORE))
    if practice:
        plan.insert(0, (extras[0], True, None))
    now = timezone.now()
    trials = [
        Trial(
            participant=participant,
            item=item,
            position=position,
            is_practice=is_practice,
            instructed_response=instructed_response,
            assigned_at=now,
        )
        for position, (item, is_practice, instructed_response) in enumerate(plan)
    ]
    Trial.objects.bulk_create(trials)
    return list(participant.trials.select_related("item__scenario").order_by("position"))
