"""The report of a small or degenerate pilot: every part is there, and what the data cannot give
says "not computable" and why, instead of failing the whole report."""

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from django.core.management import call_command

from analysis.correlation import metric_comparisons, williams_problem, williams_test
from analysis.rating_models import ordinal_model
from analysis.report import ReportConfig, ReportInputError, report_build
from modelgen.contracts import DIMENSIONS
from tests.factories import study_with_items

SYSTEMS = ("baseline", "finetuned", "sham")
CONFIG = ReportConfig(figure_formats=("png",), n_permutations=100)


def _ratings(assignment, score=None, seed=0):
    """``assignment``: participant -> items ``scenario:system``; ``score(participant, item, dimension)``."""
    rng = np.random.default_rng(seed)
    rows = []
    for participant, items in assignment.items():
        for item in items:
            scenario, system = item.split(":")
            for dimension in DIMENSIONS:
                value = score(participant, item, dimension) if score else int(rng.integers(1, 6))
                rows.append(
                    {
                        "participant": participant,
                        "item": item,
                        "scenario": scenario,
                        "system": system,
                        "dimension": dimension,
                        "score": value,
                    }
                )
    return pd.DataFrame(rows)


def _items(scenarios, systems=SYSTEMS):
    return [f"sc{s}:{system}" for s in range(scenarios) for system in systems]


def _scores(items, metrics=("rouge_l", "judge_effectiveness")):
    rng = np.random.default_rng(1)
    return pd.DataFrame(
        [
            {"item": item, "metric": metric, "value": float(rng.integers(1, 6))}
            for item in items
            for metric in metrics
        ]
    )


ITEMS = _items(4)
TWO_SYSTEMS = _items(2, ("baseline", "finetuned"))
DESIGNS = {
    "two systems, two items each, some scores missing": (
        _ratings({f"P{k}": TWO_SYSTEMS for k in range(3)}),
        _scores(TWO_SYSTEMS, ("rouge_l", "judge_musicality")).drop(index=[0, 5]),
    ),
    "four raters, disjoint items": (
        _ratings({f"P{k}": ITEMS[3 * k : 3 * k + 3] for k in range(4)}),
        _scores(ITEMS),
    ),
    "one rater": (_ratings({"P0": ITEMS}), None),
    "every score the same": (
        _ratings({f"P{k}": ITEMS for k in range(3)}, score=lambda *_: 3),
        _scores(ITEMS),
    ),
    "each rater rates one system": (
        _ratings({f"P{k}": [i for i in ITEMS if i.endswith(system)] for k, system in enumerate(SYSTEMS)}),
        _scores(ITEMS, ("rouge_l",)),
    ),
}


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """name -> (name, folder, report path); each design is built once per module."""
    built = {}

    def build(name):
        if name not in built:
            ratings, scores = DESIGNS[name]
            out = tmp_path_factory.mktemp("small")
            path = report_build(
                ratings=ratings, scores=scores, context={"source": name}, out_dir=out, config=CONFIG
            )
            built[name] = (name, out, path)
        return built[name]

    return build


@pytest.fixture(params=list(DESIGNS))
def report(request, reports):
    return reports(request.param)


def _unexplained_gaps(table, column):
    """Rows with a missing estimate whose note does not say why."""
    explained = table[column].astype(str).str.startswith("not computable")
    numbers = table.drop(columns=column).select_dtypes("number")
    return table[numbers.isna().any(axis=1) & ~explained]


def test_small_design_still_gives_the_whole_report(report):
    _, out, path = report
    html = path.read_text(encoding="utf-8")
    for name in ("reliability", "mixed_model", "ordinal_model", "nonparametric", "breakdown"):
        assert (out / "tables" / f"{name}.csv").is_file()
    assert "Rater reliability" in html and "Linear mixed model" in html
    assert (out / "figures" / "likert_bars.png").is_file()


def test_every_missing_model_estimate_says_why(report):
    _, out, _ = report
    mixed = pd.read_csv(out / "tables" / "mixed_model.csv", keep_default_na=True)
    estimates = mixed[mixed["kind"] != "variance"].drop(columns="p")
    assert _unexplained_gaps(estimates, "note").empty
    ordinal = pd.read_csv(out / "tables" / "ordinal_model.csv")
    assert _unexplained_gaps(ordinal, "note").empty
    tests = pd.read_csv(out / "tables" / "nonparametric.csv").drop(columns="p_holm")
    assert _unexplained_gaps(tests, "note").empty


def test_every_missing_reliability_value_says_why_in_the_basis(report):
    _, out, _ = report
    values = pd.read_csv(out / "tables" / "reliability.csv")
    design = pd.read_csv(out / "tables" / "reliability_design.csv")
    missing = values["value"].isna()
    assert design.loc[missing, "basis"].str.startswith("not computable").all()


def test_disjoint_raters_give_no_alpha_and_the_report_says_so(reports):
    _, out, path = reports("four raters, disjoint items")
    design = pd.read_csv(out / "tables" / "reliability_design.csv")
    alpha = design[design["statistic"] == "alpha_ordinal"]
    assert alpha["basis"].str.contains("no item was rated by two or more raters").all()
    html = path.read_text(encoding="utf-8")
    assert "Not computable from these data" in html
    assert "not computable: no item was rated by two or more raters" in html


