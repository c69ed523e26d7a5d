"""Fine-tune Qwen2-Audio on a dataset with LoRA or QLoRA; writes a run folder."""

import logging

from django.core.management.base import BaseCommand, CommandError

from modelgen.config_files import load_config
from modelgen.contracts import ContractError
from modelgen.model_loading import DEFAULT_BASE_MODEL, ModelNotFoundError
from modelgen.train import PRESETS, TrainConfig, train_advisor
from modelgen.training_data import STEM_VARIANTS


class Command(BaseCommand):
    help = (
        "Fine-tune Qwen2-Audio with LoRA (or QLoRA: --qlora) on DATASET/train.jsonl, validating on "
        "valid.jsonl; writes config.json, metrics.json, checkpoints/ and adapter/ to --out. "
        "Runs unchanged under `accelerate launch manage.py train_advisor ...`."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dataset", help="dataset folder")
        parser.add_argument("--out", help="run folder (new, or an unfinished run with --resume)")
        parser.add_argument(
            "--base-model", help=f"local checkpoint folder or cached hub id (default {DEFAULT_BASE_MODEL})"
        )
        parser.add_argument("--config", help="JSON file of TrainConfig settings; flags override it")
        parser.add_argument("--qlora", action="store_true", default=None, help="4-bit NF4 base model (QLoRA)")
        parser.add_argument("--load-in-8bit", action="store_true", default=None, help="8-bit base model")
        parser.add_argument("--preset", choices=sorted(PRESETS), help="which modules get LoRA")
        parser.add_argument("--stems-as", choices=STEM_VARIANTS, help="stem representation (default stems)")
        parser.add_argument("--max-steps", type=int, help="optimiser steps (default: --epochs passes)")
        parser.add_argument("--epochs", type=float)
        parser.add_argument("--learning-rate", type=float)
        parser.add_argument("--batch-size", type=int)
        parser.add_argument("--grad-accum", type=int, help="gradient accumulation steps")
        parser.add_argument("--max-length", type=int, help="token limit; audio tokens are never truncated")
        parser.add_argument("--lora-r", type=int, help="LoRA rank")
        parser.add_argument("--eval-steps", type=int)
        parser.add_argument("--save-steps", type=int)
        parser.add_argument("--seed", type=int)
        parser.add_argument(
            "--resume", action="store_true", help="continue from the last checkpoint in --out"
        )

    def handle(self, *args, **options):
        overrides = {
            "dataset": options["dataset"],
            "out": options["out"],
            "base_model": options["base_model"],
            "qlora": options["qlora"],
            "load_in_8bit": options["load_in_8bit"],
            "lora.preset": options["preset"],
            "lora.r": options["lora_r"],
            "stems_as": options["stems_as"],
            "max_steps": options["max_steps"],
            "epochs": options["epochs"],
            "learning_rate": options["learning_rate"],
            "batch_size": options["batch_size"],
            "grad_accum": options["grad_accum"],
            "max_length": options["max_length"],
            "eval_steps": options["eval_steps"],
            "save_steps": options["save_steps"],
            "seed": options["seed"],
        }
        if options["verbosity"] > 0:
            logging.getLogger("modelgen").setLevel(logging.INFO)
        try:
            config = load_config(TrainConfig, options["config"], overrides)
            metrics = train_advisor(config, resume=options["resume"], progress=options["verbosity"] > 0)
        except (ValueError, ContractError, ModelNotFoundError) as error:
            raise CommandError(str(error)) from None
        if not metrics:
            return
        valid = metrics["valid_loss"]
        self.stdout.write(
            f"trained {metrics['trainable_parameters']:,} of {metrics['total_parameters']:,} parameters "
            f"({config.lora.preset}, {'QLoRA' if config.qlora else 'LoRA'}) for {metrics['steps']} steps "
            f"in {metrics['seconds']:.0f} s: train loss {metrics['train_loss']:.3f}, valid loss "
            f"{'n/a' if valid is None else f'{valid:.3f}'}; adapter in {config.out}/adapter"
        )
