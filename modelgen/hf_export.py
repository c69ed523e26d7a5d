"""Export a built dataset as a Hugging Face ``datasets`` copy saved to disk, with a dataset card.

Layout of the export folder::

    hf/                 DatasetDict (train/valid/test) from ``save_to_disk``; one row per scenario
    README.md           dataset card: what a row holds, each song's licence, how to rebuild audio
    manifest.json, train/valid/test.jsonl, config.json, stats.json, norms.json   the annotations
    render_audio.py     rebuilds the audio of restricted scenarios from the user's own MUSDB18-HQ

Audio columns (``Audio`` features holding the FLAC/WAV bytes) are filled only for scenarios
whose every source song may be redistributed; a song whose licence is ``Restricted`` (102 of
MUSDB18's 150, and any song missing from the track lists) ships annotations only, and its audio
columns are empty. Nothing is uploaded anywhere. Decoding the ``Audio`` columns needs
``torchcodec`` (a requirement of ``datasets``); the bytes are plain FLAC/WAV readable with
``soundfile``, e.g. after ``ds.cast_column(name, Audio(decode=False))``.
"""

import json
import shutil
from pathlib import Path

from modelgen import contracts
from modelgen.corrections import STEMS

RESTRICTED = "Restricted"
ANNOTATION_FILES = (
    "manifest.json",
    "train.jsonl",
    "valid.jsonl",
    "test.jsonl",
    "config.json",
    "stats.json",
    "norms.json",
)
SPLITS = ("train", "valid", "test")


def redistributable(licence):
    """True when a licence lets the audio be shipped (not Restricted, not unknown)."""
    return bool(licence) and RESTRICTED.lower() not in licence.lower() and licence.lower() != "unknown"


def _features():
    import datasets

    audio = datasets.Audio(decode=True)
    columns = {
        "scenario_id": datasets.Value("string"),
        "split": datasets.Value("string"),
        "song": datasets.Value("string"),
        "genre": datasets.Value("string"),
        "licence": datasets.Value("string"),
        "audio_included": datasets.Value("bool"),
        "anchor": datasets.Value("string"),
        "stems": datasets.List(datasets.Value("string")),
        "flawed": datasets.List(datasets.Value("string")),
        "gains_db": datasets.Value("string"),
        "corrections_db": datasets.Value("string"),
        "advice": datasets.Value("string"),
        "target": datasets.Value("string"),
        "messages": datasets.Value("string"),
        "model_inputs": datasets.List(audio),
        "model_mix": audio,
        "as_given_mix": audio,
        "reference_mix": audio,
        **{f"reference_{stem}": audio for stem in STEMS},
    }
    return datasets.Features(columns)


def _audio(dataset_dir, path, include):
    if not include:
        return None
    return {"bytes": (dataset_dir / path).read_bytes(), "path": Path(path).name}


def _row(scenario, record, dataset_dir):
    include = redistributable(scenario.get("licence", ""))
    files = scenario["audio"]
    return {
        "scenario_id": scenario["id"],
        "split": scenario["split"],
        "song": scenario["song"],
        "genre": scenario["genre"],
        "licence": scenario.get("licence", RESTRICTED),
        "audio_included": include,
        "anchor": scenario["anchor"],
        "stems": scenario["stems"],
        "flawed": scenario["flawed"],
        "gains_db": json.dumps(scenario["gains_db"]),
        "corrections_db": json.dumps(scenario["corrections_db"]),
        "advice": record["messages"][-1]["content"][0]["text"],
        "target": json.dumps(record.get("target", {})),
        "messages": json.dumps(record["messages"]),
        "model_inputs": [_audio(dataset_dir, p, True) for p in files["model_inputs"]] if include else [],
        "model_mix": _audio(dataset_dir, files["model_mix"], include),
        "as_given_mix": _audio(dataset_dir, files["as_given_mix"], include),
        "reference_mix": _audio(dataset_dir, files["reference_mix"], include),
        **{f"reference_{stem}": _audio(dataset_dir, files["reference"][stem], include) for stem in STEMS},
    }


