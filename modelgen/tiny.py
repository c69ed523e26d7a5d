"""Build a tiny, randomly initialised Qwen2-Audio that runs every code path on a CPU in seconds.

It is saved exactly like a real checkpoint (``save_pretrained`` of the model and of a
``Qwen2AudioProcessor``), so training, QLoRA, save/reload and generation use the same code as
the 7B model. Its parts:

- a byte-level BPE tokenizer trained with ``tokenizers`` on the dataset's own text, with
  Qwen2-Audio's special tokens (``<|im_start|>``, ``<|im_end|>``, ``<|audio_bos|>``,
  ``<|AUDIO|>``, ``<|audio_eos|>``) and a chat template written in the spirit of Qwen2-Audio's;
- ``WhisperFeatureExtractor(feature_size=128)``; its window (``chunk_length``) is the longest
  model-input clip of the dataset rounded up to whole seconds (Qwen2-Audio uses 30 s), which keeps
  the encoder small; ``max_source_positions = nb_max_frames // 2`` as the encoder requires;
- a two-layer Whisper-style encoder and a two-layer Qwen2 decoder with ``hidden_size`` 64 (the
  smallest width bitsandbytes quantises: 4-bit layers need at least 64 input features);
- a short text-only warm-up (``pretrain_steps``) of the decoder on the training split's answers,
  so that, like a real base model, it already writes the language of the advice before it is
  fine-tuned. It never hears audio there: the audio encoder and projector stay random, and
  linking the words to the sound is left to fine-tuning. Valid and test answers are not used.

The model knows no acoustics until fine-tuned; its advice is only as good as a few CPU minutes
allow.
"""

import json
import math
from dataclasses import asdict, dataclass, fields
from pathlib import Path

SPECIAL_TOKENS = (
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|audio_bos|>",
    "<|AUDIO|>",
    "<|audio_eos|>",
)
PAD_TOKEN, EOS_TOKEN, AUDIO_TOKEN = "<|endoftext|>", "<|im_end|>", "<|AUDIO|>"
SPLITS = ("train", "valid", "test")

# Same structure as Qwen2-Audio-Instruct's template: a default system turn, "Audio k:" before
# each clip's <|audio_bos|><|AUDIO|><|audio_eos|>, <|im_start|>role ... <|im_end|> per turn.
CHAT_TEMPLATE = (
    "{% set audio_count = namespace(value=0) %}"
    "{% for message in messages %}"
    "{% if loop.first and message['role'] != 'system' %}"
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
    "{% endif %}"
    "<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}"
    "{{ message['content'] }}<|im_end|>\n"
    "{% else %}"
    "{% for content in message['content'] %}"
    "{% if content['type'] == 'audio' or 'audio_url' in content %}"
    "{% set audio_count.value = audio_count.value + 1 %}"
    "Audio {{ audio_count.value }}: <|audio_bos|><|AUDIO|><|audio_eos|>\n"
    "{% elif 'text' in content %}"
    "{{ content['text'] }}"
    "{% endif %}"
    "{% endfor %}"
    "<|im_end|>\n"
    "{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}"
    "<|im_start|>assistant\n"
    "{% endif %}"
)


