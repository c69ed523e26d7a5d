"""Every non-trivial read of the study app.

A participant is fetched by code in one of two ways that apply the same rules (unknown, withdrawn
or unconsented codes are a 404): :func:`participant_get_by_code`, and for the participant API's
hot path :func:`trial_get_by_code`, which reads the trial, its participant and study (and what
the request needs besides) in one query. Exports carry the participant's pseudonym, never the code (which works as a
password in URLs) and never the recruiter ids.
"""

import statistics
from collections import defaultdict
from pathlib import Path

from django.conf import settings
from django.db.models import Count, F, Func, OuterRef, Prefetch, Q, Subquery
from django.http import Http404
from django.urls import reverse

from modelgen.contracts import SCHEMA_VERSION
from study.dimensions import DIMENSION_NAMES
from study.models import (
    AdviceItem,
    ConsentDocument,
    Participant,
    PlaybackEvent,
    Rating,
    Study,
    Trial,
)

STATES = ("as_given", "advice_applied", "reference")
SHAM_EFFECTIVE_SCORE = 4
"""A sham item (advice in the wrong direction) rated this effective or more raises a flag."""


# ---------------------------------------------------------------- studies and consent


def study_get_by_slug(slug, *, open_only=False):
    """Return the study, or raise Http404 (also for a draft/closed study when ``open_only``)."""
    studies = Study.objects.all()
    if open_only:
        studies = studies.filter(status=Study.Status.OPEN)
    study = studies.filter(slug=slug).first()
    if study is None:
        raise Http404("No such study is open.")
    return study


def consent_document_current(study):
    """The latest published consent document of the study, or None."""
    return (
        ConsentDocument.objects.filter(study=study, published_at__isnull=False).order_by("-version").first()
    )


def dataset_root(study):
    """The folder a study's audio paths are relative to (``dataset_dir``, relative to DATA_DIR)."""
    root = Path(study.dataset_dir)
    return root if root.is_absolute() else Path(settings.DATA_DIR) / root


# ---------------------------------------------------------------- participants and trials


def participant_get_by_code(code, *, study=None, require_consent=True):
    """Return the participant with this code; the one way participant data is reached.

    Raises Http404 for an unknown code, a withdrawn participant, another study's code, or
    (with ``require_consent``) a participant who has not consented or declined.
    """
    participants = Participant.objects.select_related("study").exclude(state=Participant.State.WITHDRAWN)
    if study is not None:
        participants = participants.filter(study=study)
    participant = participants.filter(code=str(code)).first()
    if participant is None or (require_consent and not participant.has_consented):
        raise Http404("No such participant.")
    return participant


def trials_for(participant):
    """The participant's trials in order, with item and scenario."""
    return participant.trials.select_related("item__scenario").order_by("position")


def trial_next_for(participant):
    """The first trial not yet submitted, or None when all are."""
    return trials_for(participant).exclude(state=Trial.State.SUBMITTED).first()


def trial_next_id_for(participant):
    """The id of the first trial not yet submitted, or None (one light query)."""
    return (
        participant.trials.exclude(state=Trial.State.SUBMITTED)
        .order_by("position")
        .values_list("pk", flat=True)
        .first()
    )


def _trial_id(trial_id):
    try:
        return int(trial_id)
    except (TypeError, ValueError):
        raise Http404("No such trial.") from None


def trial_get_for(participant, trial_id, *, with_item=True):
    """The participant's trial ``trial_id``; Http404 for anyone else's or an unknown id.

    ``with_item=False`` skips loading the item and scenario (for callers that only write).
    """
    trials = trials_for(participant) if with_item else participant.trials.all()
    trial = trials.filter(pk=_trial_id(trial_id)).order_by().first()
    if trial is None:
        raise Http404("No such trial.")
    return trial


def _trial_count(**filters):
    """``COUNT`` of the outer trial's participant's trials matching ``filters``, as a subquery."""
    return Subquery(
        Trial.objects.filter(participant=OuterRef("participant_id"), **filters)
        .order_by()
        .annotate(n=Func("pk", function="COUNT"))
        .values("n")
    )


