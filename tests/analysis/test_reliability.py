"""Reliability statistics against published values and hand computations."""

import numpy as np
import pandas as pd
import pytest

from analysis.reliability import (
    STATISTICS,
    alpha_from_counts,
    alpha_with_ci,
    complete_block,
    human_ceiling,
    icc,
    item_value_counts,
    kendall_w,
    krippendorff_alpha,
    percent_agreement,
    rating_matrix,
    reliability_table,
)

N = np.nan
# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: 4 observers × 12
# units with missing values; published alpha: nominal 0.743, ordinal 0.815, interval 0.849.
KRIPPENDORFF_2011 = np.array(
    [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, N, N, N],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, N, 3],
        [N, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, N],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, N],
    ]
)


def _long(matrix, dimension="musicality"):
    rows = [
        {"participant": f"r{r}", "item": f"u{u:02d}", "dimension": dimension, "score": matrix[r, u]}
        for r in range(matrix.shape[0])
        for u in range(matrix.shape[1])
        if not np.isnan(matrix[r, u])
    ]
    return pd.DataFrame(rows)


def test_icc_on_pingouins_wine_data_equals_the_published_table():
    import pingouin

    data = pingouin.read_dataset("icc")  # ships inside the package: no network
    table = icc(data, rater="Judge", item="Wine", score="Scores").set_index("statistic")
    # pingouin's documented example: ICC(A,1) 0.728, ICC(A,k) 0.914, ICC(C,k) 0.915, CIs as printed
    assert table.at["ICC(A,1)", "value"] == pytest.approx(0.728, abs=5e-4)
    assert table.at["ICC(A,k)", "value"] == pytest.approx(0.914, abs=5e-4)
    assert table.at["ICC(C,k)", "value"] == pytest.approx(0.915, abs=5e-4)
    assert (table.at["ICC(A,1)", "ci_low"], table.at["ICC(A,1)", "ci_high"]) == (0.43, 0.93)
    assert (table.at["ICC(A,k)", "ci_low"], table.at["ICC(A,k)", "ci_high"]) == (0.75, 0.98)


@pytest.mark.parametrize("level, published", [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849)])
def test_krippendorff_alpha_reproduces_krippendorffs_worked_example(level, published):
    matrix = rating_matrix(_long(KRIPPENDORFF_2011))
    assert list(matrix.index) == ["r0", "r1", "r2", "r3"]  # raters are rows
    assert krippendorff_alpha(matrix, level=level) == pytest.approx(published, abs=5e-4)


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval"])
def test_vectorised_alpha_equals_the_krippendorff_package(level):
    counts, values = item_value_counts(KRIPPENDORFF_2011)
    assert alpha_from_counts(counts, values, level=level)[0] == pytest.approx(
        krippendorff_alpha(KRIPPENDORFF_2011, level=level), abs=1e-12
    )


def test_bootstrap_rows_equal_alpha_of_the_resampled_items():
    counts, values = item_value_counts(KRIPPENDORFF_2011)
    draws = np.array([0, 0, 3, 5, 6, 7, 9, 9, 10, 1, 2, 6])
    weights = np.bincount(draws, minlength=12)[None]
    expected = krippendorff_alpha(KRIPPENDORFF_2011[:, draws], level="ordinal")
    assert alpha_from_counts(counts, values, level="ordinal", weights=weights)[0] == pytest.approx(expected)


def test_a_transposed_matrix_gives_a_different_alpha():
    assert krippendorff_alpha(KRIPPENDORFF_2011.T, level="interval") == pytest.approx(-0.0354, abs=1e-3)


def test_alpha_interval_contains_the_estimate_and_is_seeded():
    first = alpha_with_ci(KRIPPENDORFF_2011, level="ordinal", n_resamples=500, seed=3)
    second = alpha_with_ci(KRIPPENDORFF_2011, level="ordinal", n_resamples=500, seed=3)
    assert first == second
    assert first[1] < first[0] <= first[2]


