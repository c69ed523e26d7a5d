"""`manage.py score_advice` from files and for a study: outputs, summary line, clear errors."""

import json

import pytest
from django.core.management import CommandError, call_command

from analysis.models import JudgeCall, MetricScore
from tests.analysis.conftest import ADVICE
from tests.analysis.test_judge import FakeEndpoint
from tests.factories import study_with_items


def run(*args):
    from io import StringIO

    out = StringIO()
    call_command("score_advice", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.fixture
def dataset_with_audio(dataset):
    """The example dataset plus noise stems at the manifest's reference paths."""
    import numpy as np
    import soundfile

    from modelgen.contracts import load_manifest

    rng = np.random.default_rng(3)
    for scenario in load_manifest(dataset)["scenarios"]:
        for path in scenario["audio"]["reference"].values():
            (dataset / path).parent.mkdir(parents=True, exist_ok=True)
            soundfile.write(
                dataset / path, (0.05 * rng.standard_normal((44_100, 2))).astype("float32"), 44_100
            )
    return dataset


def test_file_mode_writes_the_scores_csv_and_prints_one_summary_line(dataset_with_audio, tmp_path):
    dataset = dataset_with_audio
    out = tmp_path / "scores.csv"
    printed = run(
        "--advice",
        str(ADVICE),
        "--dataset",
        str(dataset),
        "--out",
        str(out),
        "--metrics",
        "task,rouge_l",
        "chrf",
    )
    lines = out.read_text().splitlines()
    # 3 items x (9 task metrics + rouge_l + chrf); no_error is missing for the 3 flawed scenarios
    assert printed.strip() == f"Scored 3 items with 11 metrics (33 values, 3 missing) -> {out}"
    assert lines[0] == "item,metric,value" and len(lines) == 1 + 33
    assert "demo-0001:sham,joint_accuracy,0.0" in lines
    assert json.loads(out.with_name("scores.csv.config.json").read_text())["dataset"] == str(dataset)


def test_file_mode_needs_advice_dataset_and_out_together(dataset):
    with pytest.raises(CommandError, match="--advice FILE --dataset DIR --out FILE"):
        run("--advice", str(ADVICE), "--dataset", str(dataset))


def test_study_and_files_together_are_refused(dataset, tmp_path):
    with pytest.raises(CommandError, match="either --study"):
        run(
            "--study",
            "x",
            "--advice",
            str(ADVICE),
            "--dataset",
            str(dataset),
            "--out",
            str(tmp_path / "s.csv"),
        )


def test_an_unknown_metric_lists_the_known_ones(dataset, tmp_path):
    with pytest.raises(CommandError, match=r"unknown metric 'bleu'.*rouge_l"):
        run(
            "--advice",
            ADVICE,
            "--dataset",
            str(dataset),
            "--out",
            str(tmp_path / "s.csv"),
            "--metrics",
            "bleu",
        )


def test_missing_wordnet_names_make_setup(dataset, tmp_path, monkeypatch):
    import nltk.data

    monkeypatch.setattr(nltk.data, "path", [str(tmp_path / "empty")])
    out = tmp_path / "s.csv"
    with pytest.raises(CommandError, match="make setup"):
        run(
            "--advice",
            ADVICE,
            "--dataset",
            str(dataset),
            "--out",
            str(out),
            "--metrics",
            "meteor",
            "--reference-system",
            "ideal",
        )
    assert not out.exists()


@pytest.mark.django_db
def test_study_mode_stores_scores_per_advice_item_and_metric():
    study = study_with_items(scenarios=2, systems=("ideal", "sham", "baseline"))
    printed = run(
        "--study", study.slug, "--metrics", "joint_accuracy", "rouge_l", "--reference-system", "ideal"
    )
    assert "Scored 6 items with 2 metrics (12 values, 0 missing)" in printed
    assert MetricScore.objects.filter(advice_item__scenario__study=study).count() == 12
    rouge = MetricScore.objects.get(
        metric="rouge_l",
        advice_item__system="ideal",
        advice_item__scenario__scenario_id=study.scenarios.first().scenario_id,
    )
    assert rouge.value == 1.0


@pytest.mark.django_db
def test_study_mode_for_an_unknown_study_is_a_clear_error():
    with pytest.raises(CommandError, match="no study with slug 'ghost'"):
        run("--study", "ghost", "--metrics", "task")


@pytest.mark.django_db
def test_judge_options_reach_a_real_endpoint_and_its_calls_are_logged():
    study = study_with_items(scenarios=1, systems=("ideal", "sham"))
    endpoint = FakeEndpoint()
    endpoint.reply("4", "Score: 2")
    try:
        printed = run(
            "--study",
            study.slug,
            "--metrics",
            "judge_effectiveness",
            "--judge-url",
            endpoint.url,
            "--judge-model",
            "judge-test",
            "--judge-concurrency",
            "1",
        )
    finally:
        endpoint.close()
    assert "Scored 2 items with 1 metrics (2 values, 1 missing)" in printed
    assert sorted(MetricScore.objects.values_list("value", flat=True), key=str) == [4.0, None]
    assert JudgeCall.objects.filter(model="judge-test").count() == 2


def test_a_judge_url_without_a_model_is_refused():
    with pytest.raises(CommandError, match="--judge-model"):
        run("--study", "x", "--judge-url", "http://127.0.0.1:9/v1")
