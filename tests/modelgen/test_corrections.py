import pytest

from modelgen.contracts import DIMENSIONS as CONTRACT_DIMENSIONS
from modelgen.corrections import direction, intensity_class, item_error, prompt_order
from study.dimensions import DIMENSION_NAMES


def test_the_anchor_comes_first_in_prompt_order():
    assert prompt_order("bass") == ["bass", "vocals", "drums", "other"]


def test_an_unknown_anchor_is_refused():
    with pytest.raises(ValueError, match="anchor 'piano'"):
        prompt_order("piano")


@pytest.mark.parametrize(
    ("decibels", "expected"), [(3.0, "up"), (-7.5, "down"), (0.0, "leave"), (1.0, "leave")]
)
def test_a_correction_has_a_direction(decibels, expected):
    assert direction(decibels) == expected


@pytest.mark.parametrize(
    ("decibels", "expected"), [(0, "none"), (-4.0, "moderate"), (6.0, "large"), (11.9, "large")]
)
def test_a_correction_has_an_intensity_class(decibels, expected):
    assert intensity_class(decibels) == expected


def test_advice_in_the_wrong_direction_scores_zero_direction_accuracy():
    error = item_error({"vocals": 0, "drums": -4.0, "bass": 0}, {"drums": 4.0}, anchor="vocals")
    assert error["direction_accuracy"] == 0.5  # drums wrong, bass (unmentioned = leave) right
    assert error["all_directions_correct"] is False
    assert error["mean_abs_error_db"] == pytest.approx(4.0)


def test_ideal_advice_has_no_error():
    truth = {"vocals": 0, "drums": -4.0, "bass": 8.0, "other": 0}
    error = item_error(truth, truth, anchor="vocals")
    assert error == {
        "direction_accuracy": 1.0,
        "all_directions_correct": True,
        "intensity_accuracy": 1.0,
        "mean_abs_error_db": 0.0,
        "n_stems": 3,
    }


def test_study_and_contract_agree_on_the_dimensions():
    assert DIMENSION_NAMES == CONTRACT_DIMENSIONS
