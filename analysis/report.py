"""The analysis report: frozen ratings (+ metric scores) → derived tables → figures → one HTML file.

:func:`report_build` is the one entry point (the study dashboard links to its output, the
``analysis_report`` command calls it). It writes into ``OUT/.partial`` and moves the finished
files into ``OUT`` only at the end, so a failed run leaves the previous report (or nothing)::

    OUT/report.html        self-contained: every figure embedded as a base64 PNG
    OUT/tables/*.csv       reliability.csv, correlation.csv (fixed formats) and the rest
    OUT/figures/*.png|svg
    OUT/config.json        the settings, the inputs and their counts

Inputs come from files (:func:`inputs_from_files`) or from a study's database
(:func:`inputs_from_study`); both give the same frames.
"""

import base64
import hashlib
import json
import os
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from modelgen.contracts import DIMENSIONS

OBJECTIVE = ("direction_accuracy", "all_directions_correct", "mean_abs_error_db")
OBJECTIVE_FROM_SCORES = {
    "direction_accuracy": "direction_accuracy",
    "all_directions_correct": "joint_accuracy",
    "mean_abs_error_db": "abs_error_db",
}
"""Objective-error column -> the task metric of a scores file that holds it (analysis.metrics.task)."""
FACTORS = ("genre", "flaw_count", "anchor")
RATING_COLUMNS = ("participant", "item", "scenario", "system", "dimension", "score")
FEEDBACK_COLUMNS = ("participant", "item", "question", "text")


class ReportInputError(ValueError):
    """The inputs cannot make a report; the message says what is wrong and how to fix it."""


@dataclass(frozen=True)
class ReportConfig:
    """Settings of one report; saved as ``config.json`` beside it."""

    n_resamples: int = field(default=2000, metadata={"help": "bootstrap resamples for every CI (>= 2000)"})
    n_permutations: int = field(default=2000, metadata={"help": "permutations of the metric comparisons"})
    seed: int = field(default=0, metadata={"help": "seed of every bootstrap and permutation"})
    ci: float = field(default=0.95, metadata={"help": "confidence level"})
    include_simulated: bool = field(default=False, metadata={"help": "keep simulated participants"})
    exclude_attention_flagged: bool = field(default=False, metadata={"help": "drop flagged participants"})
    omit_missing_scores: bool = field(
        default=True, metadata={"help": "leave out (and count) missing metric values"}
    )
    leading_metrics: int = field(default=3, metadata={"help": "metrics shown in the scatter plots"})
    comparisons: str = field(default="leader", metadata={"help": "'leader' or 'all' metric pairs"})
    reference_system: str = field(default="", metadata={"help": "system the model contrasts refer to"})
    mixed_engine: str = field(default="sparse", metadata={"help": "'sparse' REML or 'statsmodels' MixedLM"})
    figure_formats: tuple = field(default=("png", "svg"), metadata={"help": "files written per figure"})

    def __post_init__(self):
        if self.n_resamples < 2000:
            raise ValueError(
                f"n_resamples must be at least 2000 for a stable 95 % interval, not {self.n_resamples}"
            )
        if self.n_permutations < 100:
            raise ValueError(f"n_permutations must be at least 100, not {self.n_permutations}")
        if not 0.5 < self.ci < 1:
            raise ValueError(f"ci must be between 0.5 and 1, not {self.ci}")
        if self.comparisons not in ("leader", "all"):
            raise ValueError(f"comparisons must be 'leader' or 'all', not {self.comparisons!r}")
        if self.mixed_engine not in ("sparse", "statsmodels"):
            raise ValueError(f"mixed_engine must be 'sparse' or 'statsmodels', not {self.mixed_engine!r}")
        if self.leading_metrics < 1:
            raise ValueError("leading_metrics must be at least 1")
        formats = tuple(self.figure_formats)
        if not set(formats) <= {"png", "svg"} or "png" not in formats:
            raise ValueError(f"figure_formats must include png and may add svg, not {formats}")
        object.__setattr__(self, "figure_formats", formats)

    def to_dict(self):
        return asdict(self)


