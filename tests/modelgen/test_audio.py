"""Audio helpers: BS.1770 loudness on reference signals, gains, mixing, resampling, activity."""

import numpy as np
import pytest
import soundfile

from modelgen import audio

SR = 44_100


def sine(level_dbfs, seconds=5.0, frequency=1000.0, channels=2, sample_rate=SR):
    """A sine whose peak is ``level_dbfs`` (EBU Tech 3341's convention), in every channel."""
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    wave = (10 ** (level_dbfs / 20) * np.sin(2 * np.pi * frequency * t)).astype(np.float32)
    return np.repeat(wave[:, None], channels, axis=1)


def noise(seconds=5.0, scale=0.1, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((int(seconds * SR), 2)) * scale).astype(np.float32)


# EBU Tech 3341 (2016), table 1, test cases 1 and 2: a stereo 1 kHz sine at -23 dBFS (-33 dBFS)
# in both channels reads -23.0 (-33.0) LUFS +/- 0.1 LU. This follows from BS.1770-4: a 0 dBFS
# 1 kHz sine in one channel reads -3.01 LKFS, and two equal channels add 3.01 dB.
@pytest.mark.parametrize("level", [-23.0, -33.0])
def test_a_stereo_1khz_sine_reads_its_ebu_3341_loudness(level):
    assert audio.integrated_loudness(sine(level, seconds=20), SR) == pytest.approx(level, abs=0.1)


def test_a_mono_full_scale_1khz_sine_reads_minus_3_01_lkfs():
    assert audio.integrated_loudness(sine(0.0, channels=1), SR) == pytest.approx(-3.01, abs=0.1)


