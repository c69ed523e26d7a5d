"""Scenario planning: anchors, flaws, ground truth, seeds, splits and cross-song hybrids."""

import numpy as np
import pytest

from modelgen.baseline import GenreNorms
from modelgen.corrections import STEMS, intensity_class
from modelgen.scenarios import (
    ScenarioConfig,
    choose_anchor,
    derive_seed,
    norm_rows,
    plan_hybrids,
    plan_scenarios,
    plan_song,
    segment_starts,
    tempo_compatible,
)

SR = 44_100
LEVELS = {"vocals": -16.0, "drums": -19.0, "bass": -21.0, "other": -20.0}


def stats(silent=(), levels=LEVELS):
    return {
        stem: {
            "lufs": None if stem in silent else levels[stem],
            "active": stem not in silent,
            "active_ratio": 0.0 if stem in silent else 1.0,
        }
        for stem in STEMS
    }


def analysis(name, *, split="train", genre="Pop", tempo=120.0, segments=4, silent=(), levels=LEVELS):
    size = 10 * SR
    return {
        "song": name,
        "split": split,
        "genre": genre,
        "licence": "CC0-1.0",
        "tempo_bpm": tempo,
        "sample_rate": SR,
        "frames": segments * size,
        "segments": [
            {"index": i, "start_frame": i * size, "frames": size, "stems": stats(silent, levels)}
            for i in range(segments)
        ],
    }


@pytest.fixture(scope="module")
def many():
    """Scenarios from twenty songs, one with silent vocals."""
    analyses = [analysis(f"Artist - Song {i}", segments=10) for i in range(19)]
    analyses.append(analysis("Band - Instrumental", segments=10, silent=("vocals",)))
    config = ScenarioConfig(anchor_strategy="random", hybrid_share=0)
    return plan_scenarios(analyses, config, run_seed=3)["scenarios"]


def test_the_anchor_is_never_flawed(many):
    assert all(s["gains_db"][s["anchor"]] == 0 and s["anchor"] not in s["flawed"] for s in many)


def test_a_silent_stem_is_never_flawed_or_chosen_as_anchor(many):
    instrumental = [s for s in many if s["song"] == "Band - Instrumental"]
    assert instrumental
    assert all(s["anchor"] != "vocals" and s["gains_db"]["vocals"] == 0 for s in instrumental)
    assert all(s["loudness_lufs"]["vocals"] is None for s in instrumental)


def test_the_ground_truth_is_the_inverse_of_the_offset(many):
    for s in many:
        assert all(s["corrections_db"][stem] == -s["gains_db"][stem] for stem in s["stems"])
        assert s["flawed"] == [stem for stem in s["stems"] if s["gains_db"][stem] != 0]


def test_offsets_come_from_the_intensity_ranges_with_both_signs(many):
    offsets = [s["gains_db"][stem] for s in many for stem in s["flawed"]]
    magnitudes = np.abs(offsets)
    assert magnitudes.min() >= 3.0 and magnitudes.max() <= 12.0
    assert min(offsets) < 0 < max(offsets)
    assert {intensity_class(o) for o in offsets} == {"moderate", "large"}
    assert all(
        s["intensity"][stem] == intensity_class(s["gains_db"][stem]) for s in many for stem in s["stems"]
    )


def test_flaw_counts_follow_the_configured_mix(many):
    counts = {label: sum(s["flaw_count"] == label for s in many) / len(many) for label in ("0", "1", "2+")}
    assert counts["0"] == pytest.approx(0.2, abs=0.08)
    assert counts["1"] == pytest.approx(0.4, abs=0.1)
    assert counts["2+"] == pytest.approx(0.4, abs=0.1)
    assert any(len(s["flawed"]) == 3 for s in many)


def test_stems_are_in_prompt_order_with_the_anchor_first(many):
    assert all(s["stems"][0] == s["anchor"] and sorted(s["stems"]) == sorted(STEMS) for s in many)


def test_a_segment_never_holds_the_same_scenario_twice():
    config = ScenarioConfig(scenarios_per_segment=3, flaw_mix={"0": 0.5, "1": 0.5})
    scenarios = plan_song(analysis("A - B", segments=20), config, 0)
    by_segment = {}
    for s in scenarios:
        key = (s["anchor"], tuple(sorted(s["gains_db"].items())))
        assert key not in by_segment.setdefault(s["render_group"], set())
        by_segment[s["render_group"]].add(key)


def test_the_same_seed_plans_the_same_scenarios_and_another_seed_does_not():
    song = analysis("A - B")
    config = ScenarioConfig()
    assert plan_song(song, config, 1) == plan_song(song, config, 1)
    assert plan_song(song, config, 1) != plan_song(song, config, 2)


def test_a_songs_scenarios_do_not_depend_on_the_other_songs():
    config = ScenarioConfig(hybrid_share=0)
    alone = plan_scenarios([analysis("A - B")], config, 5)["scenarios"]
    together = plan_scenarios([analysis("C - D"), analysis("A - B")], config, 5)["scenarios"]
    assert alone == [s for s in together if s["song"] == "A - B"]