# ---------------------------------------------------------------- inputs


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def ratings_frame(rows):
    """Typed DataFrame of ratings-contract rows (extra objective columns made numeric)."""
    import pandas as pd

    frame = pd.DataFrame(rows)
    if frame.empty:
        raise ReportInputError("the ratings are empty: nothing to analyse")
    for column in ("participant", "item", "scenario", "system", "dimension"):
        frame[column] = frame[column].astype(str)
    frame["score"] = frame["score"].astype(int)
    for column in ("attention_flag", "simulated", "all_directions_correct"):
        if column in frame.columns:
            frame[column] = frame[column].map(_as_bool)
    for column in ("direction_accuracy", "mean_abs_error_db", "intensity_accuracy"):
        if column in frame.columns:
            frame[column] = pd.to_numeric(frame[column], errors="raise")
    return frame


def _as_bool(value):
    if isinstance(value, bool | np.bool_):
        return bool(value)
    text = str(value).strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no", ""):
        return False
    raise ReportInputError(f"{value!r} is not true/false")


def feedback_from_file(path):
    """Read a feedback CSV: ``participant, item, question, text`` (``item`` empty for the closing questions)."""
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise ReportInputError(f"feedback file not found: {path}")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [column for column in FEEDBACK_COLUMNS if column not in frame.columns]
    if missing:
        raise ReportInputError(
            f"{path}: missing columns {missing}; a feedback file has {list(FEEDBACK_COLUMNS)}"
        )
    return frame[list(FEEDBACK_COLUMNS)]


def inputs_from_files(*, ratings, scores=None, advice=None, dataset=None, feedback=None):
    """Read the report's inputs from files.

    Parameters
    ----------
    ratings : path
        Ratings CSV (the ratings contract; validated row by row).
    scores : path, optional
        Scores CSV ``item, metric, value`` (``score_advice --out``).
    advice, dataset : path, optional
        Advice JSONL and dataset folder: give the items' genre, anchor, flaw count and
        objective error (through :func:`modelgen.evaluation.item_rows`). Both or neither.
    feedback : path, optional
        Free-text feedback and closing answers (:func:`feedback_from_file`).

    Returns
    -------
    tuple
        ``(ratings, scores, context)`` for :func:`report_build`.
    """
    from modelgen.contracts import ContractError, load_advice, load_manifest, load_ratings

    if (advice is None) != (dataset is None):
        raise ReportInputError(
            "give --advice and --dataset together (the advice's scenarios are in the dataset)"
        )
    try:
        frame = ratings_frame(load_ratings(ratings))
    except ContractError as error:
        raise ReportInputError(str(error)) from None
    inputs = {"ratings": {"path": str(ratings), "sha256": _sha256(ratings)}}
    context = {"source": f"ratings file {Path(ratings).name}", "inputs": inputs}
    score_frame = None
    if scores is not None:
        from analysis.scoring import load_scores

        score_frame = load_scores(scores)
        inputs["scores"] = {"path": str(scores), "sha256": _sha256(scores)}
    if advice is not None:
        from modelgen.evaluation import item_rows

        try:
            manifest = load_manifest(dataset)
            records = load_advice(advice)
        except ContractError as error:
            raise ReportInputError(str(error)) from None
        items = item_rows(manifest["scenarios"], records).rename(
            columns={"joint_correct": "all_directions_correct"}
        )
        items["all_directions_correct"] = items["all_directions_correct"].astype(bool)
        context["items"] = items
        inputs["advice"] = {"path": str(advice), "sha256": _sha256(advice)}
        inputs["dataset"] = {"path": str(dataset)}
    if feedback is not None:
        context["feedback"] = feedback_from_file(feedback)
        inputs["feedback"] = {"path": str(feedback), "sha256": _sha256(feedback)}
    return frame, score_frame, context


