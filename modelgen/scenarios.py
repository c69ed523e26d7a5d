"""Anchor-conditioned scenarios: segments, anchors, flawed stems, gain offsets and ground truth.

A scenario is a segment of a song (default 10 s) with one anchor stem that stays put and 0, 1 or
2+ other stems given a gain offset; the ground truth is the correction an ideal engineer would
make, the inverse of the offset. The plan is pure data, computed from per-segment loudness
analysis (:func:`analyse_song`) and the run seed, before any audio is rendered.

Rules the plan keeps:

- only segments where the anchor and at least one other stem are active (RMS activity gate);
- the anchor is never perturbed; a stem that is not active in the segment is never flawed;
- offsets are drawn per flawed stem from an intensity class (moderate 3-6 dB, large 6-12 dB, as
  in the prior work) with a random sign, rounded to 0.1 dB;
- splits are by song (the corpus decides: MUSDB18's test folder and validation list); a
  cross-song hybrid takes stems only from songs of one split and one genre;
- each scenario has its own seed derived from the run seed and its id, so a scenario does not
  change when another is added or when songs are processed in another order.

Cross-song hybrids
------------------
The anchor (with its segment) comes from one song; every other stem comes from another song of
the same split and genre whose tempo is compatible with the anchor song's: within
``tempo_tolerance`` (default 6 %) of it, or of its double or half (half-time and double-time
feel). A song's tempo comes from the ``Tempo`` column of its track list, else it is estimated
from its drum stem (:func:`modelgen.audio.estimate_tempo`, median over segments; songs whose
drums never play get none and are not hybridised). Each
borrowed stem is set to the genre's median stem-to-anchor loudness offset measured on the
training split (:class:`modelgen.baseline.GenreNorms`), then flawed like any other scenario.
Segments are not beat-aligned or key-matched: hybrids teach balance, not arrangement.
"""

import dataclasses
import hashlib
import json
import re
from dataclasses import dataclass, field

import numpy as np

from modelgen import audio
from modelgen.corrections import INTENSITY_CLASSES, STEMS, intensity_class, prompt_order

ANCHOR_STRATEGIES = ("vocals-first", "fixed-priority", "loudest", "random")
FLAW_COUNTS = ("0", "1", "2+")
MAX_REDRAWS = 20
"""Draws tried for a scenario that differs from the segment's earlier ones (the last is kept)."""


