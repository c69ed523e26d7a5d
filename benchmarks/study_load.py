"""Load test of the participant API on gunicorn and PostgreSQL, against a trivial view.

Starts gunicorn (2 workers, production settings) on 127.0.0.1 against the PostgreSQL in
``DATABASE_URL`` (use ``.ci/with-postgres``, which starts a throwaway one), imports a study
through ``import_study``'s function with real audio, starts simulated participants through the
services, and measures ``unloaded`` latency first (one client, one request at a time, 3 s on the
trivial view and 3 s on the participant hot path), then each phase for ``--seconds``:

1. ``ping``: ``--participants`` concurrent clients in a closed loop on a trivial Django view;
2. ``capacity``: the same number of simulated participants in a closed loop doing what the
   trial page does for each trial, with no pause: load the trial page's HTML, its state (GET),
   post one batch of ``--events`` playback events, and submit five ratings (POST);
3. ``paced``: the same participants pausing ``--think`` seconds (± 50 %, at random) between
   trials' requests — a real listener spends 20 s or more per trial, so this is about ten times
   busier — where latency is mostly service time, not queueing.

``ping`` and ``capacity`` run interleaved in ``--rounds`` rounds (each ``--seconds / --rounds``
long), so that a change in the machine's other load during the run hits both alike; the
ratio is their summed throughputs'. It prints the load average before and after, p50/p95
latencies per request kind, throughputs and the capacity/ping ratio, the trial page's weight
(HTML, scripts, styles, and the stems of one trial), and then counts in the database that every
acknowledged submission has exactly five ratings (none lost, none duplicated).

Run: ``.ci/with-postgres .venv/bin/python benchmarks/study_load.py [--participants 50]
[--seconds 30] [--rounds 3] [--think 2] [--threads 1] [--events 20]``
"""

import argparse
import json
import os
import random
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CSRF = "b" * 32
SCENARIO_TEMPLATE = ROOT / "fixtures" / "contracts" / "manifest.example.json"
SYSTEMS = ("finetuned", "base", "baseline", "ideal", "sham")


def server_environment(data_dir):
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_SESSION_COOKIE_SECURE": "0",
        "DJANGO_CSRF_COOKIE_SECURE": "0",
        "DJANGO_SECURE_HSTS_SECONDS": "0",
        "DJANGO_LOG_LEVEL": "WARNING",
        "MIXADVICE_DATA_DIR": str(data_dir),
    }


def dataset_write(folder, scenarios, seconds):
    """A dataset of ``scenarios`` that share one set of four real stems, and advice from five systems."""
    import numpy as np
    import soundfile as sf

    from modelgen.contracts import write_jsonl, write_manifest

    rate = 44_100
    frames = int(seconds * rate)
    rng = np.random.default_rng(11)
    t = np.arange(frames) / rate
    template = json.loads(SCENARIO_TEMPLATE.read_text())
    base = template["scenarios"][1]
    audio = {}
    for index, stem in enumerate(base["stems"]):
        relative = f"audio/shared/{stem}.flac"
        signal_ = 0.08 * np.sin(2 * np.pi * 110 * (index + 1) * t) * (1 + 0.3 * np.sin(2 * np.pi * 2 * t))
        signal_ = signal_ + 0.01 * rng.standard_normal(frames)
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        sf.write(folder / relative, np.stack([signal_, signal_], axis=1).astype("float32"), rate)
        audio[stem] = relative
    manifest = {**template, "scenarios": []}
    advice = []
    for number in range(scenarios):
        scenario_id = f"load-{number:04d}"
        manifest["scenarios"].append(
            {
                **base,
                "id": scenario_id,
                "song": f"Synthetic - Load {number:04d}",
                "segment_seconds": seconds,
                "audio": {**base["audio"], "reference": audio},
            }
        )
        for system in SYSTEMS:
            sign = 1 if system == "sham" else -1
            advice.append(
                {
                    "schema_version": "1.0",
                    "scenario_id": scenario_id,
                    "system": system,
                    "text": f"Move the bass by {sign * 8} dB and the other instruments by {-sign * 3.5} dB.",
                    "corrections_db": {"bass": sign * 8.0, "other": -sign * 3.5},
                    "generator": {
                        "model": "benchmark",
                        "adapter_sha256": None,
                        "prompt_sha256": None,
                        "decoding": {},
                    },
                    "created": "2026-11-29T10:00:00Z",
                }
            )
    write_manifest(folder / "manifest.json", manifest)
    write_jsonl("advice", folder / "advice.jsonl", advice)


