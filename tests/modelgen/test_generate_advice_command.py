"""generate_advice writes valid advice records for all five systems and refuses bad input clearly."""

import pytest
from django.core.management import CommandError, call_command

from modelgen.contracts import KNOWN_SYSTEMS, load_advice
from modelgen.corrections import direction


@pytest.fixture(scope="module")
def adapter(tiny_model, tmp_path_factory):
    from modelgen.model_loading import load_base_model
    from modelgen.train import LoraConfigArgs, build_peft_model

    model, _, _ = build_peft_model(
        load_base_model(tiny_model), LoraConfigArgs(), quantized=False, gradient_checkpointing=False
    )
    folder = tmp_path_factory.mktemp("run") / "adapter"
    model.save_pretrained(folder)
    return folder


@pytest.mark.parametrize("system", KNOWN_SYSTEMS)
def test_each_system_writes_one_valid_record_per_test_scenario(
    system, small_dataset, tiny_model, adapter, tmp_path, capsys
):
    out = tmp_path / f"{system}.jsonl"
    args = ["--dataset", str(small_dataset), "--system", system, "--out", str(out), "--verbosity", "0"]
    if system in ("finetuned", "base"):
        args += ["--base-model", str(tiny_model), "--max-new-tokens", "6"]
    if system == "finetuned":
        args += ["--adapter", str(adapter)]
    call_command("generate_advice", *args)
    records = load_advice(out)
    assert [r["scenario_id"] for r in records] == ["s009", "s010", "s011"]
    assert {r["system"] for r in records} == {system}
    assert f"{system}: wrote 3 advice records" in capsys.readouterr().out


def test_ideal_advice_parses_back_to_the_true_directions(small_dataset, tmp_path):
    import json

    out = tmp_path / "ideal.jsonl"
    call_command(
        "generate_advice",
        "--dataset",
        str(small_dataset),
        "--system",
        "ideal",
        "--out",
        str(out),
        "--verbosity",
        "0",
    )
    truth = {s["id"]: s for s in json.loads((small_dataset / "manifest.json").read_text())["scenarios"]}
    for record in load_advice(out):
        scenario = truth[record["scenario_id"]]
        for stem in scenario["flawed"]:
            assert direction(record["corrections_db"].get(stem, 0)) == direction(
                scenario["corrections_db"][stem]
            )


def test_missing_base_model_says_how_to_get_the_weights(small_dataset, tmp_path):
    with pytest.raises(CommandError, match="huggingface-cli download"):
        call_command(
            "generate_advice",
            "--dataset",
            str(small_dataset),
            "--system",
            "base",
            "--base-model",
            str(tmp_path / "no-model"),
            "--out",
            str(tmp_path / "a.jsonl"),
        )


def test_finetuned_without_adapter_is_a_command_error(small_dataset, tmp_path):
    with pytest.raises(CommandError, match="needs --adapter"):
        call_command(
            "generate_advice",
            "--dataset",
            str(small_dataset),
            "--system",
            "finetuned",
            "--out",
            str(tmp_path / "a.jsonl"),
        )
