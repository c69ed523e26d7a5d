"""The researcher dashboard of one study: participants by state, completion, balance, flags."""

from django.contrib.admin.views.decorators import staff_member_required
from django.shortcuts import render

from study import selectors


@staff_member_required
def study_dashboard(request, slug):
    """Render the dashboard (staff only; everyone else is sent to the admin login)."""
    study = selectors.study_get_by_slug(slug)
    figures = selectors.study_dashboard(study)
    return render(
        request,
        "study/researcher/dashboard.html",
        {**figures, "title": f"Dashboard: {study.title}", "site_header": "MixAdvice researcher"},
    )