def study_prepare(data_dir, *, participants, trials, audio_seconds):
    """Import a study and start ``participants`` through the services; return their sessions."""
    from django.contrib.sessions.backends.db import SessionStore

    from study import services
    from study.importing import study_import
    from study.permissions import SESSION_KEY

    dataset = data_dir / "dataset"
    dataset_write(dataset, trials + 2, audio_seconds)
    summary = study_import(
        dataset=dataset, advice_files=[dataset / "advice.jsonl"], slug="load", title="Load"
    )
    study = summary.study
    study.trials_per_participant = trials
    study.min_listening_seconds = 1
    study.save()
    services.consent_document_publish(document=study.consent_documents.get())
    services.study_open(study=study)
    document = study.consent_documents.get()
    sessions = []
    for number in range(participants):
        participant = services.participant_start(study=study, external_ids={"PROLIFIC_PID": f"load-{number}"})
        services.consent_record(
            participant=participant,
            document=document,
            answers={str(i): True for i in range(len(document.statements))},
        )
        services.background_record(
            participant=participant, answers={"years_mixing": 5, "hearing_issues": "no"}
        )
        services.screening_record(
            participant=participant,
            responses=[{"trial": i, "correct": True} for i in range(study.screening_trials)],
        )
        trials_ = services.trials_assign(participant=participant)
        store = SessionStore()
        store[SESSION_KEY] = participant.code
        store.create()
        sessions.append({"code": participant.code, "session": store.session_key, "first": trials_[0].pk})
    return study, sessions


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def percentile(values, q):
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


class Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.latencies = {}
        self.errors = []
        self.acknowledged = set()
        self.retries = 0

    def record(self, kind, seconds):
        with self.lock:
            self.latencies.setdefault(kind, []).append(seconds)


def client(session_cookie=None):
    import requests

    http = requests.Session()
    http.cookies.set("csrftoken", CSRF)
    if session_cookie:
        http.cookies.set("sessionid", session_cookie)
    http.headers.update({"X-CSRFToken": CSRF, "Accept": "application/json"})
    return http


def timed(recorder, kind, send, attempts=3):
    """Send one request, retrying a dropped connection (the trial page retries the same way)."""
    import requests

    for attempt in range(attempts):
        began = time.perf_counter()
        try:
            response = send()
        except requests.RequestException as error:
            with recorder.lock:
                recorder.retries += 1
            if attempt == attempts - 1:
                recorder.errors.append(f"{kind}: {error}")
                return None
            continue
        recorder.record(kind, time.perf_counter() - began)
        return response
    return None


def run_ping(base, clients, seconds, recorder):
    deadline = time.perf_counter() + seconds

    def loop():
        http = client()
        while time.perf_counter() < deadline:
            response = timed(recorder, "ping", lambda: http.get(f"{base}/bench/ping/", timeout=30))
            if response is None or response.status_code != 200:
                recorder.errors.append(f"ping {getattr(response, 'status_code', 'no answer')}")
                return

    _threads(loop, [()] * clients)


def _answered(recorder, kind, response, expected):
    if response is None or response.status_code != expected:
        recorder.errors.append(f"{kind} {getattr(response, 'status_code', 'no answer')}")
        return False
    return True


