"""Stimuli: reference stems, mixes, model inputs with the offsets, no clipping, hashes."""

import numpy as np
import pytest
import soundfile

from modelgen import audio
from modelgen.corpus import open_corpus
from modelgen.provenance import file_sha256
from modelgen.scenarios import ScenarioConfig, analyse_song, plan_song
from modelgen.stimuli import render_group
from tests.modelgen.builders import make_corpus


@pytest.fixture(scope="module")
def song(tmp_path_factory):
    corpus = make_corpus(tmp_path_factory.mktemp("stimuli") / "corpus", songs=1, seconds=12, seed=2)
    return open_corpus(corpus)[0]


@pytest.fixture(scope="module")
def planned(song):
    config = ScenarioConfig(flaw_mix={"2+": 1.0}, scenarios_per_segment=3)
    return plan_song(analyse_song(song, config), config, run_seed=4)


@pytest.fixture(scope="module")
def rendered(planned, song, tmp_path_factory):
    out = tmp_path_factory.mktemp("rendered")
    return out, render_group(planned, {song.name: song}, out)


def rms_db(clip):
    return 20 * np.log10(np.sqrt(np.mean(np.square(clip, dtype=np.float64))))


def test_offsets_are_recovered_from_the_model_inputs_within_0_1_db(planned, rendered):
    out, results = rendered
    checked = 0
    for scenario in planned:
        paths = results[scenario["id"]]["audio"]
        for stem, clip_path in zip(scenario["stems"], paths["model_inputs"]):
            model, rate = soundfile.read(out / clip_path, dtype="float32")
            reference, ref_rate = audio.load_audio(out / paths["reference"][stem])
            assert rate == audio.MODEL_SAMPLE_RATE and model.ndim == 1
            recovered = rms_db(model) - rms_db(audio.to_model_input(reference, ref_rate))
            assert recovered == pytest.approx(scenario["gains_db"][stem], abs=0.1)
            checked += scenario["gains_db"][stem] != 0
    assert checked >= 2


def test_model_inputs_are_in_prompt_order_with_the_anchor_first(planned, rendered):
    _, results = rendered
    for scenario in planned:
        names = [path.rsplit("/", 1)[1] for path in results[scenario["id"]]["audio"]["model_inputs"]]
        assert names == [f"{index}_{stem}.wav" for index, stem in enumerate(scenario["stems"])]


def test_reference_files_are_44_1_khz_stereo_and_sum_to_the_reference_mix(planned, rendered):
    out, results = rendered
    paths = results[planned[0]["id"]]["audio"]
    stems = [audio.load_audio(out / path) for path in paths["reference"].values()]
    assert all(rate == 44_100 and clip.shape[1] == 2 for clip, rate in stems)
    mixed, _ = audio.load_audio(out / paths["reference_mix"])
    assert np.max(np.abs(sum(clip for clip, _ in stems) - mixed)) < 5 / 32768


def test_no_rendered_file_peaks_above_the_ceiling(rendered):
    out, results = rendered
    for result in results.values():
        for path in result["audio"]["sha256"]:
            assert audio.peak_dbfs(audio.load_audio(out / path)[0]) <= -1.0 + 1e-3
        assert result["headroom_db"] >= 1.0


def test_every_file_is_hashed(rendered):
    out, results = rendered
    for result in results.values():
        for path, digest in result["audio"]["sha256"].items():
            assert file_sha256(out / path) == digest


def test_loudness_matching_gains_play_both_mixes_equally_loud(planned, rendered):
    out, results = rendered
    paths = results[planned[0]["id"]]["audio"]
    given, rate = audio.load_audio(out / paths["as_given_mix"])
    reference, _ = audio.load_audio(out / paths["reference_mix"])
    gains = paths["loudness_match_db"]
    matched_given = audio.integrated_loudness(audio.apply_gain_db(given, gains["as_given"]), rate)
    matched_reference = audio.integrated_loudness(audio.apply_gain_db(reference, gains["reference"]), rate)
    assert matched_given == pytest.approx(matched_reference, abs=0.1)
    assert max(gains.values()) == 0.0


