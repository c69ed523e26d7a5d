"""Which advisor answers the advisor page, and how it is asked about one set of stems.

Two advisors (``AdvisorJob.Advisor``):

- ``finetuned``: Qwen2-Audio with the LoRA adapter of ``MIXADVICE_ADVISOR_ADAPTER`` on the base
  model of ``MIXADVICE_ADVISOR_MODEL`` (default ``Qwen/Qwen2-Audio-7B-Instruct``, a local folder or
  a cached hub id), through :mod:`modelgen.generate`'s model advisor; offered only when an
  adapter is configured. The model is loaded once per worker process.
- ``baseline``: the loudness rules of :mod:`modelgen.baseline` with the genre norms of
  ``MIXADVICE_ADVISOR_NORMS``, or of the demo dataset's ``norms.json``.

Both hear the same excerpt: the loudest window of ``MIXADVICE_ADVISOR_CLIP_SECONDS`` of the mix
(the whole song when shorter), as 16 kHz mono clips in prompt order, exactly as the dataset's
model inputs are made; the baseline measures its levels on those clips, as in
:func:`modelgen.generate.measured_levels`. Whatever the advisor, the corrections are parsed
from the text by :mod:`modelgen.advice_parse`, as for every system of the study.
"""

import time
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from modelgen.audio import MODEL_SAMPLE_RATE, integrated_loudness, mix, to_model_input
from modelgen.corrections import prompt_order

NORMS_FILE = "norms.json"
_LOADED_MODELS = {}


class AdvisorError(RuntimeError):
    """The advisor cannot answer (not configured, or the stems defeat it); the message says why."""


@dataclass(frozen=True)
class AdviceResult:
    text: str
    corrections_db: dict
    levels_lufs: dict
    generator: dict
    notices: tuple = ()


def demo_dataset_dir():
    """The demo dataset folder: ``MIXADVICE_ADVISOR_DEMO_DATASET`` or ``DATA_DIR/demo/dataset``."""
    from django.conf import settings

    configured = settings.MIXADVICE_ADVISOR_DEMO_DATASET
    return Path(configured) if configured else Path(settings.DATA_DIR) / "demo" / "dataset"


def norms_path():
    """The genre norms file the baseline uses, or ``None`` when there is none."""
    from django.conf import settings

    if settings.MIXADVICE_ADVISOR_NORMS:
        return Path(settings.MIXADVICE_ADVISOR_NORMS)
    path = demo_dataset_dir() / NORMS_FILE
    return path if path.is_file() else None


def finetuned_configured():
    from django.conf import settings

    return bool(settings.MIXADVICE_ADVISOR_ADAPTER)


def available_advisors():
    """``[(value, label), ...]`` of the advisors this server offers, the preferred one first."""
    from modelgen.models import AdvisorJob

    choices = []
    if finetuned_configured():
        choices.append((AdvisorJob.Advisor.FINETUNED.value, AdvisorJob.Advisor.FINETUNED.label))
    if norms_path() is not None:
        choices.append((AdvisorJob.Advisor.BASELINE.value, AdvisorJob.Advisor.BASELINE.label))
    return choices


def load_norms():
    """The baseline's :class:`modelgen.baseline.GenreNorms` (``{"norms": ...}`` or the bare dict)."""
    from modelgen.baseline import GenreNorms

    path = norms_path()
    if path is None or not path.is_file():
        raise AdvisorError(
            "The loudness baseline needs genre norms: set MIXADVICE_ADVISOR_NORMS to a norms.json "
            "written by the dataset build, or build the demo dataset (make demo)."
        )
    try:
        return GenreNorms.read(path)
    except ValueError as error:
        raise AdvisorError(f"{path} is not a genre norms file: {error}") from None


def genres():
    """Genre names the norms know (for the genre menu); empty when there are no norms."""
    path = norms_path()
    if path is None or not path.is_file():
        return []
    try:
        norms = load_norms()
    except AdvisorError:
        return []
    return sorted({key.split("|")[0] for key in norms.by_genre})


