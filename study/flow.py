"""The participant journey, declared as data (after oTree's ``page_sequence``).

Each :class:`Step` names its template, the form that validates its page, the one service its
POST calls, and the guard that says whether a participant is *at* this step. The participant's
stored state decides everything: the current step is the first whose guard holds, and every
participant URL that is not the current step redirects there. So nobody reaches the trials
before consenting and passing the screen, a finished step cannot be posted twice, and a reload
or a second tab lands on the same page.

    landing ─► consent ─► background ─► screen ─► instructions ─► trial × (1 practice + K)
                 │            │            │                          ─► closing ─► debrief
                 ▼            ▼            ▼
              declined    ineligible   screened out          (withdrawn: from any step)
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils.crypto import salted_hmac

from study import forms, huggins, journey, services
from study.models import ConsentDocument, Participant
from study.selectors import trial_next_for

State = Participant.State


@dataclass(frozen=True)
class Step:
    """One page of the journey.

    Attributes
    ----------
    name : str
        URL name (``study:<name>``) and the step's id.
    title : str
        Page title and progress label.
    template : str
    guard : callable
        ``guard(participant) -> bool``: True when the participant is at this step.
    form : callable or None
        ``form(participant, data) -> Form``: the bound (or unbound, ``data=None``) form.
    submit : callable or None
        ``submit(participant, form) -> None``: calls exactly one service with the cleaned data.
    """

    name: str
    title: str
    template: str
    guard: Callable[[Participant], bool]
    form: Callable[[Participant, Any], Any] | None = None
    submit: Callable[[Participant, Any], None] | None = None
    context: Callable[[Participant], dict] = field(default=lambda participant: {})


def consent_document_for(participant):
    """The consent version this participant sees: the one they agreed to, else the latest published."""
    if participant.pk is not None:
        record = participant.consents.select_related("document").order_by("-created_at").first()
        if record is not None:
            return record.document
    return (
        ConsentDocument.objects.filter(study_id=participant.study_id, published_at__isnull=False)
        .order_by("-version")
        .first()
    )


def screen_seed(participant):
    """The participant's headphone-screen seed: secret (keyed by SECRET_KEY), stable, per participant."""
    return salted_hmac("study.huggins", participant.code).hexdigest()


def screen_config(study):
    return huggins.ScreenConfig(trials=study.screening_trials, pass_threshold=study.screening_pass_threshold)


def screen_responses(participant, answers):
    """Score the screen's answers on the server: one dict per trial, as screening_record stores them."""
    key = huggins.answer_key(screen_seed(participant), screen_config(participant.study))
    return [
        {"trial": trial, "answer": answer, "target": target, "correct": answer == target}
        for trial, (answer, target) in enumerate(zip(answers, key, strict=True), start=1)
    ]


def _consent_form(participant, data):
    document = consent_document_for(participant)
    return forms.ConsentForm(data, statements=document.statements if document else ())


def _consent_submit(participant, form):
    services.consent_record(
        participant=participant,
        document=consent_document_for(participant),
        answers=form.answers(),
    )


def _consent_context(participant):
    return {"document": consent_document_for(participant)}


def _background_submit(participant, form):
    services.background_record(participant=participant, answers=form.cleaned_data)


def _screen_form(participant, data):
    return forms.ScreenForm(data, trials=participant.study.screening_trials)


def _screen_submit(participant, form):
    services.screening_record(
        participant=participant, responses=screen_responses(participant, form.answers())
    )


def _instructions_submit(participant, form):
    services.trials_assign(participant=participant)


def _closing_form(participant, data):
    return forms.ClosingForm(data, questions=participant.study.closing_questionnaire)


def _closing_submit(participant, form):
    journey.closing_submit(participant=participant, answers=form.cleaned_data)


JOURNEY = (
    Step(
        "consent",
        "Information and consent",
        "study/consent.html",
        guard=lambda p: p.state == State.STARTED,
        form=_consent_form,
        submit=_consent_submit,
        context=_consent_context,
    ),
    Step(
        "background",
        "About you",
        "study/background.html",
        guard=lambda p: p.state == State.CONSENTED and p.eligible is None,
        form=lambda p, data: forms.BackgroundForm(data),
        submit=_background_submit,
    ),
    Step(
        "screen",
        "Headphone check",
        "study/screen.html",
        guard=lambda p: p.state == State.CONSENTED and p.eligible is True,
        form=_screen_form,
        submit=_screen_submit,
    ),
    Step(
        "instructions",
        "Instructions",
        "study/instructions.html",
        guard=lambda p: p.state == State.SCREENED,
        form=lambda p, data: forms.ContinueForm(data),
        submit=_instructions_submit,
    ),
    Step(
        "trial",
        "Rate the advice",
        "study/trial.html",
        guard=lambda p: p.state == State.IN_TRIALS and trial_next_for(p) is not None,
    ),
    Step(
        "closing",
        "Your workflow",
        "study/closing.html",
        guard=lambda p: p.state == State.IN_TRIALS,
        form=_closing_form,
        submit=_closing_submit,
    ),
    Step("debrief", "Thank you", "study/debrief.html", guard=lambda p: p.state == State.COMPLETED),
)
ENDINGS = {
    State.DECLINED: "declined",
    State.INELIGIBLE: "ineligible",
    State.SCREENED_OUT: "screened_out",
    State.WITHDRAWN: "withdrawn",
}
STEPS = {step.name: step for step in JOURNEY}


def current_step(participant):
    """The step the participant is at, or None when their journey has ended (see ``ENDINGS``)."""
    if participant.state in ENDINGS:
        return None
    for step in JOURNEY:
        if step.guard(participant):
            return step
    raise RuntimeError(f"participant {participant.code} in state {participant.state} is at no step")


def screen_out_code(participant):
    """The code a screened-out participant gives the recruiter (paid for their time, not the study)."""
    return "S" + salted_hmac("study.screen-out", participant.code).hexdigest()[:8].upper()
