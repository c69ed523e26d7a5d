"""The participant journey's writes: consent first, one save per trial, withdrawal deletes."""

import pytest

from study import services
from study.models import AuditLog, ConsentDocument, Feedback, Participant, PlaybackEvent, Rating, Trial
from tests.factories import (
    ConsentDocumentFactory,
    ParticipantFactory,
    StudyFactory,
    good_ratings,
    participant_in_trials,
    study_with_items,
)

EVENT = {"kind": "play", "state": "as_given", "audio_time": 0.0, "client_time": 120.0, "detail": {}}


def _submit(trial, **overrides):
    fields = {"ratings": good_ratings(), "feedback": "Clear advice.", "listened_seconds": 30.0, **overrides}
    return services.trial_submit(trial=trial, **fields)


def _submit_all(participant):
    for trial in participant.trials.order_by("position"):
        score = trial.instructed_response or 4
        _submit(trial, ratings=good_ratings(score))


@pytest.mark.django_db
def test_a_reused_recruiter_id_returns_the_same_participant(study):
    first = services.participant_start(study=study, external_ids={"PROLIFIC_PID": "abc", "OTHER": "x"})
    second = services.participant_start(study=study, external_ids={"PROLIFIC_PID": "abc"})
    assert first.pk == second.pk
    assert first.external_ids == {"PROLIFIC_PID": "abc"}


@pytest.mark.django_db
def test_a_closed_study_refuses_new_participants_but_lets_started_ones_back(study):
    started = services.participant_start(study=study, external_ids={"PROLIFIC_PID": "early"})
    services.study_close(study=study)
    with pytest.raises(services.StudyRuleError, match="not open"):
        services.participant_start(study=study, external_ids={"PROLIFIC_PID": "late"})
    assert services.participant_start(study=study, external_ids={"PROLIFIC_PID": "early"}).pk == started.pk


@pytest.mark.django_db
def test_nothing_is_stored_before_consent(study):
    participant = services.participant_start(study=study, external_ids={})
    with pytest.raises(services.ConsentRequired):
        services.background_record(participant=participant, answers={"years_mixing": 5})
    participant.refresh_from_db()
    assert participant.background == {}


@pytest.mark.django_db
def test_consent_needs_every_statement_ticked(study):
    participant = services.participant_start(study=study, external_ids={})
    document = study.consent_documents.get()
    with pytest.raises(services.StudyRuleError, match="must be ticked"):
        services.consent_record(participant=participant, document=document, answers={"0": True})
    record = services.consent_record(
        participant=participant, document=document, answers={"0": True, "1": True}
    )
    participant.refresh_from_db()
    assert participant.state == Participant.State.CONSENTED
    assert record.document.sha256


@pytest.mark.django_db
def test_declining_erases_the_recruiter_ids(study):
    participant = services.participant_start(study=study, external_ids={"PROLIFIC_PID": "abc"})
    services.consent_decline(participant=participant)
    participant.refresh_from_db()
    assert participant.state == Participant.State.DECLINED
    assert participant.recruiter_id == "" and participant.external_ids == {}


@pytest.mark.django_db
def test_background_rules_decide_eligibility(study):
    participant = services.participant_start(study=study, external_ids={})
    services.consent_record(
        participant=participant, document=study.consent_documents.get(), answers={"0": True, "1": True}
    )
    eligible = services.background_record(
        participant=participant, answers={"years_mixing": 0, "hearing_issues": "yes"}
    )
    participant.refresh_from_db()
    assert eligible is False
    assert participant.state == Participant.State.INELIGIBLE
    assert len(participant.background["ineligible_because"]) == 2


@pytest.mark.django_db
@pytest.mark.parametrize(("correct", "passed"), [(5, True), (4, False)])
def test_the_headphone_screen_passes_at_five_of_six(study, correct, passed):
    participant = services.participant_start(study=study, external_ids={})
    services.consent_record(
        participant=participant, document=study.consent_documents.get(), answers={"0": True, "1": True}
    )
    services.background_record(participant=participant, answers={"years_mixing": 3})
    responses = [{"trial": i, "correct": i < correct} for i in range(6)]
    assert services.screening_record(participant=participant, responses=responses) is passed
    participant.refresh_from_db()
    assert participant.state == (Participant.State.SCREENED if passed else Participant.State.SCREENED_OUT)


@pytest.mark.django_db
def test_a_retried_submit_with_the_same_content_stores_nothing_new(participant):
    trial = participant.trials.get(position=1)
    _submit(trial)
    _submit(trial)
    assert Rating.objects.filter(trial=trial).count() == 5
    assert Feedback.objects.filter(trial=trial).count() == 1


