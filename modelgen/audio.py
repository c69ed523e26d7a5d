"""Pure audio helpers: load, loudness, gain, mix, resample, activity.

Audio is a float32 ``numpy`` array shaped ``[frames, channels]`` (a 1-D array is read as mono).
Every function validates its input first and raises :class:`AudioError` with a message that
says what is wrong ("expected float audio", "stems differ in length: vocals 441000, drums
440999"). Nothing here reads settings or writes files.

Loudness is ITU-R BS.1770-4 integrated loudness (K-weighting, 400 ms blocks with 75 % overlap,
absolute gate at -70 LUFS, relative gate at -10 LU), computed by the ``loudness`` package
(bindings to a C implementation of BS.1770 / EBU R 128). It agrees with ``pyloudnorm`` within
about 0.06 LU and is about eight times faster, which matters because loudness, not decoding,
bounds a dataset build (see ``benchmarks/dataset_build.py``).
"""

import math
from pathlib import Path

import numpy as np

MODEL_SAMPLE_RATE = 16_000
"""Qwen2-Audio's input rate: 16 kHz mono."""

GATING_BLOCK_SECONDS = 0.4
"""BS.1770's gating block; integrated loudness is undefined for anything shorter."""

SILENCE_DBFS = -60.0
"""RMS level (dBFS) below which a frame counts as silent for the activity gate."""


class AudioError(ValueError):
    """Audio that cannot be used: wrong type, shape, length, rate, or an unreadable file."""


def check_audio(audio, name="audio"):
    """Return ``audio`` as a 2-D float32 array ``[frames, channels]`` or raise :class:`AudioError`.

    A 1-D array is taken as mono. The check refuses integer audio (scale it to [-1, 1] first),
    more than two dimensions, no frames, and NaN or infinite samples.
    """
    if not isinstance(audio, np.ndarray):
        raise AudioError(f"{name}: expected a numpy array, got {type(audio).__name__}")
    if not np.issubdtype(audio.dtype, np.floating):
        raise AudioError(f"{name}: expected float audio, got {audio.dtype} (scale integers to [-1, 1])")
    if audio.ndim == 1:
        audio = audio[:, np.newaxis]
    if audio.ndim != 2:
        raise AudioError(f"{name}: expected shape [frames, channels], got {audio.shape}")
    if audio.shape[0] == 0 or audio.shape[1] == 0:
        raise AudioError(f"{name}: has no samples (shape {audio.shape})")
    if not np.isfinite(audio).all():
        raise AudioError(f"{name}: contains NaN or infinite samples")
    return audio.astype(np.float32, copy=False)


def _check_rate(sample_rate):
    if not isinstance(sample_rate, (int, np.integer)) or sample_rate <= 0:
        raise AudioError(f"sample rate must be a positive integer, got {sample_rate!r}")
    return int(sample_rate)


def load_audio(path):
    """Read an audio file as float32 ``[frames, channels]`` and return ``(audio, sample_rate)``.

    Raises
    ------
    FileNotFoundError
        When ``path`` does not exist.
    AudioError
        When the file is empty, not audio, or unreadable; the message names the file.
    """
    import soundfile

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: audio file not found")
    try:
        audio, sample_rate = soundfile.read(path, dtype="float32", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError, TypeError) as error:
        raise AudioError(f"{path}: not a readable audio file ({error})") from None
    if audio.shape[0] == 0:
        raise AudioError(f"{path}: audio file has no samples")
    return audio, sample_rate


def audio_info(path):
    """Return ``(frames, sample_rate, channels)`` of an audio file without decoding it."""
    import soundfile

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: audio file not found")
    try:
        info = soundfile.info(path)
    except (soundfile.LibsndfileError, RuntimeError, TypeError) as error:
        raise AudioError(f"{path}: not a readable audio file ({error})") from None
    return info.frames, info.samplerate, info.channels


def integrated_loudness(audio, sample_rate):
    """ITU-R BS.1770-4 integrated loudness in LUFS, or ``None`` for silence.

    Parameters
    ----------
    audio : numpy.ndarray
        Float audio ``[frames, channels]`` (or 1-D mono), up to 5 channels weighted 1.0
        (stereo and mono content; surround weights are not applied).
    sample_rate : int
        Sample rate in Hz.

    Returns
    -------
    float or None
        Loudness in LUFS; ``None`` when every gating block falls below the absolute gate
        (-70 LUFS), i.e. the signal is silent. Never NaN and never ``-inf``.

    Raises
    ------
    AudioError
        When the audio is shorter than one 400 ms gating block, where BS.1770 integrated
        loudness is undefined.

    Examples
    --------
    >>> t = np.arange(44100 * 5) / 44100
    >>> sine = 10 ** (-23 / 20) * np.sin(2 * np.pi * 1000 * t).astype(np.float32)
    >>> round(integrated_loudness(np.stack([sine, sine], axis=1), 44100))
    -23
    """
    audio = check_audio(audio)
    sample_rate = _check_rate(sample_rate)
    seconds = audio.shape[0] / sample_rate
    if seconds < GATING_BLOCK_SECONDS:
        raise AudioError(
            f"audio is {seconds:.3f} s long; BS.1770 integrated loudness needs at least "
            f"{GATING_BLOCK_SECONDS} s (one gating block)"
        )
    return _integrated_loudness(audio, sample_rate)


