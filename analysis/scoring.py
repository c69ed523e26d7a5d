"""Score advice items with registered metrics: items in, long ``item, metric, value`` frame out.

Two sources of items: files (an advice JSONL and a dataset folder: its manifest for the
scenarios, its chat records for the reference advice) and a study in the database. Two
sinks: a scores CSV (``item, metric, value``; an empty value is missing) with the run's
settings beside it, and :class:`analysis.models.MetricScore` rows per (advice item, metric).
"""

import csv
import json
import math
from pathlib import Path

from analysis.metrics.registry import resolve
from modelgen.contracts import load_advice, load_dataset_records, load_manifest
from modelgen.evaluation import item_key

ITEM_COLUMNS = ("item", "scenario_id", "system", "text", "reference", "corrections", "scenario")
SCORE_COLUMNS = ("item", "metric", "value")
SPLIT_FILES = ("train.jsonl", "valid.jsonl", "test.jsonl")


class ScoringInputError(ValueError):
    """Inputs that cannot be scored together (unknown scenario, duplicate item, missing file)."""


def references_from_dataset(dataset_dir):
    """Return scenario id -> target advice text from the chat records (last assistant turn).

    ``dataset_dir`` is a dataset folder (its ``train/valid/test.jsonl`` are read where present)
    or one chat-records file.
    """
    dataset_dir = Path(dataset_dir)
    files = [dataset_dir] if dataset_dir.is_file() else [dataset_dir / n for n in SPLIT_FILES]
    references = {}
    for path in files:
        if not path.is_file():
            continue
        for record in load_dataset_records(path):
            turns = [m for m in record["messages"] if m["role"] == "assistant"]
            if turns:
                content = turns[-1]["content"]
                text = (
                    content
                    if isinstance(content, str)
                    else " ".join(part["text"] for part in content if part.get("type") == "text")
                )
                references[record["scenario_id"]] = text
    return references


def items_frame(rows):
    """Build the items frame from dicts with (at least) the keys of :data:`ITEM_COLUMNS`; refuse duplicates."""
    import pandas as pd

    rows = list(rows)
    extra = [key for key in (rows[0] if rows else {}) if key not in ITEM_COLUMNS]
    frame = pd.DataFrame(rows, columns=[*ITEM_COLUMNS, *extra])
    frame["reference"] = pd.Series([row.get("reference") for row in rows], index=frame.index, dtype=object)
    duplicated = frame["item"][frame["item"].duplicated()]
    if len(duplicated):
        raise ScoringInputError(
            f"item {duplicated.iloc[0]!r} appears twice; each (scenario, system) is scored once"
        )
    return frame


def items_from_files(advice_path, dataset_dir, *, reference_system=None):
    """Items from an advice JSONL and a dataset folder.

    Parameters
    ----------
    advice_path : path
        Advice records (validated by the contract).
    dataset_dir : path
        Folder with ``manifest.json`` and the chat records ``train/valid/test.jsonl``.
    reference_system : str, optional
        Use this system's advice in the same file as the reference text (e.g. ``ideal``)
        instead of the dataset's target advice. Its own items are still scored.

    Returns
    -------
    pandas.DataFrame
        The items frame (:data:`ITEM_COLUMNS`); ``reference`` is None where there is none.
    """
    manifest = load_manifest(dataset_dir)
    scenarios = {scenario["id"]: scenario for scenario in manifest["scenarios"]}
    advice = load_advice(advice_path)
    if reference_system:
        references = {r["scenario_id"]: r["text"] for r in advice if r["system"] == reference_system}
        if not references:
            systems = sorted({r["system"] for r in advice})
            raise ScoringInputError(
                f"{advice_path}: no advice from reference system {reference_system!r}; systems: {systems}"
            )
    else:
        references = references_from_dataset(dataset_dir)
    rows = []
    for number, record in enumerate(advice, start=1):
        scenario = scenarios.get(record["scenario_id"])
        if scenario is None:
            raise ScoringInputError(
                f"{advice_path}: record {number} is for scenario {record['scenario_id']!r}, "
                f"which is not in {Path(dataset_dir) / 'manifest.json'}"
            )
        rows.append(
            {
                "item": item_key(record["scenario_id"], record["system"]),
                "scenario_id": record["scenario_id"],
                "system": record["system"],
                "text": record["text"],
                "reference": references.get(record["scenario_id"]),
                "corrections": record["corrections_db"],
                "scenario": scenario,
            }
        )
    return items_frame(rows)


