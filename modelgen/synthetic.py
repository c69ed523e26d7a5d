"""A synthetic multitrack corpus in the MUSDB18-HQ layout, for the demo and the tests.

Each song has a genre, a tempo, a key and a chord progression, and four stems rendered with numpy:

- ``drums``: kick, snare and hi-hats (a ride cymbal in jazz) placed on a genre groove;
- ``bass``: a bass line on the chord roots (walking chord tones in jazz, long 808-like notes in rap);
- ``other``: arpeggios (pop), distorted power chords (rock), a pad (rap) or piano-like comping (jazz);
- ``vocals``: a voice-like melody on chord tones: a harmonic source with vibrato shaped by vowel
  formants, in phrases with breaths; rap vocals are short, speech-like syllables.

Songs run through sections (intro without vocals or bass, verse, chorus, a break where drums and
bass rest), so activity gating has something to find. Every sixth song is an instrumental (silent
vocals). Stems are set to the genre's reference balance in BS.1770 loudness, following the
published conventions (Gerdes & Siedenburg 2023): the lead vocal sits well above the band in rap
and pop, about level with it in rock, and below the soloing band in jazz. ``mixture.wav`` is the
sum of the stems. The same seed gives the same files, bit for bit.
"""

import csv
import io
import math
import shutil
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from modelgen.audio import integrated_loudness
from modelgen.corrections import STEMS

SAMPLE_RATE = 44_100
LICENCE = "CC0-1.0"
SOURCE = "MixAdvice synthetic"
PEAK_CEILING = 10 ** (-3.0 / 20)
"""Mixture and stems peak at or below -3 dBFS; the whole song is scaled, never one stem."""

CHORDS = {
    "maj": (0, 4, 7),
    "min": (0, 3, 7),
    "power": (0, 7, 12),
    "min7": (0, 3, 7, 10),
    "dom7": (0, 4, 7, 10),
    "maj7": (0, 4, 7, 11),
}
VOWELS = {  # formant frequencies F1-F3 in Hz (Peterson & Barney style averages)
    "a": (730, 1090, 2440),
    "e": (530, 1840, 2480),
    "i": (270, 2290, 3010),
    "o": (570, 840, 2410),
    "u": (300, 870, 2240),
}
FORMANT_BANDWIDTHS = (90.0, 110.0, 160.0)


@dataclass(frozen=True)
class GenreStyle:
    """How a genre sounds and how its stems are balanced."""

    tempo: tuple
    progression: tuple
    kick: tuple
    snare: tuple
    hats: tuple
    swing: bool
    balance_lufs: dict


GENRES = {
    "Pop": GenreStyle(
        tempo=(104, 112),
        progression=((0, "maj"), (7, "maj"), (9, "min"), (5, "maj")),
        kick=(0, 8, 10),
        snare=(4, 12),
        hats=tuple(range(0, 16, 2)),
        swing=False,
        balance_lufs={"vocals": -13.5, "drums": -19.5, "bass": -21.0, "other": -21.0},
    ),
    "Rock": GenreStyle(
        tempo=(124, 134),
        progression=((0, "power"), (10, "power"), (5, "power"), (0, "power")),
        kick=(0, 6, 8),
        snare=(4, 12),
        hats=tuple(range(0, 16, 2)),
        swing=False,
        balance_lufs={"vocals": -15.0, "drums": -18.5, "bass": -21.5, "other": -18.5},
    ),
    "Rap": GenreStyle(
        tempo=(86, 94),
        progression=((0, "min"), (8, "maj"), (3, "maj"), (10, "maj")),
        kick=(0, 3, 7, 10),
        snare=(4, 12),
        hats=tuple(range(16)),
        swing=False,
        balance_lufs={"vocals": -12.0, "drums": -17.5, "bass": -18.0, "other": -24.0},
    ),
    "Jazz": GenreStyle(
        tempo=(138, 150),
        progression=((2, "min7"), (7, "dom7"), (0, "maj7"), (9, "min7")),
        kick=(0, 4, 8, 12),
        snare=(6, 14),
        hats=(4, 12),
        swing=True,
        balance_lufs={"vocals": -19.0, "drums": -23.0, "bass": -20.0, "other": -19.0},
    ),
}
GENRE_ORDER = ("Pop", "Rock", "Jazz", "Rap")
"""Songs take genres in pairs (0-1 pop, 2-3 rock, ...) so every genre has songs to hybridise."""

