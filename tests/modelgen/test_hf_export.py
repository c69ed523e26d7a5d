"""Hugging Face export: Audio columns for free songs only, a card with licences, a render script."""

import json
import subprocess
import sys

import datasets
import pytest
from django.core.management import CommandError, call_command

from modelgen.hf_export import redistributable
from tests.modelgen.builders import make_corpus, make_dataset

ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    corpus = make_corpus(tmp_path_factory.mktemp("export") / "corpus", songs=3, seconds=10, seed=8)
    tracklist = corpus / "tracklist.csv"
    text = tracklist.read_text().replace(
        "Song 002,Pop,MixAdvice synthetic,CC0-1.0", "Song 002,Pop,MixAdvice synthetic,Restricted"
    )
    tracklist.write_text(text)
    return corpus


@pytest.fixture(scope="module")
def exported(corpus, tmp_path_factory):
    dataset = make_dataset(
        corpus, tmp_path_factory.mktemp("export") / "dataset", seed=8, scenarios={"hybrid_share": 0}
    )
    out = tmp_path_factory.mktemp("export") / "hf"
    call_command("export_dataset", dataset=str(dataset), out=str(out), verbosity=0)
    return dataset, out


def rows(out):
    loaded = datasets.load_from_disk(out / "hf")
    return [row for split in loaded.values() for row in split.data.to_pylist()]


def test_free_songs_carry_their_audio_and_restricted_songs_only_annotations(exported):
    _, out = exported
    all_rows = rows(out)
    free = [row for row in all_rows if row["licence"] == "CC0-1.0"]
    restricted = [row for row in all_rows if row["licence"] == "Restricted"]
    assert free and restricted
    assert all(
        row["audio_included"] and row["model_inputs"] and row["reference_vocals"]["bytes"] for row in free
    )
    assert all(
        not row["audio_included"] and row["model_inputs"] == [] and row["as_given_mix"] is None
        for row in restricted
    )
    assert all(row["advice"] and json.loads(row["corrections_db"]) for row in restricted)


def test_audio_columns_are_audio_features(exported):
    _, out = exported
    features = datasets.load_from_disk(out / "hf")["train"].features
    assert isinstance(features["as_given_mix"], datasets.Audio)
    assert isinstance(features["model_inputs"].feature, datasets.Audio)


def test_the_card_states_every_songs_licence(exported):
    _, out = exported
    card = (out / "README.md").read_text()
    assert "| Synthetic Pop - Song 002 | Pop | Restricted | no |" in card
    assert "| Synthetic Pop - Song 001 | Pop | CC0-1.0 | yes |" in card
    assert (out / "manifest.json").is_file() and (out / "train.jsonl").is_file()


def test_the_render_script_rebuilds_restricted_audio_with_matching_hashes(corpus, exported, tmp_path):
    _, out = exported
    result = subprocess.run(
        [sys.executable, str(out / "render_audio.py"), "--musdb", str(corpus), "--out", str(tmp_path / "r")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr + result.stdout
    assert "0 hash mismatches" in result.stdout
    assert list((tmp_path / "r" / "audio").rglob("*.flac"))


@pytest.mark.parametrize(
    ("licence", "expected"), [("CC BY-NC-SA", True), ("Restricted", False), ("Unknown", False)]
)
def test_which_licences_allow_shipping_audio(licence, expected):
    assert redistributable(licence) is expected


def test_exporting_into_a_non_empty_folder_is_refused(exported):
    dataset, out = exported
    with pytest.raises(CommandError, match="not empty"):
        call_command("export_dataset", dataset=str(dataset), out=str(out), verbosity=0)


def test_exporting_a_folder_without_a_manifest_is_refused(tmp_path):
    with pytest.raises(CommandError, match="manifest.json"):
        call_command("export_dataset", dataset=str(tmp_path), out=str(tmp_path / "x"), verbosity=0)
