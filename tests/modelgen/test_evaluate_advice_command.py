"""evaluate_advice scores advice files with the shared task metrics and reports chance level."""

import json

import pytest
from django.core.management import CommandError, call_command

from modelgen.advice_report import chance_summary, random_advice


@pytest.fixture(scope="module")
def advice_files(small_dataset, tmp_path_factory):
    folder = tmp_path_factory.mktemp("advice")
    for system in ("ideal", "sham", "baseline"):
        call_command(
            "generate_advice",
            "--dataset",
            str(small_dataset),
            "--system",
            system,
            "--out",
            str(folder / f"{system}.jsonl"),
            "--verbosity",
            "0",
        )
    return folder


def test_table_ranks_ideal_above_chance_above_sham(small_dataset, advice_files, tmp_path, capsys):
    out = tmp_path / "eval"
    call_command(
        "evaluate_advice",
        "--dataset",
        str(small_dataset),
        "--out",
        str(out),
        "--advice",
        str(advice_files / "ideal.jsonl"),
        str(advice_files / "sham.jsonl"),
    )
    summary = json.loads((out / "summary.json").read_text())
    overall = {row["system"]: row for row in summary["overall"]}
    assert set(overall) == {"ideal", "sham", "chance"}
    assert overall["ideal"]["joint_accuracy"] == 1.0
    assert (
        overall["ideal"]["joint_accuracy"]
        > overall["chance"]["joint_accuracy"]
        > overall["sham"]["joint_accuracy"]
    )
    assert summary["chance"]["method"].startswith("seeded simulation")
    assert {"table.md", "summary.csv", "items.csv", "stems.csv"} <= {p.name for p in out.iterdir()}
    breakdowns = {row["breakdown"] for row in summary["summary"]}
    assert {"overall", "flaw_count", "anchor", "genre", "stem", "intensity"} <= breakdowns
    assert "ideal: joint_accuracy 1.000" in capsys.readouterr().out


def test_chance_direction_accuracy_is_near_one_third():
    scenario = {
        "id": "s1",
        "genre": "pop",
        "anchor": "vocals",
        "stems": ["vocals", "drums", "bass", "other"],
        "flawed": ["drums"],
        "corrections_db": {"vocals": 0, "drums": -4.5, "bass": 0, "other": 0},
    }
    summary = chance_summary([scenario], runs=600, seed=1)
    overall = summary.query("breakdown == 'overall'").set_index("metric")["value"]
    assert overall["direction_accuracy"] == pytest.approx(1 / 3, abs=0.04)
    assert overall["joint_accuracy"] == pytest.approx(1 / 27, abs=0.02)


def test_random_advice_is_reproducible_from_its_seed():
    scenario = {"id": "s1", "anchor": "bass", "stems": ["bass", "drums"], "corrections_db": {}}
    assert random_advice([scenario], runs=3, seed=4) == random_advice([scenario], runs=3, seed=4)


def test_advice_for_an_unknown_scenario_is_a_clear_error(small_dataset, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        '{"schema_version": "1.0", "scenario_id": "nope", "system": "x", "text": "t", "corrections_db": {}, '
        '"generator": {"model": "m"}, "created": "2026-01-01T00:00:00Z"}\n'
    )
    with pytest.raises(CommandError, match="not in the manifest"):
        call_command(
            "evaluate_advice",
            "--dataset",
            str(small_dataset),
            "--advice",
            str(bad),
            "--out",
            str(tmp_path / "e"),
        )
