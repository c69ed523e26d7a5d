"""Add simulated (pilot) participants to a study, rated by the documented rating model."""

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Walk N simulated participants through a study (consent, screen, trials, closing) and rate their "
        "trials with analysis.simulate's model; they are flagged simulated and left out of real exports."
    )

    def add_arguments(self, parser):
        parser.add_argument("--study", required=True, help="slug of an open study")
        parser.add_argument("--participants", type=int, required=True, help="simulated participants to add")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument(
            "--up-to",
            action="store_true",
            help="treat --participants as the total of simulated participants the study should have and "
            "add only the missing ones (make demo uses this so reruns add nothing)",
        )
        parser.add_argument("--noise-sd", type=float, default=None, help="rating noise (latent units)")
        parser.add_argument("--rater-sd", type=float, default=None, help="rater leniency spread")
        parser.add_argument("--error-weight", type=float, default=None, help="quality loss per dB of error")

    def handle(self, *args, **options):
        from dataclasses import replace

        from analysis.simulate import SimulationConfig, study_simulate
        from study.models import Study
        from study.services import StudyRuleError

        if options["participants"] < 1:
            raise CommandError("--participants must be at least 1")
        study = Study.objects.filter(slug=options["study"]).first()
        if study is None:
            raise CommandError(
                f"no study {options['study']!r}; studies: {sorted(Study.objects.values_list('slug', flat=True))}"
            )
        changes = {k: options[k] for k in ("noise_sd", "rater_sd", "error_weight") if options[k] is not None}
        wanted, seed = options["participants"], options["seed"]
        if options["up_to"]:
            existing = study.participants.filter(simulated=True).count()
            if existing >= wanted:
                self.stdout.write(f"{study.slug} already has {existing} simulated participants; added none")
                return
            wanted, seed = wanted - existing, seed + existing
        try:
            config = replace(SimulationConfig(), **changes)
            summary = study_simulate(study=study, participants=wanted, seed=seed, config=config)
        except StudyRuleError as error:
            raise CommandError(
                f"the study refused a simulated participant: {'; '.join(error.messages)}"
            ) from None
        except ValueError as error:
            raise CommandError(f"cannot simulate: {error}") from None
        self.stdout.write(
            f"added {summary['participants']} simulated participants with {summary['ratings']} ratings to "
            f"{study.slug} (seed {summary['seed']}; flagged simulated, left out of real exports)"
        )
