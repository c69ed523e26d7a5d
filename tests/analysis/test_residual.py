"""The advice-applied residual on levels (hand-computed) and on real audio (power-sum check)."""

import math

import numpy as np
import pytest
import soundfile

from analysis.metrics import ScoringContext, get
from analysis.metrics.residual import level_residual
from tests.analysis.conftest import make_items, make_scenario

RATE = 44_100
STEMS = ("vocals", "drums", "bass", "other")


@pytest.fixture
def dataset(tmp_path):
    """Independent white-noise stems of equal loudness (uncorrelated, so mix power adds)."""
    rng = np.random.default_rng(7)
    for stem in STEMS:
        path = tmp_path / "audio" / "s1" / "reference" / f"{stem}.wav"
        path.parent.mkdir(parents=True, exist_ok=True)
        noise = (0.05 * rng.standard_normal((RATE * 4, 2))).astype(np.float32)
        soundfile.write(path, noise, RATE)
    return tmp_path


def silence(dataset, stem):
    path = dataset / "audio" / "s1" / "reference" / f"{stem}.wav"
    soundfile.write(path, np.zeros((RATE * 4, 2), dtype=np.float32), RATE)


def power_sum_residual(gains):
    """Expected mix residual for equal-loudness uncorrelated stems: mix loudness adds in power."""
    shift = 10 * math.log10(sum(10 ** (g / 10) for g in gains.values()) / len(gains))
    return sum(abs(g - shift) for g in gains.values()) / len(gains)


def items_for(scenario, *advice):
    return make_items(
        [(f"s1:{n}", scenario, "text", None, corrections) for n, corrections in enumerate(advice)]
    )


def test_level_residual_is_the_mean_distance_of_each_stem_from_its_reference():
    scenario = make_scenario("s1", {"drums": 4.5})
    assert level_residual(scenario, {"drums": -4.5}) == 0.0
    assert level_residual(scenario, {}) == pytest.approx(4.5 / 4)
    assert level_residual(scenario, {"drums": 4.5}) == pytest.approx(9.0 / 4)
    # moving the anchor moves it away from its reference too
    assert level_residual(scenario, {"drums": -4.5, "vocals": 2.0}) == pytest.approx(2.0 / 4)


def test_level_residual_leaves_out_silent_stems():
    scenario = make_scenario(
        "s1", {"drums": 4.5}, loudness={"vocals": -18.0, "drums": -20.0, "bass": None, "other": -21.0}
    )
    assert level_residual(scenario, {}) == pytest.approx(4.5 / 3)


def test_registered_residual_lu_scores_each_item():
    scenario = make_scenario("s1", {"drums": 4.5})
    values = get("residual_lu")(items_for(scenario, {"drums": -4.5}, {"drums": 4.5}), ScoringContext())
    assert values == [0.0, pytest.approx(2.25)]


def test_mix_residual_is_zero_when_the_advice_undoes_the_offsets(dataset):
    scenario = make_scenario("s1", {"drums": 6.0, "bass": -4.0})
    values = get("mix_residual_lu")(
        items_for(scenario, {"drums": -6.0, "bass": 4.0}), ScoringContext(dataset_dir=dataset)
    )
    assert values[0] == pytest.approx(0.0, abs=1e-6)


def test_mix_residual_of_no_advice_matches_the_power_sum_of_uncorrelated_stems(dataset):
    scenario = make_scenario("s1", {"drums": 6.0})
    measured = get("mix_residual_lu")(items_for(scenario, {}), ScoringContext(dataset_dir=dataset))[0]
    expected = power_sum_residual({"vocals": 0.0, "drums": 6.0, "bass": 0.0, "other": 0.0})
    assert expected == pytest.approx(2.71, abs=0.01)
    assert measured == pytest.approx(expected, abs=0.05)


def test_mix_residual_ignores_a_change_of_overall_level_which_level_residual_counts(dataset):
    scenario = make_scenario("s1", {"drums": 6.0})
    louder = {"vocals": 3.0, "drums": -3.0, "bass": 3.0, "other": 3.0}  # undo the flaw, then everything +3 dB
    items = items_for(scenario, louder)
    assert get("mix_residual_lu")(items, ScoringContext(dataset_dir=dataset))[0] == pytest.approx(
        0.0, abs=1e-4
    )
    assert get("residual_lu")(items, ScoringContext())[0] == pytest.approx(3.0)


def test_mix_residual_grows_with_wrong_advice(dataset):
    scenario = make_scenario("s1", {"drums": 6.0})
    half, none, wrong = get("mix_residual_lu")(
        items_for(scenario, {"drums": -3.0}, {}, {"drums": 3.0}), ScoringContext(dataset_dir=dataset)
    )
    assert half < none < wrong


def test_mix_residual_leaves_out_a_silent_stem(dataset):
    silence(dataset, "other")
    scenario = make_scenario("s1", {"drums": 6.0})
    measured = get("mix_residual_lu")(items_for(scenario, {}), ScoringContext(dataset_dir=dataset))[0]
    assert measured == pytest.approx(power_sum_residual({"vocals": 0.0, "drums": 6.0, "bass": 0.0}), abs=0.05)


def test_mix_residual_without_the_dataset_folder_says_to_give_it():
    scenario = make_scenario("s1", {"drums": 6.0})
    with pytest.raises(ValueError, match="--dataset"):
        get("mix_residual_lu")(items_for(scenario, {}), ScoringContext())
