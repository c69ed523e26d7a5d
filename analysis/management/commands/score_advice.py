"""Score advice with automatic metrics, from files (scores CSV) or for a study (stored in the database)."""

from django.core.management.base import BaseCommand, CommandError

DEFAULT_METRICS = ("task", "lexical", "semantic")
"""Without --metrics: every task, lexical and semantic metric; the judge metrics too when a judge is given."""


class Command(BaseCommand):
    help = (
        "Score advice items with registered metrics. From files: --advice FILE --dataset DIR --out FILE "
        "writes a CSV item,metric,value. From a study: --study SLUG stores one score per (advice item, metric)."
    )

    def add_arguments(self, parser):
        source = parser.add_argument_group("source (files or a study)")
        source.add_argument("--advice", help="advice records (JSONL) to score")
        source.add_argument("--dataset", help="dataset folder: manifest.json and the chat records")
        source.add_argument("--out", help="scores CSV to write (item,metric,value)")
        source.add_argument("--study", help="slug of the study whose advice items to score")
        source.add_argument(
            "--reference-system",
            help="use this system's advice as the reference text instead of the dataset's target advice",
        )
        parser.add_argument(
            "--metrics",
            nargs="+",
            action="extend",
            help="metric names or kinds (task, lexical, semantic, judge, all); comma-separated or spaced; "
            "default: task lexical semantic (+ judge when a judge is given)",
        )
        parser.add_argument(
            "--bertscore-model", help="local model folder for BERTScore (default: packaged MiniLM)"
        )
        parser.add_argument("--bertscore-layers", type=int, default=6, help="hidden layer BERTScore reads")
        judge = parser.add_argument_group("LLM judge")
        judge.add_argument(
            "--judge-url", help="OpenAI-compatible endpoint root, e.g. http://127.0.0.1:8000/v1"
        )
        judge.add_argument(
            "--judge-model", help="served model name (or a local folder with --judge-backend transformers)"
        )
        judge.add_argument("--judge-backend", choices=("openai", "transformers"), default="openai")
        judge.add_argument("--judge-concurrency", type=int, default=4, help="calls in flight at once")
        judge.add_argument(
            "--judge-api-key-env", default="OPENAI_API_KEY", help="variable holding the API key"
        )
        judge.add_argument("--judge-temperature", type=float, default=0.0)
        judge.add_argument("--judge-retries", type=int, default=5)
        judge.add_argument("--judge-timeout", type=float, default=120.0, help="seconds per HTTP reply")

    def _judge(self, options):
        from analysis.metrics.judge import JudgeConfig

        if not options["judge_model"]:
            if options["judge_url"]:
                raise CommandError("--judge-url needs --judge-model (the name the endpoint serves)")
            return None
        try:
            return JudgeConfig(
                model=options["judge_model"],
                backend=options["judge_backend"],
                base_url=options["judge_url"],
                api_key_env=options["judge_api_key_env"],
                temperature=options["judge_temperature"],
                concurrency=options["judge_concurrency"],
                retries=options["judge_retries"],
                timeout_s=options["judge_timeout"],
            )
        except ValueError as error:
            raise CommandError(f"judge settings: {error}") from None

    def handle(self, *args, **options):
        from analysis.metrics import ScoringContext, UnknownMetricError
        from analysis.metrics.judge import JudgeError
        from analysis.metrics.text import MissingReferenceError, WordNetMissingError
        from analysis.scoring import ScoringInputError, score_files, score_study
        from modelgen.contracts import ContractError

        from_files = any(options[key] for key in ("advice", "dataset", "out"))
        if bool(options["study"]) == from_files:
            raise CommandError("give either --study SLUG, or --advice FILE --dataset DIR --out FILE")
        if from_files and not all(options[key] for key in ("advice", "dataset", "out")):
            raise CommandError("scoring from files needs all of --advice FILE --dataset DIR --out FILE")
        judge = self._judge(options)
        metrics = options["metrics"] or [*DEFAULT_METRICS, *(["judge"] if judge else [])]
        try:
            context = ScoringContext(
                bertscore_model=options["bertscore_model"],
                bertscore_layers=options["bertscore_layers"],
                judge=judge,
            )
            if from_files:
                scores = score_files(
                    advice=options["advice"],
                    dataset=options["dataset"],
                    out=options["out"],
                    metrics=metrics,
                    context=context,
                    reference_system=options["reference_system"],
                    progress=True,
                )
                where = options["out"]
            else:
                scores = score_study(
                    options["study"],
                    metrics=metrics,
                    context=context,
                    reference_system=options["reference_system"],
                )
                where = f"study {options['study']!r}"
        except (UnknownMetricError, WordNetMissingError, MissingReferenceError, ScoringInputError) as error:
            raise CommandError(str(error)) from None
        except (ContractError, JudgeError, FileNotFoundError, ValueError) as error:
            raise CommandError(str(error)) from None
        missing = int(scores["value"].isna().sum())
        self.stdout.write(
            f"Scored {scores['item'].nunique()} items with {scores['metric'].nunique()} metrics "
            f"({len(scores)} values, {missing} missing) -> {where}"
        )
