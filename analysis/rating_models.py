"""Models of the ratings: which system is rated higher, and does objective correctness matter?

Three views of the same question, from the most to the least assuming:

- :func:`mixed_model` — a linear mixed model ``score ~ 0 + system + (1 | rater) + (1 | item)``
  (crossed random intercepts, REML). It treats the 1–5 scores as interval data, so it is the
  sensitivity check beside the ordinal model.
- :func:`ordinal_model` — a proportional-odds (cumulative logit) model
  ``score ~ system + rater`` through statsmodels' ``OrderedModel``, with raters as fixed
  effects. A cumulative-link *mixed* model (R's ``ordinal::clmm``) would treat raters and
  items as random; no maintained Python library fits one, so rater leniency enters as fixed
  effects and items are not modelled (their variation stays in the logistic error).
- :func:`nonparametric_tests` — Friedman's test over systems with raters as blocks, then
  Wilcoxon signed-rank tests between every pair of systems, Holm-corrected.

:func:`correctness_effect` asks whether advice that is objectively right (every gain direction
correct, smaller dB error) is rated higher: the same crossed mixed model with the item's
objective error as predictors.

About the mixed-model engine: statsmodels' ``MixedLM`` fits crossed random effects as
variance components of one group with dense matrices; for one dimension of 200 raters × 400
items (80,000 ratings) that took 186 s on our machine. :func:`crossed_lmm` maximises the same
REML criterion in the sparse penalised-least-squares form of lme4 (Bates, Mächler, Bolker &
Walker 2015, J. Stat. Softw. 67(1), section 3), which needs only the q × q cross-product of
the random-effect indicators; a test checks it against ``MixedLM`` on a small design. Pass
``engine="statsmodels"`` to use ``MixedLM`` itself.
"""

import warnings

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

CI_Z = 1.959963984540054


ONE_BLAS_THREAD = threadpool_limits.wrap(limits=1, user_api="blas")
"""The model fits are many small matrix operations: BLAS threads only add overhead, and on a busy
two-core machine OpenBLAS threads made them 2–20 times slower (measured), so they run on one."""


