"""Power analysis by simulation."""

import pytest

from analysis.power import PowerConfig, power_analysis, power_summary


@pytest.fixture(scope="module")
def table_and_config():
    config = PowerConfig(n_items=120, raters_per_item=(1, 4, 30), n_simulations=60, seed=1)
    return power_analysis(config), config


def test_more_raters_reduce_attenuation_and_error(table_and_config):
    table, _ = table_and_config
    assert table["bias"].iloc[0] < table["bias"].iloc[-1] <= 0.02
    assert list(table["error_half_width"]) == sorted(table["error_half_width"], reverse=True)


def test_half_width_from_item_sampling_matches_the_fisher_approximation(table_and_config):
    table, _ = table_and_config
    # Bonett & Wright (2000): SE(rho) ≈ sqrt((1 + rho²/2) / (n - 3)) -> ±0.17 at rho ≈ 0.45, n = 120
    last = table.iloc[-1]
    expected = 1.96 * ((1 + last["mean_rho"] ** 2 / 2) / (120 - 3)) ** 0.5
    assert last["half_width"] == pytest.approx(expected, rel=0.3)


def test_summary_says_when_the_items_are_too_few(table_and_config):
    table, config = table_and_config
    assert not table["meets_target"].any()
    assert "items would be needed" in power_summary(table, config)


def test_invalid_settings_are_refused():
    with pytest.raises(ValueError, match="expected_rho"):
        PowerConfig(expected_rho=1.5)
    with pytest.raises(ValueError, match="raters_per_item"):
        PowerConfig(raters_per_item=(0, 2))


def test_power_command_writes_the_table_and_its_settings(tmp_path, capsys):
    import json

    import pandas as pd
    from django.core.management import call_command

    out = tmp_path / "power.csv"
    call_command("power_analysis", items=60, raters="1,6", simulations=30, seed=2, out=str(out))
    table = pd.read_csv(out)
    assert table["raters_per_item"].tolist() == [1, 6]
    assert json.loads((tmp_path / "power.csv.config.json").read_text())["n_items"] == 60
    assert "items" in capsys.readouterr().out
