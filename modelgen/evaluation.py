"""Task metrics of gain advice against the scenarios' ground truth, per item and aggregated.

One implementation serves ``evaluate_advice`` (modelgen) and the analysis' task metrics. It
builds on :mod:`modelgen.corrections` (``direction``, ``intensity_class``, ``item_error``) and
reads only plain dicts: scenarios as in the manifest contract, advice as in the advice-record
contract (``scenario_id``, ``system``, ``corrections_db``).

Definitions (the anchor is never scored; a stem the advice does not mention counts as "leave"):

- **direction** of a stem: ``up``, ``down`` or ``leave`` (a correction under 1.5 dB is "leave");
- **direction accuracy**: share of scored stems whose direction is right (three classes, so a
  correct "leave" counts);
- **flawed-direction accuracy**: the same over the truly flawed stems only;
- **direction F1**: macro F1 over the direction classes that occur in the truth or the
  predictions of the group (a class absent from both is left out rather than scored 0);
- **joint accuracy** (stem + direction): share of items whose every stem has the right
  direction — the advice moved exactly the flawed stems, each the right way;
- **stem identification**: share of items whose set of moved stems equals the set of flawed
  stems, whatever the directions;
- **intensity-range accuracy**: share of scored stems whose intensity class (``none`` under
  1.5 dB, ``moderate`` 1.5–6 dB, ``large`` 6 dB and more) is right;
- **mean absolute error** in dB between the advised and the true correction, over scored stems;
- **no-error rate**: among balanced scenarios (no flawed stem), share of items whose advice
  moves nothing — the prior work's "no error" accuracy.

Breakdowns follow the prior work: flaw count (``0``, ``1``, ``2+``), anchor, genre, and — for
the per-stem metrics only — stem and true intensity class.
"""

import math

import pandas as pd

from modelgen.corrections import DOWN, LEAVE, UP, direction, intensity_class, item_error

DIRECTIONS = (UP, DOWN, LEAVE)
ITEM_BREAKDOWNS = ("flaw_count", "anchor", "genre")
STEM_BREAKDOWNS = ("stem", "intensity")
BREAKDOWNS = ("overall", *ITEM_BREAKDOWNS, *STEM_BREAKDOWNS)
ITEM_METRICS = ("joint_accuracy", "stem_identification", "no_error_rate")
STEM_METRICS = (
    "direction_accuracy",
    "flawed_direction_accuracy",
    "direction_f1",
    "intensity_accuracy",
    "mean_abs_error_db",
)
SUMMARY_COLUMNS = ("system", "breakdown", "group", "metric", "value", "n")


def item_key(scenario_id, system):
    """The id of one advice item: ``<scenario_id>:<system>``."""
    return f"{scenario_id}:{system}"


def flaw_group(count):
    """Flaw-count group of a scenario: ``0``, ``1`` or ``2+``."""
    return "2+" if count >= 2 else str(count)


def _scenarios_by_id(scenarios):
    if isinstance(scenarios, dict) and "scenarios" in scenarios:
        scenarios = scenarios["scenarios"]
    return {scenario["id"]: scenario for scenario in scenarios}


def _pairs(scenarios, advice):
    """Yield (scenario, advice record) pairs, refusing unknown scenarios, stems and duplicates."""
    by_id = _scenarios_by_id(scenarios)
    seen = set()
    for number, record in enumerate(advice, start=1):
        scenario_id, system = record["scenario_id"], record["system"]
        scenario = by_id.get(scenario_id)
        if scenario is None:
            raise ValueError(
                f"advice {number} ({system}) is for scenario {scenario_id!r}, which is not in the manifest"
            )
        key = item_key(scenario_id, system)
        if key in seen:
            raise ValueError(
                f"advice {number}: a second record for scenario {scenario_id!r} from system {system!r}"
            )
        seen.add(key)
        unknown = sorted(set(record["corrections_db"]) - set(scenario["stems"]))
        if unknown:
            raise ValueError(
                f"advice {number} ({key}) corrects {unknown}, which the scenario does not have "
                f"(stems: {scenario['stems']})"
            )
        yield scenario, record


