"""Rater reliability: ICC, Krippendorff's alpha, Kendall's W, agreement and the human ceiling.

Every function takes the long ratings table (one row per rater × item, for one dimension, or
with a dimension column for :func:`reliability_table`) and returns a DataFrame. Missing data
(an item some rater did not rate) is the normal case in a listening study; each statistic
states how it handles it:

- ICC (Shrout & Fleiss 1979; McGraw & Wong 1996) through pingouin needs a complete,
  balanced raters × items block. On an incomplete design it is computed on the largest
  complete block (a set of raters who all rated the same items), named in ``basis``.
- Krippendorff's alpha is defined for missing data and is the primary statistic of an
  incomplete design. Its confidence interval is a percentile bootstrap over items.
- Kendall's W (with the tie correction) needs every rater to rank the same items, so it uses
  the same complete block as the ICC.
- Percent agreement and the human ceiling use every pair of ratings that exists.
"""

import warnings

import numpy as np
import pandas as pd

STATISTICS = (
    "ICC(A,1)",
    "ICC(A,k)",
    "ICC(C,k)",
    "alpha_ordinal",
    "alpha_interval",
    "kendall_w",
    "percent_agreement",
    "human_ceiling",
)
PINGOUIN_LABELS = {
    "ICC(A,1)": ("ICC(A,1)", "ICC2"),
    "ICC(A,k)": ("ICC(A,k)", "ICC2k"),
    "ICC(C,k)": ("ICC(C,k)", "ICC3k"),
}
"""Our name -> pingouin's labels (0.7 names first, then the names before 0.7)."""


def rating_matrix(ratings, *, rater="participant", item="item", score="score"):
    """Return the raters × items matrix of scores (NaN where a rater did not rate an item).

    Parameters
    ----------
    ratings : pandas.DataFrame
        Long table, one row per rating of one dimension.
    rater, item, score : str
        Column names.

    Returns
    -------
    pandas.DataFrame
        Index: raters (named ``rater``), columns: items (named ``item``).

    Raises
    ------
    ValueError
        When a rater rated the same item twice (the table holds more than one dimension?).

    Examples
    --------
    >>> table = pd.DataFrame({"participant": ["a", "a", "b"], "item": ["x", "y", "x"], "score": [4, 2, 5]})
    >>> rating_matrix(table).shape
    (2, 2)
    """
    _require_columns(ratings, (rater, item, score))
    duplicated = ratings.duplicated([rater, item])
    if duplicated.any():
        first = ratings.loc[duplicated, [rater, item]].iloc[0].tolist()
        raise ValueError(
            f"rater {first[0]!r} rated item {first[1]!r} more than once; pass one dimension at a time"
        )
    matrix = ratings.pivot(index=rater, columns=item, values=score).astype(float)
    matrix.index.name, matrix.columns.name = rater, item
    return matrix


def complete_block(matrix):
    """Return the largest complete raters × items block of a rating matrix.

    Candidates are the rater sets of the items (every item's set of raters); for each, the
    block is every item rated by all of those raters. The block with the most ratings wins
    (ties: more raters). A complete design returns the whole matrix.

    Parameters
    ----------
    matrix : pandas.DataFrame
        Raters × items, NaN for missing (see :func:`rating_matrix`).

    Returns
    -------
    pandas.DataFrame
        A sub-matrix without NaN; empty when no two raters share two items.

    Examples
    --------
    >>> m = pd.DataFrame([[1, 2, np.nan], [2, 3, 4], [np.nan, 1, 5]], index=list("abc"))
    >>> complete_block(m).shape
    (2, 2)
    """
    rated = matrix.notna().to_numpy()
    if rated.all():
        return matrix
    candidates = np.unique(rated.T, axis=0)
    candidates = candidates[candidates.sum(axis=1) >= 2]
    if not len(candidates):
        return matrix.iloc[:0, :0]
    sizes = candidates.sum(axis=1)
    covered = (rated.T.astype(np.int32) @ candidates.T.astype(np.int32)) == sizes
    n_items = covered.sum(axis=0)
    best = max(range(len(candidates)), key=lambda c: (n_items[c] * sizes[c], sizes[c]))
    if n_items[best] < 2:
        return matrix.iloc[:0, :0]
    return matrix.loc[candidates[best], covered[:, best]]


