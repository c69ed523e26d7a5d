"""Simulated raters: the documented model, flagged output, a known correlation recovered."""

import numpy as np
import pandas as pd
import pytest

from analysis.correlation import bootstrap_correlation, item_means
from analysis.simulate import SimulationConfig, item_quality, simulate_ratings, to_scores
from modelgen.contracts import RATINGS_COLUMNS, load_ratings, write_ratings


def _items(n=60, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "item": [f"s{i // 3}:{'abc'[i % 3]}" for i in range(n)],
            "scenario": [f"s{i // 3}" for i in range(n)],
            "system": ["abc"[i % 3] for i in range(n)],
            "all_directions_correct": rng.integers(0, 2, n).astype(bool),
            "mean_abs_error_db": rng.uniform(0, 9, n),
        }
    )


def test_thresholds_map_the_latent_scale_to_one_to_five():
    assert to_scores(np.array([-9, -1.5, -1.49, 0.5, 0.51, 9]), (-1.5, -0.5, 0.5, 1.5)).tolist() == [
        1,
        1,
        2,
        3,
        4,
        5,
    ]


def test_quality_rises_with_correct_directions_and_falls_with_db_error():
    items = pd.DataFrame({"all_directions_correct": [1, 0, 1], "mean_abs_error_db": [0.0, 0.0, 4.0]})
    quality = item_quality(
        items, SimulationConfig(item_sd=0, direction_weight=1.0, error_weight=0.25), np.random.default_rng(0)
    )
    assert quality[0] - quality[1] == pytest.approx(1.0)
    assert quality[0] - quality[2] == pytest.approx(1.0)
    assert quality.mean() == pytest.approx(0.0)


def test_simulated_ratings_follow_the_contract_and_are_flagged(tmp_path):
    ratings = simulate_ratings(_items(), participants=6, items_per_participant=20, seed=3, study="pilot")
    assert len(ratings) == 6 * 20 * 5
    assert ratings["simulated"].all() and not ratings["attention_flag"].any()
    assert ratings.groupby("item")["participant"].nunique().between(2, 2).all()  # 6 × 20 / 60 = 2 each
    rows = ratings[list(RATINGS_COLUMNS)].to_dict("records")
    assert len(load_ratings(write_ratings(tmp_path / "r.csv", rows))) == len(ratings)


def test_same_seed_gives_the_same_ratings():
    first = simulate_ratings(_items(), participants=4, seed=9)
    assert first.equals(simulate_ratings(_items(), participants=4, seed=9))
    assert not first["score"].equals(simulate_ratings(_items(), participants=4, seed=10)["score"])


def test_missing_objective_error_is_an_error_not_a_guess():
    with pytest.raises(KeyError, match="objective-error"):
        simulate_ratings(_items().drop(columns="mean_abs_error_db"), participants=2)


def test_bad_configuration_is_refused_at_creation():
    with pytest.raises(ValueError, match="increasing"):
        SimulationConfig(thresholds=(0, -1, 1, 2))
    with pytest.raises(ValueError, match="noise_sd"):
        SimulationConfig(noise_sd=-1)


def test_a_known_correlation_is_recovered_inside_the_bootstrap_interval():
    """Metric and item quality are bivariate normal with Spearman 0.6; 60 raters per item."""
    rng = np.random.default_rng(11)
    n = 300
    spearman = 0.6
    pearson = 2 * np.sin(np.pi * spearman / 6)
    latent = rng.normal(size=n)
    metric = pearson * latent + np.sqrt(1 - pearson**2) * rng.normal(size=n)
    items = _items(n)
    config = SimulationConfig(dimension_sd=0.0, rater_sd=0.3, noise_sd=0.5)
    ratings = simulate_ratings(
        items, participants=60, seed=4, config=config, quality=latent, dimensions=["effectiveness"]
    )
    means = item_means(ratings).set_index("item").loc[items["item"]]
    table = bootstrap_correlation(metric, means["human"].to_numpy(), n_resamples=2000, seed=2).set_index(
        "method"
    )
    low, high = table.at["spearman", "ci_low"], table.at["spearman", "ci_high"]
    assert low < spearman < high
    assert high - low < 0.2
