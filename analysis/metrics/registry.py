"""One registry of automatic metrics: name -> function, direction, aggregation, inputs, kind.

Adding a metric is adding one decorated function::

    @metric("rouge_l", kind=LEXICAL, higher_is_better=True, inputs=("text", "reference"))
    def rouge_l(items, context):
        ...

A metric function takes the items frame (one row per advice item, see below) and a
:class:`~analysis.metrics.context.ScoringContext`, and returns one float per row, in row order;
NaN marks a missing value (a judge reply that could not be parsed, a silent stem), never 0.

The items frame has the columns ``item`` (``<scenario_id>:<system>``), ``scenario_id``,
``system``, ``text`` (the advice), ``reference`` (the reference advice text, or None),
``corrections`` (stem -> dB parsed from the advice) and ``scenario`` (the manifest entry).
The analysis (reliability, correlation, report) reads :func:`registry_frame` to know which way
each metric points and how to aggregate it.
"""

import math
from dataclasses import dataclass, field

TASK, LEXICAL, SEMANTIC, JUDGE = "task", "lexical", "semantic", "judge"
KINDS = (TASK, LEXICAL, SEMANTIC, JUDGE)
AGGREGATIONS = ("mean", "median")
INPUTS = ("text", "reference", "corrections", "scenario", "audio")
"""What a metric may need: the advice text, a reference text, the parsed corrections, the
scenario, and the scenario's audio files (the dataset folder)."""

REGISTRY = {}


class UnknownMetricError(KeyError):
    """A metric name that is not registered; the message lists the known ones."""

    def __str__(self):
        return self.args[0]


@dataclass(frozen=True)
class Metric:
    """A registered metric and what the analysis needs to know about it."""

    name: str
    function: object = field(repr=False, compare=False)
    kind: str
    higher_is_better: bool
    aggregation: str
    inputs: tuple
    unit: str
    description: str

    def __call__(self, items, context):
        """Score every row of ``items``; return a list of floats (NaN = missing) in row order."""
        values = list(self.function(items, context))
        if len(values) != len(items):
            raise ValueError(f"metric {self.name} returned {len(values)} values for {len(items)} items")
        return [math.nan if value is None else float(value) for value in values]


def metric(name, *, kind, higher_is_better, inputs, aggregation="mean", unit="", description=""):
    """Register the decorated function as a metric called ``name``.

    Parameters
    ----------
    name : str
        Unique metric name, as it appears in score files and reports (``rouge_l``).
    kind : {"task", "lexical", "semantic", "judge"}
        Family of the metric.
    higher_is_better : bool
        Direction: True when a larger value means better advice.
    inputs : tuple of str
        The item columns or resources it reads, from :data:`INPUTS`.
    aggregation : {"mean", "median"}
        How per-item values summarise over a set of items (a system, a group).
    unit : str
        Unit of the value ("dB", "LU", "" for a proportion or a score).
    description : str
        One line for the docs and the report; defaults to the function's first docstring line.

    Examples
    --------
    >>> @metric("length_words", kind="lexical", higher_is_better=False, inputs=("text",))
    ... def length_words(items, context):
    ...     "Number of words in the advice."
    ...     return [len(text.split()) for text in items["text"]]
    >>> get("length_words").higher_is_better
    False
    >>> _ = REGISTRY.pop("length_words")
    """
    if kind not in KINDS:
        raise ValueError(f"metric {name}: kind must be one of {KINDS}, not {kind!r}")
    if aggregation not in AGGREGATIONS:
        raise ValueError(f"metric {name}: aggregation must be one of {AGGREGATIONS}, not {aggregation!r}")
    unknown = [value for value in inputs if value not in INPUTS]
    if unknown:
        raise ValueError(f"metric {name}: unknown inputs {unknown}; known: {INPUTS}")

    def register(function):
        if name in REGISTRY:
            raise ValueError(f"metric {name} is registered twice")
        doc = (function.__doc__ or "").strip().splitlines()
        REGISTRY[name] = Metric(
            name=name,
            function=function,
            kind=kind,
            higher_is_better=bool(higher_is_better),
            aggregation=aggregation,
            inputs=tuple(inputs),
            unit=unit,
            description=description or (doc[0] if doc else ""),
        )
        return function

    return register


def _load_builtin_metrics():
    """Import the modules that register the built-in metrics (each registers on import)."""
    from analysis.metrics import judge, residual, task, text  # noqa: F401


