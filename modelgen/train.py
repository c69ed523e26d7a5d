"""Fine-tune Qwen2-Audio on the advice dataset with LoRA or QLoRA (peft) and the ``Trainer``.

Linear: seed → data (length check) → model (optionally 4-bit) → LoRA preset → Trainer → train
(validation loss every ``eval_steps``, checkpoints every ``save_steps``) → save. The run folder
holds ``config.json`` (settings, git commit, dataset hash), ``metrics.json`` (loss curves,
validation loss, trainable parameters), ``checkpoints/`` and ``adapter/``. Because it is the
``transformers`` Trainer, ``accelerate launch manage.py train_advisor ...`` runs the same
command on several GPUs.
"""

import json
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from modelgen.training_data import STEM_VARIANTS

log = logging.getLogger(__name__)

_LLM = r"model\.language_model\.layers\.\d+\."
_LLM_ATTENTION = _LLM + r"self_attn\.(q_proj|k_proj|v_proj|o_proj)"
_LLM_LINEAR = _LLM + r"(self_attn\.(q_proj|k_proj|v_proj|o_proj)|mlp\.(gate_proj|up_proj|down_proj))"
_ENCODER_LINEAR = r"model\.audio_tower\.layers\.\d+\.(self_attn\.(q_proj|k_proj|v_proj|out_proj)|fc1|fc2)"


@dataclass(frozen=True)
class Preset:
    """Which modules a LoRA run adapts, by full module name."""

    target_modules: str
    modules_to_save: tuple = ()
    description: str = ""


PRESETS = {
    "llm-attention": Preset(_LLM_ATTENTION, (), "language-model attention projections only"),
    "llm-all-linear": Preset(_LLM_LINEAR, (), "every linear layer of the language model"),
    "llm-projector": Preset(
        _LLM_LINEAR, ("multi_modal_projector",), "language model (all linear) + trainable projector"
    ),
    "llm-projector-encoder": Preset(
        f"({_LLM_LINEAR})|({_ENCODER_LINEAR})",
        ("multi_modal_projector",),
        "language model + projector + LoRA on the audio encoder",
    ),
}


def _check_preset(name):
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {sorted(PRESETS)}")


@dataclass
class LoraConfigArgs:
    """LoRA settings; ``preset`` chooses the adapted modules (see ``PRESETS``)."""

    preset: str = "llm-all-linear"
    r: int = 16
    alpha: int = 32
    dropout: float = 0.05

    def __post_init__(self):
        _check_preset(self.preset)
        if self.r < 1:
            raise ValueError(f"LoRA rank r must be at least 1, not {self.r}")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"LoRA dropout must be in [0, 1), not {self.dropout}")

    def peft_config(self):
        from peft import LoraConfig

        preset = PRESETS[self.preset]
        return LoraConfig(
            r=self.r,
            lora_alpha=self.alpha,
            lora_dropout=self.dropout,
            target_modules=preset.target_modules,
            modules_to_save=list(preset.modules_to_save) or None,
            bias="none",
        )


