"""Agreement of automatic metrics with people: correlations with bootstrap CIs, metric comparisons.

The unit is the item (one piece of advice): each dimension's human score is the mean of the
item's ratings, never the individual rating rows. Three levels:

- ``item``: every item is one point;
- ``scenario``: the correlation is computed within each scenario (across the systems' advice
  for it) and averaged over scenarios; a scenario with fewer than 3 items or constant values
  has no correlation and is counted as dropped;
- ``system``: per-system means, only with at least 5 systems (fewer points give no usable
  correlation), marked by its level name.

Spearman's ρ is the primary statistic; Kendall's τ_b and Pearson's r are reported too. Ties
are handled by average ranks (Spearman) and the τ_b correction (Kendall), and counted.
Confidence intervals are percentile bootstraps: items (or scenarios) are drawn with
replacement. The bootstrap is vectorised: a resample is a row of draw counts ``w``, so the
whole bootstrap is a few matrix products — ranks of a resample are ``w @ L`` with
``L[j, i] = [x_j < x_i] + [x_j = x_i] / 2`` (computed once), and Kendall's concordance is
``w' (S_x ∘ S_y) w / 2`` with the sign matrices ``S``.
"""

import numpy as np
import pandas as pd

from analysis.reliability import bootstrap_weights, percentile_interval

METHODS = ("spearman", "kendall", "pearson")
LEVELS = ("item", "scenario", "system")
MIN_SYSTEMS = 5
MIN_GROUP_ITEMS = 3


def item_means(ratings, *, item="item", dimension="dimension", score="score", keep=("scenario", "system")):
    """Mean human score per item and dimension (the unit of every metric–human correlation).

    Parameters
    ----------
    ratings : pandas.DataFrame
        Long ratings table.
    item, dimension, score : str
        Column names.
    keep : sequence of str
        Item-level columns carried along (their first value per item).

    Returns
    -------
    pandas.DataFrame
        ``item, dimension, human, n_ratings`` plus the ``keep`` columns.

    Examples
    --------
    >>> table = pd.DataFrame({"item": ["a", "a", "b"], "dimension": ["musicality"] * 3, "score": [4, 2, 5],
    ...                       "scenario": ["s1", "s1", "s1"], "system": ["x", "x", "y"]})
    >>> item_means(table)["human"].tolist()
    [3.0, 5.0]
    """
    if ratings[score].isna().any():
        raise ValueError(f"column {score!r} has missing scores")
    keep = [column for column in keep if column in ratings.columns]
    aggregations = {"human": (score, "mean"), "n_ratings": (score, "size")}
    aggregations.update({column: (column, "first") for column in keep})
    return ratings.groupby([item, dimension], sort=True).agg(**aggregations).reset_index()


