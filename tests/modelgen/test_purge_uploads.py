"""purge_uploads deletes old uploads and their jobs' files, keeps recent ones and the advice text."""

import os
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from modelgen.advisor_inference import demo_dataset_dir
from modelgen.advisor_service import job_folder, job_run
from modelgen.models import AdvisorJob
from modelgen.uploads import uploads_root
from tests.modelgen.stem_files import write_norms
from tests.modelgen.test_advisor_service import create_job

pytestmark = pytest.mark.django_db


def make_job(tmp_path, *, days_old):
    job = create_job(tmp_path, [("v.wav", "vocals", None, 44100), ("d.wav", "drums", None, 44100)])
    job_run(job_id=job.pk)
    AdvisorJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(days=days_old))
    job.refresh_from_db()
    return job


def purge(days):
    out = StringIO()
    call_command("purge_uploads", "--older-than", str(days), stdout=out)
    return out.getvalue()


def test_old_jobs_lose_their_files_but_keep_their_advice(tmp_path, client):
    write_norms(demo_dataset_dir() / "norms.json")
    old, recent = make_job(tmp_path, days_old=10), make_job(tmp_path, days_old=1)
    assert job_folder(old).is_dir() and any(job_folder(old).rglob("*.wav"))
    output = purge(7)
    assert output.startswith("Purged 1 job(s) older than 7 day(s): 1 folder(s),")
    assert not job_folder(old).exists()
    assert job_folder(recent).is_dir()
    old.refresh_from_db()
    assert old.purged_at is not None and old.advice_text
    page = client.get(old.get_absolute_url()).content.decode()
    assert "The audio of this request was deleted" in page
    assert client.get(f"{old.get_absolute_url()}audio/drums.wav").status_code == 404
    assert purge(7).startswith("Purged 0 job(s)")


def test_stray_upload_folders_older_than_the_cutoff_are_deleted(tmp_path):
    stray, fresh = uploads_root() / "abandoned", uploads_root() / "in-flight"
    for folder in (stray, fresh):
        folder.mkdir(parents=True)
        (folder / "x.upload").write_bytes(b"0" * 1024)
    old = (timezone.now() - timedelta(days=3)).timestamp()
    os.utime(stray, (old, old))
    assert "1 folder(s)" in purge(2)
    assert not stray.exists() and fresh.exists()


def test_a_negative_age_is_refused():
    with pytest.raises(CommandError, match="--older-than must be 0 or more days"):
        purge(-1)
