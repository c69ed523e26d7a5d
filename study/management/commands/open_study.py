"""Open a study to participants, publishing its latest draft consent document if asked."""

from django.core.management.base import BaseCommand, CommandError

from study.models import Study
from study.services import StudyRuleError, consent_document_publish, study_open


class Command(BaseCommand):
    help = (
        "Open a study to participants. With --publish-consent, first publish the latest consent "
        "document if no version is published yet (the demo does this; a real study publishes the "
        "IRB-approved text in the admin). Rerunning on an open study changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--slug", required=True, help="Slug of the study (as given to import_study).")
        parser.add_argument(
            "--publish-consent",
            action="store_true",
            help="Publish the latest consent version when none is published yet.",
        )

    def handle(self, *args, slug, publish_consent, **options):
        study = Study.objects.filter(slug=slug).first()
        if study is None:
            raise CommandError(f"No study with slug {slug!r}; create it with import_study first.")
        try:
            if publish_consent and not study.consent_documents.filter(published_at__isnull=False).exists():
                latest = study.consent_documents.order_by("-version").first()
                if latest is None:
                    raise CommandError(f"Study {slug!r} has no consent document to publish.")
                consent_document_publish(document=latest)
            if study.status != Study.Status.OPEN:
                study_open(study=study)
        except StudyRuleError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"Study {slug!r} is open.")
