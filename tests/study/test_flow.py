import pytest
from django.template.loader import get_template

from study import flow, huggins, journey, services
from study.models import Participant
from tests.factories import good_ratings, participant_in_trials

State = Participant.State


def test_every_step_has_a_template_and_a_unique_name():
    names = [step.name for step in flow.JOURNEY]
    assert len(names) == len(set(names))
    assert names == ["consent", "background", "screen", "instructions", "trial", "closing", "debrief"]
    for step in flow.JOURNEY:
        assert get_template(step.template)
        assert (step.form is None) == (step.submit is None)


def test_a_new_participant_is_at_consent_and_nowhere_else(study):
    participant = services.participant_start(study=study, external_ids={})
    assert flow.current_step(participant).name == "consent"
    assert [step.name for step in flow.JOURNEY if step.guard(participant)] == ["consent"]


def test_the_journey_moves_one_step_per_service(study):
    participant = services.participant_start(study=study, external_ids={})
    document = flow.consent_document_for(participant)
    services.consent_record(participant=participant, document=document, answers={"0": True, "1": True})
    participant.refresh_from_db()
    assert flow.current_step(participant).name == "background"
    services.background_record(participant=participant, answers={"years_mixing": 4, "hearing_issues": "no"})
    participant.refresh_from_db()
    assert flow.current_step(participant).name == "screen"
    key = huggins.answer_key(flow.screen_seed(participant), flow.screen_config(study))
    services.screening_record(participant=participant, responses=flow.screen_responses(participant, key))
    participant.refresh_from_db()
    assert flow.current_step(participant).name == "instructions"
    services.trials_assign(participant=participant)
    participant.refresh_from_db()
    assert flow.current_step(participant).name == "trial"


def test_the_closing_questionnaire_comes_after_the_last_trial_and_the_debrief_after_it(participant):
    for trial in participant.trials.order_by("position"):
        ratings = good_ratings(trial.instructed_response or 4)
        services.trial_submit(trial=trial, ratings=ratings, feedback="", listened_seconds=30.0)
    participant.refresh_from_db()
    assert flow.current_step(participant).name == "closing"
    code = journey.closing_submit(participant=participant, answers={"workflow_fit": "Fine", "trust": 4})
    participant.refresh_from_db()
    assert flow.current_step(participant).name == "debrief"
    assert participant.completion_code == code


@pytest.mark.parametrize(
    ("state", "ending"),
    [
        (State.DECLINED, "declined"),
        (State.INELIGIBLE, "ineligible"),
        (State.SCREENED_OUT, "screened_out"),
        (State.WITHDRAWN, "withdrawn"),
    ],
)
def test_an_ended_journey_is_at_no_step(study, state, ending):
    participant = Participant(study=study, state=state)
    assert flow.current_step(participant) is None
    assert flow.ENDINGS[state] == ending


def test_the_screen_is_scored_on_the_server_against_a_secret_per_participant_key(study, settings):
    participant = services.participant_start(study=study, external_ids={})
    key = huggins.answer_key(flow.screen_seed(participant))
    responses = flow.screen_responses(participant, key)
    assert all(response["correct"] for response in responses)
    assert [response["target"] for response in responses] == key
    wrong = flow.screen_responses(participant, [k % 3 + 1 for k in key])
    assert not any(response["correct"] for response in wrong)
    before = flow.screen_seed(participant)
    settings.SECRET_KEY = "another-secret-key-for-this-test-only-0123456789-abcdefghijklmnop"
    assert flow.screen_seed(participant) != before


def test_the_screen_out_code_is_stable_and_differs_between_participants(study):
    first = services.participant_start(study=study, external_ids={})
    second = services.participant_start(study=study, external_ids={})
    assert flow.screen_out_code(first) == flow.screen_out_code(first)
    assert flow.screen_out_code(first) != flow.screen_out_code(second)
    assert flow.screen_out_code(first).startswith("S") and len(flow.screen_out_code(first)) == 9


def test_the_consent_shown_is_the_version_the_participant_agreed_to(study):
    from tests.factories import ConsentDocumentFactory

    participant = participant_in_trials(study)
    agreed = flow.consent_document_for(participant)
    ConsentDocumentFactory(study=study, version=2, text="# Changed later")
    assert flow.consent_document_for(participant) == agreed
    newcomer = services.participant_start(study=study, external_ids={})
    assert flow.consent_document_for(newcomer).version == 2
