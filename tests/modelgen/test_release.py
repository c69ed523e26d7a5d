"""export_release assembles adapter, model card and dataset annotations, and uploads nothing."""

import json

import pytest
from django.core.management import CommandError, call_command

from modelgen.run_folder import dataset_hash


@pytest.fixture
def finished_run(tiny_model, small_dataset, tmp_path):
    """A run folder as train_advisor leaves it (adapter saved from the tiny model)."""
    from modelgen.model_loading import load_base_model
    from modelgen.train import LoraConfigArgs, build_peft_model

    run = tmp_path / "run"
    model, _, _ = build_peft_model(
        load_base_model(tiny_model), LoraConfigArgs(), quantized=False, gradient_checkpointing=False
    )
    model.save_pretrained(run / "adapter")
    settings = {
        "base_model": str(tiny_model),
        "qlora": False,
        "stems_as": "stems",
        "lora": {"preset": "llm-all-linear", "r": 16, "alpha": 32, "dropout": 0.05},
    }
    (run / "config.json").write_text(
        json.dumps({"settings": settings, "git_commit": "abc", "dataset_sha256": dataset_hash(small_dataset)})
    )
    (run / "metrics.json").write_text(json.dumps({"steps": 3, "train_loss": 2.5, "valid_loss": 2.7}))
    return run


def test_release_holds_adapter_card_training_files_and_dataset(finished_run, small_dataset, tmp_path):
    out = tmp_path / "release"
    call_command(
        "export_release", "--run", str(finished_run), "--dataset", str(small_dataset), "--out", str(out)
    )
    names = {p.name for p in out.iterdir()}
    assert {"adapter_config.json", "adapter_model.safetensors", "README.md", "training", "dataset"} <= names
    card = (out / "README.md").read_text()
    assert "license: cc-by-nc-sa-4.0" in card and "library_name: peft" in card
    for heading in (
        "## Base model",
        "## Training data",
        "## Licence",
        "## Intended use",
        "## Evaluation",
        "## Limitations",
    ):
        assert heading in card
    assert "Not evaluated yet" in card
    assert (out / "dataset" / "manifest.json").is_file()
    assert not list((out / "dataset").rglob("*.wav"))


def test_release_card_carries_the_evaluation_table(finished_run, small_dataset, tmp_path):
    evaluation = tmp_path / "eval"
    evaluation.mkdir()
    (evaluation / "table.md").write_text("| system | joint_accuracy |\n|---|---|\n| finetuned | 0.500 |\n")
    out = tmp_path / "release"
    call_command(
        "export_release",
        "--run",
        str(finished_run),
        "--dataset",
        str(small_dataset),
        "--out",
        str(out),
        "--evaluation",
        str(evaluation),
    )
    assert "| finetuned | 0.500 |" in (out / "README.md").read_text()
    assert (out / "evaluation" / "table.md").is_file()


def test_card_names_the_hub_base_model_given_for_a_local_folder(finished_run, small_dataset, tmp_path):
    out = tmp_path / "release"
    call_command(
        "export_release",
        "--run",
        str(finished_run),
        "--dataset",
        str(small_dataset),
        "--out",
        str(out),
        "--base-model-id",
        "Qwen/Qwen2-Audio-7B-Instruct",
    )
    assert "base_model: Qwen/Qwen2-Audio-7B-Instruct" in (out / "README.md").read_text()


def test_unfinished_run_is_refused_and_nothing_is_written(small_dataset, tmp_path):
    (tmp_path / "run").mkdir()
    with pytest.raises(CommandError, match="not a finished training run"):
        call_command(
            "export_release",
            "--run",
            str(tmp_path / "run"),
            "--dataset",
            str(small_dataset),
            "--out",
            str(tmp_path / "rel"),
        )
    assert not (tmp_path / "rel").exists()


def test_release_with_another_dataset_is_refused(finished_run, small_dataset, tmp_path):
    import shutil

    other = tmp_path / "other"
    shutil.copytree(small_dataset, other)
    (other / "norms.json").write_text('{"norms": {}}')
    with pytest.raises(CommandError, match="pass the dataset the run was trained on"):
        call_command(
            "export_release",
            "--run",
            str(finished_run),
            "--dataset",
            str(other),
            "--out",
            str(tmp_path / "rel"),
        )
