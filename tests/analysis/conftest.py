"""Items frames for the analysis tests: a small scenario set and advice written by hand."""

import pytest

from analysis.metrics import ScoringContext
from analysis.scoring import items_frame


def make_scenario(scenario_id="s1", gains=None, *, anchor="vocals", genre="pop", loudness=None):
    stems = ["vocals", "drums", "bass", "other"]
    gains = {stem: float((gains or {}).get(stem, 0.0)) for stem in stems}
    return {
        "id": scenario_id,
        "genre": genre,
        "anchor": anchor,
        "stems": [anchor, *[s for s in stems if s != anchor]],
        "flawed": [s for s in stems if gains[s]],
        "gains_db": gains,
        "corrections_db": {s: -g for s, g in gains.items()},
        "loudness_lufs": loudness or dict.fromkeys(stems, -20.0),
        "audio": {"reference": {s: f"audio/{scenario_id}/reference/{s}.wav" for s in stems}},
    }


def make_items(rows):
    """rows: (item, scenario, text, reference, corrections)."""
    return items_frame(
        {
            "item": item,
            "scenario_id": scenario["id"],
            "system": item.split(":")[1],
            "text": text,
            "reference": reference,
            "corrections": corrections,
            "scenario": scenario,
        }
        for item, scenario, text, reference, corrections in rows
    )


@pytest.fixture
def context():
    return ScoringContext()
