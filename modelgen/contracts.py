"""The files the parts of MixAdvice hand each other: load, validate and write them.

Four contracts, each a versioned JSON Schema in ``docs/contracts/`` (described in
``docs/contracts.md``):

- ``manifest``: ``manifest.json`` of a dataset folder (the scenarios);
- ``advice``: one line of an advice JSONL file;
- ``ratings``: one row of the long ratings CSV export;
- ``dataset_record``: one line of ``train/valid/test.jsonl`` (chat format).

Every reader and writer in the project goes through this module, so a file that
one part writes is the file the next part accepts. Errors name the file, the line
and the field (``scenarios[3].anchor: ...``) and say how to fix the input.
Writers are atomic: they write a temporary file beside the target and rename it.
"""

import csv
import json
import os
import tempfile
from functools import cache
from pathlib import Path

SCHEMA_VERSION = "1.0"
SCHEMA_DIR = Path(__file__).resolve().parent.parent / "docs" / "contracts"
SCHEMA_FILES = {
    "manifest": "scenario-manifest.schema.json",
    "advice": "advice-record.schema.json",
    "ratings": "ratings-export.schema.json",
    "dataset_record": "dataset-record.schema.json",
}
DIMENSIONS = ("effectiveness", "musicality", "conventions", "actionability", "helpfulness")
KNOWN_SYSTEMS = ("finetuned", "base", "baseline", "ideal", "sham")
RATINGS_COLUMNS = (
    "schema_version",
    "study",
    "participant",
    "item",
    "scenario",
    "system",
    "dimension",
    "score",
    "submitted_at",
    "trial_position",
    "attention_flag",
    "simulated",
)
MAX_REPORTED_ERRORS = 10


class ContractError(ValueError):
    """A file or object does not follow its contract; ``errors`` lists each problem."""

    def __init__(self, source, errors):
        self.source = source
        self.errors = list(errors)
        shown = self.errors[:MAX_REPORTED_ERRORS]
        more = len(self.errors) - len(shown)
        lines = "\n".join(f"  - {error}" for error in shown)
        if more:
            lines += f"\n  - … and {more} more"
        super().__init__(f"{source} does not follow its contract:\n{lines}")


@cache
def schema(kind):
    """Return the parsed JSON Schema for ``kind`` (one of ``SCHEMA_FILES``)."""
    if kind not in SCHEMA_FILES:
        raise KeyError(f"unknown contract {kind!r}; expected one of {sorted(SCHEMA_FILES)}")
    return json.loads((SCHEMA_DIR / SCHEMA_FILES[kind]).read_text(encoding="utf-8"))


@cache
def _validator(kind):
    from jsonschema import Draft202012Validator, FormatChecker

    return Draft202012Validator(schema(kind), format_checker=FormatChecker())


def _path_name(parts):
    name = ""
    for part in parts:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name or "(top level)"


def schema_errors(kind, obj, prefix=""):
    """Return a list of ``"field: problem"`` strings; empty when ``obj`` is valid."""
    errors = []
    for error in sorted(_validator(kind).iter_errors(obj), key=lambda e: list(e.absolute_path)):
        where = _path_name(error.absolute_path)
        errors.append(f"{prefix}{where}: {error.message}")
    if not errors and isinstance(obj, dict):
        errors.extend(_version_errors(obj, prefix))
    if not errors and kind == "manifest":
        errors.extend(_manifest_semantic_errors(obj))
    return errors


def validate(kind, obj, *, source="input"):
    """Raise ``ContractError`` unless ``obj`` follows contract ``kind``; return ``obj``."""
    errors = schema_errors(kind, obj)
    if errors:
        raise ContractError(source, errors)
    return obj


def _version_errors(obj, prefix):
    version = str(obj.get("schema_version", ""))
    if version.split(".")[0] != SCHEMA_VERSION.split(".")[0]:
        return [
            f"{prefix}schema_version: {version!r} is not readable by this version "
            f"(expects {SCHEMA_VERSION}); rebuild the file with this version of MixAdvice"
        ]
    return []


def _manifest_semantic_errors(manifest):
    """Checks JSON Schema cannot express: cross-field consistency of each scenario."""
    errors = []
    seen = set()
    for index, scenario in enumerate(manifest["scenarios"]):
        at = f"scenarios[{index}]"
        stems = scenario["stems"]
        anchor = scenario["anchor"]
        if scenario["id"] in seen:
            errors.append(f"{at}.id: {scenario['id']!r} appears twice; scenario ids are unique")
        seen.add(scenario["id"])
        if anchor not in stems:
            errors.append(f"{at}.anchor: {anchor!r} is not one of the stems {stems}")
        elif stems[0] != anchor:
            errors.append(f"{at}.stems: the anchor {anchor!r} must come first in prompt order")
        if anchor in scenario["flawed"]:
            errors.append(f"{at}.flawed: the anchor {anchor!r} is never flawed")
        for name in scenario["flawed"]:
            if name not in stems:
                errors.append(f"{at}.flawed: {name!r} is not one of the stems {stems}")
        for field in ("gains_db", "corrections_db", "loudness_lufs"):
            if set(scenario[field]) != set(stems):
                errors.append(
                    f"{at}.{field}: keys {sorted(scenario[field])} differ from the stems {sorted(stems)}"
                )
        if scenario["gains_db"].get(anchor, 0) != 0:
            errors.append(f"{at}.gains_db: the anchor {anchor!r} must have offset 0")
        for name in stems:
            gain = scenario["gains_db"].get(name, 0)
            if (gain != 0) != (name in scenario["flawed"]):
                errors.append(
                    f"{at}.gains_db: {name!r} has offset {gain} but is "
                    f"{'' if name in scenario['flawed'] else 'not '}listed in flawed"
                )
        if set(scenario["audio"]["reference"]) != set(stems):
            errors.append(f"{at}.audio.reference: needs one file for each stem {sorted(stems)}")
    return errors


