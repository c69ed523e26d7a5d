"""The metric registry: declaring, finding, listing and aggregating metrics."""

import math

import pandas as pd
import pytest

from analysis.metrics import registry
from analysis.metrics.registry import UnknownMetricError, aggregate, get, metric, registry_frame, resolve

BUILT_IN = {
    "direction_accuracy",
    "flawed_direction_accuracy",
    "joint_accuracy",
    "stem_identification",
    "intensity_accuracy",
    "abs_error_db",
    "no_error",
    "residual_lu",
    "mix_residual_lu",
    "rouge_l",
    "chrf",
    "meteor",
    "meteor_no_synonyms",
    "bertscore_f1",
    "judge_effectiveness",
    "judge_musicality",
    "judge_conventions",
    "judge_actionability",
    "judge_helpfulness",
}


@pytest.fixture
def scratch_metric():
    @metric("words_for_test", kind="lexical", higher_is_better=False, inputs=("text",), aggregation="median")
    def words(items, context):
        """Words in the advice."""
        return [len(text.split()) for text in items["text"]]

    yield registry.REGISTRY["words_for_test"]
    registry.REGISTRY.pop("words_for_test")


def test_every_built_in_metric_is_registered_with_a_direction_and_an_aggregation():
    frame = registry_frame().set_index("metric")
    assert set(frame.index) >= BUILT_IN
    assert not frame.loc["abs_error_db", "higher_is_better"]
    assert frame.loc["residual_lu", "unit"] == "LU"
    assert frame.loc["rouge_l", "kind"] == "lexical"
    assert frame.loc["bertscore_f1", "kind"] == "semantic"
    assert frame.loc["judge_helpfulness", "kind"] == "judge"
    assert set(frame["aggregation"]) <= {"mean", "median"}


def test_one_decorated_function_adds_a_metric_with_its_declared_properties(scratch_metric):
    assert get("words_for_test") is scratch_metric
    assert scratch_metric.description == "Words in the advice."
    assert scratch_metric(pd.DataFrame({"text": ["a b c", "a"]}), None) == [3.0, 1.0]


def test_an_unknown_metric_name_lists_the_known_ones():
    with pytest.raises(UnknownMetricError) as error:
        get("bleu_9000")
    assert "bleu_9000" in str(error.value)
    assert "rouge_l" in str(error.value) and "direction_accuracy" in str(error.value)


def test_registering_the_same_name_twice_is_refused():
    with pytest.raises(ValueError, match="twice"):
        metric("rouge_l", kind="lexical", higher_is_better=True, inputs=("text",))(lambda items, context: [])


def test_a_bad_declaration_is_refused_before_registration():
    with pytest.raises(ValueError, match="kind"):
        metric("x_for_test", kind="vibes", higher_is_better=True, inputs=())
    with pytest.raises(ValueError, match="aggregation"):
        metric("x_for_test", kind="task", higher_is_better=True, inputs=(), aggregation="mode")
    with pytest.raises(ValueError, match="inputs"):
        metric("x_for_test", kind="task", higher_is_better=True, inputs=("audio_files",))


def test_resolve_accepts_names_kinds_and_commas_once_each():
    names = [m.name for m in resolve(["rouge_l,chrf", "lexical"])]
    assert names[:2] == ["rouge_l", "chrf"]
    assert len(names) == len(set(names))
    assert {"meteor", "meteor_no_synonyms"} <= set(names)
    assert {m.name for m in resolve("judge")} == {n for n in BUILT_IN if n.startswith("judge_")}


def test_a_metric_returning_the_wrong_number_of_values_is_an_error(scratch_metric):
    broken = registry.Metric(**{**scratch_metric.__dict__, "function": lambda items, context: [1.0]})
    with pytest.raises(ValueError, match="1 values for 2 items"):
        broken(pd.DataFrame({"text": ["a", "b"]}), None)


def test_none_from_a_metric_becomes_missing_not_zero(scratch_metric):
    missing = registry.Metric(**{**scratch_metric.__dict__, "function": lambda items, context: [None]})
    assert math.isnan(missing(pd.DataFrame({"text": ["a"]}), None)[0])


def test_aggregate_uses_each_metrics_declared_aggregation(scratch_metric):
    scores = pd.DataFrame(
        {
            "item": ["a", "b", "c", "a", "b", "c"],
            "metric": ["words_for_test"] * 3 + ["rouge_l"] * 3,
            "value": [1.0, 2.0, 30.0, 0.1, 0.2, 0.9],
        }
    )
    table = aggregate(scores).set_index("metric")["value"]
    assert table["words_for_test"] == 2.0  # median
    assert table["rouge_l"] == pytest.approx(0.4)  # mean


def test_aggregate_refuses_missing_values_unless_asked_to_omit_them():
    scores = pd.DataFrame({"item": ["a", "b"], "metric": "rouge_l", "value": [0.5, math.nan]})
    with pytest.raises(ValueError, match="omit_missing"):
        aggregate(scores)
    row = aggregate(scores, omit_missing=True).iloc[0]
    assert (row["value"], row["n"], row["n_missing"]) == (0.5, 1, 1)
