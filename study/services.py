"""Every write of the study app. Keyword-only, atomic, named <thing>_<action>.

Participant-facing services refuse to store anything for a participant who has not consented
(or who declined or withdrew) and raise :class:`StudyRuleError` — a Django ``ValidationError`` —
with a message that says what is wrong. Researcher actions are written to :class:`AuditLog`.
"""

import json
import math
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from study.dimensions import DIMENSION_NAMES, SCALE
from study.models import (
    AuditLog,
    ConsentDocument,
    ConsentRecord,
    Feedback,
    Participant,
    PlaybackEvent,
    Rating,
    Study,
    Trial,
    completion_code_new,
)

DEMO_RESEARCHER = "researcher"
RESEARCHER_GROUP = "researcher"
MAX_EVENTS_PER_BATCH = 500
MAX_FEEDBACK_CHARS = 5000
MAX_ANSWER_CHARS = 5000
ACTIVITY_RESOLUTION = timedelta(seconds=60)

State = Participant.State


class StudyRuleError(ValidationError):
    """Base class: a request breaks a rule of the study protocol (``.message`` says which)."""


class ConsentRequired(StudyRuleError):
    """The participant has not consented (or declined or withdrew): nothing may be stored."""


class InvalidSubmission(StudyRuleError):
    """A trial submission is incomplete or out of range; nothing of it was stored."""


# ---------------------------------------------------------------- researcher accounts


def researcher_group_ensure(*, using="default"):
    """Create (or update) the ``researcher`` group with the study's model permissions.

    Runs after every ``migrate``. Researchers may view every study table, change studies,
    consent documents and scenarios/items, and export; seeing participants' recruiter ids needs
    the separate ``study.view_external_ids`` permission, which this group does not get.
    """
    from django.contrib.auth.models import Group, Permission

    with transaction.atomic(using=using):
        group, _ = Group.objects.using(using).get_or_create(name=RESEARCHER_GROUP)
        permissions = Permission.objects.using(using).filter(content_type__app_label="study")
        view = permissions.filter(codename__startswith="view_").exclude(codename="view_external_ids")
        edit = permissions.filter(
            codename__in=[
                "add_study",
                "change_study",
                "add_consentdocument",
                "change_consentdocument",
                "change_scenario",
                "change_adviceitem",
            ],
        )
        group.permissions.set([*view, *edit])
    return group


@transaction.atomic
def demo_researcher_ensure(*, username=DEMO_RESEARCHER):
    """Create the demo researcher once; return (username, password).

    The password is generated on first use and kept in ``DATA_DIR/demo-researcher.json``
    (git-ignored) so that reruns of ``make demo`` print the same credentials. The account
    is in the ``researcher`` group (and a superuser, so the demo shows everything).
    """
    credentials_file = settings.DATA_DIR / "demo-researcher.json"
    User = get_user_model()
    group = researcher_group_ensure()
    user = User.objects.filter(username=username).first()
    if credentials_file.is_file() and user is not None:
        stored = json.loads(credentials_file.read_text(encoding="utf-8"))
        if user.check_password(stored["password"]):
            user.groups.add(group)
            return username, stored["password"]
    password = secrets.token_urlsafe(12)
    if user is None:
        user = User(username=username, email=f"{username}@example.org")
    user.is_staff = True
    user.is_superuser = True
    user.set_password(password)
    user.save()
    user.groups.add(group)
    credentials_file.parent.mkdir(parents=True, exist_ok=True)
    credentials_file.write_text(json.dumps({"username": username, "password": password}), encoding="utf-8")
    credentials_file.chmod(0o600)
    return username, password


@transaction.atomic
def audit_log_record(*, actor, action: str, target: str, details: dict | None = None) -> AuditLog:
    """Record one researcher action (``actor`` may be None for a command-line action)."""
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    return AuditLog.objects.create(actor=actor, action=action, target=target, details=details or {})


# ---------------------------------------------------------------- study and consent document


@transaction.atomic
def study_open(*, study: Study, actor=None) -> Study:
    """Open a study to participants; it needs a published consent document and items."""
    if not study.consent_documents.filter(published_at__isnull=False).exists():
        raise StudyRuleError(f"Study {study.slug!r} has no published consent document; publish one first.")
    if not study.scenarios.filter(items__isnull=False).exists():
        raise StudyRuleError(f"Study {study.slug!r} has no advice items; run import_study first.")
    study.status = Study.Status.OPEN
    study.save(update_fields=["status"])
    audit_log_record(actor=actor, action="study_open", target=study.slug)
    return study


