"""Database constraints of the study tables: the database refuses what the services never write."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from study.models import ConsentDocument, Participant, Rating, Trial
from tests.factories import ConsentDocumentFactory, ParticipantFactory, StudyFactory


def _first_rated(participant):
    return next(t for t in participant.trials.order_by("position") if t.is_rated)


@pytest.mark.django_db
def test_second_rating_for_same_dimension_is_rejected(participant):
    trial = _first_rated(participant)
    Rating.objects.create(trial=trial, dimension="musicality", score=3)
    with pytest.raises(IntegrityError), transaction.atomic():
        Rating.objects.create(trial=trial, dimension="musicality", score=4)


@pytest.mark.django_db
@pytest.mark.parametrize("score", [0, 6])
def test_score_outside_one_to_five_is_rejected_by_the_database(participant, score):
    with pytest.raises(IntegrityError), transaction.atomic():
        Rating.objects.create(trial=_first_rated(participant), dimension="musicality", score=score)


@pytest.mark.django_db
def test_unknown_dimension_is_rejected_by_the_database(participant):
    with pytest.raises(IntegrityError), transaction.atomic():
        Rating.objects.create(trial=_first_rated(participant), dimension="loudness", score=3)


@pytest.mark.django_db
def test_same_item_twice_for_one_participant_is_rejected(participant):
    trial = _first_rated(participant)
    with pytest.raises(IntegrityError), transaction.atomic():
        Trial.objects.create(participant=participant, item=trial.item, position=99)


@pytest.mark.django_db
def test_a_published_consent_document_refuses_to_be_saved_again():
    document = ConsentDocumentFactory()
    document.text = "rewritten history"
    with pytest.raises(ValidationError, match="frozen"):
        document.save()
    assert ConsentDocument.objects.get(pk=document.pk).text != "rewritten history"


@pytest.mark.django_db
def test_two_documents_with_the_same_version_are_rejected():
    document = ConsentDocumentFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        ConsentDocumentFactory(study=document.study, version=document.version)


@pytest.mark.django_db
def test_two_active_participants_with_one_recruiter_id_are_rejected():
    study = StudyFactory()
    ParticipantFactory(study=study, recruiter_id="pid-1")
    with pytest.raises(IntegrityError), transaction.atomic():
        ParticipantFactory(study=study, recruiter_id="pid-1")


@pytest.mark.django_db
def test_a_withdrawn_participant_frees_the_recruiter_id():
    study = StudyFactory()
    ParticipantFactory(study=study, recruiter_id="pid-1", state=Participant.State.WITHDRAWN)
    ParticipantFactory(study=study, recruiter_id="pid-1")
    assert Participant.objects.filter(recruiter_id="pid-1").count() == 2


@pytest.mark.django_db
def test_participant_codes_are_unguessable_and_pseudonyms_do_not_reveal_them():
    codes = {ParticipantFactory().code for _ in range(50)}
    assert len(codes) == 50
    assert all(len(code) >= 16 for code in codes)
    participant = ParticipantFactory()
    assert participant.code not in participant.pseudonym
    assert participant.pseudonym.startswith("P-")
