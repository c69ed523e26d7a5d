import io

import numpy as np
import pytest
import soundfile as sf

from study import huggins


def _intervals(audio):
    n = int(huggins.INTERVAL_SECONDS * huggins.SAMPLE_RATE)
    gap = int(huggins.GAP_SECONDS * huggins.SAMPLE_RATE)
    return [audio[i * (n + gap) : i * (n + gap) + n] for i in range(huggins.INTERVALS)]


def _band_energy(signal, low, high):
    spectrum = np.abs(np.fft.rfft(signal)) ** 2
    freqs = np.fft.rfftfreq(len(signal), 1 / huggins.SAMPLE_RATE)
    return spectrum[(freqs >= low) & (freqs <= high)].sum()


def test_only_the_target_interval_differs_between_the_ears_and_only_inside_the_band():
    audio = huggins.trial_audio("seed-a", 1)
    target = huggins.target_interval("seed-a", 1)
    for number, interval in enumerate(_intervals(audio), start=1):
        difference = interval[:, 0] - interval[:, 1]
        if number != target:
            assert np.allclose(difference, 0.0)
            continue
        inside = _band_energy(difference, 564, 636)
        outside = _band_energy(difference, 0, 540) + _band_energy(difference, 660, 22050)
        assert inside > 0.95 * (inside + outside)


def test_the_pitch_band_cancels_when_the_channels_mix_as_on_loudspeakers():
    target = huggins.target_interval("seed-b", 2)
    interval = _intervals(huggins.trial_audio("seed-b", 2))[target - 1].astype(np.float64)
    mono = interval.sum(axis=1)
    assert _band_energy(mono, 570, 630) < 0.05 * _band_energy(interval[:, 0], 570, 630)


def test_stimuli_and_answers_are_a_pure_function_of_the_seed():
    assert np.array_equal(huggins.trial_audio("x", 3), huggins.trial_audio("x", 3))
    assert not np.array_equal(huggins.trial_audio("x", 3), huggins.trial_audio("y", 3))
    assert huggins.answer_key("x") == huggins.answer_key("x")
    keys = {tuple(huggins.answer_key(f"p{i}")) for i in range(30)}
    assert len(keys) > 20
    assert {k for key in keys for k in key} == {1, 2, 3}


def test_five_of_six_correct_passes_and_four_fails():
    key = huggins.answer_key("seed-c")
    wrong = [k % 3 + 1 for k in key]
    assert huggins.score(key, "seed-c") == (6, True)
    assert huggins.score(key[:5] + wrong[5:], "seed-c") == (5, True)
    assert huggins.score(key[:4] + wrong[4:], "seed-c") == (4, False)
    assert huggins.score(wrong, "seed-c") == (0, False)


def test_a_wrong_number_of_answers_is_rejected():
    with pytest.raises(ValueError, match="expected 6 answers, got 5"):
        huggins.score([1, 2, 3, 1, 2], "s")


def test_a_pass_threshold_above_the_number_of_trials_is_rejected():
    with pytest.raises(ValueError, match="pass_threshold"):
        huggins.ScreenConfig(trials=6, pass_threshold=7)


def test_the_wav_is_stereo_44k_16_bit_with_three_intervals_and_two_gaps():
    data, rate = sf.read(io.BytesIO(huggins.wav_bytes(huggins.trial_audio("s", 1))))
    info = sf.info(io.BytesIO(huggins.wav_bytes(huggins.trial_audio("s", 1))))
    assert rate == 44_100 and data.shape[1] == 2 and info.subtype == "PCM_16"
    assert data.shape[0] == int(3 * 44_100 + 2 * 0.5 * 44_100)
    assert np.abs(data).max() < 1.0
