"""Base models and adapters are found locally or refused with instructions; nothing is downloaded."""

import pytest

from modelgen.model_loading import (
    ModelNotFoundError,
    adapter_sha256,
    check_adapter,
    quantization_config,
    resolve_base_model,
)


def test_missing_hub_model_error_says_how_to_download_it():
    with pytest.raises(ModelNotFoundError, match="huggingface-cli download Qwen/Qwen2-Audio-7B-Instruct"):
        resolve_base_model("Qwen/Qwen2-Audio-7B-Instruct")


def test_missing_local_folder_error_names_the_download_command(tmp_path):
    with pytest.raises(ModelNotFoundError, match="--local-dir"):
        resolve_base_model(tmp_path / "nowhere")


def test_folder_without_config_is_not_a_checkpoint(tmp_path):
    with pytest.raises(ModelNotFoundError, match="no config.json"):
        resolve_base_model(tmp_path)


def test_local_checkpoint_resolves_to_its_folder(tiny_model):
    assert resolve_base_model(str(tiny_model)) == tiny_model


def test_missing_adapter_is_refused_with_a_hint(tmp_path):
    with pytest.raises(ModelNotFoundError, match="RUN/adapter"):
        check_adapter(tmp_path / "adapter")


def test_folder_without_adapter_weights_is_refused(tmp_path):
    (tmp_path / "adapter_config.json").write_text("{}")
    with pytest.raises(ModelNotFoundError, match="not a peft adapter"):
        check_adapter(tmp_path)


def test_adapter_hash_changes_with_its_weights(tmp_path):
    (tmp_path / "adapter_config.json").write_text("{}")
    (tmp_path / "adapter_model.safetensors").write_bytes(b"a")
    first = adapter_sha256(tmp_path)
    (tmp_path / "adapter_model.safetensors").write_bytes(b"b")
    assert adapter_sha256(tmp_path) != first


def test_four_and_eight_bit_together_is_refused():
    with pytest.raises(ValueError, match="not both"):
        quantization_config(load_in_4bit=True, load_in_8bit=True)


def test_four_bit_config_is_nf4_with_double_quantisation_and_skips_the_encoder_by_full_name():
    config = quantization_config(load_in_4bit=True)
    assert config.bnb_4bit_quant_type == "nf4"
    assert config.bnb_4bit_use_double_quant
    assert "model.audio_tower" in config.llm_int8_skip_modules
