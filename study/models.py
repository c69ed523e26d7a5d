"""Tables of the listening study; integrity lives in ``Meta.constraints``.

Writes go through ``study/services.py``, non-trivial reads through ``study/selectors.py``.
"""

import hashlib
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from study.dimensions import DIMENSION_NAMES, SCALE

DEFAULT_RECRUITMENT_PARAMETERS = ["PROLIFIC_PID", "STUDY_ID", "SESSION_ID"]
DEFAULT_ELIGIBILITY_RULES = {"min_years_mixing": 1, "exclude_hearing_issues": True}
DEFAULT_CLOSING_QUESTIONNAIRE = [
    {
        "name": "workflow_fit",
        "kind": "text",
        "label": "How would advice like this fit into your own mixing workflow?",
        "required": True,
    },
    {
        "name": "trust",
        "kind": "likert",
        "label": "I would trust advice like this when mixing my own projects.",
        "low": "Strongly disagree",
        "high": "Strongly agree",
        "required": True,
    },
    {
        "name": "missing",
        "kind": "text",
        "label": "What would such advice need to tell you to be more useful?",
        "required": False,
    },
]


def default_recruitment_parameters():
    return list(DEFAULT_RECRUITMENT_PARAMETERS)


def default_eligibility_rules():
    return dict(DEFAULT_ELIGIBILITY_RULES)


def default_closing_questionnaire():
    return [dict(question) for question in DEFAULT_CLOSING_QUESTIONNAIRE]


def participant_code_new():
    """Return a fresh unguessable participant code (96 random bits, URL-safe)."""
    return secrets.token_urlsafe(12)


def completion_code_new():
    """Return a completion code a participant pastes into the recruiter's site."""
    return "C" + secrets.token_hex(4).upper()


class Study(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    slug = models.SlugField(max_length=64, unique=True)
    title = models.CharField(max_length=200)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.DRAFT)
    trials_per_participant = models.PositiveSmallIntegerField(
        default=8, help_text="Rated items per participant (K), besides practice and attention items."
    )
    practice_trials = models.PositiveSmallIntegerField(
        default=1, help_text="Practice trials before the rated ones (0 or 1)."
    )
    instructed_response_check = models.BooleanField(
        default=True, help_text='Add one "select 2 on every scale" attention item.'
    )
    min_listening_seconds = models.PositiveIntegerField(
        default=20, help_text="Seconds of playback before the scales unlock."
    )
    free_text_required = models.BooleanField(default=False)
    screening_trials = models.PositiveSmallIntegerField(default=6)
    screening_pass_threshold = models.PositiveSmallIntegerField(
        default=5, help_text="Correct headphone-screen answers needed to pass."
    )
    eligibility_rules = models.JSONField(
        default=default_eligibility_rules,
        blank=True,
        help_text='e.g. {"min_years_mixing": 1, "exclude_hearing_issues": true, "roles": [...]}',
    )
    completion_url = models.URLField(
        blank=True, help_text="Recruiter URL; {code} is replaced by the completion code."
    )
    recruitment_parameters = models.JSONField(
        default=default_recruitment_parameters,
        blank=True,
        help_text="Query parameters captured at start; the first identifies a recruiter participant.",
    )
    closing_questionnaire = models.JSONField(default=default_closing_questionnaire, blank=True)
    assignment_timeout_minutes = models.PositiveIntegerField(
        default=90, help_text="An unsubmitted trial is released after this many minutes of inactivity."
    )
    dataset_dir = models.CharField(
        max_length=500, help_text="Dataset folder the audio paths are relative to."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name_plural = "studies"
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(trials_per_participant__gte=1), name="study_study_trials_positive"
            ),
            models.CheckConstraint(
                condition=Q(screening_pass_threshold__lte=models.F("screening_trials")),
                name="study_study_screening_threshold_le_trials",
            ),
        ]

    def __str__(self):
        return self.slug

    @property
    def recruiter_id_parameter(self):
        """The recruitment parameter that identifies one recruiter participant (or "")."""
        return self.recruitment_parameters[0] if self.recruitment_parameters else ""


