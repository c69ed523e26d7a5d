import pytest
from django.http import Http404
from django.test import RequestFactory
from django.urls import reverse

from study import media
from study.views import SESSION_KEY
from tests.factories import participant_in_trials, stem_audio_write


def _signed_in(client, participant):
    session = client.session
    session[SESSION_KEY] = participant.code
    session.save()
    return client


@pytest.fixture
def stems(study):
    return stem_audio_write(study, seconds=1.0)


@pytest.fixture
def stem_url(participant, stems):
    trial = participant.trials.order_by("position").first()
    return reverse(
        "study:stem_audio", kwargs={"code": participant.code, "trial_id": trial.pk, "stem": "drums"}
    )


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-99", (0, 99)),
        ("bytes=100-", (100, 999)),
        ("bytes=-100", (900, 999)),
        ("bytes=990-5000", (990, 999)),
        ("bytes=1000-", "unsatisfiable"),
        ("bytes=-0", "unsatisfiable"),
        ("bytes=5-2", None),
        ("bytes=0-1,5-9", None),
        ("items=0-1", None),
        (None, None),
    ],
)
def test_range_headers_are_parsed_against_the_body_size(header, expected):
    assert media.parse_range(header, 1000) == expected


def test_a_stored_path_cannot_climb_out_of_the_dataset_folder(tmp_path):
    root = tmp_path / "dataset"
    root.mkdir()
    (tmp_path / "secret.txt").write_text("no")
    (root / "ok.wav").write_bytes(b"RIFF")
    (root / "link.wav").symlink_to(tmp_path / "secret.txt")
    assert media.resolve_inside(root, "ok.wav") == (root / "ok.wav").resolve()
    for escaping in ("../secret.txt", str(tmp_path / "secret.txt"), "link.wav", "missing.wav"):
        with pytest.raises(Http404):
            media.resolve_inside(root, escaping)


def test_a_stem_is_served_whole_with_validators_and_caching_headers(client, participant, stem_url):
    response = _signed_in(client, participant).get(stem_url)
    body = b"".join(response.streaming_content)
    assert response.status_code == 200
    assert body[:4] == b"fLaC"
    assert int(response["Content-Length"]) == len(body)
    assert response["Accept-Ranges"] == "bytes"
    assert response["Content-Type"] == "audio/flac"
    assert response["ETag"].startswith('"') and response["Last-Modified"]
    assert "max-age" in response["Cache-Control"] and "private" in response["Cache-Control"]


def test_a_byte_range_answers_206_with_exactly_those_bytes(client, participant, stem_url):
    client = _signed_in(client, participant)
    whole = b"".join(client.get(stem_url).streaming_content)
    response = client.get(stem_url, HTTP_RANGE="bytes=10-109")
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes 10-109/{len(whole)}"
    assert b"".join(response.streaming_content) == whole[10:110]
    tail = client.get(stem_url, HTTP_RANGE="bytes=-50")
    assert b"".join(tail.streaming_content) == whole[-50:]


def test_a_range_past_the_end_answers_416(client, participant, stem_url):
    client = _signed_in(client, participant)
    response = client.get(stem_url, HTTP_RANGE="bytes=99999999-")
    assert response.status_code == 416
    assert response["Content-Range"].startswith("bytes */")


def test_an_unchanged_stem_answers_304_and_a_stale_if_range_gets_the_whole_file(
    client, participant, stem_url
):
    client = _signed_in(client, participant)
    first = client.get(stem_url)
    etag = first["ETag"]
    assert client.get(stem_url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert client.get(stem_url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"]).status_code == 304
    stale = client.get(stem_url, HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE='"stale"')
    assert stale.status_code == 200
    fresh = client.get(stem_url, HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE=etag)
    assert fresh.status_code == 206


def test_a_stem_of_another_participants_trial_is_404(client, study, participant, stems):
    other = participant_in_trials(study, external_ids={"PROLIFIC_PID": "other-pid"})
    foreign = other.trials.first()
    url = reverse(
        "study:stem_audio", kwargs={"code": participant.code, "trial_id": foreign.pk, "stem": "drums"}
    )
    assert _signed_in(client, participant).get(url).status_code == 404


def test_the_stem_url_answers_404_in_a_browser_session_that_did_not_start_the_participant(
    client, participant, stem_url
):
    assert client.get(stem_url).status_code == 404


def test_an_unknown_stem_is_404(client, participant, stems):
    trial = participant.trials.first()
    url = reverse(
        "study:stem_audio", kwargs={"code": participant.code, "trial_id": trial.pk, "stem": "kazoo"}
    )
    assert _signed_in(client, participant).get(url).status_code == 404


def test_a_scenario_path_that_escapes_the_dataset_folder_is_404(client, participant, stems, settings):
    (settings.DATA_DIR / "private.flac").write_bytes(b"fLaC secret")
    trial = participant.trials.first()
    scenario = trial.item.scenario
    scenario.audio = {**scenario.audio, "drums": "../private.flac"}
    scenario.save()
    url = reverse(
        "study:stem_audio", kwargs={"code": participant.code, "trial_id": trial.pk, "stem": "drums"}
    )
    assert _signed_in(client, participant).get(url).status_code == 404


def test_generated_bytes_are_served_with_ranges_too():
    request = RequestFactory().get("/", HTTP_RANGE="bytes=2-5")
    response = media.bytes_response(request, b"0123456789", content_type="audio/wav")
    assert response.status_code == 206
    assert b"".join(response.streaming_content) == b"2345"
    assert response["Content-Range"] == "bytes 2-5/10"


def test_only_get_and_head_are_answered():
    request = RequestFactory().post("/")
    assert media.bytes_response(request, b"x", content_type="audio/wav").status_code == 405
    head = media.bytes_response(RequestFactory().head("/"), b"abc", content_type="audio/wav")
    assert head["Content-Length"] == "3" and b"".join(head.streaming_content) == b""
