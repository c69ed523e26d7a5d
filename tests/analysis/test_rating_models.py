"""Models of the ratings: the sparse REML fit agrees with statsmodels, effects are recovered."""

import numpy as np
import pandas as pd
import pytest
from statsmodels.tools.numdiff import approx_fprime

from analysis.rating_models import (
    _weighted_ordered_model,
    correctness_effect,
    crossed_lmm,
    mixed_model,
    nonparametric_tests,
    ordinal_model,
)


@pytest.fixture(scope="module")
def ratings():
    """12 raters × 30 items (10 scenarios × systems a, b, c), a fifth of the ratings missing."""
    rng = np.random.default_rng(0)
    rows = []
    bias = rng.normal(0, 0.5, 12)
    quality = rng.normal(0, 0.7, 30)
    for rater in range(12):
        for index in range(30):
            system = "abc"[index % 3]
            if rng.random() < 0.2:
                continue
            latent = 3 + 0.5 * "abc".index(system) + bias[rater] + quality[index] + rng.normal()
            rows.append(
                {
                    "participant": f"r{rater}",
                    "item": f"s{index // 3}:{system}",
                    "system": system,
                    "dimension": "effectiveness",
                    "score": int(np.clip(np.round(latent), 1, 5)),
                    "all_directions_correct": float(system != "a"),
                    "mean_abs_error_db": float(index % 7),
                }
            )
    return pd.DataFrame(rows)


def test_sparse_reml_equals_statsmodels_mixedlm_on_a_crossed_design(ratings):
    sparse = mixed_model(ratings).set_index("term")
    dense = mixed_model(ratings, engine="statsmodels").set_index("term")
    for term in ("a", "b", "c", "b - a", "c - a"):
        assert sparse.at[term, "estimate"] == pytest.approx(dense.at[term, "estimate"], abs=1e-3)
        assert sparse.at[term, "se"] == pytest.approx(dense.at[term, "se"], abs=1e-3)
    for term in ("rater", "item", "residual"):
        assert sparse.at[term, "estimate"] == pytest.approx(dense.at[term, "estimate"], rel=1e-2)


def test_crossed_lmm_recovers_variance_components_of_a_large_simulation():
    rng = np.random.default_rng(4)
    rater, item = np.repeat(np.arange(60), 80), np.tile(np.arange(80), 60)
    y = 2 + rng.normal(0, 0.6, 60)[rater] + rng.normal(0, 0.9, 80)[item] + rng.normal(0, 1.0, rater.size)
    fit = crossed_lmm(y, np.ones((rater.size, 1)), [rater, item], names=["rater", "item"])
    assert fit["variances"]["residual"] == pytest.approx(1.0, abs=0.05)
    assert fit["variances"]["rater"] == pytest.approx(0.36, abs=0.15)
    assert fit["variances"]["item"] == pytest.approx(0.81, abs=0.3)


def test_analytic_ordinal_gradient_equals_the_numerical_one():
    rng = np.random.default_rng(1)
    exog = pd.DataFrame({"x": rng.normal(size=200), "d": rng.integers(0, 2, 200).astype(float)})
    endog = pd.Series(pd.Categorical(rng.integers(1, 6, 200), ordered=True))
    model = _weighted_ordered_model()(endog, exog, rng.integers(1, 4, 200), distr="logit")
    params = np.array([0.3, -0.2, -1.0, 0.1, -0.3, 0.2])
    assert model.score(params) == pytest.approx(approx_fprime(params, model.loglike, centered=True), abs=1e-5)


def test_frequency_weighted_ordinal_fit_equals_the_fit_on_expanded_rows(ratings):
    from statsmodels.miscmodels.ordinal_model import OrderedModel

    fitted = ordinal_model(ratings).set_index("term")
    exog = pd.get_dummies(ratings[["system", "participant"]], drop_first=True).astype(float)
    endog = pd.Series(pd.Categorical(ratings["score"], ordered=True))
    plain = OrderedModel(endog, exog, distr="logit").fit(method="bfgs", disp=False, maxiter=2000)
    assert fitted.at["b vs a", "log_odds"] == pytest.approx(plain.params["system_b"], abs=1e-3)
    assert fitted.at["c vs a", "se"] == pytest.approx(plain.bse["system_c"], abs=1e-3)


def test_ordinal_and_linear_models_both_find_the_system_effect(ratings):
    assert ordinal_model(ratings).set_index("term").at["c vs a", "ci_low"] > 0
    assert mixed_model(ratings).set_index("term").at["c - a", "ci_low"] > 0


def test_nonparametric_tests_block_on_raters_and_holm_correct(ratings):
    table = nonparametric_tests(ratings)
    friedman = table.query("test == 'friedman'").iloc[0]
    assert friedman["n"] == 12 and friedman["p"] < 0.05
    pairwise = table.query("test == 'wilcoxon'")
    assert len(pairwise) == 3
    assert (pairwise["p_holm"] >= pairwise["p"]).all()


def test_correctness_effect_estimates_the_gain_from_correct_directions(ratings):
    table = correctness_effect(ratings).set_index("term")
    assert table.at["all_directions_correct", "estimate"] > 0
    assert table.at["all_directions_correct", "ci_low"] > 0


def test_correctness_effect_needs_the_objective_error_columns(ratings):
    with pytest.raises(KeyError, match="objective-error"):
        correctness_effect(ratings.drop(columns="mean_abs_error_db"))


def test_unknown_reference_system_is_refused(ratings):
    with pytest.raises(ValueError, match="reference system"):
        mixed_model(ratings, reference="zzz")


def test_collinear_predictors_get_separate_models_instead_of_failing(ratings):
    collinear = ratings.assign(mean_abs_error_db=(~ratings["all_directions_correct"].astype(bool)) * 4.5)
    table = correctness_effect(collinear)
    assert set(table["model"]) == {"separate (predictors collinear)"}
    assert len(table) == 2