def score_items(items, metrics, context, *, progress=False):
    """Score every item with every metric.

    Parameters
    ----------
    items : pandas.DataFrame
        The items frame (:data:`ITEM_COLUMNS`).
    metrics : list of str or str
        Metric names or kinds (see :func:`analysis.metrics.registry.resolve`).
    context : analysis.metrics.ScoringContext
        Dataset folder, BERTScore model, judge.
    progress : bool
        Show a progress bar over the metrics (and inside slow metrics).

    Returns
    -------
    pandas.DataFrame
        Long frame ``item, metric, value`` (NaN = missing), items in input order within each
        metric, metrics in the order asked.

    Examples
    --------
    >>> from analysis.metrics import ScoringContext
    >>> scenario = {"id": "s1", "anchor": "vocals", "stems": ["vocals", "drums"],
    ...             "corrections_db": {"vocals": 0, "drums": -3}, "gains_db": {"vocals": 0, "drums": 3}}
    >>> items = items_frame([{"item": "s1:x", "scenario_id": "s1", "system": "x", "text": "Cut the drums 3 dB.",
    ...                       "reference": "Pull the drums down 3 dB.", "corrections": {"drums": -3},
    ...                       "scenario": scenario}])
    >>> score_items(items, ["direction_accuracy", "abs_error_db"], ScoringContext()).values.tolist()
    [['s1:x', 'direction_accuracy', 1.0], ['s1:x', 'abs_error_db', 0.0]]
    """
    import pandas as pd

    chosen = resolve(metrics)
    context.progress = progress
    frames = []
    steps = chosen
    if progress:
        from tqdm import tqdm

        steps = tqdm(chosen, desc="metrics", unit="metric")
    for metric in steps:
        values = metric(items, context) if len(items) else []
        frames.append(pd.DataFrame({"item": list(items["item"]), "metric": metric.name, "value": values}))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(SCORE_COLUMNS))


def write_scores(path, scores, *, config=None):
    """Write a scores CSV (``item, metric, value``; missing = empty) atomically; settings beside it.

    ``config`` (a dict) is written to ``<path>.config.json`` so the run carries its provenance.
    Returns the path of the CSV.
    """
    from modelgen.contracts import atomic_write

    path = Path(path)

    def write(handle):
        writer = csv.writer(handle)
        writer.writerow(SCORE_COLUMNS)
        for item, metric, value in scores[list(SCORE_COLUMNS)].itertuples(index=False):
            writer.writerow([item, metric, "" if value is None or math.isnan(value) else repr(float(value))])

    if config is not None:
        atomic_write(path.with_name(path.name + ".config.json"), lambda h: json.dump(config, h, indent=1))
    return atomic_write(path, write)


def load_scores(path):
    """Read a scores CSV into a frame ``item, metric, value`` (an empty value is NaN)."""
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise ScoringInputError(f"scores file not found: {path}")
    frame = pd.read_csv(
        path, dtype={"item": str, "metric": str}, keep_default_na=False, na_values={"value": [""]}
    )
    missing = [column for column in SCORE_COLUMNS if column not in frame.columns]
    if missing:
        raise ScoringInputError(f"{path}: missing columns {missing}; a scores file has {list(SCORE_COLUMNS)}")
    frame["value"] = pd.to_numeric(frame["value"], errors="raise")
    return frame[list(SCORE_COLUMNS)]


def score_files(*, advice, dataset, out, metrics, context, reference_system=None, progress=False):
    """Score the advice in a file against a dataset folder and write the scores CSV.

    Returns
    -------
    pandas.DataFrame
        The scores written (``item, metric, value``).
    """
    items = items_from_files(advice, dataset, reference_system=reference_system)
    if context.dataset_dir is None:
        context.dataset_dir = Path(dataset)
    scores = score_items(items, metrics, context, progress=progress)
    config = {
        "advice": str(advice),
        "dataset": str(dataset),
        "reference_system": reference_system,
        "metrics": sorted(scores["metric"].unique()),
        "items": len(items),
        **context.as_dict(),
    }
    write_scores(out, scores, config=config)
    return scores