@transaction.atomic
def study_close(*, study: Study, actor=None) -> Study:
    """Close a study: no new participants; those already in it may finish."""
    study.status = Study.Status.CLOSED
    study.save(update_fields=["status"])
    audit_log_record(actor=actor, action="study_close", target=study.slug)
    return study


@transaction.atomic
def consent_document_publish(*, document: ConsentDocument, actor=None) -> ConsentDocument:
    """Freeze a consent document: hash its content and stamp the time. Publishing twice is an error."""
    document = ConsentDocument.objects.select_for_update().get(pk=document.pk)
    if document.is_published:
        raise StudyRuleError(
            f"Consent v{document.version} of {document.study.slug!r} is already published; "
            "create a new version to change it."
        )
    if not document.text.strip():
        raise StudyRuleError("A consent document without text cannot be published.")
    document.sha256 = document.content_hash()
    document.published_at = timezone.now()
    ConsentDocument.objects.filter(pk=document.pk).update(
        sha256=document.sha256, published_at=document.published_at
    )
    audit_log_record(
        actor=actor,
        action="consent_publish",
        target=str(document),
        details={"sha256": document.sha256, "irb_protocol_number": document.irb_protocol_number},
    )
    return document


@transaction.atomic
def consent_document_new_version(*, document: ConsentDocument, actor=None) -> ConsentDocument:
    """Copy a (published) document into a new draft with the next version number."""
    latest = document.study.consent_documents.order_by("-version").first()
    copy = ConsentDocument.objects.create(
        study=document.study,
        version=latest.version + 1,
        text=document.text,
        statements=list(document.statements),
        irb_protocol_number=document.irb_protocol_number,
        retain_on_withdraw=document.retain_on_withdraw,
    )
    audit_log_record(actor=actor, action="consent_new_version", target=str(copy))
    return copy


# ---------------------------------------------------------------- the participant journey


def _require_consent(participant: Participant):
    if not participant.has_consented:
        raise ConsentRequired(
            f"Participant {participant.code} has not consented (state {participant.state}); "
            "nothing can be stored."
        )


def _external_ids_clean(study: Study, external_ids: dict) -> dict:
    cleaned = {}
    for name in study.recruitment_parameters:
        value = external_ids.get(name)
        if value is None:
            continue
        value = str(value).strip()
        if len(value) > 200:
            raise StudyRuleError(f"Recruitment parameter {name} is longer than 200 characters.")
        if value:
            cleaned[name] = value
    return cleaned


@transaction.atomic
def participant_start(
    *, study: Study, external_ids: dict | None = None, simulated: bool = False
) -> Participant:
    """Start a participant in an open study, or return the active one for a reused recruiter id.

    A participant who started before the study closed can still come back with the same id.

    Only the study's ``recruitment_parameters`` are kept from ``external_ids``; the first of
    them identifies a recruiter participant, so the same id never starts a second session
    (a database constraint backs this up). Stores a pseudonymous code and those ids only.
    """
    ids = _external_ids_clean(study, external_ids or {})
    recruiter_id = ids.get(study.recruiter_id_parameter, "")
    if recruiter_id:
        existing = (
            Participant.objects.filter(study=study, recruiter_id=recruiter_id)
            .exclude(state__in=[State.WITHDRAWN, State.DECLINED])
            .first()
        )
        if existing is not None:
            return existing
    if study.status != Study.Status.OPEN:
        raise StudyRuleError(f"Study {study.slug!r} is {study.status}, not open to participants.")
    try:
        with transaction.atomic():
            return Participant.objects.create(
                study=study,
                recruiter_id=recruiter_id,
                external_ids=ids,
                simulated=simulated,
                assignment_seed=secrets.randbits(62),
            )
    except IntegrityError:
        # A second tab started the same recruiter id a moment earlier: use that one.
        return (
            Participant.objects.filter(study=study, recruiter_id=recruiter_id)
            .exclude(state__in=[State.WITHDRAWN, State.DECLINED])
            .get()
        )