@dataclass(frozen=True)
class ScenarioConfig:
    """How scenarios are cut, anchored and flawed (saved in the dataset's ``config.json``)."""

    segment_seconds: float = 10.0
    """Length of a segment; segments do not overlap and a trailing partial segment is dropped."""
    max_segments_per_song: int | None = None
    """Use at most this many segments per song, evenly spread (None: every segment)."""
    scenarios_per_segment: int = 2
    """Scenarios drawn from each eligible segment (each with its own anchor draw and flaws)."""
    anchor_strategy: str = "vocals-first"
    """vocals-first (vocals when active, else a random active stem), fixed-priority (first
    active stem of ``anchor_priority``), loudest (highest LUFS), random (any active stem)."""
    anchor_priority: tuple = STEMS
    flaw_mix: dict = field(default_factory=lambda: {"0": 0.2, "1": 0.4, "2+": 0.4})
    """Share of scenarios with no, one, and two or more flawed stems."""
    intensity_mix: dict = field(default_factory=lambda: {"moderate": 0.5, "large": 0.5})
    offset_ranges_db: dict = field(default_factory=lambda: {"moderate": [3.0, 6.0], "large": [6.0, 12.0]})
    activity_threshold_dbfs: float = audio.SILENCE_DBFS
    min_active_ratio: float = 0.5
    hybrid_share: float = 0.25
    """Hybrid scenarios per split, as a share of that split's song scenarios (0: none)."""
    tempo_tolerance: float = 0.06

    def __post_init__(self):
        if self.segment_seconds < 1.0:
            raise ValueError(f"segment_seconds must be at least 1 s, got {self.segment_seconds}")
        if self.max_segments_per_song is not None and self.max_segments_per_song < 1:
            raise ValueError("max_segments_per_song must be at least 1 (or null for every segment)")
        if self.scenarios_per_segment < 1:
            raise ValueError(f"scenarios_per_segment must be at least 1, got {self.scenarios_per_segment}")
        if self.anchor_strategy not in ANCHOR_STRATEGIES:
            raise ValueError(f"anchor_strategy {self.anchor_strategy!r} is not one of {ANCHOR_STRATEGIES}")
        object.__setattr__(self, "anchor_priority", tuple(self.anchor_priority))
        if sorted(self.anchor_priority) != sorted(STEMS):
            raise ValueError(f"anchor_priority must order exactly the stems {STEMS}")
        _check_weights("flaw_mix", self.flaw_mix, FLAW_COUNTS)
        classes = tuple(name for name, _, _ in INTENSITY_CLASSES if name != "none")
        _check_weights("intensity_mix", self.intensity_mix, classes)
        for name in self.intensity_mix:
            low, high = self.offset_ranges_db.get(name, (None, None))
            if low is None or not 0 < low <= high or intensity_class(low) != name:
                raise ValueError(
                    f"offset_ranges_db[{name!r}] must be [low, high] dB inside the {name} class, "
                    f"got {self.offset_ranges_db.get(name)}"
                )
        if not 0 <= self.min_active_ratio <= 1:
            raise ValueError(f"min_active_ratio must be in [0, 1], got {self.min_active_ratio}")
        if not 0 <= self.hybrid_share <= 10:
            raise ValueError(f"hybrid_share must be in [0, 10], got {self.hybrid_share}")
        if not 0 < self.tempo_tolerance < 0.5:
            raise ValueError(f"tempo_tolerance must be in (0, 0.5), got {self.tempo_tolerance}")

    def to_dict(self):
        values = dataclasses.asdict(self)
        values["anchor_priority"] = list(self.anchor_priority)
        return values


def _check_weights(name, weights, allowed):
    unknown = sorted(set(weights) - set(allowed))
    if unknown:
        raise ValueError(f"{name}: unknown keys {unknown}; allowed {list(allowed)}")
    if any(value < 0 for value in weights.values()) or sum(weights.values()) <= 0:
        raise ValueError(f"{name}: weights must be non-negative and not all zero, got {weights}")


def derive_seed(run_seed, *parts):
    """A 32-bit seed for one scenario (or song) from the run seed and names, order-independent."""
    text = json.dumps([run_seed, *parts], ensure_ascii=False)
    return int(hashlib.sha256(text.encode("utf-8")).hexdigest()[:8], 16)


def slug(name):
    """A short, unique, id-safe form of a song name (``synthetic-pop-song-001-3fa2c1``)."""
    base = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40] or "song"
    return f"{base}-{hashlib.sha1(name.encode('utf-8')).hexdigest()[:6]}"


