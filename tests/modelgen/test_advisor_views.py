"""The advisor page through the test client: every bad upload gets its message, links, access, history."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from modelgen.advisor_inference import demo_dataset_dir
from modelgen.models import AdvisorJob
from tests.modelgen.stem_files import write_norms, write_stem
from tests.modelgen.test_advisor_service import create_job

pytestmark = pytest.mark.django_db
URL = "/advisor/"


@pytest.fixture(autouse=True)
def norms(settings):
    return write_norms(demo_dataset_dir() / "norms.json")


def stem(tmp_path, name, **kwargs):
    path = write_stem(tmp_path / "src" / name, **kwargs)
    return SimpleUploadedFile(name, path.read_bytes())


def post(client, files, roles, anchor=0, **extra):
    data = {"source": "upload", "stems": files, "roles": roles, "anchor": anchor, "advisor": "baseline"}
    return client.post(URL, data | extra)


def errors(response):
    """The refusals listed at the top of the form (and only those)."""
    listed = [str(message) for message in response.context["upload_errors"]]
    html = response.content.decode()
    assert all(message.replace("'", "&#x27;") in html for message in listed)
    return listed


def test_the_page_offers_upload_demo_and_the_baseline(client):
    response = client.get(URL)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Try the advisor</h1>" in html
    assert 'value="baseline"' in html and "No demo songs here yet" in html


def test_good_upload_redirects_to_an_unguessable_result_link(client, tmp_path):
    response = post(client, [stem(tmp_path, "vocals.wav"), stem(tmp_path, "drums.flac")], ["vocals", "drums"])
    job = AdvisorJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/advisor/r/{job.token}/"
    assert len(job.token) >= 43
    page = client.get(response["Location"]).content.decode()
    assert 'id="job-progress"' in page and "Waiting for a worker" in page


def test_text_file_gets_not_audio_message(client, tmp_path):
    fake = SimpleUploadedFile("drums.wav", b"this is a text file")
    response = post(client, [stem(tmp_path, "vocals.wav"), fake], ["vocals", "drums"])
    assert errors(response) == [
        "drums.wav is not an audio file (or it is damaged): upload WAV, FLAC or AIFF files."
    ]
    assert AdvisorJob.objects.count() == 0


def test_unsupported_format_gets_its_message(client, tmp_path):
    ogg = stem(tmp_path, "drums.ogg", format="OGG", subtype="VORBIS")
    response = post(client, [stem(tmp_path, "vocals.wav"), ogg], ["vocals", "drums"])
    assert errors(response) == [
        "drums.ogg is Ogg audio, which is not supported: upload WAV, FLAC or AIFF files."
    ]


def test_too_many_stems_get_the_limit(client, tmp_path):
    files = [stem(tmp_path, f"s{i}.wav", seconds=1.0) for i in range(9)]
    response = post(client, files, ["vocals"] + ["other"] * 8)
    assert errors(response) == ["Upload at most 8 stems (got 9); combine related stems first."]


def test_one_stem_is_not_enough(client, tmp_path):
    response = post(client, [stem(tmp_path, "vocals.wav")], ["vocals"])
    assert "Upload at least 2 stems (got 1)" in errors(response)[0]


def test_over_the_size_limit_gets_its_message(client, tmp_path, settings):
    settings.MIXADVICE_ADVISOR_MAX_UPLOAD_MB = 1
    files = [stem(tmp_path, "vocals.wav", seconds=4.0), stem(tmp_path, "drums.wav", seconds=4.0)]
    response = post(client, files, ["vocals", "drums"])
    assert errors(response) == [
        "The stems are 1.3 MB together, over the limit of 1 MB; upload shorter excerpts or FLAC files."
    ]


def test_a_far_too_large_upload_is_refused_before_it_is_stored(client, tmp_path, settings):
    settings.MIXADVICE_ADVISOR_MAX_UPLOAD_MB = 1
    files = [stem(tmp_path, "vocals.wav", seconds=10.0), stem(tmp_path, "drums.wav", seconds=10.0)]
    response = post(client, files, ["vocals", "drums"])
    assert response.status_code == 413
    assert errors(response)[0].startswith("The stems are 3.4 MB together, over the limit of 1 MB")
    assert not (settings.DATA_DIR / "uploads").exists()


def test_uploads_still_need_the_csrf_token(tmp_path):
    from django.test import Client

    response = post(
        Client(enforce_csrf_checks=True),
        [stem(tmp_path, "v.wav"), stem(tmp_path, "d.wav")],
        ["vocals", "drums"],
    )
    assert response.status_code == 403
    assert AdvisorJob.objects.count() == 0


def test_over_the_duration_limit_gets_its_message(client, tmp_path, settings):
    settings.MIXADVICE_ADVISOR_MAX_SECONDS = 2
    response = post(
        client, [stem(tmp_path, "vocals.wav", seconds=3.0), stem(tmp_path, "drums.wav")], ["vocals", "drums"]
    )
    assert errors(response) == ["vocals.wav is 3 s long, over the limit of 2 s; upload an excerpt."]


def test_missing_roles_and_anchor_are_named(client, tmp_path):
    files = [stem(tmp_path, "a.wav"), stem(tmp_path, "b.wav")]
    response = client.post(
        URL, {"source": "upload", "stems": files, "roles": ["vocals"], "advisor": "baseline"}
    )
    assert "Give each stem a role: 2 files but 1 roles." in response.content.decode()
    response = post(client, [stem(tmp_path, "a.wav"), stem(tmp_path, "b.wav")], ["other", "other"])
    assert any("at least two different roles" in e for e in errors(response))


def test_differences_the_advisor_fixes_are_noticed_on_the_result_page(client, tmp_path):
    files = [
        stem(tmp_path, "vocals.wav", rate=48000, channels=1, seconds=2.0),
        stem(tmp_path, "drums.aiff", seconds=3.0, format="AIFF"),
    ]
    response = post(client, files, ["vocals", "drums"])
    page = client.get(response["Location"]).content.decode()
    assert "Sample rates differ (vocals.wav 48000 Hz, drums.aiff 44100 Hz)" in page
    assert "Lengths differ" in page and "padded with silence to 3.00 s" in page
    assert "Mono and stereo stems are mixed" in page


def test_status_reports_state_and_progress_as_json(client, tmp_path):
    job = create_job(tmp_path, [("v.wav", "vocals", None, 44100), ("d.wav", "drums", None, 44100)])
    status = client.get(reverse("advisor_status", kwargs={"token": job.token})).json()
    assert status == {
        "state": "queued",
        "state_label": "Waiting for a worker",
        "progress": 0.0,
        "stage": "Waiting for a worker",
        "finished": False,
        "error": "",
        "hint": "",
        "result_url": job.get_absolute_url(),
    }


def test_a_job_nobody_picks_up_says_to_start_the_worker(client, tmp_path):
    job = create_job(tmp_path, [("v.wav", "vocals", None, 44100), ("d.wav", "drums", None, 44100)])
    AdvisorJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(minutes=2))
    status = client.get(reverse("advisor_status", kwargs={"token": job.token})).json()
    assert "start it with `python manage.py qcluster`" in status["hint"]
    assert "the queue worker is not running" in client.get(job.get_absolute_url()).content.decode()


def test_a_job_running_past_the_time_limit_says_its_worker_stopped(client, tmp_path, settings):
    job = create_job(tmp_path, [("v.wav", "vocals", None, 44100), ("d.wav", "drums", None, 44100)])
    started = timezone.now() - timedelta(seconds=settings.MIXADVICE_ADVISOR_JOB_TIMEOUT + 120)
    AdvisorJob.objects.filter(pk=job.pk).update(state="running", started_at=started)
    status = client.get(reverse("advisor_status", kwargs={"token": job.token})).json()
    assert status["hint"].startswith("This has run longer than the job time limit")


def test_a_wrong_token_finds_nothing(client):
    assert client.get("/advisor/r/not-a-token/").status_code == 404
    assert client.get("/advisor/r/not-a-token/status/").status_code == 404


def test_audio_is_served_only_for_a_finished_job_and_known_roles(client, tmp_path):
    from modelgen.advisor_service import job_run

    job = create_job(tmp_path, [("v.wav", "vocals", None, 44100), ("d.wav", "drums", None, 44100)])
    url = reverse("advisor_audio", kwargs={"token": job.token, "role": "drums"})
    assert client.get(url).status_code == 404
    job_run(job_id=job.pk)
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "audio/wav"
    assert b"".join(response.streaming_content)[:4] == b"RIFF"
    assert (
        client.get(reverse("advisor_audio", kwargs={"token": job.token, "role": "piano"})).status_code == 404
    )


def test_signed_in_users_see_their_history_and_nobody_elses(client, tmp_path, outsider, researcher):
    mine = create_job(
        tmp_path, [("v.wav", "vocals", None, 44100), ("d.wav", "drums", None, 44100)], owner=outsider
    )
    theirs = create_job(
        tmp_path, [("v.wav", "vocals", None, 44100), ("b.wav", "bass", None, 44100)], owner=researcher
    )
    client.force_login(outsider)
    html = client.get(URL).content.decode()
    assert mine.get_absolute_url() in html and theirs.get_absolute_url() not in html


def test_anonymous_uploads_have_no_owner_and_no_history(client, tmp_path):
    post(client, [stem(tmp_path, "vocals.wav"), stem(tmp_path, "drums.wav")], ["vocals", "drums"])
    assert AdvisorJob.objects.get().owner is None
    assert 'id="history"' not in client.get(URL).content.decode()


def test_when_not_public_only_signed_in_users_get_in(client, settings, outsider):
    settings.MIXADVICE_ADVISOR_PUBLIC = False
    response = client.get(URL)
    assert response.status_code == 302 and "/admin/login/?next=/advisor/" in response["Location"]
    client.force_login(outsider)
    assert client.get(URL).status_code == 200


def test_no_advisor_configured_says_how_to_configure_one(client, norms):
    norms.unlink()
    html = client.get(URL).content.decode()
    assert "No advisor is configured on this server" in html


def test_demo_song_creates_a_job_from_the_demo_dataset(client, settings):
    from tests.modelgen.conftest import write_small_dataset

    write_small_dataset(demo_dataset_dir())
    write_norms(demo_dataset_dir() / "norms.json")
    html = client.get(URL).content.decode()
    assert "Synthetic - Song 01" in html
    response = client.post(
        URL, {"source": "demo", "demo_song": "s001", "demo_anchor": "bass", "advisor": "baseline"}
    )
    job = AdvisorJob.objects.get()
    assert response.status_code == 302
    assert (job.source, job.demo_scenario, job.anchor, job.genre) == ("demo", "s001", "bass", "rock")
    assert sorted(stem.role for stem in job.stems.all()) == ["bass", "drums", "other", "vocals"]
