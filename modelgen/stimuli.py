"""Render the audio of scenarios: reference stems, mixes, loudness-matching gains, model inputs.

Scenarios drawn from the same segment (a *render group*) share their reference files. Per group::

    audio/<group>/reference/<stem>.flac        each stem at its reference level, 44.1 kHz stereo
    audio/<group>/reference_mix.flac           the sum of the reference stems
    audio/<group>/<draw>/as_given_mix.flac     the mix with the scenario's offsets applied
    audio/<group>/<draw>/model/<k>_<stem>.wav  16 kHz mono clips, anchor first, offsets applied
    audio/<group>/<draw>/model/mix.wav         the as-given mix at 16 kHz mono (other representations)

``<draw>`` is the scenario id without the group prefix (``0``, ``1`` …; ``flawed`` for a hybrid).
Files are 16-bit: FLAC (``audio_format="flac"``, the default, at a fast compression level)
or WAV (``"wav"``: faster to write, about twice the size) for the 44.1 kHz stereo files, WAV for
the model's clips.

No stem is normalised on its own: relative level is what the model must hear. If any file of a
group would peak above ``peak_ceiling_dbfs`` (default -1 dBFS), the whole group is scaled by
one gain (``scale_db``), so every balance stays as planned; ``headroom_db`` is how far the
loudest file then peaks below full scale. ``loudness_match_db`` holds the gains that play the
as-given and reference mixes at equal BS.1770 loudness (the louder one is turned down).
"""

import hashlib
import io
import struct
from pathlib import Path

import numpy as np

from modelgen import audio
from modelgen.corrections import STEMS


def read_sources(scenario, songs, sample_rate):
    """The reference-level stems of a scenario: each source segment read and set to its level."""
    frames = round(scenario["segment_seconds"] * sample_rate)
    stems = {}
    for stem in STEMS:
        source = scenario["sources"][stem]
        song = songs[source["song"]]
        if song.sample_rate != sample_rate:
            raise audio.AudioError(
                f"{song.name}: sample rate {song.sample_rate} differs from the group's {sample_rate}"
            )
        clip = song.read(stem, round(source["start_s"] * sample_rate), frames)
        stems[stem] = audio.apply_gain_db(clip, source["level_db"]) if source["level_db"] else clip
    return stems


AUDIO_FORMATS = {"flac": "FLAC", "wav": "WAV"}
FLAC_COMPRESSION_LEVEL = 0.125
"""libsndfile's FLAC compression level in [0, 1] (libFLAC level 1). On the synthetic corpus's
stems it encodes as fast as 0 and about 14 % faster than the default 0.5, for files 7 % larger
than the default's (0 makes them 27 % larger)."""

_WAV_HEADER = struct.Struct("<4sI4s4sIHHIIHH4sI")


def _wav_header(frames, channels, sample_rate):
    """The canonical 44-byte RIFF/WAVE header of 16-bit PCM (what :mod:`wave` writes)."""
    size = frames * channels * 2
    return _WAV_HEADER.pack(
        b"RIFF", 36 + size, b"WAVE", b"fmt ", 16, 1, channels, sample_rate,
        sample_rate * channels * 2, channels * 2, 16, b"data", size,
    )  # fmt: skip


def _peak_dbfs(clip):
    """Sample peak in dBFS without a temporary array (None for digital silence)."""
    return audio.gain_to_db(max(float(clip.max()), -float(clip.min())))