def test_constant_scores_make_alpha_and_the_models_not_computable(reports):
    _, out, _ = reports("every score the same")
    design = pd.read_csv(out / "tables" / "reliability_design.csv")
    assert design.loc[design["statistic"] == "alpha_interval", "basis"].str.contains("is 3").all()
    mixed = pd.read_csv(out / "tables" / "mixed_model.csv")
    assert mixed["note"].str.contains("every rating of this dimension is 3").all()
    correlation = pd.read_csv(out / "tables" / "correlation_details.csv")
    assert correlation["note"].str.startswith("not computable").all()
    items = correlation[correlation["level"] == "item"]
    assert items["note"].str.contains("human mean score is the same").all()


def test_missing_parts_are_listed_in_config_json(report):
    name, out, _ = report
    provenance = json.loads((out / "config.json").read_text(encoding="utf-8"))
    unavailable = provenance["summary"]["not_computable"]
    assert "correctness_effect" in unavailable
    if name == "one rater":
        assert unavailable["correlation"].startswith("not computable: no metric scores")
    if name == "each rater rates one system":
        assert "judge_agreement" in unavailable


def test_raters_confounded_with_systems_make_the_ordinal_contrasts_not_computable():
    ratings = DESIGNS["each rater rates one system"][0]
    table = ordinal_model(ratings, reference="baseline")
    assert table["log_odds"].isna().all()
    assert table["note"].str.contains("cannot be separated from the raters").all()


def test_williams_test_on_identically_ranking_metrics_is_not_computable_not_a_warning():
    assert williams_problem(0.4, 0.4, 1.0, 12).startswith("not computable: the two metrics rank")
    with pytest.raises(ValueError, match="rank the items identically"):
        williams_test(0.4, 0.4, 1.0, 12)


def test_one_rater_whose_ratings_separate_the_systems_gets_a_reason_not_a_singular_matrix():
    # one rater, two items per system: some dimensions separate baseline from finetuned completely
    items = ["sc0:finetuned", "sc2:finetuned", "sc0:baseline", "sc2:baseline"]
    scores = {
        "conventions": [4, 5, 3, 2],  # complete separation: singular curvature
        "musicality": [3, 4, 3, 2],  # quasi-separation: no convergence
        "actionability": [3, 5, 4, 1],  # overlapping: estimable
    }
    ratings = _ratings(
        {"P0": items}, score=lambda _, item, dimension: scores.get(dimension, [3, 4, 2, 3])[items.index(item)]
    )
    table = ordinal_model(ratings, reference="baseline").set_index("dimension")
    assert table.at["conventions", "note"].startswith(
        "not computable: the likelihood's curvature matrix is singular"
    )
    assert table.at["musicality", "note"].startswith("not computable: the fit did not converge")
    assert np.isnan(table.at["musicality", "log_odds"])
    assert np.isfinite(table.at["actionability", "se"]) and table.at["actionability", "note"] == ""


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda frame: frame.assign(score=frame["score"].where(frame.index != 3, 7)), "outside 1–5"),
        (
            lambda frame: frame.assign(dimension=frame["dimension"].where(frame.index != 0, "loudness")),
            "unknown dimensions",
        ),
        (lambda frame: frame.drop(columns="system"), "lack the columns"),
        (
            lambda frame: frame.assign(score=frame["score"].astype(object).where(frame.index != 2, "x")),
            "not an integer",
        ),
    ],
)
def test_bad_ratings_still_raise_a_clear_error(change, message, tmp_path):
    ratings = change(DESIGNS["one rater"][0])
    with pytest.raises(ReportInputError, match=message):
        report_build(ratings=ratings, out_dir=tmp_path / "r", config=CONFIG)
    assert not (tmp_path / "r" / "report.html").exists()


@pytest.mark.django_db
def test_the_command_builds_a_report_for_a_pilot_of_four_simulated_participants(tmp_path):
    study = study_with_items(scenarios=2, trials_per_participant=3)
    call_command("simulate_ratings", study=study.slug, participants=4, seed=1)
    out = tmp_path / "pilot"
    call_command("analysis_report", study=study.slug, out=str(out), include_simulated=True, no_svg=True)
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "4 simulated participants were included" in html
    ordinal = pd.read_csv(out / "tables" / "ordinal_model.csv")
    assert _unexplained_gaps(ordinal, "note").empty


def test_a_judge_score_outside_the_scale_is_an_error_not_a_statistic(tmp_path):
    ratings = DESIGNS["one rater"][0]
    scores = pd.DataFrame({"item": ITEMS[:3], "metric": "judge_musicality", "value": [3.0, 6.0, 2.0]})
    with pytest.raises(ValueError, match="judge_musicality has scores outside 1–5"):
        report_build(ratings=ratings, scores=scores, out_dir=tmp_path / "r", config=CONFIG)


def test_metrics_that_rank_items_identically_get_a_williams_note_and_no_runtime_warning():
    means = pd.DataFrame({"item": list("abcdef"), "dimension": "musicality", "human": [1, 3, 2, 5, 4, 6.0]})
    scores = pd.DataFrame(
        {
            "item": list("abcdef") * 2,
            "metric": ["a"] * 6 + ["b"] * 6,
            "value": [1, 2, 3, 4, 5, 6] + [10, 20, 30, 40, 50, 60],
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        table = metric_comparisons(means, scores, n_permutations=100)
    row = table.iloc[0]
    assert np.isnan(row["williams_t"]) and np.isnan(row["williams_p_holm"])
    assert row["note"].startswith("Williams' test not computable: the two metrics rank the items identically")
    assert row["permutation_p"] == 1.0
