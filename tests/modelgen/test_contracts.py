import json
from pathlib import Path

import pytest

from modelgen import contracts

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "contracts"


def test_the_example_manifest_follows_the_contract():
    manifest = contracts.load_manifest(FIXTURES / "manifest.example.json")
    assert [s["id"] for s in manifest["scenarios"]] == ["demo-0001", "demo-0002", "demo-0003"]


def test_a_manifest_folder_is_read_through_its_manifest_json(tmp_path):
    (tmp_path / "manifest.json").write_text((FIXTURES / "manifest.example.json").read_text())
    assert len(contracts.load_manifest(tmp_path)["scenarios"]) == 3


def test_the_example_advice_dataset_and_ratings_files_follow_their_contracts():
    assert {r["system"] for r in contracts.load_advice(FIXTURES / "advice.example.jsonl")} == {
        "ideal",
        "sham",
        "baseline",
    }
    records = contracts.load_dataset_records(FIXTURES / "dataset-record.example.jsonl")
    assert records[0]["messages"][-1]["role"] == "assistant"
    rows = contracts.load_ratings(FIXTURES / "ratings.example.csv")
    assert len(rows) == 10
    assert rows[0]["score"] == 4 and rows[0]["simulated"] is False


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("manifest.anchor-flawed.json", "scenarios[0].flawed: the anchor 'vocals' is never flawed"),
        ("manifest.bad-split.json", "scenarios[1].split: 'holdout' is not one of"),
        ("manifest.missing-corrections.json", "scenarios[0]: 'corrections_db' is a required property"),
    ],
)
def test_a_broken_manifest_is_rejected_naming_the_field(name, message):
    with pytest.raises(contracts.ContractError) as error:
        contracts.load_manifest(FIXTURES / "broken" / name)
    assert message in str(error.value)


def test_a_broken_advice_line_is_rejected_naming_line_and_field():
    with pytest.raises(
        contracts.ContractError, match=r"line 2: corrections_db\.drums: 'minus four' is not of type 'number'"
    ):
        contracts.load_advice(FIXTURES / "broken" / "advice.bad-correction.jsonl")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("ratings.score-out-of-range.csv", "row 2: score: 7 is greater than the maximum of 5"),
        ("ratings.bad-timestamp.csv", "row 2: submitted_at: 'yesterday' is not a 'date-time'"),
    ],
)
def test_broken_ratings_are_rejected_naming_row_and_field(name, message):
    with pytest.raises(contracts.ContractError) as error:
        contracts.load_ratings(FIXTURES / "broken" / name)
    assert message in str(error.value)


def test_a_file_of_a_newer_major_version_is_refused_with_advice(tmp_path):
    manifest = json.loads((FIXTURES / "manifest.example.json").read_text())
    manifest["schema_version"] = "2.0"
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(manifest))
    with pytest.raises(contracts.ContractError, match="schema_version"):
        contracts.load_manifest(path)


def test_writers_refuse_invalid_records_and_leave_no_file(tmp_path):
    target = tmp_path / "advice.jsonl"
    with pytest.raises(contracts.ContractError, match="record 1: text"):
        contracts.write_jsonl(
            "advice",
            target,
            [
                {
                    "schema_version": "1.0",
                    "scenario_id": "x",
                    "system": "ideal",
                    "text": "",
                    "corrections_db": {},
                    "generator": {"model": "m"},
                    "created": "2026-01-01T00:00:00Z",
                }
            ],
        )
    assert list(tmp_path.iterdir()) == []


def test_written_ratings_read_back_identically(tmp_path):
    rows = contracts.load_ratings(FIXTURES / "ratings.example.csv")
    path = contracts.write_ratings(tmp_path / "ratings.csv", rows)
    assert contracts.load_ratings(path) == rows


def test_a_missing_file_is_named_in_the_error(tmp_path):
    with pytest.raises(contracts.ContractError, match="file not found"):
        contracts.load_manifest(tmp_path / "nowhere.json")