def weighted_correlations(x, y, weights, methods=METHODS):
    """Correlations of many weighted copies of (x, y) at once: the vectorised bootstrap.

    Row ``b`` of ``weights`` says how often each point is drawn in resample ``b``; the
    result equals scipy's ``spearmanr``/``kendalltau``/``pearsonr`` on the expanded resample.

    Parameters
    ----------
    x, y : array-like, shape (n,)
    weights : array-like, shape (B, n)
        Non-negative integer draw counts.
    methods : sequence of str

    Returns
    -------
    dict
        method -> array of B correlations (NaN where a resample is constant).

    Examples
    --------
    >>> w = np.array([[1, 1, 1, 1], [2, 0, 1, 1]])
    >>> weighted_correlations([1, 2, 3, 4], [1, 3, 2, 4], w, ["spearman"])["spearman"].round(3).tolist()
    [0.8, 1.0]
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    # float32 is exact here: counts, signs and half-integer ranks summed over < 2**24
    weights = np.asarray(weights, dtype=np.float32)
    out = {}
    with np.errstate(invalid="ignore", divide="ignore"):
        if "pearson" in methods:
            out["pearson"] = _weighted_pearson(
                np.broadcast_to(x, weights.shape), np.broadcast_to(y, weights.shape), weights
            )
        if "spearman" in methods:
            out["spearman"] = _weighted_pearson(
                _weighted_ranks(x, weights), _weighted_ranks(y, weights), weights
            )
        if "kendall" in methods:
            sx = np.sign(x[:, None] - x[None, :]).astype(np.float32)
            sy = np.sign(y[:, None] - y[None, :]).astype(np.float32)
            concordance = np.einsum("bi,bi->b", weights @ (sx * sy), weights, dtype=float)
            pairs_x = np.einsum("bi,bi->b", weights @ np.abs(sx), weights, dtype=float)
            pairs_y = np.einsum("bi,bi->b", weights @ np.abs(sy), weights, dtype=float)
            out["kendall"] = concordance / np.sqrt(pairs_x * pairs_y)
    return out


def _weighted_ranks(values, weights):
    below = (values[:, None] < values[None, :]).astype(np.float32)
    equal = (values[:, None] == values[None, :]).astype(np.float32)
    return (weights @ (below + equal / 2.0)).astype(float) + 0.5


def _weighted_pearson(a, b, weights):
    weights = weights.astype(float)
    total = weights.sum(axis=1, keepdims=True)
    ma = (weights * a).sum(axis=1, keepdims=True) / total
    mb = (weights * b).sum(axis=1, keepdims=True) / total
    da, db = a - ma, b - mb
    cov = (weights * da * db).sum(axis=1)
    return cov / np.sqrt((weights * da * da).sum(axis=1) * (weights * db * db).sum(axis=1))


def point_correlation(x, y, method):
    """One correlation and its p-value (scipy; Kendall's τ_b; two-sided)."""
    from scipy import stats

    function = {"spearman": stats.spearmanr, "kendall": stats.kendalltau, "pearson": stats.pearsonr}[method]
    if np.ptp(x) == 0 or np.ptp(y) == 0 or len(x) < 3:
        return np.nan, np.nan
    result = function(x, y)
    return float(result.statistic), float(result.pvalue)


def bootstrap_correlation(x, y, *, methods=METHODS, n_resamples=2000, seed=0, ci=0.95):
    """Point correlations, p-values and percentile bootstrap CIs over items.

    Returns
    -------
    pandas.DataFrame
        ``method, r, ci_low, ci_high, p, n``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=200)
    >>> table = bootstrap_correlation(x, x + rng.normal(size=200), n_resamples=500)
    >>> bool((table["ci_low"] < table["r"]).all())
    True
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    weights = bootstrap_weights(len(x), n_resamples, np.random.default_rng(seed))
    samples = weighted_correlations(x, y, weights, methods)
    rows = []
    for method in methods:
        r, p = point_correlation(x, y, method)
        low, high = percentile_interval(samples[method], ci)
        rows.append({"method": method, "r": r, "ci_low": low, "ci_high": high, "p": p, "n": len(x)})
    return pd.DataFrame(rows)


def grouped_correlation(x, y, groups, *, methods=METHODS, n_resamples=2000, seed=0, ci=0.95):
    """Mean of within-group correlations, a bootstrap CI over groups, and a Wilcoxon p-value.

    A group with fewer than 3 points or constant x or y has no correlation and is dropped.
    The p-value is a two-sided Wilcoxon signed-rank test of the per-group correlations
    against 0.

    Returns
    -------
    pandas.DataFrame
        ``method, r, ci_low, ci_high, p, n, groups_dropped``.

    Examples
    --------
    >>> table = grouped_correlation([1, 2, 3, 1, 2, 3], [1, 2, 3, 3, 2, 1], ["a"] * 3 + ["b"] * 3, n_resamples=20)
    >>> float(table.set_index("method").at["spearman", "r"])
    0.0
    """
    from scipy import stats

    frame = pd.DataFrame(
        {"x": np.asarray(x, dtype=float), "y": np.asarray(y, dtype=float), "g": np.asarray(groups)}
    )
    per_group = {method: [] for method in methods}
    dropped = 0
    by_size = {}
    for _, group in frame.groupby("g", sort=True):
        if len(group) < MIN_GROUP_ITEMS or group["x"].nunique() < 2 or group["y"].nunique() < 2:
            dropped += 1
            continue
        by_size.setdefault(len(group), []).append(group)
    for groups_of_size in by_size.values():  # same-size groups: one row each, all at once
        gx = np.stack([group["x"].to_numpy() for group in groups_of_size])
        gy = np.stack([group["y"].to_numpy() for group in groups_of_size])
        for method in methods:
            per_group[method].extend(rowwise_correlation(gx, gy, method))
    rows = []
    rng = np.random.default_rng(seed)
    for method in methods:
        values = np.asarray(per_group[method], dtype=float)
        if not len(values):
            rows.append(
                {
                    "method": method,
                    "r": np.nan,
                    "ci_low": np.nan,
                    "ci_high": np.nan,
                    "p": np.nan,
                    "n": 0,
                    "groups_dropped": dropped,
                }
            )
            continue
        weights = bootstrap_weights(len(values), n_resamples, rng)
        low, high = percentile_interval(weights @ values / len(values), ci)
        p = float(stats.wilcoxon(values).pvalue) if len(values) >= 2 and np.any(values != 0) else np.nan
        rows.append(
            {
                "method": method,
                "r": float(values.mean()),
                "ci_low": low,
                "ci_high": high,
                "p": p,
                "n": len(values),
                "groups_dropped": dropped,
            }
        )
    return pd.DataFrame(rows)


def system_correlation(x, y, systems, *, methods=METHODS, n_resamples=2000, seed=0, ci=0.95):
    """Correlation of per-system means; the CI resamples items and recomputes the system means.

    Examples
    --------
    >>> s = np.repeat(list("abcde"), 4)
    >>> x = np.repeat([1.0, 2, 3, 4, 5], 4)
    >>> round(system_correlation(x, x, s, methods=["spearman"], n_resamples=20)["r"].item(), 6)
    1.0
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    codes, labels = pd.factorize(np.asarray(systems), sort=True)
    membership = np.eye(len(labels))[codes]
    weights = bootstrap_weights(len(x), n_resamples, np.random.default_rng(seed)).astype(float)
    counts = weights @ membership
    with np.errstate(invalid="ignore", divide="ignore"):
        mx, my = (weights * x) @ membership / counts, (weights * y) @ membership / counts
    point_x = np.bincount(codes, weights=x) / np.bincount(codes)
    point_y = np.bincount(codes, weights=y) / np.bincount(codes)
    rows = []
    for method in methods:
        r, p = point_correlation(point_x, point_y, method)
        complete = np.isfinite(mx).all(axis=1) & np.isfinite(my).all(axis=1)
        low, high = percentile_interval(rowwise_correlation(mx[complete], my[complete], method), ci)
        rows.append({"method": method, "r": r, "ci_low": low, "ci_high": high, "p": p, "n": len(labels)})
    return pd.DataFrame(rows)


def rowwise_correlation(a, b, method):
    """Correlation of each row of ``a`` with the same row of ``b`` (NaN for a constant row).

    Examples
    --------
    >>> a, b = np.array([[1.0, 2, 3], [1, 2, 3]]), np.array([[1.0, 2, 3], [3, 2, 1]])
    >>> rowwise_correlation(a, b, "kendall").tolist()
    [1.0, -1.0]
    """
    from scipy import stats

    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        if method == "kendall":
            sa = np.sign(a[:, :, None] - a[:, None, :])
            sb = np.sign(b[:, :, None] - b[:, None, :])
            pairs = np.abs(sa).sum(axis=(1, 2)) * np.abs(sb).sum(axis=(1, 2))
            return (sa * sb).sum(axis=(1, 2)) / np.sqrt(pairs)
        if method == "spearman":
            a, b = stats.rankdata(a, axis=1), stats.rankdata(b, axis=1)
        a = a - a.mean(axis=1, keepdims=True)
        b = b - b.mean(axis=1, keepdims=True)
        return (a * b).sum(axis=1) / np.sqrt((a * a).sum(axis=1) * (b * b).sum(axis=1))


def williams_test(r12, r13, r23, n):
    """Williams' t for two dependent correlations sharing variable 1 (Steiger 1980, eq. 7).

    Tests H0: ρ12 = ρ13 where variable 1 is the human score and 2, 3 are two metrics measured
    on the same n items; r23 is the correlation of the two metrics.

    ``t = (r12 - r13) sqrt((n - 1)(1 + r23) / (2 (n - 1)/(n - 3) |R| + r̄² (1 - r23)³))``
    with ``|R| = 1 - r12² - r13² - r23² + 2 r12 r13 r23``, ``r̄ = (r12 + r13)/2``, df = n - 3.

    Returns
    -------
    tuple
        ``(t, df, p)`` with a two-sided p-value.

    Examples
    --------
    bruceR's ``cor_diff(r1=0.20, r2=0.45, n=100, rcov=0.80)`` prints t(97) = -4.56:

    >>> t, df, p = williams_test(0.20, 0.45, 0.80, 100)
    >>> round(t, 2), df
    (-4.56, 97)
    """
    from scipy import stats

    reason = williams_problem(r12, r13, r23, n)
    if reason:
        raise ValueError(f"Williams' test is {reason}")
    denominator = _williams_denominator(r12, r13, r23, n)
    t = (r12 - r13) * np.sqrt((n - 1) * (1 + r23) / denominator)
    df = n - 3
    return float(t), df, float(2 * stats.t.sf(abs(t), df))


def _williams_denominator(r12, r13, r23, n):
    determinant = 1 - r12**2 - r13**2 - r23**2 + 2 * r12 * r13 * r23
    mean_r = (r12 + r13) / 2
    return 2 * (n - 1) / (n - 3) * determinant + mean_r**2 * (1 - r23) ** 3


def williams_problem(r12, r13, r23, n):
    """Why Williams' test cannot be computed for these correlations (``""`` when it can).

    Examples
    --------
    >>> williams_problem(0.5, 0.5, 1.0, 20)
    'not computable: the two metrics rank the items identically (ρ between them is 1), so their correlations with people cannot differ'
    """
    if n <= 3:
        return f"not computable: it needs more than 3 items, got {n}"
    if not np.isfinite([r12, r13, r23]).all():
        return "not computable: a correlation is undefined (constant scores)"
    if r23 >= 1 - 1e-12:
        return (
            "not computable: the two metrics rank the items identically (ρ between them is 1), "
            "so their correlations with people cannot differ"
        )
    if r23 <= -1 + 1e-12:
        return (
            "not computable: the two metrics rank the items in exactly opposite order (ρ between them is -1)"
        )
    if _williams_denominator(r12, r13, r23, n) <= 0:
        return "not computable: the three correlations are not consistent with a positive-definite correlation matrix"
    return ""


def paired_permutation_test(human, metric_a, metric_b, *, method="spearman", n_permutations=2000, seed=0):
    """Two-sided paired permutation test of corr(human, a) - corr(human, b).

    Both metrics are first turned into ranks (so their scales do not matter); under H0 the
    two metrics are exchangeable per item, so each permutation swaps the two metrics' ranks of
    a random subset of items. The p-value counts permuted differences at least as large in
    magnitude as the observed one (with the +1 correction of Phipson & Smyth 2010); a
    permutation that leaves a metric constant (possible with tied values) has no correlation
    and is left out of the count.

    Returns
    -------
    tuple
        ``(difference, p)``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> h = rng.normal(size=100)
    >>> difference, p = paired_permutation_test(h, h + rng.normal(size=100) * 0.1, rng.normal(size=100), n_permutations=200)
    >>> p < 0.05
    True
    """
    from scipy import stats

    human = np.asarray(human, dtype=float)
    a = stats.rankdata(metric_a)
    b = stats.rankdata(metric_b)
    target = stats.rankdata(human) if method == "spearman" else human
    observed = _row_correlation(target, a[None])[0] - _row_correlation(target, b[None])[0]
    rng = np.random.default_rng(seed)
    swap = rng.random((n_permutations, len(human))) < 0.5
    first = np.where(swap, b, a)
    second = np.where(swap, a, b)
    if method == "spearman":
        first, second = stats.rankdata(first, axis=1), stats.rankdata(second, axis=1)
    differences = _row_correlation(target, first) - _row_correlation(target, second)
    # a swap can leave a metric with one tied rank for every item: its correlation is undefined
    # and that permutation is left out of the null distribution
    defined = differences[np.isfinite(differences)]
    extreme = (np.abs(defined) >= abs(observed) - 1e-12).sum()
    return float(observed), float((extreme + 1) / (len(defined) + 1))


def _row_correlation(target, rows):
    """Pearson correlation of ``target`` with each row; NaN for a constant row (no warning)."""
    centred = rows - rows.mean(axis=1, keepdims=True)
    t = target - target.mean()
    norms = np.sqrt((centred**2).sum(axis=1) * (t**2).sum())
    safe = np.where(norms > 0, norms, 1.0)
    return np.where(norms > 0, centred @ t / safe, np.nan)


def correlation_table(
    means,
    scores,
    *,
    item="item",
    dimension="dimension",
    metric="metric",
    value="value",
    scenario="scenario",
    system="system",
    methods=METHODS,
    n_resamples=2000,
    seed=0,
    ci=0.95,
    omit_missing=False,
):
    """Every metric against every dimension's item means: the ``tables/correlation.csv`` rows.

    Parameters
    ----------
    means : pandas.DataFrame
        From :func:`item_means` (``item, dimension, human``, plus scenario and system).
    scores : pandas.DataFrame
        Long metric scores ``item, metric, value``.
    omit_missing : bool
        An item without a metric value (an unparseable judge reply, say) raises unless this is
        true; then it is left out and counted in ``n_missing``.

    Returns
    -------
    pandas.DataFrame
        ``dimension, metric, method, level, r, ci_low, ci_high, p, p_holm, n`` (the fixed
        table format) plus ``n_missing, ties_human, ties_metric, groups_dropped, note`` (why a
        value is missing: "not computable: …"). Holm's
        correction runs over every p-value of the table.

    Examples
    --------
    >>> means = pd.DataFrame({"item": list("abcdef"), "dimension": "musicality", "human": [1, 2, 3, 4, 5, 6.0],
    ...                       "scenario": ["s1"] * 3 + ["s2"] * 3, "system": list("xyzxyz")})
    >>> scores = pd.DataFrame({"item": list("abcdef"), "metric": "rouge_l", "value": [1, 2, 3, 4, 6, 5.0]})
    >>> table = correlation_table(means, scores, n_resamples=50)
    >>> sorted(table["level"].unique())
    ['item', 'scenario']
    """
    from statsmodels.stats.multitest import multipletests

    wide = scores.pivot_table(index=item, columns=metric, values=value, aggfunc="first")
    duplicated = scores.duplicated([item, metric])
    if duplicated.any():
        raise ValueError(f"the scores hold {int(duplicated.sum())} duplicate (item, metric) rows")
    rows = []
    offset = 0
    for dim, group in means.groupby(dimension, sort=False):
        group = group.set_index(item)
        for name in wide.columns:
            offset += 1
            joined = group.join(wide[name].rename("metric_value"), how="left")
            missing = joined["metric_value"].isna()
            if missing.any() and not omit_missing:
                examples = joined.index[missing][:3].tolist()
                raise ValueError(
                    f"metric {name!r} has no value for {int(missing.sum())} items (e.g. {examples}); "
                    "score them or pass omit_missing=True to leave them out"
                )
            joined = joined[~missing]
            x, y = joined["metric_value"].to_numpy(), joined["human"].to_numpy()
            extra = {
                "n_missing": int(missing.sum()),
                "ties_human": int(len(y) - len(np.unique(y))),
                "ties_metric": int(len(x) - len(np.unique(x))),
                "groups_dropped": 0,
            }
            settings = {"methods": methods, "n_resamples": n_resamples, "seed": seed + offset, "ci": ci}
            if len(x) < 3:  # too few scored items for any correlation: say so, do not guess
                empty = pd.DataFrame(
                    {
                        "method": list(methods),
                        "r": np.nan,
                        "ci_low": np.nan,
                        "ci_high": np.nan,
                        "p": np.nan,
                        "n": len(x),
                    }
                )
                note = (
                    f"not computable: only {len(x)} items have a value of this metric (a correlation needs 3)"
                )
                rows.append(empty.assign(level="item", dimension=dim, metric=name, note=note, **extra))
                continue
            found = [
                bootstrap_correlation(x, y, **settings).assign(
                    level="item", note=_constant_note(x, y, "items")
                )
            ]
            found[0] = found[0].assign(**extra)
            if scenario in joined.columns:
                grouped = grouped_correlation(x, y, joined[scenario].to_numpy(), **settings)
                counts = {k: v for k, v in extra.items() if k != "groups_dropped"}
                found.append(grouped.assign(level="scenario", note=_scenario_note(grouped), **counts))
            if system in joined.columns and joined[system].nunique() >= MIN_SYSTEMS:
                by_system = system_correlation(x, y, joined[system].to_numpy(), **settings)
                systems_note = _constant_note(
                    joined.groupby(system)["metric_value"].mean(),
                    joined.groupby(system)["human"].mean(),
                    "systems",
                )
                found.append(by_system.assign(level="system", note=systems_note, **extra))
            rows.extend(frame.assign(dimension=dim, metric=name) for frame in found)
    table = pd.concat(rows, ignore_index=True)
    table["p_holm"] = np.nan
    tested = table["p"].notna()
    if tested.any():
        table.loc[tested, "p_holm"] = multipletests(table.loc[tested, "p"], method="holm")[1]
    columns = [
        "dimension",
        "metric",
        "method",
        "level",
        "r",
        "ci_low",
        "ci_high",
        "p",
        "p_holm",
        "n",
        "n_missing",
        "ties_human",
        "ties_metric",
        "groups_dropped",
        "note",
    ]
    return table[columns]


def _constant_note(x, y, unit):
    if np.ptp(np.asarray(x, dtype=float)) == 0:
        return f"not computable: the metric has the same value for every one of the {unit}"
    if np.ptp(np.asarray(y, dtype=float)) == 0:
        return f"not computable: the human mean score is the same for every one of the {unit}"
    return ""


def _scenario_note(grouped):
    if grouped["r"].isna().all():
        return (
            f"not computable: no scenario has {MIN_GROUP_ITEMS} or more items with varying human and "
            f"metric values ({int(grouped['groups_dropped'].iloc[0])} scenarios dropped)"
        )
    if grouped["p"].isna().any():
        return "p not computable: the Wilcoxon test needs 2 or more scenario correlations, not all 0"
    return ""


def metric_comparisons(
    means,
    scores,
    *,
    item="item",
    dimension="dimension",
    metric="metric",
    value="value",
    pairs="all",
    n_permutations=2000,
    seed=0,
):
    """Compare metrics pairwise on each dimension: Williams' test and a paired permutation test.

    Both are on Spearman's ρ (Williams' test on the ranks, i.e. on Pearson's r of the ranks),
    over the items both metrics of a pair scored (``n``). Holm's correction runs over each test's
    p-values across the whole table.

    Parameters
    ----------
    pairs : {"all", "leader"}
        Every pair of metrics, or each metric against the dimension's best metric.

    Returns
    -------
    pandas.DataFrame
        ``dimension, metric_a, metric_b, rho_a, rho_b, rho_ab, difference, williams_t,
        williams_df, williams_p, williams_p_holm, permutation_p, permutation_p_holm, n, note``;
        a dimension or pair that cannot be compared (too few metrics or items, identical
        rankings for Williams' test) has NaN values and ``note`` says why.

    Examples
    --------
    >>> means = pd.DataFrame({"item": list("abcdefgh"), "dimension": "musicality", "human": [1, 2, 3, 4, 5, 6, 7, 8.0]})
    >>> scores = pd.DataFrame({"item": list("abcdefgh") * 2, "metric": ["good"] * 8 + ["bad"] * 8,
    ...                        "value": [1, 2, 3, 4, 5, 6, 8, 7] + [3, 1, 4, 1, 5, 9, 2, 6]})
    >>> metric_comparisons(means, scores, n_permutations=100)["metric_a"].tolist()
    ['good']
    """
    from itertools import combinations

    from statsmodels.stats.multitest import multipletests

    wide = scores.pivot_table(index=item, columns=metric, values=value, aggfunc="first")
    rows = []
    offset = 0
    for dim, group in means.groupby(dimension, sort=False):
        joined = group.set_index(item)[["human"]].join(wide, how="inner")
        leaders = {}
        for name in wide.columns:
            pair = joined[["human", name]].dropna()
            if len(pair) >= 4 and pair[name].nunique() > 1 and pair["human"].nunique() > 1:
                leaders[name] = abs(pair.rank().corr().iat[0, 1])
        ordered = sorted(leaders, key=lambda name: -leaders[name])
        if len(ordered) < 2:
            rows.append(
                {
                    "dimension": dim,
                    "n": len(joined),
                    "note": "not computable: fewer than 2 metrics have 4 or more scored items with varying "
                    "metric and human scores",
                }
            )
            continue
        if pairs == "all":
            candidates = list(combinations(ordered, 2))
        elif pairs == "leader":
            candidates = [(ordered[0], other) for other in ordered[1:]]
        else:
            raise ValueError(f"pairs must be 'all' or 'leader', not {pairs!r}")
        for first, second in candidates:
            offset += 1
            shared = joined[["human", first, second]].dropna()  # items both metrics scored
            if len(shared) < 4 or shared.nunique().min() < 2:
                rows.append(
                    {
                        "dimension": dim,
                        "metric_a": first,
                        "metric_b": second,
                        "n": len(shared),
                        "note": "not computable: fewer than 4 items scored by both metrics with varying scores",
                    }
                )
                continue
            rho = shared.rank().corr()
            r12, r13, r23 = rho.at["human", first], rho.at["human", second], rho.at[first, second]
            note = williams_problem(r12, r13, r23, len(shared))
            if note:
                t, df, p = np.nan, len(shared) - 3, np.nan
                note = f"Williams' test {note}"
            else:
                t, df, p = williams_test(r12, r13, r23, len(shared))
            difference, p_perm = paired_permutation_test(
                shared["human"],
                shared[first],
                shared[second],
                n_permutations=n_permutations,
                seed=seed + offset,
            )
            rows.append(
                {
                    "dimension": dim,
                    "metric_a": first,
                    "metric_b": second,
                    "rho_a": r12,
                    "rho_b": r13,
                    "rho_ab": r23,
                    "difference": difference,
                    "williams_t": t,
                    "williams_df": df,
                    "williams_p": p,
                    "permutation_p": p_perm,
                    "n": len(shared),
                    "note": note,
                }
            )
    columns = [
        "dimension",
        "metric_a",
        "metric_b",
        "rho_a",
        "rho_b",
        "rho_ab",
        "difference",
        "williams_t",
        "williams_df",
        "williams_p",
        "williams_p_holm",
        "permutation_p",
        "permutation_p_holm",
        "n",
        "note",
    ]
    table = pd.DataFrame(rows, columns=[c for c in columns if not c.endswith("_holm")])
    for test in ("williams", "permutation"):
        table[f"{test}_p_holm"] = np.nan
        tested = table[f"{test}_p"].notna()
        if tested.any():
            table.loc[tested, f"{test}_p_holm"] = multipletests(
                table.loc[tested, f"{test}_p"], method="holm"
            )[1]
    return table[columns]


def quadratic_weighted_kappa(first, second, categories=(1, 2, 3, 4, 5)):
    """Cohen's kappa with quadratic weights between two sets of ratings on the same scale.

    Examples
    --------
    >>> quadratic_weighted_kappa([1, 2, 3, 4, 5], [1, 2, 3, 4, 5])
    1.0
    >>> round(quadratic_weighted_kappa([1, 2, 3], [2, 2, 2]), 3)
    0.0
    """
    categories = list(categories)
    index = {value: position for position, value in enumerate(categories)}
    k = len(categories)
    observed = np.zeros((k, k))
    for a, b in zip(first, second):
        observed[index[a], index[b]] += 1
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0)) / observed.sum()
    grid = np.arange(k)
    weights = (grid[:, None] - grid[None, :]) ** 2 / (k - 1) ** 2
    denominator = (weights * expected).sum()
    return float(1 - (weights * observed).sum() / denominator) if denominator else np.nan


