"""Who may call which study endpoint: participant sessions, staff, and the session-start limit.

Participants have no user account. A participant endpoint is reached with the participant's code
in the URL *and* the same code in the signed session cookie (``request.session[SESSION_KEY]``,
set by the participant pages when a participant starts); anything else is a 404, so a code seen
over someone's shoulder or in a log does not open their data. Participant requests are
anonymous to Django, and DRF's session authentication skips CSRF for anonymous users, so
:class:`ParticipantSessionAuthentication` enforces CSRF itself.
"""

from django.conf import settings
from django.http import Http404
from rest_framework.authentication import SessionAuthentication
from rest_framework.throttling import AnonRateThrottle

from study.selectors import participant_get_by_code, trial_get_by_code

SESSION_KEY = "participant_code"


class ParticipantSessionAuthentication(SessionAuthentication):
    """Session authentication that enforces CSRF on unsafe methods for anonymous requests too."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None:
            self.enforce_csrf(request)
        return result


def participant_for_request(request, code):
    """The consented participant whose code is in the URL and in the session; Http404 otherwise."""
    if not code or request.session.get(SESSION_KEY) != code:
        raise Http404("No such participant.")
    return participant_get_by_code(code)


def participant_trial_for_request(request, code, trial_id, **options):
    """The trial ``trial_id`` of the session's consented participant ``code``, in one query; else Http404.

    The same rules as :func:`participant_for_request` plus the trial being the participant's;
    ``options`` go to :func:`study.selectors.trial_get_by_code`. The participant is
    ``trial.participant``.
    """
    if not code or request.session.get(SESSION_KEY) != code:
        raise Http404("No such participant.")
    return trial_get_by_code(code, trial_id, **options)


class SessionStartThrottle(AnonRateThrottle):
    """Limits how many participant sessions one client address may start (``session_start`` rate).

    The participant pages call :func:`session_start_allowed` before ``participant_start``.
    Counts live in Django's cache (per process with the default local-memory cache; configure a
    shared cache such as Redis or the database cache for several server processes).
    """

    scope = "session_start"
    default_rate = "60/hour"

    def get_rate(self):
        return getattr(settings, "MIXADVICE_SESSION_START_RATE", self.default_rate)

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


def session_start_allowed(request):
    """True when this client may start another session now (and counts this start)."""
    return SessionStartThrottle().allow_request(request, None)
