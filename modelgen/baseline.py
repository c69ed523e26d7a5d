"""Loudness-rule advisor: genre norms of stem-to-anchor loudness, and advice from levels alone.

The baseline sees only what the audio shows: each stem's integrated loudness (BS.1770, LUFS)
in the as-given clip. It never receives the scenario's offsets or corrections. For every
non-anchor stem it compares the measured offset to the anchor (stem LUFS minus anchor LUFS)
with the norm learned on the training split, and suggests the difference as the correction:

    correction_db = norm_offset(genre, anchor, stem) - (level[stem] - level[anchor])

A stem 6 LU louder than the norm gets "down about 6 dB"; a stem at the norm gets "leave it".
The text goes through :func:`modelgen.annotate.write_advice`, the writer of the target advice,
so the baseline differs from the other systems in content, not in style.

Norms and fallbacks
-------------------
:meth:`GenreNorms.fit` takes rows ``{genre, anchor, stem, offset_lu}`` measured at reference
level on training songs and keeps the median per (genre, anchor, stem) and per (anchor, stem)
over all genres. A lookup uses the genre's median when that cell has at least ``min_rows``
rows and falls back to the all-genre median otherwise; each fallback is counted in
``fallbacks`` (keyed ``"genre|anchor|stem"``) so a report can say how often it happened. A
pair (anchor, stem) never seen with that anchor in training is derived from pairs that were:
offsets are level differences, so ``offset(a, s) = -offset(s, a)`` and, through any pivot stem
``p`` measured against both, ``offset(a, s) = offset(p, s) - offset(p, a)`` (counted as a
fallback too). A stem never measured at all has no norm: :meth:`GenreNorms.offset` raises
``KeyError``, and the advisor leaves that stem alone (it has no convention to judge it by) and
counts it in ``unjudged`` so a report can say so.
"""

import json
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from statistics import median

from modelgen.annotate import write_advice
from modelgen.corrections import STEMS, prompt_order
from modelgen.vocabulary import genre_family

ALL_GENRES = "*"


@dataclass
class GenreNorms:
    """Median stem-to-anchor loudness offsets (LU) per genre family, anchor and stem.

    Attributes
    ----------
    by_genre : dict
        ``"genre|anchor|stem"`` -> {"median": float, "n": int}; genre is the family name
        from :func:`modelgen.vocabulary.genre_family` (or the lower-cased name if unknown).
    overall : dict
        ``"anchor|stem"`` -> {"median": float, "n": int} over every genre.
    min_rows : int
        Fewest rows a genre cell needs before its median is used instead of the overall one.
    fallbacks : collections.Counter
        Lookups that fell back to the overall median, keyed ``"genre|anchor|stem"``.
    """

    by_genre: dict = field(default_factory=dict)
    overall: dict = field(default_factory=dict)
    min_rows: int = 1
    fallbacks: Counter = field(default_factory=Counter)
    unjudged: Counter = field(default_factory=Counter)

    @classmethod
    def fit(cls, rows, *, min_rows=1):
        """Learn the norms from training rows ``{genre, anchor, stem, offset_lu}``.

        Rows with a non-finite offset (a silent stem) are skipped. No usable row is an error.
        """
        if min_rows < 1:
            raise ValueError(f"min_rows must be at least 1, got {min_rows}")
        per_genre = defaultdict(list)
        per_pair = defaultdict(list)
        for index, row in enumerate(rows):
            try:
                genre, anchor, stem, offset = row["genre"], row["anchor"], row["stem"], row["offset_lu"]
            except KeyError as missing:
                raise ValueError(f"norm row {index} has no {missing} field") from None
            if offset is None or not math.isfinite(float(offset)):
                continue
            per_genre[_key(genre_key(genre), anchor, stem)].append(float(offset))
            per_pair[_key(anchor, stem)].append(float(offset))
        if not per_pair:
            raise ValueError("no usable norm rows: every offset is missing or silent")
        return cls(
            by_genre={k: {"median": median(v), "n": len(v)} for k, v in sorted(per_genre.items())},
            overall={k: {"median": median(v), "n": len(v)} for k, v in sorted(per_pair.items())},
            min_rows=min_rows,
        )

    def offset(self, *, genre, anchor, stem):
        """Return the norm offset (LU) of ``stem`` relative to ``anchor`` in ``genre``."""
        cell = self.by_genre.get(_key(genre_key(genre), anchor, stem))
        if cell is not None and cell["n"] >= self.min_rows:
            return cell["median"]
        pair = self.overall.get(_key(anchor, stem))
        value = pair["median"] if pair is not None else self._derived_offset(anchor, stem)
        if value is None:
            raise KeyError(f"no norm for {stem} against the anchor {anchor}: not in the training rows")
        self.fallbacks[_key(genre_key(genre), anchor, stem)] += 1
        return value

    def _derived_offset(self, anchor, stem):
        """Offset of ``stem`` against ``anchor`` from the inverse pair or through a pivot stem."""
        inverse = self.overall.get(_key(stem, anchor))
        if inverse is not None:
            return -inverse["median"]
        for key, cell in self.overall.items():
            pivot, other = key.split("|")
            to_anchor = self.overall.get(_key(pivot, anchor))
            if other == stem and to_anchor is not None:
                return cell["median"] - to_anchor["median"]
        return None

    def to_dict(self):
        """A JSON-ready dict (fallback counts are run statistics and are not saved)."""
        return {"min_rows": self.min_rows, "by_genre": self.by_genre, "overall": self.overall}

    @classmethod
    def read(cls, path):
        """Load norms from the ``norms.json`` a dataset build writes (or a bare :meth:`to_dict` file).

        Raises ``FileNotFoundError`` for a missing file and ``ValueError`` for one that holds no norms.
        """
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise ValueError(f"{path} is not JSON: {error}") from None
        if isinstance(data, dict) and "norms" in data:
            if data["norms"] is None:
                raise ValueError(f"{path} holds no norms: the training split had no usable loudness rows")
            data = data["norms"]
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data):
        """Rebuild norms saved by :meth:`to_dict`."""
        try:
            return cls(
                by_genre={k: dict(v) for k, v in data["by_genre"].items()},
                overall={k: dict(v) for k, v in data["overall"].items()},
                min_rows=int(data.get("min_rows", 1)),
            )
        except (KeyError, TypeError, AttributeError) as error:
            raise ValueError(f"not a saved GenreNorms dict: {error}") from None