def inputs_from_study(slug, *, include_simulated=False):
    """Read the report's inputs from a study in the database (ratings, stored scores, feedback).

    Returns
    -------
    tuple
        ``(ratings, scores, context)`` for :func:`report_build`.
    """
    import pandas as pd

    from analysis.scoring import study_scores
    from modelgen.evaluation import flaw_group
    from study.models import AdviceItem, Feedback, Participant, Study
    from study.selectors import ratings_for_export

    study = Study.objects.filter(slug=slug).first()
    if study is None:
        known = sorted(Study.objects.values_list("slug", flat=True))
        raise ReportInputError(f"no study {slug!r}; studies: {known}")
    rows = ratings_for_export(study, include_simulated=include_simulated)
    if not rows:
        hint = (
            "" if include_simulated else " (simulated participants are left out unless --include-simulated)"
        )
        raise ReportInputError(f"study {slug!r} has no ratings yet{hint}")
    ratings = ratings_frame(rows)
    items = pd.DataFrame(
        [
            {
                "item": item.label,
                "genre": item.scenario.genre or "unknown",
                "anchor": item.scenario.anchor,
                "flaw_count": flaw_group(sum(1 for gain in item.scenario.gains_db.values() if gain)),
            }
            for item in AdviceItem.objects.filter(scenario__study=study).select_related("scenario")
        ]
    )
    participants = Participant.objects.filter(study=study)
    if not include_simulated:
        participants = participants.filter(simulated=False)
    feedback = [
        {
            "participant": entry.trial.participant.pseudonym,
            "item": entry.trial.item.label,
            "question": "feedback",
            "text": entry.text,
        }
        for entry in Feedback.objects.filter(trial__participant__in=participants)
        .exclude(text="")
        .select_related("trial__participant", "trial__item__scenario")
    ]
    for participant in participants.exclude(closing={}):
        for question, answer in participant.closing.items():
            feedback.append(
                {"participant": participant.pseudonym, "item": "", "question": question, "text": str(answer)}
            )
    context = {
        "source": f"study {slug!r} ({study.title})",
        "study": slug,
        "items": items,
        "feedback": pd.DataFrame(feedback, columns=list(FEEDBACK_COLUMNS)),
        "inputs": {"study": slug, "ratings_rows": len(rows)},
    }
    return ratings, study_scores(study), context


# ---------------------------------------------------------------- tables


def check_ratings(ratings):
    """Raise :class:`ReportInputError` for ratings no analysis should run on (bad input, not small data).

    Missing contract columns, missing or non-integer scores, a score outside 1–5 and an unknown
    dimension are errors; a small or unbalanced design is not (its statistics say "not computable").
    """
    missing = [column for column in RATING_COLUMNS if column not in ratings.columns]
    if missing:
        raise ReportInputError(
            f"the ratings lack the columns {missing}; the ratings contract has {list(RATING_COLUMNS)}"
        )
    if ratings.empty:
        raise ReportInputError("the ratings are empty: nothing to analyse")
    import pandas as pd

    scores = pd.to_numeric(ratings["score"], errors="coerce")
    whole = scores.notna() & (scores == scores.round())
    if not whole.all():
        row = scores.index[~whole][0]
        raise ReportInputError(
            f"score {ratings['score'].loc[row]!r} in row {row} is not an integer from 1 to 5 (missing or not a number)"
        )
    outside = ~scores.between(1, 5)
    if outside.any():
        raise ReportInputError(
            f"{int(outside.sum())} scores lie outside 1–5 (e.g. {scores[outside].iloc[0]} in row "
            f"{scores.index[outside][0]}); a rating is an integer from 1 to 5"
        )
    unknown = sorted(set(ratings["dimension"]) - set(DIMENSIONS))
    if unknown:
        raise ReportInputError(f"unknown dimensions {unknown}; the study's dimensions are {list(DIMENSIONS)}")


