"""Export a built dataset as a Hugging Face datasets copy on disk, with a dataset card."""

from django.core.management.base import BaseCommand, CommandError

from modelgen.contracts import ContractError
from modelgen.hf_export import export_dataset


class Command(BaseCommand):
    help = (
        "Write a Hugging Face datasets copy (save_to_disk) of a dataset folder, a card and a render script."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dataset", required=True, help="dataset folder written by build_dataset")
        parser.add_argument("--out", required=True, help="new (or empty) folder for the export")

    def handle(self, *args, dataset, out, **options):
        try:
            summary = export_dataset(dataset, out)
        except (ContractError, FileExistsError) as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"exported {summary['scenarios']} scenarios ({summary['with_audio']} with audio, "
            f"{summary['songs']} songs) to {summary['out']}"
        )
