"""Participant pages: thin function views (form → one service → redirect).

A participant is identified by the unguessable code in the URL *and* the same code in the
session, which the start view sets; a URL copied to another browser answers 404. Which page a
participant may see is decided by :mod:`study.flow`: any participant URL that is not their
current step redirects to it. Researchers' pages are in the admin; the trial page's saving goes
through the participant API (``study/apis.py``).
"""

import markdown
from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_http_methods, require_POST

from study import flow, huggins, journey, media, services
from study.dimensions import DIMENSIONS, SCALE
from study.models import AdviceItem, Participant, Study, Trial
from study.permissions import SESSION_KEY, session_start_allowed
from study.selectors import (
    dataset_root,
    participant_get_by_code,
    stem_audio_path_for,
    study_get_by_slug,
    trial_get_for,
    trial_state_for,
)

JOURNEY_LABELS = [(step.name, step.title) for step in flow.JOURNEY if step.name != "debrief"]


# ---------------------------------------------------------------- helpers


def _participant(request, code, *, require_consent=True):
    """The session's participant with this code, or 404 (another browser, another participant)."""
    if request.session.get(SESSION_KEY) != code:
        raise Http404("No such participant in this browser session.")
    return participant_get_by_code(code, require_consent=require_consent)


def _session_participant(request, study):
    """The participant this browser already started in ``study`` and who has not finished, or None."""
    code = request.session.get(SESSION_KEY)
    if not code:
        return None
    try:
        participant = participant_get_by_code(code, study=study, require_consent=False)
    except Http404:
        return None
    return None if participant.state in Participant.ENDED_STATES else participant


def _to_current(participant):
    step = flow.current_step(participant)
    if step is None:
        return redirect("study:ending", code=participant.code)
    return redirect(f"study:{step.name}", code=participant.code)


def _consent_html(document):
    """Render the consent markdown; raw HTML in it is escaped, so only markdown formatting shows."""
    md = markdown.Markdown(extensions=["extra", "sane_lists"])
    md.preprocessors.deregister("html_block")
    md.inlinePatterns.deregister("html")
    return mark_safe(md.convert(document.text))


def _trial_context(participant):
    trials = list(participant.trials.order_by("position").values_list("pk", "is_practice", "state"))
    next_id = next((pk for pk, _, state in trials if state != Trial.State.SUBMITTED), None)
    trial = trial_get_for(participant, next_id)
    submitted = sum(state == Trial.State.SUBMITTED for _, _, state in trials)
    state = trial_state_for(trial, progress=(submitted, len(trials)))
    counted = [pk for pk, is_practice, _ in trials if not is_practice]
    api_kwargs = {"code": participant.code, "trial_id": trial.pk}
    number = counted.index(trial.pk) + 1 if trial.pk in counted else 0
    config = {
        "state_url": reverse("api:trial-state", kwargs=api_kwargs),
        "submit_url": reverse("api:trial-submit", kwargs=api_kwargs),
        "events_url": reverse("api:trial-events", kwargs=api_kwargs),
        "next_url": reverse("study:participant", args=[participant.code]),
        "min_listening_seconds": participant.study.min_listening_seconds,
        "free_text_required": participant.study.free_text_required,
        "preview": False,
    }
    return {
        "trial": trial,
        "trial_state": state,
        "number": number,
        "total": len(counted),
        "dimensions": DIMENSIONS,
        "scale": SCALE,
        "trial_config": config,
    }


def _screen_context(participant, form, *, audio_url):
    return {
        "calibration_url": audio_url(0),
        "screen_rows": [(field, audio_url(n)) for n, field in enumerate(form, start=1)],
    }


def _page(request, participant, step, form=None, *, preview=False, extra=None):
    context = {
        "participant": participant,
        "study": participant.study,
        "step_name": step.name,
        "step_title": step.title,
        "journey": JOURNEY_LABELS,
        "can_withdraw": not preview,
        "preview": preview,
        "form": form,
        **step.context(participant),
        **(extra or {}),
    }
    if step.name == "consent" and context.get("document"):
        context["consent_html"] = _consent_html(context["document"])
    return render(request, step.template, context)


# ---------------------------------------------------------------- entry


def study_index(request):
    """The list of open studies (what the platform's landing page links to)."""
    studies = Study.objects.filter(status=Study.Status.OPEN).order_by("title").only("slug", "title")
    return render(request, "study/index.html", {"studies": studies})