@ONE_BLAS_THREAD
def crossed_lmm(y, X, groups, *, names=None):
    """REML fit of ``y = X b + sum_g Z_g u_g + e`` with independent random intercepts per grouping.

    Parameters
    ----------
    y : array-like, shape (n,)
    X : array-like, shape (n, p)
        Fixed-effect design (full column rank).
    groups : sequence of array-like
        One integer code array (length n) per grouping factor, e.g. rater and item codes.
    names : sequence of str, optional
        Names of the grouping factors (for the variance table).

    Returns
    -------
    dict
        ``beta``, ``cov_beta``, ``variances`` (name -> variance, plus ``residual``),
        ``reml_deviance``, ``converged``, ``n``.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> rater, item = np.repeat(np.arange(10), 12), np.tile(np.arange(12), 10)
    >>> y = 3 + rng.normal(0, 1, 10)[rater] + rng.normal(0, 1, 12)[item] + rng.normal(0, 0.5, 120)
    >>> fit = crossed_lmm(y, np.ones((120, 1)), [rater, item], names=["rater", "item"])
    >>> sorted(fit["variances"])
    ['item', 'rater', 'residual']
    """
    from scipy import linalg, optimize, sparse

    y = np.asarray(y, dtype=float)
    X = np.asarray(X, dtype=float)
    n, p = X.shape
    if n <= p:
        raise ValueError(f"a REML fit needs more observations than fixed effects, got {n} for {p}")
    names = list(names or [f"group{index}" for index in range(len(groups))])
    blocks, sizes = [], []
    for codes in groups:
        codes = np.asarray(codes)
        levels = int(codes.max()) + 1
        blocks.append(sparse.csr_matrix((np.ones(n), (np.arange(n), codes)), shape=(n, levels)))
        sizes.append(levels)
    Z = sparse.hstack(blocks, format="csr")
    ZtZ = (Z.T @ Z).toarray()
    ZtX = np.asarray(Z.T @ X)
    Zty = np.asarray(Z.T @ y).ravel()
    XtX, Xty, yty = X.T @ X, X.T @ y, float(y @ y)
    owner = np.repeat(np.arange(len(sizes)), sizes)
    identity = np.eye(len(owner))

    def solve(theta):
        scale = theta[owner]
        L = linalg.cholesky(scale[:, None] * ZtZ * scale[None, :] + identity, lower=True)
        rzx = linalg.solve_triangular(L, scale[:, None] * ZtX, lower=True)
        cu = linalg.solve_triangular(L, scale * Zty, lower=True)
        schur = XtX - rzx.T @ rzx
        RX = linalg.cholesky(schur, lower=True)
        beta = linalg.cho_solve((RX, True), Xty - rzx.T @ cu)
        u = linalg.solve_triangular(L.T, cu - rzx @ beta, lower=False)
        rss = yty - (scale * Zty) @ u - Xty @ beta
        return L, RX, beta, max(rss, 1e-12)

    def deviance(theta):
        L, RX, _, rss = solve(np.asarray(theta))
        dof = n - p
        return (
            2 * np.log(np.diag(L)).sum()
            + 2 * np.log(np.diag(RX)).sum()
            + dof * (1 + np.log(2 * np.pi * rss / dof))
        )

    result = optimize.minimize(
        deviance, x0=np.ones(len(sizes)), method="L-BFGS-B", bounds=[(0.0, None)] * len(sizes)
    )
    theta = result.x
    L, RX, beta, rss = solve(theta)
    sigma2 = rss / (n - p)
    cov_beta = sigma2 * linalg.cho_solve((RX, True), np.eye(p))
    variances = {name: float(sigma2 * t**2) for name, t in zip(names, theta)}
    variances["residual"] = float(sigma2)
    return {
        "beta": beta,
        "cov_beta": cov_beta,
        "variances": variances,
        "reml_deviance": float(result.fun),
        "converged": bool(result.success),
        "n": n,
    }


def _codes(series):
    return pd.factorize(series, sort=True)


@ONE_BLAS_THREAD
def mixed_model(
    ratings,
    *,
    rater="participant",
    item="item",
    system="system",
    score="score",
    dimension="dimension",
    reference=None,
    engine="sparse",
):
    """Linear mixed model per dimension: ``score ~ 0 + system + (1 | rater) + (1 | item)``.

    Parameters
    ----------
    ratings : pandas.DataFrame
        Long ratings table.
    rater, item, system, score, dimension : str
        Column names.
    reference : str, optional
        System the contrasts are taken against (default: the first system in sorted order).
    engine : {"sparse", "statsmodels"}
        :func:`crossed_lmm` or statsmodels' ``MixedLM`` with variance components.

    Returns
    -------
    pandas.DataFrame
        ``dimension, kind, term, estimate, se, ci_low, ci_high, p, n`` where ``kind`` is
        ``mean`` (a system's model-based mean), ``contrast`` (``system - reference``) or
        ``variance`` (rater, item, residual variance; no SE), and ``note``: why a value is
        missing ("not computable: …": one rating per system, constant scores, a singular
        design) or what to read with care (no convergence, one rater or item only).

    Examples
    --------
    >>> rows = [{"participant": r, "item": f"{s}{i}", "system": s, "dimension": "helpfulness",
    ...          "score": 2 + (s == "b") + (r + i) % 2} for r in range(4) for i in range(3) for s in "ab"]
    >>> table = mixed_model(pd.DataFrame(rows))
    >>> round(table.query("kind == 'contrast'")["estimate"].item(), 6)
    1.0
    """
    from scipy import stats

    if engine not in ("sparse", "statsmodels"):
        raise ValueError(f"engine must be 'sparse' or 'statsmodels', not {engine!r}")
    frames = []
    for name, group in ratings.groupby(dimension, sort=False):
        _require_complete(group, (rater, item, system, score))
        system_codes, systems = _codes(group[system])
        ref = reference if reference is not None else systems[0]
        if ref not in set(systems):
            raise ValueError(f"reference system {ref!r} is not among the systems {list(systems)}")
        X = np.eye(len(systems))[system_codes]
        y = group[score].to_numpy(dtype=float)
        contrasts = [label for label in systems if label != ref]
        reason = _mixed_design_problem(y, len(systems))
        fit = None
        if not reason:
            try:
                fit = _fit_crossed(engine, y, X, group[rater], group[item])
            except np.linalg.LinAlgError as error:
                reason = f"not computable: the model's matrices are singular for these ratings ({error})"
        if fit is None:
            frame = _mixed_rows_not_computable(systems, contrasts, ref, len(group), reason)
        else:
            frame = _mixed_rows(fit, systems, ref, len(group), _mixed_notes(fit, group, rater, item))
        frame.insert(0, "dimension", name)
        frames.append(frame)
    table = pd.concat(frames, ignore_index=True)
    z = table["estimate"] / table["se"]
    table["p"] = np.where(table["kind"] == "contrast", 2 * stats.norm.sf(np.abs(z)), np.nan)
    return table[MIXED_COLUMNS]


