"""Build the analysis report (HTML + tables + figures) from files or from a study."""

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Build the analysis report. From files: --ratings FILE.csv [--scores FILE.csv] "
        "[--advice FILE --dataset DIR] [--feedback FILE.csv] --out DIR. From a study: --study SLUG [--out DIR] "
        "(default DATA_DIR/reports/SLUG, which the study dashboard links to)."
    )

    def add_arguments(self, parser):
        source = parser.add_argument_group("source (files or a study)")
        source.add_argument("--ratings", help="ratings CSV (the ratings contract)")
        source.add_argument("--scores", help="metric scores CSV: item,metric,value (score_advice --out)")
        source.add_argument(
            "--advice", help="advice JSONL: genre, anchor, flaw count and objective error per item"
        )
        source.add_argument("--dataset", help="dataset folder of the advice's scenarios (with --advice)")
        source.add_argument("--feedback", help="free-text answers CSV: participant,item,question,text")
        source.add_argument("--study", help="slug of the study to analyse (ratings, stored scores, feedback)")
        parser.add_argument(
            "--out",
            help="report folder (replaced when the new report is complete); "
            "with --study the default is DATA_DIR/reports/SLUG, linked from the study dashboard",
        )
        parser.add_argument(
            "--include-simulated", action="store_true", help="keep simulated (pilot) participants"
        )
        parser.add_argument(
            "--exclude-flagged",
            action="store_true",
            help="leave out participants who failed an attention check",
        )
        parser.add_argument("--resamples", type=int, default=2000, help="bootstrap resamples (>= 2000)")
        parser.add_argument(
            "--permutations", type=int, default=2000, help="permutations per metric comparison"
        )
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--comparisons", choices=("leader", "all"), default="leader")
        parser.add_argument("--reference-system", default="", help="system the contrasts refer to")
        parser.add_argument("--no-svg", action="store_true", help="write PNG figures only")

    def handle(self, *args, **options):
        from analysis.report import (
            ReportConfig,
            ReportInputError,
            inputs_from_files,
            inputs_from_study,
            report_build,
        )

        from_files = any(options[key] for key in ("ratings", "scores", "advice", "dataset", "feedback"))
        if bool(options["study"]) == from_files:
            raise CommandError(
                "give either --study SLUG or --ratings FILE.csv (with optional --scores, --advice …)"
            )
        if from_files and not options["ratings"]:
            raise CommandError("--ratings FILE.csv is required when reading from files")
        if from_files and not options["out"]:
            raise CommandError("--out DIR is required when reading from files")
        out = options["out"] or self.study_report_folder(options["study"])
        try:
            config = ReportConfig(
                n_resamples=options["resamples"],
                n_permutations=options["permutations"],
                seed=options["seed"],
                include_simulated=options["include_simulated"],
                exclude_attention_flagged=options["exclude_flagged"],
                comparisons=options["comparisons"],
                reference_system=options["reference_system"],
                figure_formats=("png",) if options["no_svg"] else ("png", "svg"),
            )
        except ValueError as error:
            raise CommandError(f"report settings: {error}") from None
        try:
            if options["study"]:
                ratings, scores, context = inputs_from_study(
                    options["study"], include_simulated=options["include_simulated"]
                )
            else:
                ratings, scores, context = inputs_from_files(
                    ratings=options["ratings"],
                    scores=options["scores"],
                    advice=options["advice"],
                    dataset=options["dataset"],
                    feedback=options["feedback"],
                )
            report = report_build(
                ratings=ratings,
                scores=scores,
                context=context,
                out_dir=out,
                config=config,
                progress=True,
            )
        except (ReportInputError, ValueError, KeyError) as error:
            raise CommandError(f"cannot build the report: {error}") from None
        self.stdout.write(
            f"report written to {report} ({ratings['participant'].nunique()} raters, {len(ratings)} ratings)"
        )

    @staticmethod
    def study_report_folder(slug):
        from study.dashboard import report_path
        from study.models import Study

        study = Study.objects.filter(slug=slug).first()
        if study is None:
            raise CommandError(
                f"no study {slug!r}; studies: {sorted(Study.objects.values_list('slug', flat=True))}"
            )
        return report_path(study).parent
