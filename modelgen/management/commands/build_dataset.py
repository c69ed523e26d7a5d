"""Build a dataset folder (manifest, chat records, stimuli, stats) from a multitrack corpus."""

from django.core.management.base import BaseCommand, CommandError

from modelgen.audio import AudioError
from modelgen.contracts import ContractError
from modelgen.corpus import CorpusError
from modelgen.dataset import DatasetConfig, DatasetError, build_dataset


class Command(BaseCommand):
    help = "Build scenarios, stimuli and train/valid/test chat records from a MUSDB18-HQ-style corpus."

    def add_arguments(self, parser):
        parser.add_argument("--corpus", required=True, help="corpus folder (train/ and test/ inside)")
        parser.add_argument("--out", required=True, help="new (or empty) folder for the dataset")
        parser.add_argument("--seed", type=int, default=None, help="run seed (default: the config's, 0)")
        parser.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
        parser.add_argument("--config", default=None, help="JSON file with DatasetConfig settings")

    def handle(self, *args, corpus, out, seed, jobs, config, **options):
        try:
            if config:
                dataset_config = DatasetConfig.load(config, seed=seed)
            else:
                dataset_config = DatasetConfig.from_dict({} if seed is None else {"seed": seed})
            stats = build_dataset(
                corpus, out, config=dataset_config, jobs=jobs, progress=options["verbosity"] > 0
            )
        except (CorpusError, DatasetError, AudioError, ContractError, ValueError) as error:
            raise CommandError(str(error)) from None
        splits = ", ".join(f"{split} {count}" for split, count in stats["per_split"].items())
        self.stdout.write(
            f"built {stats['scenarios']} scenarios ({splits}; {stats['hybrids']} hybrids) in {stats['out']}"
        )