TRIAL_HOT_COLUMNS = (
    *(field.name for field in Trial._meta.concrete_fields),
    "participant__code",
    "participant__state",
    "participant__consented_at",
    "participant__last_active_at",
    "participant__study__min_listening_seconds",
    "participant__study__free_text_required",
)
"""What the participant API reads of a trial, its participant and study (the rest is deferred)."""
TRIAL_ITEM_COLUMNS = (
    "item__text",
    "item__corrections_db",
    "item__master_gain_db",
    "item__scenario__anchor",
    "item__scenario__genre",
    "item__scenario__segment_seconds",
    "item__scenario__stems",
    "item__scenario__gains_db",
)
"""What :func:`trial_state_for` reads of the item and scenario."""


def trial_get_by_code(code, trial_id, *, with_item=True, with_progress=False, with_next=False):
    """Trial ``trial_id`` of the consented participant with this ``code``, read in one query.

    The participant and study are joined (``trial.participant.study``); ``with_item`` joins the
    item and scenario; ``with_progress`` annotates ``progress_submitted`` and ``progress_total``
    (what :func:`trial_progress_for` counts); ``with_next`` annotates ``next_trial_id``, the
    first *other* trial of the participant not yet submitted (what :func:`trial_next_id_for`
    answers once this trial is submitted). Raises Http404 exactly where
    :func:`participant_get_by_code` plus :func:`trial_get_for` would: an unknown, withdrawn or
    unconsented participant, or a trial that is not this participant's.
    """
    related = ("participant__study", "item__scenario") if with_item else ("participant__study",)
    columns = TRIAL_HOT_COLUMNS + (TRIAL_ITEM_COLUMNS if with_item else ())
    trials = (
        Trial.objects.select_related(*related)
        .only(*columns)
        .filter(pk=_trial_id(trial_id), participant__code=str(code))
        .exclude(participant__state=Participant.State.WITHDRAWN)
        .order_by()
    )
    if with_progress:
        trials = trials.annotate(
            progress_total=_trial_count(), progress_submitted=_trial_count(state=Trial.State.SUBMITTED)
        )
    if with_next:
        trials = trials.annotate(
            next_trial_id=Subquery(
                Trial.objects.filter(participant=OuterRef("participant_id"))
                .exclude(state=Trial.State.SUBMITTED)
                .exclude(pk=OuterRef("pk"))
                .order_by("position")
                .values("pk")[:1]
            )
        )
    trial = trials.first()
    if trial is None or not trial.participant.has_consented:
        raise Http404("No such trial.")
    return trial


def trial_progress_for(participant):
    """``(submitted, total)`` trials of the participant."""
    counts = participant.trials.aggregate(
        total=Count("pk"), submitted=Count("pk", filter=Q(state=Trial.State.SUBMITTED))
    )
    return counts["submitted"], counts["total"]


def state_gains_db(scenario, item):
    """Per-state per-stem gains in dB: as given (the flawed offsets), advice applied, reference (0)."""
    as_given = {stem: float(scenario.gains_db.get(stem, 0.0)) for stem in scenario.stems}
    return {
        "as_given": as_given,
        "advice_applied": {
            stem: round(as_given[stem] + float(item.corrections_db.get(stem, 0.0)), 3)
            for stem in scenario.stems
        },
        "reference": dict.fromkeys(scenario.stems, 0.0),
    }


def stem_audio_path_for(trial, stem):
    """The audio file of one stem of the trial's scenario (Http404 for an unknown stem)."""
    scenario = trial.item.scenario
    if stem not in scenario.stems:
        raise Http404("No such stem.")
    return dataset_root(scenario.study) / scenario.audio[stem]


