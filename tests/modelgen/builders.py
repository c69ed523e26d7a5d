"""Build small corpora and datasets for tests; other test modules call these from session fixtures.

Example::

    @pytest.fixture(scope="session")
    def dataset_dir(tmp_path_factory):
        corpus = make_corpus(tmp_path_factory.mktemp("corpus") / "c", songs=6, seconds=12, seed=3)
        return make_dataset(corpus, tmp_path_factory.mktemp("dataset") / "d", seed=3)
"""

from pathlib import Path

import numpy as np

from modelgen.corrections import STEMS
from modelgen.synthetic import write_synthetic_corpus

SMALL_SONGS = 6
"""Six songs give every split, all genres but rap, a pop pair to hybridise and one instrumental."""


def make_corpus(out_dir, songs=SMALL_SONGS, seconds=12.0, seed=0):
    """Write a synthetic corpus to ``out_dir`` (must not exist or be empty); return its path."""
    write_synthetic_corpus(out_dir, songs=songs, seconds=seconds, seed=seed)
    return Path(out_dir)


def make_dataset(corpus_dir, out_dir, seed=0, **config):
    """Build a dataset from ``corpus_dir`` into ``out_dir`` with small defaults; return its path.

    Keyword arguments override :class:`modelgen.dataset.DatasetConfig` fields.
    """
    from modelgen.dataset import DatasetConfig, build_dataset

    build_dataset(corpus_dir, out_dir, config=DatasetConfig.from_dict({"seed": seed, **config}), jobs=1)
    return Path(out_dir)


def write_song(root, subset, name, frames=44_100, rate=44_100, skip=(), channels=2):
    """Write one song folder of quiet noise stems (plus mixture.wav), skipping the stems in ``skip``."""
    import soundfile

    folder = Path(root) / subset / name
    folder.mkdir(parents=True)
    rng = np.random.default_rng(len(name))
    for stem in ("mixture", *STEMS):
        if stem not in skip:
            audio = (rng.standard_normal((frames, channels)) * 0.05).astype(np.float32)
            soundfile.write(folder / f"{stem}.wav", audio, rate, subtype="PCM_16")
    return folder
