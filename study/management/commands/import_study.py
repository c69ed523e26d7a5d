"""Import a dataset's scenarios and advice records into a study (idempotent)."""

from django.core.management.base import BaseCommand, CommandError

from modelgen.contracts import ContractError
from study.importing import StudyImportError, study_import


class Command(BaseCommand):
    help = (
        "Import the scenarios named by advice JSONL files (and the advice as items) into a study; "
        "rerunning creates nothing new."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dataset", required=True, help="dataset folder holding manifest.json and the audio"
        )
        parser.add_argument("--advice", required=True, nargs="+", help="advice JSONL file(s)")
        parser.add_argument("--slug", required=True, help="study slug (created if new)")
        parser.add_argument("--title", help="study title for a new study (default: the slug)")

    def handle(self, *args, **options):
        try:
            summary = study_import(
                dataset=options["dataset"],
                advice_files=options["advice"],
                slug=options["slug"],
                title=options["title"],
                progress=options["verbosity"] > 0,
            )
        except (ContractError, StudyImportError) as error:
            raise CommandError(str(error)) from None
        self.stdout.write(summary.line())
