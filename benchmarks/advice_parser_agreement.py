"""How well the advice parser recovers per-stem directions and amounts.

Prints two figures measured in one run:

1. Generated targets: ``target_advice`` for many seeds, every genre, 0-3 flawed stems,
   every anchor; the parser's direction per stem against ``.structured`` and the mean
   absolute dB error where the directions agree.
2. Hand-written advice (``fixtures/advice/handwritten.jsonl`` and the second set
   ``handwritten_unseen.jsonl``, written after the parser was first frozen): direction agreement on
   every stem a piece states an expectation for (a stem the parser leaves out counts as
   "leave", the convention of ``modelgen.corrections.item_error``), the mean absolute dB
   error on stems whose expected amount is given and whose direction agrees, and the
   pieces where the parser disagrees.

Run: ``.venv/bin/python benchmarks/advice_parser_agreement.py [--scenarios N] [--seed K]``
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from modelgen.advice_parse import parse_advice  # noqa: E402
from modelgen.annotate import target_advice  # noqa: E402
from modelgen.corrections import STEMS  # noqa: E402

GENRES = (
    "Pop",
    "Rap",
    "Rock",
    "Jazz",
    "Heavy Metal",
    "Country",
    "Electronic",
    "Pop/Rock",
    "Singer/Songwriter",
    "Reggae",
    "unknown",
)
HANDWRITTEN = ROOT / "fixtures" / "advice" / "handwritten.jsonl"
UNSEEN = ROOT / "fixtures" / "advice" / "handwritten_unseen.jsonl"


def random_scenario(rng):
    """An anchor, per-stem corrections (0-3 flawed stems, 3-12 dB) and a genre."""
    anchor = STEMS[int(rng.integers(len(STEMS)))]
    others = [s for s in STEMS if s != anchor]
    flawed = [others[i] for i in rng.permutation(len(others))[: int(rng.integers(len(others) + 1))]]
    corrections = dict.fromkeys(STEMS, 0.0)
    for stem in flawed:
        corrections[stem] = float(rng.choice([-1.0, 1.0]) * rng.uniform(3.0, 12.0))
    return anchor, corrections, GENRES[int(rng.integers(len(GENRES)))]


def generated_agreement(n, seed):
    """Direction agreement and mean |dB| error of the parser on n generated targets."""
    rng = np.random.default_rng(seed)
    agree = total = 0
    errors, by_flaws = [], {}
    for _ in range(n):
        anchor, corrections, genre = random_scenario(rng)
        advice = target_advice(anchor=anchor, corrections_db=corrections, genre=genre, rng=rng)
        parsed = parse_advice(advice.text, anchor=anchor)
        flaws = sum(1 for e in advice.structured.values() if e["direction"] != "leave")
        for stem, entry in advice.structured.items():
            got = parsed.get(stem)
            same = (got.direction if got else "leave") == entry["direction"]
            agree += same
            total += 1
            hits = by_flaws.setdefault(flaws, [0, 0])
            hits[0] += same
            hits[1] += 1
            if same and got is not None:
                errors.append(abs(got.db - entry["db"]))
    return agree / total, float(np.mean(errors)), total, by_flaws


def handwritten_agreement(path=HANDWRITTEN):
    """Direction agreement, mean |dB| error and the disagreements on the hand-written pieces."""
    agree = total = 0
    errors, misses = [], []
    pieces = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    for piece in pieces:
        parsed = parse_advice(piece["text"], stems=piece["stems"], anchor=piece["anchor"])
        for stem, expected in piece["expected"].items():
            got = parsed.get(stem)
            direction = got.direction if got else "leave"
            total += 1
            if direction == expected["direction"]:
                agree += 1
                if expected.get("db") is not None:
                    errors.append(abs((got.db if got else 0.0) - expected["db"]))
            else:
                misses.append((piece["id"], stem, expected["direction"], direction))
    return agree / total, float(np.mean(errors)), total, len(pieces), misses


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", type=int, default=5000, help="generated targets to parse")
    parser.add_argument("--seed", type=int, default=20261129, help="seed of the held-out scenarios")
    args = parser.parse_args()
    started = time.perf_counter()
    rate, error, stems, by_flaws = generated_agreement(args.scenarios, args.seed)
    seconds = time.perf_counter() - started
    print(f"generated targets: {args.scenarios} scenarios, {stems} stem judgements")
    print(f"  direction agreement {rate:.2%}, mean |dB error| {error:.2f} dB (directions agreeing)")
    for flaws in sorted(by_flaws):
        hits, count = by_flaws[flaws]
        print(f"  scenarios with {flaws} flawed stems: {hits / count:.2%} of {count} stem judgements")
    print(f"  {args.scenarios / seconds:.0f} scenarios written and parsed per second")
    for label, path in (("hand-written advice", HANDWRITTEN), ("hand-written advice, second set", UNSEEN)):
        rate, error, stems, pieces, misses = handwritten_agreement(path)
        print(f"{label} ({path.name}): {pieces} pieces, {stems} stem judgements")
        print(
            f"  direction agreement {rate:.2%}, mean |dB error| {error:.2f} dB (stated amounts, directions agreeing)"
        )
        for piece_id, stem, expected, got in misses:
            print(f"  disagreement {piece_id} {stem}: expected {expected}, parsed {got}")


if __name__ == "__main__":
    main()
