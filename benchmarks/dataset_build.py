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


def _peak_mib():
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_decode(corpus):
    import soundfile

    from modelgen.corpus import open_corpus

    start = time.perf_counter()
    frames = 0
    for song in open_corpus(corpus):
        for path in song.stem_paths.values():
            audio, _ = soundfile.read(path, dtype="float32", always_2d=True)
            frames += audio.shape[0]
    return {"seconds": time.perf_counter() - start, "peak_mib": _peak_mib()}


def child_build(corpus, out, jobs, audio_format):
    import resource

    from modelgen.dataset import DatasetConfig, build_dataset

    start = time.perf_counter()
    stats = build_dataset(corpus, out, config=DatasetConfig(seed=1, audio_format=audio_format), jobs=jobs)
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {
        "seconds": time.perf_counter() - start,
        "peak_mib": _peak_mib(),
        "children_peak_mib": children,
        "scenarios": stats["scenarios"],
    }


def child_loudness(corpus):
    import numpy as np
    import pyloudnorm

    from modelgen.audio import integrated_loudness
    from modelgen.corpus import open_corpus

    stems = [song.read(stem) for song in open_corpus(corpus) for stem in song.stem_paths]
    rate = 44_100
    start = time.perf_counter()
    ours = [integrated_loudness(stem, rate) for stem in stems]
    fast = time.perf_counter() - start
    meter = pyloudnorm.Meter(rate)
    start = time.perf_counter()
    reference = [meter.integrated_loudness(stem.astype(np.float64)) for stem in stems]
    slow = time.perf_counter() - start
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
        }[kind]()
        print(json.dumps(result))
        return

    from modelgen.synthetic import write_synthetic_corpus

    with tempfile.TemporaryDirectory(prefix="mixadvice-bench-") as folder:
        corpus = Path(folder) / "corpus"
        start = time.perf_counter()
        write_synthetic_corpus(corpus, songs=args.songs, seconds=args.seconds, seed=1)
        synth = time.perf_counter() - start
        audio_seconds = args.songs * args.seconds
        decode = run_child("decode", corpus)
        one = run_child("build", corpus, Path(folder) / "one", 1, "flac")
        wav = run_child("build", corpus, Path(folder) / "wav", 1, "wav")
        many = run_child("build", corpus, Path(folder) / "many", args.jobs, "flac") if args.jobs > 1 else None
        loud = run_child("loudness", corpus)

    print(f"corpus: {args.songs} songs x {args.seconds:g} s = {audio_seconds:g} s of 4-stem audio")
    print(f"synthetic corpus written in {synth:.2f} s")
    print(
        f"decode (soundfile, every stem once): {decode['seconds']:.3f} s = "
        f"{audio_seconds / decode['seconds']:.0f}x real time"
    )
    print(
        f"build, 1 worker: {one['seconds']:.2f} s for {one['scenarios']} scenarios = "
        f"{one['seconds'] / decode['seconds']:.1f}x the decode cost (target <= 3x); "
        f"{audio_seconds / one['seconds']:.0f}x real time per core (target >= 200x); "
        f"peak memory {one['peak_mib']:.0f} MiB"
    )
    print(
        f"build, 1 worker, WAV stimuli: {wav['seconds']:.2f} s = "
        f"{wav['seconds'] / decode['seconds']:.1f}x the decode cost; "
        f"{audio_seconds / wav['seconds']:.0f}x real time per core"
    )
    if many:
        print(
            f"build, {args.jobs} workers: {many['seconds']:.2f} s wall = "
            f"{audio_seconds / many['seconds']:.0f}x real time; peak memory main {many['peak_mib']:.0f} MiB, "
            f"largest worker {many['children_peak_mib']:.0f} MiB"
        )
    print(
        f"integrated loudness of every stem: loudness {loud['loudness_seconds']:.3f} s "
        f"({audio_seconds / loud['loudness_seconds']:.0f}x real time), pyloudnorm "
        f"{loud['pyloudnorm_seconds']:.3f} s ({audio_seconds / loud['pyloudnorm_seconds']:.0f}x); "
        f"loudness is {loud['pyloudnorm_seconds'] / loud['loudness_seconds']:.1f}x faster, "
        f"max difference {loud['max_difference_lu']:.3f} LU"
    )
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