def study_landing(request, slug):
    """What the study is, and a Start button; a participant already started here resumes."""
    study = study_get_by_slug(slug)
    participant = _session_participant(request, study)
    if participant is not None:
        return _to_current(participant)
    external_ids = {name: request.GET[name] for name in study.recruitment_parameters if name in request.GET}
    minutes = 10 + 3 * study.trials_per_participant
    context = {"study": study, "external_ids": external_ids, "minutes": minutes}
    return render(request, "study/landing.html", context)


@require_POST
def study_start(request, slug):
    """Start (or, for the same browser or recruiter id, resume) a session and go to its step."""
    study = study_get_by_slug(slug)
    participant = _session_participant(request, study)
    if participant is not None:
        return _to_current(participant)
    if not session_start_allowed(request):
        context = {"study": study, "limited": True, "minutes": 0}
        return render(request, "study/landing.html", context, status=429)
    external_ids = {name: request.POST[name] for name in study.recruitment_parameters if name in request.POST}
    try:
        participant = services.participant_start(study=study, external_ids=external_ids)
    except services.StudyRuleError as error:
        context = {"study": study, "error": error.message, "minutes": 0}
        return render(request, "study/landing.html", context, status=400)
    request.session.cycle_key()
    request.session[SESSION_KEY] = participant.code
    return _to_current(participant)


def participant_home(request, code):
    """Wherever the participant is: their current step or their ending."""
    return _to_current(_participant(request, code, require_consent=False))


# ---------------------------------------------------------------- steps


@require_http_methods(["GET", "POST"])
def step_page(request, code, step_name):
    """Any form step of :data:`study.flow.JOURNEY`: show it, or validate and call its service."""
    step = flow.STEPS[step_name]
    # The flow is the guard: every step after consent is current only for a consented participant.
    participant = _participant(request, code, require_consent=False)
    if flow.current_step(participant) != step:
        return _to_current(participant)
    if step.name == "trial":
        return _page(request, participant, step, extra=_trial_context(participant))
    form = step.form(participant, request.POST if request.method == "POST" else None) if step.form else None
    if request.method == "POST" and form is not None and form.is_valid():
        try:
            step.submit(participant, form)
        except services.StudyRuleError as error:
            form.add_error(None, error.message)
        else:
            participant.refresh_from_db()
            return _to_current(participant)
    extra = {}
    if step.name == "screen":
        extra = _screen_context(
            participant, form, audio_url=lambda n: reverse("study:screen_audio", args=[code, n])
        )
    if step.name == "debrief" and participant.study.completion_url:
        extra["completion_url"] = participant.study.completion_url.replace(
            "{code}", participant.completion_code
        )
    return _page(request, participant, step, form, extra=extra)


@require_POST
def consent_decline(request, code):
    participant = _participant(request, code, require_consent=False)
    if flow.current_step(participant) != flow.STEPS["consent"]:
        return _to_current(participant)
    services.consent_decline(participant=participant)
    return redirect("study:ending", code=code)


def consent_download(request, code):
    """The consent text exactly as shown (or as agreed to), with its version, hash and IRB number."""
    participant = _participant(request, code, require_consent=False)
    document = flow.consent_document_for(participant)
    if document is None:
        raise Http404("This study has no published consent document.")
    header = (
        f"<!-- {participant.study.title} — consent version {document.version}; "
        f"IRB protocol {document.irb_protocol_number or 'n/a'}; sha256 {document.sha256} -->\n\n"
    )
    statements = "".join(f"- [ ] {statement}\n" for statement in document.statements)
    body = header + document.text.rstrip() + ("\n\n## Statements\n\n" + statements if statements else "\n")
    response = HttpResponse(body, content_type="text/markdown; charset=utf-8")
    filename = f"consent-{participant.study.slug}-v{document.version}.md"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Consent-SHA256"] = document.sha256
    return response


def ending(request, code):
    """The polite end of a journey that stopped early: declined, ineligible, screened out, withdrawn."""
    participant = _participant(request, code, require_consent=False)
    name = flow.ENDINGS.get(participant.state)
    if name is None:
        return _to_current(participant)
    context = {
        "participant": participant,
        "study": participant.study,
        "ending": name,
        "step_title": "The end",
        "can_withdraw": participant.has_consented,
        "screen_out_code": flow.screen_out_code(participant) if name == "screened_out" else "",
    }
    return render(request, "study/ending.html", context)


