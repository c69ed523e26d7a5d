"""Multitrack corpora: the MUSDB18-HQ folder layout (and MUSDB18 ``.stem.mp4`` through ``musdb``).

Layout read here (MUSDB18-HQ; the synthetic corpus writes the same)::

    <root>/train/<Artist - Title>/{mixture,drums,bass,other,vocals}.wav
    <root>/test/<Artist - Title>/...
    <root>/tracklist.csv          optional; wins over the copy of MUSDB18's track list

Splits: ``test/`` songs are the test split; ``train/`` songs are training songs except the
standard 14-song MUSDB18 validation list (and any song a corpus track list marks ``valid``).
Genre and licence come from the corpus's own ``tracklist.csv`` when it names the song, else
from ``fixtures/musdb18_tracklist.csv``; a song in neither gets genre ``Unknown`` and licence
``Restricted`` (so its audio is never released).

Opening a corpus checks every song without decoding audio and raises :class:`CorpusError`
naming the file for: a missing or empty root, a missing stem, an unreadable or non-audio file,
stems of different length, sample rate or channel count. ``mixture.wav`` is optional: the
reference mix is always the sum of the stems.
"""

import csv
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from modelgen.audio import AudioError, audio_info
from modelgen.corrections import STEMS

SUBSETS = ("train", "test")
TRACKLIST_NAME = "tracklist.csv"
MUSDB_TRACKLIST = Path(__file__).resolve().parent.parent / "fixtures" / "musdb18_tracklist.csv"
UNKNOWN_GENRE = "Unknown"
RESTRICTED = "Restricted"

VALIDATION_SONGS = (
    "Actions - One Minute Smile",
    "Alexander Ross - Goodbye Bolero",
    "ANiMAL - Rockshow",
    "Clara Berry And Wooldog - Waltz For My Victims",
    "Fergessen - Nos Palpitants",
    "James May - On The Line",
    "Johnny Lokke - Promises & Lies",
    "Leaf - Summerghost",
    "Meaxic - Take A Step",
    "Patrick Talbot - A Reason To Leave",
    "Skelpolu - Human Mistakes",
    "Traffic Experiment - Sirens",
    "Triviul - Angelsaint",
    "Young Griffo - Pennies",
)
"""The standard MUSDB18 validation songs (``musdb``'s ``mus.yaml``), taken from ``train/``."""

MUSDB_INSTALL_HINT = "pip install musdb==0.4.2 (and Debian's ffmpeg)"


class CorpusError(ValueError):
    """A corpus that cannot be read; the message names the folder or file and the fix."""


@dataclass(frozen=True)
class Song:
    """One multitrack song: where its stems are and what the track list says about it."""

    name: str
    split: str
    genre: str
    licence: str
    folder: Path
    sample_rate: int
    frames: int
    channels: int
    tempo_bpm: float | None = None
    stem_paths: dict = field(default_factory=dict, compare=False)
    musdb_path: Path | None = None

    @property
    def seconds(self):
        return self.frames / self.sample_rate

    def read(self, stem, start=0, frames=None):
        """Decode ``frames`` frames of one stem from ``start`` as float32 stereo ``[frames, 2]``."""
        if stem not in STEMS:
            raise CorpusError(f"{self.name}: unknown stem {stem!r}; stems are {STEMS}")
        frames = self.frames - start if frames is None else frames
        if start < 0 or frames <= 0 or start + frames > self.frames:
            raise CorpusError(
                f"{self.name}: cannot read frames {start}..{start + frames} of a song of {self.frames}"
            )
        if self.musdb_path is not None:
            audio = _read_musdb(self.musdb_path, stem, start / self.sample_rate, frames / self.sample_rate)
            audio = audio[:frames]
        else:
            import soundfile

            path = self.stem_paths[stem]
            try:
                audio = soundfile.read(
                    path, start=start, frames=frames, dtype="float32", always_2d=True, fill_value=0.0
                )[0]
            except (soundfile.LibsndfileError, RuntimeError) as error:
                raise CorpusError(f"{path}: not a readable audio file ({error})") from None
        if audio.shape[1] == 1:
            audio = np.repeat(audio, 2, axis=1)
        return audio[:, :2]

    def read_stems(self, start=0, frames=None):
        """Decode every stem over the same frames: ``{stem: float32 [frames, 2]}``."""
        return {stem: self.read(stem, start, frames) for stem in STEMS}