def _item_labels(scenario, record):
    return {
        "item": item_key(scenario["id"], record["system"]),
        "scenario_id": scenario["id"],
        "system": record["system"],
        "genre": scenario.get("genre", ""),
        "anchor": scenario["anchor"],
        "flaw_count": flaw_group(len(scenario["flawed"])),
    }


def stem_rows(scenarios, advice):
    """One row per (advice item, scored stem): true and advised correction, direction, intensity.

    Parameters
    ----------
    scenarios : list of dict or dict
        Manifest scenarios (or the whole manifest).
    advice : iterable of dict
        Advice records: ``scenario_id``, ``system``, ``corrections_db``.

    Returns
    -------
    pandas.DataFrame
        Columns ``item, scenario_id, system, genre, anchor, flaw_count, stem, true_db,
        advised_db, true_direction, advised_direction, true_intensity, advised_intensity,
        flawed, moved, direction_correct, intensity_correct, abs_error_db``.

    Examples
    --------
    >>> scenario = {"id": "s1", "genre": "pop", "anchor": "vocals", "stems": ["vocals", "drums"],
    ...             "flawed": ["drums"], "corrections_db": {"vocals": 0, "drums": -4.5}}
    >>> rows = stem_rows([scenario], [{"scenario_id": "s1", "system": "sham", "corrections_db": {"drums": 4.5}}])
    >>> rows[["stem", "true_direction", "advised_direction", "abs_error_db"]].values.tolist()
    [['drums', 'down', 'up', 9.0]]
    """
    rows = []
    for scenario, record in _pairs(scenarios, advice):
        labels = _item_labels(scenario, record)
        for stem in scenario["stems"]:
            if stem == scenario["anchor"]:
                continue
            true_db = float(scenario["corrections_db"][stem])
            advised_db = float(record["corrections_db"].get(stem, 0.0))
            true_direction, advised_direction = direction(true_db), direction(advised_db)
            true_intensity, advised_intensity = intensity_class(true_db), intensity_class(advised_db)
            rows.append(
                {
                    **labels,
                    "stem": stem,
                    "true_db": true_db,
                    "advised_db": advised_db,
                    "true_direction": true_direction,
                    "advised_direction": advised_direction,
                    "true_intensity": true_intensity,
                    "advised_intensity": advised_intensity,
                    "flawed": true_direction != LEAVE,
                    "moved": advised_direction != LEAVE,
                    "direction_correct": true_direction == advised_direction,
                    "intensity_correct": true_intensity == advised_intensity,
                    "abs_error_db": abs(true_db - advised_db),
                }
            )
    return pd.DataFrame(rows)


def score_item(scenario, corrections):
    """Per-item task metrics of one piece of advice (its parsed corrections) for one scenario.

    Parameters
    ----------
    scenario : dict
        Manifest scenario (``anchor``, ``stems``, ``corrections_db``).
    corrections : dict
        stem -> advised correction in dB; unmentioned stems count as "leave".

    Returns
    -------
    dict
        ``n_stems``, ``direction_accuracy``, ``flawed_direction_accuracy`` (NaN for a balanced
        scenario), ``intensity_accuracy``, ``mean_abs_error_db`` (from :func:`item_error`),
        ``joint_correct`` and ``stem_identified`` (0/1), ``balanced`` (bool), ``no_error`` (0/1
        for a balanced scenario, NaN otherwise).

    Examples
    --------
    >>> scenario = {"anchor": "vocals", "stems": ["vocals", "drums", "bass"],
    ...             "corrections_db": {"vocals": 0, "drums": -4.5, "bass": 0}}
    >>> metrics = score_item(scenario, {"drums": -3})
    >>> metrics["direction_accuracy"], metrics["joint_correct"], metrics["mean_abs_error_db"]
    (1.0, 1.0, 0.75)
    """
    unknown = sorted(set(corrections) - set(scenario["stems"]))
    if unknown:
        raise ValueError(
            f"the advice corrects {unknown}, which the scenario does not have (stems: {scenario['stems']})"
        )
    truth = scenario["corrections_db"]
    error = item_error(truth, corrections, anchor=scenario["anchor"])
    scored = [stem for stem in scenario["stems"] if stem != scenario["anchor"]]
    flawed = [stem for stem in scored if direction(truth[stem]) != LEAVE]
    moved = {stem for stem in scored if direction(corrections.get(stem, 0.0)) != LEAVE}
    flawed_right = [direction(truth[stem]) == direction(corrections.get(stem, 0.0)) for stem in flawed]
    balanced = not flawed
    return {
        "n_stems": error["n_stems"],
        "direction_accuracy": error["direction_accuracy"],
        "flawed_direction_accuracy": sum(flawed_right) / len(flawed) if flawed else math.nan,
        "intensity_accuracy": error["intensity_accuracy"],
        "mean_abs_error_db": error["mean_abs_error_db"],
        "joint_correct": float(error["all_directions_correct"]),
        "stem_identified": float(moved == set(flawed)),
        "balanced": balanced,
        "no_error": float(not moved) if balanced else math.nan,
    }


