"""factory_boy factories shared by the whole suite; each app's issue adds its own here."""

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.org")
    password = factory.django.Password("correct horse battery staple")


class ResearcherFactory(UserFactory):
    username = factory.Sequence(lambda n: f"researcher{n}")
    is_staff = True


# ---------------------------------------------------------------- study


def _item_error(item):
    from modelgen.corrections import item_error

    scenario = item.scenario
    return item_error(scenario.corrections_db, item.corrections_db, anchor=scenario.anchor)


class StudyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "study.Study"
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"study-{n}")
    title = factory.LazyAttribute(lambda study: f"Study {study.slug}")
    status = "open"
    trials_per_participant = 4
    min_listening_seconds = 5
    dataset_dir = "dataset"


class ConsentDocumentFactory(factory.django.DjangoModelFactory):
    """A published consent document (hash and time set as consent_document_publish would)."""

    class Meta:
        model = "study.ConsentDocument"

    study = factory.SubFactory(StudyFactory)
    version = 1
    text = "# Consent\n\nYou may withdraw at any time."
    statements = factory.LazyFunction(lambda: ["I am 18 or older.", "I agree to take part."])
    irb_protocol_number = "IRB-TEST-1"
    sha256 = "0" * 64
    published_at = factory.LazyFunction(timezone.now)


class ScenarioFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "study.Scenario"

    study = factory.SubFactory(StudyFactory)
    scenario_id = factory.Sequence(lambda n: f"sc-{n:04d}")
    song = factory.Sequence(lambda n: f"Synthetic - Song {n}")
    genre = "pop"
    split = "test"
    anchor = "vocals"
    stems = factory.LazyFunction(lambda: ["vocals", "drums", "bass", "other"])
    gains_db = factory.LazyFunction(lambda: {"vocals": 0, "drums": 4.5, "bass": 0, "other": 0})
    corrections_db = factory.LazyFunction(lambda: {"vocals": 0, "drums": -4.5, "bass": 0, "other": 0})
    intensity = factory.LazyFunction(
        lambda: {"vocals": "none", "drums": "moderate", "bass": "none", "other": "none"}
    )
    loudness_lufs = factory.LazyFunction(
        lambda: {"vocals": -18.0, "drums": -19.0, "bass": -21.0, "other": -20.0}
    )
    segment_seconds = 10.0
    audio = factory.LazyAttribute(
        lambda s: {stem: f"audio/{s.scenario_id}/reference/{stem}.flac" for stem in s.stems}
    )


class AdviceItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "study.AdviceItem"

    scenario = factory.SubFactory(ScenarioFactory)
    system = "ideal"
    text = "Pull the drums down by about 4 to 5 dB."
    corrections_db = factory.LazyFunction(lambda: {"drums": -4.5})
    generator = factory.LazyFunction(lambda: {"model": "test"})
    direction_accuracy = factory.LazyAttribute(lambda item: _item_error(item)["direction_accuracy"])
    all_directions_correct = factory.LazyAttribute(lambda item: _item_error(item)["all_directions_correct"])
    intensity_accuracy = factory.LazyAttribute(lambda item: _item_error(item)["intensity_accuracy"])
    mean_abs_error_db = factory.LazyAttribute(lambda item: _item_error(item)["mean_abs_error_db"])
    is_attention_check = factory.LazyAttribute(lambda item: item.system == "sham")
    master_gain_db = factory.LazyFunction(
        lambda: {"as_given": -1.0, "advice_applied": -0.5, "reference": 0.0}
    )


class ParticipantFactory(factory.django.DjangoModelFactory):
    """A bare participant row; use ``tests.factories.participant_in_trials`` for a whole journey."""

    class Meta:
        model = "study.Participant"

    study = factory.SubFactory(StudyFactory)
    assignment_seed = factory.Sequence(lambda n: 1000 + n)


SYSTEMS = ("finetuned", "base", "baseline", "ideal", "sham")


def study_with_items(*, scenarios=6, systems=SYSTEMS, consent=True, **study_fields):
    """An open study with a scenario × system grid of advice items and a published consent."""
    study = StudyFactory(**study_fields)
    for _ in range(scenarios):
        scenario = ScenarioFactory(study=study)
        for system in systems:
            corrections = {"drums": 4.5} if system == "sham" else {"drums": -4.5}
            AdviceItemFactory(scenario=scenario, system=system, corrections_db=corrections)
    if consent:
        ConsentDocumentFactory(study=study)
    return study


def participant_in_trials(study, *, external_ids=None, simulated=False):
    """Walk a participant through the services to an assigned session; return it."""
    from study import services

    participant = services.participant_start(
        study=study, external_ids=external_ids or {}, simulated=simulated
    )
    document = study.consent_documents.filter(published_at__isnull=False).order_by("-version").first()
    services.consent_record(
        participant=participant,
        document=document,
        answers={str(i): True for i in range(len(document.statements))},
    )
    services.background_record(
        participant=participant,
        answers={"role": "mixing engineer", "years_mixing": 5, "hearing_issues": "no"},
    )
    services.screening_record(
        participant=participant,
        responses=[{"trial": i, "correct": True} for i in range(study.screening_trials)],
    )
    services.trials_assign(participant=participant)
    participant.refresh_from_db()
    return participant


def good_ratings(score=4):
    from study.dimensions import DIMENSION_NAMES

    return dict.fromkeys(DIMENSION_NAMES, score)


def stem_audio_write(study, *, seconds=3.0, sample_rate=44_100):
    """Write a short real audio file for every stem of every scenario of the study (a tone per stem)."""
    import numpy as np
    import soundfile as sf

    from study.selectors import dataset_root

    root = dataset_root(study)
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    for scenario in study.scenarios.all():
        for index, stem in enumerate(scenario.stems):
            path = root / scenario.audio[stem]
            path.parent.mkdir(parents=True, exist_ok=True)
            tone = 0.1 * np.sin(2 * np.pi * (220.0 * (index + 1)) * t)
            sf.write(path, np.stack([tone, tone], axis=1), sample_rate)
    return root
