"""Task metrics of the parsed corrections, per advice item (one implementation: modelgen.evaluation).

Each metric reads the item's ``scenario`` (ground truth) and ``corrections`` (parsed from the
advice) and returns the per-item value of :func:`modelgen.evaluation.score_item`. Aggregated
over items (``mean``), the 0/1 metrics become the rates that ``evaluate_advice`` reports;
direction F1 is a property of a set of items, not of one, so it lives only in
:func:`modelgen.evaluation.summarise`.
"""

from analysis.metrics.registry import TASK, metric
from modelgen.evaluation import score_item

NEEDS = ("scenario", "corrections")


def _per_item(items, key):
    return [
        score_item(scenario, corrections)[key]
        for scenario, corrections in zip(items["scenario"], items["corrections"])
    ]


@metric("direction_accuracy", kind=TASK, higher_is_better=True, inputs=NEEDS)
def direction_accuracy(items, context):
    """Share of scored stems (all but the anchor) whose direction (up, down, leave) is right."""
    return _per_item(items, "direction_accuracy")


@metric("flawed_direction_accuracy", kind=TASK, higher_is_better=True, inputs=NEEDS)
def flawed_direction_accuracy(items, context):
    """Share of truly flawed stems moved the right way; missing for a balanced scenario."""
    return _per_item(items, "flawed_direction_accuracy")


@metric("joint_accuracy", kind=TASK, higher_is_better=True, inputs=NEEDS)
def joint_accuracy(items, context):
    """1 when the advice moves exactly the flawed stems, each the right way (stem + direction)."""
    return _per_item(items, "joint_correct")


@metric("stem_identification", kind=TASK, higher_is_better=True, inputs=NEEDS)
def stem_identification(items, context):
    """1 when the set of stems the advice moves equals the set of flawed stems."""
    return _per_item(items, "stem_identified")


@metric("intensity_accuracy", kind=TASK, higher_is_better=True, inputs=NEEDS)
def intensity_accuracy(items, context):
    """Share of scored stems whose intensity range (none, moderate 1.5–6 dB, large ≥ 6 dB) is right."""
    return _per_item(items, "intensity_accuracy")


@metric("abs_error_db", kind=TASK, higher_is_better=False, inputs=NEEDS, unit="dB")
def abs_error_db(items, context):
    """Mean absolute difference between advised and true correction over scored stems, in dB."""
    return _per_item(items, "mean_abs_error_db")


@metric("no_error", kind=TASK, higher_is_better=True, inputs=NEEDS)
def no_error(items, context):
    """1 when a balanced mix's advice moves nothing, 0 when it moves a stem; missing if flawed."""
    return _per_item(items, "no_error")