def _integrated_loudness(audio, sample_rate):
    """:func:`integrated_loudness` of audio already checked (2-D float32, at least one block long)."""
    import loudness

    value = loudness.integrated_loudness(np.ascontiguousarray(audio), sample_rate)
    if not math.isfinite(value):
        return None
    return float(value)


def db_to_gain(db):
    """Linear amplitude gain for a level change in dB."""
    return 10.0 ** (db / 20.0)


def gain_to_db(gain):
    """Level change in dB for a linear amplitude gain; ``None`` for a gain of 0."""
    if gain < 0:
        raise ValueError(f"a gain must be non-negative, got {gain}")
    if gain == 0:
        return None
    return 20.0 * math.log10(gain)


def apply_gain_db(audio, db):
    """Return ``audio`` scaled by ``db`` decibels (a new float32 array)."""
    audio = check_audio(audio)
    if not math.isfinite(db):
        raise AudioError(f"gain must be a finite number of dB, got {db!r}")
    return audio * np.float32(db_to_gain(db))


def check_stems(stems):
    """Validate a ``{name: audio}`` dict of equally long, equally wide stems; return it as 2-D float32."""
    if not stems:
        raise AudioError("no stems given")
    checked = {name: check_audio(audio, name) for name, audio in stems.items()}
    lengths = {name: audio.shape[0] for name, audio in checked.items()}
    if len(set(lengths.values())) > 1:
        listed = ", ".join(f"{name} {length}" for name, length in lengths.items())
        raise AudioError(f"stems differ in length: {listed}")
    widths = {name: audio.shape[1] for name, audio in checked.items()}
    if len(set(widths.values())) > 1:
        listed = ", ".join(f"{name} {width}" for name, width in widths.items())
        raise AudioError(f"stems differ in channel count: {listed}")
    return checked


def mix(stems, gains_db=None):
    """Sum the stems after applying each one's gain in dB (missing gains are 0 dB).

    Parameters
    ----------
    stems : dict
        stem name -> float audio, all of the same shape.
    gains_db : dict, optional
        stem name -> offset in dB. A name that is not a stem is an error.
    """
    stems = check_stems(stems)
    gains_db = dict(gains_db or {})
    unknown = sorted(set(gains_db) - set(stems))
    if unknown:
        raise AudioError(f"gains given for unknown stems {unknown}; stems are {sorted(stems)}")
    total = np.zeros_like(next(iter(stems.values())))
    for name, audio in stems.items():
        db = gains_db.get(name, 0.0)
        if db == 0:
            total += audio
        else:
            total += audio * np.float32(db_to_gain(db))
    return total


def peak_dbfs(audio):
    """Sample peak in dBFS (0 dBFS = full scale); ``None`` for digital silence."""
    audio = check_audio(audio)
    peak = float(np.max(np.abs(audio)))
    return gain_to_db(peak)


def resample(audio, from_sr, to_sr):
    """Resample with soxr's high-quality filter; returns float32 ``[frames, channels]``."""
    import soxr

    audio = check_audio(audio)
    from_sr, to_sr = _check_rate(from_sr), _check_rate(to_sr)
    if from_sr == to_sr:
        return audio.copy()
    return soxr.resample(audio, from_sr, to_sr, quality="HQ").astype(np.float32, copy=False)


def to_mono(audio):
    """Average the channels: float32 ``[frames, 1]``."""
    audio = check_audio(audio)
    if audio.shape[1] == 2:
        return ((audio[:, 0] + audio[:, 1]) * np.float32(0.5))[:, np.newaxis]
    return audio.mean(axis=1, keepdims=True, dtype=np.float32)


def to_model_input(audio, sample_rate):
    """Return the model's view of a clip: 16 kHz mono float32, 1-D.

    The channels are averaged (not normalised), so relative levels between clips survive.
    """
    return _model_input(check_audio(audio), _check_rate(sample_rate))


def _model_input(audio, sample_rate):
    """:func:`to_model_input` of audio already checked (2-D float32) at a valid rate."""
    import soxr

    if audio.shape[1] == 2:
        mono = (audio[:, 0] + audio[:, 1]) * np.float32(0.5)
    else:
        mono = audio.mean(axis=1, dtype=np.float32)
    if sample_rate == MODEL_SAMPLE_RATE:
        return mono
    return soxr.resample(mono, sample_rate, MODEL_SAMPLE_RATE, quality="HQ").astype(np.float32, copy=False)