def trial_state_for(trial, *, progress=None):
    """Everything the trial page needs, as JSON-ready data. Never names the advice's system.

    ``progress`` is ``(submitted, total)`` when the caller knows it; otherwise it is taken from
    the annotations of :func:`trial_get_by_code` (``with_progress``) or counted.
    """
    item = trial.item
    scenario = item.scenario
    participant = trial.participant
    study = participant.study
    gains = state_gains_db(scenario, item)
    if progress is None and hasattr(trial, "progress_total"):
        progress = (trial.progress_submitted, trial.progress_total)
    submitted, total = progress if progress is not None else trial_progress_for(participant)
    saved = None
    if trial.state == Trial.State.SUBMITTED:
        feedback = getattr(trial, "feedback", None)
        saved = {
            "ratings": dict(trial.ratings.values_list("dimension", "score")),
            "feedback": feedback.text if feedback else "",
        }
    return {
        "trial": trial.pk,
        "position": trial.position,
        "total": total,
        "submitted": submitted,
        "state": trial.state,
        "is_practice": trial.is_practice,
        "instructed_response": trial.instructed_response,
        "advice": item.text,
        "anchor": scenario.anchor,
        "genre": scenario.genre,
        "segment_seconds": scenario.segment_seconds,
        "stems": [
            {
                "name": stem,
                "url": reverse(
                    "study:stem_audio",
                    kwargs={"code": participant.code, "trial_id": trial.pk, "stem": stem},
                ),
            }
            for stem in scenario.stems
        ],
        "states": {
            name: {"gains_db": gains[name], "master_db": float(item.master_gain_db.get(name, 0.0))}
            for name in STATES
        },
        "dimensions": list(DIMENSION_NAMES),
        "min_listening_seconds": study.min_listening_seconds,
        "free_text_required": study.free_text_required,
        "listened_seconds": trial.listened_seconds,
        "saved": saved,
    }


# ---------------------------------------------------------------- attention checks


def attention_flags(study):
    """``{participant_id: [flag, ...]}`` for every flagged participant of the study.

    Flags: ``instructed_response_failed`` (the "select 2 on every scale" item answered
    otherwise) and ``sham_rated_effective`` (a sham item rated ≥ 4 on effectiveness).
    Flags are shown and exported, never used to drop data silently.
    """
    flags = defaultdict(list)
    instructed = (
        Rating.objects.filter(trial__participant__study=study, trial__instructed_response__isnull=False)
        .exclude(score=F("trial__instructed_response"))
        .values_list("trial__participant_id", flat=True)
        .distinct()
    )
    for participant_id in instructed:
        flags[participant_id].append("instructed_response_failed")
    sham = (
        Rating.objects.filter(
            trial__participant__study=study,
            trial__item__is_attention_check=True,
            trial__instructed_response__isnull=True,
            trial__is_practice=False,
            dimension="effectiveness",
            score__gte=SHAM_EFFECTIVE_SCORE,
        )
        .values_list("trial__participant_id", flat=True)
        .distinct()
    )
    for participant_id in sham:
        flags[participant_id].append("sham_rated_effective")
    return dict(flags)


# ---------------------------------------------------------------- exports


