"""Every write of the advisor page: create a job, run it on a worker, record progress, purge.

A job is created with its stems and its queue task in one transaction (the django-q ORM
broker's queue row lives in the same database), so a job is never queued without its stems
or stored without its task. ``job_run`` is what the worker calls (through
``modelgen.jobs.advisor_job_run``): it claims the job, conforms the stems, asks the advisor,
measures the loudness match and stores the result, reporting progress as it goes.
"""

import logging
import shutil
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import numpy as np
from django.db import transaction
from django.utils import timezone

from modelgen.advisor_inference import AdvisorError, advise
from modelgen.audio import AudioError, load_audio, loudness_match_gains, mix
from modelgen.models import AdvisorJob, AdvisorStem
from modelgen.uploads import UploadRejected, conform, uploads_root

log = logging.getLogger(__name__)

TASK = "modelgen.jobs.advisor_job_run"
STEMS_FOLDER = "stems"
MODEL_FOLDER = "model"
HEADROOM_PEAK = 0.98
"""Peak the browser copies of the stems are kept under (all turned down together if needed)."""


def job_folder(job):
    """The job's folder under the uploads directory."""
    return uploads_root() / job.folder


def job_stem_path(job, role):
    """The browser copy of one role's stem (16-bit WAV written by :func:`job_run`)."""
    return job_folder(job) / STEMS_FOLDER / f"{role}.wav"


def job_create(*, saved, roles, anchor_index, advisor, genre, owner, source, demo_scenario=""):
    """Store a job for stems already saved by ``uploads.uploads_save``/``files_copy`` and queue it.

    Parameters
    ----------
    saved : modelgen.uploads.SavedUploads
    roles : list of str
        Role of each stem, in the order of ``saved.infos``.
    anchor_index : int
        Which stem is the anchor; its role is the job's anchor.
    advisor : str
        ``AdvisorJob.Advisor`` value.
    genre : str
    owner : User or None
        The signed-in user; anonymous visitors own nothing.
    source : str
        ``AdvisorJob.Source`` value.

    Returns
    -------
    AdvisorJob
        Queued. When storing fails, the saved files are deleted as well.
    """
    from django_q.tasks import async_task

    try:
        with transaction.atomic():
            job = AdvisorJob.objects.create(
                folder=saved.folder,
                owner=owner if owner is not None and owner.is_authenticated else None,
                source=source,
                demo_scenario=demo_scenario,
                advisor=advisor,
                anchor=roles[anchor_index],
                genre=genre or "",
                notices=list(saved.notices),
                stage="Waiting for a worker",
            )
            AdvisorStem.objects.bulk_create(
                AdvisorStem(
                    job=job,
                    position=position,
                    role=role,
                    original_name=info.name[:255],
                    stored_name=stored,
                    audio_format=info.audio_format,
                    sample_rate=info.sample_rate,
                    channels=info.channels,
                    frames=info.frames,
                    size_bytes=info.size_bytes,
                )
                for position, (info, stored, role) in enumerate(zip(saved.infos, saved.stored_names, roles))
            )
            job.task_id = async_task(TASK, job.pk, task_name=f"advisor-job-{job.pk}", group="advisor")
            job.save(update_fields=["task_id"])
    except BaseException:
        shutil.rmtree(uploads_root() / saved.folder, ignore_errors=True)
        raise
    return job


def job_claim(*, job_id):
    """Move a queued job to running; ``False`` when it is not queued (already run or deleted)."""
    now = timezone.now()
    return bool(
        AdvisorJob.objects.filter(pk=job_id, state=AdvisorJob.State.QUEUED).update(
            state=AdvisorJob.State.RUNNING, started_at=now, progress=0.02, stage="Reading the stems"
        )
    )


def job_progress(*, job, fraction, stage):
    """Record how far a running job is (``fraction`` in [0, 1]) and what it is doing."""
    fraction = min(1.0, max(0.0, float(fraction)))
    AdvisorJob.objects.filter(pk=job.pk, state=AdvisorJob.State.RUNNING).update(
        progress=fraction, stage=stage
    )


def job_fail(*, job, error):
    """Mark a job failed with a message for the engineer."""
    AdvisorJob.objects.filter(pk=job.pk).update(
        state=AdvisorJob.State.FAILED,
        error=str(error) or "The advisor failed.",
        finished_at=timezone.now(),
        stage="",
    )


def job_finish(*, job, sample_rate, notices, advice, loudness_match_db):
    """Store the advice and mark the job done."""
    AdvisorJob.objects.filter(pk=job.pk).update(
        state=AdvisorJob.State.DONE,
        progress=1.0,
        stage="Done",
        finished_at=timezone.now(),
        sample_rate=sample_rate,
        notices=notices,
        advice_text=advice.text,
        corrections_db=advice.corrections_db,
        loudness_lufs=advice.levels_lufs,
        loudness_match_db=loudness_match_db,
        generator=advice.generator,
    )


def _write_browser_copies(job, stems, sample_rate):
    """16-bit WAV per role for the player, all scaled by one gain so that none clips."""
    import soundfile

    peak = max(float(np.max(np.abs(audio))) for audio in stems.values())
    scale = HEADROOM_PEAK / peak if peak > HEADROOM_PEAK else 1.0
    folder = job_folder(job) / STEMS_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    for role, audio in stems.items():
        partial = folder / f".{role}.partial.wav"
        soundfile.write(partial, audio * np.float32(scale), sample_rate, subtype="PCM_16", format="WAV")
        partial.replace(folder / f"{role}.wav")
    return scale


