"""Delete the audio of advisor jobs older than a number of days (and stray upload folders)."""

from django.core.management.base import BaseCommand, CommandError

from modelgen.advisor_service import uploads_purge


class Command(BaseCommand):
    help = (
        "Delete the uploaded stems and player files of advisor jobs created more than DAYS days ago, "
        "and upload folders that belong to no job. The advice text and the history stay."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than",
            type=float,
            required=True,
            metavar="DAYS",
            help="Age in days (0 purges everything finished).",
        )

    def handle(self, *args, older_than, **options):
        if older_than < 0:
            raise CommandError(f"--older-than must be 0 or more days, got {older_than:g}.")
        summary = uploads_purge(older_than_days=older_than)
        self.stdout.write(
            f"Purged {summary.jobs} job(s) older than {older_than:g} day(s): "
            f"{summary.folders} folder(s), {summary.bytes / (1024 * 1024):.1f} MB freed."
        )