def run_participants(base, sessions, seconds, recorder, *, think, events):
    deadline = time.perf_counter() + seconds
    ratings = dict.fromkeys(("effectiveness", "musicality", "conventions", "actionability", "helpfulness"), 3)
    batch = {
        "events": [
            {"kind": "play", "state": "as_given", "audio_time": 0.1 * n, "client_time": 1000.0 + n}
            for n in range(events)
        ]
    }

    def loop(session):
        http = client(session["session"])
        pause = random.Random(session["code"])
        time.sleep(pause.uniform(0, think))
        trial = session.get("next", session["first"])
        page = f"{base}/study/p/{session['code']}/trial/"
        while trial is not None and time.perf_counter() < deadline:
            response = timed(recorder, "page", lambda: http.get(page, timeout=30, allow_redirects=False))
            if not _answered(recorder, "page", response, 200):
                return
            url = f"{base}/api/participants/{session['code']}/trials/{trial}/"
            response = timed(recorder, "state", lambda url=url: http.get(url, timeout=30))
            if not _answered(recorder, "state", response, 200):
                return
            state = response.json()
            if events:
                response = timed(
                    recorder, "events", lambda url=url: http.post(f"{url}events/", json=batch, timeout=30)
                )
                if not _answered(recorder, "events", response, 201):
                    return
            time.sleep(pause.uniform(0.5, 1.5) * think)
            score = state["instructed_response"]
            body = {
                "ratings": dict.fromkeys(ratings, score) if score else ratings,
                "feedback": "load test",
                "listened_seconds": 2.0,
            }
            response = timed(
                recorder,
                "submit",
                lambda url=url, body=body: http.post(f"{url}submit/", json=body, timeout=30),
            )
            if not _answered(recorder, "submit", response, 200):
                return
            with recorder.lock:
                recorder.acknowledged.add(trial)
            trial = response.json()["next_trial"]
            session["next"] = trial
            time.sleep(pause.uniform(0.5, 1.5) * think)

    _threads(loop, [(session,) for session in sessions])


def _threads(target, arguments):
    threads = [threading.Thread(target=target, args=args) for args in arguments]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def page_weight(base, session):
    """Bytes of the trial page: HTML, its scripts and styles, and the stems of the trial."""
    http = client(session["session"])
    html = http.get(f"{base}/study/p/{session['code']}/trial/", timeout=30)
    if html.status_code != 200:
        return {"error": f"trial page answered {html.status_code}"}
    assets = re.findall(r'(?:src|href)="(/static/[^"]+\.(?:js|css))"', html.text)
    asset_bytes = sum(len(http.get(f"{base}{asset}", timeout=30).content) for asset in set(assets))
    state = http.get(
        f"{base}/api/participants/{session['code']}/trials/{session['next']}/", timeout=30
    ).json()
    stems = [http.get(f"{base}{stem['url']}", timeout=60) for stem in state["stems"]]
    return {
        "html_bytes": len(html.content),
        "script_style_bytes": asset_bytes,
        "assets": len(set(assets)),
        "stem_bytes": sum(len(r.content) for r in stems),
        "stems": len(stems),
        "stem_cache_control": stems[0].headers.get("Cache-Control", "") if stems else "",
        "stem_accepts_ranges": stems[0].headers.get("Accept-Ranges", "") if stems else "",
    }


def integrity(study, acknowledged):
    from django.db.models import Count

    from study.models import Rating, Trial

    submitted = set(
        Trial.objects.filter(participant__study=study, state=Trial.State.SUBMITTED).values_list(
            "pk", flat=True
        )
    )
    per_trial = dict(
        Rating.objects.filter(trial__participant__study=study)
        .values_list("trial")
        .annotate(n=Count("pk"))
        .values_list("trial", "n")
    )
    duplicated = (
        Rating.objects.filter(trial__participant__study=study)
        .values("trial", "dimension")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .count()
    )
    lost = [pk for pk in acknowledged if per_trial.get(pk) != 5 or pk not in submitted]
    return {
        "acknowledged_submits": len(acknowledged),
        "submitted_trials_in_db": len(submitted),
        "ratings_in_db": sum(per_trial.values()),
        "lost": len(lost),
        "duplicated": duplicated,
    }


