"""Fine-tuning on the tiny model: loss, label masking, LoRA/QLoRA steps, presets, save/reload, runs."""

import json

import pytest
import torch

from modelgen.model_loading import load_base_model
from modelgen.train import (
    PRESETS,
    LoraConfigArgs,
    RunFolderError,
    TrainConfig,
    adapted_modules,
    build_peft_model,
    load_examples,
    train_advisor,
)
from modelgen.training_data import (
    END_OF_TURN,
    IGNORE_INDEX,
    SequenceTooLongError,
    TrainingCollator,
    encode_example,
    sequence_length,
    split_answer,
)


@pytest.fixture(scope="module")
def train_examples(small_dataset):
    return load_examples(small_dataset, "train")


@pytest.fixture(scope="module")
def batch(tiny_processor, small_dataset, train_examples):
    return TrainingCollator(tiny_processor, small_dataset, max_length=2048)(train_examples[:2])


def _steps(model, batch, n=3, lr=1e-2):
    optimiser = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr)
    model.train()
    losses = []
    for _ in range(n):
        loss = model(**batch).loss
        loss.backward()
        optimiser.step()
        optimiser.zero_grad()
        losses.append(loss.item())
    return losses


def test_multi_clip_chat_gives_a_finite_loss(tiny_model, batch):
    model = load_base_model(tiny_model)
    assert batch["input_features"].shape[0] == 8  # two records, four clips each
    loss = model(**batch).loss
    assert torch.isfinite(loss)


def test_labels_are_masked_everywhere_except_the_answer_token_by_token(
    tiny_processor, small_dataset, train_examples
):
    messages = train_examples[0]["messages"]
    prompt, answer = split_answer(messages)
    example = encode_example(tiny_processor, messages, small_dataset)
    tokenizer = tiny_processor.tokenizer
    answer_ids = tokenizer(answer + END_OF_TURN, add_special_tokens=False)["input_ids"]
    start = len(example.input_ids) - len(answer_ids)
    for position, (token, label) in enumerate(zip(example.input_ids, example.labels)):
        if position < start:
            assert label == IGNORE_INDEX, (
                f"prompt token {position} ({tokenizer.decode([token])!r}) is not masked"
            )
        else:
            assert label == token, f"answer token {position} is masked or changed"
    assert tokenizer.decode(example.labels[start:]) == answer + END_OF_TURN
    assert tokenizer.decode(example.input_ids[:start]).endswith("<|im_start|>assistant\n")


def test_padding_is_masked_in_a_batch(batch):
    padding = batch["attention_mask"] == 0
    assert padding.any()
    assert (batch["labels"][padding] == IGNORE_INDEX).all()


def test_length_estimate_matches_the_encoded_sequence(tiny_processor, small_dataset, train_examples):
    messages = train_examples[1]["messages"]
    total, audio, clips = sequence_length(tiny_processor, messages, small_dataset)
    example = encode_example(tiny_processor, messages, small_dataset)
    audio_id = tiny_processor.audio_token_id
    assert total == len(example.input_ids)
    assert audio == example.input_ids.count(audio_id)
    assert clips == 4


def test_lora_trains_three_steps_and_the_loss_falls_on_a_repeated_batch(tiny_model, batch):
    model, trainable, total = build_peft_model(
        load_base_model(tiny_model),
        LoraConfigArgs(preset="llm-all-linear", dropout=0.0),
        quantized=False,
        gradient_checkpointing=False,
    )
    assert 0 < trainable < total
    losses = _steps(model, batch)
    assert losses[-1] < losses[0]


def test_qlora_trains_three_steps_in_four_bit_on_the_cpu(tiny_model, batch):
    base = load_base_model(tiny_model, load_in_4bit=True)
    assert type(base.model.language_model.layers[0].self_attn.q_proj).__name__ == "Linear4bit"
    assert type(base.model.audio_tower.layers[0].self_attn.q_proj).__name__ == "Linear"
    model, _, _ = build_peft_model(
        base, LoraConfigArgs(preset="llm-attention", dropout=0.0), quantized=True, gradient_checkpointing=True
    )
    losses = _steps(model, batch)
    assert losses[-1] < losses[0]


def test_saved_adapter_reloads_with_identical_logits(tiny_model, batch, tmp_path):
    from peft import PeftModel

    model, _, _ = build_peft_model(
        load_base_model(tiny_model),
        LoraConfigArgs(preset="llm-projector", dropout=0.0),
        quantized=False,
        gradient_checkpointing=False,
    )
    _steps(model, batch, n=2)
    model.eval()
    model.save_pretrained(tmp_path / "adapter")
    reloaded = PeftModel.from_pretrained(load_base_model(tiny_model), tmp_path / "adapter").eval()
    inputs = {k: v for k, v in batch.items() if k != "labels"}
    with torch.no_grad():
        before, after = model(**inputs).logits, reloaded(**inputs).logits
    assert torch.equal(before, after)
    with torch.no_grad():
        plain = load_base_model(tiny_model)(**inputs).logits
    assert not torch.equal(before, plain), "the adapter changed nothing, so the comparison proves nothing"


