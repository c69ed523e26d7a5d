"""Batch generation on the tiny model and the rule-based systems: valid, resumable advice records."""

import json

import pytest

from modelgen.contracts import load_advice
from modelgen.generate import GenerateConfig, ModelAdvisor, generate_advice, measured_levels
from modelgen.model_loading import ModelNotFoundError
from modelgen.train import LoraConfigArgs, build_peft_model, load_examples


@pytest.fixture(scope="module")
def adapter(tiny_model, tmp_path_factory):
    """An untrained-but-saved LoRA adapter for the tiny model (generation only needs its files)."""
    from modelgen.model_loading import load_base_model

    model, _, _ = build_peft_model(
        load_base_model(tiny_model), LoraConfigArgs(), quantized=False, gradient_checkpointing=False
    )
    folder = tmp_path_factory.mktemp("run") / "adapter"
    model.save_pretrained(folder)
    return folder


def test_generate_returns_text_for_a_left_padded_batch(tiny_model, small_dataset):
    advisor = ModelAdvisor(
        GenerateConfig(system="base", base_model=str(tiny_model), max_new_tokens=8), small_dataset
    )
    examples = load_examples(small_dataset, "test")
    texts = advisor.answer([e["messages"] for e in examples[:2]])
    assert len(texts) == 2 and all(isinstance(t, str) for t in texts)
    assert advisor.processor.tokenizer.padding_side == "left"


def test_greedy_decoding_is_deterministic_and_independent_of_the_batch(tiny_model, small_dataset):
    advisor = ModelAdvisor(
        GenerateConfig(system="base", base_model=str(tiny_model), max_new_tokens=8), small_dataset
    )
    messages = [e["messages"] for e in load_examples(small_dataset, "test")]
    together = advisor.answer(messages[:2])
    assert advisor.answer(messages[:1]) == together[:1]
    assert advisor.answer(messages[:2]) == together


def test_finetuned_advice_records_name_the_adapter_prompt_and_decoding(
    tiny_model, small_dataset, adapter, tmp_path
):
    out = tmp_path / "finetuned.jsonl"
    config = GenerateConfig(
        system="finetuned", base_model=str(tiny_model), adapter=str(adapter), batch_size=2, max_new_tokens=8
    )
    result = generate_advice(small_dataset, out, config, progress=False)
    records = load_advice(out)
    assert result["written"] == len(records) == 3
    for record in records:
        assert record["system"] == "finetuned"
        assert len(record["generator"]["adapter_sha256"]) == 64
        assert len(record["generator"]["prompt_sha256"]) == 64
        assert record["generator"]["decoding"]["do_sample"] is False
        assert record["generator"]["seconds"] > 0


def test_generation_resumes_and_skips_scenarios_already_written(tiny_model, small_dataset, tmp_path):
    out = tmp_path / "base.jsonl"
    config = GenerateConfig(system="base", base_model=str(tiny_model), max_new_tokens=4, limit=1)
    assert generate_advice(small_dataset, out, config, progress=False)["written"] == 1
    first = out.read_text().splitlines()[0]
    rest = generate_advice(
        small_dataset,
        out,
        GenerateConfig(system="base", base_model=str(tiny_model), max_new_tokens=4),
        progress=False,
    )
    assert rest == {"written": 2, "skipped": 1, "total": 3, "seconds_per_item": rest["seconds_per_item"]}
    assert out.read_text().splitlines()[0] == first
    assert [r["scenario_id"] for r in load_advice(out)] == ["s009", "s010", "s011"]


def test_a_file_of_another_system_is_not_appended_to(small_dataset, tmp_path):
    out = tmp_path / "advice.jsonl"
    generate_advice(small_dataset, out, GenerateConfig(system="baseline", limit=1), progress=False)
    with pytest.raises(ValueError, match="holds advice from \\['baseline'\\]"):
        generate_advice(small_dataset, out, GenerateConfig(system="sham"), progress=False)


def test_baseline_reads_levels_from_the_model_input_clips(small_dataset):
    manifest = json.loads((small_dataset / "manifest.json").read_text())
    scenario = next(s for s in manifest["scenarios"] if s["flawed"])
    levels = measured_levels(small_dataset, scenario)
    loud = max(scenario["flawed"], key=lambda s: scenario["gains_db"][s])
    quiet = min(scenario["flawed"], key=lambda s: scenario["gains_db"][s])
    assert levels[loud] - levels[quiet] == pytest.approx(
        scenario["gains_db"][loud] - scenario["gains_db"][quiet], abs=1.0
    )


def test_finetuned_without_adapter_is_refused_at_parse_time():
    with pytest.raises(ValueError, match="needs --adapter"):
        GenerateConfig(system="finetuned")


def test_missing_adapter_folder_is_a_clear_error(tiny_model, small_dataset, tmp_path):
    config = GenerateConfig(system="finetuned", base_model=str(tiny_model), adapter=str(tmp_path / "none"))
    with pytest.raises(ModelNotFoundError, match="adapter .* not found"):
        generate_advice(small_dataset, tmp_path / "out.jsonl", config, progress=False)
    assert not (tmp_path / "out.jsonl").exists()


def test_a_line_torn_by_an_interrupted_run_is_dropped_and_regenerated(small_dataset, tmp_path):
    out = tmp_path / "ideal.jsonl"
    generate_advice(small_dataset, out, GenerateConfig(system="ideal"), progress=False)
    lines = out.read_text().splitlines(keepends=True)
    out.write_text(lines[0] + lines[1] + lines[2][:40])
    result = generate_advice(small_dataset, out, GenerateConfig(system="ideal"), progress=False)
    assert (result["written"], result["skipped"]) == (1, 2)
    assert [r["scenario_id"] for r in load_advice(out)] == ["s009", "s010", "s011"]