@transaction.atomic
def consent_record(*, participant: Participant, document: ConsentDocument, answers: dict) -> ConsentRecord:
    """Record that the participant agreed to a published consent document.

    ``answers`` maps each of the document's ``statements`` (by index, as ``"0"``, ``"1"`` …,
    or by text) to True; every statement must be ticked. Idempotent for the same document.
    """
    participant = Participant.objects.select_for_update().get(pk=participant.pk)
    if document.study_id != participant.study_id or not document.is_published:
        raise StudyRuleError("This consent document is not the study's published consent.")
    if participant.state in (State.DECLINED, State.WITHDRAWN):
        raise StudyRuleError(f"Participant {participant.code} has {participant.state}; start again.")
    existing = ConsentRecord.objects.filter(participant=participant, document=document).first()
    if existing is not None:
        return existing
    answers = dict(answers or {})
    missing = [
        statement
        for index, statement in enumerate(document.statements)
        if answers.get(str(index)) is not True and answers.get(statement) is not True
    ]
    if missing:
        raise StudyRuleError(f"Every consent statement must be ticked; not ticked: {missing}")
    record = ConsentRecord.objects.create(participant=participant, document=document, answers=answers)
    if participant.state == State.STARTED:
        participant.state = State.CONSENTED
    participant.consented_at = record.created_at
    participant.last_active_at = record.created_at
    participant.save(update_fields=["state", "consented_at", "last_active_at"])
    return record


@transaction.atomic
def consent_decline(*, participant: Participant) -> Participant:
    """The participant declined: keep only the pseudonymous code and state, erase the recruiter ids."""
    participant = Participant.objects.select_for_update().get(pk=participant.pk)
    if participant.has_consented:
        raise StudyRuleError("This participant has already consented; use withdraw instead.")
    participant.state = State.DECLINED
    participant.recruiter_id = ""
    participant.external_ids = {}
    participant.save(update_fields=["state", "recruiter_id", "external_ids"])
    return participant


def eligibility_check(rules: dict, answers: dict) -> list[str]:
    """Return the reasons the background answers fail the study's eligibility rules (empty = eligible).

    Rules (all optional): ``min_years_mixing`` (int), ``exclude_hearing_issues`` (bool),
    ``roles`` (allowed values of ``role``).
    """
    reasons = []
    minimum = rules.get("min_years_mixing")
    if minimum is not None:
        try:
            years = float(answers.get("years_mixing", 0) or 0)
        except (TypeError, ValueError):
            years = 0.0
        if years < minimum:
            reasons.append(f"fewer than {minimum} years of mixing experience")
    if rules.get("exclude_hearing_issues") and answers.get("hearing_issues") in (True, "yes", "true", "1"):
        reasons.append("reported hearing issues")
    roles = rules.get("roles")
    if roles and answers.get("role") not in roles:
        reasons.append(f"role {answers.get('role')!r} is not one of {roles}")
    return reasons


@transaction.atomic
def background_record(*, participant: Participant, answers: dict) -> bool:
    """Store the background questionnaire and decide eligibility; return True when eligible."""
    participant = Participant.objects.select_for_update().select_related("study").get(pk=participant.pk)
    _require_consent(participant)
    if len(json.dumps(answers)) > MAX_ANSWER_CHARS:
        raise StudyRuleError(f"Background answers are longer than {MAX_ANSWER_CHARS} characters.")
    reasons = eligibility_check(participant.study.eligibility_rules or {}, answers)
    participant.background = dict(answers)
    participant.eligible = not reasons
    if reasons:
        participant.state = State.INELIGIBLE
        participant.background["ineligible_because"] = reasons
    participant.last_active_at = timezone.now()
    participant.save(update_fields=["background", "eligible", "state", "last_active_at"])
    return participant.eligible


@transaction.atomic
def screening_record(*, participant: Participant, responses: list[dict]) -> bool:
    """Store the headphone-screen responses and decide; return True when passed.

    Each response is a dict scored on the server by the caller, with at least ``correct``
    (bool); the rest (``trial``, ``answer``, ``target``, ``response_ms``) is kept as given.
    Passing takes ``study.screening_pass_threshold`` of ``study.screening_trials`` correct.
    """
    participant = Participant.objects.select_for_update().select_related("study").get(pk=participant.pk)
    _require_consent(participant)
    study = participant.study
    if participant.eligible is not True:
        raise StudyRuleError(
            "The background questionnaire must be answered (and eligible) before the screen."
        )
    if len(responses) != study.screening_trials:
        raise StudyRuleError(
            f"The headphone screen has {study.screening_trials} trials; got {len(responses)} responses."
        )
    if any(not isinstance(r, dict) or not isinstance(r.get("correct"), bool) for r in responses):
        raise StudyRuleError("Each screening response needs a boolean 'correct'.")
    correct = sum(r["correct"] for r in responses)
    passed = correct >= study.screening_pass_threshold
    participant.screening = list(responses)
    participant.screening_passed = passed
    participant.state = State.SCREENED if passed else State.SCREENED_OUT
    participant.last_active_at = timezone.now()
    participant.save(update_fields=["screening", "screening_passed", "state", "last_active_at"])
    return passed