@pytest.mark.django_db
def test_a_different_answer_for_a_submitted_trial_is_refused(participant):
    trial = participant.trials.get(position=1)
    _submit(trial)
    with pytest.raises(services.InvalidSubmission, match="already submitted"):
        _submit(trial, ratings=good_ratings(1))
    assert set(Rating.objects.filter(trial=trial).values_list("score", flat=True)) == {4}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"ratings": {**good_ratings(), "effectiveness": 6}}, "outside the scale"),
        ({"ratings": {**good_ratings(), "effectiveness": True}}, "outside the scale"),
        ({"ratings": {**good_ratings(), "loudness": 3}}, "unknown dimension"),
        ({"ratings": {"effectiveness": 3}}, "missing a score"),
        ({"listened_seconds": 1.0}, "at least 5 s"),
        ({"listened_seconds": float("nan")}, "not a non-negative number"),
    ],
)
def test_bad_submissions_are_refused_and_store_nothing(participant, overrides, message):
    trial = participant.trials.get(position=1)
    with pytest.raises(services.InvalidSubmission, match=message):
        _submit(trial, **overrides)
    assert not Rating.objects.filter(trial=trial).exists()
    trial.refresh_from_db()
    assert trial.state != Trial.State.SUBMITTED


@pytest.mark.django_db
def test_free_text_is_required_when_the_study_says_so():
    study = study_with_items(free_text_required=True)
    participant = participant_in_trials(study)
    with pytest.raises(services.InvalidSubmission, match="written comment is required"):
        _submit(participant.trials.get(position=0), feedback="   ")


@pytest.mark.django_db
def test_playback_events_are_stored_in_batches_and_bad_batches_store_nothing(participant):
    trial = participant.trials.get(position=1)
    assert services.playback_events_record(trial=trial, events=[EVENT, {**EVENT, "kind": "pause"}]) == 2
    with pytest.raises(services.StudyRuleError, match=r"events\[1\].kind"):
        services.playback_events_record(trial=trial, events=[EVENT, {**EVENT, "kind": "explode"}])
    assert PlaybackEvent.objects.filter(trial=trial).count() == 2
    trial.refresh_from_db()
    assert trial.state == Trial.State.STARTED


@pytest.mark.django_db
def test_completion_needs_every_trial_submitted(participant):
    with pytest.raises(services.StudyRuleError, match="not submitted"):
        services.participant_complete(participant=participant)
    _submit_all(participant)
    code = services.participant_complete(participant=participant)
    assert code == services.participant_complete(participant=participant)
    participant.refresh_from_db()
    assert participant.state == Participant.State.COMPLETED and participant.completed_at


@pytest.mark.django_db
def test_closing_questionnaire_needs_the_required_answers(participant):
    with pytest.raises(services.StudyRuleError, match="workflow_fit"):
        services.closing_record(participant=participant, answers={"trust": 4})
    services.closing_record(
        participant=participant, answers={"trust": 4, "workflow_fit": "As a second opinion."}
    )
    participant.refresh_from_db()
    assert participant.closing["trust"] == 4


@pytest.mark.django_db
def test_withdrawal_deletes_ratings_feedback_and_events_by_default(participant):
    trial = participant.trials.get(position=1)
    services.playback_events_record(trial=trial, events=[EVENT])
    _submit(trial)
    services.participant_withdraw(participant=participant)
    participant.refresh_from_db()
    assert participant.state == Participant.State.WITHDRAWN and participant.withdrawn_at
    assert not Trial.objects.filter(participant=participant).exists()
    assert not Rating.objects.filter(trial__participant=participant).exists()
    assert not PlaybackEvent.objects.filter(trial__participant=participant).exists()
    assert participant.background == {} and participant.external_ids == {}
    assert AuditLog.objects.filter(action="participant_withdraw", target=participant.pseudonym).exists()


@pytest.mark.django_db
def test_withdrawal_retains_submitted_ratings_when_the_consent_version_says_so():
    study = study_with_items(consent=False)
    ConsentDocumentFactory(study=study, retain_on_withdraw=True)
    participant = participant_in_trials(study)
    _submit(participant.trials.get(position=1))
    services.participant_withdraw(participant=participant)
    assert Rating.objects.filter(trial__participant=participant).count() == 5
    assert Trial.objects.filter(participant=participant).count() == 1


@pytest.mark.django_db
def test_publishing_freezes_the_consent_and_a_change_is_a_new_version():
    study = StudyFactory()
    draft = ConsentDocument.objects.create(study=study, version=1, text="Consent", statements=["I agree."])
    published = services.consent_document_publish(document=draft)
    assert len(published.sha256) == 64 and published.published_at
    with pytest.raises(services.StudyRuleError, match="already published"):
        services.consent_document_publish(document=draft)
    second = services.consent_document_new_version(document=published)
    assert second.version == 2 and second.published_at is None


@pytest.mark.django_db
def test_opening_a_study_needs_a_published_consent_and_items():
    study = StudyFactory(status="draft")
    with pytest.raises(services.StudyRuleError, match="no published consent"):
        services.study_open(study=study)
    ready = study_with_items(slug="ready", status="draft")
    services.study_open(study=ready)
    assert AuditLog.objects.filter(action="study_open", target="ready").exists()


@pytest.mark.django_db
def test_demo_researcher_is_in_the_researcher_group():
    username, _ = services.demo_researcher_ensure()
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(username=username)
    assert user.groups.filter(name=services.RESEARCHER_GROUP).exists()
    assert not user.groups.get().permissions.filter(codename="view_external_ids").exists()
    assert ParticipantFactory._meta.model is Participant