def _table(rows, features):
    """An Arrow table in the features' storage layout (Audio = {bytes, path}); no codec needed."""
    import pyarrow as pa

    schema = features.arrow_schema
    return pa.Table.from_pylist(rows, schema=schema)


def export_dataset(dataset_dir, out_dir):
    """Write the export folder (see the module docstring); return a summary dict.

    Raises
    ------
    ContractError
        When the dataset's manifest or records do not follow their contracts.
    FileExistsError
        When ``out_dir`` exists and is not empty.
    """
    import datasets
    from datasets.table import InMemoryTable

    from modelgen.run_folder import replace_folder

    dataset_dir, out_dir = Path(dataset_dir), Path(out_dir)
    manifest = contracts.load_manifest(dataset_dir)
    records = {}
    for split in SPLITS:
        for record in contracts.load_dataset_records(dataset_dir / f"{split}.jsonl"):
            records[record["scenario_id"]] = record
    missing = [s["id"] for s in manifest["scenarios"] if s["id"] not in records]
    if missing:
        raise contracts.ContractError(
            dataset_dir, [f"scenario {missing[0]} has no chat record ({len(missing)} missing)"]
        )
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise FileExistsError(f"{out_dir} already exists and is not empty; choose a new folder")

    features = _features()
    by_split = {split: [] for split in SPLITS}
    for scenario in manifest["scenarios"]:
        by_split[scenario["split"]].append(_row(scenario, records[scenario["id"]], dataset_dir))
    info = datasets.DatasetInfo(features=features, description="MixAdvice anchor-conditioned gain advice")
    splits = datasets.DatasetDict(
        {
            split: datasets.Dataset(InMemoryTable(_table(rows, features)), info=info, split=split)
            for split, rows in by_split.items()
            if rows  # an empty split cannot be reloaded by datasets; the card lists its count as 0
        }
    )
    licences = _song_licences(manifest)

    def write(folder):
        splits.save_to_disk(folder / "hf")
        for name in ANNOTATION_FILES:
            if (dataset_dir / name).is_file():
                shutil.copy2(dataset_dir / name, folder / name)
        (folder / "render_audio.py").write_text(RENDER_SCRIPT, encoding="utf-8")
        (folder / "README.md").write_text(dataset_card(manifest, licences, by_split), encoding="utf-8")

    replace_folder(out_dir, write)
    shipped = sum(1 for rows in by_split.values() for row in rows if row["audio_included"])
    return {
        "out": str(out_dir),
        "scenarios": len(manifest["scenarios"]),
        "with_audio": shipped,
        "songs": len(licences),
    }


def _song_licences(manifest):
    licences = {}
    for scenario in manifest["scenarios"]:
        if scenario.get("hybrid"):
            continue
        licences[scenario["song"]] = (scenario["genre"], scenario.get("licence", RESTRICTED))
    return dict(sorted(licences.items()))