@transaction.atomic
def trials_assign(*, participant: Participant) -> list[Trial]:
    """Give a screened participant their trials (practice, K rated, attention item); idempotent.

    See :mod:`study.assignment` for how items are chosen. Returns the trials in order.
    """
    from study.assignment import assignment_create

    participant = Participant.objects.select_for_update().select_related("study").get(pk=participant.pk)
    _require_consent(participant)
    existing = list(participant.trials.select_related("item__scenario").order_by("position"))
    if existing:
        return existing
    if participant.state != State.SCREENED:
        raise StudyRuleError(
            f"Trials are assigned after the headphone screen is passed (state is {participant.state})."
        )
    trials = assignment_create(participant=participant)
    participant.state = State.IN_TRIALS
    participant.last_active_at = timezone.now()
    participant.save(update_fields=["state", "last_active_at"])
    return trials


def _submission_errors(*, study: Study, trial: Trial, ratings, feedback, listened_seconds) -> list[str]:
    errors = []
    if not isinstance(ratings, dict):
        return ["ratings must be an object mapping each dimension to a score"]
    unknown = sorted(set(ratings) - set(DIMENSION_NAMES))
    if unknown:
        errors.append(f"unknown dimension(s) {unknown}; the dimensions are {list(DIMENSION_NAMES)}")
    missing = [name for name in DIMENSION_NAMES if name not in ratings]
    if missing:
        errors.append(f"missing a score for {missing}")
    for name in DIMENSION_NAMES:
        score = ratings.get(name)
        if name in ratings and (isinstance(score, bool) or not isinstance(score, int) or score not in SCALE):
            errors.append(f"{name}: score {score!r} is outside the scale 1–5")
    if not isinstance(feedback, str):
        errors.append("feedback must be text")
    elif len(feedback) > MAX_FEEDBACK_CHARS:
        errors.append(f"feedback is longer than {MAX_FEEDBACK_CHARS} characters")
    elif study.free_text_required and not feedback.strip():
        errors.append("feedback: a written comment is required in this study")
    if (
        not isinstance(listened_seconds, int | float)
        or isinstance(listened_seconds, bool)
        or not math.isfinite(listened_seconds)
        or listened_seconds < 0
    ):
        errors.append(f"listened_seconds {listened_seconds!r} is not a non-negative number")
    elif listened_seconds < study.min_listening_seconds:
        errors.append(
            f"listened for {listened_seconds:.1f} s; rating needs at least {study.min_listening_seconds} s"
        )
    return errors


def _stored_answer_matches(trial: Trial, ratings, feedback) -> bool:
    # Fresh queries, never joined to the trial row read earlier: they see what is committed now.
    stored = dict(Rating.objects.filter(trial=trial).values_list("dimension", "score"))
    stored_feedback = Feedback.objects.filter(trial=trial).values_list("text", flat=True).first() or ""
    return stored == ratings and stored_feedback == (feedback or "").strip()


def _submit_refused(trial: Trial, ratings, feedback) -> Trial:
    """Answer a submit of a trial that is (or may be) no longer open, from a fresh read.

    An identical retry of a submitted trial returns it; anything else raises the rule it breaks.
    """
    fresh = Trial.objects.select_related("participant").filter(pk=trial.pk).first()
    if fresh is None:
        raise StudyRuleError(
            f"Trial {trial.pk} no longer exists (the participant withdrew); nothing was stored."
        )
    _require_consent(fresh.participant)
    if fresh.state == Trial.State.SUBMITTED:
        if _stored_answer_matches(fresh, ratings, feedback):
            trial.state, trial.submitted_at = fresh.state, fresh.submitted_at
            return trial
        raise InvalidSubmission("This trial was already submitted with different answers; it cannot change.")
    raise StudyRuleError(
        f"Trials can be submitted only while in trials (state is {fresh.participant.state})."
    )


