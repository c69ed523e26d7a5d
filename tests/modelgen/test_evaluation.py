"""Task metrics against the ground truth, checked on small cases computed by hand."""

import math

import pytest

from modelgen.evaluation import evaluate, item_rows, macro_f1, score_item, stem_rows, summary_table


def scenario(scenario_id, corrections, *, anchor="vocals", genre="pop"):
    stems = ["vocals", "drums", "bass", "other"]
    full = {stem: float(corrections.get(stem, 0.0)) for stem in stems}
    return {
        "id": scenario_id,
        "genre": genre,
        "anchor": anchor,
        "stems": [anchor, *[s for s in stems if s != anchor]],
        "flawed": [s for s in stems if full[s]],
        "gains_db": {s: -v for s, v in full.items()},
        "corrections_db": full,
    }


def advice(scenario_id, system, corrections):
    return {"scenario_id": scenario_id, "system": system, "corrections_db": corrections}


SCENARIOS = [
    scenario("s1", {"drums": -4.5}),  # one flaw, moderate
    scenario("s2", {"bass": 8.0, "other": -3.5}, genre="rock"),  # two flaws
    scenario("s3", {}, anchor="drums"),  # balanced
]
ADVICE = [
    advice("s1", "model", {"drums": -4.0}),  # right: down, moderate, 0.5 dB off
    advice("s2", "model", {"bass": 3.0}),  # bass up (class moderate, truth large), other missed
    advice("s3", "model", {"vocals": 2.0}),  # moves a stem in a balanced mix
]


def test_one_item_scores_match_a_hand_count():
    metrics = score_item(SCENARIOS[1], {"bass": 3.0})
    # scored stems: drums (leave/leave ok), bass (up/up ok), other (down/leave wrong)
    assert metrics["direction_accuracy"] == pytest.approx(2 / 3)
    assert metrics["flawed_direction_accuracy"] == pytest.approx(1 / 2)
    # intensity: drums none/none ok, bass large/moderate wrong, other moderate/none wrong
    assert metrics["intensity_accuracy"] == pytest.approx(1 / 3)
    assert metrics["mean_abs_error_db"] == pytest.approx((0 + 5.0 + 3.5) / 3)
    assert metrics["joint_correct"] == 0.0
    assert metrics["stem_identified"] == 0.0
    assert math.isnan(metrics["no_error"])


def test_balanced_mix_left_alone_counts_as_no_error_and_moved_does_not():
    assert score_item(SCENARIOS[2], {})["no_error"] == 1.0
    assert score_item(SCENARIOS[2], {"vocals": 0.5})["no_error"] == 1.0  # under 1.5 dB is "leave"
    assert score_item(SCENARIOS[2], {"vocals": 2.0})["no_error"] == 0.0


def test_right_stems_wrong_direction_identifies_stems_but_fails_joint_accuracy():
    metrics = score_item(SCENARIOS[0], {"drums": 4.5})
    assert metrics["stem_identified"] == 1.0
    assert metrics["joint_correct"] == 0.0
    assert metrics["direction_accuracy"] == pytest.approx(2 / 3)


def test_macro_f1_equals_a_hand_computed_value():
    truth = ["up", "up", "down", "leave", "leave", "leave"]
    predicted = ["up", "leave", "down", "leave", "up", "leave"]
    # up: tp 1, fp 1, fn 1 -> 2/4; down: tp 1 -> 1; leave: tp 2, fp 1, fn 1 -> 4/6
    assert macro_f1(truth, predicted) == pytest.approx((0.5 + 1.0 + 2 / 3) / 3)


def test_macro_f1_leaves_out_a_class_absent_from_truth_and_predictions():
    assert macro_f1(["leave", "leave"], ["leave", "leave"]) == 1.0


def test_summary_overall_numbers_match_a_hand_count():
    result = evaluate(SCENARIOS, ADVICE)
    overall = result["summary"].query("breakdown == 'overall'").set_index("metric")["value"]
    # 9 scored stems. s1: drums ok, bass ok, other ok; s2: 2 of 3; s3 (anchor drums): vocals wrong, bass, other ok
    assert overall["direction_accuracy"] == pytest.approx(7 / 9)
    assert overall["joint_accuracy"] == pytest.approx(1 / 3)
    assert overall["stem_identification"] == pytest.approx(1 / 3)
    assert overall["no_error_rate"] == 0.0
    # truth: down(s1 drums), up(s2 bass), down(s2 other), 6 leave; predicted: down, up, leave, up(s3 vocals), 5 leave
    # up: tp1 fp1 fn0 -> 2/3; down: tp1 fp0 fn1 -> 2/3; leave: tp5 fp1 fn1 -> 10/12
    assert overall["direction_f1"] == pytest.approx((2 / 3 + 2 / 3 + 10 / 12) / 3)
    assert overall["mean_abs_error_db"] == pytest.approx((0.5 + 5.0 + 3.5 + 2.0) / 9)


def test_breakdowns_split_by_flaw_count_genre_stem_and_intensity():
    summary = evaluate(SCENARIOS, ADVICE)["summary"]
    by_flaws = summary.query("breakdown == 'flaw_count' and metric == 'joint_accuracy'").set_index("group")
    assert by_flaws["value"].to_dict() == {"0": 0.0, "1": 1.0, "2+": 0.0}
    large = summary.query("breakdown == 'intensity' and group == 'large'").set_index("metric")
    assert large.loc["intensity_accuracy", "value"] == 0.0
    assert large.loc["intensity_accuracy", "n"] == 1
    per_stem = summary.query("breakdown == 'stem'")
    assert "joint_accuracy" not in set(per_stem["metric"])  # item-level metrics do not split by stem
    genres = set(summary.query("breakdown == 'genre'")["group"])
    assert genres == {"pop", "rock"}


def test_no_error_rate_is_absent_for_groups_without_a_balanced_mix():
    summary = evaluate(SCENARIOS, ADVICE)["summary"]
    rock = summary.query("breakdown == 'genre' and group == 'rock'")
    assert "no_error_rate" not in set(rock["metric"])


def test_wide_table_has_one_row_per_group_and_one_column_per_metric():
    table = summary_table(evaluate(SCENARIOS, ADVICE)["summary"])
    overall = table[(table["breakdown"] == "overall")].iloc[0]
    assert overall["joint_accuracy"] == pytest.approx(1 / 3)


def test_advice_for_an_unknown_scenario_is_refused_with_its_id():
    with pytest.raises(ValueError, match="'nope'"):
        item_rows(SCENARIOS, [advice("nope", "model", {})])


def test_advice_correcting_a_stem_the_scenario_lacks_is_refused():
    with pytest.raises(ValueError, match="guitar"):
        stem_rows(SCENARIOS, [advice("s1", "model", {"guitar": 3.0})])


def test_two_records_for_the_same_scenario_and_system_are_refused():
    with pytest.raises(ValueError, match="second record"):
        item_rows(SCENARIOS, [ADVICE[0], ADVICE[0]])
