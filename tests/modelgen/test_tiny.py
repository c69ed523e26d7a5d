"""The tiny Qwen2-Audio is a real checkpoint: processor, chat template, forward, generate."""

import json
import math

import pytest

from modelgen.tiny import SPECIAL_TOKENS, TinyModelConfig, build_tiny_model


def test_tiny_model_folder_holds_model_processor_and_chat_template(tiny_model):
    names = {path.name for path in tiny_model.iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json", "processor_config.json"} <= names
    assert (
        "chat_template.jinja" in names
        or "chat_template" in (tiny_model / "processor_config.json").read_text()
    )
    assert json.loads((tiny_model / "tiny_model.json").read_text())["chunk_length_s"] == 2


def test_tokenizer_keeps_qwen2_audio_special_tokens_whole(tiny_processor):
    tokenizer = tiny_processor.tokenizer
    for token in SPECIAL_TOKENS:
        ids = tokenizer(token, add_special_tokens=False)["input_ids"]
        assert ids == [tokenizer.convert_tokens_to_ids(token)]


def test_chat_template_numbers_each_clip_like_qwen2_audio(tiny_processor):
    messages = [
        {
            "role": "user",
            "content": [{"type": "audio", "audio_url": "a.wav"}, {"type": "audio", "audio_url": "b.wav"}],
        }
    ]
    text = tiny_processor.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    assert text == (
        "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n"
        "Audio 1: <|audio_bos|><|AUDIO|><|audio_eos|>\nAudio 2: <|audio_bos|><|AUDIO|><|audio_eos|>\n"
        "<|im_end|>\n<|im_start|>assistant\n"
    )


def test_encoder_positions_match_the_feature_window(tiny_model, tiny_processor):
    config = json.loads((tiny_model / "config.json").read_text())
    assert (
        config["audio_config"]["max_source_positions"] == tiny_processor.feature_extractor.nb_max_frames // 2
    )
    assert config["text_config"]["hidden_size"] >= 64


def test_text_warm_up_teaches_the_decoder_the_advice_language(tiny_model, tiny_processor):
    saved = json.loads((tiny_model / "tiny_model.json").read_text())
    assert saved["pretrain_loss"] < 0.8 * math.log(len(tiny_processor.tokenizer))


def test_tiny_config_refuses_a_width_bitsandbytes_cannot_quantise():
    with pytest.raises(ValueError, match="64 input features"):
        TinyModelConfig(hidden_size=32, num_attention_heads=4)


def test_building_from_a_folder_without_records_fails_and_leaves_nothing(tmp_path):
    with pytest.raises(ValueError, match="no audio clips"):
        build_tiny_model(tmp_path, tmp_path / "model")
    assert not (tmp_path / "model").exists()


def test_build_tiny_model_command_writes_a_loadable_checkpoint(small_dataset, tmp_path, capsys):
    from django.core.management import call_command

    from modelgen.model_loading import load_base_model

    config = tmp_path / "tiny.json"
    config.write_text(json.dumps({"pretrain_steps": 2, "vocab_size": 400}))
    call_command(
        "build_tiny_model",
        "--dataset",
        str(small_dataset),
        "--out",
        str(tmp_path / "tiny"),
        "--config",
        str(config),
    )
    assert "built a tiny Qwen2-Audio" in capsys.readouterr().out
    model = load_base_model(tmp_path / "tiny")
    assert model.config.model_type == "qwen2_audio"