def _read_json(path):
    path = Path(path)
    if not path.is_file():
        raise ContractError(path, [f"file not found: {path}"])
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ContractError(path, [f"not valid JSON: {error}"]) from None


def load_manifest(path):
    """Read and validate a scenario manifest (a ``manifest.json`` or its folder)."""
    path = Path(path)
    if path.is_dir():
        path = path / "manifest.json"
    if not path.is_file():
        raise ContractError(
            path,
            [f"file not found: {path} (pass a dataset folder holding manifest.json, or the manifest itself)"],
        )
    return validate("manifest", _read_json(path), source=path)


def iter_jsonl(kind, path):
    """Yield validated records of a JSONL file, naming the line of any problem."""
    path = Path(path)
    if not path.is_file():
        raise ContractError(path, [f"file not found: {path}"])
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise ContractError(path, [f"line {number}: not valid JSON: {error}"]) from None
            errors = schema_errors(kind, record, prefix=f"line {number}: ")
            if errors:
                raise ContractError(path, errors)
            yield record


def load_advice(path):
    """Return every advice record of a JSONL file, validated."""
    return list(iter_jsonl("advice", path))


def load_dataset_records(path):
    """Return every chat record of a ``train/valid/test.jsonl`` file, validated."""
    return list(iter_jsonl("dataset_record", path))


_TRUE = {"1", "true", "yes"}
_FALSE = {"0", "false", "no", ""}


def _ratings_row(raw, number):
    row = dict(raw)
    errors = []
    for field in ("score", "trial_position"):
        value = (row.get(field) or "").strip()
        if value == "" and field == "trial_position":
            row[field] = None
            continue
        try:
            row[field] = int(value)
        except ValueError:
            errors.append(f"row {number}: {field}: {value!r} is not an integer")
    for field in ("attention_flag", "simulated"):
        value = (row.get(field) or "").strip().lower()
        if value in _TRUE:
            row[field] = True
        elif value in _FALSE:
            row[field] = False
        else:
            errors.append(f"row {number}: {field}: {value!r} is not true/false")
    return row, errors


def load_ratings(path):
    """Read and validate a long ratings CSV; return a list of row dicts with typed values."""
    path = Path(path)
    if not path.is_file():
        raise ContractError(path, [f"file not found: {path}"])
    rows, errors = [], []
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in RATINGS_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ContractError(path, [f"header: missing columns {missing}"])
        for number, raw in enumerate(reader, start=2):
            row, row_errors = _ratings_row(raw, number)
            row_errors = row_errors or schema_errors("ratings", row, prefix=f"row {number}: ")
            errors.extend(row_errors)
            rows.append(row)
            if len(errors) > MAX_REPORTED_ERRORS:
                break
    if errors:
        raise ContractError(path, errors)
    return rows


def atomic_write(path, write, *, mode="w"):
    """Call ``write(handle)`` on a temporary file beside ``path``, then rename it into place.

    An interrupted or failing write leaves the previous file (or none) behind, never half a
    file. ``mode`` is ``"w"`` for text (UTF-8) or ``"wb"`` for bytes. Returns the path.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    try:
        text = {"encoding": "utf-8", "newline": ""} if "b" not in mode else {}
        with os.fdopen(descriptor, mode, **text) as handle:
            write(handle)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def write_manifest(path, manifest):
    """Validate and atomically write a manifest; return its path."""
    validate("manifest", manifest, source=path)
    return atomic_write(path, lambda h: json.dump(manifest, h, indent=1, sort_keys=False))


def write_jsonl(kind, path, records):
    """Validate every record, then atomically write them as JSONL; return the path."""
    records = list(records)
    errors = []
    for number, record in enumerate(records, start=1):
        errors.extend(schema_errors(kind, record, prefix=f"record {number}: "))
    if errors:
        raise ContractError(path, errors)

    def write(handle):
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")

    return atomic_write(path, write)


def write_ratings(path, rows):
    """Validate and atomically write long-format ratings rows as CSV; return the path."""
    rows = [{"study": "", "trial_position": None, **row} for row in rows]
    errors = []
    for number, row in enumerate(rows, start=2):
        errors.extend(schema_errors("ratings", row, prefix=f"row {number}: "))
    if errors:
        raise ContractError(path, errors)

    def write(handle):
        extra = sorted({key for row in rows for key in row} - set(RATINGS_COLUMNS))
        writer = csv.DictWriter(handle, fieldnames=[*RATINGS_COLUMNS, *extra])
        writer.writeheader()
        for row in rows:
            writer.writerow(
                {
                    k: ("" if v is None else str(v).lower() if isinstance(v, bool) else v)
                    for k, v in row.items()
                }
            )

    return atomic_write(path, write)
