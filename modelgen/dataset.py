"""Build a dataset folder from a multitrack corpus: analysis, scenarios, stimuli, chat records.

``build_dataset(corpus, out, config=...)`` runs four steps:

1. **analyse** every song, one segment at a time (BS.1770 loudness and activity per stem);
2. **plan** the scenarios (:mod:`modelgen.scenarios`), learn the genre norms from the training
   split and write each scenario's target advice (:func:`modelgen.annotate.target_advice`);
3. **render** the audio (:mod:`modelgen.stimuli`), one work unit per song (all its segments)
   or per hybrid, in ``jobs`` processes;
4. **assemble** ``manifest.json`` (validated), ``train/valid/test.jsonl``, ``norms.json``,
   ``stats.json``, ``hashes.json`` and ``config.json``.

Everything is written into ``.<out>.partial`` beside ``out`` and renamed to ``out`` at the end,
so an interrupted build never leaves a dataset that looks complete. Rerunning the same command
resumes: analyses and work units already on disk are reused when their inputs, plan and file
hashes match. A worker holds one segment group's audio at a time, so memory does not grow with
song length. The same corpus, config and seed give the same audio files, bit for bit.
"""

import dataclasses
import json
import shutil
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from statistics import median

import numpy as np

from modelgen import contracts
from modelgen.corpus import open_corpus
from modelgen.prompts import REPRESENTATIONS, build_messages
from modelgen.provenance import config_sha256, file_sha256, git_commit
from modelgen.scenarios import ScenarioConfig, analyse_song, derive_seed, plan_scenarios, slug

SPLITS = ("train", "valid", "test")
ANALYSIS_VERSION = 2
"""Bump when the analysis changes, so cached analyses are recomputed."""


@dataclass(frozen=True)
class DatasetConfig:
    """Everything that decides a dataset's content (saved as ``config.json``)."""

    seed: int = 0
    scenarios: ScenarioConfig = field(default_factory=ScenarioConfig)
    representation: str = "stems"
    """Which clips the chat records give the model (see :data:`modelgen.prompts.REPRESENTATIONS`)."""
    peak_ceiling_dbfs: float = -1.0
    """No rendered file peaks above this; a scenario group is scaled as a whole if needed."""
    audio_format: str = "flac"
    """``flac`` or ``wav`` for the 44.1 kHz stereo stimuli (WAV writes faster, FLAC is half the size)."""

    def __post_init__(self):
        if isinstance(self.scenarios, dict):
            object.__setattr__(self, "scenarios", ScenarioConfig(**self.scenarios))
        if not isinstance(self.seed, int) or isinstance(self.seed, bool):
            raise ValueError(f"seed must be an integer, got {self.seed!r}")
        if self.representation not in REPRESENTATIONS:
            raise ValueError(f"representation {self.representation!r} is not one of {REPRESENTATIONS}")
        if self.audio_format not in ("flac", "wav"):
            raise ValueError(f"audio_format must be flac or wav, got {self.audio_format!r}")
        if not -20.0 <= self.peak_ceiling_dbfs <= 0.0:
            raise ValueError(f"peak_ceiling_dbfs must be in [-20, 0], got {self.peak_ceiling_dbfs}")

    @classmethod
    def from_dict(cls, values, *, source="config"):
        """Build from a dict (e.g. a JSON file), refusing unknown keys with their names."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"{source}: unknown settings {unknown}; known: {sorted(known)}")
        scenario_values = dict(values.get("scenarios", {}))
        known_scenario = {f.name for f in dataclasses.fields(ScenarioConfig)}
        unknown = sorted(set(scenario_values) - known_scenario)
        if unknown:
            raise ValueError(
                f"{source}: unknown scenarios settings {unknown}; known: {sorted(known_scenario)}"
            )
        try:
            return cls(**{**values, "scenarios": ScenarioConfig(**scenario_values)})
        except (TypeError, ValueError) as error:
            raise ValueError(f"{source}: {error}") from None

    @classmethod
    def load(cls, path, **overrides):
        """Read a JSON config file; keyword overrides (None skipped) win over the file."""
        path = Path(path)
        try:
            values = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ValueError(f"config file {path} not found") from None
        except json.JSONDecodeError as error:
            raise ValueError(f"{path}: not valid JSON ({error})") from None
        values.update({key: value for key, value in overrides.items() if value is not None})
        return cls.from_dict(values, source=str(path))

    def to_dict(self):
        return {
            "seed": self.seed,
            "scenarios": self.scenarios.to_dict(),
            "representation": self.representation,
            "peak_ceiling_dbfs": self.peak_ceiling_dbfs,
            "audio_format": self.audio_format,
        }


class DatasetError(ValueError):
    """The dataset cannot be built into the given folder (the message says why and what to do)."""


def _work_folder(out):
    return out.with_name(f".{out.name}.partial")


def _prepare(out, config_hash):
    """Return the work folder, reusing an interrupted build of the same config."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise DatasetError(f"{out} already exists and is not empty; choose a new folder or remove it")
    work = _work_folder(out)
    marker = work / "build.json"
    if work.exists():
        previous = json.loads(marker.read_text(encoding="utf-8")) if marker.is_file() else {}
        if previous.get("config_sha256") != config_hash:
            shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    (work / "build.json").write_text(json.dumps({"config_sha256": config_hash}), encoding="utf-8")
    return work


