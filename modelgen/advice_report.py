"""Score advice files against the manifest and write the task-metric table, with chance level.

The metrics are :mod:`modelgen.evaluation`'s (the same functions the analysis registers), so
this module only gathers the files, adds a chance row and writes the results.

Chance level is estimated by a seeded simulation, not analytically: a random advisor that, for
every non-anchor stem independently, picks ``up``, ``down`` or ``leave`` with equal probability
and, when it moves a stem, a size drawn uniformly from 1.5–12 dB (the range of the dataset's
offsets). ``runs`` replicates of every scenario are scored together as one system ``chance``,
so each rate is the random advisor's expected value to within sampling error (direction F1 is
computed on the pooled replicates).
"""

import json
from pathlib import Path

CHANCE_SYSTEM = "chance"
CHANCE_RANGE_DB = (1.5, 12.0)


def random_advice(scenarios, *, runs, seed):
    """``(scenarios, advice)`` of ``runs`` replicates of each scenario with random corrections."""
    import numpy as np

    rng = np.random.default_rng(seed)
    low, high = CHANCE_RANGE_DB
    replicated, advice = [], []
    for run in range(runs):
        for scenario in scenarios:
            copy = dict(scenario, id=f"{scenario['id']}.chance{run}")
            corrections = {}
            for stem in scenario["stems"]:
                if stem == scenario["anchor"]:
                    continue
                way = rng.integers(3)
                size = float(rng.uniform(low, high))
                corrections[stem] = 0.0 if way == 2 else (size if way == 0 else -size)
            replicated.append(copy)
            advice.append({"scenario_id": copy["id"], "system": CHANCE_SYSTEM, "corrections_db": corrections})
    return replicated, advice


def chance_summary(scenarios, *, runs=50, seed=0):
    """Summary frame (as :func:`modelgen.evaluation.summarise`) of the random advisor."""
    from modelgen.evaluation import evaluate

    replicated, advice = random_advice(scenarios, runs=runs, seed=seed)
    summary = evaluate(replicated, advice)["summary"]
    return summary.assign(n=(summary["n"] // runs).clip(lower=1))


def evaluate_advice_files(dataset_dir, advice_paths, out_dir, *, chance_runs=50, seed=0):
    """Score every advice file, add chance level, write ``summary.json``, ``summary.csv``,
    ``table.md``, ``items.csv`` and ``stems.csv`` to ``out_dir``; return the overall table.

    Chance is computed on the scenarios the advice covers.
    """
    import pandas as pd

    from modelgen.contracts import atomic_write, load_advice, load_manifest
    from modelgen.evaluation import evaluate, summary_table
    from modelgen.run_folder import dataset_hash, write_json

    dataset_dir, out_dir = Path(dataset_dir), Path(out_dir)
    manifest = load_manifest(dataset_dir)
    advice = [record for path in advice_paths for record in load_advice(path)]
    if not advice:
        raise ValueError("the advice files hold no records")
    covered = {record["scenario_id"] for record in advice}
    scenarios = [s for s in manifest["scenarios"] if s["id"] in covered]
    result = evaluate(manifest["scenarios"], advice)
    summary = pd.concat(
        [result["summary"], chance_summary(scenarios, runs=chance_runs, seed=seed)], ignore_index=True
    )
    overall = summary_table(summary[summary["breakdown"] == "overall"]).drop(columns=["breakdown", "group"])
    counts = result["items"].groupby("system").size()
    overall.insert(1, "items", [int(counts.get(s, len(scenarios))) for s in overall["system"]])

    out_dir.mkdir(parents=True, exist_ok=True)
    write_json(
        out_dir / "summary.json",
        {
            "dataset_sha256": dataset_hash(dataset_dir),
            "advice_files": [str(p) for p in advice_paths],
            "chance": {
                "method": "seeded simulation of a uniform random advisor",
                "runs": chance_runs,
                "seed": seed,
                "moved_range_db": list(CHANCE_RANGE_DB),
            },
            "overall": _json_ready(overall),
            "summary": _json_ready(summary),
        },
    )
    atomic_write(out_dir / "summary.csv", lambda h: summary.to_csv(h, index=False))
    atomic_write(out_dir / "items.csv", lambda h: result["items"].to_csv(h, index=False))
    atomic_write(out_dir / "stems.csv", lambda h: result["stems"].to_csv(h, index=False))
    atomic_write(out_dir / "table.md", lambda h: h.write(markdown_table(overall)))
    return overall


def markdown_table(frame, digits=3):
    """A plain Markdown table of a frame; floats rounded to ``digits`` (rounding only here)."""
    header = "| " + " | ".join(str(c) for c in frame.columns) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    lines = [header, rule]
    for row in frame.itertuples(index=False):
        cells = [f"{v:.{digits}f}" if isinstance(v, float) else str(v) for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def overall_line(overall, metrics=("joint_accuracy", "direction_accuracy", "direction_f1", "no_error_rate")):
    """One line per system with a few headline metrics (for a command's summary)."""
    parts = []
    for row in overall.to_dict(orient="records"):
        values = ", ".join(f"{m} {row[m]:.3f}" for m in metrics if m in row and row[m] == row[m])
        parts.append(f"{row['system']}: {values}")
    return "; ".join(parts)


def _json_ready(frame):
    return json.loads(frame.to_json(orient="records"))