@dataclass(frozen=True)
class TinyModelConfig:
    """Sizes of the tiny model; defaults build in seconds and train in minutes on two cores."""

    vocab_size: int = 600
    hidden_size: int = 64
    intermediate_size: int = 128
    num_hidden_layers: int = 2
    num_attention_heads: int = 4
    num_key_value_heads: int = 2
    audio_d_model: int = 32
    audio_layers: int = 2
    audio_heads: int = 2
    audio_ffn_dim: int = 64
    chunk_length_s: int | None = None
    """Feature-extractor window in seconds; None = the dataset's longest clip, rounded up."""
    pretrain_steps: int = 200
    """Text-only warm-up steps of the decoder on the training answers (0: purely random weights)."""
    pretrain_batch_size: int = 16
    pretrain_learning_rate: float = 5e-3
    seed: int = 0

    def __post_init__(self):
        if self.hidden_size < 64:
            raise ValueError(
                f"hidden_size {self.hidden_size} is below 64: bitsandbytes cannot quantise "
                "layers with fewer than 64 input features, so QLoRA would not run"
            )
        if self.hidden_size % self.num_attention_heads:
            raise ValueError("hidden_size must be a multiple of num_attention_heads")
        if self.num_attention_heads % self.num_key_value_heads:
            raise ValueError("num_attention_heads must be a multiple of num_key_value_heads")
        if self.audio_d_model % self.audio_heads:
            raise ValueError("audio_d_model must be a multiple of audio_heads")
        if self.chunk_length_s is not None and not 1 <= self.chunk_length_s <= 30:
            raise ValueError("chunk_length_s must be between 1 and 30 seconds")
        if self.pretrain_steps < 0 or self.pretrain_batch_size < 1 or self.pretrain_learning_rate <= 0:
            raise ValueError("pretrain_steps must be >= 0, batch size >= 1 and learning rate > 0")

    @classmethod
    def from_dict(cls, values):
        known = {field.name for field in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown tiny-model settings {unknown}; known: {sorted(known)}")
        return cls(**values)


def dataset_texts(dataset_dir, splits=SPLITS):
    """Yield every text of every chat record of ``splits`` of a dataset folder."""
    from modelgen.contracts import iter_jsonl

    dataset_dir = Path(dataset_dir)
    for split in splits:
        path = dataset_dir / f"{split}.jsonl"
        if not path.is_file():
            continue
        for record in iter_jsonl("dataset_record", path):
            for message in record["messages"]:
                yield message["role"]
                for content in message["content"]:
                    if content["type"] == "text":
                        yield content["text"]


def longest_clip_seconds(dataset_dir):
    """Length in seconds of the longest model-input clip referenced by the dataset's records."""
    from modelgen.audio import audio_info
    from modelgen.contracts import iter_jsonl

    dataset_dir = Path(dataset_dir)
    longest = 0.0
    for split in SPLITS:
        path = dataset_dir / f"{split}.jsonl"
        if not path.is_file():
            continue
        for record in iter_jsonl("dataset_record", path):
            for message in record["messages"]:
                for content in message["content"]:
                    if content["type"] == "audio":
                        frames, rate, _ = audio_info(dataset_dir / content["audio_url"])
                        longest = max(longest, frames / rate)
    if longest == 0:
        raise ValueError(f"{dataset_dir}: no audio clips found in train/valid/test.jsonl")
    return longest


def train_tokenizer(texts, vocab_size):
    """Train a byte-level BPE tokenizer with Qwen2-Audio's special tokens; return a fast tokenizer."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        eos_token=EOS_TOKEN,
        pad_token=PAD_TOKEN,
        additional_special_tokens=list(SPECIAL_TOKENS[1:]),
        padding_side="left",
        model_max_length=32768,
    )


def build_tiny_model(dataset_dir, out_dir, config=None):
    """Build the tiny Qwen2-Audio for ``dataset_dir`` and save it to ``out_dir``.

    Parameters
    ----------
    dataset_dir : path
        A dataset folder (``train/valid/test.jsonl`` and the clips they reference).
    out_dir : path
        Where the checkpoint goes; written to a temporary folder and renamed at the end.
    config : TinyModelConfig, optional

    Returns
    -------
    dict
        ``path``, ``parameters``, ``vocab_size`` and ``chunk_length_s``.
    """
    import torch
    from transformers import (
        GenerationConfig,
        Qwen2AudioConfig,
        Qwen2AudioEncoderConfig,
        Qwen2AudioForConditionalGeneration,
        Qwen2AudioProcessor,
        Qwen2Config,
        WhisperFeatureExtractor,
    )

    from modelgen.run_folder import replace_folder

    config = config or TinyModelConfig()
    dataset_dir, out_dir = Path(dataset_dir), Path(out_dir)
    chunk = config.chunk_length_s or min(30, math.ceil(longest_clip_seconds(dataset_dir)))
    tokenizer = train_tokenizer(_with_vocabulary_hints(dataset_texts(dataset_dir)), config.vocab_size)
    features = WhisperFeatureExtractor(feature_size=128, chunk_length=chunk)
    processor = Qwen2AudioProcessor(
        feature_extractor=features, tokenizer=tokenizer, chat_template=CHAT_TEMPLATE
    )
    audio_config = Qwen2AudioEncoderConfig(
        num_mel_bins=128,
        encoder_layers=config.audio_layers,
        encoder_attention_heads=config.audio_heads,
        encoder_ffn_dim=config.audio_ffn_dim,
        d_model=config.audio_d_model,
        max_source_positions=features.nb_max_frames // 2,
    )
    text_config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=config.hidden_size,
        intermediate_size=config.intermediate_size,
        num_hidden_layers=config.num_hidden_layers,
        num_attention_heads=config.num_attention_heads,
        num_key_value_heads=config.num_key_value_heads,
        max_position_embeddings=8192,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        bos_token_id=None,
        tie_word_embeddings=False,
    )
    model_config = Qwen2AudioConfig(
        audio_config=audio_config,
        text_config=text_config,
        audio_token_index=tokenizer.convert_tokens_to_ids(AUDIO_TOKEN),
    )
    torch.manual_seed(config.seed)
    model = Qwen2AudioForConditionalGeneration(model_config)
    warmup_loss = pretrain_text(model, processor, dataset_dir, config)
    model.generation_config = GenerationConfig(
        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id, do_sample=False
    )

    def write(folder):
        model.save_pretrained(folder)
        processor.save_pretrained(folder)
        (folder / "tiny_model.json").write_text(
            json.dumps(
                {"tiny_model": asdict(config), "chunk_length_s": chunk, "pretrain_loss": warmup_loss},
                indent=1,
            )
        )

    replace_folder(out_dir, write)
    return {
        "path": out_dir,
        "parameters": sum(p.numel() for p in model.parameters()),
        "vocab_size": len(tokenizer),
        "chunk_length_s": chunk,
        "pretrain_loss": warmup_loss,
    }


def training_answers(dataset_dir):
    """The training split's answers as assistant turns (``<|im_start|>assistant ... <|im_end|>``)."""
    from modelgen.contracts import iter_jsonl

    path = Path(dataset_dir) / "train.jsonl"
    if not path.is_file():
        return []
    answers = []
    for record in iter_jsonl("dataset_record", path):
        for message in record["messages"]:
            if message["role"] == "assistant":
                text = "".join(c["text"] for c in message["content"] if c["type"] == "text")
                answers.append(f"<|im_start|>assistant\n{text}<|im_end|>")
    return answers


def pretrain_text(model, processor, dataset_dir, config):
    """Warm up the decoder (next-token loss on the training answers); return the last loss.

    Returns None when there is nothing to train on or ``config.pretrain_steps`` is 0.
    """
    import torch

    chats = training_answers(dataset_dir)
    if not chats or config.pretrain_steps == 0:
        return None
    tokenizer = processor.tokenizer
    tokenizer.padding_side = "right"
    generator = torch.Generator().manual_seed(config.seed)
    parameters = [
        p for n, p in model.named_parameters() if not n.startswith(("model.audio_tower", "model.multi"))
    ]
    optimiser = torch.optim.AdamW(parameters, lr=config.pretrain_learning_rate)
    model.train()
    loss = None
    for _ in range(config.pretrain_steps):
        picks = torch.randint(len(chats), (config.pretrain_batch_size,), generator=generator).tolist()
        batch = tokenizer(
            [chats[i] for i in picks], return_tensors="pt", padding=True, add_special_tokens=False
        )
        labels = batch["input_ids"].masked_fill(batch["attention_mask"] == 0, -100)
        loss = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], labels=labels).loss
        loss.backward()
        optimiser.step()
        optimiser.zero_grad()
    tokenizer.padding_side = "left"
    model.eval()
    return round(loss.item(), 4)


def _with_vocabulary_hints(texts):
    """The dataset's text plus the chat template's own words and every digit and sign."""
    yield from texts
    yield "system user assistant Audio You are a helpful assistant."
    yield "0 1 2 3 4 5 6 7 8 9 + - . , : dB"
