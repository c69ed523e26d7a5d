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

from pathlib import Path

import numpy as np

from modelgen import audio
from modelgen.corrections import STEMS
from modelgen.provenance import file_sha256


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


def _write(path, data, sample_rate, fmt):
    """Write 16-bit audio (quantised here: libsndfile's own float conversion is slower)."""
    import soundfile

    path.parent.mkdir(parents=True, exist_ok=True)
    pcm = np.rint(np.clip(data, -1.0, 32767 / 32768) * 32768).astype(np.int16)
    soundfile.write(path, pcm, sample_rate, subtype="PCM_16", format=fmt)
    return path


AUDIO_FORMATS = {"flac": "FLAC", "wav": "WAV"}


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
    rate = songs[first["sources"][first["anchor"]]["song"]].sample_rate
    reference = read_sources(first, songs, rate)
    for scenario in scenarios[1:]:
        if scenario["sources"] != first["sources"]:
            raise ValueError(f"{scenario['id']}: scenarios of group {group} must share their sources")
    reference_mix = audio.mix(reference)
    as_given = {scenario["id"]: audio.mix(reference, scenario["gains_db"]) for scenario in scenarios}
    stem_peaks = {stem: audio.peak_dbfs(clip) for stem, clip in reference.items()}
    peaks = [audio.peak_dbfs(clip) for clip in [reference_mix, *as_given.values()]]
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
    hashes = {}

    def save(relative, data, sample_rate, fmt):
        path = _write(out_dir / relative, data, sample_rate, fmt)
        hashes[relative.as_posix()] = file_sha256(path)
        return relative.as_posix()

    reference_paths = {
        stem: save(base / "reference" / f"{stem}.{suffix}", clip, rate, fmt)
        for stem, clip in reference.items()
    }
    reference_mix_path = save(base / f"reference_mix.{suffix}", reference_mix, rate, fmt)
    model_reference = {stem: audio.to_model_input(clip, rate) for stem, clip in reference.items()}
    shared = {path: hashes[path] for path in [*reference_paths.values(), reference_mix_path]}

    reference_lufs = audio.integrated_loudness(reference_mix, rate)
    results = {}
    for scenario in scenarios:
        folder = base / (scenario["id"].removeprefix(group).lstrip("-") or "flawed")
        gains = scenario["gains_db"]
        mix_path = save(folder / f"as_given_mix.{suffix}", as_given[scenario["id"]], rate, fmt)
        model_paths = []
        model_mix = np.zeros_like(model_reference[STEMS[0]])
        for index, stem in enumerate(scenario["stems"]):
            clip = model_reference[stem] * np.float32(audio.db_to_gain(gains[stem]))
            model_mix += clip
            model_paths.append(
                save(folder / "model" / f"{index}_{stem}.wav", clip, audio.MODEL_SAMPLE_RATE, "WAV")
            )
        model_mix_path = save(folder / "model" / "mix.wav", model_mix, audio.MODEL_SAMPLE_RATE, "WAV")
        own = [mix_path, *model_paths, model_mix_path]
        results[scenario["id"]] = {
            "audio": {
                "reference": {stem: reference_paths[stem] for stem in scenario["stems"]},
                "as_given_mix": mix_path,
                "reference_mix": reference_mix_path,
                "model_inputs": model_paths,
                "model_mix": model_mix_path,
                "loudness_match_db": _match(as_given[scenario["id"]], reference_lufs, rate),
                "sha256": {**shared, **{path: hashes[path] for path in own}},
            },
            "headroom_db": headroom_db,
            "scale_db": scale_db,
        }
    return results


def _match(as_given, reference_lufs, sample_rate):
    """Gains that play the as-given and reference mixes at equal loudness (the louder one down)."""
    given_lufs = audio.integrated_loudness(as_given, sample_rate)
    if given_lufs is None or reference_lufs is None:
        return {"as_given": 0.0, "reference": 0.0}
    quieter = min(given_lufs, reference_lufs)
    return {"as_given": round(quieter - given_lufs, 3), "reference": round(quieter - reference_lufs, 3)}