def read_tracklist(path):
    """Read a track list (``Track Name, Genre, License`` + optional ``Split``, ``Tempo``, ``Source``).

    Returns
    -------
    dict
        song name -> ``{"genre", "licence", "split", "tempo_bpm"}`` (missing values are None).
    """
    path = Path(path)
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = {"Track Name", "Genre", "License"} - set(reader.fieldnames or ())
            if missing:
                raise CorpusError(f"{path}: track list lacks the columns {sorted(missing)}")
            rows = list(reader)
    except UnicodeDecodeError as error:
        raise CorpusError(f"{path}: track list is not UTF-8 text ({error})") from None
    entries = {}
    for number, row in enumerate(rows, start=2):
        split = (row.get("Split") or "").strip() or None
        if split not in (None, "train", "valid", "test"):
            raise CorpusError(f"{path}: row {number}: Split {split!r} is not train, valid or test")
        tempo = (row.get("Tempo") or "").strip()
        try:
            tempo_bpm = float(tempo) if tempo else None
        except ValueError:
            raise CorpusError(f"{path}: row {number}: Tempo {tempo!r} is not a number") from None
        entries[row["Track Name"].strip()] = {
            "genre": row["Genre"].strip() or UNKNOWN_GENRE,
            "licence": row["License"].strip() or RESTRICTED,
            "split": split,
            "tempo_bpm": tempo_bpm,
        }
    return entries


def _split_of(name, subset, listed):
    if listed:
        return listed
    if subset == "test":
        return "test"
    return "valid" if name in VALIDATION_SONGS else "train"


def _check_song(folder):
    """Return ``(stem_paths, frames, sample_rate, channels)`` of a song folder or raise CorpusError."""
    paths, info = {}, {}
    for stem in STEMS:
        path = folder / f"{stem}.wav"
        if not path.is_file():
            raise CorpusError(f"{path}: missing stem {stem!r}; a song folder needs {', '.join(STEMS)}.wav")
        try:
            info[stem] = audio_info(path)
        except AudioError as error:
            raise CorpusError(str(error)) from None
        if info[stem][0] == 0:
            raise CorpusError(f"{path}: audio file has no samples")
        paths[stem] = path
    mixture = folder / "mixture.wav"
    if mixture.is_file():
        try:
            info["mixture"] = audio_info(mixture)
        except AudioError as error:
            raise CorpusError(str(error)) from None
    for index, what in ((1, "sample rate"), (0, "length"), (2, "channel count")):
        values = {stem: details[index] for stem, details in info.items()}
        if len(set(values.values())) > 1:
            listed = ", ".join(f"{stem} {value}" for stem, value in values.items())
            raise CorpusError(f"{folder}: stems differ in {what}: {listed}")
    frames, sample_rate, channels = info["vocals"]
    if channels > 2:
        raise CorpusError(f"{folder}: stems have {channels} channels; expected mono or stereo")
    return paths, frames, sample_rate, channels


def _tracklists(root):
    entries = read_tracklist(MUSDB_TRACKLIST)
    own = root / TRACKLIST_NAME
    if own.is_file():
        entries.update(read_tracklist(own))
    return entries