def scenario_dict(scenario):
    """A study :class:`~study.models.Scenario` as a manifest-style scenario dict."""
    return {
        "id": scenario.scenario_id,
        "song": scenario.song,
        "genre": scenario.genre,
        "anchor": scenario.anchor,
        "stems": list(scenario.stems),
        "flawed": [stem for stem in scenario.stems if scenario.gains_db.get(stem, 0)],
        "gains_db": dict(scenario.gains_db),
        "corrections_db": dict(scenario.corrections_db),
        "loudness_lufs": dict(scenario.loudness_lufs),
        "audio": {"reference": dict(scenario.audio)},
    }


def _study(slug):
    from study.models import Study

    study = Study.objects.filter(slug=slug).first()
    if study is None:
        known = ", ".join(Study.objects.order_by("slug").values_list("slug", flat=True)) or "none"
        raise ScoringInputError(f"no study with slug {slug!r}; studies: {known}")
    return study


def items_from_study(study, *, reference_system=None):
    """Items of a study's advice (extra column ``advice_item_id``).

    References are the dataset's target advice (chat records in the study's dataset folder),
    or the advice of ``reference_system`` for the same scenario.
    """
    from study.models import AdviceItem
    from study.selectors import dataset_root

    advice = list(
        AdviceItem.objects.filter(scenario__study=study)
        .select_related("scenario")
        .order_by("scenario__scenario_id", "system")
    )
    if reference_system:
        references = {a.scenario.scenario_id: a.text for a in advice if a.system == reference_system}
        if not references:
            raise ScoringInputError(
                f"study {study.slug!r} has no advice from reference system {reference_system!r}"
            )
    else:
        root = dataset_root(study)
        references = references_from_dataset(root) if root.is_dir() else {}
    return items_frame(
        {
            "item": item_key(a.scenario.scenario_id, a.system),
            "scenario_id": a.scenario.scenario_id,
            "system": a.system,
            "text": a.text,
            "reference": references.get(a.scenario.scenario_id),
            "corrections": a.corrections_db,
            "scenario": scenario_dict(a.scenario),
            "advice_item_id": a.pk,
        }
        for a in advice
    )


def scores_store(items, scores):
    """Store scores per (advice item, metric), replacing earlier values; return the number stored."""
    from django.db import transaction
    from django.utils import timezone

    from analysis.models import MetricScore

    ids = dict(zip(items["item"], items["advice_item_id"]))
    now = timezone.now()
    rows = [
        MetricScore(
            advice_item_id=int(ids[item]),
            metric=metric,
            value=None if value is None or math.isnan(value) else float(value),
            computed_at=now,
        )
        for item, metric, value in scores[list(SCORE_COLUMNS)].itertuples(index=False)
    ]
    with transaction.atomic():
        MetricScore.objects.bulk_create(
            rows,
            batch_size=500,
            update_conflicts=True,
            unique_fields=["advice_item", "metric"],
            update_fields=["value", "computed_at"],
        )
    return len(rows)


def score_study(slug, *, metrics, context, reference_system=None, progress=True):
    """Score every advice item of a study and store the scores; return them (``item, metric, value``).

    All metrics are computed before anything is stored, so a failing metric stores nothing.
    """
    from study.selectors import dataset_root

    study = _study(slug)
    items = items_from_study(study, reference_system=reference_system)
    if not len(items):
        raise ScoringInputError(f"study {slug!r} has no advice items to score; import advice first")
    if context.dataset_dir is None:
        context.dataset_dir = dataset_root(study)
    scores = score_items(items, metrics, context, progress=progress)
    scores_store(items, scores)
    return scores


def study_scores(study):
    """The stored scores of a study as a long frame ``item, metric, value`` (+ ``scenario, system``).

    ``item`` is ``<scenario_id>:<system>``, as in the ratings export and the scores file.
    """
    import pandas as pd

    from analysis.models import MetricScore

    rows = MetricScore.objects.filter(advice_item__scenario__study=study).values_list(
        "advice_item__scenario__scenario_id", "advice_item__system", "metric", "value"
    )
    frame = pd.DataFrame(list(rows), columns=["scenario", "system", "metric", "value"])
    frame.insert(0, "item", [item_key(s, y) for s, y in zip(frame["scenario"], frame["system"])])
    frame["value"] = frame["value"].astype(float)
    return frame[["item", "metric", "value", "scenario", "system"]]