def excerpt_bounds(stems, sample_rate, seconds):
    """``(start, stop)`` frames of the loudest ``seconds`` of the mix (whole stems when shorter)."""
    total = mix(stems)
    frames = total.shape[0]
    window = int(round(seconds * sample_rate))
    if frames <= window:
        return 0, frames
    hop = max(1, sample_rate // 2)
    energy = np.cumsum(np.concatenate(([0.0], np.einsum("ij,ij->i", total, total, dtype=np.float64))))
    starts = np.arange(0, frames - window + 1, hop)
    best = int(starts[np.argmax(energy[starts + window] - energy[starts])])
    return best, best + window


def model_clips(stems, sample_rate, *, anchor, seconds):
    """16 kHz mono clips of the loudest excerpt in prompt order: ``(order, {role: clip})``."""
    start, stop = excerpt_bounds(stems, sample_rate, seconds)
    order = prompt_order(anchor, list(stems))
    return order, {role: to_model_input(stems[role][start:stop], sample_rate) for role in order}


def _rng(seed, text):
    return np.random.default_rng([seed, zlib.crc32(text.encode())])


def _judged_stems(norms, *, anchor, order, genre):
    """Split the non-anchor stems into those the norms know against the anchor and those they do not."""
    known, unknown = [anchor], []
    for stem in order[1:]:
        try:
            norms.offset(genre=genre, anchor=anchor, stem=stem)
        except KeyError:
            unknown.append(stem)
        else:
            known.append(stem)
    return known, unknown


def _baseline(*, anchor, order, levels, genre, seed):
    from modelgen.baseline import baseline_advice

    norms = load_norms()
    known, unknown = _judged_stems(norms, anchor=anchor, order=order, genre=genre or "")
    if len(known) < 2:
        raise AdvisorError(
            f"The loudness baseline's genre norms know no balance against the {anchor} as anchor "
            f"(they were fitted on songs without it): choose another anchor."
        )
    try:
        advice = baseline_advice(
            anchor=anchor,
            stems=known,
            levels_lufs={stem: levels[stem] for stem in known},
            genre=genre or "",
            norms=norms,
            rng=_rng(seed, anchor + "|".join(order)),
        )
    except ValueError as error:
        raise AdvisorError(f"The loudness baseline cannot judge these stems: {error}") from None
    notices = [
        f"The loudness baseline's genre norms know no balance of the {stem} against the {anchor}: "
        f"it says nothing about the {stem}."
        for stem in unknown
    ]
    generator = {"model": "loudness-rules", "adapter_sha256": None, "norms": str(norms_path())}
    return advice.text, generator, notices


def _finetuned_advisor():
    from django.conf import settings

    from modelgen.generate import GenerateConfig, ModelAdvisor
    from modelgen.model_loading import DEFAULT_BASE_MODEL, ModelNotFoundError

    base = settings.MIXADVICE_ADVISOR_MODEL or DEFAULT_BASE_MODEL
    adapter = settings.MIXADVICE_ADVISOR_ADAPTER
    key = (base, adapter)
    if key not in _LOADED_MODELS:
        config = GenerateConfig(system="finetuned", base_model=base, adapter=adapter, batch_size=1)
        try:
            _LOADED_MODELS[key] = ModelAdvisor(config, Path("."))
        except ModelNotFoundError as error:
            raise AdvisorError(f"The fine-tuned model cannot be loaded: {error}") from None
    return _LOADED_MODELS[key]


def _finetuned(*, anchor, order, clips, folder, genre):
    import soundfile

    from modelgen.prompts import build_messages, prompt_sha256

    advisor = _finetuned_advisor()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index, role in enumerate(order):
        path = folder / f"{index}_{role}.wav"
        soundfile.write(path, clips[role], MODEL_SAMPLE_RATE, subtype="FLOAT")
        paths.append(str(path.resolve()))
    messages = build_messages(anchor=anchor, stems=order, clip_paths=paths, genre=genre or None)
    (text,) = advisor.answer([messages])
    generator = {
        "model": advisor.config.base_model,
        "adapter_sha256": advisor.adapter_hash,
        "prompt_sha256": prompt_sha256(messages),
        "decoding": advisor.config.decoding(),
    }
    return text, generator


def advise(*, advisor, anchor, stems, sample_rate, silent, genre, clip_folder, seconds, seed=0):
    """Advice from ``advisor`` on conformed stems.

    Parameters
    ----------
    advisor : str
        ``finetuned`` or ``baseline``.
    anchor : str
        The role that stays put.
    stems : dict
        role -> float audio ``[frames, channels]``, all alike (``uploads.conform``).
    sample_rate : int
    silent : sequence of str
        Silent roles: never moved, whatever the advice says.
    genre : str
        Genre named in the question and used for the norms ("" when unknown).
    clip_folder : pathlib.Path
        Where the model's 16 kHz clips are written.
    seconds : float
        Length of the excerpt the advisor hears.

    Returns
    -------
    AdviceResult
        ``corrections_db`` holds only stems that should move: the anchor and silent stems are
        left out, as are stems the advice leaves alone.
    """
    from modelgen.advice_parse import corrections_db as parse_corrections

    started = time.perf_counter()
    order, clips = model_clips(stems, sample_rate, anchor=anchor, seconds=seconds)
    levels = {role: integrated_loudness(clip, MODEL_SAMPLE_RATE) for role, clip in clips.items()}
    notices = []
    if advisor == "baseline":
        text, generator, notices = _baseline(
            anchor=anchor, order=order, levels=levels, genre=genre, seed=seed
        )
    elif advisor == "finetuned":
        if not finetuned_configured():
            raise AdvisorError("No fine-tuned model is configured: set MIXADVICE_ADVISOR_ADAPTER.")
        text, generator = _finetuned(anchor=anchor, order=order, clips=clips, folder=clip_folder, genre=genre)
    else:
        raise AdvisorError(f"Unknown advisor {advisor!r}.")
    text = text.strip() or "The advisor gave no answer: leave every stem as it is."
    parsed = parse_corrections(text, stems=order, anchor=anchor)
    corrections = {
        role: float(db)
        for role, db in parsed.items()
        if role != anchor and role not in silent and db is not None and float(db) != 0.0
    }
    generator = generator | {"seconds": round(time.perf_counter() - started, 3)}
    return AdviceResult(
        text=text, corrections_db=corrections, levels_lufs=levels, generator=generator, notices=tuple(notices)
    )