def icc(ratings, *, rater="participant", item="item", score="score", complete="raise"):
    """ICC(A,1), ICC(A,k) and ICC(C,k) with pingouin's F-based 95 % confidence intervals.

    Parameters
    ----------
    ratings : pandas.DataFrame
        Long table for one dimension.
    rater, item, score : str
        Column names.
    complete : {"raise", "block"}
        What to do with an incomplete design: raise, or compute on the largest complete
        block (:func:`complete_block`).

    Returns
    -------
    pandas.DataFrame
        ``statistic, value, ci_low, ci_high, n_items, n_raters, basis``.

    Examples
    --------
    >>> import pingouin
    >>> data = pingouin.read_dataset("icc")
    >>> table = icc(data, rater="Judge", item="Wine", score="Scores").set_index("statistic")
    >>> round(float(table.at["ICC(A,1)", "value"]), 3)
    0.728
    """
    import pingouin

    matrix = rating_matrix(ratings, rater=rater, item=item, score=score)
    block, basis = _block_for(matrix, complete)
    rows = []
    if block.shape[0] < 2 or block.shape[1] < 2:
        reason = (
            "not computable: no two raters rated the same two items (no complete block of 2 raters × 2 items)"
        )
        for name in PINGOUIN_LABELS:
            rows.append(_row(name, np.nan, np.nan, np.nan, block, reason))
        return pd.DataFrame(rows)
    if block.size < PINGOUIN_MIN_RATINGS:
        reason = (
            f"not computable: the {basis} holds {block.size} ratings; pingouin's ICC needs at least "
            f"{PINGOUIN_MIN_RATINGS}"
        )
        for name in PINGOUIN_LABELS:
            rows.append(_row(name, np.nan, np.nan, np.nan, block, reason))
        return pd.DataFrame(rows)
    long = block.stack().rename("score").reset_index()
    # a zero mean square makes an ICC ratio 0/0; pingouin then returns NaN, which is reported below
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.filterwarnings("ignore", message="The inplace keyword")  # pingouin 0.7 on pandas 3
        result = pingouin.intraclass_corr(long, targets=item, raters=rater, ratings="score")
    by_label = result.set_index("Type")
    for name, labels in PINGOUIN_LABELS.items():
        label = next((lab for lab in labels if lab in by_label.index), None)
        if label is None:
            raise RuntimeError(f"pingouin returned none of the ICC labels {labels} for {name}")
        value = float(by_label.at[label, "ICC"])
        low, high = by_label.at[label, "CI95"]
        if np.isfinite(value):
            rows.append(_row(name, value, low, high, block, basis))
        else:
            rows.append(_row(name, np.nan, np.nan, np.nan, block, _icc_reason(block, basis)))
    return pd.DataFrame(rows)


def _icc_reason(block, basis):
    """Why an ICC of a complete block is undefined (a zero variance in its ratio)."""
    values = block.to_numpy(dtype=float)
    if np.ptp(values) == 0:
        why = f"every rating in the {basis} is the same score ({values.flat[0]:g})"
    elif np.ptp(values.mean(axis=0)) == 0:
        why = f"the items of the {basis} all have the same mean score (no variance between items)"
    else:
        why = f"a variance component of the {basis} is zero"
    return f"not computable: {why}"


PINGOUIN_MIN_RATINGS = 5
"""``pingouin.intraclass_corr`` asserts at least this many ratings (a 2 × 2 block has 4)."""


def krippendorff_alpha(matrix, *, level="ordinal"):
    """Krippendorff's alpha of a raters × items matrix (NaN for missing), via ``krippendorff``.

    The orientation matters and a transposed matrix gives a wrong number without an error,
    so the matrix must come from :func:`rating_matrix` (index named after the rater column)
    or be a plain array whose rows are raters.

    Examples
    --------
    >>> n = np.nan
    >>> data = [[1, 2, 3, 3, 2, 1, 4, 1, 2, n, n, n], [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, n, 3],
    ...         [n, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, n], [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, n]]
    >>> round(krippendorff_alpha(np.array(data), level="interval"), 3)
    0.849
    """
    import krippendorff

    values = np.asarray(matrix, dtype=float)
    if values.ndim != 2 or values.shape[0] < 2:
        raise ValueError(f"expected a raters × items matrix with at least 2 raters, got shape {values.shape}")
    return float(krippendorff.alpha(reliability_data=values, level_of_measurement=level))