def prepare_ratings(ratings, scores, context, config):
    """Filter participants as configured and join item metadata and objective error; return (frame, notes)."""
    check_ratings(ratings)
    frame = ratings.copy()
    notes = {"ratings_in": len(frame)}
    if "simulated" in frame.columns and not config.include_simulated:
        simulated = frame["simulated"].astype(bool)
        if simulated.all():
            raise ReportInputError(
                "every rating is from a simulated participant; pass include_simulated (--include-simulated) "
                "to analyse a pilot"
            )
        frame = frame[~simulated]
    if "simulated" in ratings.columns:
        simulated_rows = ratings["simulated"].astype(bool)
        notes["simulated_participants"] = int(ratings.loc[simulated_rows, "participant"].nunique())
    else:
        notes["simulated_participants"] = 0
    flagged = frame["attention_flag"].astype(bool) if "attention_flag" in frame.columns else None
    notes["attention_flagged_participants"] = (
        int(frame.loc[flagged, "participant"].nunique()) if flagged is not None else 0
    )
    if flagged is not None and config.exclude_attention_flagged:
        frame = frame[~flagged]
    items = context.get("items")
    if items is not None:
        extra = [
            c
            for c in items.columns
            if c != "item" and (c in FACTORS or c in OBJECTIVE) and c not in frame.columns
        ]
        frame = frame.merge(items[["item", *extra]], on="item", how="left")
    if scores is not None:
        for column, metric in OBJECTIVE_FROM_SCORES.items():
            if column in frame.columns:
                continue
            values = scores[scores["metric"] == metric].set_index("item")["value"]
            if not values.empty:
                frame[column] = frame["item"].map(values)
        if "all_directions_correct" in frame.columns and frame["all_directions_correct"].notna().all():
            frame["all_directions_correct"] = frame["all_directions_correct"].astype(bool)
    notes["ratings_used"] = len(frame)
    if frame.empty:
        raise ReportInputError("no ratings are left after leaving out simulated / flagged participants")
    return frame.reset_index(drop=True), notes


def likert_distribution(ratings):
    """Counts and shares of each score per dimension and system."""
    counts = ratings.groupby(["dimension", "system", "score"]).size().rename("count").reset_index()
    counts["share"] = counts["count"] / counts.groupby(["dimension", "system"])["count"].transform("sum")
    return counts


def breakdown_table(ratings, factors=FACTORS):
    """Mean score per dimension × system × level of each factor (genre, flaw count, anchor).

    Each factor on its own, then all present factors crossed (factor ``genre × flaw_count ×
    anchor``, level ``pop | 1 | vocals``): the full cross has small cells, so read its ``n_items``.
    """
    import pandas as pd

    present = [factor for factor in factors if factor in ratings.columns]
    groupings = [[factor] for factor in present] + ([present] if len(present) > 1 else [])
    frames = []
    for grouping in groupings:
        table = (
            ratings.groupby(["dimension", "system", *grouping])
            .agg(
                mean=("score", "mean"),
                sd=("score", "std"),
                n_ratings=("score", "size"),
                n_items=("item", "nunique"),
            )
            .reset_index()
        )
        table["level"] = table[grouping].astype(str).agg(" | ".join, axis=1)  # on the small table
        table["factor"] = " × ".join(grouping)
        frames.append(table)
    columns = ["dimension", "factor", "system", "level", "mean", "sd", "n_ratings", "n_items", "note"]
    if not frames:
        return pd.DataFrame(columns=columns)
    table = pd.concat(frames, ignore_index=True)
    table["note"] = np.where(table["n_ratings"] < 2, "sd not computable: one rating in this cell", "")
    return table[columns]


def coding_sheet(feedback, ratings):
    """One row per free-text answer, grouped by system, with empty ``code`` and ``memo`` columns."""
    import pandas as pd

    columns = ["response_id", "source", "system", "participant", "item", "question", "text", "code", "memo"]
    if feedback is None or feedback.empty:
        return pd.DataFrame(columns=columns)
    systems = ratings.drop_duplicates("item").set_index("item")["system"]
    sheet = feedback[feedback["text"].astype(str).str.strip() != ""].copy()
    sheet["source"] = np.where(sheet["item"].astype(str) == "", "closing questionnaire", "trial feedback")
    sheet["system"] = sheet["item"].map(systems).fillna("")
    sheet = sheet.sort_values(["source", "system", "item", "participant", "question"], kind="stable")
    sheet["response_id"] = [f"R{index + 1:05d}" for index in range(len(sheet))]
    sheet["code"] = ""
    sheet["memo"] = ""
    return sheet[columns].reset_index(drop=True)


