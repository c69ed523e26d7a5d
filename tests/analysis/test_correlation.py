"""Metric–human correlation: exact vectorised bootstrap, Williams' test, levels, Holm, ties."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis.correlation import (
    bootstrap_correlation,
    correlation_table,
    grouped_correlation,
    item_means,
    metric_comparisons,
    paired_permutation_test,
    system_correlation,
    weighted_correlations,
    williams_test,
)
from analysis.reliability import bootstrap_weights


def test_vectorised_bootstrap_equals_scipy_on_each_expanded_resample():
    rng = np.random.default_rng(1)
    x = rng.integers(0, 6, 40).astype(float)  # many ties on purpose
    y = np.round(x + rng.normal(size=40))
    weights = bootstrap_weights(40, 8, np.random.default_rng(0))
    found = weighted_correlations(x, y, weights)
    for row, counts in enumerate(weights):
        drawn = np.repeat(np.arange(40), counts)
        assert found["spearman"][row] == pytest.approx(stats.spearmanr(x[drawn], y[drawn]).statistic)
        assert found["kendall"][row] == pytest.approx(stats.kendalltau(x[drawn], y[drawn]).statistic)
        assert found["pearson"][row] == pytest.approx(stats.pearsonr(x[drawn], y[drawn]).statistic)


def test_williams_test_matches_bruceRs_documented_example():
    # bruceR::cor_diff(r1 = 0.20, r2 = 0.45, n = 100, rcov = 0.80) prints "t(97) = -4.56, p = 1e-05"
    t, df, p = williams_test(0.20, 0.45, 0.80, 100)
    assert round(t, 2) == -4.56
    assert df == 97
    assert p == pytest.approx(1e-5, abs=5e-6)


def test_williams_test_is_zero_for_equal_correlations_and_antisymmetric():
    assert williams_test(0.5, 0.5, 0.3, 50)[0] == 0
    assert williams_test(0.3, 0.6, 0.2, 80)[0] == pytest.approx(-williams_test(0.6, 0.3, 0.2, 80)[0])


def test_bootstrap_interval_recovers_a_known_spearman():
    rng = np.random.default_rng(7)
    rho_pearson = 0.6
    true_spearman = 6 / np.pi * np.arcsin(rho_pearson / 2)  # bivariate normal
    z = rng.multivariate_normal([0, 0], [[1, rho_pearson], [rho_pearson, 1]], size=400)
    table = bootstrap_correlation(z[:, 0], z[:, 1], n_resamples=2000, seed=1).set_index("method")
    assert table.at["spearman", "ci_low"] < true_spearman < table.at["spearman", "ci_high"]
    assert table.at["pearson", "ci_low"] < rho_pearson < table.at["pearson", "ci_high"]


def test_same_seed_same_interval_other_seed_other_interval():
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=60), rng.normal(size=60)
    first = bootstrap_correlation(x, y, seed=5, n_resamples=300)
    assert first.equals(bootstrap_correlation(x, y, seed=5, n_resamples=300))
    assert not first.equals(bootstrap_correlation(x, y, seed=6, n_resamples=300))


def test_grouped_correlation_drops_and_counts_constant_groups():
    x = [1, 2, 3, 1, 2, 3, 5, 5, 5]
    y = [1, 2, 3, 3, 2, 1, 1, 2, 3]
    table = grouped_correlation(x, y, list("aaabbbccc"), n_resamples=20).set_index("method")
    assert table.at["spearman", "r"] == 0.0  # (1 + -1) / 2
    assert table.at["spearman", "n"] == 2
    assert table.at["spearman", "groups_dropped"] == 1


def test_system_level_uses_system_means():
    systems = np.repeat(list("abcde"), 3)
    human = np.repeat([1.0, 2, 3, 4, 5], 3) + np.tile([-0.5, 0, 0.5], 5)
    metric = np.repeat([5.0, 4, 3, 2, 1], 3)
    table = system_correlation(metric, human, systems, methods=["spearman"], n_resamples=50)
    assert table["r"].item() == pytest.approx(-1.0)
    assert table["n"].item() == 5


def test_item_means_average_ratings_per_item_not_rows():
    ratings = pd.DataFrame(
        {
            "item": ["a"] * 3 + ["b"],
            "dimension": "helpfulness",
            "score": [1, 2, 6, 4],
            "scenario": "s",
            "system": "x",
        }
    )
    means = item_means(ratings)
    assert means["human"].tolist() == [3.0, 4.0]
    assert means["n_ratings"].tolist() == [3, 1]


def _grid():
    rng = np.random.default_rng(0)
    items = [f"s{s}:{system}" for s in range(20) for system in "abcdef"]
    human = rng.normal(size=len(items))
    means = pd.DataFrame(
        {
            "item": items,
            "dimension": "effectiveness",
            "human": human,
            "scenario": [i.split(":")[0] for i in items],
            "system": [i.split(":")[1] for i in items],
        }
    )
    scores = pd.concat(
        [
            pd.DataFrame({"item": items, "metric": "good", "value": human + rng.normal(0, 0.5, len(items))}),
            pd.DataFrame({"item": items, "metric": "noise", "value": rng.normal(size=len(items))}),
        ]
    )
    return means, scores


def test_correlation_table_has_the_fixed_columns_levels_and_holm():
    means, scores = _grid()
    table = correlation_table(means, scores, n_resamples=200)
    assert list(table.columns[:10]) == [
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
    ]
    assert set(table["level"]) == {"item", "scenario", "system"}
    assert (table["p_holm"] >= table["p"] - 1e-15).all()
    good = table.query("metric == 'good' and method == 'spearman' and level == 'item'").iloc[0]
    assert good["r"] == pytest.approx(
        stats.spearmanr(scores.query("metric == 'good'")["value"], means["human"]).statistic
    )
    assert good["n"] == 120


def test_system_level_is_left_out_with_fewer_than_five_systems():
    means, scores = _grid()
    keep = means["system"].isin(list("abcd"))
    table = correlation_table(means[keep], scores, n_resamples=50)
    assert "system" not in set(table["level"])


def test_missing_metric_values_raise_unless_omitted_and_are_counted():
    means, scores = _grid()
    scores = scores.copy()
    scores.iloc[0, scores.columns.get_loc("value")] = np.nan
    with pytest.raises(ValueError, match="omit_missing"):
        correlation_table(means, scores, n_resamples=50)
    table = correlation_table(means, scores, n_resamples=50, omit_missing=True)
    row = table.query("metric == 'good' and level == 'item'").iloc[0]
    assert (row["n"], row["n_missing"]) == (119, 1)


def test_ties_are_counted():
    means, scores = _grid()
    scores = scores.copy()
    scores.loc[scores["metric"] == "noise", "value"] = np.tile([0.0, 1.0, 2.0], 40)
    table = correlation_table(means, scores, n_resamples=50)
    assert table.query("metric == 'noise' and level == 'item'")["ties_metric"].iloc[0] == 117


def test_permutation_test_separates_a_good_metric_from_noise_but_not_from_itself():
    rng = np.random.default_rng(3)
    human = rng.normal(size=150)
    good = human + rng.normal(0, 0.3, 150)
    assert paired_permutation_test(human, good, rng.normal(size=150), n_permutations=500)[1] < 0.01
    assert (
        paired_permutation_test(human, good, good + 1e-9 * rng.normal(size=150), n_permutations=500)[1] > 0.5
    )


def test_metric_comparisons_put_the_better_metric_first_with_both_tests():
    means, scores = _grid()
    table = metric_comparisons(means, scores, n_permutations=300)
    row = table.iloc[0]
    assert (row["metric_a"], row["metric_b"]) == ("good", "noise")
    assert row["williams_p"] < 0.001 and row["permutation_p"] < 0.01
    assert row["williams_df"] == 117


def test_quadratic_weighted_kappa_equals_scikit_learn():
    from sklearn.metrics import cohen_kappa_score

    from analysis.correlation import quadratic_weighted_kappa

    rng = np.random.default_rng(5)
    first = rng.integers(1, 6, 200)
    second = np.clip(first + rng.integers(-1, 2, 200), 1, 5)
    assert quadratic_weighted_kappa(first, second) == pytest.approx(
        cohen_kappa_score(first, second, weights="quadratic")
    )


def test_judge_agreement_counts_pairs_and_leaves_missing_replies_out():
    from analysis.correlation import judge_agreement

    ratings = pd.DataFrame(
        {"item": ["a", "a", "b", "b", "c"], "dimension": "effectiveness", "score": [4, 3, 2, 2, 5]}
    )
    scores = pd.DataFrame(
        {"item": ["a", "b", "c"], "metric": "judge_effectiveness", "value": [4.0, 4.0, np.nan]}
    )
    table, pairs = judge_agreement(ratings, scores)
    row = table.iloc[0]
    assert (row["n_items"], row["n_missing"]) == (2, 1)
    assert row["exact"] == pytest.approx(1 / 4) and row["within_one"] == pytest.approx(2 / 4)
    assert row["bias"] == pytest.approx(((4 - 3.5) + (4 - 2)) / 2)


def test_a_metric_that_scored_almost_nothing_gets_an_empty_row_not_a_number():
    means, scores = _grid()
    scores = scores.copy()
    judge = pd.DataFrame({"item": means["item"], "metric": "judge", "value": np.nan})
    judge.loc[:1, "value"] = [3.0, 4.0]
    table = correlation_table(means, pd.concat([scores, judge]), n_resamples=50, omit_missing=True)
    row = table.query("metric == 'judge'")
    assert row["r"].isna().all() and (row["n"] == 2).all() and (row["n_missing"] == 118).all()


def test_metric_comparisons_use_the_items_both_metrics_scored():
    means, scores = _grid()
    scores = scores.copy()
    scores.loc[(scores["metric"] == "noise") & scores["item"].isin(means["item"][:10]), "value"] = np.nan
    row = metric_comparisons(means, scores, n_permutations=100).iloc[0]
    assert row["n"] == 110