class _Writer:
    """Encodes 16-bit files under the dataset folder and keeps their sha256 by relative path.

    A file is built in memory, hashed from there (never read back) and written with one call,
    without libsndfile's per-file ``fsync`` (the dataset is published by one rename at the end).
    Scratch buffers are reused across files of one shape: at 10 s per file, fresh arrays cost
    more in page faults than the arithmetic on them.
    """

    def __init__(self, out_dir):
        self.out_dir = Path(out_dir)
        self.hashes = {}
        self._folders = set()
        self._scratch = {}

    def _pcm16(self, data):
        """Quantise float audio to 16-bit PCM: scaled by 32768, clipped, rounded to nearest."""
        if data.shape not in self._scratch:
            self._scratch[data.shape] = (np.empty(data.shape, np.float32), np.empty(data.shape, "<i2"))
        scaled, pcm = self._scratch[data.shape]
        np.multiply(data, np.float32(32768), out=scaled)
        np.clip(scaled, -32768, 32767, out=scaled)
        np.rint(scaled, out=pcm, casting="unsafe")
        return pcm

    def save(self, relative, data, sample_rate, fmt):
        """Write ``data`` as ``fmt`` (``WAV`` or ``FLAC``) at ``relative``; return the posix path."""
        pcm = self._pcm16(data)
        if fmt == "WAV":
            channels = 1 if pcm.ndim == 1 else pcm.shape[1]
            parts = [_wav_header(pcm.shape[0], channels, sample_rate), pcm]
        else:
            import soundfile

            buffer = io.BytesIO()
            soundfile.write(
                buffer,
                pcm,
                sample_rate,
                subtype="PCM_16",
                format=fmt,
                compression_level=FLAC_COMPRESSION_LEVEL,
            )
            parts = [buffer.getbuffer()]
        path = self.out_dir / relative
        if path.parent not in self._folders:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._folders.add(path.parent)
        digest = hashlib.sha256()
        with path.open("wb") as handle:
            for part in parts:
                handle.write(part)
                digest.update(part)
        key = relative.as_posix()
        self.hashes[key] = digest.hexdigest()
        return key


def render_group(scenarios, songs, out_dir, *, peak_ceiling_dbfs=-1.0, audio_format="flac"):
    """Render every scenario of one render group into ``out_dir`` (the dataset folder).

    Parameters
    ----------
    scenarios : list of dict
        Planned scenarios (see :mod:`modelgen.scenarios`) sharing one ``render_group``.
    songs : dict
        song name -> :class:`modelgen.corpus.Song` for every source the scenarios name.
    out_dir : path
        Dataset folder; paths in the result are relative to it.
    peak_ceiling_dbfs : float
        No file peaks above this; the whole group is scaled down when one would.
    audio_format : str
        ``flac`` or ``wav`` for the 44.1 kHz files.

    Returns
    -------
    dict
        scenario id -> ``{"audio": {...}, "headroom_db", "scale_db"}`` where ``audio`` follows
        the manifest contract (plus ``model_mix``) with the sha256 of every file it names.

    Notes
    -----
    The work that does not depend on a scenario's offsets is done once per group: decoding,
    the reference stems and mix (files and loudness), and each stem's 16 kHz mono clip (a gain
    commutes with resampling and with averaging the channels, so a model input is the group's
    clip times the offset's gain). An as-given mix is the reference mix plus ``(g - 1)`` times
    each flawed stem; a scenario without flaws reuses the reference mix's samples and loudness.
    """
    out_dir = Path(out_dir)
    if audio_format not in AUDIO_FORMATS:
        raise ValueError(f"audio_format {audio_format!r} is not one of {sorted(AUDIO_FORMATS)}")
    suffix, fmt = audio_format, AUDIO_FORMATS[audio_format]
    groups = {scenario["render_group"] for scenario in scenarios}
    if len(groups) != 1:
        raise ValueError(f"render_group expects scenarios of one group, got {sorted(groups)}")
    group = groups.pop()
    first = scenarios[0]
    for scenario in scenarios[1:]:
        if scenario["sources"] != first["sources"]:
            raise ValueError(f"{scenario['id']}: scenarios of group {group} must share their sources")
    rate = songs[first["sources"][first["anchor"]]["song"]].sample_rate
    reference = audio.check_stems(read_sources(first, songs, rate))
    reference_mix = _sum(reference)
    as_given = {
        scenario["id"]: _as_given(reference, reference_mix, scenario["gains_db"]) for scenario in scenarios
    }
    stem_peaks = {stem: _peak_dbfs(clip) for stem, clip in reference.items()}
    peaks = [_peak_dbfs(clip) for clip in [reference_mix, *as_given.values()]]
    peaks += [  # each stem as the model hears it, offsets applied
        stem_peaks[stem] + max(0.0, *(s["gains_db"][stem] for s in scenarios))
        for stem in STEMS
        if stem_peaks[stem] is not None
    ]
    peak = max((value for value in peaks if value is not None), default=None)
    scale_db = 0.0
    if peak is not None and peak > peak_ceiling_dbfs:
        scale_db = round(peak_ceiling_dbfs - peak - 0.005, 3)
    if scale_db:
        gain = np.float32(audio.db_to_gain(scale_db))
        own = [clip for clip in as_given.values() if clip is not reference_mix]
        for clip in [*reference.values(), reference_mix, *own]:
            clip *= gain  # every array here belongs to this group (a balanced mix is the reference's)
    headroom_db = 0.0 if peak is None else round(-(peak + scale_db), 3)

    base = Path("audio") / group
    writer = _Writer(out_dir)
    reference_paths = {
        stem: writer.save(base / "reference" / f"{stem}.{suffix}", clip, rate, fmt)
        for stem, clip in reference.items()
    }
    reference_mix_path = writer.save(base / f"reference_mix.{suffix}", reference_mix, rate, fmt)
    model_reference = {stem: audio._model_input(clip, rate) for stem, clip in reference.items()}
    shared = {path: writer.hashes[path] for path in [*reference_paths.values(), reference_mix_path]}

    reference_lufs = _loudness(reference_mix, rate)
    results = {}
    for scenario in scenarios:
        folder = base / (scenario["id"].removeprefix(group).lstrip("-") or "flawed")
        gains = scenario["gains_db"]
        balanced = not any(gains.values())
        given = as_given[scenario["id"]]
        mix_path = writer.save(folder / f"as_given_mix.{suffix}", given, rate, fmt)
        given_lufs = reference_lufs if balanced else _loudness(given, rate)
        model_paths = []
        model_mix = np.zeros_like(model_reference[STEMS[0]])
        for index, stem in enumerate(scenario["stems"]):
            clip = model_reference[stem] * np.float32(audio.db_to_gain(gains[stem]))
            model_mix += clip
            model_paths.append(
                writer.save(folder / "model" / f"{index}_{stem}.wav", clip, audio.MODEL_SAMPLE_RATE, "WAV")
            )
        model_mix_path = writer.save(folder / "model" / "mix.wav", model_mix, audio.MODEL_SAMPLE_RATE, "WAV")
        own = [mix_path, *model_paths, model_mix_path]
        results[scenario["id"]] = {
            "audio": {
                "reference": {stem: reference_paths[stem] for stem in scenario["stems"]},
                "as_given_mix": mix_path,
                "reference_mix": reference_mix_path,
                "model_inputs": model_paths,
                "model_mix": model_mix_path,
                "loudness_match_db": _match(given_lufs, reference_lufs),
                "sha256": {**shared, **{path: writer.hashes[path] for path in own}},
            },
            "headroom_db": headroom_db,
            "scale_db": scale_db,
        }
    return results