@dataclass
class TrainConfig:
    """Everything a training run depends on; saved as ``config.json`` in the run folder."""

    dataset: str = ""
    out: str = ""
    base_model: str = "Qwen/Qwen2-Audio-7B-Instruct"
    qlora: bool = False
    """Load the language model in 4-bit NF4 with double quantisation (QLoRA)."""
    load_in_8bit: bool = False
    stems_as: str = "stems"
    """Stem representation: stems (default), anchor_mix or stems_mix."""
    lora: LoraConfigArgs = field(default_factory=LoraConfigArgs)
    max_steps: int = -1
    """Optimiser steps; -1 = ``epochs`` passes over the training split."""
    epochs: float = 3.0
    learning_rate: float = 2e-4
    batch_size: int = 1
    grad_accum: int = 8
    max_length: int = 2048
    eval_steps: int = 50
    save_steps: int = 50
    logging_steps: int = 5
    warmup_ratio: float = 0.03
    gradient_checkpointing: bool = True
    max_train_records: int | None = None
    """Use only the first N training records (smoke tests)."""
    seed: int = 0

    def __post_init__(self):
        if isinstance(self.lora, dict):
            self.lora = LoraConfigArgs(**self.lora)
        if self.qlora and self.load_in_8bit:
            raise ValueError("choose 4-bit (--qlora) or 8-bit loading, not both")
        if self.stems_as not in STEM_VARIANTS:
            raise ValueError(
                f"unknown stem representation {self.stems_as!r}; choose one of {list(STEM_VARIANTS)}"
            )
        for name in ("batch_size", "grad_accum", "max_length", "eval_steps", "save_steps", "logging_steps"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, not {getattr(self, name)}")
        if self.max_steps == 0 or self.max_steps < -1:
            raise ValueError("max_steps must be positive, or -1 to train for `epochs`")
        if self.learning_rate <= 0:
            raise ValueError("learning_rate must be positive")
        if not self.dataset or not self.out:
            raise ValueError("a training run needs a dataset folder and an output folder")


class RunFolderError(ValueError):
    """The output folder holds another run (or an unfinished one without --resume)."""


class _Records:
    """Map-style dataset over prepared chat examples (the collator encodes them)."""

    def __init__(self, examples):
        self.examples = examples

    def __len__(self):
        return len(self.examples)

    def __getitem__(self, index):
        return self.examples[index]


def load_examples(dataset_dir, split, *, stems_as="stems", limit=None):
    """``[{"scenario_id", "messages"}]`` of one split in the chosen stem representation."""
    from modelgen.contracts import load_dataset_records, load_manifest
    from modelgen.training_data import record_messages

    dataset_dir = Path(dataset_dir)
    records = load_dataset_records(dataset_dir / f"{split}.jsonl")
    if limit is not None:
        records = records[:limit]
    scenarios = {}
    if stems_as != "stems":
        scenarios = {s["id"]: s for s in load_manifest(dataset_dir)["scenarios"]}
    return [
        {
            "scenario_id": r["scenario_id"],
            "messages": record_messages(r, variant=stems_as, scenario=scenarios.get(r["scenario_id"])),
        }
        for r in records
    ]


def build_peft_model(model, lora, *, quantized, gradient_checkpointing):
    """Wrap ``model`` with LoRA per ``lora.preset``; return ``(peft_model, trainable, total)``."""
    from peft import get_peft_model, prepare_model_for_kbit_training

    model.config.use_cache = False
    if quantized:
        model = prepare_model_for_kbit_training(
            model,
            use_gradient_checkpointing=gradient_checkpointing,
            gradient_checkpointing_kwargs={"use_reentrant": False},
        )
    peft_model = get_peft_model(model, lora.peft_config())
    trainable, total = peft_model.get_nb_trainable_parameters()
    return peft_model, trainable, total


def adapted_modules(peft_model):
    """Full names (without peft's prefix) of the modules carrying LoRA weights, and saved whole."""
    prefix = "base_model.model."
    lora, saved = [], []
    for name, module in peft_model.named_modules():
        short = name.removeprefix(prefix)
        if hasattr(module, "lora_A") and len(getattr(module, "lora_A", {})) > 0:
            lora.append(short)
        if type(module).__name__ == "ModulesToSaveWrapper":
            saved.append(short)
    return sorted(lora), sorted(saved)


def _prepare_run_folder(config, out, resume):
    from modelgen.config_files import config_to_dict
    from modelgen.provenance import git_commit
    from modelgen.run_folder import dataset_hash, write_json

    settings = config_to_dict(config)
    digest = dataset_hash(config.dataset)
    saved_config = out / "config.json"
    if out.exists() and any(out.iterdir()):
        if (out / "metrics.json").is_file():
            raise RunFolderError(f"{out} already holds a finished run; choose another --out")
        if not resume:
            raise RunFolderError(
                f"{out} holds an unfinished run; pass --resume to continue it or choose another --out"
            )
        previous = json.loads(saved_config.read_text()) if saved_config.is_file() else {}
        ignored = {"max_steps", "eval_steps", "save_steps", "logging_steps"}
        before = previous.get("settings", {})
        changed = sorted(k for k in settings if k not in ignored and before.get(k) != settings[k])
        if previous.get("dataset_sha256") not in (None, digest):
            changed.append("dataset contents (sha256)")
        if changed:
            raise RunFolderError(f"--resume with different settings than {saved_config}: {changed}")
    out.mkdir(parents=True, exist_ok=True)
    provenance = {
        "settings": settings,
        "git_commit": git_commit(),
        "dataset_sha256": digest,
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    write_json(saved_config, provenance)
    return provenance


def _latest_checkpoint(folder):
    checkpoints = sorted(folder.glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[-1]))
    return str(checkpoints[-1]) if checkpoints else None


def _curves(log_history):
    train = [
        {"step": e["step"], "loss": e["loss"], "learning_rate": e.get("learning_rate")}
        for e in log_history
        if "loss" in e
    ]
    valid = [{"step": e["step"], "loss": e["eval_loss"]} for e in log_history if "eval_loss" in e]
    return train, valid


def train_advisor(config, *, resume=False, progress=True):
    """Run one fine-tuning job as ``config`` says; return the metrics written to ``metrics.json``.

    Raises
    ------
    ModelNotFoundError
        The base model is not available locally (the message says how to get it).
    SequenceTooLongError
        A record's audio and text do not fit in ``config.max_length``.
    RunFolderError
        ``config.out`` already holds a finished run, or an unfinished one without ``resume``.
    """
    import torch
    from accelerate import PartialState
    from transformers import Trainer, TrainingArguments, set_seed

    from modelgen.model_loading import compute_dtype, load_base_model, load_processor
    from modelgen.run_folder import replace_folder, write_json
    from modelgen.training_data import TrainingCollator, check_lengths

    out = Path(config.out)
    set_seed(config.seed)
    processor = load_processor(config.base_model)
    train = load_examples(config.dataset, "train", stems_as=config.stems_as, limit=config.max_train_records)
    valid = load_examples(config.dataset, "valid", stems_as=config.stems_as)
    if not train:
        raise ValueError(f"{config.dataset}/train.jsonl has no records")
    longest = check_lengths(
        processor,
        ((e["scenario_id"], e["messages"]) for e in train + valid),
        config.dataset,
        config.max_length,
    )
    # Under `accelerate launch` only the main process checks and writes the run folder.
    state = PartialState()
    provenance = _prepare_run_folder(config, out, resume) if state.is_main_process else {}
    state.wait_for_everyone()

    model = load_base_model(config.base_model, load_in_4bit=config.qlora, load_in_8bit=config.load_in_8bit)
    model, trainable, total = build_peft_model(
        model,
        config.lora,
        quantized=config.qlora or config.load_in_8bit,
        gradient_checkpointing=config.gradient_checkpointing,
    )
    log.info("trainable parameters: %s of %s (%.3f%%)", trainable, total, 100 * trainable / total)

    bf16 = compute_dtype() == torch.bfloat16
    arguments = TrainingArguments(
        output_dir=str(out / "checkpoints"),
        max_steps=config.max_steps,
        num_train_epochs=config.epochs,
        per_device_train_batch_size=config.batch_size,
        per_device_eval_batch_size=config.batch_size,
        gradient_accumulation_steps=config.grad_accum,
        learning_rate=config.learning_rate,
        warmup_steps=config.warmup_ratio,
        logging_steps=config.logging_steps,
        eval_strategy="steps" if valid else "no",
        eval_steps=config.eval_steps,
        save_strategy="steps",
        save_steps=config.save_steps,
        save_total_limit=2,
        activation_checkpointing=config.gradient_checkpointing,
        activation_checkpointing_kwargs={"use_reentrant": False},
        bf16=bf16,
        dataloader_pin_memory=torch.cuda.is_available(),
        remove_unused_columns=False,
        label_names=["labels"],
        prediction_loss_only=True,
        report_to=[],
        seed=config.seed,
        dataloader_num_workers=0,
        disable_tqdm=not progress,
    )
    trainer = Trainer(
        model=model,
        args=arguments,
        train_dataset=_Records(train),
        eval_dataset=_Records(valid) if valid else None,
        data_collator=TrainingCollator(processor, config.dataset, config.max_length),
    )
    started = time.monotonic()
    checkpoint = _latest_checkpoint(out / "checkpoints") if resume else None
    result = trainer.train(resume_from_checkpoint=checkpoint)
    final_eval = trainer.evaluate() if valid else {}
    seconds = time.monotonic() - started

    if trainer.is_world_process_zero():
        replace_folder(out / "adapter", lambda folder: model.save_pretrained(folder))
        train_curve, valid_curve = _curves(trainer.state.log_history)
        lora_modules, saved_modules = adapted_modules(model)
        metrics = {
            "train_loss": result.training_loss,
            "valid_loss": final_eval.get("eval_loss"),
            "train_curve": train_curve,
            "valid_curve": valid_curve,
            "steps": trainer.state.global_step,
            "seconds": round(seconds, 2),
            "train_records": len(train),
            "valid_records": len(valid),
            "longest_sequence": longest,
            "trainable_parameters": trainable,
            "total_parameters": total,
            "lora_modules": len(lora_modules),
            "modules_to_save": saved_modules,
            "resumed_from": checkpoint,
            "world_size": int(os.environ.get("WORLD_SIZE", 1)),
            "git_commit": provenance["git_commit"],
            "dataset_sha256": provenance["dataset_sha256"],
        }
        write_json(out / "metrics.json", metrics)
        return metrics
    return {}