def _song_fingerprint(song):
    files = (
        [song.musdb_path] if song.musdb_path else [song.stem_paths[stem] for stem in sorted(song.stem_paths)]
    )
    stats = [(Path(path).name, Path(path).stat().st_size, Path(path).stat().st_mtime_ns) for path in files]
    return {
        "frames": song.frames,
        "sample_rate": song.sample_rate,
        "files": stats,
        "version": ANALYSIS_VERSION,
    }


def _keep_freed_memory():
    """Ask glibc's allocator to reuse freed audio buffers instead of returning them to the kernel.

    A build allocates and frees many arrays of a few MiB (a 10 s stereo clip is 3.4 MiB);
    glibc serves each from a fresh ``mmap`` and every page of it then faults on first touch:
    350,000 minor faults and about 0.6 s of kernel time in a build of 300 s of audio, 16,000
    faults with this. Raising the mmap threshold to 64 MiB and the trim threshold to 128 MiB
    keeps such buffers in the heap for reuse; the heap stays at the worker's peak (which does
    not grow with song length). Other C libraries have no such knob and are left alone.
    """
    import ctypes
    import sys

    if sys.platform != "linux":
        return
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)  # glibc's; absent from other C libraries
    if mallopt is not None:
        m_trim_threshold, m_mmap_threshold = -1, -3
        mallopt(m_mmap_threshold, 64 << 20)
        mallopt(m_trim_threshold, 128 << 20)


def _analyse_task(song, config, path):
    """Worker: analyse one song unless a matching analysis is on disk (saved at ``path``); return it."""
    _keep_freed_memory()
    fingerprint = json.loads(json.dumps(_song_fingerprint(song)))
    settings = {
        **config.to_dict(),
        "split": song.split,
        "genre": song.genre,
        "licence": song.licence,
        "tempo_bpm": song.tempo_bpm,
    }
    if path.is_file():
        cached = json.loads(path.read_text(encoding="utf-8"))
        if cached.get("fingerprint") == fingerprint and cached.get("settings") == settings:
            return cached["analysis"]
    analysis = analyse_song(song, config)
    record = {"fingerprint": fingerprint, "settings": settings, "analysis": analysis}
    contracts.atomic_write(path, lambda handle: handle.write(json.dumps(record)))
    return analysis


def _unit_complete(path, plan_hash, work):
    if not path.is_file():
        return None
    record = json.loads(path.read_text(encoding="utf-8"))
    if record.get("plan_sha256") != plan_hash:
        return None
    for result in record["results"].values():
        for relative, digest in result["audio"]["sha256"].items():
            file = work / relative
            if not file.is_file() or file_sha256(file) != digest:
                return None
    return record["results"]


def _render_task(unit, scenarios, songs, work, peak_ceiling_dbfs, audio_format):
    """Worker: render one work unit (a song's segments or one hybrid) unless already complete."""
    from modelgen.stimuli import render_group

    _keep_freed_memory()
    plan_hash = config_sha256({"scenarios": scenarios, "peak": peak_ceiling_dbfs, "format": audio_format})
    path = work / "units" / f"{unit}.json"
    done = _unit_complete(path, plan_hash, work)
    if done is not None:
        return done
    groups = {}
    for scenario in scenarios:
        groups.setdefault(scenario["render_group"], []).append(scenario)
    results = {}
    for group in groups.values():
        results.update(
            render_group(group, songs, work, peak_ceiling_dbfs=peak_ceiling_dbfs, audio_format=audio_format)
        )
    record = {"plan_sha256": plan_hash, "results": results}
    contracts.atomic_write(path, lambda handle: handle.write(json.dumps(record)))
    return results