def leading_metrics(correlation, count):
    """Metrics with the largest mean |Spearman ρ| at item level over the dimensions."""
    rows = correlation[(correlation["method"] == "spearman") & (correlation["level"] == "item")]
    order = rows.groupby("metric")["r"].apply(lambda r: r.abs().mean()).dropna().sort_values(ascending=False)
    return list(order.index[:count])


# ---------------------------------------------------------------- the report


def report_build(*, ratings, scores=None, context=None, out_dir, config=None, progress=False):
    """Build the whole report from a ratings frame (and metric scores); return the report's path.

    Parameters
    ----------
    ratings : pandas.DataFrame
        Ratings-contract rows (``participant, item, scenario, system, dimension, score`` …),
        optionally with item columns (``genre, anchor, flaw_count`` and the objective error).
    scores : pandas.DataFrame, optional
        ``item, metric, value`` (missing values allowed: counted, left out).
    context : dict, optional
        ``source`` (a line naming the data), ``items`` (item metadata frame), ``feedback``
        (``participant, item, question, text``), ``inputs`` (provenance for config.json).
    out_dir : path
        Folder of the report; replaced file by file when the new report is complete.
    config : ReportConfig, optional

    Returns
    -------
    pathlib.Path
        ``out_dir / "report.html"``.
    """
    config = config or ReportConfig()
    context = dict(context or {})
    out_dir = Path(out_dir)
    partial = out_dir / ".partial"
    if partial.exists():
        shutil.rmtree(partial)
    (partial / "tables").mkdir(parents=True)
    (partial / "figures").mkdir()
    try:
        _build(
            ratings=ratings, scores=scores, context=context, folder=partial, config=config, progress=progress
        )
        for entry in sorted(partial.iterdir()):
            target = out_dir / entry.name
            if target.is_dir():
                shutil.rmtree(target)
            os.replace(entry, target)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return out_dir / "report.html"


def _step(progress, total):
    if not progress:
        return lambda name: None
    from tqdm import tqdm

    bar = tqdm(total=total, desc="report", unit="step")

    def advance(name):
        bar.set_postfix_str(name)
        bar.update(1)
        if bar.n >= total:
            bar.close()

    return advance


