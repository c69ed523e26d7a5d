"""Items frames for the analysis tests: a small scenario set and advice written by hand."""

import json
import shutil
from pathlib import Path

import pytest

from analysis.metrics import ScoringContext
from analysis.scoring import items_frame

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "contracts"
ADVICE = FIXTURES / "advice.example.jsonl"


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


def chat_record(scenario_id, answer):
    return {
        "schema_version": "1.0",
        "scenario_id": scenario_id,
        "messages": [
            {
                "role": "user",
                "content": [{"type": "text", "text": "Keep the vocals fixed; what should change?"}],
            },
            {"role": "assistant", "content": [{"type": "text", "text": answer}]},
        ],
    }


@pytest.fixture
def dataset(tmp_path):
    """A dataset folder: the example manifest and chat records holding the target advice."""
    folder = tmp_path / "dataset"
    folder.mkdir()
    shutil.copy(FIXTURES / "manifest.example.json", folder / "manifest.json")
    records = [
        chat_record(
            "demo-0001", "Relative to the vocals, the drums are too loud: pull them down by about 4 to 5 dB."
        ),
        chat_record(
            "demo-0002", "Raise the bass by about 8 dB and ease the other instruments back by 3 to 4 dB."
        ),
    ]
    (folder / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return folder
