"""Upload validation and normalisation of the advisor's stems (modelgen.uploads)."""

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from modelgen.uploads import (
    StemInfo,
    UploadLimits,
    UploadRejected,
    check_count,
    check_info,
    check_roles,
    check_total_size,
    clipped_stretches,
    conform,
    planned_notices,
    probe,
    uploads_save,
)
from tests.modelgen.stem_files import noise, write_stem

LIMITS = UploadLimits()


def info(name="a.wav", *, rate=44100, channels=2, seconds=2.0):
    return StemInfo(name, "WAV", rate, channels, int(rate * seconds), 1000)


def upload(path, name=None):
    path = type(path)(path)
    return SimpleUploadedFile(name or path.name, path.read_bytes())


def test_one_stem_is_too_few_and_nine_are_too_many():
    assert "at least 2 stems (got 1)" in check_count(1, LIMITS)[0]
    assert "at most 8 stems (got 9)" in check_count(9, LIMITS)[0]
    assert check_count(8, LIMITS) == []


def test_total_size_over_the_limit_names_both_sizes():
    limits = UploadLimits(max_total_bytes=1024 * 1024)
    (message,) = check_total_size([700_000, 700_000], limits)
    assert "1.3 MB together, over the limit of 1 MB" in message
    assert check_total_size([500_000, 500_000], limits) == []


def test_a_stem_longer_than_the_limit_is_refused():
    (message,) = check_info(info("long.wav", seconds=601), LIMITS)
    assert message.startswith("long.wav is 10 min 1 s long, over the limit of 10 minutes")


def test_surround_stems_are_refused():
    (message,) = check_info(info("six.wav", channels=6), LIMITS)
    assert message == "six.wav has 6 channels; upload mono or stereo stems."


def test_roles_need_an_anchor_and_two_different_roles():
    assert check_roles(["vocals", "drums"], 0) == []
    assert any("Mark one stem as the anchor" in e for e in check_roles(["vocals", "drums"], 5))
    assert any("at least two different roles" in e for e in check_roles(["other", "other"], 0))
    assert any("Unknown stem roles ['piano']" in e for e in check_roles(["vocals", "piano"], 0))


def test_text_file_is_not_audio(tmp_path):
    path = tmp_path / "notes.wav"
    path.write_text("not audio at all")
    with pytest.raises(UploadRejected, match="notes.wav is not an audio file"):
        probe(path, "notes.wav", 16)


def test_ogg_content_is_refused_even_under_a_wav_name(tmp_path):
    path = write_stem(tmp_path / "x.ogg", format="OGG", subtype="VORBIS")
    with pytest.raises(
        UploadRejected, match="song.wav is OGG audio, which is not supported: upload WAV, FLAC"
    ):
        probe(path, "song.wav", path.stat().st_size)


def test_mp3_is_refused_by_name(tmp_path):
    path = tmp_path / "x.mp3"
    path.write_bytes(b"ID3\x03\x00")
    with pytest.raises(UploadRejected, match="mix.mp3 is MP3 audio, which is not supported"):
        probe(path, "mix.mp3", 5)


@pytest.mark.parametrize(("suffix", "shown"), [(".wav", "WAV"), (".flac", "FLAC"), (".aiff", "AIFF")])
def test_wav_flac_and_aiff_are_accepted(tmp_path, suffix, shown):
    path = write_stem(tmp_path / f"stem{suffix}", rate=48000, channels=1, seconds=1.5)
    probed = probe(path, path.name, path.stat().st_size)
    assert (probed.audio_format, probed.sample_rate, probed.channels) == (shown, 48000, 1)
    assert probed.seconds == pytest.approx(1.5)


def test_differences_between_stems_are_announced():
    infos = [info("v.wav", rate=48000, channels=1, seconds=2), info("d.wav", seconds=3), info("g.wav")]
    notices = planned_notices(infos, ["vocals", "other", "other"])
    assert any(n.startswith("Sample rates differ") and "resampled to 48000 Hz" in n for n in notices)
    assert any(n.startswith("Lengths differ") and "padded with silence to 3.00 s" in n for n in notices)
    assert any("Mono and stereo stems are mixed: the mono stems (v.wav)" in n for n in notices)
    assert any("d.wav, g.wav all have the role other: they are summed" in n for n in notices)


def test_alike_stems_get_no_notice():
    assert planned_notices([info("v.wav"), info("d.wav")], ["vocals", "drums"]) == []


def test_conform_resamples_pads_widens_and_sums_by_role():
    vocals = noise(seconds=1.0, rate=22050, channels=1, seed=1)
    guitar = noise(seconds=2.0, rate=44100, channels=2, seed=2)
    keys = noise(seconds=2.0, rate=44100, channels=2, seed=3)
    conformed = conform(
        [("v", "vocals", vocals, 22050), ("g", "other", guitar, 44100), ("k", "other", keys, 44100)]
    )
    assert conformed.sample_rate == 44100
    assert list(conformed.stems) == ["vocals", "other"]
    assert {audio.shape for audio in conformed.stems.values()} == {(88200, 2)}
    np.testing.assert_allclose(conformed.stems["other"], guitar + keys, atol=1e-6)
    assert not conformed.stems["vocals"][44200:].any(), "the shorter stem is padded with silence"


def test_silent_stem_is_reported_and_listed():
    silence = np.zeros((44100 * 2, 2), dtype=np.float32)
    conformed = conform([("v", "vocals", noise(), 44100), ("b", "bass", silence, 44100)])
    assert conformed.silent == ["bass"]
    assert "The bass stem is silent: the advice never moves it." in conformed.notices


def test_clipping_counts_stretches_at_full_scale_not_single_peaks():
    audio = np.zeros((1000, 1), dtype=np.float32)
    audio[10] = 1.0
    assert clipped_stretches(audio) == 0
    audio[100:110] = 1.0
    audio[500:504] = -1.0
    assert clipped_stretches(audio) == 2
    conformed = conform(
        [("loud.wav", "drums", np.clip(noise(level_db=0), -1, 1), 44100), ("v", "vocals", noise(), 44100)]
    )
    assert any(n.startswith("loud.wav clips (") for n in conformed.notices)


def test_uploads_save_stores_random_names_outside_the_web_root(tmp_path, settings):
    root = tmp_path / "uploads"
    files = [upload(write_stem(tmp_path / "vocals.wav")), upload(write_stem(tmp_path / "drums.flac"))]
    saved = uploads_save(files=files, roles=["vocals", "drums"], anchor_index=0, limits=LIMITS, root=root)
    stored = sorted(p.name for p in (root / saved.folder).iterdir())
    assert sorted(saved.stored_names) == stored
    assert not any("vocals" in name or "drums" in name for name in stored)
    assert [i.name for i in saved.infos] == ["vocals.wav", "drums.flac"]
    assert not str(root).startswith(str(settings.STATIC_ROOT))


def test_rejected_upload_lists_every_problem_and_leaves_nothing(tmp_path):
    root = tmp_path / "uploads"
    bad = SimpleUploadedFile("notes.wav", b"hello")
    long = upload(write_stem(tmp_path / "long.wav", seconds=3.0))
    limits = UploadLimits(max_seconds=2.0)
    with pytest.raises(UploadRejected) as caught:
        uploads_save(files=[bad, long], roles=["vocals", "drums"], anchor_index=0, limits=limits, root=root)
    assert len(caught.value.errors) == 2
    assert "notes.wav is not an audio file" in caught.value.errors[0]
    assert "long.wav is 3 s long, over the limit of 2 s" in caught.value.errors[1]
    assert list(root.iterdir()) == []