MIXED_COLUMNS = ["dimension", "kind", "term", "estimate", "se", "ci_low", "ci_high", "p", "n", "note"]


def _mixed_design_problem(y, n_systems):
    """The plain-words reason the mixed model cannot be fitted to one dimension, or ``""``."""
    if len(y) <= n_systems:
        return (
            f"not computable: {len(y)} ratings for {n_systems} system means leave nothing "
            "to estimate the residual variance from"
        )
    if np.ptp(y) == 0:
        return f"not computable: every rating of this dimension is {y[0]:g} (no variance to model)"
    return ""


def _fit_crossed(engine, y, X, raters, items):
    """``(beta, cov, variances, converged)`` of the crossed model from the chosen engine."""
    if engine == "sparse":
        fit = crossed_lmm(y, X, [_codes(raters)[0], _codes(items)[0]], names=["rater", "item"])
        return fit["beta"], fit["cov_beta"], fit["variances"], fit["converged"]
    return _statsmodels_crossed(y, X, raters, items)


def _mixed_notes(fit, group, rater, item):
    notes = []
    if not fit[3]:
        notes.append("the REML optimiser did not converge: read with care")
    for column, label in ((rater, "rater"), (item, "item")):
        if group[column].nunique() < 2:
            notes.append(f"one {label} only: the {label} variance is not identified (estimated as 0)")
    return "; ".join(notes)


def _mixed_rows(fit, systems, ref, n, note):
    beta, cov, variances, _ = fit
    rows = [_estimate_row("mean", label, beta[i], cov[i, i], n, note) for i, label in enumerate(systems)]
    r = list(systems).index(ref)
    for index, label in enumerate(systems):
        if index != r:
            variance = cov[index, index] + cov[r, r] - 2 * cov[index, r]
            rows.append(
                _estimate_row("contrast", f"{label} - {ref}", beta[index] - beta[r], variance, n, note)
            )
    for label, value in variances.items():
        rows.append({"kind": "variance", "term": label, "estimate": value, "n": n, "note": note})
    return pd.DataFrame(rows, columns=MIXED_COLUMNS[1:])


def _mixed_rows_not_computable(systems, contrasts, ref, n, reason):
    terms = [("mean", label) for label in systems] + [("contrast", f"{label} - {ref}") for label in contrasts]
    terms += [("variance", label) for label in ("rater", "item", "residual")]
    return pd.DataFrame(
        [{"kind": kind, "term": term, "n": n, "note": reason} for kind, term in terms],
        columns=MIXED_COLUMNS[1:],
    )