def _run(tasks, jobs, desc, progress):
    """Run ``(function, args)`` tasks in ``jobs`` processes (in this one for 1) with a progress bar."""
    from tqdm import tqdm

    bar = tqdm(total=len(tasks), desc=desc, unit="unit", disable=not progress)
    results = []
    try:
        if jobs == 1:
            for function, args in tasks:
                results.append(function(*args))
                bar.update()
        else:
            with ProcessPoolExecutor(max_workers=jobs) as pool:
                futures = [pool.submit(function, *args) for function, args in tasks]
                for future in futures:
                    results.append(future.result())
                    bar.update()
    finally:
        bar.close()
    return results


def _advice(scenario, run_seed):
    """The target advice; a digitally silent stem is described as inaudible, never as well placed.

    ``annotate.write_advice`` is what ``annotate.target_advice`` calls; it is used here because
    it also takes the silent stems.
    """
    from modelgen.annotate import write_advice

    rng = np.random.default_rng(derive_seed(run_seed, "advice", scenario["id"]))
    silent = [stem for stem in scenario["stems"][1:] if scenario["loudness_lufs"][stem] is None]
    return write_advice(
        anchor=scenario["anchor"],
        stems=scenario["stems"],
        corrections_db=scenario["corrections_db"],
        genre=scenario["genre"],
        rng=rng,
        silent=silent,
    )


def _manifest_scenario(scenario, rendered):
    """The manifest entry: the plan plus the rendered files, headroom and group scale.

    Stem loudness is not measured again on the rendered files: a gain of g dB shifts BS.1770
    integrated loudness by exactly g LU (every block's mean square and the relative gate move
    together), so the analysis value plus ``scale_db`` is the rendered stem's loudness. The one
    exception is a block pushed across the -70 LUFS absolute gate, which needs stems within
    a few LU of -70 LUFS; the build scales by at most a few dB and only downwards from peaks
    near full scale, and ``tests/modelgen/test_dataset.py`` checks the manifest against the files.
    """
    scale = rendered["scale_db"]
    entry = dict(scenario)
    entry["loudness_lufs"] = {
        stem: None if value is None else round(value + scale, 3)
        for stem, value in scenario["loudness_lufs"].items()
    }
    entry["headroom_db"] = rendered["headroom_db"]
    entry["scale_db"] = scale
    entry["audio"] = rendered["audio"]
    return entry


def _record(entry, advice, representation):
    messages = build_messages(
        anchor=entry["anchor"],
        stems=entry["stems"],
        clip_paths=entry["audio"]["model_inputs"],
        representation=representation,
        genre=entry["genre"],
        mix_path=entry["audio"]["model_mix"],
        answer=advice.text,
    )
    return {
        "schema_version": contracts.SCHEMA_VERSION,
        "scenario_id": entry["id"],
        "messages": messages,
        "target": advice.structured,
        "split": entry["split"],
    }


def dataset_stats(entries, skipped_hybrids):
    """Counts per split, anchor, flaw count, genre and intensity class, plus headroom figures."""

    def count(key):
        return dict(sorted(Counter(key(entry) for entry in entries).items()))

    headroom = [entry["headroom_db"] for entry in entries]
    return {
        "scenarios": len(entries),
        "songs": {
            split: len({e["song"] for e in entries if e["split"] == split and not e["hybrid"]})
            for split in SPLITS
        },
        "per_split": {split: sum(1 for e in entries if e["split"] == split) for split in SPLITS},
        "per_anchor": count(lambda e: e["anchor"]),
        "per_flaw_count": count(lambda e: e["flaw_count"]),
        "per_genre": count(lambda e: e["genre"]),
        "per_intensity": dict(
            sorted(Counter(e["intensity"][stem] for e in entries for stem in e["flawed"]).items())
        ),
        "per_split_and_flaw_count": {
            split: dict(sorted(Counter(e["flaw_count"] for e in entries if e["split"] == split).items()))
            for split in SPLITS
        },
        "hybrids": sum(1 for e in entries if e["hybrid"]),
        "hybrid_draws_without_donor": skipped_hybrids,
        "headroom_db": {
            "min": min(headroom, default=None),
            "median": median(headroom) if headroom else None,
        },
        "scaled_scenarios": sum(1 for e in entries if e["scale_db"] != 0),
    }


