"""Automatic metrics of advice items, in one registry (see :mod:`analysis.metrics.registry`).

Task metrics (:mod:`.task`, :mod:`.residual`), lexical and semantic text metrics
(:mod:`.text`) and the LLM judge (:mod:`.judge`) register themselves on import; use
:func:`~analysis.metrics.registry.resolve` or :func:`~analysis.metrics.registry.get` to reach them.
"""

from analysis.metrics.context import ScoringContext
from analysis.metrics.registry import (
    KINDS,
    Metric,
    UnknownMetricError,
    aggregate,
    get,
    known_metrics,
    metric,
    registry_frame,
    resolve,
)

__all__ = [
    "KINDS",
    "Metric",
    "ScoringContext",
    "UnknownMetricError",
    "aggregate",
    "get",
    "known_metrics",
    "metric",
    "registry_frame",
    "resolve",
]