def test_kendall_w_with_ties_matches_a_hand_computation():
    # 3 raters, 4 items; rater 2 ties items 3 and 4 (ranks 3.5, 3.5).
    # Rank sums 3, 6, 10.5, 10.5; mean 7.5 -> S = 20.25 + 2.25 + 9 + 9 = 40.5.
    # T = 2^3 - 2 = 6; W = 12 * 40.5 / (9 * 60 - 3 * 6) = 486 / 522.
    w, chi2, p = kendall_w([[1, 2, 3, 4], [1, 2, 4, 3], [1, 2, 3, 3]])
    assert w == pytest.approx(486 / 522)
    assert chi2 == pytest.approx(3 * 3 * 486 / 522)
    assert 0 < p < 0.05


def test_kendall_w_refuses_missing_ratings():
    with pytest.raises(ValueError, match="complete_block"):
        kendall_w([[1, 2, N], [1, 2, 3]])


def test_percent_agreement_counts_equal_pairs():
    # item 1: 3 raters all 2 -> 6 of 6 ordered pairs agree; item 2: 1, 1, 3 -> 2 of 6.
    value, low, high = percent_agreement(np.array([[2, 1], [2, 1], [2, 3]]), n_resamples=50)
    assert value == pytest.approx(8 / 12)


def test_human_ceiling_is_the_mean_leave_one_rater_out_spearman():
    result = human_ceiling(np.array([[1, 2, 3, 4], [1, 2, 3, 4], [2, 1, 3, 4]]), n_resamples=50)
    # raters 0 and 1 against the others' mean (1.5, 1.5, 3, 4): rho = 0.9487; rater 2 against (1, 2, 3, 4): 0.8
    assert result["per_rater"].round(4).tolist() == [0.9487, 0.9487, 0.8]
    assert result["value"] == pytest.approx((2 * 0.9486832980505139 + 0.8) / 3)


def test_complete_block_finds_the_raters_who_share_items():
    matrix = pd.DataFrame([[1, 2, 3, N], [2, 3, 4, 5], [3, 4, 5, 1], [N, N, 1, 2]], index=list("abcd"))
    block = complete_block(matrix)
    assert list(block.index) == ["a", "b", "c"]
    assert list(block.columns) == [0, 1, 2]


def test_icc_on_an_incomplete_design_raises_unless_a_block_is_asked_for():
    ratings = _long(KRIPPENDORFF_2011)
    with pytest.raises(ValueError, match="incomplete"):
        icc(ratings)
    table = icc(ratings, complete="block")
    assert table["basis"].str.startswith("largest complete block").all()


def test_a_rater_rating_an_item_twice_is_refused():
    ratings = pd.DataFrame({"participant": ["a", "a"], "item": ["x", "x"], "score": [1, 2]})
    with pytest.raises(ValueError, match="more than once"):
        rating_matrix(ratings)


def test_reliability_table_has_every_statistic_for_every_dimension():
    rng = np.random.default_rng(0)
    truth = rng.integers(1, 6, size=30)
    matrix = np.clip(truth[None] + rng.integers(-1, 2, size=(5, 30)), 1, 5).astype(float)
    ratings = pd.concat([_long(matrix, "musicality"), _long(matrix, "helpfulness")])
    table = reliability_table(ratings, n_resamples=200)
    assert list(table.columns[:5]) == ["dimension", "statistic", "value", "ci_low", "ci_high"]
    assert len(table) == 2 * len(STATISTICS)
    alpha = table.query("dimension == 'musicality' and statistic == 'alpha_interval'").iloc[0]
    assert alpha["value"] == pytest.approx(krippendorff_alpha(matrix, level="interval"))
    assert alpha["ci_low"] < alpha["value"] < alpha["ci_high"]


def test_missing_scores_raise():
    ratings = _long(KRIPPENDORFF_2011)
    ratings.loc[0, "score"] = N
    with pytest.raises(ValueError, match="missing scores"):
        reliability_table(ratings)


def test_a_design_where_no_item_has_two_raters_reports_alpha_as_not_computable():
    rows = [
        {"participant": p, "item": f"i{p}{k}", "dimension": "musicality", "score": 1 + k % 5}
        for p in range(3)
        for k in range(4)
    ]
    table = reliability_table(pd.DataFrame(rows), n_resamples=20).set_index("statistic")
    for statistic in ("alpha_ordinal", "alpha_interval", "percent_agreement"):
        assert np.isnan(table.loc[statistic, "value"])
        assert table.loc[statistic, "basis"].startswith("not computable: no item was rated by two")
