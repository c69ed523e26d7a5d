"""Render the audio of scenarios: reference stems, mixes, loudness-matching gains, model inputs.

Scenarios drawn from the same segment (a *render group*) share their reference files. Per group::

    audio/<group>/reference/<stem>.flac        each stem at its reference level, 44.1 kHz stereo
    audio/<group>/reference_mix.flac           the sum of the reference stems
    audio/<group>/<draw>/as_given_mix.flac     the mix with the scenario's offsets applied
    audio/<group>/<draw>/model/<k>_<stem>.wav  16 kHz mono clips, anchor first, offsets applied
    audio/<group>/<draw>/model/mix.wav         the as-given mix at 16 kHz mono (other representations)

``<draw>`` is the scenario id without the group prefix (``0``, ``1`` …; ``flawed`` for a hybrid).
Files are 16-bit: FLAC (``audio_format="flac"``, the default) or WAV (``"wav"``: about five
times faster to write, twice the size) for the 44.1 kHz stereo files, WAV for the model's clips.

No stem is normalised on its own: relative level is what the model must hear. If any file of a
group would peak above ``peak_ceiling_dbfs`` (default -1 dBFS), the whole group is scaled by
one gain (``scale_db``), so every balance stays as planned; ``headroom_db`` is how far the
loudest file then peaks below full scale. ``loudness_match_db`` holds the gains that play the
as-given and reference mixes at equal BS.1770 loudness (the louder one is turned down).
"""

import hashlib
import io
import wave
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


def _pcm16(data):
    """Quantise float audio to 16-bit PCM (full scale 32768, rounded to nearest, clipped)."""
    scaled = data * np.float32(32768)
    np.clip(scaled, -32768, 32767, out=scaled)
    np.rint(scaled, out=scaled)
    return scaled.astype("<i2")


def encode(data, sample_rate, fmt):
    """The bytes of a 16-bit audio file: ``fmt`` is ``WAV`` or ``FLAC``.

    The file is built in memory, so it is hashed without reading it back and written without
    libsndfile's per-file ``fsync``. WAV is the canonical 44-byte header plus the samples
    (Python's :mod:`wave`); FLAC uses libsndfile at compression level 0 (see
    :data:`FLAC_COMPRESSION_LEVEL`).
    """
    pcm = _pcm16(data)
    channels = 1 if pcm.ndim == 1 else pcm.shape[1]
    buffer = io.BytesIO()
    if fmt == "WAV":
        with wave.open(buffer, "wb") as handle:
            handle.setnchannels(channels)
            handle.setsampwidth(2)
            handle.setframerate(sample_rate)
            handle.setnframes(pcm.shape[0])
            handle.writeframes(pcm.tobytes())
    else:
        import soundfile

        soundfile.write(
            buffer,
            pcm,
            sample_rate,
            subtype="PCM_16",
            format=fmt,
            compression_level=FLAC_COMPRESSION_LEVEL,
        )
    return buffer.getvalue()


AUDIO_FORMATS = {"flac": "FLAC", "wav": "WAV"}
FLAC_COMPRESSION_LEVEL = 0.0
"""libsndfile's FLAC level in [0, 1]; 0 encodes about 30 % faster than the default for files
under 1 % larger (measured in ``benchmarks/dataset_build.py``'s notes in docs/dataset.md)."""


def _peak_dbfs(clip):
    """Sample peak in dBFS without a temporary array (None for digital silence)."""
    return audio.gain_to_db(max(float(clip.max()), -float(clip.min())))


class _Writer:
    """Writes encoded files under the dataset folder and keeps their sha256 by relative path."""

    def __init__(self, out_dir):
        self.out_dir = out_dir
        self.hashes = {}
        self.folders = set()

    def save(self, relative, data):
        path = self.out_dir / relative
        if path.parent not in self.folders:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.folders.add(path.parent)
        path.write_bytes(data)
        key = relative.as_posix()
        self.hashes[key] = hashlib.sha256(data).hexdigest()
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
    each flawed stem; a scenario without flaws reuses the reference mix's loudness and bytes.
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
        reference = {stem: clip * gain for stem, clip in reference.items()}
        reference_mix = reference_mix * gain
        as_given = {key: clip * gain for key, clip in as_given.items()}
    headroom_db = 0.0 if peak is None else round(-(peak + scale_db), 3)

    base = Path("audio") / group
    writer = _Writer(out_dir)
    reference_paths = {
        stem: writer.save(base / "reference" / f"{stem}.{suffix}", encode(clip, rate, fmt))
        for stem, clip in reference.items()
    }
    reference_mix_bytes = encode(reference_mix, rate, fmt)
    reference_mix_path = writer.save(base / f"reference_mix.{suffix}", reference_mix_bytes)
    model_reference = {stem: audio._model_input(clip, rate) for stem, clip in reference.items()}
    shared = {path: writer.hashes[path] for path in [*reference_paths.values(), reference_mix_path]}

    reference_lufs = _loudness(reference_mix, rate)
    results = {}
    for scenario in scenarios:
        folder = base / (scenario["id"].removeprefix(group).lstrip("-") or "flawed")
        gains = scenario["gains_db"]
        balanced = not any(gains.values())
        given = as_given[scenario["id"]]
        given_bytes = reference_mix_bytes if balanced else encode(given, rate, fmt)
        mix_path = writer.save(folder / f"as_given_mix.{suffix}", given_bytes)
        given_lufs = reference_lufs if balanced else _loudness(given, rate)
        model_paths = []
        model_mix = np.zeros_like(model_reference[STEMS[0]])
        for index, stem in enumerate(scenario["stems"]):
            clip = model_reference[stem] * np.float32(audio.db_to_gain(gains[stem]))
            model_mix += clip
            data = encode(clip, audio.MODEL_SAMPLE_RATE, "WAV")
            model_paths.append(writer.save(folder / "model" / f"{index}_{stem}.wav", data))
        model_mix_path = writer.save(
            folder / "model" / "mix.wav", encode(model_mix, audio.MODEL_SAMPLE_RATE, "WAV")
        )
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
    """The as-given mix: the reference mix plus ``(g - 1)`` times each flawed stem."""
    total = reference_mix.copy()
    for stem, db in gains_db.items():
        if db:
            total += reference[stem] * np.float32(audio.db_to_gain(db) - 1.0)
    return total


def _match(given_lufs, reference_lufs):
    """Gains that play the as-given and reference mixes at equal loudness (the louder one down)."""
    if given_lufs is None or reference_lufs is None:
        return {"as_given": 0.0, "reference": 0.0}
    quieter = min(given_lufs, reference_lufs)
    return {"as_given": round(quieter - given_lufs, 3), "reference": round(quieter - reference_lufs, 3)}
