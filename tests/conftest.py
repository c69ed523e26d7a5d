"""Shared fixtures: personas, a live server driven by a real chromium, heavy imports once.

Personas: ``researcher`` (staff), ``outsider`` (signed in, no rights); the study adds
``participant``. Browser tests take ``page``: a Playwright page on a fresh context
whose base URL is the live server; a failing test leaves a screenshot in
``var/test-artifacts/``.
"""

import os
import shutil
from pathlib import Path

import pytest

from tests.factories import ResearcherFactory, UserFactory, participant_in_trials, study_with_items

# Playwright's sync API runs an event loop in the test thread; Django's ORM refuses
# to run beside one unless told that the test code is synchronous on purpose.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "var" / "test-artifacts"
DB_FIXTURES = {"db", "transactional_db", "_django_db_helper", "live_server", "django_db_reset_sequences"}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Mark every database-touching test ``db`` so make test can rerun them on PostgreSQL."""
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if item.get_closest_marker("django_db") or fixtures & DB_FIXTURES:
            item.add_marker(pytest.mark.db)
        if "page" in fixtures or "browser" in fixtures:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(autouse=True)
def _data_dir(settings, tmp_path):
    """Each test gets its own MIXADVICE_DATA_DIR so no test sees another's files."""
    settings.DATA_DIR = tmp_path / "data"
    settings.MEDIA_ROOT = settings.DATA_DIR / "media"
    return settings.DATA_DIR


@pytest.fixture
def researcher(db):
    return ResearcherFactory(username="researcher")


@pytest.fixture
def outsider(db):
    return UserFactory(username="outsider")


@pytest.fixture
def study(db):
    """An open study: 6 scenarios x 5 systems, a published consent, 4 rated trials each."""
    return study_with_items(slug="persona-study")


@pytest.fixture
def participant(study):
    """A consented, eligible, screened participant with trials assigned (practice, 4 rated, 1 instructed)."""
    return participant_in_trials(study, external_ids={"PROLIFIC_PID": "persona-pid"})


@pytest.fixture(scope="session")
def chromium_path():
    path = os.environ.get("MIXADVICE_CHROMIUM") or shutil.which("chromium")
    if not path:
        pytest.fail("chromium is not installed: run `make setup` (it installs Debian's chromium).")
    return path


@pytest.fixture(scope="session")
def browser(chromium_path, tmp_path_factory):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS
        )
        yield instance
        instance.close()


@pytest.fixture
def page(browser, live_server, request):
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(15_000)
    console = []
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    page.on("pageerror", lambda error: console.append(f"pageerror: {error}"))
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        stem = request.node.nodeid.replace("/", "_").replace("::", "__")
        page.screenshot(path=str(ARTIFACTS / f"{stem}.png"), full_page=True)
        (ARTIFACTS / f"{stem}.console.txt").write_text("\n".join(console), encoding="utf-8")
    context.close()


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, tmp_path_factory):
    """Keep an SQLite test database in a file, so a queue worker in another process can open it."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        database.setdefault("TEST", {})["NAME"] = str(tmp_path_factory.mktemp("database") / "test.sqlite3")


@pytest.fixture
def queue_worker(transactional_db, settings):
    """A real django-q2 cluster (``manage.py qcluster``) in its own process on the test database.

    It sees the test's settings through the environment (database, DATA_DIR and every
    ``MIXADVICE_*`` setting), and is stopped before the database is flushed.
    """
    from tests.queue_worker import QueueWorker

    worker = QueueWorker.start(settings)
    yield worker
    worker.stop()