def item_rows(scenarios, advice):
    """One row per advice item with its per-item task metrics (:func:`score_item`).

    Returns
    -------
    pandas.DataFrame
        Columns ``item, scenario_id, system, genre, anchor, flaw_count``, then the keys of
        :func:`score_item`.

    Examples
    --------
    >>> scenario = {"id": "s1", "genre": "pop", "anchor": "vocals", "stems": ["vocals", "drums", "bass"],
    ...             "flawed": ["drums"], "corrections_db": {"vocals": 0, "drums": -4.5, "bass": 0}}
    >>> rows = item_rows([scenario], [{"scenario_id": "s1", "system": "x", "corrections_db": {"drums": 3}}])
    >>> rows[["direction_accuracy", "joint_correct", "stem_identified"]].values.tolist()
    [[0.5, 0.0, 1.0]]
    """
    rows = [
        {**_item_labels(scenario, record), **score_item(scenario, record["corrections_db"])}
        for scenario, record in _pairs(scenarios, advice)
    ]
    return pd.DataFrame(rows)


def macro_f1(truth, predicted, labels=DIRECTIONS):
    """Macro F1 over the labels that occur in ``truth`` or ``predicted``.

    Per label, F1 = 2·TP / (2·TP + FP + FN); a label absent from both sequences is left out
    (scoring it 0 would punish a group, e.g. one stem, where it cannot occur).

    Examples
    --------
    >>> round(macro_f1(["up", "down", "leave", "leave"], ["up", "up", "leave", "down"]), 3)
    0.444
    """
    truth, predicted = list(truth), list(predicted)
    if len(truth) != len(predicted):
        raise ValueError(f"truth has {len(truth)} labels, predictions {len(predicted)}")
    scores = []
    for label in labels:
        tp = sum(t == label and p == label for t, p in zip(truth, predicted))
        fp = sum(t != label and p == label for t, p in zip(truth, predicted))
        fn = sum(t == label and p != label for t, p in zip(truth, predicted))
        if tp + fp + fn:
            scores.append(2 * tp / (2 * tp + fp + fn))
    return sum(scores) / len(scores) if scores else math.nan


def _stem_metrics(rows):
    flawed = rows[rows["flawed"]]
    return {
        "direction_accuracy": (rows["direction_correct"].mean(), len(rows)),
        "flawed_direction_accuracy": (
            flawed["direction_correct"].mean() if len(flawed) else math.nan,
            len(flawed),
        ),
        "direction_f1": (macro_f1(rows["true_direction"], rows["advised_direction"]), len(rows)),
        "intensity_accuracy": (rows["intensity_correct"].mean(), len(rows)),
        "mean_abs_error_db": (rows["abs_error_db"].mean(), len(rows)),
    }


def _item_metrics(items):
    balanced = items["no_error"].dropna()
    return {
        "joint_accuracy": (items["joint_correct"].mean(), len(items)),
        "stem_identification": (items["stem_identified"].mean(), len(items)),
        "no_error_rate": (balanced.mean() if len(balanced) else math.nan, len(balanced)),
    }


