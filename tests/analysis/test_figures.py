"""Figures: the drawn bars and cells carry the numbers of the tables they are drawn from."""

import numpy as np
import pandas as pd
import pytest

from analysis import figures


def test_likert_bars_diverge_at_the_neutral_score_and_sum_to_one():
    distribution = pd.DataFrame(
        {
            "dimension": "musicality",
            "system": "ideal",
            "score": [1, 2, 3, 4, 5],
            "share": [0.1, 0.1, 0.2, 0.4, 0.2],
        }
    )
    figure = figures.likert_bars(distribution, ["musicality"], ["ideal"])
    bars = figure.axes[0].patches
    assert [round(bar.get_width(), 3) for bar in bars] == [0.1, 0.1, 0.2, 0.4, 0.2]
    assert bars[0].get_x() == pytest.approx(-(0.1 + 0.1 + 0.1))  # half of the neutral share left of zero
    assert bars[-1].get_x() + bars[-1].get_width() == pytest.approx(0.7)


def test_heatmap_cells_show_the_correlation_and_its_interval():
    table = pd.DataFrame(
        {
            "dimension": ["effectiveness"],
            "metric": ["rouge_l"],
            "method": ["spearman"],
            "level": ["item"],
            "r": [0.234],
            "ci_low": [0.1],
            "ci_high": [0.35],
        }
    )
    figure = figures.correlation_heatmap(
        table, ["effectiveness"], ["rouge_l"], ceiling={"effectiveness": 0.61}
    )
    axis = figure.axes[0]
    assert [text.get_text() for text in axis.texts] == ["0.23\n[0.10, 0.35]"]
    assert axis.get_images()[0].get_array()[0, 0] == pytest.approx(0.234)
    assert "ceiling 0.61" in axis.get_xticklabels()[0].get_text()


def test_save_writes_png_and_svg_and_returns_the_png(tmp_path):
    figure = figures.system_distributions(
        pd.DataFrame({"dimension": "helpfulness", "system": ["a", "a", "b"], "human": [2.0, 3.0, 4.5]}),
        ["helpfulness"],
        ["a", "b"],
    )
    png = figures.save(figure, tmp_path, "distributions")
    assert png.startswith(b"\x89PNG") and (tmp_path / "distributions.png").read_bytes() == png
    assert (tmp_path / "distributions.svg").read_text().lstrip().startswith("<?xml")


def test_bland_altman_draws_bias_and_limits_of_agreement():
    pairs = pd.DataFrame({"dimension": "musicality", "judge": [3.0, 4, 5, 2], "human": [2.5, 4, 4, 2.5]})
    figure = figures.bland_altman(pairs, ["musicality"])
    levels = sorted(line.get_ydata()[0] for line in figure.axes[0].lines)
    difference = pairs["judge"] - pairs["human"]
    spread = 1.96 * difference.std(ddof=1)
    assert levels == pytest.approx(
        sorted([difference.mean() - spread, difference.mean(), difference.mean() + spread])
    )
    assert np.isfinite(levels).all()