def summary(name, recorder, seconds, *, rate=True):
    out = {}
    for kind, values in sorted(recorder.latencies.items()):
        out[kind] = {
            "requests": len(values),
            "per_second": len(values) / seconds,
            "p50_ms": 1000 * statistics.median(values),
            "p95_ms": 1000 * percentile(values, 95),
        }
    total = sum(len(v) for v in recorder.latencies.values())
    print(
        f"{name:9s} "
        + (f"{total / seconds:8.1f} req/s  " if rate else " " * 15)
        + "  ".join(
            f"{kind}: n={v['requests']} p50={v['p50_ms']:.1f} ms p95={v['p95_ms']:.1f} ms"
            for kind, v in out.items()
        )
    )
    return total / seconds, out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=50, help="concurrent simulated participants")
    parser.add_argument("--seconds", type=float, default=30.0, help="length of each phase")
    parser.add_argument(
        "--rounds", type=int, default=3, help="ping and capacity alternate in this many rounds"
    )
    parser.add_argument("--events", type=int, default=20, help="playback events posted per trial (0: none)")
    parser.add_argument(
        "--think", type=float, default=2.0, help="pause between requests in the paced phase (s)"
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=1, help="threads per worker (>1 uses gthread workers)")
    parser.add_argument("--trials", type=int, default=100, help="rated trials per participant")
    args = parser.parse_args()
    if args.rounds < 1 or args.seconds <= 0:
        sys.exit("--rounds must be at least 1 and --seconds positive.")
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("DATABASE_URL must name a PostgreSQL database: run under .ci/with-postgres.")

    with tempfile.TemporaryDirectory(prefix="mixadvice-load-") as temporary:
        data_dir = Path(temporary)
        environment = server_environment(data_dir)
        os.environ.update(environment)
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        call_command("collectstatic", verbosity=0, interactive=False)
        began = time.perf_counter()
        study, [solo, *sessions] = study_prepare(
            data_dir, participants=args.participants + 1, trials=args.trials, audio_seconds=10
        )
        print(
            f"setup: {len(sessions)} participants x {args.trials + 2} trials in {time.perf_counter() - began:.1f} s"
        )

        from django.db import connections

        connections.close_all()
        port = free_port()
        server = subprocess.Popen(
            [
                str(ROOT / ".venv" / "bin" / "gunicorn"),
                "benchmarks.study_load_server:application",
                "--workers",
                str(args.workers),
                "--threads",
                str(args.threads),
                "--bind",
                f"127.0.0.1:{port}",
                "--backlog",
                "256",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=environment,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            import requests

            for _ in range(120):
                try:
                    if requests.get(f"{base}/bench/ping/", timeout=5).status_code == 200:
                        break
                except requests.RequestException:
                    time.sleep(0.5)
            else:
                sys.exit("gunicorn did not answer within a minute")
            for _ in range(args.workers * 4):
                requests.get(f"{base}/bench/ping/", timeout=30)
            print(
                f"gunicorn: {args.workers} workers x {args.threads} threads; {args.participants} concurrent "
                f"clients; {args.seconds:.0f} s per phase, ping and capacity in {args.rounds} rounds; "
                f"{args.events} events per trial; {os.cpu_count()} CPUs, load average "
                + " ".join(f"{load:.2f}" for load in os.getloadavg())
            )
            unloaded = Recorder()
            run_ping(base, 1, min(args.seconds, 3.0), unloaded)
            run_participants(base, [solo], min(args.seconds, 3.0), unloaded, think=0.0, events=args.events)
            summary("unloaded", unloaded, min(args.seconds, 3.0), rate=False)
            ping, capacity = Recorder(), Recorder()
            for _ in range(args.rounds):
                run_ping(base, args.participants, args.seconds / args.rounds, ping)
                run_participants(
                    base, sessions, args.seconds / args.rounds, capacity, think=0.0, events=args.events
                )
            ping_rate, _ = summary("ping", ping, args.seconds)
            capacity_rate, _ = summary("capacity", capacity, args.seconds)
            paced = Recorder()
            run_participants(base, sessions, args.seconds, paced, think=args.think, events=args.events)
            summary(f"paced {args.think:g}s", paced, args.seconds)
            weight = page_weight(base, next(s for s in sessions if s.get("next", s["first"]) is not None))
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)

        errors = unloaded.errors + ping.errors + capacity.errors + paced.errors
        print(f"ratio capacity/ping throughput: {capacity_rate / ping_rate:.2f} (target >= 0.5)")
        print(f"trial page weight: {json.dumps(weight)}")
        checked = integrity(study, unloaded.acknowledged | capacity.acknowledged | paced.acknowledged)
        print(f"integrity: {json.dumps(checked)}")
        retries = unloaded.retries + ping.retries + capacity.retries + paced.retries
        print(f"errors: {len(errors)} {errors[:5]}; dropped connections retried: {retries}")
        print("load average after: " + " ".join(f"{load:.2f}" for load in os.getloadavg()))
        if errors or checked["lost"] or checked["duplicated"]:
            sys.exit(1)


if __name__ == "__main__":
    main()