class ConsentDocument(models.Model):
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="consent_documents")
    version = models.PositiveIntegerField()
    text = models.TextField(help_text="Markdown shown in full on the consent page.")
    statements = models.JSONField(
        default=list, blank=True, help_text="Checkbox statements the participant must all tick."
    )
    irb_protocol_number = models.CharField(max_length=100, blank=True)
    retain_on_withdraw = models.BooleanField(
        default=False,
        help_text="Keep what was collected when a participant withdraws (only if this version says so).",
    )
    sha256 = models.CharField(max_length=64, blank=True, editable=False)
    published_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["study", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["study", "version"], name="study_consent_version_unique"),
            models.CheckConstraint(
                condition=Q(published_at__isnull=True) | ~Q(sha256=""),
                name="study_consent_published_has_hash",
            ),
        ]

    def __str__(self):
        return f"{self.study.slug} consent v{self.version}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            stored = type(self).objects.filter(pk=self.pk).values_list("published_at", flat=True).first()
            if stored is not None:
                raise ValidationError(
                    f"Consent v{self.version} was published on {stored:%Y-%m-%d} and is frozen; "
                    "create a new version instead."
                )
        super().save(*args, **kwargs)

    @property
    def is_published(self):
        return self.published_at is not None

    def content_hash(self):
        """SHA-256 of everything the participant agrees to (text, statements, IRB number, retention)."""
        payload = "\n\0".join(
            [
                self.text,
                "\n".join(self.statements),
                self.irb_protocol_number,
                "retain" if self.retain_on_withdraw else "delete",
            ]
        )
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class Participant(models.Model):
    class State(models.TextChoices):
        STARTED = "started", "Started"
        CONSENTED = "consented", "Consented"
        DECLINED = "declined", "Declined consent"
        INELIGIBLE = "ineligible", "Ineligible"
        SCREENED = "screened", "Passed the headphone screen"
        SCREENED_OUT = "screened_out", "Failed the headphone screen"
        IN_TRIALS = "in_trials", "In trials"
        COMPLETED = "completed", "Completed"
        WITHDRAWN = "withdrawn", "Withdrawn"

    ENDED_STATES = (State.DECLINED, State.INELIGIBLE, State.SCREENED_OUT, State.COMPLETED, State.WITHDRAWN)

    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="participants")
    code = models.CharField(max_length=32, unique=True, default=participant_code_new, editable=False)
    state = models.CharField(max_length=16, choices=State.choices, default=State.STARTED)
    recruiter_id = models.CharField(
        max_length=200, blank=True, help_text="The recruiter's participant id (never exported)."
    )
    external_ids = models.JSONField(
        default=dict, blank=True, help_text="Recruitment parameters captured at start (never exported)."
    )
    background = models.JSONField(default=dict, blank=True)
    eligible = models.BooleanField(null=True, blank=True)
    screening = models.JSONField(default=list, blank=True)
    screening_passed = models.BooleanField(null=True, blank=True)
    closing = models.JSONField(default=dict, blank=True)
    completion_code = models.CharField(max_length=16, blank=True)
    simulated = models.BooleanField(default=False, help_text="Produced by a bot or simulation, not a person.")
    assignment_seed = models.BigIntegerField(default=0)
    started_at = models.DateTimeField(default=timezone.now)
    consented_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    last_active_at = models.DateTimeField(
        default=timezone.now, help_text="Last save; an assignment idle past the timeout is released."
    )

    class Meta:
        ordering = ["-started_at"]
        permissions = [("view_external_ids", "Can see participants' recruiter ids")]
        constraints = [
            models.UniqueConstraint(
                fields=["study", "recruiter_id"],
                condition=~Q(recruiter_id="") & ~Q(state__in=["withdrawn", "declined"]),
                name="study_participant_one_active_per_recruiter_id",
            ),
            models.CheckConstraint(
                condition=~Q(state="completed") | ~Q(completion_code=""),
                name="study_participant_completed_has_code",
            ),
        ]
        indexes = [models.Index(fields=["study", "state"], name="study_participant_state_idx")]

    def __str__(self):
        return self.pseudonym

    @property
    def pseudonym(self):
        """The name exports and the researcher pages use: derived from, but not revealing, the code."""
        return "P-" + hashlib.sha256(f"participant:{self.code}".encode()).hexdigest()[:10].upper()

    @property
    def has_consented(self):
        return self.consented_at is not None and self.state not in (
            self.State.DECLINED,
            self.State.WITHDRAWN,
        )


class ConsentRecord(models.Model):
    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="consents")
    document = models.ForeignKey(ConsentDocument, on_delete=models.PROTECT, related_name="records")
    answers = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["participant", "document"], name="study_consent_once_per_document"
            )
        ]

    def __str__(self):
        return f"{self.participant} agreed to {self.document}"


class Scenario(models.Model):
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="scenarios")
    scenario_id = models.CharField(max_length=200)
    song = models.CharField(max_length=300)
    genre = models.CharField(max_length=100, blank=True)
    split = models.CharField(max_length=8)
    anchor = models.CharField(max_length=32)
    stems = models.JSONField(help_text="Stem names in prompt order, anchor first.")
    gains_db = models.JSONField(help_text="stem -> offset applied to create the scenario (dB).")
    corrections_db = models.JSONField(help_text="stem -> ideal correction (dB) = -gains_db.")
    intensity = models.JSONField(default=dict)
    loudness_lufs = models.JSONField(default=dict)
    segment_seconds = models.FloatField()
    audio = models.JSONField(help_text="stem -> file of the stem at reference level, dataset-relative.")
    audio_sha256 = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["study", "scenario_id"]
        constraints = [
            models.UniqueConstraint(fields=["study", "scenario_id"], name="study_scenario_id_unique")
        ]

    def __str__(self):
        return self.scenario_id