def trial_submit(*, trial: Trial, ratings: dict[str, int], feedback: str, listened_seconds: float) -> Trial:
    """Save a trial's five ratings and feedback in one transaction; idempotent.

    A retried submit with the same ratings and feedback returns the stored trial and writes
    nothing; a different answer for a submitted trial is refused. Bad input raises
    :class:`InvalidSubmission` listing every problem, and nothing is stored.

    The input is checked first (against ``trial.participant.study``'s settings); the protocol's
    rules are then enforced by the database, not by the objects passed in (which may be stale):
    one ``UPDATE`` marks the trial submitted only if it is not yet submitted and its participant
    has consented and is in trials, so of two concurrent submits exactly one stores ratings (the
    other waits for the row, then sees it submitted and compares answers). When no row was
    marked, a fresh read says why. Returns ``trial``, updated.
    """
    participant = trial.participant
    if trial.state == Trial.State.SUBMITTED:
        return _submit_refused(trial, ratings, feedback)
    errors = _submission_errors(
        study=participant.study,
        trial=trial,
        ratings=ratings,
        feedback=feedback,
        listened_seconds=listened_seconds,
    )
    if errors:
        raise InvalidSubmission("; ".join(errors))
    now = timezone.now()
    with transaction.atomic():
        # The state test is on the updated row itself, so PostgreSQL re-checks it after waiting
        # for a concurrent submit's lock; the participant test is a correlated EXISTS.
        marked = (
            Trial.objects.filter(pk=trial.pk)
            .exclude(state=Trial.State.SUBMITTED)
            .filter(
                Exists(
                    Participant.objects.filter(
                        pk=OuterRef("participant_id"), state=State.IN_TRIALS, consented_at__isnull=False
                    )
                )
            )
            .update(
                state=Trial.State.SUBMITTED,
                submitted_at=now,
                started_at=Coalesce(F("started_at"), Value(now)),
                listened_seconds=float(listened_seconds),
            )
        )
        if not marked:
            return _submit_refused(trial, ratings, feedback)
        Rating.objects.bulk_create(
            [
                Rating(trial=trial, dimension=name, score=ratings[name], created_at=now)
                for name in DIMENSION_NAMES
            ]
        )
        Feedback.objects.create(trial=trial, text=feedback.strip(), created_at=now)
        _activity_touch(participant, now)
    trial.state = Trial.State.SUBMITTED
    trial.submitted_at = now
    trial.started_at = trial.started_at or now
    trial.listened_seconds = float(listened_seconds)
    return trial


def _activity_touch(participant: Participant, now):
    """Record that the participant is active; at most one write a minute (the timeout is in hours)."""
    if now - participant.last_active_at > ACTIVITY_RESOLUTION:
        Participant.objects.filter(pk=participant.pk).update(last_active_at=now)
        participant.last_active_at = now


EVENT_FIELDS = {"kind", "state", "audio_time", "client_time", "detail"}


def _event_errors(index: int, event) -> list[str]:
    if not isinstance(event, dict):
        return [f"events[{index}]: must be an object"]
    errors = []
    unknown = sorted(set(event) - EVENT_FIELDS)
    if unknown:
        errors.append(f"events[{index}]: unknown field(s) {unknown}")
    if event.get("kind") not in PlaybackEvent.Kind.values:
        errors.append(
            f"events[{index}].kind: {event.get('kind')!r} is not one of {PlaybackEvent.Kind.values}"
        )
    if event.get("state") not in PlaybackEvent.PlayerState.values:
        errors.append(
            f"events[{index}].state: {event.get('state')!r} is not one of {PlaybackEvent.PlayerState.values}"
        )
    for field in ("audio_time", "client_time"):
        value = event.get(field)
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or value < 0
        ):
            errors.append(f"events[{index}].{field}: {value!r} is not a non-negative number")
    if not isinstance(event.get("detail", {}), dict):
        errors.append(f"events[{index}].detail: must be an object")
    return errors