def _estimate_row(kind, term, estimate, variance, n, note=""):
    """One estimate with its normal CI; a non-positive variance is reported, not square-rooted."""
    if not (np.isfinite(variance) and variance > 0):
        return {
            "kind": kind,
            "term": term,
            "estimate": float(estimate),
            "n": n,
            "note": "not computable: the standard error is undefined (the estimate's variance is not "
            "positive; the design does not separate this term from the random effects)",
        }
    se = float(np.sqrt(variance))
    return {
        "kind": kind,
        "term": term,
        "estimate": float(estimate),
        "se": se,
        "ci_low": float(estimate - CI_Z * se),
        "ci_high": float(estimate + CI_Z * se),
        "n": n,
        "note": note,
    }


def _statsmodels_crossed(y, X, raters, items):
    """``MixedLM`` with one group and rater/item variance components (dense; small designs only)."""
    import statsmodels.formula.api as smf

    frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(X.shape[1])])
    frame["y"], frame["rater"], frame["item"], frame["group"] = y, raters.to_numpy(), items.to_numpy(), 0
    formula = "y ~ 0 + " + " + ".join(frame.columns[: X.shape[1]])
    model = smf.mixedlm(
        formula,
        frame,
        groups="group",
        re_formula="0",
        vc_formula={"rater": "0 + C(rater)", "item": "0 + C(item)"},
    )
    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = model.fit(reml=True, method=["nm", "bfgs"])
    converged = bool(result.converged) and not any(
        issubclass(warning.category, ConvergenceWarning) for warning in caught
    )
    k = X.shape[1]
    components = dict(zip(result.model.exog_vc.names, np.asarray(result.vcomp, dtype=float)))
    variances = {"rater": components["rater"], "item": components["item"], "residual": float(result.scale)}
    return np.asarray(result.fe_params), np.asarray(result.cov_params())[:k, :k], variances, converged


def nonparametric_tests(
    ratings, *, rater="participant", system="system", score="score", dimension="dimension"
):
    """Friedman's test (raters as blocks) and Holm-corrected pairwise Wilcoxon signed-rank tests.

    Each rater's mean score per system is one observation; raters who did not rate every
    system are left out (``n`` says how many blocks remain). The Wilcoxon p-value is exact
    for up to 50 blocks without ties or zero differences, otherwise the normal approximation
    with the tie and zero corrections (scipy's permutation fallback for small tied samples
    takes seconds per test). Holm's correction runs over all pairwise tests of the table.

    Returns
    -------
    pandas.DataFrame
        ``dimension, test, comparison, statistic, p, p_holm, n, note``; a test that cannot be
        run (too few complete raters, all ties) has NaN values and ``note`` says why.

    Examples
    --------
    >>> rows = [{"participant": r, "system": s, "dimension": "musicality", "score": 1 + "abc".index(s) + (r % 2)}
    ...         for r in range(8) for s in "abc"]
    >>> table = nonparametric_tests(pd.DataFrame(rows))
    >>> table.loc[table["test"] == "friedman", "n"].item()
    8
    """
    from itertools import combinations

    from scipy import stats
    from statsmodels.stats.multitest import multipletests

    rows = []
    for name, group in ratings.groupby(dimension, sort=False):
        _require_complete(group, (rater, system, score))
        means = group.groupby([rater, system])[score].mean().unstack(system).dropna()
        systems = list(means.columns)
        if len(systems) >= 3:
            row = {
                "dimension": name,
                "test": "friedman",
                "comparison": " vs ".join(systems),
                "n": len(means),
                "note": "",
            }
            if len(means) < 2:
                row["note"] = "not computable: fewer than 2 raters rated every system (raters are the blocks)"
            elif (means.nunique(axis=1) == 1).all():
                row["note"] = "not computable: every rater gave every system the same mean score (all ties)"
            else:
                result = stats.friedmanchisquare(*[means[s].to_numpy() for s in systems])
                row.update(statistic=float(result.statistic), p=float(result.pvalue))
            rows.append(row)
        for first, second in combinations(systems, 2):
            difference = means[first] - means[second]
            row = {
                "dimension": name,
                "test": "wilcoxon",
                "comparison": f"{first} vs {second}",
                "n": len(means),
                "note": "",
            }
            if len(means) < 2:
                row["note"] = "not computable: fewer than 2 raters rated both systems"
            elif (difference == 0).all():
                row["note"] = "not computable: every rater gave both systems the same mean score"
            else:
                magnitudes = difference[difference != 0].abs()
                exact = len(magnitudes) == len(difference) and magnitudes.is_unique and len(difference) <= 50
                method = "exact" if exact else "asymptotic"
                result = stats.wilcoxon(means[first], means[second], method=method)
                row.update(statistic=float(result.statistic), p=float(result.pvalue))
            rows.append(row)
    table = pd.DataFrame(rows, columns=["dimension", "test", "comparison", "statistic", "p", "n", "note"])
    table["p_holm"] = np.nan
    pairwise = (table["test"] == "wilcoxon") & table["p"].notna()
    if pairwise.any():
        table.loc[pairwise, "p_holm"] = multipletests(table.loc[pairwise, "p"], method="holm")[1]
    return table[["dimension", "test", "comparison", "statistic", "p", "p_holm", "n", "note"]]


