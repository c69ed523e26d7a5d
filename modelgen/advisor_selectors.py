"""Every read of the advisor page: a job by its token, a user's history, progress, player setup, demo songs."""

from dataclasses import dataclass
from pathlib import Path

from django.urls import reverse

from modelgen.advisor_inference import demo_dataset_dir
from modelgen.models import AdvisorJob

HISTORY_LENGTH = 50
SPLIT_ORDER = {"test": 0, "valid": 1, "train": 2}
WORKER_HINT_SECONDS = 20
"""A queued job older than this gets a hint that no worker may be running."""


def job_get_by_token(token):
    """The job with this token (stems prefetched), or ``None``. The token is the only way in."""
    return AdvisorJob.objects.select_related("owner").prefetch_related("stems").filter(token=token).first()


def jobs_for_user(user):
    """A signed-in user's most recent jobs; empty for anonymous visitors."""
    if not user.is_authenticated:
        return AdvisorJob.objects.none()
    return AdvisorJob.objects.filter(owner=user).only(
        "token", "created_at", "state", "anchor", "advisor", "source", "demo_scenario", "advice_text"
    )[:HISTORY_LENGTH]


def job_hint(job, now=None):
    """A line for the engineer when a job waits or runs much longer than it should; else ``""``."""
    from django.conf import settings
    from django.utils import timezone

    now = now or timezone.now()
    if job.state == AdvisorJob.State.QUEUED and (now - job.created_at).total_seconds() > WORKER_HINT_SECONDS:
        return (
            "No worker has picked this up yet. If this lasts, the queue worker is not running: "
            "start it with `python manage.py qcluster` (make serve starts one)."
        )
    limit = settings.MIXADVICE_ADVISOR_JOB_TIMEOUT + 60
    if (
        job.state == AdvisorJob.State.RUNNING
        and job.started_at
        and (now - job.started_at).total_seconds() > limit
    ):
        return (
            "This has run longer than the job time limit: its worker has probably stopped. Please try again."
        )
    return ""


def job_status(job):
    """What the progress indicator polls: state, progress, a hint when stuck, the result link."""
    return {
        "state": job.state,
        "state_label": job.get_state_display(),
        "progress": round(job.progress, 3),
        "stage": job.stage,
        "finished": job.finished,
        "error": job.error,
        "hint": job_hint(job),
        "result_url": job.get_absolute_url(),
    }


def job_roles(job):
    """Roles of a job's stems in canonical order (what the player plays)."""
    from modelgen.corrections import STEMS

    present = {stem.role for stem in job.stems.all()}
    return [role for role in STEMS if role in present]


def player_config(job):
    """The MixPlayer setup of a finished job: stem URLs and the two loudness-matched states."""
    roles = job_roles(job)
    match = job.loudness_match_db or {}
    return {
        "stems": [
            {"name": role, "url": reverse("advisor_audio", kwargs={"token": job.token, "role": role})}
            for role in roles
        ],
        "states": {
            "as_given": {"gains_db": {}, "master_db": match.get("as_given", 0.0)},
            "advice_applied": {
                "gains_db": {role: db for role, db in job.corrections_db.items() if role in roles},
                "master_db": match.get("advice_applied", 0.0),
            },
        },
        "initialState": "as_given",
        "anchor": job.anchor,
    }


@dataclass(frozen=True)
class DemoSong:
    """One demo song offered on the advisor page: a scenario's reference stems."""

    scenario_id: str
    label: str
    genre: str
    stems: dict


def demo_songs():
    """Demo songs from the demo dataset's manifest; empty if there is none.

    One per song (its first scenario), songs the model never trained on (test, then valid split)
    first; cross-song hybrids are left out, since they are no song anyone mixed.

    Returns
    -------
    list of DemoSong
        ``stems`` maps role -> absolute path of the reference stem (original level).

    Raises
    ------
    modelgen.contracts.ContractError
        When the demo dataset's manifest does not follow the contract.
    """
    from modelgen.contracts import load_manifest

    folder = demo_dataset_dir()
    if not (folder / "manifest.json").is_file():
        return []
    manifest = load_manifest(folder / "manifest.json")
    songs, seen = [], set()
    held_out_first = sorted(manifest["scenarios"], key=lambda scenario: SPLIT_ORDER.get(scenario["split"], 3))
    for scenario in held_out_first:
        if scenario["song"] in seen or scenario["song"].startswith("hybrid:"):
            continue
        references = scenario["audio"].get("reference") or {}
        stems = {role: Path(folder) / path for role, path in references.items()}
        if len(stems) < 2 or not all(path.is_file() for path in stems.values()):
            continue
        seen.add(scenario["song"])
        start = scenario["segment_start_s"]
        label = (
            f"{scenario['song']} ({scenario['genre']}, {scenario['segment_seconds']:g} s from {start:g} s)"
        )
        songs.append(DemoSong(scenario_id=scenario["id"], label=label, genre=scenario["genre"], stems=stems))
    return songs


def demo_song_get(scenario_id):
    """The demo song with this scenario id, or ``None``."""
    return next((song for song in demo_songs() if song.scenario_id == scenario_id), None)
