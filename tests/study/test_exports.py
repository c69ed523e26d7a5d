"""Exports: the ratings contract, pseudonyms only, simulated and withdrawn data handled openly."""

import csv
import json

import pytest
from django.core.management import call_command

from modelgen.contracts import load_ratings
from study import services
from study.exports import study_export_write
from tests.factories import good_ratings, participant_in_trials

EVENT = {"kind": "seek", "state": "reference", "audio_time": 2.5, "client_time": 900.0, "detail": {"to": 2.5}}


def _complete(participant, *, instructed_score=None):
    for trial in participant.trials.order_by("position"):
        score = trial.instructed_response if trial.instructed_response else 2
        if trial.instructed_response and instructed_score is not None:
            score = instructed_score
        services.playback_events_record(trial=trial, events=[EVENT])
        services.trial_submit(trial=trial, ratings=good_ratings(score), feedback="ok", listened_seconds=20.0)
    services.participant_complete(participant=participant)


@pytest.mark.django_db
def test_export_writes_contract_valid_ratings_without_practice_or_instructed_items(study, tmp_path):
    person = participant_in_trials(study, external_ids={"PROLIFIC_PID": "pid-a"})
    _complete(person)
    counts = study_export_write(study, tmp_path)
    rows = load_ratings(tmp_path / "ratings.csv")
    assert counts["ratings.csv"] == len(rows) == 4 * 5
    assert {row["participant"] for row in rows} == {person.pseudonym}
    assert {row["trial_position"] for row in rows}.isdisjoint({0})
    assert not any(row["attention_flag"] for row in rows)
    assert {"direction_accuracy", "mean_abs_error_db"} <= set(rows[0])
    document = json.loads((tmp_path / "ratings.json").read_text())
    assert len(document["ratings"]) == 20 and document["include_simulated"] is False
    events = list(csv.DictReader((tmp_path / "events.csv").open()))
    assert len(events) == 6 and json.loads(events[0]["detail"]) == {"to": 2.5}
    for name in ("ratings.csv", "ratings.json", "events.csv"):
        text = (tmp_path / name).read_text()
        assert person.code not in text and "pid-a" not in text


@pytest.mark.django_db
def test_failing_the_instructed_item_flags_every_row_of_that_participant(study, tmp_path):
    careless = participant_in_trials(study)
    _complete(careless, instructed_score=5)
    study_export_write(study, tmp_path)
    rows = load_ratings(tmp_path / "ratings.csv")
    assert rows and all(row["attention_flag"] for row in rows)


@pytest.mark.django_db
def test_simulated_participants_are_exported_only_when_asked(study, tmp_path):
    _complete(participant_in_trials(study, simulated=True))
    assert study_export_write(study, tmp_path / "people")["ratings.csv"] == 0
    assert study_export_write(study, tmp_path / "all", include_simulated=True)["ratings.csv"] == 20
    assert all(row["simulated"] for row in load_ratings(tmp_path / "all" / "ratings.csv"))


@pytest.mark.django_db
def test_a_withdrawn_participant_is_gone_from_the_exports(study, tmp_path):
    leaver = participant_in_trials(study)
    _complete(leaver)
    services.participant_withdraw(participant=leaver)
    counts = study_export_write(study, tmp_path)
    assert counts == {"ratings.csv": 0, "ratings.json": 0, "events.csv": 0}
    assert leaver.pseudonym not in (tmp_path / "ratings.csv").read_text()


@pytest.mark.django_db
def test_export_command_writes_three_files(study, tmp_path, capsys):
    _complete(participant_in_trials(study))
    call_command("export_ratings", "--slug", study.slug, "--out", str(tmp_path))
    assert "20 rating rows, 6 events" in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["events.csv", "ratings.csv", "ratings.json"]
