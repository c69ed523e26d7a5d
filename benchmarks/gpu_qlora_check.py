"""GPU check: the real Qwen2-Audio-7B-Instruct in 4-bit, 20 QLoRA steps, a batch of generations.

Prints peak GPU memory, training tokens per second and generation latency. The goal on one GPU
is 7B QLoRA with LLM-only LoRA (preset ``llm-attention`` or ``llm-all-linear``) under 24 GB.
Not part of CI: it needs a CUDA GPU and a local copy of the weights, e.g.

    huggingface-cli download Qwen/Qwen2-Audio-7B-Instruct --local-dir models/Qwen2-Audio-7B-Instruct
    .venv/bin/python benchmarks/gpu_qlora_check.py --base-model models/Qwen2-Audio-7B-Instruct \\
        --dataset DATASET [--steps 20] [--records 8] [--preset llm-all-linear]

It uses the same functions as ``train_advisor`` and ``generate_advice`` (4-bit loading,
LoRA presets, the label-masking collator, left-padded batched generation). ``--cpu-smoke`` runs
the same script on the CPU (e.g. on the tiny model, a few steps) to check the script itself;
memory is then not reported.
"""

import argparse
import itertools
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

GOAL_GB = 24.0


def main():
    import django

    django.setup()
    import torch

    from modelgen.generate import GenerateConfig, ModelAdvisor
    from modelgen.model_loading import load_base_model, load_processor
    from modelgen.train import PRESETS, LoraConfigArgs, build_peft_model, load_examples
    from modelgen.training_data import TrainingCollator, check_lengths

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-model", required=True, help="local folder of Qwen2-Audio-7B-Instruct")
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--records", type=int, default=8, help="training records cycled through")
    parser.add_argument("--batch-size", type=int, default=1)
    parser.add_argument("--generate-batch", type=int, default=4)
    parser.add_argument("--max-new-tokens", type=int, default=128)
    parser.add_argument("--preset", default="llm-all-linear", choices=sorted(PRESETS))
    parser.add_argument("--max-length", type=int, default=2048)
    parser.add_argument("--cpu-smoke", action="store_true", help="run on the CPU to check the script")
    args = parser.parse_args()
    cuda = torch.cuda.is_available()
    if not cuda and not args.cpu_smoke:
        raise SystemExit("no CUDA GPU: this check measures GPU memory and speed; run it on a GPU machine")
    device = "cuda" if cuda else "cpu"

    def peak_gb():
        return torch.cuda.max_memory_allocated() / 2**30 if cuda else float("nan")

    def sync():
        if cuda:
            torch.cuda.synchronize()

    processor = load_processor(args.base_model)
    examples = load_examples(args.dataset, "train", limit=args.records)
    check_lengths(
        processor, ((e["scenario_id"], e["messages"]) for e in examples), args.dataset, args.max_length
    )
    collate = TrainingCollator(processor, args.dataset, args.max_length)
    batches = [collate(examples[i : i + args.batch_size]) for i in range(0, len(examples), args.batch_size)]

    if cuda:
        torch.cuda.reset_peak_memory_stats()
    started = time.perf_counter()
    model, trainable, total = build_peft_model(
        load_base_model(args.base_model, load_in_4bit=True),
        LoraConfigArgs(preset=args.preset),
        quantized=True,
        gradient_checkpointing=True,
    )
    print(
        f"loaded in 4-bit + LoRA ({args.preset}) in {time.perf_counter() - started:.0f} s; "
        f"trainable {trainable:,} of {total:,}"
    )
    print(f"memory after loading     {peak_gb():6.2f} GB")

    optimiser = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    model.train()
    tokens, losses = 0, []
    sync()
    started = time.perf_counter()
    for batch in itertools.islice(itertools.cycle(batches), args.steps):
        batch = {k: v.to(device) for k, v in batch.items()}
        loss = model(**batch).loss
        loss.backward()
        optimiser.step()
        optimiser.zero_grad()
        tokens += int(batch["attention_mask"].sum())
        losses.append(loss.item())
    sync()
    seconds = time.perf_counter() - started
    peak_train = peak_gb()
    print(
        f"{args.steps} QLoRA steps        {seconds:6.1f} s, {tokens / seconds:8.0f} training tokens/s, "
        f"loss {losses[0]:.3f} -> {losses[-1]:.3f}"
    )
    print(
        f"peak memory (training)   {peak_train:6.2f} GB  (goal < {GOAL_GB:.0f} GB: "
        f"{'n/a on the CPU' if not cuda else 'met' if peak_train < GOAL_GB else 'NOT met'})"
    )

    del model, optimiser
    if cuda:
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    advisor = ModelAdvisor(
        GenerateConfig(
            system="base",
            base_model=args.base_model,
            load_in_4bit=True,
            max_new_tokens=args.max_new_tokens,
            batch_size=args.generate_batch,
        ),
        args.dataset,
    )
    chats = [e["messages"] for e in load_examples(args.dataset, "test", limit=args.generate_batch)]
    sync()
    started = time.perf_counter()
    texts = advisor.answer(chats)
    sync()
    latency = time.perf_counter() - started
    print(
        f"generation, batch {len(chats)}     {latency:6.1f} s ({latency / len(chats):.2f} s per item, "
        f"max {args.max_new_tokens} new tokens); peak {peak_gb():.2f} GB"
    )
    print(f"first answer: {texts[0][:200]!r}")


if __name__ == "__main__":
    main()
