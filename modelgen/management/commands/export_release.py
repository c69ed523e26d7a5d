"""Assemble a release folder (adapter, model card, dataset annotations) without uploading it."""

from django.core.management.base import BaseCommand, CommandError

from modelgen.contracts import ContractError
from modelgen.model_loading import ModelNotFoundError
from modelgen.release import export_release


class Command(BaseCommand):
    help = (
        "Write a folder ready to upload to the Hugging Face Hub: the run's adapter, a model card "
        "(base model, data, licence, intended use, evaluation, limitations) and the dataset export."
    )

    def add_arguments(self, parser):
        parser.add_argument("--run", required=True, help="a finished train_advisor run folder")
        parser.add_argument("--dataset", required=True, help="the dataset the run was trained on")
        parser.add_argument("--out", required=True, help="release folder (replaced if it exists)")
        parser.add_argument("--evaluation", help="an evaluate_advice --out folder for the card's table")
        parser.add_argument(
            "--base-model-id",
            help="hub id of the base model for the card when training used a local folder "
            "(e.g. Qwen/Qwen2-Audio-7B-Instruct)",
        )

    def handle(self, *args, run, dataset, out, evaluation, base_model_id, **options):
        try:
            path = export_release(run, dataset, out, evaluation_dir=evaluation, base_model_id=base_model_id)
        except (ValueError, ContractError, ModelNotFoundError) as error:
            raise CommandError(str(error)) from None
        files = sorted(p.name for p in path.iterdir())
        self.stdout.write(f"release bundle in {path} ({', '.join(files)}); nothing was uploaded")