def _weighted_ordered_model():
    from statsmodels.miscmodels.ordinal_model import OrderedModel

    class WeightedOrderedModel(OrderedModel):
        """``OrderedModel`` on a frequency table: each row counts ``freq_weights`` times.

        Raters as fixed effects make hundreds of parameters; statsmodels differentiates the
        likelihood numerically, which is slow on tens of thousands of ratings. The data enter
        only through (system, rater, score) counts, so the model runs on that table with an
        analytic gradient (checked against a numerical one in the tests).
        """

        def __init__(self, endog, exog, freq_weights, **kwargs):
            from scipy import sparse

            super().__init__(endog, exog, **kwargs)
            self.freq_weights = np.asarray(freq_weights, dtype=float)
            self._exog_sparse = sparse.csr_matrix(self.exog)  # dummy columns: mostly zeros
            self._level = np.asarray(self.endog, dtype=int)

        def loglike(self, params):
            return float((self.freq_weights * self.loglikeobs(params)).sum())

        def score(self, params):
            d_linear, d_thresholds = self._score_parts(params)
            weights = self.freq_weights
            return np.concatenate([self._exog_sparse.T @ (weights * d_linear), (weights @ d_thresholds)])

        def hessian(self, params):
            from statsmodels.tools.numdiff import approx_fprime

            hess = approx_fprime(params, self.score, centered=True)
            return (hess + hess.T) / 2.0

        def _score_parts(self, params):
            """d loglike_obs / d linear predictor, and / d raw threshold parameters."""
            k_exog = self.exog.shape[1]
            k_thresholds = self.k_levels - 1
            thresholds = self.transform_threshold_params(params)
            linear = self._exog_sparse @ params[:k_exog]
            level = self._level
            upper = thresholds[level + 1] - linear
            lower = thresholds[level] - linear
            prob = np.maximum(self.cdf(upper) - self.cdf(lower), 1e-20)
            pdf_upper = np.where(np.isfinite(upper), self.pdf(upper), 0.0)
            pdf_lower = np.where(np.isfinite(lower), self.pdf(lower), 0.0)
            d_linear = -(pdf_upper - pdf_lower) / prob
            # d threshold_j / d raw_m: 1 for m = 0; exp(raw_m) for 1 <= m <= j (cumulative increments)
            raw = params[k_exog:]
            jac = np.zeros((k_thresholds, k_thresholds))
            for j in range(k_thresholds):
                jac[j, 0] = 1.0
                jac[j, 1 : j + 1] = np.exp(raw[1 : j + 1])
            d_thresholds = np.zeros((len(level), k_thresholds))
            rows = np.arange(len(level))
            upper_index, lower_index = level, level - 1
            has_upper = upper_index < k_thresholds
            has_lower = lower_index >= 0
            d_thresholds[rows[has_upper], upper_index[has_upper]] += pdf_upper[has_upper] / prob[has_upper]
            d_thresholds[rows[has_lower], lower_index[has_lower]] -= pdf_lower[has_lower] / prob[has_lower]
            return d_linear, d_thresholds @ jac

    return WeightedOrderedModel


