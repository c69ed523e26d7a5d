"""The report: fixed table formats, numbers equal to the analysis functions, self-contained HTML,
no half-written report after a failure."""

import base64
import json
import shutil

import numpy as np
import pandas as pd
import pytest

from analysis.correlation import correlation_table, item_means
from analysis.report import ReportConfig, ReportInputError, report_build
from analysis.simulate import simulate_ratings

pytestmark = pytest.mark.slow  # one full report build (~15 s on a shared two-core machine)

SYSTEMS = ("finetuned", "base", "baseline", "ideal", "sham")


def _inputs(seed=0):
    rng = np.random.default_rng(seed)
    items = pd.DataFrame(
        [
            {
                "item": f"sc{s:02d}:{system}",
                "scenario": f"sc{s:02d}",
                "system": system,
                "all_directions_correct": bool(system != "sham" and rng.random() < 0.7),
                "mean_abs_error_db": float(rng.uniform(0, 8)),
                "genre": ("pop", "rock", "rap")[s % 3],
                "anchor": ("vocals", "drums")[s % 2],
                "flaw_count": ("0", "1", "2+")[s % 3],
            }
            for s in range(8)
            for system in SYSTEMS
        ]
    )
    ratings = simulate_ratings(items, participants=10, items_per_participant=24, seed=seed)
    ratings["simulated"] = False
    ratings.loc[ratings["participant"] == ratings["participant"].iloc[0], "attention_flag"] = True
    quality = ratings.drop_duplicates("item").set_index("item")["true_quality"]
    scores = pd.concat(
        [
            pd.DataFrame(
                {
                    "item": quality.index,
                    "metric": "task_like",
                    "value": quality.to_numpy() + rng.normal(0, 0.3, 40),
                }
            ),
            pd.DataFrame({"item": quality.index, "metric": "rouge_l", "value": rng.uniform(0, 1, 40)}),
            pd.DataFrame(
                {
                    "item": quality.index,
                    "metric": "judge_effectiveness",
                    "value": np.where(
                        np.arange(40) == 5, np.nan, np.clip(np.round(3 + quality.to_numpy()), 1, 5)
                    ),
                }
            ),
        ],
        ignore_index=True,
    )
    feedback = pd.DataFrame(
        {
            "participant": ["SIM-0-0001", "SIM-0-0002"],
            "item": ["sc00:base", ""],
            "question": ["feedback", "workflow_fit"],
            "text": ["<b>too vague</b>", "I would use it for rough mixes"],
        }
    )
    return ratings, scores, {"source": "test data", "feedback": feedback}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    ratings, scores, context = _inputs()
    out = tmp_path_factory.mktemp("report")
    config = ReportConfig(figure_formats=("png", "svg"), seed=3)
    path = report_build(ratings=ratings, scores=scores, context=context, out_dir=out, config=config)
    return path, out, ratings, scores, config


def test_reliability_table_has_the_fixed_format(built):
    _, out, *_ = built
    table = pd.read_csv(out / "tables" / "reliability.csv")
    assert list(table.columns) == ["dimension", "statistic", "value", "ci_low", "ci_high"]
    assert set(table["statistic"]) == {
        "ICC(A,1)",
        "ICC(A,k)",
        "ICC(C,k)",
        "alpha_ordinal",
        "alpha_interval",
        "kendall_w",
        "percent_agreement",
        "human_ceiling",
    }
    assert table["dimension"].nunique() == 5


def test_correlation_table_has_the_fixed_format_and_the_analysis_numbers(built):
    _, out, ratings, scores, config = built
    table = pd.read_csv(out / "tables" / "correlation.csv")
    assert list(table.columns) == [
        "dimension",
        "metric",
        "method",
        "level",
        "r",
        "ci_low",
        "ci_high",
        "p",
        "p_holm",
        "n",
    ]
    expected = correlation_table(item_means(ratings), scores, omit_missing=True, seed=config.seed)
    merged = table.merge(expected, on=["dimension", "metric", "method", "level"], suffixes=("", "_expected"))
    assert len(merged) == len(table) == len(expected)
    assert np.allclose(merged["r"], merged["r_expected"], equal_nan=True)
    assert np.allclose(merged["ci_low"], merged["ci_low_expected"], equal_nan=True)
    judge = table.query(
        "metric == 'judge_effectiveness' and dimension == 'effectiveness' and level == 'item'"
    )
    assert judge["n"].iloc[0] == 39  # one unparseable reply left out, not scored 0


