"""Write a synthetic multitrack corpus in the MUSDB18-HQ layout (for the demo and the tests)."""

from django.core.management.base import BaseCommand, CommandError

from modelgen.synthetic import write_synthetic_corpus


class Command(BaseCommand):
    help = "Write N synthetic songs (pop, rock, jazz, rap) in the MUSDB18-HQ folder layout."

    def add_arguments(self, parser):
        parser.add_argument("--out", required=True, help="new (or empty) folder for the corpus")
        parser.add_argument("--songs", type=int, default=10, help="number of songs (default 10)")
        parser.add_argument("--seconds", type=float, default=30.0, help="length of each song (default 30)")
        parser.add_argument("--seed", type=int, default=0, help="random seed (same seed, same files)")

    def handle(self, *args, out, songs, seconds, seed, **options):
        try:
            rows = write_synthetic_corpus(
                out, songs=songs, seconds=seconds, seed=seed, progress=options["verbosity"] > 0
            )
        except (ValueError, FileExistsError) as error:
            raise CommandError(str(error)) from None
        genres = sorted({row["genre"] for row in rows})
        self.stdout.write(f"wrote {len(rows)} songs of {seconds:g} s ({', '.join(genres)}) to {out}")