def summarise(stems, items, breakdowns=BREAKDOWNS):
    """Aggregate task metrics per system, overall and broken down.

    Parameters
    ----------
    stems : pandas.DataFrame
        :func:`stem_rows` output.
    items : pandas.DataFrame
        :func:`item_rows` output for the same advice.
    breakdowns : sequence of str
        Any of :data:`BREAKDOWNS`. Item-level metrics (joint accuracy, stem identification,
        no-error rate) are reported for ``overall``, ``flaw_count``, ``anchor`` and ``genre``;
        the per-stem metrics for every breakdown.

    Returns
    -------
    pandas.DataFrame
        Long frame ``system, breakdown, group, metric, value, n`` (``n``: items or stems used;
        a metric with nothing to average, such as the no-error rate of flawed scenarios, is left
        out rather than reported as NaN).

    Examples
    --------
    >>> scenario = {"id": "s1", "genre": "pop", "anchor": "vocals", "stems": ["vocals", "drums"],
    ...             "flawed": [], "corrections_db": {"vocals": 0, "drums": 0}}
    >>> advice = [{"scenario_id": "s1", "system": "x", "corrections_db": {}}]
    >>> table = summarise(stem_rows([scenario], advice), item_rows([scenario], advice), ["overall"])
    >>> table.set_index("metric").loc["no_error_rate", "value"]
    np.float64(1.0)
    """
    unknown = [b for b in breakdowns if b not in BREAKDOWNS]
    if unknown:
        raise ValueError(f"unknown breakdowns {unknown}; known: {BREAKDOWNS}")
    stems = stems.assign(intensity=stems["true_intensity"]) if len(stems) else stems
    rows = []
    for system in sorted(items["system"].unique()) if len(items) else []:
        system_stems = stems[stems["system"] == system]
        system_items = items[items["system"] == system]
        for breakdown in breakdowns:
            if breakdown == "overall":
                groups = [("all", system_stems, system_items)]
            elif breakdown in ITEM_BREAKDOWNS:
                groups = [
                    (group, system_stems[system_stems[breakdown] == group], frame)
                    for group, frame in system_items.groupby(breakdown, sort=True)
                ]
            else:
                groups = [(group, frame, None) for group, frame in system_stems.groupby(breakdown, sort=True)]
            for group, group_stems, group_items in groups:
                metrics = _stem_metrics(group_stems)
                if group_items is not None:
                    metrics |= _item_metrics(group_items)
                for name, (value, n) in metrics.items():
                    if n:
                        rows.append(
                            {
                                "system": system,
                                "breakdown": breakdown,
                                "group": str(group),
                                "metric": name,
                                "value": float(value),
                                "n": int(n),
                            }
                        )
    return pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))


def evaluate(scenarios, advice, breakdowns=BREAKDOWNS):
    """Score every advice record against its scenario: per-stem rows, per-item rows, summary.

    Returns
    -------
    dict
        ``stems`` (:func:`stem_rows`), ``items`` (:func:`item_rows`) and ``summary``
        (:func:`summarise`) DataFrames.

    Examples
    --------
    >>> scenario = {"id": "s1", "genre": "pop", "anchor": "vocals", "stems": ["vocals", "drums"],
    ...             "flawed": ["drums"], "corrections_db": {"vocals": 0, "drums": -4.5}}
    >>> result = evaluate([scenario], [{"scenario_id": "s1", "system": "ideal", "corrections_db": {"drums": -4.5}}])
    >>> overall = result["summary"].query("breakdown == 'overall'").set_index("metric")["value"]
    >>> float(overall["joint_accuracy"]), float(overall["mean_abs_error_db"])
    (1.0, 0.0)
    """
    advice = list(advice)
    stems = stem_rows(scenarios, advice)
    items = item_rows(scenarios, advice)
    return {"stems": stems, "items": items, "summary": summarise(stems, items, breakdowns)}


def summary_table(summary):
    """The summary as a wide table: one row per (system, breakdown, group), one column per metric."""
    order = [*ITEM_METRICS, *STEM_METRICS]
    table = summary.pivot_table(
        index=["system", "breakdown", "group"], columns="metric", values="value", aggfunc="first", sort=False
    )
    return table.reindex(columns=[m for m in order if m in table.columns]).reset_index()
