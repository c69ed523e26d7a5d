"""The advisor page: upload stems or pick a demo song, follow the job, hear the advice applied.

Thin views: form -> one service -> redirect. Whether the pages are open to everyone or only
to signed-in users is ``MIXADVICE_ADVISOR_PUBLIC``. A result is reached only through its
token; its audio is served from outside the web root by :func:`advisor_audio`.
"""

from functools import wraps

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods

from modelgen import advisor_inference, advisor_selectors, advisor_service
from modelgen.contracts import ContractError
from modelgen.corrections import STEMS
from modelgen.forms import AdvisorForm
from modelgen.models import AdvisorJob
from modelgen.uploads import (
    UploadLimits,
    UploadRejected,
    check_total_size,
    files_copy,
    planned_notices,
    uploads_save,
)

REQUEST_OVERHEAD_BYTES = 1024 * 1024
"""Room for the form fields and multipart headers on top of the stems' size limit."""


def advisor_access(view):
    """Let everyone in when ``MIXADVICE_ADVISOR_PUBLIC`` is on, else only signed-in users."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not settings.MIXADVICE_ADVISOR_PUBLIC and not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return wrapper


def _job_or_404(token):
    job = advisor_selectors.job_get_by_token(token)
    if job is None:
        raise Http404("No advisor result at this link.")
    return job


def _create_from_upload(form, request, limits):
    data = form.cleaned_data
    saved = uploads_save(files=data["stems"], roles=data["roles"], anchor_index=data["anchor"], limits=limits)
    return advisor_service.job_create(
        saved=saved,
        roles=data["roles"],
        anchor_index=data["anchor"],
        advisor=data["advisor"],
        genre=data["genre"],
        owner=request.user,
        source=AdvisorJob.Source.UPLOAD,
    )


def _create_from_demo(form, request, limits):
    data = form.cleaned_data
    song = advisor_selectors.demo_song_get(data["demo_song"])
    if song is None:
        raise UploadRejected(["That demo song is no longer available; choose another."])
    if data["demo_anchor"] not in song.stems:
        raise UploadRejected([f"The demo song has no {data['demo_anchor']} stem; choose another anchor."])
    roles = [role for role in STEMS if role in song.stems]
    saved = files_copy(paths=[song.stems[role] for role in roles], limits=limits)
    saved.notices = planned_notices(saved.infos, roles)
    return advisor_service.job_create(
        saved=saved,
        roles=roles,
        anchor_index=roles.index(data["demo_anchor"]),
        advisor=data["advisor"],
        genre=data["genre"] or song.genre,
        owner=request.user,
        source=AdvisorJob.Source.DEMO,
        demo_scenario=song.scenario_id,
    )


def _start_options():
    demo_problem = ""
    try:
        demo_songs = advisor_selectors.demo_songs()
    except ContractError as error:
        demo_songs, demo_problem = [], f"The demo songs cannot be read: {error}"
    advisors = advisor_inference.available_advisors()
    options = {"advisors": advisors, "genres": advisor_inference.genres(), "demo_songs": demo_songs}
    return options, demo_problem


def _render_start(request, form, options, demo_problem, limits, *, refusals=(), status=200):
    context = {
        "form": form,
        "upload_errors": [*form.non_field_errors(), *refusals],
        "limits": limits,
        "roles": STEMS,
        "advisors": options["advisors"],
        "demo_songs": options["demo_songs"],
        "demo_problem": demo_problem,
        "history": advisor_selectors.jobs_for_user(request.user),
    }
    return render(request, "modelgen/advisor_start.html", context, status=status)


@csrf_protect
def _advisor_start(request, limits):
    options, demo_problem = _start_options()
    form = AdvisorForm(request.POST or None, request.FILES or None, **options)
    if request.method == "POST" and form.is_valid():
        create = (
            _create_from_demo
            if form.cleaned_data["source"] == AdvisorJob.Source.DEMO
            else _create_from_upload
        )
        try:
            job = create(form, request, limits)
        except UploadRejected as rejected:
            for message in rejected.errors:
                form.add_error(None, message)
        else:
            return redirect(job)
    return _render_start(request, form, options, demo_problem, limits)


@advisor_access
@require_http_methods(["GET", "POST"])
@csrf_exempt
def advisor_start(request):
    """The start page. An upload whose Content-Length is over the limit is refused before its body
    is read (so nothing is written to disk); every other request goes through the CSRF check."""
    limits = UploadLimits.from_settings()
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if request.method == "POST" and length > limits.max_total_bytes + REQUEST_OVERHEAD_BYTES:
        options, demo_problem = _start_options()
        refusals = check_total_size([length], limits)
        return _render_start(
            request, AdvisorForm(**options), options, demo_problem, limits, refusals=refusals, status=413
        )
    return _advisor_start(request, limits)


@advisor_access
@require_GET
def advisor_result(request, token):
    job = _job_or_404(token)
    context = {
        "job": job,
        "status": advisor_selectors.job_status(job),
        "stems": list(job.stems.all()),
        "player": advisor_selectors.player_config(job) if job.state == AdvisorJob.State.DONE else None,
        "corrections": sorted(job.corrections_db.items()),
    }
    return render(request, "modelgen/advisor_result.html", context)


@advisor_access
@require_GET
@never_cache
def advisor_status(request, token):
    return JsonResponse(advisor_selectors.job_status(_job_or_404(token)))


@advisor_access
@require_GET
def advisor_audio(request, token, role):
    job = _job_or_404(token)
    if role not in STEMS or job.state != AdvisorJob.State.DONE or job.purged_at is not None:
        raise Http404("No such stem.")
    path = advisor_service.job_stem_path(job, role)
    if not path.is_file():
        raise Http404("No such stem.")
    response = FileResponse(path.open("rb"), content_type="audio/wav")
    response["Cache-Control"] = "private, max-age=3600"
    return response