def build_dataset(corpus_dir, out_dir, *, config=None, jobs=1, progress=False):
    """Build a dataset folder from a corpus; see the module docstring.

    Parameters
    ----------
    corpus_dir : path
        A corpus in the MUSDB18-HQ layout (:func:`modelgen.corpus.open_corpus`).
    out_dir : path
        New (or empty) folder for the dataset.
    config : DatasetConfig, optional
    jobs : int
        Worker processes for analysis and rendering (work units are songs and hybrids).
    progress : bool
        Show progress bars.

    Returns
    -------
    dict
        The stats written to ``stats.json`` plus ``out`` (the dataset folder) and ``seconds``
        (wall time of each step: analyse, plan, render, assemble; not saved, so that files
        stay identical between runs).
    """
    config = config or DatasetConfig()
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, got {jobs}")
    songs = open_corpus(corpus_dir)
    out = Path(out_dir)
    config_hash = config_sha256({**config.to_dict(), "corpus": str(Path(corpus_dir).resolve())})
    work = _prepare(out, config_hash)
    by_name = {song.name: song for song in songs}

    analysis_tasks = [
        (_analyse_task, (song, config.scenarios, work / "analysis" / f"{slug(song.name)}.json"))
        for song in songs
    ]
    clock = [time.perf_counter()]
    analyses = _run(analysis_tasks, jobs, "analyse", progress)
    clock.append(time.perf_counter())
    plan = plan_scenarios(analyses, config.scenarios, config.seed)
    scenarios = plan["scenarios"]
    if not scenarios:
        shutil.rmtree(work)
        shortest = min(song.seconds for song in songs)
        raise DatasetError(
            f"{corpus_dir}: no scenario: no {config.scenarios.segment_seconds:g} s segment has an active "
            f"anchor and another active stem (shortest song {shortest:.1f} s); use longer songs, a "
            "shorter scenarios.segment_seconds or a lower scenarios.min_active_ratio"
        )

    units = {}
    for scenario in scenarios:
        unit = scenario["render_group"] if scenario["hybrid"] else slug(scenario["song"])
        units.setdefault(unit, []).append(scenario)
    render_tasks = []
    for unit, members in units.items():
        needed = {source["song"] for s in members for source in s["sources"].values()}
        render_tasks.append(
            (
                _render_task,
                (
                    unit,
                    members,
                    {name: by_name[name] for name in needed},
                    work,
                    config.peak_ceiling_dbfs,
                    config.audio_format,
                ),
            )
        )
    clock.append(time.perf_counter())
    rendered = {}
    for results in _run(render_tasks, jobs, "render", progress):
        rendered.update(results)

    clock.append(time.perf_counter())
    entries = [_manifest_scenario(scenario, rendered[scenario["id"]]) for scenario in scenarios]
    provenance = {
        "corpus": str(Path(corpus_dir).resolve().name),
        "songs": len(songs),
        "seed": config.seed,
        "config_sha256": config_hash,
        "git_commit": git_commit(),
        "representation": config.representation,
    }
    manifest = {"schema_version": contracts.SCHEMA_VERSION, "dataset": provenance, "scenarios": entries}
    contracts.write_manifest(work / "manifest.json", manifest)

    records = {split: [] for split in SPLITS}
    for scenario, entry in zip(scenarios, entries):
        records[entry["split"]].append(_record(entry, _advice(scenario, config.seed), config.representation))
    for split in SPLITS:
        contracts.write_jsonl("dataset_record", work / f"{split}.jsonl", records[split])

    norms = plan["norms"].to_dict() if plan["norms"] is not None else None
    _write_json(
        work / "norms.json",
        {"schema_version": contracts.SCHEMA_VERSION, "rows": len(plan["norm_rows"]), "norms": norms},
    )
    stats = dataset_stats(entries, plan["hybrids_skipped"])
    _write_json(work / "stats.json", stats)
    _write_json(work / "config.json", {**config.to_dict(), "provenance": provenance})
    audio_hashes = dict(sorted({k: v for e in entries for k, v in e["audio"]["sha256"].items()}.items()))
    text_hashes = {
        name: file_sha256(work / name) for name in ["manifest.json", *(f"{s}.jsonl" for s in SPLITS)]
    }
    _write_json(work / "hashes.json", {"audio": audio_hashes, "files": text_hashes})

    shutil.rmtree(work / "units")
    (work / "build.json").unlink()
    if out.exists():
        out.rmdir()
    work.rename(out)
    clock.append(time.perf_counter())
    steps = ("analyse", "plan", "render", "assemble")
    seconds = {step: round(end - start, 3) for step, start, end in zip(steps, clock, clock[1:])}
    return {**stats, "out": str(out), "seconds": seconds}


def _write_json(path, obj):
    contracts.atomic_write(path, lambda handle: json.dump(obj, handle, indent=1))