def _build(*, ratings, scores, context, folder, config, progress):

    from analysis import correlation as corr
    from analysis import figures, rating_models, reliability

    advance = _step(progress, 9)
    frame, notes = prepare_ratings(ratings, scores, context, config)
    dimensions = [d for d in DIMENSIONS if d in set(frame["dimension"])]
    systems = sorted(frame["system"].unique())
    reference = config.reference_system or ("baseline" if "baseline" in systems else systems[0])
    if reference not in systems:
        raise ReportInputError(f"reference system {reference!r} is not among the systems {systems}")
    tables, images = {}, {}
    unavailable = {}  # table or figure -> "not computable: <why>" for each part these data cannot give
    boot = {"n_resamples": config.n_resamples, "seed": config.seed, "ci": config.ci}

    tables["likert_distribution"] = likert_distribution(frame)
    means = corr.item_means(frame, keep=("scenario", "system", *FACTORS, *OBJECTIVE))
    tables["item_means"] = means
    advance("descriptives")

    rel = reliability.reliability_table(frame, **boot)
    tables["reliability"] = rel[["dimension", "statistic", "value", "ci_low", "ci_high"]]
    tables["reliability_design"] = rel[["dimension", "statistic", "n_items", "n_raters", "basis"]]
    ceiling = rel[rel["statistic"] == "human_ceiling"].set_index("dimension")["value"].to_dict()
    advance("reliability")

    has_scores = scores is not None and not scores.empty
    if has_scores:
        score_frame = scores[scores["item"].isin(set(frame["item"]))][["item", "metric", "value"]]
        correlation = corr.correlation_table(
            means, score_frame, omit_missing=config.omit_missing_scores, **boot
        )
        correlation["human_ceiling"] = correlation["dimension"].map(ceiling)
        tables["correlation"] = correlation[list(correlation.columns[:10])]
        tables["correlation_details"] = correlation[
            [
                "dimension",
                "metric",
                "method",
                "level",
                "n_missing",
                "ties_human",
                "ties_metric",
                "groups_dropped",
                "human_ceiling",
                "note",
            ]
        ]
        tables["metric_comparisons"] = corr.metric_comparisons(
            means,
            score_frame.dropna(subset=["value"]),
            pairs=config.comparisons,
            n_permutations=config.n_permutations,
            seed=config.seed,
        )
        judge, judge_pairs = corr.judge_agreement(frame, score_frame)
        if not judge.empty:
            tables["judge_agreement"] = judge
        else:
            unavailable["judge_agreement"] = (
                "not computable: the scores hold no LLM-judge metric (judge_<dimension>) for the rated items"
            )
    else:
        for name in ("correlation", "metric_comparisons", "judge_agreement"):
            unavailable[name] = "not computable: no metric scores were given (pass --scores)"
    advance("correlation")

    tables["mixed_model"] = rating_models.mixed_model(frame, reference=reference, engine=config.mixed_engine)
    tables["ordinal_model"] = rating_models.ordinal_model(frame, reference=reference)
    tables["nonparametric"] = rating_models.nonparametric_tests(frame)
    advance("models of the ratings")
    objective = [
        c
        for c in ("all_directions_correct", "mean_abs_error_db")
        if c in frame.columns and frame[c].notna().all()
    ]
    if len(objective) < 2:
        unavailable["correctness_effect"] = (
            "not computable: the items' objective error (all_directions_correct and mean_abs_error_db) is "
            "missing for some or all items (give --advice with --dataset, or task metrics in the scores)"
        )
    elif frame["all_directions_correct"].nunique() < 2:
        unavailable["correctness_effect"] = (
            "not computable: every item has the same value of all_directions_correct, so its effect "
            "cannot be estimated"
        )
    else:
        tables["correctness_effect"] = rating_models.correctness_effect(frame, predictors=objective)
    advance("objective correctness")

    tables["breakdown"] = breakdown_table(frame)
    tables["coding_sheet"] = coding_sheet(context.get("feedback"), frame)
    advance("breakdowns and feedback")

    figure_folder = folder / "figures"

    def draw(name, figure, caption):
        images[name] = {
            "png": base64.b64encode(
                figures.save(figure, figure_folder, name, config.figure_formats)
            ).decode(),
            "caption": caption,
        }

    draw(
        "likert_bars",
        figures.likert_bars(tables["likert_distribution"], dimensions, systems),
        "Share of each score per system (diverging at the neutral 3).",
    )
    draw(
        "system_distributions",
        figures.system_distributions(means, dimensions, systems),
        "Item mean scores per system (box: quartiles; triangle: mean).",
    )
    if has_scores:
        metrics = sorted(score_frame["metric"].unique())
        draw(
            "correlation_heatmap",
            figures.correlation_heatmap(tables["correlation"], dimensions, metrics, ceiling),
            "Item-level Spearman ρ of each metric with the item mean score, with the bootstrap CI; "
            "the human ceiling (leave-one-rater-out) under each dimension.",
        )
        leaders = leading_metrics(tables["correlation"], config.leading_metrics)
        joined = means.merge(score_frame[score_frame["metric"].isin(leaders)], on="item")
        if leaders:
            draw(
                "metric_scatter",
                figures.metric_scatter(joined, leaders, dimensions),
                f"Item mean score against the {len(leaders)} leading metrics.",
            )
        else:
            unavailable["figure: metric_scatter"] = (
                "not computable: no metric has an item-level Spearman ρ with any dimension (see the "
                "correlation table's note column)"
            )
        if "judge_agreement" in tables and not judge_pairs.empty:
            draw(
                "judge_bland_altman",
                figures.bland_altman(judge_pairs, dimensions),
                "Bland–Altman: LLM judge minus the item's mean human score.",
            )
        elif "judge_agreement" in tables:
            unavailable["figure: judge_bland_altman"] = (
                "not computable: the judge scored none of the rated items"
            )
    if {"all_directions_correct", "mean_abs_error_db"} <= set(means.columns) and means[
        "mean_abs_error_db"
    ].notna().all():
        draw(
            "ratings_vs_error",
            figures.ratings_vs_error(means, dimensions),
            "Item mean score against the advice's objective error.",
        )
    else:
        unavailable["figure: ratings_vs_error"] = (
            "not computable: the items' objective error (mean_abs_error_db) is missing for some or all items"
        )
    for factor in FACTORS:
        if factor in set(tables["breakdown"]["factor"]):
            draw(
                f"breakdown_{factor}",
                figures.breakdown_heatmaps(tables["breakdown"], factor, dimensions),
                f"Mean score by system and {factor.replace('_', ' ')}.",
            )
        else:
            unavailable[f"figure: breakdown_{factor}"] = (
                f"not computable: the items have no {factor} (give --advice with --dataset, or build the "
                "report from the study)"
            )
    if tables["coding_sheet"].empty:
        unavailable["coding_sheet"] = "nothing to code: no free-text feedback was given"
    advance("figures")

    for name, table in tables.items():
        table.to_csv(folder / "tables" / f"{name}.csv", index=False)
    summary = {
        "raters": int(frame["participant"].nunique()),
        "items": int(frame["item"].nunique()),
        "scenarios": int(frame["scenario"].nunique()),
        "systems": systems,
        "dimensions": dimensions,
        "ratings": len(frame),
        "reference_system": reference,
        "metrics": sorted(scores["metric"].unique()) if has_scores else [],
        "not_computable": unavailable,
        **notes,
    }
    methods = methods_paragraph(summary, tables, config)
    _write_html(
        folder / "report.html",
        summary=summary,
        tables=tables,
        images=images,
        methods=methods,
        context=context,
        config=config,
    )
    provenance = {
        "config": config.to_dict(),
        "source": context.get("source", ""),
        "inputs": context.get("inputs", {}),
        "summary": summary,
        "tables": sorted(f"{name}.csv" for name in tables),
    }
    (folder / "config.json").write_text(json.dumps(provenance, indent=1, default=str), encoding="utf-8")
    advance("html")


