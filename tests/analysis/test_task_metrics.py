"""Registered task metrics on hand-checked advice, next to the text metrics that cannot see direction."""

import math

import pytest

from analysis.scoring import score_items
from tests.analysis.conftest import make_items, make_scenario

BOOST = "boost the vocal +3 dB"
CUT = "cut the vocal −3 dB"


@pytest.fixture
def vocal_pair():
    # The vocals are 3 dB too quiet (anchor: drums); one advice boosts them, the other cuts them.
    scenario = make_scenario("v1", {"vocals": -3.0}, anchor="drums")
    return make_items(
        [
            ("v1:boost", scenario, BOOST, BOOST, {"vocals": 3.0}),
            ("v1:cut", scenario, CUT, BOOST, {"vocals": -3.0}),
        ]
    )


def values(scores, metric):
    return scores[scores["metric"] == metric].set_index("item")["value"].to_dict()


def test_boost_versus_cut_flips_direction_accuracy_while_rouge_l_barely_moves(vocal_pair, context):
    scores = score_items(vocal_pair, ["joint_accuracy", "flawed_direction_accuracy", "rouge_l"], context)
    assert values(scores, "flawed_direction_accuracy") == {"v1:boost": 1.0, "v1:cut": 0.0}
    assert values(scores, "joint_accuracy") == {"v1:boost": 1.0, "v1:cut": 0.0}
    rouge = values(scores, "rouge_l")
    assert rouge["v1:boost"] == 1.0
    # rouge-score tokens: boost/cut, the, vocal, 3, db -> LCS 4 of 5: P = R = F = 0.8
    assert rouge["v1:cut"] == pytest.approx(0.8)


def test_direction_accuracy_counts_the_unflawed_stems_too(vocal_pair, context):
    scores = values(score_items(vocal_pair, ["direction_accuracy"], context), "direction_accuracy")
    assert scores == {"v1:boost": 1.0, "v1:cut": pytest.approx(2 / 3)}


def test_abs_error_and_intensity_accuracy_match_a_hand_count(context):
    scenario = make_scenario("s", {"bass": 8.0, "other": -3.5})  # corrections: bass -8 (large), other +3.5
    items = make_items([("s:x", scenario, "t", "r", {"bass": -3.0, "drums": 2.0})])
    scores = score_items(
        items, ["abs_error_db", "intensity_accuracy", "stem_identification", "no_error"], context
    )
    got = scores.set_index("metric")["value"]
    assert got["abs_error_db"] == pytest.approx((2.0 + 5.0 + 3.5) / 3)  # drums, bass, other
    assert got["intensity_accuracy"] == 0.0  # drums moderate≠none, bass moderate≠large, other none≠moderate
    assert got["stem_identification"] == 0.0
    assert math.isnan(got["no_error"])


def test_balanced_mix_left_alone_scores_no_error_one(context):
    items = make_items([("b:x", make_scenario("b"), "The balance is right.", "r", {})])
    scores = score_items(items, ["no_error", "joint_accuracy"], context).set_index("metric")["value"]
    assert scores["no_error"] == 1.0 and scores["joint_accuracy"] == 1.0