class AdviceItem(models.Model):
    scenario = models.ForeignKey(Scenario, on_delete=models.CASCADE, related_name="items")
    system = models.CharField(max_length=64)
    text = models.TextField()
    corrections_db = models.JSONField(help_text="Parsed from the text: stem -> dB; absent = not mentioned.")
    generator = models.JSONField(default=dict, blank=True)
    direction_accuracy = models.FloatField()
    all_directions_correct = models.BooleanField()
    intensity_accuracy = models.FloatField()
    mean_abs_error_db = models.FloatField()
    is_attention_check = models.BooleanField(
        default=False, help_text="Sham advice: expected to be rated low on effectiveness."
    )
    master_gain_db = models.JSONField(
        default=dict,
        help_text="state -> master gain (dB) that plays as_given, advice_applied and reference "
        "at equal BS.1770 loudness; computed at import.",
    )

    class Meta:
        ordering = ["scenario", "system"]
        constraints = [
            models.UniqueConstraint(fields=["scenario", "system"], name="study_item_once_per_system")
        ]

    def __str__(self):
        return self.label

    @property
    def label(self):
        return f"{self.scenario.scenario_id}:{self.system}"


class Trial(models.Model):
    class State(models.TextChoices):
        ASSIGNED = "assigned", "Assigned"
        STARTED = "started", "Started"
        SUBMITTED = "submitted", "Submitted"

    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="trials")
    item = models.ForeignKey(AdviceItem, on_delete=models.PROTECT, related_name="trials")
    position = models.PositiveSmallIntegerField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.ASSIGNED)
    is_practice = models.BooleanField(default=False)
    instructed_response = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text='Attention item: "select this score on every scale".'
    )
    assigned_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    listened_seconds = models.FloatField(default=0.0)

    class Meta:
        ordering = ["participant", "position"]
        constraints = [
            models.UniqueConstraint(fields=["participant", "position"], name="study_trial_position_unique"),
            models.UniqueConstraint(fields=["participant", "item"], name="study_trial_item_once"),
            models.CheckConstraint(
                condition=Q(instructed_response__isnull=True)
                | Q(instructed_response__gte=1, instructed_response__lte=5),
                name="study_trial_instructed_in_scale",
            ),
            models.CheckConstraint(
                condition=~Q(state="submitted") | Q(submitted_at__isnull=False),
                name="study_trial_submitted_has_time",
            ),
        ]

    def __str__(self):
        return f"{self.participant} #{self.position} {self.item_id}"

    @property
    def is_rated(self):
        """True for a trial whose ratings go into the export (not practice, not instructed)."""
        return not self.is_practice and self.instructed_response is None


class Rating(models.Model):
    class Dimension(models.TextChoices):
        EFFECTIVENESS = "effectiveness"
        MUSICALITY = "musicality"
        CONVENTIONS = "conventions"
        ACTIONABILITY = "actionability"
        HELPFULNESS = "helpfulness"

    trial = models.ForeignKey(Trial, on_delete=models.CASCADE, related_name="ratings")
    dimension = models.CharField(max_length=16, choices=Dimension.choices)
    score = models.PositiveSmallIntegerField(choices=[(s, str(s)) for s in SCALE])
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["trial", "dimension"]
        constraints = [
            models.UniqueConstraint(fields=["trial", "dimension"], name="study_rating_once_per_dimension"),
            models.CheckConstraint(
                condition=Q(score__gte=1) & Q(score__lte=5), name="study_rating_score_range"
            ),
            models.CheckConstraint(
                condition=Q(dimension__in=list(DIMENSION_NAMES)), name="study_rating_known_dimension"
            ),
        ]

    def __str__(self):
        return f"{self.trial} {self.dimension}={self.score}"


class Feedback(models.Model):
    trial = models.OneToOneField(Trial, on_delete=models.CASCADE, related_name="feedback")
    text = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name_plural = "feedback"

    def __str__(self):
        return f"feedback on {self.trial}"


class PlaybackEvent(models.Model):
    class Kind(models.TextChoices):
        PLAY = "play"
        PAUSE = "pause"
        SEEK = "seek"
        LOOP = "loop"
        STATE_SWITCH = "state_switch", "State switch"
        SOLO = "solo"
        MUTE = "mute"

    class PlayerState(models.TextChoices):
        AS_GIVEN = "as_given", "As given"
        ADVICE_APPLIED = "advice_applied", "Advice applied"
        REFERENCE = "reference", "Reference"

    trial = models.ForeignKey(Trial, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    state = models.CharField(max_length=16, choices=PlayerState.choices)
    audio_time = models.FloatField(help_text="Position in the excerpt, seconds.")
    client_time = models.FloatField(help_text="Milliseconds since the page loaded (performance.now()).")
    server_time = models.DateTimeField(default=timezone.now)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["trial", "client_time"]
        constraints = [
            models.CheckConstraint(condition=Q(audio_time__gte=0), name="study_event_audio_time_nonnegative")
        ]

    def __str__(self):
        return f"{self.kind} at {self.audio_time:.2f}s"


class AuditLog(models.Model):
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=64)
    target = models.CharField(max_length=200)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["action", "created_at"], name="study_audit_action_idx")]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action} {self.target}"