def ratings_for_export(study, *, include_simulated=False):
    """Long-format rows of the ratings contract (docs/contracts.md), plus the item's objective error.

    One row per participant × rated item × dimension; practice and instructed-response trials
    are not rated items and are left out (the instructed item shows up as ``attention_flag``).
    Participants are pseudonyms; withdrawn participants appear only if their consent version
    retained their data.
    """
    flags = attention_flags(study)
    ratings = (
        Rating.objects.filter(
            trial__participant__study=study, trial__is_practice=False, trial__instructed_response__isnull=True
        )
        .select_related("trial__participant", "trial__item__scenario")
        .order_by("trial__participant__started_at", "trial__participant_id", "trial__position", "dimension")
    )
    if not include_simulated:
        ratings = ratings.filter(trial__participant__simulated=False)
    rows = []
    order = {name: i for i, name in enumerate(DIMENSION_NAMES)}
    for rating in ratings:
        trial = rating.trial
        item = trial.item
        participant = trial.participant
        rows.append(
            {
                "schema_version": SCHEMA_VERSION,
                "study": study.slug,
                "participant": participant.pseudonym,
                "item": item.label,
                "scenario": item.scenario.scenario_id,
                "system": item.system,
                "dimension": rating.dimension,
                "score": rating.score,
                "submitted_at": trial.submitted_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                "trial_position": trial.position,
                "attention_flag": participant.pk in flags,
                "simulated": participant.simulated,
                "direction_accuracy": item.direction_accuracy,
                "all_directions_correct": item.all_directions_correct,
                "intensity_accuracy": item.intensity_accuracy,
                "mean_abs_error_db": item.mean_abs_error_db,
                "listened_seconds": trial.listened_seconds,
            }
        )
    rows.sort(key=lambda row: (row["participant"], row["trial_position"], order[row["dimension"]]))
    return rows


EVENT_COLUMNS = (
    "study",
    "participant",
    "item",
    "trial_position",
    "kind",
    "state",
    "audio_time",
    "client_time",
    "server_time",
    "detail",
    "simulated",
)


def playback_events_for_export(study, *, include_simulated=False):
    """Rows of the playback-events CSV (pseudonymous, like the ratings)."""
    events = (
        PlaybackEvent.objects.filter(trial__participant__study=study)
        .select_related("trial__participant", "trial__item__scenario")
        .order_by("trial__participant_id", "trial__position", "client_time", "pk")
    )
    if not include_simulated:
        events = events.filter(trial__participant__simulated=False)
    return [
        {
            "study": study.slug,
            "participant": event.trial.participant.pseudonym,
            "item": event.trial.item.label,
            "trial_position": event.trial.position,
            "kind": event.kind,
            "state": event.state,
            "audio_time": event.audio_time,
            "client_time": event.client_time,
            "server_time": event.server_time.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "detail": event.detail,
            "simulated": event.trial.participant.simulated,
        }
        for event in events.iterator(chunk_size=2000)
    ]


# ---------------------------------------------------------------- researcher dashboard


def study_dashboard(study):
    """Figures for the researcher dashboard of one study (simulated participants counted apart)."""
    participants = Participant.objects.filter(study=study)
    by_state = dict(participants.order_by().values("state").annotate(n=Count("pk")).values_list("state", "n"))
    real = participants.filter(simulated=False)
    started = real.count()
    completed = list(real.filter(state=Participant.State.COMPLETED).values_list("started_at", "completed_at"))
    durations = [(done - begun).total_seconds() / 60 for begun, done in completed]
    consented = real.filter(consented_at__isnull=False).count()
    items = (
        AdviceItem.objects.filter(scenario__study=study)
        .select_related("scenario")
        .annotate(
            ratings=Count(
                "trials",
                filter=Q(
                    trials__state=Trial.State.SUBMITTED,
                    trials__is_practice=False,
                    trials__instructed_response__isnull=True,
                ),
            )
        )
        .order_by("scenario__scenario_id", "system")
    )
    counts = [item.ratings for item in items]
    flags = attention_flags(study)
    flagged = (
        Participant.objects.filter(pk__in=flags)
        .prefetch_related(Prefetch("trials", queryset=Trial.objects.order_by("position")))
        .order_by("started_at")
    )
    return {
        "study": study,
        "by_state": [(label, by_state.get(value, 0)) for value, label in Participant.State.choices],
        "participants": participants.count(),
        "simulated": participants.filter(simulated=True).count(),
        "started": started,
        "consented": consented,
        "completed": len(completed),
        "completion_rate": (len(completed) / consented) if consented else None,
        "median_minutes": statistics.median(durations) if durations else None,
        "items": items,
        "ratings_min": min(counts) if counts else 0,
        "ratings_max": max(counts) if counts else 0,
        "flagged": [(participant, flags[participant.pk]) for participant in flagged],
    }
