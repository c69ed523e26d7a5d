"""Start and stop a real django-q2 cluster (``manage.py qcluster``) against the test database.

Used by the ``queue_worker`` fixture. The cluster runs in its own process group with the test's
database URL, ``MIXADVICE_DATA_DIR`` and ``MIXADVICE_*`` settings in its environment, exactly as
``make serve`` or a deployment starts it; its output goes to a log file that a failing test prints.
"""

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
STOP_SECONDS = 15


def database_url():
    """The URL of the database the tests run on (the test database, not the configured one)."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    if connection.vendor == "postgresql":
        credentials = quote(db["USER"] or "", safe="")
        if db.get("PASSWORD"):
            credentials += ":" + quote(db["PASSWORD"], safe="")
        return f"postgres://{credentials}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"
    raise RuntimeError(f"no worker database URL for the {connection.vendor} backend")


def worker_environment(settings):
    """The environment of the worker process: this test's database and settings."""
    env = dict(os.environ)
    env["DATABASE_URL"] = database_url()
    env["MIXADVICE_DATA_DIR"] = str(settings.DATA_DIR)
    env["PYTHONUNBUFFERED"] = "1"
    for name in dir(settings):
        if name.startswith("MIXADVICE_"):
            value = getattr(settings, name)
            if value is None:
                env.pop(name, None)
            else:
                env[name] = str(int(value)) if isinstance(value, bool) else str(value)
    return env


class QueueWorker:
    def __init__(self, process, log_path):
        self.process = process
        self.log_path = log_path

    @classmethod
    def start(cls, settings):
        log_path = Path(settings.DATA_DIR) / "qcluster.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "manage.py", "qcluster"],
                cwd=ROOT,
                env=worker_environment(settings),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return cls(process, log_path)

    def log(self):
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""

    def alive(self):
        return self.process.poll() is None

    def stop(self):
        """SIGTERM the cluster (it stops its processes cleanly), then SIGKILL whatever is left of its group."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=STOP_SECONDS)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