def frame_rms_dbfs(audio, sample_rate, frame_seconds=0.1):
    """RMS level of consecutive non-overlapping frames in dBFS (-inf-free: silence is -200)."""
    audio = check_audio(audio)
    sample_rate = _check_rate(sample_rate)
    size = max(1, round(frame_seconds * sample_rate))
    count = audio.shape[0] // size
    if count == 0:
        raise AudioError(
            f"audio is {audio.shape[0] / sample_rate:.3f} s long, shorter than one {frame_seconds} s frame"
        )
    frames = audio[: count * size].reshape(count, size * audio.shape[1])
    mean_square = np.einsum("ij,ij->i", frames, frames, dtype=np.float64) / frames.shape[1]
    return 10.0 * np.log10(np.maximum(mean_square, 1e-20))


def activity(audio, sample_rate, *, frame_seconds=0.1, threshold_dbfs=SILENCE_DBFS, min_ratio=0.5):
    """Activity gate: is the stem playing for most of the clip?

    Parameters
    ----------
    frame_seconds : float
        Length of the non-overlapping RMS frames.
    threshold_dbfs : float
        A frame is active when its RMS level is at or above this.
    min_ratio : float
        The clip is active when at least this share of frames is active.

    Returns
    -------
    tuple
        ``(active, active_ratio)``: a bool and the share of active frames in [0, 1].
    """
    if not 0 <= min_ratio <= 1:
        raise ValueError(f"min_ratio must be in [0, 1], got {min_ratio}")
    levels = frame_rms_dbfs(audio, sample_rate, frame_seconds)
    ratio = float(np.mean(levels >= threshold_dbfs))
    return ratio >= min_ratio, ratio


def loudness_match_gains(states, sample_rate, *, target_lufs=None):
    """Gains in dB that play several versions of a mix at equal integrated loudness.

    Parameters
    ----------
    states : dict
        state name (``as_given``, ``reference`` …) -> audio.
    target_lufs : float, optional
        Loudness to match to; by default the quietest state's, so no gain is positive and
        matching never pushes a version into clipping.

    Returns
    -------
    dict
        state name -> gain in dB (0 for a silent state).
    """
    measured = {name: integrated_loudness(audio, sample_rate) for name, audio in states.items()}
    audible = [value for value in measured.values() if value is not None]
    if not audible:
        return dict.fromkeys(states, 0.0)
    target = min(audible) if target_lufs is None else target_lufs
    return {name: 0.0 if value is None else round(target - value, 3) for name, value in measured.items()}


def estimate_tempo(audio, sample_rate, *, low_bpm=60.0, high_bpm=200.0, hop_seconds=0.01):
    """Estimate the tempo in BPM from the periodicity of onsets (best on a drum stem).

    Onset strength is the rise of log energy between 10 ms frames; its autocorrelation is
    searched for the strongest beat period between ``low_bpm`` and ``high_bpm``, weighted
    towards 120 BPM (a log-Gaussian prior, one octave wide) as in common beat trackers, so
    half- and double-time readings are rarer. Returns None when the clip has no onsets
    (silence) or is shorter than four beats at ``low_bpm``.
    """
    mono = to_mono(audio)[:, 0]
    sample_rate = _check_rate(sample_rate)
    hop = max(1, round(hop_seconds * sample_rate))
    count = len(mono) // hop
    if count * hop_seconds < 4 * 60.0 / low_bpm:
        return None
    frames = mono[: count * hop].reshape(count, hop)
    energy = np.log10(np.einsum("ij,ij->i", frames, frames, dtype=np.float64) / hop + 1e-10)
    onsets = np.maximum(np.diff(energy), 0.0)
    if not onsets.any():
        return None
    onsets = np.convolve(onsets, [0.25, 0.5, 0.25], mode="same")  # onsets between frames count once
    onsets -= onsets.mean()
    spectrum = np.fft.rfft(onsets, n=2 * len(onsets))
    correlation = np.fft.irfft(spectrum * np.conj(spectrum))[: len(onsets)]
    lags = np.arange(len(correlation), dtype=float)
    bpm = np.divide(60.0, lags * hop_seconds, out=np.zeros_like(lags), where=lags > 0)
    window = (bpm >= low_bpm) & (bpm <= high_bpm)
    if not window.any() or correlation[0] <= 0:
        return None
    prior = np.exp(-0.5 * (np.log2(np.where(window, bpm, 1.0) / 120.0)) ** 2)
    score = np.where(window, correlation / correlation[0] * prior, -np.inf)
    best = int(np.argmax(score))
    if 0 < best < len(score) - 1 and np.isfinite(score[best - 1]) and np.isfinite(score[best + 1]):
        left, centre, right = correlation[best - 1 : best + 2]
        denominator = left - 2 * centre + right
        shift = 0.5 * (left - right) / denominator if denominator else 0.0
        return round(60.0 / ((best + shift) * hop_seconds), 1)
    return round(float(bpm[best]), 1)