def methods_paragraph(summary, tables, config):
    """The methods text of the report, written from the settings and the data actually used."""
    design = tables["reliability_design"]
    bases = design.loc[design["statistic"] == "ICC(A,1)", "basis"]
    computable = bases[~bases.str.startswith("not computable")].unique()
    icc_on = f"on {'; '.join(computable)}" if len(computable) else "— not computable on these data"
    if 0 < len(computable) < bases.nunique():
        icc_on += "; not computable for some dimensions"
    percent = round(config.ci * 100)
    text = [
        f"{summary['raters']} raters gave {summary['ratings']:,} ratings of {summary['items']} advice items "
        f"({summary['scenarios']} scenarios × {len(summary['systems'])} systems: {', '.join(summary['systems'])}) "
        f"on {len(summary['dimensions'])} five-point dimensions.",
    ]
    if summary.get("simulated_participants"):
        kept = "included" if config.include_simulated else "left out"
        text.append(f"{summary['simulated_participants']} simulated participants were {kept}.")
    if summary.get("attention_flagged_participants"):
        kept = "left out" if config.exclude_attention_flagged else "kept (flagged, not excluded)"
        text.append(
            f"{summary['attention_flagged_participants']} participants who failed an attention check were {kept}."
        )
    text.append(
        "Reliability: ICC(A,1), ICC(A,k) and ICC(C,k) (two-way models, McGraw & Wong 1996; pingouin, F-based "
        f"{percent} % CIs) {icc_on}; Krippendorff's alpha (ordinal and interval) on all ratings "
        f"with percentile bootstrap CIs over items; Kendall's W with the tie correction; percent agreement; "
        "the human ceiling is each rater's Spearman ρ with the mean of the other raters, averaged over raters "
        "(bootstrap over raters)."
    )
    if summary["metrics"]:
        text.append(
            f"Metric–human agreement: each dimension's human score is the mean rating of an item (never single "
            f"ratings); Spearman's ρ (primary), Kendall's τ_b and Pearson's r with percentile bootstrap "
            f"{percent} % CIs ({config.n_resamples:,} resamples of items, seed {config.seed}); ties take average "
            f"ranks and are counted. Levels: items; scenarios (correlation within each scenario across systems, "
            f"averaged; scenarios with fewer than 3 items or constant values dropped and counted; Wilcoxon test of "
            f"the per-scenario correlations); systems only with at least 5 systems. Holm's correction runs over "
            f"every p-value of the correlation table. Metrics were compared with Williams' test on Spearman ρ and a "
            f"paired permutation test ({config.n_permutations:,} permutations; "
            f"{'each metric against the leading one' if config.comparisons == 'leader' else 'every pair'}), "
            f"Holm-corrected. Missing metric values were {'left out and counted' if config.omit_missing_scores else 'not allowed'}."
        )
    text.append(
        f"Models: a linear mixed model score ~ system + (1 | rater) + (1 | item) per dimension (REML; "
        f"{'sparse penalised least squares as in lme4' if config.mixed_engine == 'sparse' else 'statsmodels MixedLM'}), "
        f"a proportional-odds model score ~ system + rater (statsmodels OrderedModel, logit link, raters as fixed "
        f"effects: no maintained Python library fits a cumulative-link mixed model), and Friedman's test with raters "
        f"as blocks followed by Holm-corrected Wilcoxon signed-rank tests; contrasts are against "
        f"{summary['reference_system']}. Raters whose every rating of a dimension was its lowest or highest "
        f"score are left out of that dimension's ordinal model (their leniency is infinite with raters as fixed "
        f"effects) and counted in its note. A statistic these data cannot give is reported as not computable, "
        f"with the reason, rather than estimated."
    )
    if "correctness_effect" in tables:
        text.append(
            "The effect of objective correctness (every direction right; mean absolute dB error) on the ratings "
            "was estimated with the same crossed mixed model."
        )
    return " ".join(text)


