"""Turn chat records into model inputs: prompts, audio clips, masked labels, padded batches.

One record is a Qwen2-Audio chat (``docs/contracts/dataset-record.schema.json``): a user turn
with labelled clips and the instruction, and an assistant turn with the target advice. For
training, the prompt is rendered with the processor's chat template exactly as at generation
time (ending in ``<|im_start|>assistant\\n``) and the answer's tokens plus ``<|im_end|>`` are
appended; every label is ``-100`` except those answer tokens. Audio tokens are never
truncated: a sequence longer than ``max_length`` is an error that names the numbers.
"""

import math
from dataclasses import dataclass
from pathlib import Path

from modelgen.audio import MODEL_SAMPLE_RATE

IGNORE_INDEX = -100
END_OF_TURN = "<|im_end|>"
STEM_VARIANTS = ("stems", "anchor_mix", "stems_mix")
"""How the stems reach the model: the anchor plus each other stem as separate labelled clips
(default); the anchor plus the as-given mix; all stems plus the mix."""


class SequenceTooLongError(ValueError):
    """A record's prompt (audio tokens included) and answer do not fit in ``max_length``."""


def split_answer(messages):
    """Return ``(prompt_messages, answer_text)``; the last message must be the assistant's answer."""
    if not messages or messages[-1]["role"] != "assistant":
        raise ValueError("a training record must end with the assistant's answer")
    answer = "".join(c["text"] for c in messages[-1]["content"] if c["type"] == "text")
    if not answer.strip():
        raise ValueError("the assistant's answer is empty")
    return messages[:-1], answer


def prompt_messages(messages):
    """The messages a model sees at generation time: everything before the assistant's answer."""
    return messages[:-1] if messages and messages[-1]["role"] == "assistant" else messages


def clip_urls(messages):
    """Audio paths of the messages, in the order the chat template numbers them."""
    return [c["audio_url"] for m in messages for c in m["content"] if c["type"] == "audio"]


def load_clip(dataset_dir, url):
    """Read one clip as 16 kHz mono float32 (1-D), resampling if the file is not 16 kHz mono."""
    from modelgen.audio import load_audio, to_model_input

    audio, rate = load_audio(Path(dataset_dir) / url)
    return to_model_input(audio, rate)


def record_messages(record, *, variant="stems", scenario=None):
    """The chat of ``record`` for stem representation ``variant``.

    ``stems`` uses the record as written; the other variants rebuild the user turn from the
    scenario with ``modelgen.prompts.build_messages`` and keep the record's answer.
    """
    if variant not in STEM_VARIANTS:
        raise ValueError(f"unknown stem representation {variant!r}; choose one of {list(STEM_VARIANTS)}")
    if variant == "stems":
        return record["messages"]
    if scenario is None:
        raise ValueError(f"stem representation {variant!r} needs the scenario from manifest.json")
    from modelgen.prompts import build_messages

    answer = None
    if record["messages"][-1]["role"] == "assistant":
        answer = split_answer(record["messages"])[1]
    audio = scenario["audio"]
    if "model_mix" not in audio:
        raise ValueError(
            f"scenario {scenario['id']}: no audio.model_mix (the 16 kHz as-given mix) in the "
            f"manifest; rebuild the dataset to use stem representation {variant!r}"
        )
    return build_messages(
        anchor=scenario["anchor"],
        stems=scenario["stems"],
        clip_paths=audio["model_inputs"],
        representation=variant,
        genre=scenario.get("genre"),
        mix_path=audio["model_mix"],
        answer=answer,
    )