def item_value_counts(matrix, values=None):
    """Return (counts, values): an items × values matrix of how many raters gave each value."""
    data = np.asarray(matrix, dtype=float)
    if values is None:
        values = np.unique(data[~np.isnan(data)])
    counts = np.stack([(data == value).sum(axis=0) for value in values], axis=1)
    return counts.astype(float), np.asarray(values, dtype=float)


def alpha_from_counts(counts, values, *, level="ordinal", weights=None):
    """Krippendorff's alpha from items × values counts, for many item weightings at once.

    ``weights`` (resamples × items, how often each item is drawn) turns one call into a
    whole bootstrap: each row is the alpha of one resample. Follows Krippendorff (2011),
    "Computing Krippendorff's alpha-reliability": the coincidence matrix
    ``o_ck = sum_u n_uc (n_uk - [c = k]) / (m_u - 1)`` over items with ``m_u >= 2``.

    Returns
    -------
    numpy.ndarray
        One alpha per row of ``weights`` (a 1-element array without ``weights``).
    """
    counts = np.asarray(counts, dtype=float)
    pairable = counts.sum(axis=1)
    keep = pairable >= 2
    counts, pairable = counts[keep], pairable[keep]
    n_values = counts.shape[1]
    per_item = counts[:, :, None] * counts[:, None, :] - np.eye(n_values)[None] * counts[:, :, None]
    per_item /= (pairable - 1)[:, None, None]
    weights = np.ones((1, keep.sum())) if weights is None else np.asarray(weights, dtype=float)[:, keep]
    coincidence = (weights @ per_item.reshape(len(per_item), -1)).reshape(-1, n_values, n_values)
    marginals = coincidence.sum(axis=2)
    total = marginals.sum(axis=1)
    delta = _squared_distances(values, marginals, level)
    observed = (coincidence * delta).sum(axis=(1, 2))
    expected = (marginals[:, :, None] * marginals[:, None, :] * delta).sum(axis=(1, 2)) / (total - 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return 1.0 - observed / expected


def _squared_distances(values, marginals, level):
    """Difference function delta^2 for each resample (ordinal distances depend on the marginals)."""
    if level == "interval":
        delta = (values[:, None] - values[None, :]) ** 2
        return np.broadcast_to(delta, (len(marginals), *delta.shape))
    if level == "nominal":
        delta = 1.0 - np.eye(len(values))
        return np.broadcast_to(delta, (len(marginals), *delta.shape))
    if level == "ordinal":
        cumulative = np.cumsum(marginals, axis=1)
        low = np.minimum.outer(np.arange(len(values)), np.arange(len(values)))
        high = np.maximum.outer(np.arange(len(values)), np.arange(len(values)))
        before_low = np.where(low > 0, cumulative[:, np.maximum(low - 1, 0)], 0.0)
        between = cumulative[:, high] - before_low
        return (between - (marginals[:, :, None] + marginals[:, None, :]) / 2.0) ** 2
    raise ValueError(f"unknown level {level!r}; expected nominal, ordinal or interval")


def bootstrap_weights(n, n_resamples, rng):
    """Return a resamples × n matrix of how often each of n units is drawn (with replacement)."""
    draws = rng.integers(0, n, size=(n_resamples, n))
    offsets = (np.arange(n_resamples) * n)[:, None]
    return np.bincount((draws + offsets).ravel(), minlength=n_resamples * n).reshape(n_resamples, n)


def percentile_interval(samples, ci=0.95):
    """Percentile interval of bootstrap samples, ignoring resamples where the statistic is undefined."""
    finite = np.asarray(samples, dtype=float)
    finite = finite[np.isfinite(finite)]
    if not len(finite):
        return np.nan, np.nan
    tail = (1.0 - ci) / 2.0 * 100.0
    low, high = np.percentile(finite, [tail, 100.0 - tail])
    return float(low), float(high)


def alpha_with_ci(matrix, *, level="ordinal", n_resamples=2000, seed=0, ci=0.95, values=None):
    """Krippendorff's alpha (from ``krippendorff``) and its percentile bootstrap CI over items.

    Parameters
    ----------
    matrix : pandas.DataFrame or numpy.ndarray
        Raters × items, NaN for missing.
    level : {"ordinal", "interval", "nominal"}
    n_resamples, seed, ci :
        Bootstrap settings; resampling draws items with replacement.
    values : sequence, optional
        The scale (1–5 for the study) so that unused categories still count.

    Returns
    -------
    tuple
        ``(alpha, ci_low, ci_high)``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> truth = rng.integers(1, 6, size=40)
    >>> alpha, low, high = alpha_with_ci(np.vstack([truth, truth, truth]), n_resamples=200)
    >>> alpha
    1.0
    """
    alpha = krippendorff_alpha(matrix, level=level)
    counts, scale = item_value_counts(matrix, values)
    weights = bootstrap_weights(counts.shape[0], n_resamples, np.random.default_rng(seed))
    low, high = percentile_interval(alpha_from_counts(counts, scale, level=level, weights=weights), ci)
    return alpha, low, high


def kendall_w(matrix):
    """Kendall's coefficient of concordance W with the correction for ties.

    ``W = 12 S / (m^2 (n^3 - n) - m T)`` where m raters rank n items (average ranks for ties),
    S is the sum of squared deviations of the items' rank sums from their mean and
    ``T = sum over raters and tie groups of (t^3 - t)`` (Kendall & Babington Smith 1939).

    Parameters
    ----------
    matrix : array-like
        Raters × items without missing values.

    Returns
    -------
    tuple
        ``(W, chi2, p)`` with ``chi2 = m (n - 1) W`` on ``n - 1`` degrees of freedom.

    Examples
    --------
    >>> round(kendall_w([[1, 2, 3], [1, 3, 2]])[0], 4)
    0.75
    """
    from scipy import stats

    data = np.asarray(matrix, dtype=float)
    if np.isnan(data).any():
        raise ValueError("Kendall's W needs every rater to rate every item; use complete_block() first")
    m, n = data.shape
    if m < 2 or n < 2:
        raise ValueError(f"Kendall's W needs at least 2 raters and 2 items, got {m} × {n}")
    ranks = stats.rankdata(data, axis=1)
    rank_sums = ranks.sum(axis=0)
    s = ((rank_sums - rank_sums.mean()) ** 2).sum()
    ties = 0.0
    for row in data:
        _, sizes = np.unique(row, return_counts=True)
        ties += float((sizes**3 - sizes).sum())
    denominator = m**2 * (n**3 - n) - m * ties
    if denominator == 0:
        return np.nan, np.nan, np.nan
    w = 12.0 * s / denominator
    chi2 = m * (n - 1) * w
    return float(w), float(chi2), float(stats.chi2.sf(chi2, n - 1))


def percent_agreement(matrix, *, n_resamples=2000, seed=0, ci=0.95, values=None):
    """Share of pairs of ratings of the same item that are equal, with a bootstrap CI over items.

    Examples
    --------
    >>> percent_agreement(np.array([[1, 2, 3], [1, 2, 4]]), n_resamples=10)[0]
    0.6666666666666666
    """
    counts, _ = item_value_counts(matrix, values)
    pairs_equal = (counts * (counts - 1)).sum(axis=1)
    raters = counts.sum(axis=1)
    pairs_all = raters * (raters - 1)
    value = pairs_equal.sum() / pairs_all.sum() if pairs_all.sum() else np.nan
    weights = bootstrap_weights(len(counts), n_resamples, np.random.default_rng(seed))
    with np.errstate(invalid="ignore", divide="ignore"):
        samples = (weights @ pairs_equal) / (weights @ pairs_all)
    return (float(value), *percentile_interval(samples, ci))


def human_ceiling(matrix, *, n_resamples=2000, seed=0, ci=0.95):
    """Leave-one-rater-out agreement: each rater's Spearman ρ with the mean of the other raters.

    For each rater, over the items that rater and at least one other rater rated, the rater's
    scores are correlated with the mean score of the others. The ceiling is the mean of the
    raters' ρ; its CI is a percentile bootstrap over raters. A rater with fewer than three
    such items or constant scores has no ρ and is counted in ``n_dropped``.

    Returns
    -------
    dict
        ``value, ci_low, ci_high, n_raters, n_dropped, per_rater`` (a Series).

    Examples
    --------
    >>> m = np.array([[1, 2, 3, 4], [1, 2, 3, 4], [2, 1, 3, 4]])
    >>> round(human_ceiling(m, n_resamples=50)["value"], 3)
    0.899
    """
    from scipy import stats

    data = np.asarray(matrix, dtype=float)
    index = matrix.index if isinstance(matrix, pd.DataFrame) else pd.RangeIndex(len(data))
    rated = ~np.isnan(data)
    totals = np.where(rated, data, 0.0).sum(axis=0)
    counts = rated.sum(axis=0)
    per_rater = {}
    for row, name in enumerate(index):
        usable = rated[row] & (counts >= 2)
        own = data[row, usable]
        others = (totals[usable] - own) / (counts[usable] - 1)
        if usable.sum() < 3 or np.ptp(own) == 0 or np.ptp(others) == 0:
            per_rater[name] = np.nan
            continue
        per_rater[name] = float(stats.spearmanr(own, others).statistic)
    series = pd.Series(per_rater, dtype=float)
    valid = series.dropna().to_numpy()
    if not len(valid):
        return {
            "value": np.nan,
            "ci_low": np.nan,
            "ci_high": np.nan,
            "n_raters": 0,
            "n_dropped": len(series),
            "per_rater": series,
        }
    weights = bootstrap_weights(len(valid), n_resamples, np.random.default_rng(seed))
    low, high = percentile_interval(weights @ valid / len(valid), ci)
    return {
        "value": float(valid.mean()),
        "ci_low": low,
        "ci_high": high,
        "n_raters": len(valid),
        "n_dropped": int(series.isna().sum()),
        "per_rater": series,
    }


def reliability_table(
    ratings,
    *,
    rater="participant",
    item="item",
    score="score",
    dimension="dimension",
    scale=(1, 2, 3, 4, 5),
    n_resamples=2000,
    seed=0,
    ci=0.95,
):
    """Every reliability statistic for every dimension: the ``tables/reliability.csv`` rows.

    Parameters
    ----------
    ratings : pandas.DataFrame
        Long ratings table with a dimension column.
    rater, item, score, dimension : str
        Column names.
    scale : sequence
        The rating scale, so Krippendorff's alpha counts unused categories.
    n_resamples, seed, ci :
        Bootstrap settings (percentile intervals over items; over raters for the ceiling).

    Returns
    -------
    pandas.DataFrame
        ``dimension, statistic, value, ci_low, ci_high, n_items, n_raters, basis``; the first
        five columns are the fixed table format.

    Examples
    --------
    >>> rows = [{"participant": p, "item": i, "dimension": "musicality", "score": 1 + (i + p) % 5}
    ...         for p in range(3) for i in range(6)]
    >>> table = reliability_table(pd.DataFrame(rows), n_resamples=50)
    >>> sorted(table["statistic"].unique()) == sorted(STATISTICS)
    True
    """
    _require_columns(ratings, (rater, item, score, dimension))
    if ratings[score].isna().any():
        raise ValueError(
            f"column {score!r} has missing scores; drop unrated rows before computing reliability"
        )
    frames = []
    for offset, (name, group) in enumerate(ratings.groupby(dimension, sort=False)):
        rng_seed = seed + offset
        matrix = rating_matrix(group, rater=rater, item=item, score=score)
        block, basis = _block_for(matrix, "block")
        rows = icc(group, rater=rater, item=item, score=score, complete="block").to_dict("records")
        all_ratings = {"n_items": matrix.shape[1], "n_raters": matrix.shape[0], "basis": "all ratings"}
        pairable = int((matrix.notna().sum(axis=0) >= 2).sum())
        not_computable = {
            "value": np.nan,
            "ci_low": np.nan,
            "ci_high": np.nan,
            **all_ratings,
            "basis": "not computable: no item was rated by two or more raters",
        }
        paired = matrix.to_numpy()[:, matrix.notna().sum(axis=0).to_numpy() >= 2]
        paired_values = np.unique(paired[~np.isnan(paired)])
        one_value = {
            **not_computable,
            "basis": (
                f"not computable: every rating of the items rated by two or more raters is {paired_values[0]:g} "
                "(alpha needs at least two different scores)"
            )
            if len(paired_values) == 1
            else "",
        }
        for level in ("ordinal", "interval"):
            if not pairable:
                rows.append({"statistic": f"alpha_{level}", **not_computable})
                continue
            if len(paired_values) < 2:
                rows.append({"statistic": f"alpha_{level}", **one_value})
                continue
            value, low, high = alpha_with_ci(
                matrix, level=level, n_resamples=n_resamples, seed=rng_seed, ci=ci, values=scale
            )
            rows.append(
                {"statistic": f"alpha_{level}", "value": value, "ci_low": low, "ci_high": high, **all_ratings}
            )
        if block.shape[0] < 2 or block.shape[1] < 2:
            w, w_basis = np.nan, "not computable: no two raters rated the same two items (no complete block)"
        else:
            w = kendall_w(block.to_numpy())[0]
            w_basis = (
                basis
                if np.isfinite(w)
                else f"not computable: every rater gave all items of the {basis} the same score (no ranking)"
            )
        rows.append(_row("kendall_w", w, np.nan, np.nan, block, w_basis))
        if pairable:
            value, low, high = percent_agreement(
                matrix, n_resamples=n_resamples, seed=rng_seed, ci=ci, values=scale
            )
            rows.append(
                {
                    "statistic": "percent_agreement",
                    "value": value,
                    "ci_low": low,
                    "ci_high": high,
                    **all_ratings,
                }
            )
        else:
            rows.append({"statistic": "percent_agreement", **not_computable})
        ceiling = human_ceiling(matrix, n_resamples=n_resamples, seed=rng_seed, ci=ci)
        rows.append(
            {
                "statistic": "human_ceiling",
                "value": ceiling["value"],
                "ci_low": ceiling["ci_low"],
                "ci_high": ceiling["ci_high"],
                "n_items": matrix.shape[1],
                "n_raters": ceiling["n_raters"],
                "basis": (
                    f"leave-one-rater-out Spearman, mean over raters ({ceiling['n_dropped']} raters without ρ)"
                    if ceiling["n_raters"]
                    else "not computable: no rater shares 3 or more items with other raters with varying "
                    "scores on both sides (leave-one-rater-out Spearman needs that)"
                ),
            }
        )
        frame = pd.DataFrame(rows)
        frame.insert(0, "dimension", name)
        frames.append(frame)
    columns = ["dimension", "statistic", "value", "ci_low", "ci_high", "n_items", "n_raters", "basis"]
    return pd.concat(frames, ignore_index=True)[columns]


def _block_for(matrix, complete):
    if not matrix.isna().to_numpy().any():
        return matrix, "complete design"
    if complete == "raise":
        raise ValueError(
            "the design is incomplete (not every rater rated every item): ICC needs a complete block; "
            "pass complete='block' to use the largest complete block, or use Krippendorff's alpha"
        )
    if complete != "block":
        raise ValueError(f"complete must be 'raise' or 'block', not {complete!r}")
    block = complete_block(matrix)
    return block, f"largest complete block ({block.shape[0]} raters × {block.shape[1]} items)"


def _row(statistic, value, low, high, block, basis):
    return {
        "statistic": statistic,
        "value": float(value),
        "ci_low": float(low),
        "ci_high": float(high),
        "n_items": block.shape[1],
        "n_raters": block.shape[0],
        "basis": basis,
    }


def _require_columns(frame, columns):
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise KeyError(f"missing columns {missing}; the table has {list(frame.columns)}")
