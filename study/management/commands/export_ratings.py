"""Write a study's ratings (CSV, JSON) and playback events (CSV) into a folder."""

from django.core.management.base import BaseCommand, CommandError

from study.exports import study_export_write
from study.models import Study
from study.services import audit_log_record


class Command(BaseCommand):
    help = "Export ratings.csv, ratings.json and events.csv of a study (pseudonymous; no recruiter ids)."

    def add_arguments(self, parser):
        parser.add_argument("--slug", required=True, help="study slug")
        parser.add_argument("--out", required=True, help="folder to write the three files into")
        parser.add_argument(
            "--include-simulated", action="store_true", help="also export simulated (bot/pilot) participants"
        )

    def handle(self, *args, **options):
        study = Study.objects.filter(slug=options["slug"]).first()
        if study is None:
            known = ", ".join(Study.objects.values_list("slug", flat=True)) or "none"
            raise CommandError(f"No study {options['slug']!r}; studies: {known}.")
        counts = study_export_write(study, options["out"], include_simulated=options["include_simulated"])
        audit_log_record(
            actor=None, action="export_ratings", target=study.slug, details={"out": options["out"]}
        )
        self.stdout.write(
            f"{study.slug}: {counts['ratings.csv']} rating rows, {counts['events.csv']} events -> {options['out']}"
        )
