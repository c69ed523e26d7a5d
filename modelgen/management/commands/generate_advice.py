"""Write advice records for every scenario of a split from one system (resumable)."""

from django.core.management.base import BaseCommand, CommandError

from modelgen.config_files import load_config
from modelgen.contracts import KNOWN_SYSTEMS, ContractError
from modelgen.generate import BACKENDS, GenerateConfig, generate_advice
from modelgen.model_loading import DEFAULT_BASE_MODEL, ModelNotFoundError
from modelgen.training_data import STEM_VARIANTS


class Command(BaseCommand):
    help = (
        "Generate advice for each scenario of --split from --system (finetuned, base, baseline, "
        "ideal, sham) into a JSONL file of advice records; scenarios already in the file are skipped."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dataset", required=True, help="dataset folder")
        parser.add_argument(
            "--out", required=True, help="advice JSONL file (appended to, one system per file)"
        )
        parser.add_argument("--system", choices=KNOWN_SYSTEMS, help="which advisor")
        parser.add_argument("--split", choices=("train", "valid", "test"), help="default test")
        parser.add_argument(
            "--base-model", help=f"checkpoint folder or cached hub id (default {DEFAULT_BASE_MODEL})"
        )
        parser.add_argument("--adapter", help="RUN/adapter of a training run (system finetuned)")
        parser.add_argument("--config", help="JSON file of GenerateConfig settings; flags override it")
        parser.add_argument(
            "--stems-as", choices=STEM_VARIANTS, help="stem representation the adapter was trained on"
        )
        parser.add_argument("--batch-size", type=int)
        parser.add_argument("--max-new-tokens", type=int)
        parser.add_argument(
            "--sample", action="store_true", default=None, help="sample instead of greedy decoding"
        )
        parser.add_argument("--temperature", type=float)
        parser.add_argument("--top-p", type=float)
        parser.add_argument("--seed", type=int)
        parser.add_argument("--load-in-4bit", action="store_true", default=None)
        parser.add_argument("--backend", choices=BACKENDS, help="transformers (default) or vllm if installed")
        parser.add_argument("--limit", type=int, help="at most this many new scenarios")

    def handle(self, *args, dataset, out, **options):
        overrides = {
            "system": options["system"],
            "split": options["split"],
            "base_model": options["base_model"],
            "adapter": options["adapter"],
            "stems_as": options["stems_as"],
            "batch_size": options["batch_size"],
            "max_new_tokens": options["max_new_tokens"],
            "do_sample": options["sample"],
            "temperature": options["temperature"],
            "top_p": options["top_p"],
            "seed": options["seed"],
            "load_in_4bit": options["load_in_4bit"],
            "backend": options["backend"],
            "limit": options["limit"],
        }
        try:
            config = load_config(GenerateConfig, options["config"], overrides)
            result = generate_advice(dataset, out, config, progress=options["verbosity"] > 0)
        except (ValueError, ContractError, ModelNotFoundError, FileNotFoundError) as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"{config.system}: wrote {result['written']} advice records ({result['skipped']} already there, "
            f"{result['total']} in {out}), {result['seconds_per_item']:.3f} s per item"
        )
