"""Real stem files and genre norms for the advisor tests, written with soundfile into tmp folders."""

import itertools
import json
from pathlib import Path

import numpy as np

from modelgen.baseline import GenreNorms
from modelgen.corrections import STEMS


def noise(*, seconds=2.0, rate=44100, channels=2, level_db=-20.0, seed=0):
    """White noise at ``level_db`` dB RMS: equal levels give equal LUFS."""
    rng = np.random.default_rng(seed)
    audio = rng.standard_normal((int(seconds * rate), channels)).astype(np.float32)
    audio *= np.float32(10 ** (level_db / 20) / np.sqrt(np.mean(audio**2)))
    return audio


def write_stem(path, audio=None, *, rate=44100, subtype=None, format=None, **kwargs):
    """Write a stem file (noise unless ``audio`` is given) and return its path."""
    import soundfile

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    audio = noise(rate=rate, **kwargs) if audio is None else audio
    soundfile.write(path, audio, rate, subtype=subtype, format=format)
    return path


def write_norms(path, *, genre="pop", offset_lu=0.0, without=()):
    """A norms.json (as the dataset build writes it) where every stem should sit ``offset_lu`` from
    every anchor; ``without`` lists (anchor, stem) pairs the norms never saw."""
    rows = [
        {"genre": genre, "anchor": anchor, "stem": stem, "offset_lu": offset_lu}
        for anchor, stem in itertools.permutations(STEMS, 2)
        if (anchor, stem) not in without
    ]
    norms = GenreNorms.fit(rows)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"schema_version": "1.0", "norms": norms.to_dict()}), encoding="utf-8")
    return path
