"""Advisor jobs: one request for advice on a set of stems, and the stems it was given.

A job is created by the advisor page (``advisor_service.job_create``), run by a queue worker
(``jobs.advisor_job_run``) and read through ``advisor_selectors``. Its files live under
``DATA_DIR/uploads/<folder>/`` (outside the web root) and are served only through the
job's unguessable token.
"""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse

from modelgen.corrections import STEMS

ROLE_CHOICES = [(stem, stem) for stem in STEMS]


def new_token():
    """An unguessable job token for the result link (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def new_folder():
    """A random folder name under the uploads directory."""
    return secrets.token_hex(16)


class JobState(models.TextChoices):
    QUEUED = "queued", "Waiting for a worker"
    RUNNING = "running", "Working"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class JobAdvisor(models.TextChoices):
    FINETUNED = "finetuned", "Fine-tuned model"
    BASELINE = "baseline", "Loudness baseline"


class JobSource(models.TextChoices):
    UPLOAD = "upload", "Uploaded stems"
    DEMO = "demo", "Demo song"


class AdvisorJob(models.Model):
    State = JobState
    Advisor = JobAdvisor
    Source = JobSource

    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    folder = models.CharField(max_length=64, unique=True, default=new_folder, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="advisor_jobs",
        help_text="The signed-in user who asked; empty for anonymous visitors.",
    )
    source = models.CharField(max_length=16, choices=Source.choices)
    demo_scenario = models.CharField(max_length=200, blank=True, help_text="Scenario id of a demo song.")
    advisor = models.CharField(max_length=16, choices=Advisor.choices)
    anchor = models.CharField(max_length=16, choices=ROLE_CHOICES)
    genre = models.CharField(max_length=64, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED)
    progress = models.FloatField(default=0.0, help_text="Fraction done, 0 to 1.")
    stage = models.CharField(max_length=200, blank=True, help_text="What the worker is doing now.")
    notices = models.JSONField(
        default=list, blank=True, help_text="What was changed or noticed in the stems."
    )
    sample_rate = models.PositiveIntegerField(null=True, blank=True)
    loudness_lufs = models.JSONField(default=dict, blank=True, help_text="Role -> LUFS; null when silent.")
    advice_text = models.TextField(blank=True)
    corrections_db = models.JSONField(
        default=dict, blank=True, help_text="Role -> dB parsed from the advice."
    )
    loudness_match_db = models.JSONField(
        default=dict, blank=True, help_text="State -> master gain that plays the states at equal loudness."
    )
    generator = models.JSONField(default=dict, blank=True, help_text="Model or rule, hashes, seconds.")
    error = models.TextField(blank=True)
    task_id = models.CharField(max_length=64, blank=True, help_text="django-q task id.")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    purged_at = models.DateTimeField(null=True, blank=True, help_text="When purge_uploads deleted the audio.")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["owner", "-created_at"], name="modelgen_job_owner_created")]
        constraints = [
            models.CheckConstraint(
                condition=Q(progress__gte=0) & Q(progress__lte=1), name="modelgen_advisorjob_progress_range"
            ),
            models.CheckConstraint(
                condition=Q(anchor__in=STEMS), name="modelgen_advisorjob_anchor_is_a_stem"
            ),
            models.CheckConstraint(
                condition=Q(state__in=JobState.values), name="modelgen_advisorjob_state_valid"
            ),
            models.CheckConstraint(
                condition=Q(advisor__in=JobAdvisor.values),
                name="modelgen_advisorjob_advisor_valid",
            ),
            models.CheckConstraint(
                condition=(Q(source="demo") & ~Q(demo_scenario=""))
                | (Q(source="upload") & Q(demo_scenario="")),
                name="modelgen_advisorjob_demo_names_its_scenario",
            ),
            models.CheckConstraint(
                condition=~Q(state="done")
                | (~Q(advice_text="") & Q(progress=1) & Q(finished_at__isnull=False)),
                name="modelgen_advisorjob_done_has_advice",
            ),
            models.CheckConstraint(
                condition=~Q(state="failed") | (~Q(error="") & Q(finished_at__isnull=False)),
                name="modelgen_advisorjob_failed_has_error",
            ),
        ]

    def __str__(self):
        return f"advisor job {self.pk} ({self.get_state_display()}, anchor {self.anchor})"

    def get_absolute_url(self):
        return reverse("advisor_result", kwargs={"token": self.token})

    @property
    def finished(self):
        return self.state in (self.State.DONE, self.State.FAILED)


class AdvisorStem(models.Model):
    """One stem file given to a job: uploaded, or copied from a demo song."""

    job = models.ForeignKey(AdvisorJob, on_delete=models.CASCADE, related_name="stems")
    position = models.PositiveSmallIntegerField(help_text="Order in which the stems were given.")
    role = models.CharField(max_length=16, choices=ROLE_CHOICES)
    original_name = models.CharField(
        max_length=255, help_text="File name as uploaded (shown, never used as a path)."
    )
    stored_name = models.CharField(max_length=64, help_text="Random file name inside the job's folder.")
    audio_format = models.CharField(max_length=16)
    sample_rate = models.PositiveIntegerField()
    channels = models.PositiveSmallIntegerField()
    frames = models.PositiveBigIntegerField()
    size_bytes = models.PositiveBigIntegerField()

    class Meta:
        ordering = ["job", "position"]
        constraints = [
            models.UniqueConstraint(fields=["job", "position"], name="modelgen_advisorstem_position_once"),
            models.UniqueConstraint(
                fields=["job", "stored_name"], name="modelgen_advisorstem_stored_name_once"
            ),
            models.CheckConstraint(condition=Q(role__in=STEMS), name="modelgen_advisorstem_role_is_a_stem"),
            models.CheckConstraint(
                condition=Q(channels__gte=1) & Q(channels__lte=2), name="modelgen_advisorstem_mono_or_stereo"
            ),
            models.CheckConstraint(
                condition=Q(sample_rate__gt=0) & Q(frames__gt=0), name="modelgen_advisorstem_has_audio"
            ),
        ]

    def __str__(self):
        return f"{self.original_name} as {self.role}"

    @property
    def seconds(self):
        return self.frames / self.sample_rate