def test_a_scenario_that_would_clip_is_scaled_as_a_whole(planned, song, tmp_path):
    loud = [
        {
            **planned[0],
            "gains_db": {
                stem: (0.0 if stem == planned[0]["anchor"] else 12.0) for stem in planned[0]["stems"]
            },
        }
    ]
    result = render_group(loud, {song.name: song}, tmp_path)[loud[0]["id"]]
    assert result["scale_db"] < 0
    start = round(loud[0]["segment_start_s"] * song.sample_rate)
    for stem, path in result["audio"]["reference"].items():
        rendered, _ = audio.load_audio(tmp_path / path)
        source = song.read(stem, start, rendered.shape[0])
        if audio.peak_dbfs(source) is not None:
            assert rms_db(rendered) - rms_db(source) == pytest.approx(result["scale_db"], abs=0.05)
    assert audio.peak_dbfs(audio.load_audio(tmp_path / result["audio"]["as_given_mix"])[0]) <= -1.0 + 1e-3


def test_scenarios_of_different_segments_cannot_share_a_render(planned, song, tmp_path):
    other = {**planned[0], "render_group": "elsewhere"}
    with pytest.raises(ValueError, match="one group"):
        render_group([planned[0], other], {song.name: song}, tmp_path)


def test_wav_stimuli_hold_the_same_samples_as_flac(planned, song, rendered, tmp_path):
    out, results = rendered
    wav = render_group(planned, {song.name: song}, tmp_path, audio_format="wav")
    first = planned[0]["id"]
    assert wav[first]["audio"]["as_given_mix"].endswith(".wav")
    flac_audio, _ = audio.load_audio(out / results[first]["audio"]["as_given_mix"])
    wav_audio, _ = audio.load_audio(tmp_path / wav[first]["audio"]["as_given_mix"])
    assert np.array_equal(flac_audio, wav_audio)


def test_an_unknown_audio_format_is_refused(planned, song, tmp_path):
    with pytest.raises(ValueError, match="audio_format 'mp3'"):
        render_group(planned, {song.name: song}, tmp_path, audio_format="mp3")


def test_a_gain_shifts_integrated_loudness_by_exactly_the_gain(song):
    # BS.1770 is a mean square with a relative gate: a gain of g dB moves every block and the
    # gate together, so loudness moves by g LU. The build relies on this for the loudness of
    # scaled and hybrid stems instead of measuring them again.
    clip = song.read("drums", 0, 5 * song.sample_rate)
    measured = audio.integrated_loudness(clip, song.sample_rate)
    for gain_db in (-12.0, -3.5, 4.2, 9.0):
        shifted = audio.integrated_loudness(audio.apply_gain_db(clip, gain_db), song.sample_rate)
        assert shifted - measured == pytest.approx(gain_db, abs=1e-3)


def test_the_absolute_gate_is_where_a_gain_stops_shifting_loudness_exactly():
    rate = 44_100
    t = np.arange(rate * 2) / rate
    tone = np.sin(2 * np.pi * 1000 * t).astype(np.float32)
    halves = np.concatenate([10 ** (-59 / 20) * tone, 10 ** (-63 / 20) * tone])  # about -62 and -66 LUFS
    before = audio.integrated_loudness(halves, rate)
    after = audio.integrated_loudness(audio.apply_gain_db(halves, -6.0), rate)
    assert -70 < before < -60
    assert after - before > -6.0 + 0.5  # the quieter half fell under -70 LUFS and no longer counts
    assert audio.integrated_loudness(audio.apply_gain_db(halves, -20.0), rate) is None


def test_a_balanced_scenario_plays_the_reference_mix_as_given(planned, song, tmp_path):
    balanced = [{**planned[0], "gains_db": dict.fromkeys(planned[0]["stems"], 0.0)}]
    result = render_group(balanced, {song.name: song}, tmp_path)[balanced[0]["id"]]["audio"]
    assert result["as_given_mix"] != result["reference_mix"]
    assert (tmp_path / result["as_given_mix"]).read_bytes() == (
        tmp_path / result["reference_mix"]
    ).read_bytes()
    assert result["loudness_match_db"] == {"as_given": 0.0, "reference": 0.0}


def test_wav_files_are_canonical_16_bit_pcm(planned, song, tmp_path):
    import wave

    results = render_group(planned, {song.name: song}, tmp_path, audio_format="wav")
    paths = results[planned[0]["id"]]["audio"]
    for path, channels, rate in (
        (paths["reference_mix"], 2, 44_100),
        (paths["model_inputs"][0], 1, audio.MODEL_SAMPLE_RATE),
    ):
        with wave.open(str(tmp_path / path)) as handle:
            assert (handle.getnchannels(), handle.getsampwidth(), handle.getframerate()) == (
                channels,
                2,
                rate,
            )
            assert handle.getnframes() * channels * 2 + 44 == (tmp_path / path).stat().st_size
