"""Dataset build: every file, valid contracts, determinism, splits, resumption, no half dataset."""

import json

import numpy as np
import pytest
import soundfile

from modelgen import contracts
from modelgen.corpus import CorpusError
from modelgen.dataset import DatasetConfig, DatasetError, build_dataset
from modelgen.provenance import file_sha256
from tests.modelgen.builders import make_corpus, make_dataset, write_song


@pytest.fixture(scope="session")
def corpus(tmp_path_factory):
    return make_corpus(tmp_path_factory.mktemp("dataset-corpus") / "corpus", songs=6, seconds=12, seed=3)


@pytest.fixture(scope="session")
def dataset(corpus, tmp_path_factory):
    return make_dataset(corpus, tmp_path_factory.mktemp("dataset") / "out", seed=3)


@pytest.fixture(scope="session")
def manifest(dataset):
    return contracts.load_manifest(dataset)


def test_a_build_writes_every_file(dataset):
    for name in (
        "manifest.json",
        "train.jsonl",
        "valid.jsonl",
        "test.jsonl",
        "config.json",
        "stats.json",
        "norms.json",
        "hashes.json",
    ):
        assert (dataset / name).is_file(), name
    assert not list(dataset.parent.glob(".*partial*"))
    assert not (dataset / "units").exists()


def test_every_audio_file_named_in_the_manifest_exists_with_its_hash(dataset, manifest):
    for scenario in manifest["scenarios"]:
        for path, digest in scenario["audio"]["sha256"].items():
            assert file_sha256(dataset / path) == digest
        named = [
            *scenario["audio"]["reference"].values(),
            scenario["audio"]["as_given_mix"],
            scenario["audio"]["reference_mix"],
            *scenario["audio"]["model_inputs"],
            scenario["audio"]["model_mix"],
        ]
        assert set(named) == set(scenario["audio"]["sha256"])


def test_chat_records_follow_the_contract_and_carry_the_target_advice(dataset, manifest):
    ids = set()
    for split in ("train", "valid", "test"):
        for record in contracts.load_dataset_records(dataset / f"{split}.jsonl"):
            assert record["split"] == split
            assert record["messages"][-1]["role"] == "assistant"
            assert record["messages"][-1]["content"][0]["text"]
            ids.add(record["scenario_id"])
    assert ids == {scenario["id"] for scenario in manifest["scenarios"]}


def test_the_assistant_turn_states_the_ground_truth_direction(dataset, manifest):
    truth = {s["id"]: s for s in manifest["scenarios"]}
    for record in contracts.load_dataset_records(dataset / "train.jsonl"):
        scenario = truth[record["scenario_id"]]
        for stem, entry in record["target"].items():
            correction = scenario["corrections_db"][stem]
            expected = "leave" if correction == 0 else ("up" if correction > 0 else "down")
            assert entry["direction"] == expected


def test_no_song_is_in_two_splits(manifest):
    splits = {}
    for scenario in manifest["scenarios"]:
        for song in (
            scenario.get("songs", {scenario["song"]: None}).values()
            if scenario.get("hybrid")
            else [scenario["song"]]
        ):
            splits.setdefault(song, set()).add(scenario["split"])
    assert splits and all(len(found) == 1 for found in splits.values())
    assert {scenario["split"] for scenario in manifest["scenarios"]} == {"train", "valid", "test"}


def test_the_anchor_is_never_flawed_and_silent_stems_never_are(manifest):
    instrumental = [s for s in manifest["scenarios"] if s["song"].endswith("006")]
    assert instrumental
    for scenario in manifest["scenarios"]:
        assert scenario["gains_db"][scenario["anchor"]] == 0
        for stem in scenario["flawed"]:
            assert scenario["active"][stem] and scenario["loudness_lufs"][stem] is not None
    assert all(s["loudness_lufs"]["vocals"] is None and "vocals" not in s["flawed"] for s in instrumental)


def test_stem_loudness_in_the_manifest_is_what_the_rendered_reference_files_measure(dataset, manifest):
    from modelgen import audio

    checked = 0
    for scenario in manifest["scenarios"]:
        for stem, path in scenario["audio"]["reference"].items():
            expected = scenario["loudness_lufs"][stem]
            if expected is None:
                continue
            clip, rate = audio.load_audio(dataset / path)
            assert audio.integrated_loudness(clip, rate) == pytest.approx(expected, abs=0.05)
            checked += 1
    assert checked > 20
    assert any(scenario["hybrid"] for scenario in manifest["scenarios"])


def test_scenarios_of_one_segment_share_the_reference_files(manifest):
    by_group = {}
    for scenario in manifest["scenarios"]:
        by_group.setdefault(scenario["render_group"], []).append(scenario)
    shared = [group for group in by_group.values() if len(group) > 1]
    assert shared
    for group in shared:
        assert len({s["audio"]["reference_mix"] for s in group}) == 1
        assert len({s["audio"]["as_given_mix"] for s in group}) == len(group)
        for stem in group[0]["stems"]:
            assert len({s["audio"]["reference"][stem] for s in group}) == 1


def test_the_small_corpus_yields_hybrids_flaw_counts_and_stats_that_add_up(dataset, manifest):
    stats = json.loads((dataset / "stats.json").read_text())
    assert stats["scenarios"] == len(manifest["scenarios"]) == sum(stats["per_split"].values())
    assert sum(stats["per_flaw_count"].values()) == stats["scenarios"]
    assert set(stats["per_flaw_count"]) == {"0", "1", "2+"}
    assert stats["hybrids"] >= 1
    assert stats["headroom_db"]["min"] >= 1.0