@require_http_methods(["GET", "POST"])
def withdraw(request, code):
    """Confirm, then withdraw (deleting the participant's data unless their consent retains it)."""
    participant = _participant(request, code, require_consent=False)
    if not participant.has_consented:
        return redirect("study:participant", code=code)
    document = flow.consent_document_for(participant)
    context = {
        "participant": participant,
        "study": participant.study,
        "step_title": "Withdraw",
        "retained": bool(document and document.retain_on_withdraw),
    }
    if request.method == "GET":
        return render(request, "study/withdraw.html", context)
    services.participant_withdraw(participant=participant)
    request.session.pop(SESSION_KEY, None)
    return render(request, "study/ending.html", {**context, "ending": "withdrawn", "participant": None})


# ---------------------------------------------------------------- audio


def screen_audio(request, code, number):
    """One headphone-screen trial (1..N) or the volume check (0), generated for this participant."""
    participant = _participant(request, code)
    if flow.current_step(participant) != flow.STEPS["screen"] or number > participant.study.screening_trials:
        raise Http404("No such screen sound.")
    seed = flow.screen_seed(participant)
    audio = huggins.calibration_audio(seed) if number == 0 else huggins.trial_audio(seed, number)
    return media.bytes_response(request, huggins.wav_bytes(audio), content_type="audio/wav")


def stem_audio(request, code, trial_id, stem):
    """One stem of one of the participant's own trials; anything else is 404."""
    participant = _participant(request, code)
    trial = trial_get_for(participant, trial_id)
    path = stem_audio_path_for(trial, stem)
    return media.file_response(request, media.resolve_inside(dataset_root(participant.study), path))


# ---------------------------------------------------------------- staff preview


@staff_member_required
def preview(request, slug, step_name="consent"):
    """Walk the study's pages as a participant would; nothing is stored, forms only move on."""
    study = study_get_by_slug(slug)
    if step_name not in flow.STEPS:
        raise Http404("No such step.")
    step = flow.STEPS[step_name]
    participant = Participant(study=study, code="preview")
    names = [s.name for s in flow.JOURNEY]
    following = names[names.index(step_name) + 1] if step_name != names[-1] else step_name
    if request.method == "POST":
        return redirect("study:preview_step", slug=slug, step_name=following)
    extra = {"preview_next": reverse("study:preview_step", args=[slug, following])}
    form = step.form(participant, None) if step.form else None
    if step.name == "screen":
        extra.update(
            _screen_context(
                participant, form, audio_url=lambda n: reverse("study:preview_screen_audio", args=[slug, n])
            )
        )
    if step.name == "trial":
        item = AdviceItem.objects.filter(scenario__study=study).select_related("scenario").first()
        if item is None:
            raise Http404("This study has no advice items to preview.")
        extra.update(_preview_trial_context(study, item, following=extra["preview_next"]))
    return _page(request, participant, step, form, preview=True, extra=extra)


def _preview_trial_context(study, item, *, following):
    state = journey.item_preview_state(
        item, audio_url=lambda stem: reverse("study:preview_stem_audio", args=[study.slug, item.pk, stem])
    )
    config = {
        "state": state,
        "next_url": following,
        "min_listening_seconds": study.min_listening_seconds,
        "free_text_required": study.free_text_required,
        "preview": True,
    }
    return {
        "trial": None,
        "trial_state": state,
        "number": 1,
        "total": study.trials_per_participant,
        "dimensions": DIMENSIONS,
        "scale": SCALE,
        "trial_config": config,
    }


@staff_member_required
def preview_screen_audio(request, slug, number):
    study = study_get_by_slug(slug)
    if number > study.screening_trials:
        raise Http404("No such screen sound.")
    seed = f"preview:{study.slug}"
    audio = huggins.calibration_audio(seed) if number == 0 else huggins.trial_audio(seed, number)
    return media.bytes_response(request, huggins.wav_bytes(audio), content_type="audio/wav")


@staff_member_required
def preview_stem_audio(request, slug, item_id, stem):
    item = get_object_or_404(
        AdviceItem.objects.select_related("scenario__study"), pk=item_id, scenario__study__slug=slug
    )
    if stem not in item.scenario.stems:
        raise Http404("No such stem.")
    root = dataset_root(item.scenario.study)
    return media.file_response(request, media.resolve_inside(root, item.scenario.audio[stem]))
