"""Import a dataset's scenarios and advice records into a study as items (scenario × system).

Only scenarios that some advice file names are imported. Everything is validated before the
database is touched: the manifest and advice files through :mod:`modelgen.contracts`, that every
advice names a scenario of the manifest and a stem of that scenario, that each (scenario,
system) appears once, and that each stem's audio file exists and decodes. Loudness-matching
master gains for the three listening states are computed here (BS.1770 via
:mod:`modelgen.audio`), so the trial page only applies them.

Rerunning the same import creates nothing: rows that exist with the same content are counted
as unchanged. A changed row is updated only while nobody has been assigned it.
"""

import math
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import transaction

from modelgen.contracts import load_advice, load_manifest
from modelgen.corrections import item_error
from study.models import AdviceItem, ConsentDocument, Scenario, Study

DEFAULT_CONSENT_TEXT = """# Consent to take part in a listening study

**This is a placeholder. Replace it with the text your ethics board (IRB) approved, set the
protocol number, then publish this version in the admin.**

- **What you will do:** listen to short music excerpts on headphones and rate written mixing
  advice on five scales, then answer a few questions about your work. About 30 minutes.
- **What we store:** your answers and ratings, how you used the player, and the recruiter's
  participant id (kept apart from the research data and never exported).
- **Withdrawal:** you may stop and withdraw at any time with the link on every page; your
  ratings, comments and player log are then deleted.
- **Contact:** the research team, and the ethics board under the protocol number above.
"""
DEFAULT_CONSENT_STATEMENTS = [
    "I have read and understood the information above.",
    "I am 18 years or older.",
    "I agree to take part and know I can withdraw at any time.",
]


class StudyImportError(ValueError):
    """The dataset or advice files cannot be imported; the message lists what to fix."""


@dataclass
class ImportSummary:
    study: Study
    study_created: bool = False
    created: dict = field(default_factory=lambda: {"scenario": 0, "item": 0})
    updated: dict = field(default_factory=lambda: {"scenario": 0, "item": 0})
    unchanged: dict = field(default_factory=lambda: {"scenario": 0, "item": 0})
    consent_created: bool = False

    def line(self):
        return (
            f"study {self.study.slug!r} ({'created' if self.study_created else 'existing'}): "
            f"scenarios {self.created['scenario']} created, {self.updated['scenario']} updated, "
            f"{self.unchanged['scenario']} unchanged; items {self.created['item']} created, "
            f"{self.updated['item']} updated, {self.unchanged['item']} unchanged"
            + ("; draft consent created (edit and publish it in the admin)" if self.consent_created else "")
        )


def _dataset_dir_stored(dataset):
    """Store the dataset folder relative to DATA_DIR when it lies inside it, else absolute."""
    dataset = Path(dataset).resolve()
    data_dir = Path(settings.DATA_DIR).resolve()
    return str(dataset.relative_to(data_dir)) if dataset.is_relative_to(data_dir) else str(dataset)


def advice_collect(advice_files, scenarios):
    """Load every advice file; return ``{(scenario_id, system): record}`` or raise listing problems."""
    records, errors = {}, []
    for path in advice_files:
        for number, record in enumerate(load_advice(path), start=1):
            where = f"{path} record {number}"
            key = (record["scenario_id"], record["system"])
            scenario = scenarios.get(record["scenario_id"])
            if scenario is None:
                errors.append(f"{where}: scenario {record['scenario_id']!r} is not in the dataset's manifest")
                continue
            unknown = sorted(set(record["corrections_db"]) - set(scenario["stems"]))
            if unknown:
                errors.append(f"{where}: corrections for {unknown}, which are not stems of {key[0]}")
            if key in records:
                errors.append(f"{where}: a second {key[1]!r} advice for scenario {key[0]!r}")
            records[key] = record
    if not records and not errors:
        errors.append("the advice files hold no records")
    if errors:
        raise StudyImportError("Cannot import:\n" + "\n".join(f"  - {error}" for error in errors[:20]))
    return records


def master_gains_db(dataset, scenario, advice_corrections):
    """Loudness-matching master gains (dB) of each state for each advice of one scenario.

    Returns ``{system: {"as_given": dB, "advice_applied": dB, "reference": dB}}``. The three
    mixes of each item are matched to the quietest of them (BS.1770 integrated loudness), so
    switching never makes one louder and louder never wins.
    """
    from modelgen.audio import AudioError, load_audio, loudness_match_gains, mix

    stems, rates = {}, set()
    for stem in scenario["stems"]:
        path = Path(dataset) / scenario["audio"]["reference"][stem]
        try:
            stems[stem], rate = load_audio(path)
        except (FileNotFoundError, AudioError) as error:
            raise StudyImportError(f"scenario {scenario['id']}: {error}") from None
        rates.add(rate)
    if len(rates) != 1:
        raise StudyImportError(
            f"scenario {scenario['id']}: stems have different sample rates {sorted(rates)}"
        )
    rate = rates.pop()
    gains = {stem: float(scenario["gains_db"][stem]) for stem in scenario["stems"]}
    try:
        as_given = mix(stems, gains)
        reference = mix(stems)
        result = {}
        for system, corrections in advice_corrections.items():
            applied = {stem: gains[stem] + float(corrections.get(stem, 0.0)) for stem in scenario["stems"]}
            matched = loudness_match_gains(
                {"as_given": as_given, "advice_applied": mix(stems, applied), "reference": reference}, rate
            )
            result[system] = {name: float(value) for name, value in matched.items()}
    except AudioError as error:
        raise StudyImportError(f"scenario {scenario['id']}: {error}") from None
    return result