def genre_key(genre):
    """The key a genre is stored under: its convention family, else its lower-cased name."""
    return genre_family(genre) or str(genre or "").strip().lower() or ALL_GENRES


def _key(*parts):
    return "|".join(parts)


def baseline_corrections(*, anchor, stems=STEMS, levels_lufs, genre, norms):
    """Estimated corrections (dB) from measured levels; silent stems are left out.

    Returns ``(corrections, silent)``: stem -> dB for every audible non-anchor stem, and the
    tuple of silent stems.
    """
    order = prompt_order(anchor, stems)
    anchor_level = _level(levels_lufs, anchor)
    if anchor_level is None:
        raise ValueError(f"the anchor {anchor} is silent: there is nothing to balance against")
    corrections, silent = {}, []
    for stem in order[1:]:
        level = _level(levels_lufs, stem)
        if level is None:
            silent.append(stem)
            continue
        try:
            norm = norms.offset(genre=genre, anchor=anchor, stem=stem)
        except KeyError:
            norms.unjudged[_key(genre_key(genre), anchor, stem)] += 1
            corrections[stem] = 0.0
            continue
        corrections[stem] = norm - (level - anchor_level)
    return corrections, tuple(silent)


def baseline_advice(*, anchor, stems=STEMS, levels_lufs, genre, norms, rng):
    """Loudness-rule advice from the measured levels of the as-given clip.

    Parameters
    ----------
    anchor : str
        The stem that stays put.
    stems : sequence of str
        Every stem of the scenario.
    levels_lufs : dict
        stem -> integrated loudness of the as-given clip (LUFS); ``None`` (or ``-inf``) for a
        silent stem, which the advice mentions only to leave it alone.
    genre : str
        Genre of the song.
    norms : GenreNorms
        Norms fitted on the training split.
    rng : numpy.random.Generator
        Source of the wording.

    Returns
    -------
    modelgen.annotate.Advice
    """
    corrections, silent = baseline_corrections(
        anchor=anchor, stems=stems, levels_lufs=levels_lufs, genre=genre, norms=norms
    )
    return write_advice(
        anchor=anchor, stems=stems, corrections_db=corrections, genre=genre, rng=rng, silent=silent
    )


def _level(levels, stem):
    if stem not in levels:
        raise ValueError(f"levels_lufs has no entry for {stem}")
    value = levels[stem]
    if value is None or not math.isfinite(float(value)):
        return None
    return float(value)
