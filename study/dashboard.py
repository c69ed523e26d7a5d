"""The researcher dashboard of one study: participants by state, completion, balance, flags."""

from pathlib import Path

from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.http import FileResponse, Http404
from django.shortcuts import render
from django.utils import timezone

from study import selectors


def report_path(study) -> Path:
    """Where a study's analysis report lives: ``DATA_DIR/reports/<slug>/report.html``.

    ``analysis_report --study SLUG`` writes it there by default; the dashboard links to it.
    """
    return Path(settings.DATA_DIR) / "reports" / study.slug / "report.html"


def _report_info(study):
    path = report_path(study)
    if not path.is_file():
        return {"exists": False, "command": f"python manage.py analysis_report --study {study.slug}"}
    modified = timezone.datetime.fromtimestamp(path.stat().st_mtime, tz=timezone.get_current_timezone())
    return {"exists": True, "modified": modified, "folder": str(path.parent)}


@staff_member_required
def study_dashboard(request, slug):
    """Render the dashboard (staff only; everyone else is sent to the admin login)."""
    study = selectors.study_get_by_slug(slug)
    figures = selectors.study_dashboard(study)
    return render(
        request,
        "study/researcher/dashboard.html",
        {
            **figures,
            "report": _report_info(study),
            "title": f"Dashboard: {study.title}",
            "site_header": "MixAdvice researcher",
        },
    )


@staff_member_required
def study_report(request, slug):
    """Serve the study's latest analysis report (a self-contained HTML file; staff only)."""
    study = selectors.study_get_by_slug(slug)
    path = report_path(study)
    if not path.is_file():
        raise Http404(f"No report for {slug!r} yet: run python manage.py analysis_report --study {slug}")
    return FileResponse(path.open("rb"), content_type="text/html; charset=utf-8")
