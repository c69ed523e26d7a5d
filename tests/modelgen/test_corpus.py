"""Corpus reader: MUSDB18-HQ layout, splits, track lists, and a named error for every bad input."""

import numpy as np
import pytest
import soundfile

from modelgen.corpus import VALIDATION_SONGS, CorpusError, open_corpus
from tests.modelgen.builders import make_corpus, write_song

SR = 44_100


@pytest.fixture(scope="session")
def synthetic(tmp_path_factory):
    return make_corpus(tmp_path_factory.mktemp("corpus") / "c", songs=5, seconds=6, seed=1)


def test_the_synthetic_corpus_reads_with_splits_genres_and_licences_from_its_track_list(synthetic):
    songs = open_corpus(synthetic)
    assert len(songs) == 5
    by_name = {song.name: song for song in songs}
    assert by_name["Synthetic Rock - Song 003"].split == "test"
    assert by_name["Synthetic Jazz - Song 005"].split == "valid"
    assert by_name["Synthetic Pop - Song 001"].genre == "Pop"
    assert {song.licence for song in songs} == {"CC0-1.0"}
    assert all(song.tempo_bpm > 60 for song in songs)


def test_a_segment_reads_as_float_stereo(synthetic):
    song = open_corpus(synthetic)[0]
    audio = song.read("bass", start=SR, frames=SR // 2)
    assert audio.shape == (SR // 2, 2) and audio.dtype == np.float32


def test_musdb_songs_take_split_genre_and_licence_from_the_musdb_track_list(tmp_path):
    write_song(tmp_path, "train", VALIDATION_SONGS[0])
    write_song(tmp_path, "train", "A Classic Education - NightOwl")
    write_song(tmp_path, "test", "AM Contra - Heart Peripheral")
    songs = {song.name: song for song in open_corpus(tmp_path)}
    assert songs["Actions - One Minute Smile"].split == "valid"
    assert songs["Actions - One Minute Smile"].licence == "Restricted"
    assert songs["A Classic Education - NightOwl"].split == "train"
    assert songs["A Classic Education - NightOwl"].genre == "Singer/Songwriter"
    assert songs["AM Contra - Heart Peripheral"].split == "test"


def test_the_standard_validation_list_has_fourteen_songs():
    assert len(set(VALIDATION_SONGS)) == 14


def test_a_corpus_track_list_wins_over_the_musdb_one(tmp_path):
    write_song(tmp_path, "train", "A Classic Education - NightOwl")
    (tmp_path / "tracklist.csv").write_text(
        "Track Name,Genre,Source,License\nA Classic Education - NightOwl,Jazz,Mine,CC0-1.0\n"
    )
    song = open_corpus(tmp_path)[0]
    assert (song.genre, song.licence) == ("Jazz", "CC0-1.0")


def test_a_song_in_no_track_list_is_restricted_with_unknown_genre(tmp_path):
    write_song(tmp_path, "train", "Nobody - Nothing")
    song = open_corpus(tmp_path)[0]
    assert (song.genre, song.licence) == ("Unknown", "Restricted")


def test_a_missing_root_is_named(tmp_path):
    with pytest.raises(CorpusError, match="nowhere: corpus folder not found"):
        open_corpus(tmp_path / "nowhere")


def test_a_root_without_songs_is_an_error_not_an_empty_corpus(tmp_path):
    (tmp_path / "train").mkdir()
    with pytest.raises(CorpusError, match="no songs found"):
        open_corpus(tmp_path)


def test_a_missing_stem_is_named(tmp_path):
    write_song(tmp_path, "train", "A - B", skip=("bass",))
    with pytest.raises(CorpusError, match=r"A - B/bass.wav: missing stem 'bass'"):
        open_corpus(tmp_path)


def test_stems_of_different_length_are_named(tmp_path):
    folder = write_song(tmp_path, "train", "A - B")
    soundfile.write(folder / "drums.wav", np.zeros((SR - 1, 2), np.float32), SR)
    with pytest.raises(CorpusError, match=r"stems differ in length: vocals 44100, drums 44099"):
        open_corpus(tmp_path)


def test_stems_of_different_sample_rate_are_named(tmp_path):
    folder = write_song(tmp_path, "train", "A - B")
    soundfile.write(folder / "other.wav", np.zeros((SR, 2), np.float32), 48_000)
    with pytest.raises(CorpusError, match=r"stems differ in sample rate: .*other 48000"):
        open_corpus(tmp_path)


def test_a_non_audio_stem_is_named(tmp_path):
    folder = write_song(tmp_path, "train", "A - B")
    (folder / "vocals.wav").write_text("this is not audio")
    with pytest.raises(CorpusError, match=r"A - B/vocals.wav: not a readable audio file"):
        open_corpus(tmp_path)


def test_an_empty_stem_file_is_named(tmp_path):
    folder = write_song(tmp_path, "train", "A - B")
    (folder / "drums.wav").write_bytes(b"")
    with pytest.raises(CorpusError, match=r"A - B/drums.wav"):
        open_corpus(tmp_path)


def test_a_bad_track_list_row_is_named(tmp_path):
    write_song(tmp_path, "train", "A - B")
    (tmp_path / "tracklist.csv").write_text("Track Name,Genre,License,Split\nA - B,Pop,CC0,holdout\n")
    with pytest.raises(CorpusError, match=r"tracklist.csv: row 2: Split 'holdout'"):
        open_corpus(tmp_path)


def test_compressed_musdb_without_the_musdb_package_says_how_to_install_it(tmp_path):
    pytest.importorskip("shutil").which("ffmpeg") or pytest.skip("ffmpeg is not installed")
    try:
        import musdb  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("musdb is installed here")
    (tmp_path / "train").mkdir()
    (tmp_path / "train" / "A - B.stem.mp4").write_bytes(b"\0")
    with pytest.raises(CorpusError, match="pip install musdb"):
        open_corpus(tmp_path)


class FakeTrack:
    """Stands in for musdb.audio_classes.Track (the optional package is an outside boundary)."""

    rate = 44_100
    samples = 3 * 44_100

    def __init__(self, path, is_wav, stem_id):
        self.stem_id = stem_id

    def load_audio(self, path, stem_id, start, duration):
        return np.full((round(duration * self.rate), 2), stem_id / 10, np.float32)


@pytest.fixture
def fake_musdb(monkeypatch):
    import sys
    import types

    module = types.ModuleType("musdb")
    module.audio_classes = types.SimpleNamespace(Track=FakeTrack)
    monkeypatch.setitem(sys.modules, "musdb", module)
    monkeypatch.setattr("modelgen.corpus.shutil.which", lambda name: "/usr/bin/ffmpeg")
    return module


def test_compressed_musdb_songs_are_read_stem_by_stem_through_musdb(fake_musdb, tmp_path):
    (tmp_path / "test").mkdir()
    (tmp_path / "test" / "AM Contra - Heart Peripheral.stem.mp4").write_bytes(b"\0")
    song = open_corpus(tmp_path)[0]
    assert (song.name, song.split, song.frames) == ("AM Contra - Heart Peripheral", "test", 3 * SR)
    assert song.read("bass", start=SR, frames=SR // 2).shape == (SR // 2, 2)
    assert song.read("vocals", start=0, frames=10)[0, 0] == pytest.approx(0.4)


def test_compressed_musdb_without_ffmpeg_says_so(fake_musdb, monkeypatch, tmp_path):
    monkeypatch.setattr("modelgen.corpus.shutil.which", lambda name: None)
    (tmp_path / "train").mkdir()
    (tmp_path / "train" / "A - B.stem.mp4").write_bytes(b"\0")
    with pytest.raises(CorpusError, match="need ffmpeg, which is not installed"):
        open_corpus(tmp_path)
