"""Advisor jobs: creation with their queue task, a run from stems to loudness-matched advice, failures."""

import itertools

import numpy as np
import pytest
import soundfile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django_q.models import OrmQ

from modelgen import advisor_service
from modelgen.advisor_inference import demo_dataset_dir
from modelgen.audio import db_to_gain, integrated_loudness, mix
from modelgen.corrections import STEMS
from modelgen.models import AdvisorJob
from modelgen.uploads import UploadLimits, uploads_save
from tests.modelgen.stem_files import noise, write_norms, write_stem

pytestmark = pytest.mark.django_db


@pytest.fixture
def norms(settings):
    return write_norms(demo_dataset_dir() / "norms.json")


def create_job(tmp_path, stems, *, anchor=0, advisor="baseline", owner=None):
    """``stems``: [(file name, role, audio or None, rate)] -> a queued job."""
    files, roles = [], []
    for name, role, audio, rate in stems:
        path = write_stem(tmp_path / "given" / name, audio, rate=rate)
        files.append(SimpleUploadedFile(name, path.read_bytes()))
        roles.append(role)
    saved = uploads_save(files=files, roles=roles, anchor_index=anchor, limits=UploadLimits())
    return advisor_service.job_create(
        saved=saved,
        roles=roles,
        anchor_index=anchor,
        advisor=advisor,
        genre="pop",
        owner=owner,
        source="upload",
    )


def test_a_new_job_is_queued_with_its_stems_and_one_queue_task(tmp_path, norms):
    job = create_job(tmp_path, [("vox.wav", "vocals", None, 44100), ("kit.wav", "drums", None, 44100)])
    assert job.state == AdvisorJob.State.QUEUED and job.anchor == "vocals"
    assert [(s.original_name, s.role) for s in job.stems.all()] == [
        ("vox.wav", "vocals"),
        ("kit.wav", "drums"),
    ]
    assert OrmQ.objects.count() == 1
    assert OrmQ.objects.get().task["args"] == (job.pk,)
    assert job.task_id == OrmQ.objects.get().task["id"]


def test_run_gives_advice_that_turns_a_loud_stem_down_and_matches_loudness(tmp_path, norms):
    job = create_job(
        tmp_path,
        [
            ("vox.wav", "vocals", noise(seed=1), 44100),
            ("kit.wav", "drums", noise(seed=2, level_db=-12.0), 44100),
            ("bass.flac", "bass", noise(seed=3), 44100),
        ],
    )
    assert advisor_service.job_run(job_id=job.pk) == "done"
    job.refresh_from_db()
    assert job.state == AdvisorJob.State.DONE and job.progress == 1.0 and job.advice_text
    assert job.corrections_db["drums"] == pytest.approx(-8.0, abs=1.5)
    assert "bass" not in job.corrections_db and "vocals" not in job.corrections_db
    copies = {
        role: soundfile.read(advisor_service.job_stem_path(job, role), dtype="float32")
        for role in ("vocals", "drums", "bass")
    }
    stems = {role: audio for role, (audio, _) in copies.items()}
    as_given = integrated_loudness(mix(stems), 44100) + job.loudness_match_db["as_given"]
    applied = (
        integrated_loudness(mix(stems, job.corrections_db), 44100) + job.loudness_match_db["advice_applied"]
    )
    assert as_given == pytest.approx(applied, abs=0.1)
    assert max(job.loudness_match_db.values()) == 0.0


def test_run_twice_does_nothing_the_second_time(tmp_path, norms):
    job = create_job(tmp_path, [("a.wav", "vocals", None, 44100), ("b.wav", "bass", None, 44100)])
    assert advisor_service.job_run(job_id=job.pk) == "done"
    assert advisor_service.job_run(job_id=job.pk) == "skipped"


def test_silent_stem_is_noticed_and_never_moved(tmp_path, norms):
    silence = np.zeros((88200, 2), dtype=np.float32)
    job = create_job(
        tmp_path,
        [
            ("v.wav", "vocals", noise(), 44100),
            ("b.wav", "bass", silence, 44100),
            ("d.wav", "drums", noise(level_db=-30), 44100),
        ],
    )
    advisor_service.job_run(job_id=job.pk)
    job.refresh_from_db()
    assert "The bass stem is silent: the advice never moves it." in job.notices
    assert "bass" not in job.corrections_db
    assert job.corrections_db["drums"] > 0


def test_clipping_and_resampling_are_noticed(tmp_path, norms):
    clipped = np.clip(noise(level_db=0.0, seed=5), -1, 1)
    job = create_job(
        tmp_path, [("v.wav", "vocals", noise(rate=48000), 48000), ("hot.wav", "drums", clipped, 44100)]
    )
    advisor_service.job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.sample_rate == 48000
    assert any(n.startswith("Sample rates differ") for n in job.notices)
    assert any(n.startswith("hot.wav clips (") for n in job.notices)


def test_a_silent_anchor_fails_the_job_with_a_message(tmp_path, norms):
    silence = np.zeros((88200, 2), dtype=np.float32)
    job = create_job(tmp_path, [("v.wav", "vocals", silence, 44100), ("d.wav", "drums", noise(), 44100)])
    assert advisor_service.job_run(job_id=job.pk) == "failed"
    job.refresh_from_db()
    assert job.state == AdvisorJob.State.FAILED
    assert "The anchor (vocals) is silent" in job.error