def test_human_ceiling_sits_next_to_every_metric(built):
    _, out, *_ = built
    details = pd.read_csv(out / "tables" / "correlation_details.csv")
    reliability = pd.read_csv(out / "tables" / "reliability.csv").query("statistic == 'human_ceiling'")
    ceiling = reliability.set_index("dimension")["value"]
    assert np.allclose(details["human_ceiling"], details["dimension"].map(ceiling))


def test_html_is_self_contained_with_every_figure_embedded(built):
    path, out, *_ = built
    html = path.read_text(encoding="utf-8")
    assert "http://" not in html and "https://" not in html
    for png in (out / "figures").glob("*.png"):
        assert base64.b64encode(png.read_bytes()).decode()[:200] in html
    assert len(list((out / "figures").glob("*.svg"))) == len(list((out / "figures").glob("*.png"))) >= 8


def test_methods_paragraph_is_written_from_the_settings(built):
    path, out, ratings, _, config = built
    html = path.read_text(encoding="utf-8")
    assert f"{ratings['participant'].nunique()} raters" in html
    assert "2,000 resamples of items, seed 3" in html
    assert "1 participants who failed an attention check were kept" in html
    settings = json.loads((out / "config.json").read_text())
    assert settings["config"]["seed"] == 3


def test_free_text_is_escaped_and_exported_as_a_coding_sheet(built):
    path, out, *_ = built
    assert "<b>too vague</b>" not in path.read_text(encoding="utf-8")
    sheet = pd.read_csv(out / "tables" / "coding_sheet.csv", keep_default_na=False)
    assert list(sheet.columns) == [
        "response_id",
        "source",
        "system",
        "participant",
        "item",
        "question",
        "text",
        "code",
        "memo",
    ]
    assert sheet.set_index("item").at["sc00:base", "system"] == "base"


def test_breakdowns_cover_genre_flaw_count_and_anchor(built):
    _, out, ratings, *_ = built
    breakdown = pd.read_csv(out / "tables" / "breakdown.csv", dtype={"level": str})
    assert set(breakdown["factor"]) == {"genre", "flaw_count", "anchor", "genre × flaw_count × anchor"}
    row = breakdown.query(
        "dimension == 'conventions' and factor == 'genre' and system == 'ideal' and level == 'pop'"
    )
    subset = ratings.query("dimension == 'conventions' and genre == 'pop' and system == 'ideal'")
    assert row["mean"].item() == pytest.approx(subset["score"].mean())


def test_judge_agreement_and_models_are_reported(built):
    _, out, *_ = built
    for name in (
        "judge_agreement",
        "mixed_model",
        "ordinal_model",
        "nonparametric",
        "correctness_effect",
        "metric_comparisons",
    ):
        assert (out / "tables" / f"{name}.csv").is_file(), name


def test_a_failed_build_keeps_the_previous_report_and_leaves_no_partial_folder(built, tmp_path):
    _, out, ratings, scores, _ = built
    shutil.copytree(out, tmp_path, dirs_exist_ok=True)
    first = tmp_path / "report.html"
    before = first.read_bytes()
    context = {"source": "test data"}
    with pytest.raises(ReportInputError, match="reference system"):
        report_build(
            ratings=ratings,
            scores=scores,
            context=context,
            out_dir=tmp_path,
            config=ReportConfig(figure_formats=("png",), reference_system="nope"),
        )
    assert first.read_bytes() == before
    assert not (tmp_path / ".partial").exists()


def test_simulated_ratings_are_left_out_unless_asked_for(tmp_path):
    ratings, scores, context = _inputs()
    ratings["simulated"] = True
    with pytest.raises(ReportInputError, match="include_simulated"):
        report_build(
            ratings=ratings,
            scores=None,
            context=context,
            out_dir=tmp_path,
            config=ReportConfig(figure_formats=("png",)),
        )
    assert not any(tmp_path.iterdir())


def test_report_settings_are_validated():
    with pytest.raises(ValueError, match="n_resamples"):
        ReportConfig(n_resamples=500)
    with pytest.raises(ValueError, match="comparisons"):
        ReportConfig(comparisons="some")