def dataset_card(manifest, licences, by_split):
    """The README.md of the export: contents, per-song licences, how to rebuild restricted audio."""
    counts = {split: len(rows) for split, rows in by_split.items()}
    with_audio = sum(row["audio_included"] for rows in by_split.values() for row in rows)
    total = sum(counts.values())
    lines = [
        "---",
        "license: other",
        "task_categories: [audio-text-to-text]",
        "pretty_name: MixAdvice anchor-conditioned gain advice",
        "---",
        "",
        "# MixAdvice: anchor-conditioned mixing advice",
        "",
        "Each row is a scenario: a 10-second segment of a multitrack song in which one *anchor* stem",
        "stays put and 0, 1 or more other stems were made too loud or too quiet. The target is an",
        "engineer's advice on how to move each stem against the anchor (`advice`, `target`), and the",
        "ground truth is the exact correction in dB (`corrections_db` = minus `gains_db`).",
        "",
        f"Scenarios: {total} (train {counts['train']}, valid {counts['valid']}, test {counts['test']}); "
        f"{with_audio} with audio, {total - with_audio} as annotations only.",
        "",
        "## Columns",
        "",
        "- `model_inputs`: 16 kHz mono clips, anchor first, offsets applied (what the model hears);",
        "  `model_mix`: the flawed mix at 16 kHz mono.",
        "- `as_given_mix`, `reference_mix`, `reference_<stem>`: 44.1 kHz stereo FLAC (reference level).",
        "- `messages`: the Qwen2-Audio chat record (JSON); `gains_db`, `corrections_db`, `target`: JSON.",
        "- Loudness is ITU-R BS.1770-4 integrated loudness; see `manifest.json` for every measurement,",
        "  the source segment of every stem (`sources`) and the sha256 of every audio file.",
        "",
        "## Licences",
        "",
        "Audio is included only for songs whose licence allows redistribution. For songs marked",
        "`Restricted` (most of MUSDB18) this release holds the annotations only: rebuild their audio from",
        "your own copy of MUSDB18-HQ with `render_audio.py` (run it from a MixAdvice checkout):",
        "",
        "```",
        "python render_audio.py --musdb /path/to/musdb18hq --out rendered/",
        "```",
        "",
        "It renders exactly the files named in `manifest.json` and checks each against its sha256.",
        "Cross-song hybrids take the most restrictive licence of their source songs. Synthetic songs",
        "made by MixAdvice are CC0-1.0.",
        "",
        "| song | genre | licence | audio included |",
        "|---|---|---|---|",
    ]
    for song, (genre, licence) in licences.items():
        lines.append(f"| {song} | {genre} | {licence} | {'yes' if redistributable(licence) else 'no'} |")
    provenance = manifest.get("dataset", {})
    lines += [
        "",
        "## Provenance",
        "",
        f"Seed {provenance.get('seed')}, config sha256 `{provenance.get('config_sha256')}`, "
        f"code `{provenance.get('git_commit')}`.",
        "",
    ]
    return "\n".join(lines)


RENDER_SCRIPT = '''"""Rebuild the audio of this MixAdvice release from your own MUSDB18-HQ copy.

Run from a MixAdvice checkout (it uses the same code that rendered the release):

    python render_audio.py --musdb /path/to/musdb18hq --out rendered/ [--all]

By default only scenarios whose audio is not in the release (restricted songs) are rendered.
Every written file is checked against the sha256 in manifest.json; a mismatch is reported and
the script exits with status 1.
"""

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESTRICTED = "restricted"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--musdb", required=True, help="your MUSDB18-HQ folder (train/ and test/ inside)")
    parser.add_argument("--out", required=True, help="folder for the rendered audio")
    parser.add_argument("--all", action="store_true", help="render every scenario, not only restricted ones")
    args = parser.parse_args()
    try:
        from modelgen.corpus import open_corpus
        from modelgen.provenance import file_sha256
        from modelgen.stimuli import render_group
    except ImportError:
        sys.exit("run this script from a MixAdvice checkout (it imports modelgen)")
    manifest = json.loads((HERE / "manifest.json").read_text(encoding="utf-8"))
    config = json.loads((HERE / "config.json").read_text(encoding="utf-8"))
    songs = {song.name: song for song in open_corpus(args.musdb)}
    groups = {}
    for scenario in manifest["scenarios"]:
        if args.all or RESTRICTED in scenario.get("licence", RESTRICTED).lower():
            groups.setdefault(scenario["render_group"], []).append(scenario)
    out = Path(args.out)
    bad = 0
    for members in groups.values():
        needed = {source["song"] for s in members for source in s["sources"].values()}
        missing = sorted(needed - set(songs))
        if missing:
            sys.exit(f"{args.musdb}: songs not found: {missing}")
        render_group(
            members,
            songs,
            out,
            peak_ceiling_dbfs=config["peak_ceiling_dbfs"],
            audio_format=config.get("audio_format", "flac"),
        )
        for scenario in members:
            for path, digest in scenario["audio"]["sha256"].items():
                if file_sha256(out / path) != digest:
                    print(f"hash mismatch: {path}")
                    bad += 1
    print(f"rendered {sum(len(m) for m in groups.values())} scenarios into {out}; {bad} hash mismatches")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
'''