@ONE_BLAS_THREAD
def ordinal_model(
    ratings,
    *,
    rater="participant",
    system="system",
    score="score",
    dimension="dimension",
    reference=None,
    scale=(1, 2, 3, 4, 5),
):
    """Proportional-odds model per dimension: ``score ~ system + rater`` (logit link, fixed raters).

    Coefficients are log cumulative odds ratios of a higher score, system against the
    reference system, holding the rater fixed.

    Returns
    -------
    pandas.DataFrame
        ``dimension, term, log_odds, se, ci_low, ci_high, p, odds_ratio, n, converged, note``;
        a contrast that cannot be estimated has NaN values and ``note`` says why (one system
        only, one score only, systems confounded with raters, a singular or non-concave
        likelihood); raters whose every rating is an extreme score are left out and counted.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> rows = [{"participant": r, "system": s, "dimension": "effectiveness",
    ...          "score": int(np.clip(3 + (s == "b") + rng.integers(-1, 2), 1, 5))}
    ...         for r in range(10) for s in "ab" for _ in range(5)]
    >>> table = ordinal_model(pd.DataFrame(rows))
    >>> bool(table["log_odds"].item() > 0)
    True
    """
    from scipy import stats

    model_class = _weighted_ordered_model()
    frames = []
    for name, group in ratings.groupby(dimension, sort=False):
        _require_complete(group, (rater, system, score))
        systems = sorted(group[system].unique())
        ref = reference if reference is not None else systems[0]
        contrasts = [s for s in systems if s != ref]
        group, left_out = _drop_separated_raters(group, rater, score)
        counts = group.groupby([system, rater, score]).size().rename("freq").reset_index()
        raters = sorted(group[rater].unique())
        exog = pd.concat(
            [
                pd.DataFrame({f"system[{s}]": (counts[system] == s).astype(float) for s in contrasts}),
                pd.DataFrame({f"rater[{r}]": (counts[rater] == r).astype(float) for r in raters[1:]}),
            ],
            axis=1,
        )
        present = [value for value in scale if value in set(counts[score])]
        note = f"{left_out} raters left out: {_SEPARATED}" if left_out else ""
        reason = _ordinal_design_problem(group, counts, exog, system, score, ref, contrasts, present)
        if reason:
            frames.append(_ordinal_rows(name, contrasts or [None], ref, len(group), reason))
            continue
        endog = pd.Series(pd.Categorical(counts[score], categories=present, ordered=True))
        model = model_class(endog, exog, counts["freq"].to_numpy(), distr="logit")
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                result = model.fit(method="newton", disp=False, maxiter=100)
            params = np.asarray(result.params)
            variances = np.diag(np.linalg.inv(-model.hessian(params)))
        except np.linalg.LinAlgError:  # in a Newton step or at the estimate
            reason = (
                "not computable: the likelihood's curvature matrix is singular "
                f"(an effect is not identified by these ratings; {_SEPARATION})"
            )
            frames.append(_ordinal_rows(name, contrasts, ref, len(group), reason))
            continue
        converged = bool(result.mle_retvals.get("converged", False))
        if not converged:
            messages = "; ".join(sorted({str(w.message).splitlines()[0] for w in caught}))
            reason = (
                f"not computable: the fit did not converge in 100 Newton steps ({messages}; {_SEPARATION})"
            )
            frames.append(_ordinal_rows(name, contrasts, ref, len(group), reason))
            continue
        rows = []
        for index, column in enumerate(exog.columns):
            if not column.startswith("system["):
                continue
            label = column[7:-1]
            estimate, variance = params[index], variances[index]
            if not (np.isfinite(variance) and variance > 0):
                reason = (
                    f"not computable: the likelihood has no maximum for {label} against {ref} "
                    f"(its variance estimate is not positive; {_SEPARATION})"
                )
                rows.append(_ordinal_rows(name, [label], ref, len(group), reason).iloc[0].to_dict())
                continue
            se = float(np.sqrt(variance))
            rows.append(
                {
                    "dimension": name,
                    "term": f"{label} vs {ref}",
                    "log_odds": float(estimate),
                    "se": se,
                    "ci_low": float(estimate - CI_Z * se),
                    "ci_high": float(estimate + CI_Z * se),
                    "p": float(2 * stats.norm.sf(abs(estimate / se))),
                    "odds_ratio": float(np.exp(estimate)),
                    "n": len(group),
                    "converged": converged,
                    "note": note,
                }
            )
        frames.append(pd.DataFrame(rows, columns=ORDINAL_COLUMNS))
    return pd.concat(frames, ignore_index=True)[ORDINAL_COLUMNS]