EXPECTED = {
    "llm-attention": {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj"},
    "llm-all-linear": {
        "self_attn.q_proj",
        "self_attn.k_proj",
        "self_attn.v_proj",
        "self_attn.o_proj",
        "mlp.gate_proj",
        "mlp.up_proj",
        "mlp.down_proj",
    },
}


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_each_preset_adapts_exactly_the_intended_modules(tiny_model, preset):
    model, _, _ = build_peft_model(
        load_base_model(tiny_model),
        LoraConfigArgs(preset=preset),
        quantized=False,
        gradient_checkpointing=False,
    )
    lora, saved = adapted_modules(model)
    layers = range(2)
    llm = EXPECTED["llm-attention" if preset == "llm-attention" else "llm-all-linear"]
    expected = {f"model.language_model.layers.{i}.{name}" for i in layers for name in llm}
    if preset == "llm-projector-encoder":
        encoder = {
            "self_attn.q_proj",
            "self_attn.k_proj",
            "self_attn.v_proj",
            "self_attn.out_proj",
            "fc1",
            "fc2",
        }
        expected |= {f"model.audio_tower.layers.{i}.{name}" for i in layers for name in encoder}
    assert set(lora) == expected
    assert saved == (["model.multi_modal_projector"] if preset.startswith("llm-projector") else [])
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert all("lora_" in n or "modules_to_save" in n for n in trainable)


def test_unknown_preset_is_refused_before_any_model_loads():
    with pytest.raises(ValueError, match="unknown preset 'everything'"):
        TrainConfig(dataset="d", out="o", lora={"preset": "everything"})


def test_four_and_eight_bit_together_is_refused_at_parse_time():
    with pytest.raises(ValueError, match="not both"):
        TrainConfig(dataset="d", out="o", qlora=True, load_in_8bit=True)


def test_clip_count_that_overflows_max_length_is_a_clear_error(tiny_model, small_dataset, tmp_path):
    config = TrainConfig(
        dataset=str(small_dataset), out=str(tmp_path / "run"), base_model=str(tiny_model), max_length=120
    )
    with pytest.raises(SequenceTooLongError, match=r"4 clips make \d+ audio tokens.*max_length is 120"):
        train_advisor(config)
    assert not (tmp_path / "run").exists()


def test_other_stem_representations_rebuild_the_prompt_from_the_manifest(small_dataset):
    examples = load_examples(small_dataset, "train", stems_as="anchor_mix")
    audio = [c for m in examples[0]["messages"] for c in m["content"] if c["type"] == "audio"]
    assert len(audio) == 2
    assert audio[1]["audio_url"].endswith("mix.wav")


@pytest.mark.slow
def test_training_run_writes_config_metrics_and_adapter_and_can_resume(tiny_model, small_dataset, tmp_path):
    out = tmp_path / "run"
    config = TrainConfig(
        dataset=str(small_dataset),
        out=str(out),
        base_model=str(tiny_model),
        max_steps=2,
        grad_accum=1,
        eval_steps=1,
        save_steps=1,
        logging_steps=1,
        learning_rate=1e-3,
    )
    metrics = train_advisor(config, progress=False)
    assert {p.name for p in out.iterdir()} >= {"config.json", "metrics.json", "adapter", "checkpoints"}
    saved = json.loads((out / "config.json").read_text())
    assert saved["settings"]["lora"]["preset"] == "llm-all-linear"
    assert len(saved["dataset_sha256"]) == 64 and "git_commit" in saved
    assert metrics["steps"] == 2 and len(metrics["train_curve"]) == 2 and metrics["valid_curve"]
    assert (out / "adapter" / "adapter_model.safetensors").is_file()
    with pytest.raises(RunFolderError, match="finished run"):
        train_advisor(config)

    (out / "metrics.json").unlink()
    with pytest.raises(RunFolderError, match="unfinished run; pass --resume"):
        train_advisor(config)
    with pytest.raises(RunFolderError, match=r"different settings .*\['learning_rate'\]"):
        train_advisor(TrainConfig(**{**config.__dict__, "learning_rate": 5e-4}), resume=True)
    resumed = train_advisor(TrainConfig(**{**config.__dict__, "max_steps": 3}), resume=True, progress=False)
    assert resumed["resumed_from"].endswith("checkpoint-2") and resumed["steps"] == 3


def test_train_command_refuses_an_unknown_preset_from_a_config_file(small_dataset, tiny_model, tmp_path):
    from django.core.management import CommandError, call_command

    config = tmp_path / "train.json"
    config.write_text(json.dumps({"lora": {"preset": "everything"}}))
    with pytest.raises(CommandError, match="unknown preset 'everything'"):
        call_command(
            "train_advisor",
            "--dataset",
            str(small_dataset),
            "--out",
            str(tmp_path / "run"),
            "--base-model",
            str(tiny_model),
            "--config",
            str(config),
        )


def test_train_command_with_a_missing_base_model_says_how_to_get_it(small_dataset, tmp_path):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="huggingface-cli download Qwen/Qwen2-Audio-7B-Instruct"):
        call_command("train_advisor", "--dataset", str(small_dataset), "--out", str(tmp_path / "run"))
    assert not (tmp_path / "run").exists()