def test_a_signal_normalised_to_minus_23_lufs_measures_minus_23():
    signal = noise(seed=3)
    measured = audio.integrated_loudness(signal, SR)
    normalised = audio.apply_gain_db(signal, -23.0 - measured)
    assert audio.integrated_loudness(normalised, SR) == pytest.approx(-23.0, abs=0.1)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_loudness_agrees_with_pyloudnorm(seed):
    import pyloudnorm

    rng = np.random.default_rng(seed)
    signal = noise(seed=seed) * np.float32(rng.uniform(0.05, 0.8))
    signal[: SR // 2] *= 0.01  # a quiet start exercises the relative gate
    expected = pyloudnorm.Meter(SR).integrated_loudness(signal.astype(np.float64))
    assert audio.integrated_loudness(signal, SR) == pytest.approx(expected, abs=0.1)


def test_silence_has_no_loudness_rather_than_minus_infinity():
    assert audio.integrated_loudness(np.zeros((SR, 2), np.float32), SR) is None


def test_audio_shorter_than_one_gating_block_is_refused_by_name():
    with pytest.raises(audio.AudioError, match="at least 0.4 s"):
        audio.integrated_loudness(np.ones((SR // 4, 2), np.float32) * 0.1, SR)


def test_integer_audio_is_refused():
    with pytest.raises(audio.AudioError, match="expected float audio"):
        audio.integrated_loudness(np.zeros((SR, 2), np.int16), SR)


def test_nan_samples_are_refused():
    signal = noise()
    signal[10, 0] = np.nan
    with pytest.raises(audio.AudioError, match="NaN"):
        audio.peak_dbfs(signal)


def test_gain_in_db_round_trips():
    assert audio.gain_to_db(audio.db_to_gain(-7.25)) == pytest.approx(-7.25)
    assert audio.gain_to_db(0.0) is None


def test_applying_a_gain_shifts_loudness_by_that_gain():
    signal = noise(scale=0.05)
    before = audio.integrated_loudness(signal, SR)
    after = audio.integrated_loudness(audio.apply_gain_db(signal, 4.5), SR)
    assert after - before == pytest.approx(4.5, abs=0.06)


def test_mix_applies_each_stems_gain():
    ones = np.full((100, 2), 0.1, np.float32)
    mixed = audio.mix({"vocals": ones, "drums": ones}, {"drums": -6.0206})
    assert mixed[0, 0] == pytest.approx(0.15, abs=1e-5)


def test_mix_names_stems_of_different_length():
    with pytest.raises(audio.AudioError, match="stems differ in length: vocals 441000, drums 440999"):
        audio.mix({"vocals": np.zeros((441000, 2), np.float32), "drums": np.zeros((440999, 2), np.float32)})


def test_mix_refuses_a_gain_for_an_unknown_stem():
    with pytest.raises(audio.AudioError, match="unknown stems"):
        audio.mix({"vocals": np.zeros((10, 2), np.float32)}, {"piano": 3.0})


def test_peak_of_a_half_scale_signal_is_minus_6_dbfs():
    assert audio.peak_dbfs(np.full((10, 2), 0.5, np.float32)) == pytest.approx(-6.0206, abs=1e-3)
    assert audio.peak_dbfs(np.zeros((10, 2), np.float32)) is None


def test_model_input_is_16khz_mono_and_keeps_the_level():
    clip = sine(-20.0, seconds=2.0, frequency=440.0)
    model = audio.to_model_input(clip, SR)
    assert model.ndim == 1 and model.dtype == np.float32
    assert len(model) == 2 * audio.MODEL_SAMPLE_RATE
    middle = model[1000:-1000]
    assert 20 * np.log10(np.sqrt(np.mean(middle**2)) * np.sqrt(2)) == pytest.approx(-20.0, abs=0.05)


def test_activity_tells_a_resting_stem_from_a_playing_one():
    playing = noise(seconds=2.0)
    resting = playing.copy()
    resting[int(0.7 * len(resting)) :] = 0
    resting[: int(0.6 * len(resting))] = 0
    assert audio.activity(playing, SR) == (True, 1.0)
    active, ratio = audio.activity(resting, SR)
    assert not active and ratio == pytest.approx(0.1, abs=0.06)


def test_loudness_match_gains_bring_states_to_the_quietest():
    quiet = noise(scale=0.05)
    gains = audio.loudness_match_gains({"a": quiet, "b": audio.apply_gain_db(quiet, 5.0)}, SR)
    assert gains["a"] == 0.0
    assert gains["b"] == pytest.approx(-5.0, abs=0.06)


def test_loading_a_wav_returns_float_frames_by_channels(tmp_path):
    path = tmp_path / "tone.wav"
    soundfile.write(path, sine(-6.0, seconds=0.5), SR, subtype="PCM_16")
    loaded, rate = audio.load_audio(path)
    assert rate == SR and loaded.shape == (SR // 2, 2) and loaded.dtype == np.float32


def test_loading_a_text_file_names_the_file(tmp_path):
    path = tmp_path / "vocals.wav"
    path.write_text("not audio")
    with pytest.raises(audio.AudioError, match="vocals.wav: not a readable audio file"):
        audio.load_audio(path)


def test_loading_a_missing_file_names_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="drums.wav"):
        audio.load_audio(tmp_path / "drums.wav")


def click_track(bpm, seconds=12.0):
    track = np.zeros((int(seconds * SR), 2), np.float32)
    click = (np.exp(-np.arange(441) / 60.0) * np.sin(np.arange(441) * 0.6)).astype(np.float32)
    for beat in np.arange(0, seconds - 0.02, 60.0 / bpm):
        start = int(beat * SR)
        track[start : start + 441] += click[: len(track) - start, None]
    return track


@pytest.mark.parametrize("bpm", [92.0, 118.0, 141.0])
def test_the_tempo_of_a_click_track_is_found_within_2_percent(bpm):
    assert audio.estimate_tempo(click_track(bpm), SR) == pytest.approx(bpm, rel=0.02)


def test_silence_has_no_tempo():
    assert audio.estimate_tempo(np.zeros((SR * 8, 2), np.float32), SR) is None