def _display(table, digits=3):
    """Round only for display."""
    shown = table.copy()
    for column in shown.columns:
        if shown[column].dtype.kind == "f":
            shown[column] = shown[column].round(digits)
    return shown


def _write_html(path, *, summary, tables, images, methods, context, config):
    from django.template.loader import render_to_string
    from django.utils import timezone

    sections = []
    titles = {
        "reliability": "Rater reliability",
        "reliability_design": "Reliability design: items, raters and basis of each statistic (or why it is not computable)",
        "correlation": "Metric–human correlation",
        "correlation_details": "Correlation details: missing values, ties, dropped groups, human ceiling",
        "metric_comparisons": "Metric comparisons (Williams and permutation tests)",
        "judge_agreement": "LLM judge against people",
        "mixed_model": "Linear mixed model",
        "ordinal_model": "Ordinal (proportional-odds) model",
        "nonparametric": "Friedman and Wilcoxon tests",
        "correctness_effect": "Effect of objective correctness",
        "breakdown": "Scores by system × genre × flaw count × anchor",
        "coding_sheet": "Free-text answers (coding sheet)",
    }
    for name, title in titles.items():
        if name in tables:
            table = tables[name]
            limited = table if len(table) <= 400 else table.head(400)
            sections.append(
                {
                    "name": name,
                    "title": title,
                    "html": _display(limited).to_html(index=False, classes="table", border=0, na_rep="—"),
                    "rows": len(table),
                    "truncated": len(table) > len(limited),
                }
            )
    html = render_to_string(
        "analysis/report.html",
        {
            "summary": summary,
            "sections": sections,
            "images": images,
            "methods": methods,
            "source": context.get("source", ""),
            "created": timezone.now(),
            "config": config.to_dict(),
        },
    )
    path.write_text(html, encoding="utf-8")
