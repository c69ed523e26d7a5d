"""Time and peak memory of the full analysis report on a study-sized data set.

Simulates 200 raters × 400 items × 5 dimensions (400,000 ratings; every rater rates every
item, as in the issue's target) with the rating model of ``analysis.simulate``, eight metric
scores per item (one an LLM judge per dimension), free-text feedback, then times
``report_build`` as a whole and each of its stages (with a fresh seed per stage run, the
same settings as the report: 2,000 bootstrap resamples, 2,000 permutations).

Wall time depends on what else runs on the machine; CPU time (``time.process_time``, all
threads of this process) is printed beside it for each stage. Peak memory is the process's maximum resident set size (``resource.getrusage``), which
includes the interpreter and the imported libraries; ``tracemalloc`` would slow numpy down.

Run: ``.venv/bin/python benchmarks/analysis_report.py [--raters 200] [--items 400] [--out DIR]``
"""

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

SYSTEMS = ("finetuned", "base", "baseline", "ideal", "sham")
GENRES = ("Pop", "Rock", "Rap", "Heavy Metal", "Country")


def synthetic_inputs(raters, n_items, seed=0):
    import pandas as pd

    from analysis.simulate import simulate_ratings

    rng = np.random.default_rng(seed)
    scenarios = n_items // len(SYSTEMS)
    rows = []
    for index in range(scenarios):
        for system in SYSTEMS:
            correct = rng.random() < {"ideal": 0.95, "sham": 0.02}.get(system, 0.6)
            rows.append(
                {
                    "item": f"sc{index:04d}:{system}",
                    "scenario": f"sc{index:04d}",
                    "system": system,
                    "all_directions_correct": bool(correct),
                    "direction_accuracy": 1.0 if correct else float(rng.choice([0.0, 0.33, 0.67])),
                    "mean_abs_error_db": float(rng.gamma(2.0, 1.0 if correct else 2.5)),
                    "genre": GENRES[index % len(GENRES)],
                    "anchor": ("vocals", "drums", "bass", "other")[index % 4],
                    "flaw_count": ("0", "1", "2+")[index % 3],
                }
            )
    items = pd.DataFrame(rows)
    ratings = simulate_ratings(items, participants=raters, seed=seed)
    ratings["simulated"] = False
    quality = ratings.drop_duplicates("item").set_index("item")["true_quality"]
    noise = {
        "rouge_l": 2.0,
        "chrf": 1.8,
        "meteor": 1.6,
        "bertscore": 1.0,
        "direction_accuracy": 0.7,
        "abs_error_db": 0.8,
    }
    frames = [
        pd.DataFrame(
            {
                "item": quality.index,
                "metric": name,
                "value": quality.to_numpy() + rng.normal(0, sd, len(quality)),
            }
        )
        for name, sd in noise.items()
    ]
    for dimension in ("effectiveness", "musicality", "conventions", "actionability", "helpfulness"):
        judged = np.clip(np.round(3 + quality.to_numpy() + rng.normal(0, 0.7, len(quality))), 1, 5)
        judged[rng.random(len(judged)) < 0.02] = np.nan  # unparseable replies: missing, never 0
        frames.append(pd.DataFrame({"item": quality.index, "metric": f"judge_{dimension}", "value": judged}))
    scores = pd.concat(frames, ignore_index=True)
    trials = ratings.drop_duplicates(["participant", "item"]).sample(n=2000, random_state=seed)
    feedback = pd.DataFrame(
        {
            "participant": trials["participant"],
            "item": trials["item"],
            "question": "feedback",
            "text": "Simulated comment on the balance.",
        }
    )
    return (
        ratings,
        scores,
        {"source": f"benchmark: {raters} simulated raters × {n_items} items", "feedback": feedback},
    )


def peak_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--raters", type=int, default=200)
    parser.add_argument("--items", type=int, default=400)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--stages", action="store_true", help="also time each stage on its own")
    args = parser.parse_args()

    import django

    django.setup()
    from analysis import correlation, rating_models, reliability
    from analysis.report import ReportConfig, prepare_ratings, report_build

    start = time.perf_counter()
    ratings, scores, context = synthetic_inputs(args.raters, args.items)
    print(
        f"inputs: {len(ratings):,} ratings, {scores['metric'].nunique()} metrics, "
        f"{time.perf_counter() - start:.1f} s to simulate; peak RSS so far {peak_mib():.0f} MiB"
    )
    config = ReportConfig()
    out = args.out or Path(tempfile.mkdtemp(prefix="analysis-report-"))
    start, cpu_start = time.perf_counter(), time.process_time()
    report = report_build(ratings=ratings, scores=scores, context=context, out_dir=out, config=config)
    total, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    tables = sorted(p.name for p in (out / "tables").iterdir())
    print(
        f"full report: {total:.1f} s wall, {cpu:.1f} s CPU (all threads), peak RSS {peak_mib():.0f} MiB, {len(tables)} tables, "
        f"{len(list((out / 'figures').glob('*.png')))} figures, report.html {report.stat().st_size / 1e6:.1f} MB "
        f"(os.cpu_count() = {os.cpu_count()}; load average {os.getloadavg()[0]:.1f} at the end: other jobs share the cores)"
    )
    if args.stages:
        frame, _ = prepare_ratings(ratings, scores, context, config)
        means = correlation.item_means(frame)
        stages = {
            "reliability (all statistics, 5 dimensions)": lambda: reliability.reliability_table(
                frame, seed=1
            ),
            "correlation grid (item/scenario/system levels)": lambda: correlation.correlation_table(
                means, scores, omit_missing=True, seed=1
            ),
            "metric comparisons (leader pairs)": lambda: correlation.metric_comparisons(
                means, scores.dropna(), pairs="leader", seed=1
            ),
            "linear mixed model (sparse REML)": lambda: rating_models.mixed_model(frame),
            "ordinal model (fixed raters)": lambda: rating_models.ordinal_model(frame),
            "Friedman + Wilcoxon": lambda: rating_models.nonparametric_tests(frame),
            "correctness effect": lambda: rating_models.correctness_effect(frame),
        }
        measured = 0.0
        for name, run in stages.items():
            begin, cpu_begin = time.perf_counter(), time.process_time()
            run()
            seconds, cpu_seconds = time.perf_counter() - begin, time.process_time() - cpu_begin
            measured += cpu_seconds
            print(
                f"  {name}: {seconds:.1f} s wall, {cpu_seconds:.1f} s CPU ({cpu_seconds / cpu:.0%} of the report's CPU)"
            )
        print(
            f"  the rest (descriptives, judge agreement, breakdowns, figures, HTML, CSVs): "
            f"about {max(cpu - measured, 0):.1f} s CPU"
        )


if __name__ == "__main__":
    main()