def open_corpus(root):
    """Scan a corpus folder and return its songs sorted by name, each checked (no audio decoded).

    Raises
    ------
    CorpusError
        For a missing root, a root without songs, and any bad song (see module docstring).
    """
    root = Path(root)
    if not root.is_dir():
        raise CorpusError(f"{root}: corpus folder not found; pass the folder that holds train/ and test/")
    if list(root.glob("*/*.stem.mp4")):
        return _open_musdb(root)
    entries = _tracklists(root)
    songs = []
    for subset in SUBSETS:
        base = root / subset
        if not base.is_dir():
            continue
        for folder in sorted(path for path in base.iterdir() if path.is_dir()):
            paths, frames, sample_rate, channels = _check_song(folder)
            entry = entries.get(folder.name, {})
            songs.append(
                Song(
                    name=folder.name,
                    split=_split_of(folder.name, subset, entry.get("split")),
                    genre=entry.get("genre", UNKNOWN_GENRE),
                    licence=entry.get("licence", RESTRICTED),
                    folder=folder,
                    sample_rate=sample_rate,
                    frames=frames,
                    channels=channels,
                    tempo_bpm=entry.get("tempo_bpm"),
                    stem_paths=paths,
                )
            )
    if not songs:
        raise CorpusError(
            f"{root}: no songs found; expected the MUSDB18-HQ layout "
            f"{root}/train/<Artist - Title>/{{{','.join(STEMS)}}}.wav (and test/)"
        )
    names = [song.name for song in songs]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise CorpusError(f"{root}: songs in both train/ and test/: {twice}")
    return sorted(songs, key=lambda song: song.name)


def _import_musdb():
    if shutil.which("ffmpeg") is None:
        raise CorpusError(
            f"MUSDB18 .stem.mp4 files need ffmpeg, which is not installed; install it or use the "
            f"MUSDB18-HQ WAV release ({MUSDB_INSTALL_HINT})"
        )
    try:
        import musdb
    except ImportError:
        raise CorpusError(
            f"reading MUSDB18 .stem.mp4 files needs the optional musdb package: {MUSDB_INSTALL_HINT}"
        ) from None
    return musdb


def _open_musdb(root):
    """Songs of a compressed MUSDB18 corpus (``<root>/{train,test}/<name>.stem.mp4``)."""
    musdb = _import_musdb()
    entries = _tracklists(root)
    songs = []
    for subset in SUBSETS:
        for path in sorted((root / subset).glob("*.stem.mp4")):
            name = path.name.removesuffix(".stem.mp4")
            try:
                track = musdb.audio_classes.Track(path=str(path), is_wav=False, stem_id=0)
                sample_rate = int(track.rate)
                frames = int(track.samples)
            except Exception as error:  # musdb raises whatever ffmpeg/stempeg raised
                raise CorpusError(f"{path}: not a readable MUSDB18 stem file ({error})") from None
            entry = entries.get(name, {})
            songs.append(
                Song(
                    name=name,
                    split=_split_of(name, subset, entry.get("split")),
                    genre=entry.get("genre", UNKNOWN_GENRE),
                    licence=entry.get("licence", RESTRICTED),
                    folder=path.parent,
                    sample_rate=sample_rate,
                    frames=frames,
                    channels=2,
                    tempo_bpm=entry.get("tempo_bpm"),
                    musdb_path=path,
                )
            )
    if not songs:
        raise CorpusError(f"{root}: no .stem.mp4 songs under train/ or test/")
    return sorted(songs, key=lambda song: song.name)


_MUSDB_STEM_INDEX = {"drums": 1, "bass": 2, "other": 3, "vocals": 4}


def _read_musdb(path, stem, start_seconds, seconds):
    """Decode one stem of a ``.stem.mp4`` over a time range (musdb calls ffmpeg through stempeg)."""
    musdb = _import_musdb()
    track = musdb.audio_classes.Track(path=str(path), is_wav=False, stem_id=_MUSDB_STEM_INDEX[stem])
    audio = track.load_audio(str(path), _MUSDB_STEM_INDEX[stem], start_seconds, seconds)
    return np.asarray(audio, dtype=np.float32)
