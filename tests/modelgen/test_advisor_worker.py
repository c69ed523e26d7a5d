"""Advisor jobs run by a real django-q2 cluster (``manage.py qcluster``) in its own process."""

import time

import numpy as np
import pytest
from django_q.models import OrmQ, Success

from modelgen.advisor_inference import demo_dataset_dir
from modelgen.models import AdvisorJob
from tests.modelgen.stem_files import noise, write_norms
from tests.modelgen.test_advisor_service import create_job

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
WAIT_SECONDS = 90


def wait_until_finished(job, worker):
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.finished:
            return job
        assert worker.alive(), f"the worker died:\n{worker.log()}"
        time.sleep(0.2)
    pytest.fail(f"job still {job.state} after {WAIT_SECONDS} s; worker log:\n{worker.log()}")


def test_the_worker_runs_queued_jobs_to_advice(tmp_path, queue_worker):
    write_norms(demo_dataset_dir() / "norms.json")
    loud = create_job(
        tmp_path,
        [("v.wav", "vocals", noise(seed=1), 44100), ("d.wav", "drums", noise(seed=2, level_db=-14), 44100)],
    )
    silent_anchor = create_job(
        tmp_path,
        [("v.wav", "vocals", np.zeros((88200, 2), np.float32), 44100), ("b.wav", "bass", noise(), 44100)],
    )
    loud = wait_until_finished(loud, queue_worker)
    assert loud.state == AdvisorJob.State.DONE, loud.error or queue_worker.log()
    assert loud.corrections_db["drums"] == pytest.approx(-6.0, abs=1.5)
    assert loud.started_at is not None and loud.finished_at >= loud.started_at
    silent_anchor = wait_until_finished(silent_anchor, queue_worker)
    assert silent_anchor.state == AdvisorJob.State.FAILED
    assert "The anchor (vocals) is silent" in silent_anchor.error
    # The cluster acknowledges a task and records its result after the task has returned, so
    # the job row can be finished a moment before the queue row is gone: wait for both.
    done = Success.objects.filter(func="modelgen.jobs.advisor_job_run")
    deadline = time.monotonic() + WAIT_SECONDS
    while (OrmQ.objects.exists() or done.count() < 2) and time.monotonic() < deadline:
        assert queue_worker.alive(), f"the worker died:\n{queue_worker.log()}"
        time.sleep(0.2)
    assert OrmQ.objects.count() == 0, "every task is acknowledged"
    assert sorted(done.values_list("result", flat=True)) == ["done", "failed"]