SECTIONS = (  # (name, bars, stems that play)
    ("intro", 2, ("drums", "other")),
    ("verse", 4, STEMS),
    ("chorus", 4, STEMS),
    ("break", 2, ("vocals", "other")),
)


def song_plan(index):
    """Genre, split and instrumental flag of the ``index``-th synthetic song (0-based).

    Splits repeat every five songs: train, train, test, train, valid.
    """
    genre = GENRE_ORDER[(index // 2) % len(GENRE_ORDER)]
    split = {2: "test", 4: "valid"}.get(index % 5, "train")
    return genre, split, index % 6 == 5


def song_name(index, genre):
    return f"Synthetic {genre} - Song {index + 1:03d}"


def midi_hz(midi):
    return 440.0 * 2.0 ** ((np.asarray(midi, dtype=np.float64) - 69.0) / 12.0)


class _Timeline:
    """Bars, beats and which stems play when, for one song."""

    def __init__(self, seconds, tempo, style, sample_rate):
        self.frames = int(round(seconds * sample_rate))
        self.sample_rate = sample_rate
        self.beat = 60.0 / tempo
        self.bar = 4 * self.beat
        self.style = style
        self.bars = math.ceil(seconds / self.bar)
        cycle = [section for section in SECTIONS for _ in range(section[1])]
        self.playing = [cycle[bar % len(cycle)][2] for bar in range(self.bars)]

    def step_time(self, bar, step):
        """Time in seconds of 16th-note ``step`` (0-15) of ``bar``, swung in jazz."""
        beat, sixteenth = divmod(step, 4)
        offset = sixteenth / 4
        if self.style.swing and sixteenth == 2:
            offset = 2 / 3
        return bar * self.bar + (beat + offset) * self.beat

    def chord(self, bar):
        return self.style.progression[bar % len(self.style.progression)]

    def plays(self, stem, bar):
        return stem in self.playing[bar]


def _decay(seconds, tau, sample_rate):
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    return t, np.exp(-t / tau)


def _drum_kit(rng, sample_rate):
    t, env = _decay(0.35, 0.11, sample_rate)
    sweep = 48 + 95 * np.exp(-t / 0.03)
    kick = np.sin(2 * np.pi * np.cumsum(sweep) / sample_rate) * env
    t, env = _decay(0.25, 0.07, sample_rate)
    noise = rng.standard_normal(len(t))
    snare = np.diff(noise, prepend=0) * 0.5 * env + 0.6 * np.sin(2 * np.pi * 185 * t) * np.exp(-t / 0.04)
    t, env = _decay(0.09, 0.018, sample_rate)
    hat = np.diff(np.diff(rng.standard_normal(len(t)), prepend=0), prepend=0) * 0.25 * env
    t, env = _decay(0.9, 0.35, sample_rate)
    partials = sum(np.sin(2 * np.pi * f * t + p) for f, p in zip((3150, 4420, 5230, 6780), rng.random(4) * 6))
    ride = (0.12 * partials + 0.15 * np.diff(rng.standard_normal(len(t)), prepend=0)) * env
    return {"kick": kick, "snare": snare, "hat": hat, "ride": ride}


def _place(template, onsets, frames, sample_rate):
    """Sum copies of ``template`` at ``(time_s, velocity)`` onsets."""
    track = np.zeros(frames)
    for time_s, velocity in onsets:
        _add(track, max(time_s, 0.0), velocity * template, sample_rate)
    return track


def _drums(timeline, rng):
    kit = _drum_kit(rng, timeline.sample_rate)
    style = timeline.style
    hits = {"kick": [], "snare": [], "hat": [], "ride": []}
    for bar in range(timeline.bars):
        if not timeline.plays("drums", bar):
            continue
        for part, steps in (("kick", style.kick), ("snare", style.snare)):
            for step in steps:
                velocity = (0.35 if style.swing else 1.0) * rng.uniform(0.85, 1.0)
                hits[part].append((timeline.step_time(bar, step) + rng.normal(0, 0.003), velocity))
        cymbal = "ride" if style.swing else "hat"
        steps = (0, 4, 6, 8, 12, 14) if style.swing else style.hats
        for step in steps:
            accent = 1.0 if step % 4 == 0 else 0.7
            hits[cymbal].append((timeline.step_time(bar, step) + rng.normal(0, 0.004), accent))
        if style.swing:
            hits["hat"] += [(timeline.step_time(bar, step), 0.5) for step in style.hats]
    frames, rate = timeline.frames, timeline.sample_rate
    parts = {name: _place(kit[name], onsets, frames, rate) for name, onsets in hits.items()}
    centre = parts["kick"] + parts["snare"]
    left = centre + 0.6 * parts["hat"] + 0.9 * parts["ride"]
    right = centre + 1.0 * parts["hat"] + 0.6 * parts["ride"]
    return np.stack([left, right], axis=1)


def _tone(frequency, seconds, sample_rate, harmonics, decay_s, attack_s=0.005, brightness=1.5):
    """A decaying harmonic note (band-limited below 12 kHz); notes repeat, so they are cached."""
    return _cached_tone(
        float(frequency), float(seconds), sample_rate, harmonics, decay_s, attack_s, brightness
    )


@lru_cache(maxsize=256)
def _cached_tone(frequency, seconds, sample_rate, harmonics, decay_s, attack_s, brightness):
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    count = max(1, min(harmonics, int(12_000 / frequency)))
    k = np.arange(1, count + 1)[:, None]
    wave = (np.sin(2 * np.pi * frequency * k * t) / k**brightness).sum(axis=0)
    envelope = np.minimum(t / attack_s, 1.0) * np.exp(-t / decay_s)
    release = np.minimum((seconds - t) / 0.01, 1.0)
    note = wave * envelope * release
    note.flags.writeable = False
    return note


def _add(track, start_s, note, sample_rate):
    start = int(round(start_s * sample_rate))
    end = min(len(track), start + len(note))
    if start < end:
        track[start:end] += note[: end - start]


def _bass(timeline, rng, key, genre):
    rate = timeline.sample_rate
    track = np.zeros(timeline.frames)
    for bar in range(timeline.bars):
        if not timeline.plays("bass", bar):
            continue
        root, quality = timeline.chord(bar)
        tones = CHORDS[quality]
        base = key + root
        if genre == "Jazz":  # walking bass: four chord tones or approach notes per bar
            notes = [base, base + tones[1], base + tones[2], base + rng.choice([-1, 1, 5])]
            for beat, midi in enumerate(notes):
                start = bar * timeline.bar + beat * timeline.beat
                _add(track, start, _tone(midi_hz(midi), timeline.beat * 0.95, rate, 6, 0.5), rate)
        elif genre == "Rap":  # long sub-bass notes on every other kick
            for step in timeline.style.kick[::2]:
                note = _tone(midi_hz(base), timeline.beat * 1.8, rate, 2, 0.9, brightness=3)
                _add(track, timeline.step_time(bar, step), note, rate)
        else:  # pop and rock: eighth notes on the root, the octave on the last two
            for eighth in range(8):
                midi = base + (12 if eighth >= 6 and rng.random() < 0.5 else 0)
                start = bar * timeline.bar + eighth * timeline.beat / 2
                _add(track, start, _tone(midi_hz(midi), timeline.beat * 0.48, rate, 8, 0.25), rate)
    return np.stack([track, track], axis=1)


def _other(timeline, rng, key, genre):
    rate = timeline.sample_rate
    left, right = np.zeros(timeline.frames), np.zeros(timeline.frames)
    for bar in range(timeline.bars):
        if not timeline.plays("other", bar):
            continue
        root, quality = timeline.chord(bar)
        chord = [key + 24 + root + tone for tone in CHORDS[quality]]
        start = bar * timeline.bar
        if genre == "Pop":  # arpeggio in eighths, alternating sides
            for eighth in range(8):
                midi = chord[eighth % len(chord)] + (12 if eighth % 4 == 3 else 0)
                note = _tone(midi_hz(midi), timeline.beat * 0.6, rate, 10, 0.18)
                _add(left if eighth % 2 else right, start + eighth * timeline.beat / 2, note, rate)
        elif genre == "Rock":  # distorted power chord, both sides slightly different
            seconds = timeline.bar
            body = sum(_tone(midi_hz(m - 12), seconds, rate, 12, 4.0, brightness=1.0) for m in chord)
            _add(left, start, np.tanh(2.5 * body), rate)
            _add(right, start + 0.011, np.tanh(2.5 * body), rate)
        elif genre == "Jazz":  # piano comping: two stabs per bar on swung off-beats
            for step in (2, 10) if rng.random() < 0.5 else (6, 14):
                stab = sum(_tone(midi_hz(m), timeline.beat * 1.4, rate, 8, 0.5, brightness=2) for m in chord)
                _add(left, timeline.step_time(bar, step), stab, rate)
                _add(right, timeline.step_time(bar, step) + 0.004, stab, rate)
        else:  # rap: soft sustained pad
            pad = sum(
                _tone(midi_hz(m), timeline.bar, rate, 4, 6.0, attack_s=0.3, brightness=2.5) for m in chord
            )
            _add(left, start, pad, rate)
            _add(right, start + 0.007, pad, rate)
    return np.stack([left, right], axis=1)


def _formant_gain(frequencies, vowel):
    """Spectral envelope of a vowel at the given frequencies (sum of resonance peaks)."""
    gain = np.zeros_like(frequencies)
    for level, formant, bandwidth in zip((1.0, 0.5, 0.25), VOWELS[vowel], FORMANT_BANDWIDTHS):
        gain += level / (1.0 + ((frequencies - formant) / bandwidth) ** 2)
    return gain + 0.01


def _sung_note(midi, seconds, rng, sample_rate, speech=False):
    """A voice-like note: harmonic source with vibrato, shaped by one vowel's formants."""
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    depth = 0.0 if speech else 0.35 * np.minimum(t / 0.25, 1.0)  # semitones, vibrato grows in
    glide = -1.5 * t / seconds if speech else 0.0
    f0 = midi_hz(midi) * 2.0 ** ((depth * np.sin(2 * np.pi * 5.5 * t) + glide) / 12)
    phase = 2 * np.pi * np.cumsum(f0) / sample_rate
    vowel = str(rng.choice(list(VOWELS)))
    count = min(24, int(5000 / f0.max()))
    voice = np.zeros_like(t)
    rotor = np.exp(1j * phase)  # harmonic k is the imaginary part of rotor**k
    harmonic = rotor.copy()
    for k in range(1, count + 1):
        voice += _formant_gain(k * f0, vowel) * harmonic.imag / k**0.5
        harmonic *= rotor
    breath = 0.02 * np.diff(rng.standard_normal(len(t)), prepend=0)
    attack = 0.015 if speech else 0.04
    envelope = np.minimum(t / attack, 1.0) * np.minimum((seconds - t) / 0.06, 1.0).clip(0)
    consonant = np.exp(-t / 0.012) * rng.standard_normal(len(t)) * (0.3 if speech else 0.1)
    return (voice + breath) * envelope + consonant


def _vocals(timeline, rng, key, genre):
    rate = timeline.sample_rate
    track = np.zeros(timeline.frames)
    speech = genre == "Rap"
    previous = key + 24 + 7
    for bar in range(timeline.bars):
        if not timeline.plays("vocals", bar) or bar % 4 == 3 and rng.random() < 0.5:
            continue  # a breath between phrases now and then
        root, quality = timeline.chord(bar)
        tones = [key + 24 + root + tone for tone in CHORDS[quality]]
        if speech:
            steps = list(range(0, 16, 2)) + [step for step in (5, 11, 15) if rng.random() < 0.5]
            lengths = dict.fromkeys(steps, timeline.beat * 0.42)
        else:
            steps = (0, 4, 8, 12) if rng.random() < 0.5 else (0, 6, 8, 12, 14)
            lengths = {step: timeline.beat * (1.9 if step in (8,) else 0.95) for step in steps}
        for step in sorted(set(steps)):
            if speech:
                midi = key + 19 + rng.integers(-2, 3)
            else:
                candidates = tones + [tone + 12 for tone in tones]
                midi = min(candidates, key=lambda m: abs(m - previous) + rng.random() * 6)
                previous = midi
            note = _sung_note(midi, lengths[step], rng, rate, speech=speech)
            _add(track, timeline.step_time(bar, step), note, rate)
    return np.stack([track, track * 0.98], axis=1)


def render_song(index, seconds, seed, sample_rate=SAMPLE_RATE):
    """Render one synthetic song's stems at their genre's reference balance.

    Returns
    -------
    dict
        ``name``, ``genre``, ``split``, ``tempo_bpm``, ``instrumental`` and ``stems``
        (stem -> float32 ``[frames, 2]``, peaking at or below -1 dBFS, mixture included).
    """
    if seconds < 4:
        raise ValueError(f"a synthetic song needs at least 4 s, got {seconds}")
    genre, split, instrumental = song_plan(index)
    style = GENRES[genre]
    rng = np.random.default_rng([seed, index])
    tempo = float(round(rng.uniform(*style.tempo), 1))
    key = int(rng.integers(33, 41))
    timeline = _Timeline(seconds, tempo, style, sample_rate)
    stems = {
        "drums": _drums(timeline, rng),
        "bass": _bass(timeline, rng, key, genre),
        "other": _other(timeline, rng, key, genre),
        "vocals": _vocals(timeline, rng, key, genre),
    }
    if instrumental:
        stems["vocals"] = np.zeros_like(stems["vocals"])
    for stem, audio in stems.items():
        audio = audio.astype(np.float32)
        measured = integrated_loudness(audio, sample_rate)
        if measured is not None:
            target = style.balance_lufs[stem] + rng.normal(0, 0.7)
            audio *= np.float32(10 ** ((target - measured) / 20))
        stems[stem] = audio
    mixture = sum(stems.values())
    peak = max(float(np.abs(a).max()) for a in [mixture, *stems.values()])
    if peak > PEAK_CEILING:
        scale = np.float32(PEAK_CEILING / peak)
        stems = {stem: audio * scale for stem, audio in stems.items()}
        mixture = mixture * scale
    stems["mixture"] = mixture
    return {
        "name": song_name(index, genre),
        "genre": genre,
        "split": split,
        "tempo_bpm": tempo,
        "instrumental": instrumental,
        "stems": {stem: stems[stem] for stem in ("mixture", *STEMS)},
    }


def write_synthetic_corpus(out, *, songs, seconds, seed, progress=False):
    """Write ``songs`` synthetic songs of ``seconds`` each to ``out`` in the MUSDB18-HQ layout.

    The corpus is written beside ``out`` and renamed into place at the end, so an interrupted
    run leaves no half corpus. ``out`` must not exist or be empty.

    Returns
    -------
    list of dict
        One row per song: ``name``, ``genre``, ``split``, ``tempo_bpm``, ``instrumental``.
    """
    import soundfile
    from tqdm import tqdm

    if songs < 1:
        raise ValueError(f"--songs must be at least 1, got {songs}")
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise FileExistsError(f"{out} already exists and is not empty; choose a new folder")
    partial = out.with_name(f".{out.name}.partial")
    if partial.exists():
        shutil.rmtree(partial)
    rows = []
    try:
        for index in tqdm(range(songs), desc="synthetic songs", unit="song", disable=not progress):
            song = render_song(index, seconds, seed)
            subset = "test" if song["split"] == "test" else "train"
            folder = partial / subset / song["name"]
            folder.mkdir(parents=True)
            for stem, audio in song["stems"].items():
                soundfile.write(folder / f"{stem}.wav", audio, SAMPLE_RATE, subtype="PCM_16")
            rows.append({key: song[key] for key in ("name", "genre", "split", "tempo_bpm", "instrumental")})
        (partial / "tracklist.csv").write_text(tracklist_csv(rows), encoding="utf-8")
        if out.exists():
            out.rmdir()
        partial.rename(out)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return rows


def tracklist_csv(rows):
    """The corpus's own ``tracklist.csv``: MUSDB18's columns plus ``Split`` and ``Tempo``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["Track Name", "Genre", "Source", "License", "Split", "Tempo"])
    for row in rows:
        writer.writerow([row["name"], row["genre"], SOURCE, LICENCE, row["split"], row["tempo_bpm"]])
    return buffer.getvalue()
