"""Shared vocabulary of gain corrections: stems, directions, intensity classes, per-item error.

One implementation serves the scenario builder, the advice parser, the study's objective
error and the analysis' task metrics. A correction is the change in dB an engineer should
make to a stem (positive = louder); 0 means leave it as it is.
"""

import math

STEMS = ("vocals", "drums", "bass", "other")
"""MUSDB18 stem names in canonical order; prompt order is the anchor, then the rest in this order."""

UP, DOWN, LEAVE = "up", "down", "leave"
LEAVE_BELOW_DB = 1.5
"""A correction smaller than this (in magnitude) counts as "leave as is"."""

INTENSITY_CLASSES = (
    ("none", 0.0, LEAVE_BELOW_DB),
    ("moderate", LEAVE_BELOW_DB, 6.0),
    ("large", 6.0, math.inf),
)
"""(name, lowest |dB| inclusive, highest |dB| exclusive). Offsets are drawn from 3–6 dB for
moderate and 6–12 dB for large flaws, as in the prior work, so the numbers compare."""


def prompt_order(anchor, stems=STEMS):
    """Return the stems in prompt order: the anchor first, then the others in canonical order."""
    stems = list(stems)
    if anchor not in stems:
        raise ValueError(f"anchor {anchor!r} is not one of the stems {stems}")
    return [anchor, *[name for name in stems if name != anchor]]


def direction(db):
    """Return ``up``, ``down`` or ``leave`` for a correction in dB."""
    if db is None or abs(db) < LEAVE_BELOW_DB:
        return LEAVE
    return UP if db > 0 else DOWN


def intensity_class(db):
    """Return the intensity class name (``none``, ``moderate``, ``large``) of a correction."""
    magnitude = abs(db or 0.0)
    for name, low, high in INTENSITY_CLASSES:
        if low <= magnitude < high:
            return name
    raise ValueError(f"cannot classify a correction of {db!r} dB")


def item_error(truth, predicted, *, anchor=None):
    """Objective error of one piece of advice against the ground truth.

    Parameters
    ----------
    truth : dict
        stem -> true correction in dB (``corrections_db`` of the scenario).
    predicted : dict
        stem -> parsed correction in dB (``corrections_db`` of the advice). A stem the
        advice does not mention counts as "leave as is" (0 dB).
    anchor : str, optional
        Excluded from scoring: the anchor is never moved.

    Returns
    -------
    dict
        ``direction_accuracy`` (share of scored stems whose direction is right),
        ``all_directions_correct`` (bool), ``intensity_accuracy`` (share whose intensity
        class is right), ``mean_abs_error_db`` and ``n_stems``.

    Examples
    --------
    >>> item_error({"vocals": 0, "drums": -4.0}, {"drums": 4.0}, anchor="vocals")["direction_accuracy"]
    0.0
    """
    stems = [name for name in truth if name != anchor]
    if not stems:
        raise ValueError("no stem to score: the truth names only the anchor")
    right = [direction(truth[s]) == direction(predicted.get(s, 0.0)) for s in stems]
    same_class = [intensity_class(truth[s]) == intensity_class(predicted.get(s, 0.0)) for s in stems]
    errors = [abs(truth[s] - predicted.get(s, 0.0)) for s in stems]
    return {
        "direction_accuracy": sum(right) / len(stems),
        "all_directions_correct": all(right),
        "intensity_accuracy": sum(same_class) / len(stems),
        "mean_abs_error_db": sum(errors) / len(stems),
        "n_stems": len(stems),
    }