def judge_agreement(
    ratings,
    scores,
    *,
    prefix="judge_",
    item="item",
    dimension="dimension",
    score="score",
    metric="metric",
    value="value",
):
    """Agreement of an LLM judge (metric ``<prefix><dimension>``) with the human ratings.

    Per dimension: ``exact`` and ``within_one`` are shares of (human rating, judge score)
    pairs of the same item that are equal / at most one point apart; ``qwk`` is the quadratic
    weighted kappa over those pairs; Bland–Altman compares the judge with the item mean
    (``bias`` = mean of judge − human mean, limits ``bias ± 1.96 SD``). Items the judge
    could not score (missing) are left out and counted.

    Returns
    -------
    tuple
        ``(table, pairs)``: the agreement table ``dimension, metric, n_items, n_missing,
        exact, within_one, qwk, bias, loa_low, loa_high, note`` (``note`` says which value is
        not computable and why) and the per-item ``dimension,
        item, judge, human`` pairs (for the Bland–Altman plot).

    Examples
    --------
    >>> ratings = pd.DataFrame({"item": ["a", "a", "b"], "dimension": "musicality", "score": [4, 5, 2]})
    >>> scores = pd.DataFrame({"item": ["a", "b"], "metric": "judge_musicality", "value": [4.0, 3.0]})
    >>> table, _ = judge_agreement(ratings, scores)
    >>> table[["exact", "within_one"]].round(3).values.tolist()
    [[0.333, 1.0]]
    """
    rows, pairs = [], []
    for dim, group in ratings.groupby(dimension, sort=False):
        name = f"{prefix}{dim}"
        judged = scores[scores[metric] == name].set_index(item)[value]
        if judged.empty:
            continue
        joined = group.join(judged.rename("judge"), on=item)
        missing_items = joined.loc[joined["judge"].isna(), item].nunique()
        joined = joined.dropna(subset=["judge"])
        if joined.empty:
            rows.append(
                {
                    "dimension": dim,
                    "metric": name,
                    "n_items": 0,
                    "n_missing": int(missing_items),
                    "note": "not computable: the judge scored none of the rated items",
                }
            )
            continue
        judge = joined["judge"].round().astype(int)
        outside = ~judge.between(1, 5)
        if outside.any():
            raise ValueError(
                f"{name} has scores outside 1–5 (e.g. {joined['judge'][outside].iloc[0]} for item "
                f"{joined[item][outside].iloc[0]!r}); a judge score is on the ratings' 1–5 scale"
            )
        difference = (joined[score] - judge).abs()
        per_item = joined.groupby(item).agg(judge=("judge", "first"), human=(score, "mean")).reset_index()
        gap = per_item["judge"] - per_item["human"]
        spread = 1.96 * gap.std(ddof=1) if len(gap) > 1 else np.nan
        qwk = quadratic_weighted_kappa(joined[score].astype(int), judge)
        notes = []
        if len(gap) < 2:
            notes.append("limits of agreement not computable: one judged item (an SD needs two)")
        if np.isnan(qwk):
            notes.append("kappa not computable: every rating and judge score is the same value")
        rows.append(
            {
                "dimension": dim,
                "metric": name,
                "n_items": len(per_item),
                "n_missing": int(missing_items),
                "exact": float((difference == 0).mean()),
                "within_one": float((difference <= 1).mean()),
                "qwk": qwk,
                "bias": float(gap.mean()),
                "loa_low": float(gap.mean() - spread),
                "loa_high": float(gap.mean() + spread),
                "note": "; ".join(notes),
            }
        )
        pairs.append(per_item.assign(dimension=dim)[["dimension", item, "judge", "human"]])
    columns = [
        "dimension",
        "metric",
        "n_items",
        "n_missing",
        "exact",
        "within_one",
        "qwk",
        "bias",
        "loa_low",
        "loa_high",
        "note",
    ]
    table = pd.DataFrame(rows, columns=columns)
    pair_frame = (
        pd.concat(pairs, ignore_index=True)
        if pairs
        else pd.DataFrame(columns=["dimension", item, "judge", "human"])
    )
    return table, pair_frame