def _compute(job):
    from django.conf import settings

    stems = list(job.stems.all())
    loaded = []
    for number, stem in enumerate(stems, start=1):
        audio, rate = load_audio(job_folder(job) / stem.stored_name)
        loaded.append((stem.original_name, stem.role, audio, rate))
        job_progress(
            job=job, fraction=0.02 + 0.18 * number / len(stems), stage=f"Reading {stem.original_name}"
        )
    job_progress(job=job, fraction=0.25, stage="Matching sample rates, lengths and channels")
    conformed = conform(loaded)
    if job.anchor in conformed.silent:
        raise AdvisorError(
            f"The anchor ({job.anchor}) is silent: there is nothing to balance against. Choose an audible anchor."
        )
    job_progress(job=job, fraction=0.4, stage="Preparing the stems for the player")
    scale = _write_browser_copies(job, conformed.stems, conformed.sample_rate)
    notices = list(job.notices) + conformed.notices
    if scale < 1.0:
        notices.append(
            f"The summed stems peak above full scale: the player's copies are turned down together by "
            f"{-20 * np.log10(scale):.1f} dB (the balance is unchanged)."
        )
    job_progress(job=job, fraction=0.5, stage="Asking the advisor")
    advice = advise(
        advisor=job.advisor,
        anchor=job.anchor,
        stems=conformed.stems,
        sample_rate=conformed.sample_rate,
        silent=conformed.silent,
        genre=job.genre,
        clip_folder=job_folder(job) / MODEL_FOLDER,
        seconds=float(settings.MIXADVICE_ADVISOR_CLIP_SECONDS),
    )
    notices += advice.notices
    job_progress(job=job, fraction=0.9, stage="Matching the loudness of the two versions")
    match = loudness_match_gains(
        {
            "as_given": mix(conformed.stems),
            "advice_applied": mix(conformed.stems, advice.corrections_db),
        },
        conformed.sample_rate,
    )
    return conformed.sample_rate, notices, advice, match


def job_run(*, job_id):
    """Run one queued job to the end (the worker's task).

    Returns
    -------
    str
        ``done``, ``failed`` (a problem with the stems or the advisor, shown to the engineer)
        or ``skipped`` (the job was not queued). An unexpected error marks the job failed and
        is raised again, so the queue records it with its traceback.
    """
    if not job_claim(job_id=job_id):
        log.info("advisor job %s is not queued; nothing to do", job_id)
        return "skipped"
    job = AdvisorJob.objects.get(pk=job_id)
    try:
        sample_rate, notices, advice, match = _compute(job)
    except (AudioError, UploadRejected, AdvisorError, FileNotFoundError) as error:
        log.info("advisor job %s failed: %s", job_id, error)
        job_fail(job=job, error=error)
        return "failed"
    except Exception:
        log.exception("advisor job %s failed unexpectedly", job_id)
        job_fail(
            job=job,
            error="The advisor failed unexpectedly; the error is in the worker's log. Please try again.",
        )
        raise
    job_finish(job=job, sample_rate=sample_rate, notices=notices, advice=advice, loudness_match_db=match)
    return "done"


@dataclass(frozen=True)
class PurgeSummary:
    jobs: int
    folders: int
    bytes: int


def _size(path):
    return sum(item.stat().st_size for item in Path(path).rglob("*") if item.is_file())


def uploads_purge(*, older_than_days, now=None):
    """Delete the audio of jobs created more than ``older_than_days`` ago, and stray folders.

    The job rows stay (the advice text and the history remain) with ``purged_at`` set; their
    folders go. A folder under the uploads directory that belongs to no job (an upload whose
    request failed half way) is deleted once it is older than the cut-off too.

    Returns
    -------
    PurgeSummary
        Jobs purged, folders deleted and bytes freed.
    """
    if older_than_days < 0:
        raise ValueError(f"older_than_days must be at least 0, got {older_than_days}")
    now = now or timezone.now()
    cutoff = now - timedelta(days=older_than_days)
    root = uploads_root()
    jobs = list(
        AdvisorJob.objects.filter(created_at__lt=cutoff, purged_at__isnull=True).exclude(
            state__in=[AdvisorJob.State.QUEUED, AdvisorJob.State.RUNNING],
            created_at__gte=now - timedelta(days=1),
        )
    )
    folders = freed = 0
    for job in jobs:
        path = root / job.folder
        if path.is_dir():
            freed += _size(path)
            shutil.rmtree(path)
            folders += 1
    AdvisorJob.objects.filter(pk__in=[job.pk for job in jobs]).update(purged_at=now)
    if root.is_dir():
        known = set(AdvisorJob.objects.values_list("folder", flat=True))
        for path in root.iterdir():
            stale = path.stat().st_mtime < cutoff.timestamp()
            if path.is_dir() and path.name not in known and stale:
                freed += _size(path)
                shutil.rmtree(path)
                folders += 1
    return PurgeSummary(jobs=len(jobs), folders=folders, bytes=freed)
