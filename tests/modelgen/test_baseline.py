import inspect
import json

import numpy as np
import pytest

from modelgen.baseline import GenreNorms, baseline_advice, baseline_corrections

ROWS = [
    {"genre": "Rap", "anchor": "vocals", "stem": "drums", "offset_lu": -2.0},
    {"genre": "Rap", "anchor": "vocals", "stem": "drums", "offset_lu": -4.0},
    {"genre": "Rap", "anchor": "vocals", "stem": "drums", "offset_lu": -3.0},
    {"genre": "Rap", "anchor": "vocals", "stem": "bass", "offset_lu": -5.0},
    {"genre": "Rap", "anchor": "vocals", "stem": "other", "offset_lu": -6.0},
    {"genre": "Rock", "anchor": "vocals", "stem": "drums", "offset_lu": 1.0},
    {"genre": "Rock", "anchor": "vocals", "stem": "bass", "offset_lu": -1.0},
    {"genre": "Rock", "anchor": "vocals", "stem": "bass", "offset_lu": float("-inf")},
]


@pytest.fixture
def norms():
    return GenreNorms.fit(ROWS)


def levels_at_norm(norms, genre, anchor_level=-20.0):
    return {
        "vocals": anchor_level,
        **{
            s: anchor_level + norms.offset(genre=genre, anchor="vocals", stem=s)
            for s in ("drums", "bass", "other")
        },
    }


def test_norms_are_the_median_per_genre_anchor_and_stem(norms):
    assert norms.offset(genre="rap", anchor="vocals", stem="drums") == -3.0
    assert norms.offset(genre="Rock", anchor="vocals", stem="bass") == -1.0  # the silent row is skipped


def test_a_genre_without_a_cell_falls_back_to_the_all_genre_median_and_counts_it(norms):
    assert norms.offset(genre="Rock", anchor="vocals", stem="other") == -6.0
    assert norms.offset(genre="Jazz", anchor="vocals", stem="drums") == -2.5
    assert sum(norms.fallbacks.values()) == 2
    assert norms.fallbacks["rock|vocals|other"] == 1


def test_a_pair_never_seen_with_that_anchor_is_derived_through_a_pivot_stem(norms):
    # overall medians: drums vs vocals -2.5, bass vs vocals -3.0, so drums vs bass = +0.5
    assert norms.offset(genre="Rap", anchor="bass", stem="drums") == pytest.approx(0.5)
    assert norms.offset(genre="Rap", anchor="drums", stem="vocals") == pytest.approx(2.5)
    assert norms.fallbacks["rap|bass|drums"] == 1


def test_a_stem_never_measured_in_training_is_an_error(norms):
    with pytest.raises(KeyError, match="piano against the anchor vocals"):
        norms.offset(genre="Rap", anchor="vocals", stem="piano")


def test_norms_survive_a_json_round_trip(norms):
    again = GenreNorms.from_dict(json.loads(json.dumps(norms.to_dict())))
    assert again.by_genre == norms.by_genre
    assert again.overall == norms.overall


def test_fitting_on_no_usable_row_is_refused():
    with pytest.raises(ValueError, match="no usable norm rows"):
        GenreNorms.fit([{"genre": "Pop", "anchor": "vocals", "stem": "bass", "offset_lu": None}])


def test_the_baseline_cannot_be_given_the_ground_truth():
    parameters = inspect.signature(baseline_advice).parameters
    assert not {"corrections_db", "gains_db", "flawed"} & set(parameters)


def test_levels_exactly_at_the_genre_norm_get_balanced_advice(norms):
    for seed in range(20):
        advice = baseline_advice(
            anchor="vocals",
            levels_lufs=levels_at_norm(norms, "Rap"),
            genre="Rap",
            norms=norms,
            rng=np.random.default_rng(seed),
        )
        assert {e["direction"] for e in advice.structured.values()} == {"leave"}
        assert "balance" in advice.text.lower() or "leave" in advice.text.lower()


def test_a_stem_six_db_above_the_norm_is_pulled_down_about_six_db(norms):
    levels = levels_at_norm(norms, "Rap")
    levels["bass"] += 6.0
    advice = baseline_advice(
        anchor="vocals", levels_lufs=levels, genre="Rap", norms=norms, rng=np.random.default_rng(3)
    )
    assert advice.structured["bass"]["direction"] == "down"
    assert advice.structured["bass"]["db"] == pytest.approx(-6.0)
    assert advice.structured["drums"]["direction"] == "leave"


def test_a_silent_stem_is_never_moved(norms):
    levels = levels_at_norm(norms, "Rap")
    levels["other"] = None
    levels["drums"] += 8.0
    corrections, silent = baseline_corrections(anchor="vocals", levels_lufs=levels, genre="Rap", norms=norms)
    assert silent == ("other",)
    assert "other" not in corrections
    advice = baseline_advice(
        anchor="vocals", levels_lufs=levels, genre="Rap", norms=norms, rng=np.random.default_rng(0)
    )
    assert advice.structured["other"]["direction"] == "leave"


def test_a_silent_anchor_is_refused(norms):
    levels = levels_at_norm(norms, "Rap")
    levels["vocals"] = float("-inf")
    with pytest.raises(ValueError, match="anchor vocals is silent"):
        baseline_corrections(anchor="vocals", levels_lufs=levels, genre="Rap", norms=norms)


def test_the_baseline_text_never_asks_to_move_a_silent_stem(norms):
    from modelgen.advice_parse import parse_advice

    levels = levels_at_norm(norms, "Rap")
    levels["bass"] = None
    levels["drums"] += 7.0
    for seed in range(20):
        advice = baseline_advice(
            anchor="vocals", levels_lufs=levels, genre="Rap", norms=norms, rng=np.random.default_rng(seed)
        )
        parsed = parse_advice(advice.text, anchor="vocals")
        assert parsed.get("bass") is None or parsed["bass"].direction == "leave"
        assert parsed["drums"].direction == "down"


def test_a_norm_row_without_a_field_is_refused_by_name():
    with pytest.raises(ValueError, match="row 0 has no 'offset_lu'"):
        GenreNorms.fit([{"genre": "Pop", "anchor": "vocals", "stem": "bass"}])


def test_a_stem_without_any_norm_is_left_alone_and_counted(norms):
    levels = {"vocals": -20.0, "drums": -10.0, "bass": -20.0, "other": -20.0, "piano": -5.0}
    corrections, silent = baseline_corrections(
        anchor="vocals",
        stems=["vocals", "drums", "bass", "other", "piano"],
        levels_lufs=levels,
        genre="Rap",
        norms=norms,
    )
    assert corrections["piano"] == 0.0
    assert corrections["drums"] < -6
    assert norms.unjudged["rap|vocals|piano"] == 1


def test_norms_are_read_from_the_file_a_dataset_build_writes(norms, tmp_path):
    path = tmp_path / "norms.json"
    path.write_text(json.dumps({"schema_version": "1.0", "rows": 8, "norms": norms.to_dict()}))
    assert GenreNorms.read(path).overall == norms.overall
    path.write_text(json.dumps({"schema_version": "1.0", "rows": 0, "norms": None}))
    with pytest.raises(ValueError, match="holds no norms"):
        GenreNorms.read(path)
    path.write_text("{not json")
    with pytest.raises(ValueError, match="is not JSON"):
        GenreNorms.read(path)