@transaction.atomic
def playback_events_record(*, trial: Trial, events: list[dict]) -> int:
    """Store a batch of playback events of one trial; return how many were stored.

    Validates the whole batch first (nothing is stored if one event is bad). Events after the
    trial was submitted are still stored (the player may flush late). Marks the trial started.
    Consent is checked in the database inside the same transaction (one ``EXISTS``).
    """
    if not isinstance(events, list):
        raise StudyRuleError("events must be a list")
    if len(events) > MAX_EVENTS_PER_BATCH:
        raise StudyRuleError(f"send at most {MAX_EVENTS_PER_BATCH} events per batch; got {len(events)}")
    errors = [error for index, event in enumerate(events) for error in _event_errors(index, event)]
    if errors:
        raise StudyRuleError("; ".join(errors[:10]))
    consented = Participant.objects.filter(pk=trial.participant_id, consented_at__isnull=False).exclude(
        state__in=[State.DECLINED, State.WITHDRAWN]
    )
    if not consented.exists():
        _require_consent(Participant.objects.get(pk=trial.participant_id))
    now = timezone.now()
    PlaybackEvent.objects.bulk_create(
        [
            PlaybackEvent(
                trial=trial,
                kind=event["kind"],
                state=event["state"],
                audio_time=float(event["audio_time"]),
                client_time=float(event["client_time"]),
                detail=event.get("detail", {}),
                server_time=now,
            )
            for event in events
        ]
    )
    if trial.state == Trial.State.ASSIGNED and events:
        Trial.objects.filter(pk=trial.pk, state=Trial.State.ASSIGNED).update(
            state=Trial.State.STARTED, started_at=now
        )
    _activity_touch(trial.participant, now)
    return len(events)


@transaction.atomic
def closing_record(*, participant: Participant, answers: dict) -> Participant:
    """Store the closing questionnaire; required questions of the study's config must be answered."""
    participant = Participant.objects.select_for_update().select_related("study").get(pk=participant.pk)
    _require_consent(participant)
    if len(json.dumps(answers)) > MAX_ANSWER_CHARS:
        raise StudyRuleError(f"Closing answers are longer than {MAX_ANSWER_CHARS} characters.")
    missing = [
        question["name"]
        for question in participant.study.closing_questionnaire
        if question.get("required") and str(answers.get(question["name"], "")).strip() == ""
    ]
    if missing:
        raise StudyRuleError(f"Please answer the required question(s): {missing}")
    participant.closing = dict(answers)
    participant.last_active_at = timezone.now()
    participant.save(update_fields=["closing", "last_active_at"])
    return participant


@transaction.atomic
def participant_complete(*, participant: Participant) -> str:
    """Finish a participant whose trials are all submitted; return the completion code (idempotent)."""
    participant = Participant.objects.select_for_update().get(pk=participant.pk)
    if participant.state == State.COMPLETED:
        return participant.completion_code
    _require_consent(participant)
    trials = participant.trials.all()
    if not trials.exists():
        raise StudyRuleError("No trials were assigned; the study is not finished.")
    open_trials = trials.exclude(state=Trial.State.SUBMITTED).count()
    if open_trials:
        raise StudyRuleError(f"{open_trials} trial(s) are not submitted yet.")
    participant.state = State.COMPLETED
    participant.completion_code = completion_code_new()
    participant.completed_at = timezone.now()
    participant.last_active_at = participant.completed_at
    participant.save(update_fields=["state", "completion_code", "completed_at", "last_active_at"])
    return participant.completion_code


@transaction.atomic
def participant_withdraw(*, participant: Participant) -> Participant:
    """Withdraw a participant and, unless their consent version says to retain, delete their data.

    Deleting removes trials, ratings, feedback, playback events, background, screening and
    closing answers and the recruiter ids; the pseudonymous code, the consent record and the
    withdrawal time stay as the record of the withdrawal. Idempotent.
    """
    participant = Participant.objects.select_for_update().get(pk=participant.pk)
    if participant.state == State.WITHDRAWN:
        return participant
    consent = participant.consents.select_related("document").order_by("-created_at").first()
    retain = consent is not None and consent.document.retain_on_withdraw
    now = timezone.now()
    if retain:
        participant.trials.exclude(state=Trial.State.SUBMITTED).delete()
    else:
        participant.trials.all().delete()
        participant.background = {}
        participant.screening = []
        participant.closing = {}
    participant.recruiter_id = ""
    participant.external_ids = {}
    participant.state = State.WITHDRAWN
    participant.withdrawn_at = now
    participant.save()
    AuditLog.objects.create(
        actor=None,
        action="participant_withdraw",
        target=participant.pseudonym,
        details={"retained": retain, "consent_version": consent.document.version if consent else None},
    )
    return participant
