"""Scoring advice from files and from a study: items, the long scores frame, the CSV, the database."""

import json
import math

import pytest
from django.db import IntegrityError

from analysis.metrics import ScoringContext
from analysis.models import MetricScore
from analysis.scoring import (
    ScoringInputError,
    items_from_files,
    items_from_study,
    load_scores,
    score_files,
    score_items,
    score_study,
    study_scores,
)
from tests.analysis.conftest import ADVICE
from tests.factories import AdviceItemFactory, ScenarioFactory, StudyFactory, study_with_items

TASK = ["direction_accuracy", "joint_accuracy", "no_error"]


def test_items_from_files_join_advice_scenarios_and_target_advice(dataset):
    items = items_from_files(ADVICE, dataset).set_index("item")
    assert list(items.index) == ["demo-0001:ideal", "demo-0001:sham", "demo-0002:baseline"]
    assert items.loc["demo-0002:baseline", "reference"].startswith("Raise the bass")
    assert items.loc["demo-0001:sham", "scenario"]["corrections_db"]["drums"] == -4.5
    assert items.loc["demo-0001:sham", "corrections"] == {"drums": 4.5}


def test_a_reference_system_replaces_the_target_advice(dataset):
    items = items_from_files(ADVICE, dataset, reference_system="ideal").set_index("item")
    assert items.loc["demo-0001:sham", "reference"] == items.loc["demo-0001:ideal", "text"]
    assert items.loc["demo-0002:baseline", "reference"] is None


def test_an_unknown_reference_system_names_the_systems_present(dataset):
    with pytest.raises(ScoringInputError, match="baseline"):
        items_from_files(ADVICE, dataset, reference_system="oracle")


def test_advice_for_a_scenario_missing_from_the_manifest_is_refused(dataset, tmp_path):
    advice = tmp_path / "advice.jsonl"
    record = json.loads(ADVICE.open().readline())
    advice.write_text(json.dumps({**record, "scenario_id": "elsewhere-1"}) + "\n")
    with pytest.raises(ScoringInputError, match="elsewhere-1"):
        items_from_files(advice, dataset)


def test_score_items_returns_one_row_per_item_and_metric(dataset):
    items = items_from_files(ADVICE, dataset)
    scores = score_items(items, TASK + ["rouge_l"], ScoringContext())
    assert list(scores.columns) == ["item", "metric", "value"]
    assert len(scores) == 3 * 4
    table = scores.pivot(index="item", columns="metric", values="value")
    assert table.loc["demo-0001:ideal", "joint_accuracy"] == 1.0
    assert table.loc["demo-0001:sham", "joint_accuracy"] == 0.0
    assert table.loc["demo-0001:ideal", "rouge_l"] > table.loc["demo-0001:sham", "rouge_l"]
    assert math.isnan(table.loc["demo-0001:ideal", "no_error"])


def test_scores_file_round_trips_with_missing_values_left_empty(dataset, tmp_path):
    out = tmp_path / "scores.csv"
    scores = score_files(
        advice=ADVICE,
        dataset=dataset,
        out=out,
        metrics=TASK,
        context=ScoringContext(),
    )
    lines = out.read_text().splitlines()
    assert lines[0] == "item,metric,value"
    assert "demo-0001:ideal,no_error," in lines
    again = load_scores(out)
    assert again["value"].isna().sum() == scores["value"].isna().sum() == 3
    assert again.dropna()["value"].tolist() == scores.dropna()["value"].tolist()
    config = json.loads((tmp_path / "scores.csv.config.json").read_text())
    assert config["metrics"] == sorted(TASK) and config["items"] == 3


def test_a_failing_metric_leaves_no_scores_file(dataset, tmp_path):
    out = tmp_path / "scores.csv"
    with pytest.raises(ValueError, match="--judge-url"):
        score_files(
            advice=ADVICE,
            dataset=dataset,
            out=out,
            metrics=["direction_accuracy", "judge_effectiveness"],
            context=ScoringContext(),
        )
    assert not out.exists()


def test_a_scores_file_without_its_columns_is_refused(tmp_path):
    path = tmp_path / "scores.csv"
    path.write_text("item,score\na,1\n")
    with pytest.raises(ScoringInputError, match="metric"):
        load_scores(path)


@pytest.mark.django_db
def test_score_study_stores_one_score_per_item_and_metric_and_rescoring_replaces_them():
    study = study_with_items(scenarios=2, systems=("ideal", "sham"))
    scores = score_study(study.slug, metrics=TASK, context=ScoringContext(), progress=False)
    assert len(scores) == 4 * 3
    assert MetricScore.objects.count() == 12
    score_study(study.slug, metrics=TASK, context=ScoringContext(), progress=False)
    assert MetricScore.objects.count() == 12
    stored = study_scores(study).pivot(index="item", columns="metric", values="value")
    sham = [item for item in stored.index if item.endswith(":sham")][0]
    assert stored.loc[sham, "joint_accuracy"] == 0.0
    assert math.isnan(stored.loc[sham, "no_error"])


@pytest.mark.django_db
def test_a_failing_metric_stores_nothing_for_the_study():
    study = study_with_items(scenarios=1, systems=("ideal",))
    with pytest.raises(ValueError, match="--judge-url"):
        score_study(
            study.slug,
            metrics=["joint_accuracy", "judge_musicality"],
            context=ScoringContext(),
            progress=False,
        )
    assert not MetricScore.objects.exists()


@pytest.mark.django_db
def test_study_items_use_the_reference_systems_advice_as_reference():
    study = study_with_items(scenarios=1, systems=("ideal", "sham"))
    items = items_from_study(study, reference_system="ideal").set_index("system")
    assert items.loc["sham", "reference"] == items.loc["ideal", "text"]
    assert items.loc["sham", "scenario"]["flawed"] == ["drums"]


@pytest.mark.django_db
def test_scoring_an_unknown_study_lists_the_known_ones():
    StudyFactory(slug="pilot-1")
    with pytest.raises(ScoringInputError, match="pilot-1"):
        score_study("nope", metrics=TASK, context=ScoringContext())


@pytest.mark.django_db
def test_the_database_refuses_a_second_score_for_the_same_item_and_metric():
    item = AdviceItemFactory(scenario=ScenarioFactory())
    MetricScore.objects.create(advice_item=item, metric="rouge_l", value=0.5)
    with pytest.raises(IntegrityError):
        MetricScore.objects.create(advice_item=item, metric="rouge_l", value=0.7)
