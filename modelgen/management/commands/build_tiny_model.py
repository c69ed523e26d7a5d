"""Build a tiny randomly initialised Qwen2-Audio from a dataset (tests, the demo, CPU smoke runs)."""

from django.core.management.base import BaseCommand, CommandError

from modelgen.config_files import load_config
from modelgen.contracts import ContractError
from modelgen.tiny import TinyModelConfig, build_tiny_model


class Command(BaseCommand):
    help = (
        "Build a tiny Qwen2-Audio (tokenizer trained on the dataset's text, 128-bin Whisper features, "
        "two-layer encoder and decoder warmed up on the training answers' text) and save it like a "
        "real checkpoint."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dataset", required=True, help="dataset folder (train/valid/test.jsonl and clips)"
        )
        parser.add_argument("--out", required=True, help="folder for the checkpoint (replaced if it exists)")
        parser.add_argument("--config", help="JSON file of TinyModelConfig settings")
        parser.add_argument("--seed", type=int, help="initialisation seed (default 0)")

    def handle(self, *args, dataset, out, config, seed, **options):
        try:
            settings = load_config(TinyModelConfig, config, {"seed": seed})
            result = build_tiny_model(dataset, out, settings)
        except (ValueError, ContractError, FileNotFoundError) as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"built a tiny Qwen2-Audio ({result['parameters']:,} parameters, vocabulary "
            f"{result['vocab_size']}, {result['chunk_length_s']} s audio window, text warm-up loss "
            f"{result['pretrain_loss']}) in {out}"
        )
