"""import_study: validated, idempotent, loudness-matched items with their objective error."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from django.core.management import CommandError, call_command

from modelgen.audio import db_to_gain, integrated_loudness, load_audio, mix
from modelgen.contracts import ContractError
from study.importing import StudyImportError, study_import
from study.models import AdviceItem, ConsentDocument, Scenario, Study
from tests.factories import participant_in_trials

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "contracts"
RATE = 44_100


def _write_stems(dataset, manifest, seconds=1.0):
    rng = np.random.default_rng(3)
    frames = int(seconds * RATE)
    for scenario in manifest["scenarios"]:
        for index, relative in enumerate(scenario["audio"]["reference"].values()):
            path = dataset / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            t = np.arange(frames) / RATE
            signal = 0.05 * np.sin(2 * np.pi * 110 * (index + 1) * t) + 0.02 * rng.standard_normal(frames)
            sf.write(path, np.stack([signal, signal], axis=1).astype("float32"), RATE)


@pytest.fixture
def dataset(tmp_path):
    folder = tmp_path / "dataset"
    folder.mkdir()
    shutil.copy(FIXTURES / "manifest.example.json", folder / "manifest.json")
    _write_stems(folder, json.loads((folder / "manifest.json").read_text()))
    return folder


ADVICE = FIXTURES / "advice.example.jsonl"


@pytest.mark.django_db
def test_import_creates_the_advised_scenarios_their_items_and_a_draft_consent(dataset):
    summary = study_import(dataset=dataset, advice_files=[ADVICE], slug="pilot", title="Pilot")
    study = Study.objects.get(slug="pilot")
    assert summary.created == {"scenario": 2, "item": 3}
    assert sorted(Scenario.objects.filter(study=study).values_list("scenario_id", flat=True)) == [
        "demo-0001",
        "demo-0002",
    ]
    assert study.status == Study.Status.DRAFT
    consent = ConsentDocument.objects.get(study=study)
    assert consent.published_at is None and "IRB" in consent.text


@pytest.mark.django_db
def test_rerunning_the_import_creates_nothing(dataset):
    study_import(dataset=dataset, advice_files=[ADVICE], slug="pilot")
    summary = study_import(dataset=dataset, advice_files=[ADVICE], slug="pilot")
    assert summary.created == {"scenario": 0, "item": 0}
    assert summary.unchanged == {"scenario": 2, "item": 3}
    assert AdviceItem.objects.count() == 3 and ConsentDocument.objects.count() == 1


@pytest.mark.django_db
def test_items_carry_the_objective_error_of_their_advice(dataset):
    study_import(dataset=dataset, advice_files=[ADVICE], slug="pilot")
    ideal = AdviceItem.objects.get(scenario__scenario_id="demo-0001", system="ideal")
    sham = AdviceItem.objects.get(scenario__scenario_id="demo-0001", system="sham")
    assert ideal.direction_accuracy == 1.0 and ideal.all_directions_correct
    assert sham.direction_accuracy == pytest.approx(2 / 3) and not sham.all_directions_correct
    assert sham.is_attention_check and not ideal.is_attention_check


@pytest.mark.django_db
def test_the_three_states_play_at_equal_loudness(dataset):
    study_import(dataset=dataset, advice_files=[ADVICE], slug="pilot")
    item = AdviceItem.objects.select_related("scenario").get(
        scenario__scenario_id="demo-0002", system="baseline"
    )
    scenario = item.scenario
    stems = {stem: load_audio(dataset / scenario.audio[stem])[0] for stem in scenario.stems}
    gains = {
        "as_given": scenario.gains_db,
        "advice_applied": {s: scenario.gains_db[s] + item.corrections_db.get(s, 0) for s in scenario.stems},
        "reference": {},
    }
    loudness = {
        state: integrated_loudness(mix(stems, g) * np.float32(db_to_gain(item.master_gain_db[state])), RATE)
        for state, g in gains.items()
    }
    assert max(loudness.values()) - min(loudness.values()) < 0.1, loudness
    assert len({round(v, 1) for v in item.master_gain_db.values()}) > 1, "the states differ before matching"


@pytest.mark.django_db
def test_advice_for_an_unknown_scenario_is_refused_and_nothing_is_stored(dataset, tmp_path):
    bad = tmp_path / "bad.jsonl"
    record = json.loads(ADVICE.read_text().splitlines()[0])
    bad.write_text(json.dumps({**record, "scenario_id": "nope-9"}) + "\n")
    with pytest.raises(StudyImportError, match="'nope-9' is not in the dataset's manifest"):
        study_import(dataset=dataset, advice_files=[bad], slug="pilot")
    assert not Study.objects.exists()


@pytest.mark.django_db
def test_a_missing_audio_file_is_named_and_nothing_is_stored(dataset):
    (dataset / "audio/demo-0002/reference/bass.flac").unlink()
    with pytest.raises(StudyImportError, match="demo-0002.*bass.flac"):
        study_import(dataset=dataset, advice_files=[ADVICE], slug="pilot")
    assert not Study.objects.exists()


@pytest.mark.django_db
def test_changing_advice_that_participants_were_assigned_is_refused(dataset, tmp_path):
    from tests.factories import ConsentDocumentFactory

    study_import(dataset=dataset, advice_files=[ADVICE], slug="pilot")
    study = Study.objects.get(slug="pilot")
    study.status = Study.Status.OPEN
    study.trials_per_participant = 2
    study.save()
    ConsentDocumentFactory(study=study, version=2)
    participant_in_trials(study)
    changed = tmp_path / "changed.jsonl"
    lines = [json.loads(line) for line in ADVICE.read_text().splitlines()]
    changed.write_text("\n".join(json.dumps({**r, "text": r["text"] + " Really."}) for r in lines) + "\n")
    with pytest.raises(StudyImportError, match="already assigned"):
        study_import(dataset=dataset, advice_files=[changed], slug="pilot")


@pytest.mark.django_db
def test_the_command_reports_counts_and_turns_contract_errors_into_command_errors(dataset, tmp_path, capsys):
    call_command(
        "import_study", "--dataset", str(dataset), "--advice", str(ADVICE), "--slug", "pilot", verbosity=0
    )
    assert "items 3 created" in capsys.readouterr().out
    call_command(
        "import_study", "--dataset", str(dataset), "--advice", str(ADVICE), "--slug", "pilot", verbosity=0
    )
    assert "items 0 created, 0 updated, 3 unchanged" in capsys.readouterr().out
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"schema_version": "1.0"}\n')
    with pytest.raises(CommandError, match="line 1"):
        call_command(
            "import_study", "--dataset", str(dataset), "--advice", str(broken), "--slug", "x", verbosity=0
        )
    assert issubclass(ContractError, ValueError)