def test_baseline_without_norms_fails_with_how_to_fix_it(tmp_path):
    job = create_job(tmp_path, [("v.wav", "vocals", None, 44100), ("d.wav", "drums", None, 44100)])
    advisor_service.job_run(job_id=job.pk)
    job.refresh_from_db()
    assert "needs genre norms: set MIXADVICE_ADVISOR_NORMS" in job.error


def pairs_with(stem):
    """Every (anchor, stem) pair that involves ``stem``: norms without them cannot even derive one."""
    return [pair for pair in itertools.permutations(STEMS, 2) if stem in pair]


def test_a_stem_the_norms_never_saw_against_the_anchor_is_left_out_with_a_notice(tmp_path):
    write_norms(demo_dataset_dir() / "norms.json", without=pairs_with("bass"))
    job = create_job(
        tmp_path,
        [
            ("v.wav", "vocals", noise(seed=1), 44100),
            ("b.wav", "bass", noise(seed=2, level_db=-8), 44100),
            ("d.wav", "drums", noise(seed=3, level_db=-8), 44100),
        ],
    )
    assert advisor_service.job_run(job_id=job.pk) == "done"
    job.refresh_from_db()
    assert list(job.corrections_db) == ["drums"]
    assert (
        "genre norms know no balance of the bass against the vocals: it says nothing about the bass."
        in " ".join(job.notices)
    )


def test_an_anchor_the_norms_never_saw_fails_asking_for_another_anchor(tmp_path):
    write_norms(demo_dataset_dir() / "norms.json", without=pairs_with("vocals"))
    job = create_job(tmp_path, [("v.wav", "vocals", None, 44100), ("b.wav", "bass", None, 44100)])
    assert advisor_service.job_run(job_id=job.pk) == "failed"
    job.refresh_from_db()
    assert job.error.endswith(
        "know no balance against the vocals as anchor (they were fitted on songs without it): choose another anchor."
    )


def test_finetuned_advisor_without_an_adapter_fails_with_how_to_fix_it(tmp_path, norms):
    job = create_job(
        tmp_path, [("v.wav", "vocals", None, 44100), ("d.wav", "drums", None, 44100)], advisor="finetuned"
    )
    advisor_service.job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.error == "No fine-tuned model is configured: set MIXADVICE_ADVISOR_ADAPTER."


def test_database_refuses_progress_outside_zero_to_one_and_done_without_advice(tmp_path, norms):
    job = create_job(tmp_path, [("v.wav", "vocals", None, 44100), ("d.wav", "drums", None, 44100)])
    with pytest.raises(IntegrityError), transaction.atomic():
        AdvisorJob.objects.filter(pk=job.pk).update(progress=1.5)
    with pytest.raises(IntegrityError), transaction.atomic():
        AdvisorJob.objects.filter(pk=job.pk).update(state="done")


def test_stems_summed_into_one_role_play_as_one_stem(tmp_path, norms):
    job = create_job(
        tmp_path,
        [
            ("v.wav", "vocals", None, 44100),
            ("gtr.wav", "other", noise(seed=8), 44100),
            ("keys.wav", "other", noise(seed=9), 44100),
        ],
    )
    assert any("gtr.wav, keys.wav all have the role other" in n for n in job.notices)
    advisor_service.job_run(job_id=job.pk)
    summed, _ = soundfile.read(advisor_service.job_stem_path(job, "other"), dtype="float32")
    expected = noise(seed=8) + noise(seed=9)
    assert np.max(np.abs(summed - expected)) < 2 * db_to_gain(-90) + 1 / 32768


@pytest.fixture(scope="module")
def tiny_adapter(tiny_model, tmp_path_factory):
    """A saved (untrained) LoRA adapter for the tiny Qwen2-Audio: the fine-tuned advisor's code path."""
    from modelgen.model_loading import load_base_model
    from modelgen.train import LoraConfigArgs, build_peft_model

    model, _, _ = build_peft_model(
        load_base_model(tiny_model), LoraConfigArgs(), quantized=False, gradient_checkpointing=False
    )
    folder = tmp_path_factory.mktemp("advisor-run") / "adapter"
    model.save_pretrained(folder)
    return folder


@pytest.mark.slow
def test_finetuned_advisor_answers_through_the_model_with_provenance(
    tmp_path, settings, tiny_model, tiny_adapter
):
    settings.MIXADVICE_ADVISOR_MODEL = str(tiny_model)
    settings.MIXADVICE_ADVISOR_ADAPTER = str(tiny_adapter)
    job = create_job(
        tmp_path, [("v.wav", "vocals", None, 44100), ("d.wav", "drums", None, 48000)], advisor="finetuned"
    )
    assert advisor_service.job_run(job_id=job.pk) == "done", AdvisorJob.objects.get(pk=job.pk).error
    job.refresh_from_db()
    assert job.advice_text
    assert job.generator["model"] == str(tiny_model)
    assert len(job.generator["adapter_sha256"]) == 64 and len(job.generator["prompt_sha256"]) == 64
    clips = sorted((advisor_service.job_folder(job) / "model").iterdir())
    assert [clip.name for clip in clips] == ["0_vocals.wav", "1_drums.wav"]
    assert soundfile.info(clips[0]).samplerate == 16000 and soundfile.info(clips[0]).channels == 1
    assert set(job.corrections_db) <= {"drums"}
