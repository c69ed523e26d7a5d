"""analysis_report: from files (contract CSVs, advice + dataset) and from a study's database."""

import json
from pathlib import Path

import pandas as pd
import pytest
from django.core.management import CommandError, call_command

from analysis.scoring import write_scores
from analysis.simulate import simulate_ratings
from modelgen.contracts import RATINGS_COLUMNS, load_advice, load_manifest, write_ratings
from modelgen.evaluation import item_rows
from tests.factories import study_with_items

pytestmark = pytest.mark.slow  # each test builds a whole report

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "contracts"


@pytest.fixture
def files(tmp_path):
    """Ratings of the example advice by 12 simulated raters, and scores for those items."""
    items = item_rows(
        load_manifest(FIXTURES / "manifest.example.json")["scenarios"],
        load_advice(FIXTURES / "advice.example.jsonl"),
    )
    items = items.rename(columns={"scenario_id": "scenario", "joint_correct": "all_directions_correct"})
    ratings = simulate_ratings(
        items[["item", "scenario", "system", "all_directions_correct", "mean_abs_error_db"]],
        participants=12,
        seed=4,
        study="demo",
    )
    ratings["simulated"] = False
    ratings_path = write_ratings(tmp_path / "ratings.csv", ratings[list(RATINGS_COLUMNS)].to_dict("records"))
    scores = pd.DataFrame(
        {
            "item": list(items["item"]) * 2,
            "metric": ["abs_error_db"] * len(items) + ["rouge_l"] * len(items),
            "value": list(items["mean_abs_error_db"]) + [0.2, 0.5, 0.4],
        }
    )
    scores_path = write_scores(tmp_path / "scores.csv", scores)
    feedback_path = tmp_path / "feedback.csv"
    feedback_path.write_text("participant,item,question,text\nSIM-4-0001,demo-0001:ideal,feedback,clear\n")
    return {"ratings": ratings_path, "scores": scores_path, "feedback": feedback_path}


def test_report_from_files_joins_the_advice_objective_error_and_feedback(files, tmp_path, capsys):
    out = tmp_path / "report"
    call_command(
        "analysis_report",
        ratings=str(files["ratings"]),
        scores=str(files["scores"]),
        advice=str(FIXTURES / "advice.example.jsonl"),
        dataset=str(FIXTURES / "manifest.example.json"),
        feedback=str(files["feedback"]),
        out=str(out),
        no_svg=True,
    )
    assert "report written to" in capsys.readouterr().out
    assert (out / "report.html").is_file()
    for name in (
        "reliability",
        "correlation",
        "mixed_model",
        "ordinal_model",
        "correctness_effect",
        "breakdown",
        "coding_sheet",
    ):
        assert (out / "tables" / f"{name}.csv").is_file(), name
    breakdown = pd.read_csv(out / "tables" / "breakdown.csv")
    assert set(breakdown.loc[breakdown["factor"] == "genre", "level"]) == {
        "pop",
        "rock",
    }  # demo-0003 (rap) has no advice
    provenance = json.loads((out / "config.json").read_text())
    assert len(provenance["inputs"]["ratings"]["sha256"]) == 64


@pytest.mark.django_db
def test_report_from_a_study_reads_ratings_scores_and_feedback(tmp_path):
    study = study_with_items(scenarios=10, trials_per_participant=6, free_text_required=True)
    call_command("simulate_ratings", study=study.slug, participants=12, seed=1)
    out = tmp_path / "study-report"
    call_command("analysis_report", study=study.slug, out=str(out), include_simulated=True, no_svg=True)
    reliability = pd.read_csv(out / "tables" / "reliability.csv")
    assert reliability["dimension"].nunique() == 5
    sheet = pd.read_csv(out / "tables" / "coding_sheet.csv")
    assert set(sheet["source"]) == {"trial feedback", "closing questionnaire"}
    assert "12 simulated participants were included" in (out / "report.html").read_text()


@pytest.mark.django_db
def test_a_study_with_only_simulated_ratings_needs_include_simulated(tmp_path):
    study = study_with_items(scenarios=10, trials_per_participant=6)
    call_command("simulate_ratings", study=study.slug, participants=2, seed=1)
    with pytest.raises(CommandError, match="include-simulated"):
        call_command("analysis_report", study=study.slug, out=str(tmp_path / "r"))


@pytest.mark.django_db
def test_files_and_study_together_are_refused(files, tmp_path):
    with pytest.raises(CommandError, match="either --study"):
        call_command("analysis_report", study="x", ratings=str(files["ratings"]), out=str(tmp_path))


def test_a_broken_ratings_file_names_the_row(tmp_path):
    broken = tmp_path / "ratings.csv"
    header = ",".join(RATINGS_COLUMNS)
    broken.write_text(f"{header}\n1.0,demo,P1,i1,s1,x,effectiveness,9,2026-01-01T00:00:00Z,0,false,false\n")
    with pytest.raises(CommandError, match="row 2"):
        call_command("analysis_report", ratings=str(broken), out=str(tmp_path / "r"))
    assert not (tmp_path / "r").exists()