ORDINAL_COLUMNS = [
    "dimension",
    "term",
    "log_odds",
    "se",
    "ci_low",
    "ci_high",
    "p",
    "odds_ratio",
    "n",
    "converged",
    "note",
]
_SEPARATION = (
    "usually separation: one system's ratings all lie at or above the other's, so the log odds "
    "would be infinite"
)
_SEPARATED = (
    "every rating they gave was the lowest or the highest score used, so with raters as fixed "
    "effects their leniency is infinite and they say nothing about the systems"
)


def _drop_separated_raters(group, rater, score):
    """Leave out raters whose every rating is the lowest or the highest score of the dimension."""
    low, high = group[score].min(), group[score].max()
    if low == high:
        return group, 0
    extreme = group.groupby(rater)[score].agg(lambda values: values.eq(low).all() or values.eq(high).all())
    separated = set(extreme.index[extreme])
    if not separated or len(separated) == len(extreme):
        return group, 0
    return group[~group[rater].isin(separated)], len(separated)


def _ordinal_design_problem(group, counts, exog, system, score, ref, contrasts, present):
    """The plain-words reason the proportional-odds model cannot be fitted, or ``""``."""
    if not contrasts:
        return f"not computable: only one system ({ref}) was rated, so there is no contrast"
    if len(present) < 2:
        return (
            f"not computable: every rating of this dimension is {present[0]}; "
            "a proportional-odds model needs at least two different scores"
        )
    unrated = sorted({ref, *contrasts} - set(group[system]))
    if unrated:
        return (
            "not computable: after leaving out the raters whose every rating is an extreme score, "
            f"no rating of {', '.join(unrated)} is left"
        )
    with_thresholds = np.column_stack(
        [np.ones(len(exog)), exog.to_numpy()]
    )  # the cut-points act as a constant
    if np.linalg.matrix_rank(with_thresholds) < with_thresholds.shape[1]:
        return (
            "not computable: the systems cannot be separated from the raters' leniency "
            "(too few raters rated more than one system)"
        )
    return ""


def _ordinal_rows(name, labels, ref, n, reason):
    return pd.DataFrame(
        [
            {
                "dimension": name,
                "term": f"{label} vs {ref}" if label is not None else f"(none) vs {ref}",
                "n": n,
                "converged": False,
                "note": reason,
            }
            for label in labels
        ],
        columns=ORDINAL_COLUMNS,
    )


