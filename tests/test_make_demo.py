"""`make demo`'s pipeline, end to end at a reduced size, in a scratch data folder and database.

It runs the Makefile's own targets (``demo-data`` then ``demo-study``) in a subprocess, exactly as
``make demo`` does before it starts serving, then checks what a newcomer would look at: the
advice of every system, the evaluation table, the open study with its simulated pilot, the stored
scores and the report. A second run must rebuild nothing.
"""

import json
import os
import sqlite3
import subprocess
from pathlib import Path

import pytest

from modelgen.contracts import KNOWN_SYSTEMS, load_advice, load_manifest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def make(target, env):
    return subprocess.run(
        ["make", "--no-print-directory", target],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    scratch = tmp_path_factory.mktemp("demo")
    tiny_config = scratch / "tiny.json"
    tiny_config.write_text(json.dumps({"pretrain_steps": 5}))
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "MAKE"))},
        "MIXADVICE_DATA_DIR": str(scratch / "data"),
        "DATABASE_URL": f"sqlite:///{scratch / 'demo.sqlite3'}",
        "DEMO_SONGS": "4",
        "DEMO_SECONDS": "16",
        "DEMO_STEPS": "2",
        "DEMO_PARTICIPANTS": "4",
        "DEMO_TINY_CONFIG": str(tiny_config),
    }
    first = make("demo-study", env)
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-4000:]
    second = make("demo-study", env)
    return {
        "data": scratch / "data" / "demo",
        "db": scratch / "demo.sqlite3",
        "first": first,
        "second": second,
    }


def test_every_system_gives_valid_advice_for_every_test_scenario(demo):
    test_ids = {s["id"] for s in load_manifest(demo["data"] / "dataset")["scenarios"] if s["split"] == "test"}
    for system in KNOWN_SYSTEMS:
        records = load_advice(demo["data"] / "advice" / f"{system}.jsonl")
        assert {r["scenario_id"] for r in records} == test_ids, system


def test_the_evaluation_compares_every_system_with_chance(demo):
    summary = json.loads((demo["data"] / "eval" / "summary.json").read_text())
    table = (demo["data"] / "eval" / "table.md").read_text()
    for system in (*KNOWN_SYSTEMS, "chance"):
        assert f"| {system} |" in table
    assert summary


def test_the_demo_study_is_open_with_a_simulated_pilot_and_stored_scores(demo):
    with sqlite3.connect(demo["db"]) as db:
        status = db.execute("select status from study_study where slug = 'demo'").fetchone()
        simulated = db.execute("select count(*) from study_participant where simulated").fetchone()[0]
        ratings = db.execute("select count(*) from study_rating").fetchone()[0]
        scores = db.execute("select count(*) from analysis_metricscore").fetchone()[0]
    assert status == ("open",)
    assert simulated == 4
    assert ratings > 0
    assert scores > 0


def test_the_report_is_written_with_its_tables(demo):
    report = demo["data"].parent / "reports" / "demo"
    html = (report / "report.html").read_text()
    assert "<img" in html or "<svg" in html
    assert (report / "tables" / "reliability.csv").is_file()
    assert (report / "tables" / "correlation.csv").is_file()


def test_a_second_run_rebuilds_nothing(demo):
    output = demo["second"].stdout
    assert demo["second"].returncode == 0, demo["second"].stderr[-4000:]
    for step in (
        "make_synthetic_corpus",
        "build_dataset",
        "train_advisor",
        "generate_advice",
        "analysis_report",
    ):
        assert f"manage.py {step}" not in output, step
    assert "added none" in output