def _sum(stems):
    """The reference mix: the stems summed in :data:`STEMS` order."""
    total = stems[STEMS[0]].copy()
    for stem in STEMS[1:]:
        total += stems[stem]
    return total


def _loudness(mix, sample_rate):
    """Integrated loudness of a mix of checked stems (one check of the stems serves every mix)."""
    if mix.shape[0] / sample_rate < audio.GATING_BLOCK_SECONDS:
        return audio.integrated_loudness(mix, sample_rate)  # raises with the reason
    return audio._integrated_loudness(mix, sample_rate)


def _as_given(reference, reference_mix, gains_db):
    """The as-given mix: the reference mix plus ``(g - 1)`` times each flawed stem.

    Without a flawed stem it is the reference mix itself (the same array, not a copy).
    """
    flawed = {stem: db for stem, db in gains_db.items() if db}
    if not flawed:
        return reference_mix
    total = reference_mix.copy()
    for stem, db in flawed.items():
        total += reference[stem] * np.float32(audio.db_to_gain(db) - 1.0)
    return total


def _match(given_lufs, reference_lufs):
    """Gains that play the as-given and reference mixes at equal loudness (the louder one down)."""
    if given_lufs is None or reference_lufs is None:
        return {"as_given": 0.0, "reference": 0.0}
    quieter = min(given_lufs, reference_lufs)
    return {"as_given": round(quieter - given_lufs, 3), "reference": round(quieter - reference_lufs, 3)}
