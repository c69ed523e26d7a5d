"""Write a study's ratings (CSV and JSON, per the ratings contract) and playback events (CSV).

Rows come from :mod:`study.selectors`; files are written atomically through
:mod:`modelgen.contracts`, so an interrupted export never leaves half a file. Exports carry
pseudonyms, never participant codes or recruiter ids; simulated participants are left out
unless asked for.
"""

import csv
import io
import json
from pathlib import Path

from django.utils import timezone

from modelgen.contracts import RATINGS_COLUMNS, SCHEMA_VERSION, atomic_write, validate, write_ratings
from study.selectors import EVENT_COLUMNS, playback_events_for_export, ratings_for_export

RATINGS_CSV = "ratings.csv"
RATINGS_JSON = "ratings.json"
EVENTS_CSV = "events.csv"


def ratings_json_document(study, rows, *, include_simulated):
    """The JSON export: the contract's rows plus what was exported, when."""
    for number, row in enumerate(rows, start=1):
        validate("ratings", row, source=f"{study.slug} ratings row {number}")
    return {
        "schema_version": SCHEMA_VERSION,
        "study": study.slug,
        "exported_at": timezone.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
        "include_simulated": include_simulated,
        "columns": list(RATINGS_COLUMNS),
        "ratings": rows,
    }


def ratings_csv_text(study, *, include_simulated=False):
    """The long ratings CSV as text (validated against the contract, like the file export)."""
    import tempfile

    rows = ratings_for_export(study, include_simulated=include_simulated)
    with tempfile.TemporaryDirectory() as folder:
        path = write_ratings(Path(folder) / RATINGS_CSV, rows)
        return path.read_text(encoding="utf-8")


def ratings_json_text(study, *, include_simulated=False):
    rows = ratings_for_export(study, include_simulated=include_simulated)
    return json.dumps(ratings_json_document(study, rows, include_simulated=include_simulated), indent=1)


def events_csv_text(study, *, include_simulated=False):
    """The playback events as CSV text (``detail`` as JSON)."""
    handle = io.StringIO(newline="")
    _write_events(handle, playback_events_for_export(study, include_simulated=include_simulated))
    return handle.getvalue()


def _write_events(handle, rows):
    writer = csv.DictWriter(handle, fieldnames=list(EVENT_COLUMNS))
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {
                **row,
                "detail": json.dumps(row["detail"], sort_keys=True),
                "simulated": str(row["simulated"]).lower(),
            }
        )


def study_export_write(study, folder, *, include_simulated=False):
    """Write ``ratings.csv``, ``ratings.json`` and ``events.csv`` into ``folder``.

    Returns
    -------
    dict
        file name -> number of rows written.
    """
    folder = Path(folder)
    rows = ratings_for_export(study, include_simulated=include_simulated)
    write_ratings(folder / RATINGS_CSV, rows)
    document = ratings_json_document(study, rows, include_simulated=include_simulated)
    atomic_write(folder / RATINGS_JSON, lambda handle: json.dump(document, handle, indent=1))
    events = playback_events_for_export(study, include_simulated=include_simulated)
    atomic_write(folder / EVENTS_CSV, lambda handle: _write_events(handle, events))
    return {RATINGS_CSV: len(rows), RATINGS_JSON: len(rows), EVENTS_CSV: len(events)}