def test_norms_are_saved_for_the_baseline(dataset):
    from modelgen.baseline import GenreNorms

    saved = json.loads((dataset / "norms.json").read_text())
    norms = GenreNorms.from_dict(saved["norms"])
    assert saved["rows"] > 0
    assert isinstance(norms.offset(genre="Pop", anchor="vocals", stem="drums"), float)


@pytest.mark.slow
def test_the_same_seed_gives_identical_hashes(corpus, dataset, tmp_path):
    again = make_dataset(corpus, tmp_path / "again", seed=3)
    first = json.loads((dataset / "hashes.json").read_text())
    second = json.loads((again / "hashes.json").read_text())
    assert first["audio"] == second["audio"]
    for split in ("train", "valid", "test"):
        assert (dataset / f"{split}.jsonl").read_bytes() == (again / f"{split}.jsonl").read_bytes()


@pytest.mark.slow
def test_an_interrupted_build_leaves_no_dataset_and_resumes(corpus, tmp_path, monkeypatch):
    from modelgen import stimuli

    out = tmp_path / "out"
    real = stimuli.render_group
    calls = []

    def failing(scenarios, songs, out_dir, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(scenarios, songs, out_dir, **kwargs)

    monkeypatch.setattr(stimuli, "render_group", failing)
    config = DatasetConfig.from_dict({"seed": 3, "scenarios": {"hybrid_share": 0}})
    with pytest.raises(KeyboardInterrupt):
        build_dataset(corpus, out, config=config)
    assert not out.exists()
    partial = tmp_path / ".out.partial"
    assert not (partial / "manifest.json").exists()
    units = sorted((partial / "units").glob("*.json"))
    assert units

    resumed = []

    def counting(*args, **kwargs):
        resumed.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(stimuli, "render_group", counting)
    build_dataset(corpus, out, config=config)
    contracts.load_manifest(out)
    assert not partial.exists()
    total = len({s["render_group"] for s in contracts.load_manifest(out)["scenarios"]})
    assert len(resumed) == total - len(units)  # finished units were reused, not rendered again


@pytest.mark.slow
def test_a_tampered_unit_is_rendered_again(corpus, tmp_path, monkeypatch):
    from modelgen import stimuli

    out = tmp_path / "out"
    config = DatasetConfig.from_dict(
        {"seed": 3, "scenarios": {"hybrid_share": 0, "max_segments_per_song": 1}}
    )
    monkeypatch.setattr(stimuli, "render_group", _interrupt_after(stimuli.render_group, 2))
    with pytest.raises(KeyboardInterrupt):
        build_dataset(corpus, out, config=config)
    partial = tmp_path / ".out.partial"
    some_file = next((partial / "audio").rglob("*.flac"))
    soundfile.write(some_file, np.zeros((10, 2), np.float32), 44100)
    monkeypatch.undo()
    build_dataset(corpus, out, config=config)
    for scenario in contracts.load_manifest(out)["scenarios"]:
        for path, digest in scenario["audio"]["sha256"].items():
            assert file_sha256(out / path) == digest


def _interrupt_after(real, count):
    calls = []

    def render(*args, **kwargs):
        calls.append(1)
        if len(calls) > count:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    return render


def _missing_stem(root):
    write_song(root, "train", "A - B", skip=("bass",))


def _short_stem(root):
    folder = write_song(root, "train", "A - B")
    soundfile.write(folder / "drums.wav", np.zeros((44_099, 2), np.float32), 44_100)


def _other_rate(root):
    folder = write_song(root, "train", "A - B")
    soundfile.write(folder / "other.wav", np.zeros((44_100, 2), np.float32), 48_000)


def _not_audio(root):
    folder = write_song(root, "train", "A - B")
    (folder / "vocals.wav").write_text("not audio")


def _no_songs(root):
    (root / "train").mkdir(parents=True)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (_missing_stem, "bass.wav: missing stem"),
        (_short_stem, "stems differ in length: .*drums 44099"),
        (_other_rate, "stems differ in sample rate"),
        (_not_audio, "vocals.wav: not a readable audio file"),
        (_no_songs, "no songs found"),
    ],
)
def test_a_bad_corpus_names_the_problem_and_writes_nothing(make, message, tmp_path):
    corpus = tmp_path / "corpus"
    make(corpus)
    out = tmp_path / "out"
    with pytest.raises(CorpusError, match=message):
        build_dataset(corpus, out, config=DatasetConfig())
    assert sorted(path.name for path in tmp_path.iterdir()) == ["corpus"]


def test_a_corpus_too_short_for_one_segment_is_refused_and_leaves_nothing(tmp_path):
    corpus = make_corpus(tmp_path / "corpus", songs=1, seconds=5, seed=1)
    with pytest.raises(DatasetError, match=r"no scenario: no 10 s segment .* \(shortest song 5.0 s\)"):
        build_dataset(corpus, tmp_path / "out", config=DatasetConfig())
    assert sorted(path.name for path in tmp_path.iterdir()) == ["corpus"]


def test_an_existing_dataset_is_not_overwritten(corpus, dataset):
    with pytest.raises(DatasetError, match="not empty"):
        build_dataset(corpus, dataset, config=DatasetConfig())


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"sed": 1}, "unknown settings \\['sed'\\]"),
        ({"scenarios": {"flaw_mix": {"2+": -1}}}, "non-negative"),
        ({"representation": "spectrogram"}, "representation"),
    ],
)
def test_a_bad_dataset_config_is_refused_with_its_field(values, message):
    with pytest.raises(ValueError, match=message):
        DatasetConfig.from_dict(values)
