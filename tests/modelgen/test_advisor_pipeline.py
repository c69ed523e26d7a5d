"""End to end on the real dataset pipeline: corpus → dataset → tiny model → train → advice → scores → release."""

import json

import pytest
from django.core.management import call_command

from modelgen.contracts import load_advice
from tests.modelgen.builders import make_corpus, make_dataset


@pytest.mark.slow
def test_commands_run_end_to_end_on_the_synthetic_dataset(tmp_path):
    corpus = make_corpus(tmp_path / "corpus", songs=4, seconds=8.0, seed=5)
    dataset = make_dataset(corpus, tmp_path / "dataset", seed=5, scenarios={"segment_seconds": 4.0})
    tiny, run = tmp_path / "tiny", tmp_path / "run"
    config = tmp_path / "tiny.json"
    config.write_text(json.dumps({"pretrain_steps": 5}))
    quiet = ["--verbosity", "0"]
    call_command("build_tiny_model", "--dataset", str(dataset), "--out", str(tiny), "--config", str(config))
    call_command(
        "train_advisor",
        "--dataset",
        str(dataset),
        "--base-model",
        str(tiny),
        "--out",
        str(run),
        "--max-steps",
        "2",
        "--grad-accum",
        "1",
        "--eval-steps",
        "2",
        "--save-steps",
        "2",
        *quiet,
    )
    assert json.loads((run / "metrics.json").read_text())["steps"] == 2
    advice = []
    for system, extra in (
        (
            "finetuned",
            ["--base-model", str(tiny), "--adapter", str(run / "adapter"), "--max-new-tokens", "12"],
        ),
        ("baseline", []),
        ("ideal", []),
    ):
        out = tmp_path / f"{system}.jsonl"
        call_command(
            "generate_advice",
            "--dataset",
            str(dataset),
            "--system",
            system,
            "--out",
            str(out),
            *extra,
            *quiet,
        )
        assert load_advice(out)
        advice.append(str(out))
    call_command(
        "evaluate_advice", "--dataset", str(dataset), "--advice", *advice, "--out", str(tmp_path / "eval")
    )
    overall = {
        r["system"]: r for r in json.loads((tmp_path / "eval" / "summary.json").read_text())["overall"]
    }
    assert set(overall) == {"finetuned", "baseline", "ideal", "chance"}
    assert overall["ideal"]["joint_accuracy"] > overall["chance"]["joint_accuracy"]
    call_command(
        "export_release",
        "--run",
        str(run),
        "--dataset",
        str(dataset),
        "--out",
        str(tmp_path / "release"),
        "--evaluation",
        str(tmp_path / "eval"),
    )
    assert "| finetuned |" in (tmp_path / "release" / "README.md").read_text()