def _scenario_fields(scenario):
    audio = scenario["audio"]
    hashes = audio.get("sha256", {})
    return {
        "song": scenario["song"],
        "genre": scenario.get("genre", ""),
        "split": scenario["split"],
        "anchor": scenario["anchor"],
        "stems": list(scenario["stems"]),
        "gains_db": scenario["gains_db"],
        "corrections_db": scenario["corrections_db"],
        "intensity": scenario.get("intensity", {}),
        "loudness_lufs": scenario.get("loudness_lufs", {}),
        "segment_seconds": scenario["segment_seconds"],
        "audio": dict(audio["reference"]),
        "audio_sha256": {path: hashes[path] for path in audio["reference"].values() if path in hashes},
    }


def _item_fields(scenario, record, master_gain_db):
    error = item_error(scenario["corrections_db"], record["corrections_db"], anchor=scenario["anchor"])
    return {
        "text": record["text"],
        "corrections_db": record["corrections_db"],
        "generator": record.get("generator", {}),
        "direction_accuracy": error["direction_accuracy"],
        "all_directions_correct": error["all_directions_correct"],
        "intensity_accuracy": error["intensity_accuracy"],
        "mean_abs_error_db": error["mean_abs_error_db"],
        "is_attention_check": record["system"] == "sham",
        "master_gain_db": master_gain_db,
    }


def _same(row, fields):
    for name, value in fields.items():
        stored = getattr(row, name)
        if isinstance(value, float) and isinstance(stored, float):
            if not math.isclose(stored, value, abs_tol=1e-9):
                return False
        elif stored != value:
            return False
    return True


def _upsert(model, lookup, fields, summary, kind, *, in_use):
    row = model.objects.filter(**lookup).first()
    if row is None:
        summary.created[kind] += 1
        return model.objects.create(**lookup, **fields)
    if _same(row, fields):
        summary.unchanged[kind] += 1
        return row
    if in_use(row):
        raise StudyImportError(
            f"{kind} {lookup} changed but participants were already assigned it; "
            "import the new version into a new study (--slug)."
        )
    for name, value in fields.items():
        setattr(row, name, value)
    row.save()
    summary.updated[kind] += 1
    return row


def study_import(*, dataset, advice_files, slug, title=None, actor=None, progress=False):
    """Validate and import; return an :class:`ImportSummary` (idempotent)."""
    from tqdm import tqdm

    from study.services import audit_log_record

    dataset = Path(dataset)
    manifest = load_manifest(dataset)
    scenarios = {scenario["id"]: scenario for scenario in manifest["scenarios"]}
    records = advice_collect(advice_files, scenarios)
    used = sorted({scenario_id for scenario_id, _ in records})
    gains = {}
    for scenario_id in tqdm(used, desc="loudness matching", unit="scenario", disable=not progress):
        corrections = {
            system: r["corrections_db"] for (sid, system), r in records.items() if sid == scenario_id
        }
        gains[scenario_id] = master_gains_db(dataset, scenarios[scenario_id], corrections)

    with transaction.atomic():
        study, study_created = Study.objects.get_or_create(
            slug=slug, defaults={"title": title or slug, "dataset_dir": _dataset_dir_stored(dataset)}
        )
        if not study_created and study.dataset_dir != _dataset_dir_stored(dataset):
            raise StudyImportError(
                f"study {slug!r} reads audio from {study.dataset_dir}, not {dataset}; use another --slug."
            )
        summary = ImportSummary(study=study, study_created=study_created)
        for scenario_id in used:
            scenario = scenarios[scenario_id]
            row = _upsert(
                Scenario,
                {"study": study, "scenario_id": scenario_id},
                _scenario_fields(scenario),
                summary,
                "scenario",
                in_use=lambda r: AdviceItem.objects.filter(scenario=r, trials__isnull=False).exists(),
            )
            for (sid, system), record in sorted(records.items()):
                if sid != scenario_id:
                    continue
                _upsert(
                    AdviceItem,
                    {"scenario": row, "system": system},
                    _item_fields(scenario, record, gains[scenario_id][system]),
                    summary,
                    "item",
                    in_use=lambda r: r.trials.exists(),
                )
        if not study.consent_documents.exists():
            ConsentDocument.objects.create(
                study=study, version=1, text=DEFAULT_CONSENT_TEXT, statements=list(DEFAULT_CONSENT_STATEMENTS)
            )
            summary.consent_created = True
        if (
            summary.created["item"]
            or summary.updated["item"]
            or summary.created["scenario"]
            or summary.updated["scenario"]
        ):
            audit_log_record(
                actor=actor,
                action="import_study",
                target=slug,
                details={
                    "dataset": str(dataset),
                    "advice": [str(p) for p in advice_files],
                    "created": summary.created,
                    "updated": summary.updated,
                },
            )
    return summary
