"""Session fixtures for the model tests: a small dataset on disk and a tiny Qwen2-Audio built from it.

The dataset follows the contracts (manifest, train/valid/test chat records, 16 kHz mono clips,
norms) and is written once per session; the tiny model is built from it once. Tests that change
files copy what they change into their own ``tmp_path``.
"""

import json
from pathlib import Path

import numpy as np
import pytest

from modelgen.baseline import GenreNorms
from modelgen.contracts import SCHEMA_VERSION, write_jsonl, write_manifest
from modelgen.corrections import STEMS, intensity_class, prompt_order

SAMPLE_RATE = 16_000
CLIP_SECONDS = 2.0
FREQUENCIES = {"vocals": 440.0, "drums": 90.0, "bass": 55.0, "other": 660.0}
GENRES = ("pop", "rock")
TINY_PRETRAIN_STEPS = 30


def _clip(stem, gain_db, seed):
    rng = np.random.default_rng(seed)
    t = np.arange(int(SAMPLE_RATE * CLIP_SECONDS)) / SAMPLE_RATE
    tone = np.sin(2 * np.pi * FREQUENCIES[stem] * t) + 0.05 * rng.standard_normal(t.size)
    return (0.1 * 10 ** (gain_db / 20) * tone).astype(np.float32)


def _advice_text(anchor, corrections):
    parts = []
    for stem, db in corrections.items():
        if stem == anchor:
            continue
        if db <= -1.5:
            parts.append(f"the {stem} are too loud: pull them down by about {abs(db):.0f} dB")
        elif db >= 1.5:
            parts.append(f"the {stem} are too quiet: bring them up by about {db:.0f} dB")
    if not parts:
        return f"Relative to the {anchor}, the mix is balanced: leave every stem as it is."
    return f"Relative to the {anchor}, " + "; ".join(parts) + "."


def write_small_dataset(root, *, counts=(("train", 6), ("valid", 2), ("test", 3)), stems=STEMS):
    """Write a contract-following dataset with ``counts`` scenarios per split; return its folder."""
    import soundfile

    root = Path(root)
    scenarios, records = [], {split: [] for split, _ in counts}
    offsets = [0.0, -4.0, 7.0, 4.5, -8.0, 0.0, 3.5, -6.5]
    number = 0
    for split, count in counts:
        for _ in range(count):
            number += 1
            sid = f"s{number:03d}"
            anchor = stems[number % len(stems)]
            order = prompt_order(anchor, stems)
            gains = {
                s: (0.0 if s == anchor else offsets[(number + i) % len(offsets)]) for i, s in enumerate(order)
            }
            corrections = {s: -g if g else 0.0 for s, g in gains.items()}
            clips = []
            for index, stem in enumerate(order):
                rel = f"audio/{sid}/model/{index}_{stem}.wav"
                (root / rel).parent.mkdir(parents=True, exist_ok=True)
                soundfile.write(root / rel, _clip(stem, gains[stem], number * 10 + index), SAMPLE_RATE)
                clips.append(rel)
            mix = f"audio/{sid}/model/mix.wav"
            soundfile.write(root / mix, sum(_clip(s, gains[s], number) for s in order), SAMPLE_RATE)
            genre = GENRES[number % len(GENRES)]
            scenarios.append(
                {
                    "id": sid,
                    "song": f"Synthetic - Song {number:02d}",
                    "split": split,
                    "genre": genre,
                    "segment_start_s": 0.0,
                    "segment_seconds": CLIP_SECONDS,
                    "anchor": anchor,
                    "stems": order,
                    "flawed": [s for s in order if gains[s]],
                    "gains_db": gains,
                    "corrections_db": corrections,
                    "intensity": {s: intensity_class(g) for s, g in gains.items()},
                    "loudness_lufs": dict.fromkeys(order, -20.0),
                    "audio": {
                        "reference": {s: clips[i] for i, s in enumerate(order)},
                        "as_given_mix": mix,
                        "reference_mix": mix,
                        "model_inputs": clips,
                        "model_mix": mix,
                    },
                }
            )
            content = [{"type": "text", "text": f"Audio 1 is the anchor stem ({anchor})."}]
            content += [{"type": "audio", "audio_url": clip} for clip in clips]
            content.append(
                {"type": "text", "text": f"Keeping the {anchor} fixed, how should each other stem change?"}
            )
            records[split].append(
                {
                    "schema_version": SCHEMA_VERSION,
                    "scenario_id": sid,
                    "messages": [
                        {
                            "role": "system",
                            "content": [{"type": "text", "text": "You are a mixing engineer."}],
                        },
                        {"role": "user", "content": content},
                        {
                            "role": "assistant",
                            "content": [{"type": "text", "text": _advice_text(anchor, corrections)}],
                        },
                    ],
                }
            )
    write_manifest(
        root / "manifest.json",
        {"schema_version": SCHEMA_VERSION, "dataset": {"corpus": "test"}, "scenarios": scenarios},
    )
    for split, rows in records.items():
        write_jsonl("dataset_record", root / f"{split}.jsonl", rows)
    rows = [
        {"genre": genre, "anchor": anchor, "stem": stem, "offset_lu": 0.0}
        for genre in GENRES
        for anchor in stems
        for stem in stems
        if stem != anchor
    ]
    (root / "norms.json").write_text(json.dumps({"rows": len(rows), "norms": GenreNorms.fit(rows).to_dict()}))
    return root


@pytest.fixture(scope="session")
def small_dataset(tmp_path_factory):
    """A dataset folder with 6 train, 2 valid and 3 test scenarios of 2-second clips."""
    return write_small_dataset(tmp_path_factory.mktemp("dataset"))


@pytest.fixture(scope="session")
def tiny_model(small_dataset, tmp_path_factory):
    """Path of a tiny Qwen2-Audio built from ``small_dataset`` (once per session)."""
    from modelgen.tiny import TinyModelConfig, build_tiny_model

    config = TinyModelConfig(pretrain_steps=TINY_PRETRAIN_STEPS)
    return build_tiny_model(small_dataset, tmp_path_factory.mktemp("models") / "tiny", config)["path"]


@pytest.fixture(scope="session")
def tiny_processor(tiny_model):
    from modelgen.model_loading import load_processor

    return load_processor(tiny_model)
