"""Tiny Qwen2-Audio on the CPU: training steps per second (LoRA, QLoRA) and generation latency.

Catches regressions in the training and generation code paths; the figures depend on the
machine, the ratios less so. Uses the same functions as ``train_advisor`` and
``generate_advice`` (collator, LoRA presets, left-padded batched generation).

    .venv/bin/python benchmarks/tiny_model.py --dataset DATASET [--tiny TINY_MODEL]

``--tiny`` defaults to a tiny model built from the dataset into a temporary folder.
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def _train_rate(model, batch, steps):
    import torch

    optimiser = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    model.train()
    model(**batch).loss.backward()  # warm-up step, not timed
    optimiser.zero_grad()
    started = time.perf_counter()
    for _ in range(steps):
        model(**batch).loss.backward()
        optimiser.step()
        optimiser.zero_grad()
    return steps / (time.perf_counter() - started)


def main():
    import django

    django.setup()
    import torch

    from modelgen.generate import GenerateConfig, ModelAdvisor
    from modelgen.model_loading import load_base_model, load_processor
    from modelgen.tiny import build_tiny_model
    from modelgen.train import LoraConfigArgs, build_peft_model, load_examples
    from modelgen.training_data import TrainingCollator

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", required=True, help="a dataset folder (build_dataset output)")
    parser.add_argument("--tiny", help="a tiny model folder (default: build one)")
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=2)
    args = parser.parse_args()

    torch.manual_seed(0)
    tiny = Path(args.tiny) if args.tiny else Path(tempfile.mkdtemp()) / "tiny"
    if not args.tiny:
        started = time.perf_counter()
        build_tiny_model(args.dataset, tiny)
        print(f"build tiny model            {time.perf_counter() - started:8.2f} s")
    processor = load_processor(tiny)
    examples = load_examples(args.dataset, "train")[: args.batch_size]
    batch = TrainingCollator(processor, args.dataset, max_length=32768)(examples)
    tokens = int(batch["attention_mask"].sum())
    print(f"batch: {len(examples)} records, {tokens} tokens, {batch['input_features'].shape[0]} clips")

    started = time.perf_counter()
    TrainingCollator(processor, args.dataset, max_length=32768)(examples)
    collate = time.perf_counter() - started
    print(f"collate (features + tokens) {collate:8.3f} s per batch")

    lora, _, _ = build_peft_model(
        load_base_model(tiny),
        LoraConfigArgs(preset="llm-all-linear"),
        quantized=False,
        gradient_checkpointing=False,
    )
    lora_rate = _train_rate(lora, batch, args.steps)
    print(f"LoRA train                  {lora_rate:8.3f} steps/s  ({lora_rate * tokens:8.0f} tokens/s)")
    qlora, _, _ = build_peft_model(
        load_base_model(tiny, load_in_4bit=True),
        LoraConfigArgs(preset="llm-all-linear"),
        quantized=True,
        gradient_checkpointing=True,
    )
    qlora_rate = _train_rate(qlora, batch, args.steps)
    print(f"QLoRA train (4-bit, ckpt)   {qlora_rate:8.3f} steps/s  ({qlora_rate * tokens:8.0f} tokens/s)")

    messages = [e["messages"] for e in load_examples(args.dataset, "test")]
    latency = {}
    for size in (1, 4):
        advisor = ModelAdvisor(
            GenerateConfig(system="base", base_model=str(tiny), max_new_tokens=32, batch_size=size),
            args.dataset,
        )
        advisor.answer(messages[:size])  # warm-up
        started = time.perf_counter()
        advisor.answer(messages[:size])
        latency[size] = (time.perf_counter() - started) / size
        print(f"generate, batch {size}          {latency[size]:8.3f} s per item (32 new tokens)")
    print(f"ratio QLoRA / LoRA step time      {lora_rate / qlora_rate:6.2f}x")
    print(f"ratio batch-4 / batch-1 per item  {latency[4] / latency[1]:6.2f}x")


if __name__ == "__main__":
    main()
