"""Time of each automatic metric on a set of advice items, measured in one run.

Prints, per metric, the first call (which loads WordNet or the BERTScore model once per
process) and a second call on the same items (the steady cost), and the second call as items
per second. The items are generated advice-like texts (a fixed seed), each against its own
reference; the judge is left out (its cost is the endpoint's).

Usage: .venv/bin/python benchmarks/score_metrics.py [--items 400] [--words 20]
"""

import argparse
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("NLTK_DATA", str(ROOT / "var" / "nltk_data"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

METRICS = ("joint_accuracy", "residual_lu", "rouge_l", "chrf", "meteor_no_synonyms", "meteor", "bertscore_f1")
WORDS = [
    "pull",
    "the",
    "drums",
    "down",
    "by",
    "about",
    "four",
    "dB",
    "raise",
    "bass",
    "vocals",
    "sit",
    "well",
    "other",
    "instruments",
    "too",
    "loud",
    "quiet",
    "ease",
    "back",
    "push",
    "up",
    "a",
    "little",
    "relative",
    "to",
    "anchor",
]


def items_frame(count, words, seed=0):
    import pandas as pd

    rng = random.Random(seed)
    stems = ["vocals", "drums", "bass", "other"]
    scenario = {
        "id": "bench",
        "anchor": "vocals",
        "stems": stems,
        "gains_db": {"vocals": 0.0, "drums": 4.5, "bass": 0.0, "other": 0.0},
        "corrections_db": {"vocals": 0.0, "drums": -4.5, "bass": 0.0, "other": 0.0},
        "loudness_lufs": dict.fromkeys(stems, -20.0),
    }

    def text():
        return " ".join(rng.choice(WORDS) for _ in range(words))

    return pd.DataFrame(
        {
            "item": [f"bench-{i}:x" for i in range(count)],
            "text": [text() for _ in range(count)],
            "reference": [text() for _ in range(count)],
            "scenario": [scenario] * count,
            "corrections": [{"drums": -3.0}] * count,
        }
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=400)
    parser.add_argument("--words", type=int, default=20)
    args = parser.parse_args()

    from analysis.metrics import ScoringContext, get

    items = items_frame(args.items, args.words)
    context = ScoringContext()
    print(f"{args.items} items, {args.words} words each")
    for name in METRICS:
        metric = get(name)
        start = time.perf_counter()
        metric(items, context)
        first = time.perf_counter() - start
        start = time.perf_counter()
        metric(items, context)
        second = time.perf_counter() - start
        rate = args.items / second if second > 0 else float("inf")
        print(f"{name:>20}: first call {first:7.2f} s, second {second:7.2f} s ({rate:,.0f} items/s)")


if __name__ == "__main__":
    main()