@ONE_BLAS_THREAD
def correctness_effect(
    ratings,
    *,
    predictors=("all_directions_correct", "mean_abs_error_db"),
    rater="participant",
    item="item",
    score="score",
    dimension="dimension",
):
    """Effect of the advice's objective error on its ratings, per dimension.

    A crossed mixed model ``score ~ 1 + predictors + (1 | rater) + (1 | item)`` where the
    predictors are item-level columns of ``ratings`` (from the study, or joined from the task
    metrics of a scores file), plus the Spearman correlation of each predictor with the item
    mean score.

    Returns
    -------
    pandas.DataFrame
        ``dimension, term, model, estimate, se, ci_low, ci_high, p, spearman_item_mean, n, note``;
        ``model`` is ``joint`` or, when the predictors are collinear in the data, ``separate``
        (one model per predictor); ``note`` says why a missing estimate is not computable
        (a predictor constant over the items, constant scores, too few ratings).

    Examples
    --------
    >>> rows = [{"participant": r, "item": i, "dimension": "effectiveness", "all_directions_correct": i % 2,
    ...          "mean_abs_error_db": float(i % 5), "score": 2 + 2 * (i % 2) + (r % 2)} for r in range(5) for i in range(10)]
    >>> table = correctness_effect(pd.DataFrame(rows))
    >>> round(table.loc[table["term"] == "all_directions_correct", "estimate"].item(), 3)
    2.0
    """
    from scipy import stats

    predictors = list(predictors)
    missing = [column for column in predictors if column not in ratings.columns]
    if missing:
        raise KeyError(
            f"no objective-error columns {missing} in the ratings; join the item's task metrics first"
        )
    frames = []
    for name, group in ratings.groupby(dimension, sort=False):
        _require_complete(group, (rater, item, score, *predictors))
        values = group[predictors].to_numpy(dtype=float)
        y = group[score].to_numpy(dtype=float)
        codes = [_codes(group[rater])[0], _codes(group[item])[0]]
        item_means = group.groupby(item).agg(mean=(score, "mean"), **{p: (p, "first") for p in predictors})
        varying = [term for index, term in enumerate(predictors) if np.ptp(values[:, index]) > 0]
        joint = np.column_stack([np.ones(len(group)), values])
        reason = _mixed_design_problem(y, joint.shape[1])
        fits, model = {}, ""
        if not reason:
            try:
                if np.linalg.matrix_rank(joint) == joint.shape[1]:
                    fit = crossed_lmm(y, joint, codes)
                    fits = {term: (fit, index) for index, term in enumerate(predictors, start=1)}
                    model = "joint"
                else:
                    # the predictors are collinear in this data (e.g. every wrong direction has the same
                    # dB error): each gets its own model rather than an arbitrary split of one effect
                    fits = {
                        term: (crossed_lmm(y, np.column_stack([np.ones(len(group)), group[term]]), codes), 1)
                        for term in varying
                    }
                    model = "separate (predictors collinear)"
            except np.linalg.LinAlgError as error:
                reason = f"not computable: the model's matrices are singular for these ratings ({error})"
        rows = []
        for term in predictors:
            row = {"dimension": name, "term": term, "model": model, "n": len(group), "note": ""}
            if term not in varying:
                row["note"] = (
                    f"not computable: every item has the same {term}, so its effect cannot be estimated"
                )
            elif reason:
                row["note"] = reason
            else:
                fit, index = fits[term]
                row.update(_effect_estimate(fit, index))
            if item_means[term].nunique() > 1 and item_means["mean"].nunique() > 1:
                row["spearman_item_mean"] = float(
                    stats.spearmanr(item_means[term], item_means["mean"]).statistic
                )
            rows.append(row)
        frames.append(pd.DataFrame(rows, columns=EFFECT_COLUMNS))
    return pd.concat(frames, ignore_index=True)[EFFECT_COLUMNS]


EFFECT_COLUMNS = [
    "dimension",
    "term",
    "model",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "p",
    "spearman_item_mean",
    "n",
    "note",
]


def _effect_estimate(fit, index):
    from scipy import stats

    estimate, variance = float(fit["beta"][index]), float(fit["cov_beta"][index, index])
    if not (np.isfinite(variance) and variance > 0):
        return {
            "estimate": estimate,
            "note": "not computable: the standard error is undefined (the estimate's variance is not positive)",
        }
    se = float(np.sqrt(variance))
    return {
        "estimate": estimate,
        "se": se,
        "ci_low": estimate - CI_Z * se,
        "ci_high": estimate + CI_Z * se,
        "p": float(2 * stats.norm.sf(abs(estimate / se))),
        "note": "" if fit["converged"] else "the REML optimiser did not converge: read with care",
    }


def _require_complete(frame, columns):
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise KeyError(f"missing columns {missing}; the table has {list(frame.columns)}")
    empty = [column for column in columns if frame[column].isna().any()]
    if empty:
        raise ValueError(f"columns {empty} have missing values; drop or fill them before modelling")