def test_scenario_seeds_are_derived_from_the_run_seed():
    assert derive_seed(1, "x") == derive_seed(1, "x") != derive_seed(2, "x")


@pytest.mark.parametrize(
    ("strategy", "silent", "expected"),
    [
        ("vocals-first", (), "vocals"),
        ("fixed-priority", ("vocals",), "drums"),
        ("loudest", ("vocals",), "drums"),
    ],
)
def test_anchor_strategies(strategy, silent, expected):
    assert choose_anchor(stats(silent), strategy, STEMS, np.random.default_rng(0)) == expected


def test_vocals_first_falls_back_to_another_active_stem_when_vocals_rest():
    picks = {
        choose_anchor(stats(("vocals",)), "vocals-first", STEMS, np.random.default_rng(i)) for i in range(30)
    }
    assert picks == {"drums", "bass", "other"}


def test_a_segment_with_one_active_stem_gives_no_scenario():
    song = analysis("A - B", silent=("vocals", "drums", "bass"))
    assert plan_song(song, ScenarioConfig(), 0) == []


def test_segments_can_be_limited_and_spread_over_the_song():
    config = ScenarioConfig(max_segments_per_song=3)
    assert segment_starts(100 * SR, SR, config) == [0, 40 * SR, 90 * SR]
    assert segment_starts(25 * SR, SR, ScenarioConfig()) == [0, 10 * SR]


def test_training_norm_rows_come_only_from_the_training_split():
    rows = norm_rows([analysis("A - B"), analysis("C - D", split="test", genre="Rock")])
    assert rows and {row["genre"] for row in rows} == {"Pop"}
    row = next(r for r in rows if r["anchor"] == "vocals" and r["stem"] == "drums")
    assert row["offset_lu"] == pytest.approx(-3.0)


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [(120, 124, True), (120, 130, False), (120, 61, True), (None, 120, False)],
)
def test_tempo_compatibility_allows_half_and_double_time(first, second, expected):
    assert tempo_compatible(first, second, 0.06) is expected


def hybrid_world():
    loud_band = {"vocals": -16.0, "drums": -10.0, "bass": -12.0, "other": -11.0}
    return [
        analysis("P - 1", tempo=100),
        analysis("P - 2", tempo=102, levels=loud_band),
        analysis("P - 3", tempo=150),  # incompatible tempo
        analysis("R - 1", tempo=100, genre="Rock"),
        analysis("T - 1", split="test", tempo=101),
    ]


def test_hybrids_take_stems_from_compatible_songs_of_one_genre_and_split_at_the_genre_median():
    world = hybrid_world()
    norms = GenreNorms.fit(norm_rows(world[:2]))
    hybrids, skipped = plan_hybrids(world, norms, ScenarioConfig(), 9, "train", 20)
    assert hybrids and skipped < 20
    for hybrid in hybrids:
        songs = set(hybrid["songs"].values())
        assert len(songs) >= 2 and songs <= {"P - 1", "P - 2"}
        assert hybrid["split"] == "train" and hybrid["genre"] == "Pop" and hybrid["hybrid"]
        anchor = hybrid["anchor"]
        assert hybrid["gains_db"][anchor] == 0
        for stem in hybrid["stems"][1:]:
            expected = norms.offset(genre="Pop", anchor=anchor, stem=stem)
            offset = hybrid["loudness_lufs"][stem] - hybrid["loudness_lufs"][anchor]
            assert offset == pytest.approx(expected, abs=0.02)


def test_no_hybrid_crosses_a_split():
    world = hybrid_world()
    norms = GenreNorms.fit(norm_rows(world))
    hybrids, skipped = plan_hybrids(world, norms, ScenarioConfig(), 9, "test", 5)
    assert hybrids == [] and skipped == 5


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"anchor_strategy": "quietest"}, "anchor_strategy"),
        ({"flaw_mix": {"3": 1.0}}, "unknown keys"),
        ({"offset_ranges_db": {"moderate": [7.0, 9.0], "large": [6.0, 12.0]}}, "inside the moderate class"),
        ({"segment_seconds": 0.2}, "at least 1 s"),
        ({"anchor_priority": ("vocals", "drums")}, "exactly the stems"),
    ],
)
def test_a_bad_scenario_config_is_refused_with_its_field(values, message):
    with pytest.raises(ValueError, match=message):
        ScenarioConfig(**values)


def test_a_song_without_a_listed_tempo_gets_one_estimated_from_its_drums(tmp_path):
    import dataclasses

    from modelgen.corpus import open_corpus
    from modelgen.scenarios import analyse_song
    from tests.modelgen.builders import make_corpus

    song = open_corpus(make_corpus(tmp_path / "c", songs=1, seconds=12, seed=1))[0]
    listed = analyse_song(song, ScenarioConfig())
    estimated = analyse_song(dataclasses.replace(song, tempo_bpm=None), ScenarioConfig())
    assert listed["tempo_source"] == "tracklist" and estimated["tempo_source"] == "estimated"
    assert tempo_compatible(estimated["tempo_bpm"], song.tempo_bpm, 0.03)
