"""Dataset build speed on the synthetic corpus, measured in one run.

Prints, for one corpus:

- decode: reading every stem once with soundfile (the floor any build pays);
- build: ``build_dataset`` with one worker, as a ratio to decode (target <= 3x) and as throughput
  in seconds of multitrack audio per second per core (target >= 200x real time);
- build with ``--jobs`` workers (wall time; a second figure when jobs > 1);
- peak resident memory of the process doing the work (resource.getrusage ru_maxrss);
- BS.1770 integrated loudness of every stem with pyloudnorm and with ``loudness`` (speed ratio).

Each measured step runs in a fresh Python process so peak memory belongs to that step alone.

Usage: .venv/bin/python benchmarks/dataset_build.py [--songs 10] [--seconds 30] [--jobs 2]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _usage():
    """Peak resident memory (MiB) and CPU seconds of this process and of its finished children."""
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "peak_mib": own.ru_maxrss / 1024,
        "children_peak_mib": children.ru_maxrss / 1024,
        "cpu_seconds": own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime,
        "system_seconds": own.ru_stime + children.ru_stime,
    }


def child_decode(corpus):
    import soundfile

    from modelgen.corpus import open_corpus

    songs = open_corpus(corpus)
    before = _usage()["cpu_seconds"]
    start = time.perf_counter()
    for song in songs:
        for path in song.stem_paths.values():
            soundfile.read(path, dtype="float32", always_2d=True)
    usage = _usage()
    return {**usage, "seconds": time.perf_counter() - start, "cpu_seconds": usage["cpu_seconds"] - before}


def child_build(corpus, out, jobs, audio_format):
    from modelgen.dataset import DatasetConfig, build_dataset

    before = _usage()
    start = time.perf_counter()
    stats = build_dataset(corpus, out, config=DatasetConfig(seed=1, audio_format=audio_format), jobs=jobs)
    usage = _usage()
    return {
        **usage,
        "seconds": time.perf_counter() - start,
        "cpu_seconds": usage["cpu_seconds"] - before["cpu_seconds"],
        "system_seconds": usage["system_seconds"] - before["system_seconds"],
        "steps": stats["seconds"],
        "scenarios": stats["scenarios"],
    }


def child_synth(corpus, songs, seconds):
    from modelgen.synthetic import write_synthetic_corpus

    start = time.perf_counter()
    write_synthetic_corpus(corpus, songs=songs, seconds=seconds, seed=1)
    return {"seconds": time.perf_counter() - start}


def child_loudness(corpus):
    import numpy as np
    import pyloudnorm

    from modelgen.audio import integrated_loudness
    from modelgen.corpus import open_corpus

    stems = [song.read(stem) for song in open_corpus(corpus) for stem in song.stem_paths]
    rate = 44_100
    start = time.process_time()
    ours = [integrated_loudness(stem, rate) for stem in stems]
    fast = time.process_time() - start
    meter = pyloudnorm.Meter(rate)
    start = time.process_time()
    reference = [meter.integrated_loudness(stem.astype(np.float64)) for stem in stems]
    slow = time.process_time() - start
    pairs = [(a, b) for a, b in zip(ours, reference) if a is not None and np.isfinite(b)]
    return {
        "loudness_seconds": fast,
        "pyloudnorm_seconds": slow,
        "max_difference_lu": max(abs(a - b) for a, b in pairs),
    }


def run_child(*args):
    result = subprocess.run(
        [sys.executable, __file__, "--child", *map(str, args)],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--songs", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--child", nargs="+")
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        result = {
            "decode": lambda: child_decode(rest[0]),
            "build": lambda: child_build(rest[0], rest[1], int(rest[2]), rest[3]),
            "loudness": lambda: child_loudness(rest[0]),
            "synth": lambda: child_synth(rest[0], int(rest[1]), float(rest[2])),
        }[kind]()
        print(json.dumps(result))
        return

    # Every step runs in a child process, and this one stays small: Linux keeps a process's peak
    # memory across fork and exec, so a large parent would inflate every child's figure.
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="mixadvice-bench-") as folder:
        corpus = Path(folder) / "corpus"
        synth = run_child("synth", corpus, args.songs, args.seconds)["seconds"]
        audio_seconds = args.songs * args.seconds
        decode = run_child("decode", corpus)
        one = run_child("build", corpus, Path(folder) / "one", 1, "flac")
        wav = run_child("build", corpus, Path(folder) / "wav", 1, "wav")
        many = run_child("build", corpus, Path(folder) / "many", args.jobs, "flac") if args.jobs > 1 else None
        loud = run_child("loudness", corpus)

    print(
        f"corpus: {args.songs} songs x {args.seconds:g} s = {audio_seconds:g} s of 4-stem audio "
        f"(written in {synth:.2f} s)"
    )
    print("times are wall (CPU) seconds; real-time factors use CPU seconds, i.e. per core")
    print(
        f"decode, every stem once with soundfile: {decode['seconds']:.3f} ({decode['cpu_seconds']:.3f}) s "
        f"= {audio_seconds / decode['cpu_seconds']:.0f}x real time"
    )
    for label, run in (("FLAC stimuli", one), ("WAV stimuli", wav)):
        steps = ", ".join(f"{step} {value:.2f}" for step, value in run["steps"].items())
        print(
            f"build, 1 worker, {label}: {run['seconds']:.2f} ({run['cpu_seconds']:.2f}) s for "
            f"{run['scenarios']} scenarios (of which kernel {run['system_seconds']:.2f} s) = "
            f"{run['cpu_seconds'] / decode['cpu_seconds']:.1f}x the decode "
            f"cost (target <= 3x); {audio_seconds / run['cpu_seconds']:.0f}x real time per core "
            f"(target >= 200x); peak memory {run['peak_mib']:.0f} MiB; wall s by step: {steps}"
        )
    if many:
        print(
            f"build, {args.jobs} workers, FLAC: {many['seconds']:.2f} ({many['cpu_seconds']:.2f}) s = "
            f"{audio_seconds / many['seconds']:.0f}x real time wall; peak memory main process "
            f"{many['peak_mib']:.0f} MiB, largest worker {many['children_peak_mib']:.0f} MiB"
        )
    print(
        f"integrated loudness of every stem (CPU s): loudness {loud['loudness_seconds']:.3f} s "
        f"({audio_seconds / loud['loudness_seconds']:.0f}x real time), pyloudnorm "
        f"{loud['pyloudnorm_seconds']:.3f} s ({audio_seconds / loud['pyloudnorm_seconds']:.0f}x); "
        f"loudness is {loud['pyloudnorm_seconds'] / loud['loudness_seconds']:.1f}x faster, "
        f"max difference {loud['max_difference_lu']:.3f} LU; measuring every stem's loudness once, "
        f"as the analysis must, costs {loud['loudness_seconds'] / decode['cpu_seconds']:.1f}x the decode"
    )
    print(
        f"machine: {os.cpu_count()} CPUs, 1-minute load average {load_before:.1f} at the start, "
        f"{os.getloadavg()[0]:.1f} at the end"
    )


if __name__ == "__main__":
    main()
