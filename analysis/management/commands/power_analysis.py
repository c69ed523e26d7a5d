"""Power analysis: how many raters per item keep Spearman's rho within the wanted precision."""

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Simulate the study for several numbers of raters per item and report the 95 % error half-width "
        "of Spearman's rho (metric vs item mean) at the expected effect; optionally write the table as CSV."
    )

    def add_arguments(self, parser):
        parser.add_argument("--items", type=int, help="advice items in the study (default 200)")
        parser.add_argument("--study", help="take the number of items from this study")
        parser.add_argument("--rho", type=float, default=0.5, help="expected Spearman rho of the metric")
        parser.add_argument("--target", type=float, default=0.1, help="wanted 95 %% half-width on rho")
        parser.add_argument(
            "--raters", default="1,2,3,5,8,12,20", help="raters per item to try, comma-separated"
        )
        parser.add_argument("--items-per-participant", type=int, default=40)
        parser.add_argument("--simulations", type=int, default=200, help="simulated studies per rater count")
        parser.add_argument("--seed", type=int, default=0)
        model = parser.add_argument_group("rating model (latent units; e.g. from a pilot's mixed model)")
        model.add_argument("--quality-sd", type=float, default=0.7, help="SD of item quality across items")
        model.add_argument("--rater-sd", type=float, default=0.4, help="SD of rater leniency")
        model.add_argument("--noise-sd", type=float, default=0.8, help="SD of rating noise")
        parser.add_argument("--out", help="CSV file for the table (its settings go to <out>.config.json)")

    def handle(self, *args, **options):
        import json
        from pathlib import Path

        from analysis.power import PowerConfig, power_analysis, power_summary
        from analysis.simulate import SimulationConfig
        from modelgen.contracts import atomic_write

        n_items = options["items"]
        if options["study"]:
            from study.models import AdviceItem, Study

            study = Study.objects.filter(slug=options["study"]).first()
            if study is None:
                raise CommandError(f"no study {options['study']!r}")
            n_items = AdviceItem.objects.filter(scenario__study=study).count()
        try:
            raters = tuple(int(value) for value in options["raters"].split(",") if value.strip())
            config = PowerConfig(
                n_items=n_items or 200,
                raters_per_item=raters,
                expected_rho=options["rho"],
                target_half_width=options["target"],
                items_per_participant=options["items_per_participant"],
                n_simulations=options["simulations"],
                seed=options["seed"],
                quality_sd=options["quality_sd"],
                simulation=SimulationConfig(rater_sd=options["rater_sd"], noise_sd=options["noise_sd"]),
            )
        except ValueError as error:
            raise CommandError(f"power settings: {error}") from None
        table = power_analysis(config, progress=True)
        if options["out"]:
            out = Path(options["out"])
            atomic_write(out, lambda handle: table.to_csv(handle, index=False))
            atomic_write(
                out.with_name(out.name + ".config.json"), lambda h: json.dump(config.to_dict(), h, indent=1)
            )
        self.stdout.write(power_summary(table, config))
