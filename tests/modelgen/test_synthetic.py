"""The synthetic corpus: MUSDB18-HQ layout, deterministic, genre balances, rests and instrumentals."""

import csv

import numpy as np
import pytest
import soundfile
from django.core.management import CommandError, call_command

from modelgen import audio
from modelgen.corpus import open_corpus
from modelgen.corrections import STEMS
from modelgen.synthetic import write_synthetic_corpus
from tests.modelgen.builders import make_corpus


@pytest.fixture(scope="session")
def corpus(tmp_path_factory):
    return make_corpus(tmp_path_factory.mktemp("synthetic") / "corpus", songs=8, seconds=10, seed=5)


def test_the_corpus_has_the_musdb18_hq_layout_and_its_own_track_list(corpus):
    folders = sorted(path for path in corpus.glob("*/*") if path.is_dir())
    assert len(folders) == 8
    assert {path.parent.name for path in folders} == {"train", "test"}
    for folder in folders:
        assert sorted(p.name for p in folder.iterdir()) == sorted(f"{s}.wav" for s in ("mixture", *STEMS))
    with (corpus / "tracklist.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert {row["Genre"] for row in rows} == {"Pop", "Rock", "Rap", "Jazz"}
    assert {row["License"] for row in rows} == {"CC0-1.0"}


def test_the_same_seed_writes_the_same_bytes(corpus, tmp_path):
    again = make_corpus(tmp_path / "again", songs=8, seconds=10, seed=5)
    for path in corpus.rglob("*.wav"):
        assert path.read_bytes() == (again / path.relative_to(corpus)).read_bytes(), path


def test_another_seed_writes_other_music(corpus, tmp_path):
    other = make_corpus(tmp_path / "other", songs=1, seconds=10, seed=6)
    name = "train/Synthetic Pop - Song 001/vocals.wav"
    assert (corpus / name).read_bytes() != (other / name).read_bytes()


def test_the_mixture_is_the_sum_of_the_stems(corpus):
    folder = next(corpus.glob("train/*"))
    stems = sum(soundfile.read(folder / f"{stem}.wav")[0] for stem in STEMS)
    mixture = soundfile.read(folder / "mixture.wav")[0]
    assert np.max(np.abs(stems - mixture)) < 4 / 32768


def vocal_lead_db(song):
    stems = song.read_stems()
    band = stems["drums"] + stems["bass"] + stems["other"]
    return audio.integrated_loudness(stems["vocals"], 44100) - audio.integrated_loudness(band, 44100)


def test_vocals_sit_above_the_band_in_rap_and_pop_and_level_with_it_in_rock(corpus):
    lead = {
        song.genre: vocal_lead_db(song) for song in open_corpus(corpus) if song.name.endswith(("1", "3", "7"))
    }
    assert lead["Rap"] > 1.0 and lead["Pop"] > 1.0
    assert abs(lead["Rock"]) < 1.5
    assert lead["Rock"] < min(lead["Rap"], lead["Pop"]) - 1.0


def test_stems_rest_in_some_sections(corpus):
    song = next(song for song in open_corpus(corpus) if song.name.endswith("001"))
    stems = song.read_stems()
    ratios = {stem: audio.activity(stems[stem], 44100, min_ratio=0.5)[1] for stem in STEMS}
    assert ratios["vocals"] < 0.9 and ratios["bass"] < 0.9
    assert ratios["other"] == 1.0


def test_every_sixth_song_is_an_instrumental_with_silent_vocals(corpus):
    song = next(song for song in open_corpus(corpus) if song.name.endswith("006"))
    assert audio.integrated_loudness(song.read("vocals"), 44100) is None
    assert audio.integrated_loudness(song.read("drums"), 44100) is not None


def test_nothing_peaks_above_minus_3_dbfs(corpus):
    peaks = [audio.peak_dbfs(soundfile.read(path, dtype="float32")[0]) for path in corpus.rglob("*.wav")]
    assert max(peak for peak in peaks if peak is not None) <= -2.99


def test_a_non_empty_folder_is_not_overwritten(corpus):
    with pytest.raises(FileExistsError, match="not empty"):
        write_synthetic_corpus(corpus, songs=1, seconds=5, seed=0)


def test_the_command_writes_a_corpus_and_says_so(tmp_path, capsys):
    call_command("make_synthetic_corpus", out=str(tmp_path / "c"), songs=2, seconds=5, seed=1, verbosity=0)
    assert "wrote 2 songs of 5 s (Pop)" in capsys.readouterr().out
    assert len(open_corpus(tmp_path / "c")) == 2


def test_the_command_refuses_too_short_songs(tmp_path):
    with pytest.raises(CommandError, match="at least 4 s"):
        call_command("make_synthetic_corpus", out=str(tmp_path / "c"), songs=1, seconds=2, verbosity=0)
    assert not (tmp_path / "c").exists()