def known_metrics():
    """Return the sorted names of every registered metric."""
    _load_builtin_metrics()
    return sorted(REGISTRY)


def get(name):
    """Return the :class:`Metric` called ``name``; an unknown name lists the known ones."""
    _load_builtin_metrics()
    try:
        return REGISTRY[name]
    except KeyError:
        raise UnknownMetricError(
            f"unknown metric {name!r}; known metrics: {', '.join(sorted(REGISTRY))}"
        ) from None


def resolve(names):
    """Return the metrics for ``names`` (a list, or a comma-separated string), in order, once each.

    Besides metric names, a kind (``task``, ``lexical``, ``semantic``, ``judge``) selects every
    metric of that kind, and ``all`` selects everything.

    Examples
    --------
    >>> [m.name for m in resolve("rouge_l,chrf")]
    ['rouge_l', 'chrf']
    """
    _load_builtin_metrics()
    if isinstance(names, str):
        names = [names]
    names = [part.strip() for name in names for part in name.split(",") if part.strip()]
    chosen = []
    for name in names:
        if name == "all":
            selected = [REGISTRY[key] for key in sorted(REGISTRY)]
        elif name in KINDS:
            selected = [REGISTRY[key] for key in sorted(REGISTRY) if REGISTRY[key].kind == name]
        else:
            selected = [get(name)]
        chosen.extend(m for m in selected if m not in chosen)
    if not chosen:
        raise UnknownMetricError(f"no metric chosen; known metrics: {', '.join(sorted(REGISTRY))}")
    return chosen


def registry_frame():
    """Every registered metric as a DataFrame.

    Returns
    -------
    pandas.DataFrame
        Columns ``metric, kind, higher_is_better, aggregation, inputs, unit, description``, one
        row per metric, sorted by name; ``inputs`` is a comma-separated string.

    Examples
    --------
    >>> frame = registry_frame()
    >>> bool(frame.set_index("metric").loc["direction_accuracy", "higher_is_better"])
    True
    """
    import pandas as pd

    rows = [
        {
            "metric": m.name,
            "kind": m.kind,
            "higher_is_better": m.higher_is_better,
            "aggregation": m.aggregation,
            "inputs": ",".join(m.inputs),
            "unit": m.unit,
            "description": m.description,
        }
        for m in (get(name) for name in known_metrics())
    ]
    return pd.DataFrame(rows, columns=list(rows[0]))


def aggregate(scores, *, by=("metric",), item="item", metric_col="metric", value="value", omit_missing=False):
    """Summarise a long scores frame per metric with each metric's declared aggregation.

    Parameters
    ----------
    scores : pandas.DataFrame
        Long frame with one row per (item, metric); extra columns (``system``) may group.
    by : sequence of str
        Grouping columns; must include the metric column.
    omit_missing : bool
        Missing values (NaN) raise unless True; then they are left out and counted.

    Returns
    -------
    pandas.DataFrame
        ``by`` columns, then ``value`` (the aggregate), ``n`` (values used), ``n_missing``.

    Examples
    --------
    >>> import pandas as pd
    >>> scores = pd.DataFrame({"item": ["a", "b", "c"], "metric": "rouge_l", "value": [0.2, 0.4, 0.9]})
    >>> aggregate(scores)["value"].round(3).tolist()
    [0.5]
    """
    import pandas as pd

    by = list(by)
    if metric_col not in by:
        raise ValueError(f"group by must include the metric column {metric_col!r}")
    missing = scores[value].isna()
    if missing.any() and not omit_missing:
        raise ValueError(
            f"{int(missing.sum())} missing values (e.g. item {scores.loc[missing, item].iloc[0]!r}, "
            f"metric {scores.loc[missing, metric_col].iloc[0]!r}); pass omit_missing=True to leave them out"
        )
    rows = []
    for keys, group in scores.groupby(by, sort=True):
        keys = keys if isinstance(keys, tuple) else (keys,)
        labels = dict(zip(by, keys))
        how = get(labels[metric_col]).aggregation
        present = group[value].dropna()
        summary = getattr(present, how)() if len(present) else math.nan
        rows.append({**labels, "value": summary, "n": len(present), "n_missing": len(group) - len(present)})
    return pd.DataFrame(rows, columns=[*by, "value", "n", "n_missing"])