def segment_starts(frames, sample_rate, config):
    """Start frames of the segments used from a song of ``frames`` frames."""
    size = round(config.segment_seconds * sample_rate)
    starts = [index * size for index in range(frames // size)]
    limit = config.max_segments_per_song
    if limit is not None and len(starts) > limit:
        picks = np.linspace(0, len(starts) - 1, limit).round().astype(int)
        starts = [starts[index] for index in sorted(set(picks.tolist()))]
    return starts


def analyse_segment(stems, sample_rate, config):
    """Per-stem loudness (LUFS or None), activity and peak of one segment's audio."""
    result = {}
    for stem in STEMS:
        clip = stems[stem]
        active, ratio = audio.activity(
            clip,
            sample_rate,
            threshold_dbfs=config.activity_threshold_dbfs,
            min_ratio=config.min_active_ratio,
        )
        lufs = audio.integrated_loudness(clip, sample_rate)
        result[stem] = {
            "lufs": None if lufs is None else round(lufs, 3),
            "active": bool(active and lufs is not None),
            "active_ratio": round(ratio, 4),
        }
    return result


def analyse_song(song, config):
    """Loudness and activity of every stem in every segment of a song (decodes one segment at a time).

    Returns
    -------
    dict
        ``song``, ``split``, ``genre``, ``licence``, ``tempo_bpm``, ``sample_rate``, ``frames``
        and ``segments``: ``[{"index", "start_frame", "frames", "stems": {stem: {...}}}]``.
    """
    size = round(config.segment_seconds * song.sample_rate)
    segments, tempi = [], []
    for index, start in enumerate(segment_starts(song.frames, song.sample_rate, config)):
        stems = song.read_stems(start, size)
        stats = analyse_segment(stems, song.sample_rate, config)
        segments.append({"index": index, "start_frame": start, "frames": size, "stems": stats})
        if song.tempo_bpm is None and stats["drums"]["active"]:
            tempi.append(audio.estimate_tempo(stems["drums"], song.sample_rate))
    tempi = [tempo for tempo in tempi if tempo is not None]
    tempo = song.tempo_bpm if song.tempo_bpm is not None else (float(np.median(tempi)) if tempi else None)
    return {
        "song": song.name,
        "split": song.split,
        "genre": song.genre,
        "licence": song.licence,
        "tempo_bpm": tempo,
        "tempo_source": "tracklist" if song.tempo_bpm is not None else ("estimated" if tempi else None),
        "sample_rate": song.sample_rate,
        "frames": song.frames,
        "segments": segments,
    }


def choose_anchor(stats, strategy, priority, rng):
    """Pick the anchor among the active stems of a segment; None when fewer than two are active."""
    active = [stem for stem in priority if stats[stem]["active"]]
    if len(active) < 2:
        return None
    if strategy == "vocals-first":
        return "vocals" if "vocals" in active else active[rng.integers(len(active))]
    if strategy == "fixed-priority":
        return active[0]
    if strategy == "loudest":
        return max(active, key=lambda stem: stats[stem]["lufs"])
    return active[rng.integers(len(active))]


def draw_offsets(candidates, config, rng):
    """Gain offsets in dB for the candidate stems: how many are flawed, by how much, which way."""
    names = list(config.flaw_mix)
    weights = np.array([config.flaw_mix[name] for name in names], dtype=float)
    count_class = names[rng.choice(len(names), p=weights / weights.sum())]
    if count_class == "0" or not candidates:
        return {}, "0"
    count = 1 if count_class == "1" else int(rng.integers(2, max(2, len(candidates)) + 1))
    count = min(count, len(candidates))
    flawed = sorted(rng.choice(candidates, size=count, replace=False).tolist(), key=STEMS.index)
    classes = list(config.intensity_mix)
    class_weights = np.array([config.intensity_mix[name] for name in classes], dtype=float)
    offsets = {}
    for stem in flawed:
        name = classes[rng.choice(len(classes), p=class_weights / class_weights.sum())]
        low, high = config.offset_ranges_db[name]
        magnitude = round(float(rng.uniform(low, high)), 1)
        offsets[stem] = magnitude if rng.random() < 0.5 else -magnitude
    return offsets, "1" if len(offsets) == 1 else "2+"


def _scenario(*, scenario_id, seed, anchor, strategy, stats, offsets, count_class, base):
    stems = prompt_order(anchor)
    gains = {stem: offsets.get(stem, 0.0) for stem in stems}
    return {
        "id": scenario_id,
        **base,
        "anchor": anchor,
        "anchor_strategy": strategy,
        "stems": stems,
        "flawed": [stem for stem in stems if gains[stem] != 0],
        "flaw_count": count_class,
        "gains_db": gains,
        "corrections_db": {stem: (-gain if gain else 0.0) for stem, gain in gains.items()},
        "intensity": {stem: intensity_class(gain) for stem, gain in gains.items()},
        "loudness_lufs": {stem: stats[stem]["lufs"] for stem in stems},
        "active": {stem: stats[stem]["active"] for stem in stems},
        "seed": seed,
    }


def plan_song(analysis, config, run_seed):
    """Scenarios of one song, drawn segment by segment with per-scenario seeds."""
    scenarios = []
    seconds = config.segment_seconds
    rate = analysis["sample_rate"]
    for segment in analysis["segments"]:
        stats = segment["stems"]
        drawn = set()
        for draw in range(config.scenarios_per_segment):
            scenario_id = f"{slug(analysis['song'])}-s{segment['index']:03d}-{draw}"
            seed = derive_seed(run_seed, scenario_id)
            rng = np.random.default_rng(seed)
            anchor = choose_anchor(stats, config.anchor_strategy, config.anchor_priority, rng)
            if anchor is None:
                break
            candidates = [stem for stem in prompt_order(anchor)[1:] if stats[stem]["active"]]
            for _ in range(MAX_REDRAWS):  # a segment never holds the same scenario twice
                offsets, count_class = draw_offsets(candidates, config, rng)
                if (anchor, tuple(sorted(offsets.items()))) not in drawn:
                    break
            drawn.add((anchor, tuple(sorted(offsets.items()))))
            start_s = round(segment["start_frame"] / rate, 6)
            base = {
                "song": analysis["song"],
                "split": analysis["split"],
                "genre": analysis["genre"],
                "licence": analysis["licence"],
                "hybrid": False,
                "segment_start_s": start_s,
                "segment_seconds": seconds,
                "sources": {
                    stem: {"song": analysis["song"], "start_s": start_s, "level_db": 0.0} for stem in STEMS
                },
                "render_group": f"{slug(analysis['song'])}-s{segment['index']:03d}",
            }
            scenarios.append(
                _scenario(
                    scenario_id=scenario_id,
                    seed=seed,
                    anchor=anchor,
                    strategy=config.anchor_strategy,
                    stats=stats,
                    offsets=offsets,
                    count_class=count_class,
                    base=base,
                )
            )
    return scenarios


def norm_rows(analyses):
    """Stem-to-anchor loudness offsets of the training songs: rows ``{genre, anchor, stem, offset_lu}``.

    One row per ordered pair of active stems in every segment of every training song; the
    baseline's genre norms and the hybrids' reference levels are learned from these.
    """
    rows = []
    for analysis in analyses:
        if analysis["split"] != "train":
            continue
        for segment in analysis["segments"]:
            stats = segment["stems"]
            active = [stem for stem in STEMS if stats[stem]["active"]]
            for anchor in active:
                for stem in active:
                    if stem != anchor:
                        rows.append(
                            {
                                "genre": analysis["genre"],
                                "anchor": anchor,
                                "stem": stem,
                                "offset_lu": round(stats[stem]["lufs"] - stats[anchor]["lufs"], 3),
                            }
                        )
    return rows


def tempo_compatible(first, second, tolerance):
    """True when two tempi are within ``tolerance`` of each other, or of double or half time."""
    if not first or not second:
        return False
    ratio = first / second
    return any(abs(ratio * factor - 1.0) <= tolerance for factor in (1.0, 2.0, 0.5))


def _hybrid_pool(analyses, split, config):
    """Songs of one split that can take part in a hybrid, keyed by song name."""
    return {
        a["song"]: a
        for a in analyses
        if a["split"] == split and a["tempo_bpm"] and any(_anchor_ok(s["stems"]) for s in a["segments"])
    }


def _anchor_ok(stats):
    return sum(stats[stem]["active"] for stem in STEMS) >= 2


def plan_hybrids(analyses, norms, config, run_seed, split, count):
    """Up to ``count`` cross-song hybrid scenarios within one split (see the module docstring).

    Returns
    -------
    tuple
        ``(scenarios, skipped)``: the hybrids and how many draws found no compatible donor.
    """
    pool = _hybrid_pool(analyses, split, config)
    hybrids, skipped = [], 0
    for number in range(count):
        hybrid_id = f"hybrid-{split}-{number:04d}"
        seed = derive_seed(run_seed, hybrid_id)
        rng = np.random.default_rng(seed)
        scenario = _draw_hybrid(pool, norms, config, rng, hybrid_id, seed) if pool else None
        if scenario is None:
            skipped += 1
        else:
            hybrids.append(scenario)
    return hybrids, skipped


def _draw_hybrid(pool, norms, config, rng, hybrid_id, seed):
    names = sorted(pool)
    host = pool[names[rng.integers(len(names))]]
    donors = [
        pool[name]
        for name in names
        if name != host["song"]
        and pool[name]["genre"] == host["genre"]
        and pool[name]["sample_rate"] == host["sample_rate"]
        and tempo_compatible(pool[name]["tempo_bpm"], host["tempo_bpm"], config.tempo_tolerance)
    ]
    if not donors:
        return None
    segments = [s for s in host["segments"] if _anchor_ok(s["stems"])]
    segment = segments[rng.integers(len(segments))]
    anchor = choose_anchor(segment["stems"], config.anchor_strategy, config.anchor_priority, rng)
    rate = host["sample_rate"]
    anchor_lufs = segment["stems"][anchor]["lufs"]
    start_s = round(segment["start_frame"] / rate, 6)
    sources = {anchor: {"song": host["song"], "start_s": start_s, "level_db": 0.0}}
    stats = {anchor: segment["stems"][anchor]}
    for stem in prompt_order(anchor)[1:]:
        options = [(d, s) for d in donors for s in d["segments"] if s["stems"][stem]["active"]]
        if not options:
            donor, donor_segment = host, segment
        else:
            donor, donor_segment = options[rng.integers(len(options))]
        donor_stats = donor_segment["stems"][stem]
        level_db = 0.0
        if donor_stats["active"]:
            try:
                target = norms.offset(genre=host["genre"], anchor=anchor, stem=stem)
            except KeyError:
                return None
            level_db = round(float(np.clip(anchor_lufs + target - donor_stats["lufs"], -20.0, 20.0)), 2)
        sources[stem] = {
            "song": donor["song"],
            "start_s": round(donor_segment["start_frame"] / rate, 6),
            "level_db": level_db,
        }
        lufs = donor_stats["lufs"]
        stats[stem] = {**donor_stats, "lufs": None if lufs is None else round(lufs + level_db, 3)}
    if len({source["song"] for source in sources.values()}) < 2:
        return None
    candidates = [stem for stem in prompt_order(anchor)[1:] if stats[stem]["active"]]
    offsets, count_class = draw_offsets(candidates, config, rng)
    base = {
        "song": f"hybrid:{hybrid_id}",
        "songs": {stem: sources[stem]["song"] for stem in STEMS},
        "split": host["split"],
        "genre": host["genre"],
        "licence": _strictest_licence([pool[source["song"]]["licence"] for source in sources.values()]),
        "hybrid": True,
        "segment_start_s": start_s,
        "segment_seconds": config.segment_seconds,
        "sources": {stem: sources[stem] for stem in STEMS},
        "render_group": hybrid_id,
    }
    return _scenario(
        scenario_id=hybrid_id,
        seed=seed,
        anchor=anchor,
        strategy=config.anchor_strategy,
        stats=stats,
        offsets=offsets,
        count_class=count_class,
        base=base,
    )


def _strictest_licence(licences):
    """A hybrid is as restricted as its most restricted source song."""
    unique = sorted(set(licences))
    if len(unique) == 1:
        return unique[0]
    return "Restricted" if "Restricted" in unique else " + ".join(unique)


def plan_scenarios(analyses, config, run_seed):
    """Every scenario of a build: song scenarios, then hybrids per split.

    Returns
    -------
    dict
        ``scenarios`` (list, in a stable order), ``norm_rows`` (training offsets), ``norms``
        (a fitted :class:`modelgen.baseline.GenreNorms` or None without training rows) and
        ``hybrids_skipped`` (split -> draws without a compatible donor).
    """
    from modelgen.baseline import GenreNorms

    songs = [scenario for analysis in analyses for scenario in plan_song(analysis, config, run_seed)]
    rows = norm_rows(analyses)
    norms = GenreNorms.fit(rows) if rows else None
    hybrids, skipped = [], {}
    for split in ("train", "valid", "test"):
        count = round(config.hybrid_share * sum(1 for s in songs if s["split"] == split))
        if count and norms is not None:
            made, skipped[split] = plan_hybrids(analyses, norms, config, run_seed, split, count)
            hybrids += made
    return {"scenarios": songs + hybrids, "norm_rows": rows, "norms": norms, "hybrids_skipped": skipped}
