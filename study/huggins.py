"""Huggins-pitch headphone screen: stimuli generated in code, answers scored on the server.

Milne, A. E., Bianco, R., Poole, K. C., Zhao, S., Oxenham, A. J., Billig, A. J. & Chait, M.
(2021). An online headphone screening test based on dichotic pitch. *Behavior Research Methods*
53, 1551–1562. https://doi.org/10.3758/s13428-020-01514-0

Each trial plays three intervals of white noise. In two of them both ears hear the same noise
(diotic). In the target interval a narrow band around 600 Hz (±6 %) is phase-inverted (180°) in
one ear only: over headphones the band is heard as a faint tone inside the noise (Huggins pitch);
over loudspeakers the two channels mix in the air and the tone disappears. The listener picks the
interval with the tone (three-alternative forced choice, chance 1/3); passing takes at least
``pass_threshold`` of ``trials`` correct (5 of 6 by default, as in the paper's recommended use).

Everything is a pure function of a seed: the server regenerates the same stimulus and the same
correct answers whenever it needs them, so nothing about the screen is stored before the answers.
"""

import hashlib
import io
from dataclasses import dataclass

import numpy as np
import soundfile as sf

SAMPLE_RATE = 44_100
CENTRE_HZ = 600.0
HALF_BANDWIDTH = 0.06
INTERVAL_SECONDS = 1.0
GAP_SECONDS = 0.5
RAMP_SECONDS = 0.02
RMS_DBFS = -26.0
INTERVALS = 3


@dataclass(frozen=True)
class ScreenConfig:
    """How many trials the screen has and how many must be answered correctly to pass."""

    trials: int = 6
    pass_threshold: int = 5

    def __post_init__(self):
        if self.trials < 1:
            raise ValueError(f"the headphone screen needs at least one trial, got {self.trials}")
        if not 1 <= self.pass_threshold <= self.trials:
            raise ValueError(
                f"pass_threshold must be between 1 and trials ({self.trials}), got {self.pass_threshold}"
            )


def trial_seed(seed, trial):
    """A 63-bit seed for one trial of one participant's screen, stable across processes."""
    digest = hashlib.sha256(f"huggins:{seed}:{trial}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def target_interval(seed, trial):
    """The interval (1, 2 or 3) that holds the Huggins pitch in this trial."""
    return 1 + trial_seed(seed, trial) % INTERVALS


def answer_key(seed, config=ScreenConfig()):
    """The correct interval of every trial, in trial order (trials are numbered from 1)."""
    return [target_interval(seed, trial) for trial in range(1, config.trials + 1)]


def score(answers, seed, config=ScreenConfig()):
    """Score a participant's answers against the key.

    Parameters
    ----------
    answers : sequence of int
        The interval chosen in each trial, in trial order; exactly ``config.trials`` values.
    seed : int or str
        The participant's screen seed.
    config : ScreenConfig

    Returns
    -------
    tuple of (int, bool)
        Number correct and whether the screen is passed.
    """
    if len(answers) != config.trials:
        raise ValueError(f"expected {config.trials} answers, got {len(answers)}")
    correct = sum(int(a) == k for a, k in zip(answers, answer_key(seed, config), strict=True))
    return correct, correct >= config.pass_threshold


def _ramp(signal, sample_rate):
    n = int(RAMP_SECONDS * sample_rate)
    window = np.sin(np.linspace(0.0, np.pi / 2, n)) ** 2
    signal[:n] *= window[:, None]
    signal[-n:] *= window[::-1, None]
    return signal


def noise_interval(rng, *, huggins, sample_rate=SAMPLE_RATE):
    """One stereo interval of white noise, with the phase-inverted band when ``huggins``.

    The band [600 Hz × 0.94, 600 Hz × 1.06] of the right channel's spectrum is multiplied by −1
    (a 180° interaural phase shift); outside the band both channels are identical. The level is
    set to ``RMS_DBFS`` so every interval is equally loud.
    """
    n = int(INTERVAL_SECONDS * sample_rate)
    noise = rng.standard_normal(n)
    spectrum = np.fft.rfft(noise)
    right_spectrum = spectrum.copy()
    if huggins:
        freqs = np.fft.rfftfreq(n, 1.0 / sample_rate)
        band = (freqs >= CENTRE_HZ * (1 - HALF_BANDWIDTH)) & (freqs <= CENTRE_HZ * (1 + HALF_BANDWIDTH))
        right_spectrum[band] *= -1.0
    stereo = np.stack([np.fft.irfft(spectrum, n), np.fft.irfft(right_spectrum, n)], axis=1)
    stereo *= 10 ** (RMS_DBFS / 20) / np.sqrt(np.mean(stereo**2))
    return _ramp(stereo, sample_rate)


def trial_audio(seed, trial, sample_rate=SAMPLE_RATE):
    """Three intervals separated by silence, the target at ``target_interval(seed, trial)``."""
    rng = np.random.default_rng(trial_seed(seed, trial))
    target = target_interval(seed, trial)
    gap = np.zeros((int(GAP_SECONDS * sample_rate), 2))
    parts = []
    for interval in range(1, INTERVALS + 1):
        if interval > 1:
            parts.append(gap)
        parts.append(noise_interval(rng, huggins=interval == target, sample_rate=sample_rate))
    return np.concatenate(parts).astype(np.float32)


def calibration_audio(seed, sample_rate=SAMPLE_RATE):
    """Two seconds of diotic noise at the screen's level, for setting a comfortable volume."""
    rng = np.random.default_rng(trial_seed(seed, 0))
    return np.concatenate([noise_interval(rng, huggins=False, sample_rate=sample_rate)] * 2).astype(
        np.float32
    )


def wav_bytes(audio, sample_rate=SAMPLE_RATE):
    """Encode float audio as a 16-bit PCM WAV file in memory."""
    buffer = io.BytesIO()
    sf.write(buffer, audio, sample_rate, format="WAV", subtype="PCM_16")
    return buffer.getvalue()
