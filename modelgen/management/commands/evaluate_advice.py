"""Score advice files against the dataset's ground truth: task metrics, breakdowns, chance level."""

from django.core.management.base import BaseCommand, CommandError

from modelgen.advice_report import evaluate_advice_files, overall_line
from modelgen.contracts import ContractError


class Command(BaseCommand):
    help = (
        "Task metrics (direction accuracy and F1, joint stem + direction accuracy, stem identification, "
        "intensity-range accuracy, mean absolute dB error, no-error rate) overall and by flaw count, "
        "anchor, genre, stem and intensity, for each system in the advice files, next to chance level."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dataset", required=True, help="dataset folder (manifest.json)")
        parser.add_argument(
            "--advice", required=True, nargs="+", help="advice JSONL file(s); one table row per system"
        )
        parser.add_argument(
            "--out", required=True, help="folder for summary.json, summary.csv, table.md, items.csv"
        )
        parser.add_argument(
            "--chance-runs", type=int, default=50, help="replicates of the random advisor (default 50)"
        )
        parser.add_argument("--seed", type=int, default=0, help="seed of the random advisor")

    def handle(self, *args, dataset, advice, out, chance_runs, seed, **options):
        if chance_runs < 1:
            raise CommandError("--chance-runs must be at least 1")
        try:
            overall = evaluate_advice_files(dataset, advice, out, chance_runs=chance_runs, seed=seed)
        except (ValueError, ContractError) as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"{overall_line(overall)} (table in {out}/table.md)")
