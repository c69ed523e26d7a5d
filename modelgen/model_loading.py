"""Find and load a Qwen2-Audio checkpoint (and a LoRA adapter) without touching the network.

A base model is a local folder (the real ``Qwen/Qwen2-Audio-7B-Instruct`` downloaded once, or the
tiny model ``build_tiny_model`` writes) or a hub id already in the local Hugging Face cache.
Nothing is downloaded here: with no local copy the error says how to obtain the weights.
"""

import hashlib
from pathlib import Path

DEFAULT_BASE_MODEL = "Qwen/Qwen2-Audio-7B-Instruct"
ADAPTER_FILES = ("adapter_config.json",)
ADAPTER_WEIGHTS = ("adapter_model.safetensors", "adapter_model.bin")


class ModelNotFoundError(FileNotFoundError):
    """A base model or adapter is not available locally; the message says how to get it."""


def resolve_base_model(path_or_id):
    """Return a local folder holding the checkpoint ``path_or_id``.

    Parameters
    ----------
    path_or_id : str or pathlib.Path
        A folder with ``config.json`` (and the processor files), or a hub id such as
        ``Qwen/Qwen2-Audio-7B-Instruct`` whose snapshot is already in the local cache.

    Raises
    ------
    ModelNotFoundError
        When neither a folder nor a cached snapshot exists. The message gives the command that
        downloads the weights on a machine with network access.
    """
    text = str(path_or_id)
    path = Path(text).expanduser()
    if path.exists():
        if not (path / "config.json").is_file():
            raise ModelNotFoundError(
                f"{path} is not a model checkpoint (no config.json); pass the folder that "
                "save_pretrained wrote, e.g. the output of `python manage.py build_tiny_model`"
            )
        return path
    looks_like_path = text.startswith((".", "/", "~")) or text.count("/") != 1
    if not looks_like_path:
        cached = _cached_snapshot(text)
        if cached is not None:
            return cached
    raise ModelNotFoundError(
        f"base model {text!r} is not available on this machine and nothing is downloaded at run "
        f"time. Download it once where there is network access:\n"
        f"  huggingface-cli download {DEFAULT_BASE_MODEL if looks_like_path else text} "
        f"--local-dir models/Qwen2-Audio-7B-Instruct\n"
        f"then pass that folder, e.g. --base-model models/Qwen2-Audio-7B-Instruct. For a quick "
        f"CPU run use the tiny model: python manage.py build_tiny_model --dataset DIR --out DIR"
    )


def _cached_snapshot(repo_id):
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        folder = Path(snapshot_download(repo_id, local_files_only=True))
    except (LocalEntryNotFoundError, ValueError, OSError):
        return None
    return folder if (folder / "config.json").is_file() else None


def check_adapter(path):
    """Return ``path`` as a folder holding a saved peft adapter, or raise ``ModelNotFoundError``."""
    path = Path(path)
    if not path.is_dir():
        raise ModelNotFoundError(
            f"adapter {path} not found; pass the adapter folder of a training run "
            "(RUN/adapter, written by `python manage.py train_advisor`)"
        )
    missing = [name for name in ADAPTER_FILES if not (path / name).is_file()]
    if missing or not any((path / name).is_file() for name in ADAPTER_WEIGHTS):
        raise ModelNotFoundError(
            f"{path} is not a peft adapter folder (needs adapter_config.json and "
            f"adapter_model.safetensors); pass RUN/adapter of a finished training run"
        )
    return path


def adapter_sha256(path):
    """sha256 over the adapter's config and weights, so advice records name the exact adapter."""
    path = check_adapter(path)
    digest = hashlib.sha256()
    for name in (*ADAPTER_FILES, *ADAPTER_WEIGHTS):
        file = path / name
        if file.is_file():
            digest.update(name.encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()


def compute_dtype():
    """bf16 where the GPU supports it, else fp32 (CPU, older GPUs)."""
    import torch

    if torch.cuda.is_available() and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float32


def quantization_config(*, load_in_4bit=False, load_in_8bit=False):
    """Return a ``BitsAndBytesConfig`` (NF4, double quantisation) or ``None`` for full precision.

    The audio encoder, the projector and the output head stay unquantised; they are skipped by
    full module name (a bare ``audio_tower`` would not match).
    """
    if load_in_4bit and load_in_8bit:
        raise ValueError("choose 4-bit or 8-bit quantisation, not both")
    if not (load_in_4bit or load_in_8bit):
        return None
    from transformers import BitsAndBytesConfig

    skip = ["model.audio_tower", "model.multi_modal_projector", "lm_head"]
    if load_in_8bit:
        return BitsAndBytesConfig(load_in_8bit=True, llm_int8_skip_modules=skip)
    return BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        bnb_4bit_use_double_quant=True,
        bnb_4bit_compute_dtype=compute_dtype(),
        llm_int8_skip_modules=skip,
    )


def load_processor(path_or_id):
    """Load the ``Qwen2AudioProcessor`` of a base model (local only)."""
    from transformers import AutoProcessor

    return AutoProcessor.from_pretrained(resolve_base_model(path_or_id), local_files_only=True)


def load_base_model(path_or_id, *, load_in_4bit=False, load_in_8bit=False):
    """Load ``Qwen2AudioForConditionalGeneration`` from a local checkpoint, optionally quantised."""
    import torch
    from transformers import Qwen2AudioForConditionalGeneration

    folder = resolve_base_model(path_or_id)
    quantization = quantization_config(load_in_4bit=load_in_4bit, load_in_8bit=load_in_8bit)
    kwargs = {"local_files_only": True}
    if quantization is not None:
        kwargs["quantization_config"] = quantization
        kwargs["device_map"] = {"": _local_device()} if torch.cuda.is_available() else "cpu"
    else:
        kwargs["dtype"] = compute_dtype()
        if torch.cuda.is_available():
            kwargs["device_map"] = {"": _local_device()}
    return Qwen2AudioForConditionalGeneration.from_pretrained(folder, **kwargs)


def load_model_for_inference(base_model, *, adapter=None, load_in_4bit=False, load_in_8bit=False):
    """Return ``(model, processor)`` in eval mode, with ``adapter`` applied when given."""
    if adapter is not None:
        check_adapter(adapter)
    processor = load_processor(base_model)
    model = load_base_model(base_model, load_in_4bit=load_in_4bit, load_in_8bit=load_in_8bit)
    if adapter is not None:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, str(adapter), is_trainable=False)
    model.eval()
    return model, processor


def _local_device():
    """This process's GPU under ``accelerate launch``/``torchrun`` (``LOCAL_RANK``), else 0."""
    import os

    return int(os.environ.get("LOCAL_RANK", 0))
