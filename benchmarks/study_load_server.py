"""WSGI application for ``benchmarks/study_load.py``: the project plus one trivial view.

The trivial view (``bench/ping/``) passes through the same middleware as every page, so the
study API's throughput can be stated as a ratio to it, measured by the same server in the same
run. Not used outside the benchmark.
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from django.core.wsgi import get_wsgi_application

application = get_wsgi_application()

from django.conf import settings  # noqa: E402
from django.http import HttpResponse  # noqa: E402
from django.urls import include, path  # noqa: E402


def ping(request):
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [path("bench/ping/", ping), path("", include("config.urls"))]
settings.ROOT_URLCONF = __name__