def audio_token_count(processor, n_samples):
    """Number of ``<|AUDIO|>`` tokens the processor makes for a clip of ``n_samples`` samples.

    Mirrors the feature extractor (clips are cut to ``n_samples`` of its window and counted in
    hops) and Qwen2-Audio's two stride-2 reductions (convolution, then average pooling).
    """
    features = processor.feature_extractor
    kept = min(n_samples, features.n_samples)
    frames = min(math.ceil(kept / features.hop_length), features.nb_max_frames)
    return (((frames - 1) // 2 + 1) - 2) // 2 + 1


def sequence_length(processor, messages, dataset_dir, *, with_answer=True):
    """Token count of ``messages`` once each clip's ``<|AUDIO|>`` is expanded, without the audio work.

    Returns ``(total, audio_tokens, n_clips)``.
    """
    from modelgen.audio import audio_info

    prompt = prompt_messages(messages)
    text = processor.apply_chat_template(prompt, tokenize=False, add_generation_prompt=True)
    tokens = len(processor.tokenizer(text, add_special_tokens=False)["input_ids"])
    urls = clip_urls(prompt)
    audio = 0
    for url in urls:
        frames, rate, _ = audio_info(Path(dataset_dir) / url)
        audio += audio_token_count(processor, math.ceil(frames * MODEL_SAMPLE_RATE / rate))
    total = tokens - len(urls) + audio
    if with_answer and messages[-1]["role"] == "assistant":
        answer = split_answer(messages)[1] + END_OF_TURN
        total += len(processor.tokenizer(answer, add_special_tokens=False)["input_ids"])
    return total, audio, len(urls)


def check_lengths(processor, examples, dataset_dir, max_length):
    """Raise ``SequenceTooLongError`` naming the first record whose tokens exceed ``max_length``.

    ``examples`` is an iterable of ``(scenario_id, messages)``. Returns the longest length.
    """
    longest = 0
    for scenario_id, messages in examples:
        total, audio, clips = sequence_length(processor, messages, dataset_dir)
        if total > max_length:
            raise SequenceTooLongError(
                f"record {scenario_id}: {clips} clips make {audio} audio tokens, {total} tokens in "
                f"all with the text and answer, but max_length is {max_length}. Audio tokens are "
                f"never truncated: raise --max-length to at least {total}, or use fewer or "
                f"shorter clips (stem representation 'anchor_mix')."
            )
        longest = max(longest, total)
    return longest


@dataclass
class EncodedExample:
    """One example ready for the model: token ids, labels and its clips' features."""

    input_ids: list
    labels: list
    input_features: object
    feature_attention_mask: object


def encode_example(processor, messages, dataset_dir, *, max_length=None):
    """Encode a full chat (prompt and answer) with labels masked except the answer."""
    prompt, answer = split_answer(messages)
    text = processor.apply_chat_template(prompt, tokenize=False, add_generation_prompt=True)
    clips = [load_clip(dataset_dir, url) for url in clip_urls(prompt)]
    encoded = processor(
        text=[text], audio=clips or None, sampling_rate=MODEL_SAMPLE_RATE, return_tensors="pt", padding=False
    )
    prompt_ids = encoded["input_ids"][0].tolist()
    answer_ids = processor.tokenizer(answer + END_OF_TURN, add_special_tokens=False)["input_ids"]
    input_ids = prompt_ids + answer_ids
    if max_length is not None and len(input_ids) > max_length:
        raise SequenceTooLongError(
            f"an example has {len(input_ids)} tokens ({len(clips)} clips) but max_length is "
            f"{max_length}; raise --max-length to at least {len(input_ids)}"
        )
    return EncodedExample(
        input_ids=input_ids,
        labels=[IGNORE_INDEX] * len(prompt_ids) + list(answer_ids),
        input_features=encoded.get("input_features"),
        feature_attention_mask=encoded.get("feature_attention_mask"),
    )


class TrainingCollator:
    """Batch encoded chats for the ``Trainer``: right padding, labels ``-100`` on padding.

    Each item is a dict with ``messages`` (and anything else, ignored). Clips of all examples
    are stacked in order, which is the order Qwen2-Audio fills its audio tokens.
    """

    def __init__(self, processor, dataset_dir, max_length):
        self.processor = processor
        self.dataset_dir = Path(dataset_dir)
        self.max_length = max_length
        self.pad_id = processor.tokenizer.pad_token_id

    def __call__(self, items):
        import torch

        examples = [
            encode_example(self.processor, item["messages"], self.dataset_dir, max_length=self.max_length)
            for item in items
        ]
        width = max(len(e.input_ids) for e in examples)
        input_ids, labels, attention = [], [], []
        for e in examples:
            pad = width - len(e.input_ids)
            input_ids.append(e.input_ids + [self.pad_id] * pad)
            labels.append(e.labels + [IGNORE_INDEX] * pad)
            attention.append([1] * len(e.input_ids) + [0] * pad)
        batch = {
            "input_ids": torch.tensor(input_ids),
            "attention_mask": torch.tensor(attention),
            "labels": torch.tensor(labels),
        }
        with_audio = [e for e in examples if e.input_features is not None]
        if with_audio:
            batch["input_features"] = torch.cat([e.input_features for e in with_audio])
            batch["feature_attention_mask"] = torch.cat([e.feature_attention_mask for e in with_audio])
        return batch


def prompt_batch(processor, messages_list, dataset_dir):
    """Left-padded generation inputs for a batch of chats (the answer, if any, is dropped).

    Returns ``(batch, prompt_texts)``.
    """
    texts, clips = [], []
    for messages in messages_list:
        prompt = prompt_messages(messages)
        texts.append(processor.apply_chat_template(prompt, tokenize=False, add_generation_prompt=True))
        clips.extend(load_clip(dataset_dir, url) for url in clip_urls(prompt))
    processor.tokenizer.padding_side = "left"
    batch = processor(
        text=texts, audio=clips or None, sampling_rate=MODEL_SAMPLE_RATE, return_tensors="pt", padding=True
    )
    return batch, texts
