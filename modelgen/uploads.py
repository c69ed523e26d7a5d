"""Validate and normalise the stems an engineer uploads to the advisor.

Pure checks (``check_*``, ``probe``, ``planned_notices``, ``conform``) return error messages or
notices written for the engineer; one service, :func:`uploads_save`, writes the files. Errors
refuse the upload and say how to fix it (not audio, an unsupported format, too many stems, too
long, too large). Differences the advisor can handle are fixed and reported as notices: sample
rates differ (resampled to the highest), lengths differ (shorter stems padded with silence),
mono and stereo mixed (mono played in both channels), several stems with one role (summed),
silent stems (never moved by the advice) and clipping.

Uploads are stored outside the web root, under ``DATA_DIR/uploads/<random folder>/`` with
random file names; the original names are only shown, never used as paths.
"""

import secrets
import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from modelgen.audio import AudioError, check_audio, integrated_loudness, resample
from modelgen.corrections import STEMS

ACCEPTED_FORMATS = {"WAV": "WAV", "WAVEX": "WAV", "RF64": "WAV", "W64": "WAV", "FLAC": "FLAC", "AIFF": "AIFF"}
"""libsndfile major formats the advisor accepts -> the name shown to the engineer."""

UNSUPPORTED_EXTENSIONS = {
    ".mp3": "MP3",
    ".m4a": "AAC",
    ".aac": "AAC",
    ".ogg": "Ogg",
    ".oga": "Ogg",
    ".opus": "Opus",
    ".wma": "WMA",
    ".mp4": "MP4",
    ".caf": "CAF",
}
"""Compressed or container formats named by extension, so the message names them even where
libsndfile cannot open them."""

CLIP_LEVEL = 0.999
"""A sample at or above this magnitude (just under full scale) counts as full scale."""

CLIP_RUN = 3
"""Consecutive full-scale samples that count as one clipped stretch."""

MIN_SECONDS = 1.0
"""Shortest stem accepted: BS.1770 loudness needs a few 400 ms gating blocks."""

FORMATS_HINT = "upload WAV, FLAC or AIFF files"


class UploadRejected(ValueError):
    """The upload cannot be used; ``errors`` lists every reason, each written for the engineer."""

    def __init__(self, errors):
        self.errors = list(errors)
        super().__init__("; ".join(self.errors))


@dataclass(frozen=True)
class UploadLimits:
    """What one advisor request may carry (settings ``MIXADVICE_ADVISOR_*``)."""

    max_stems: int = 8
    max_seconds: float = 600.0
    max_total_bytes: int = 200 * 1024 * 1024
    min_stems: int = 2

    def __post_init__(self):
        if not 2 <= self.min_stems <= self.max_stems:
            raise ValueError(f"stem limits must satisfy 2 <= min_stems <= max_stems, got {self}")
        if self.max_seconds < MIN_SECONDS or self.max_total_bytes <= 0:
            raise ValueError(f"duration and size limits must be positive, got {self}")

    @classmethod
    def from_settings(cls):
        from django.conf import settings

        return cls(
            max_stems=settings.MIXADVICE_ADVISOR_MAX_STEMS,
            max_seconds=float(settings.MIXADVICE_ADVISOR_MAX_SECONDS),
            max_total_bytes=settings.MIXADVICE_ADVISOR_MAX_UPLOAD_MB * 1024 * 1024,
        )

    @property
    def max_total_mb(self):
        return self.max_total_bytes / (1024 * 1024)


@dataclass(frozen=True)
class StemInfo:
    """What the header of one stem file says."""

    name: str
    audio_format: str
    sample_rate: int
    channels: int
    frames: int
    size_bytes: int

    @property
    def seconds(self):
        return self.frames / self.sample_rate


@dataclass
class SavedUploads:
    """Files written by :func:`uploads_save`: the folder, and per stem its info and stored name."""

    folder: str
    infos: list
    stored_names: list
    notices: list = field(default_factory=list)


@dataclass
class Conformed:
    """Stems brought to one rate, width and length, one array per role."""

    sample_rate: int
    stems: dict
    notices: list
    silent: list


def uploads_root():
    """Where uploads live: ``DATA_DIR/uploads`` (outside the web root)."""
    from django.conf import settings

    return Path(settings.DATA_DIR) / "uploads"


def _duration(seconds):
    """``2.5 s``, ``10 minutes`` or ``10 min 1 s``."""
    if seconds < 60:
        return f"{seconds:g} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} minutes" if rest == 0 else f"{minutes} min {rest} s"


def check_count(count, limits):
    """Errors for too few or too many stems."""
    if count < limits.min_stems:
        return [
            f"Upload at least {limits.min_stems} stems (got {count}): the advice compares stems with an anchor."
        ]
    if count > limits.max_stems:
        return [f"Upload at most {limits.max_stems} stems (got {count}); combine related stems first."]
    return []


def check_total_size(sizes, limits):
    """Error when the files together are larger than the limit."""
    total = sum(sizes)
    if total > limits.max_total_bytes:
        return [
            f"The stems are {total / (1024 * 1024):.1f} MB together, over the limit of "
            f"{limits.max_total_mb:g} MB; upload shorter excerpts or FLAC files."
        ]
    return []


def check_extension(name):
    """Error for a file whose extension names a format the advisor refuses, else ``None``."""
    suffix = Path(name).suffix.lower()
    if suffix in UNSUPPORTED_EXTENSIONS:
        return f"{name} is {UNSUPPORTED_EXTENSIONS[suffix]} audio, which is not supported: {FORMATS_HINT}."
    return None


def probe(path, name, size_bytes):
    """Read the header of an uploaded file and return its :class:`StemInfo`.

    Raises
    ------
    UploadRejected
        When the file is not audio or is in a format other than WAV, FLAC or AIFF.
    """
    import soundfile

    unsupported = check_extension(name)
    if unsupported:
        raise UploadRejected([unsupported])
    try:
        info = soundfile.info(str(path))
    except (soundfile.LibsndfileError, RuntimeError, TypeError):
        raise UploadRejected([f"{name} is not an audio file (or it is damaged): {FORMATS_HINT}."]) from None
    shown = ACCEPTED_FORMATS.get(info.format)
    if shown is None:
        raise UploadRejected([f"{name} is {info.format} audio, which is not supported: {FORMATS_HINT}."])
    if info.frames <= 0 or info.samplerate <= 0:
        raise UploadRejected([f"{name} holds no audio samples."])
    return StemInfo(
        name=name,
        audio_format=shown,
        sample_rate=int(info.samplerate),
        channels=int(info.channels),
        frames=int(info.frames),
        size_bytes=int(size_bytes),
    )


def check_info(info, limits):
    """Errors for one stem: too many channels, too long, too short."""
    errors = []
    if info.channels > 2:
        errors.append(f"{info.name} has {info.channels} channels; upload mono or stereo stems.")
    if info.seconds > limits.max_seconds:
        errors.append(
            f"{info.name} is {_duration(round(info.seconds, 1))} long, over the limit of "
            f"{_duration(limits.max_seconds)}; upload an excerpt."
        )
    if info.seconds < MIN_SECONDS:
        errors.append(f"{info.name} is {info.seconds:.2f} s long; stems must be at least {MIN_SECONDS:g} s.")
    return errors


def check_roles(roles, anchor_index):
    """Errors for the roles given to the stems and the stem marked as the anchor."""
    errors = []
    unknown = sorted({role for role in roles if role not in STEMS})
    if unknown:
        errors.append(f"Unknown stem roles {unknown}; each stem is one of {', '.join(STEMS)}.")
    if anchor_index is None or not 0 <= anchor_index < len(roles):
        errors.append("Mark one stem as the anchor: the stem that stays where it is.")
    if len(set(roles)) < 2:
        errors.append(
            "Give the stems at least two different roles (for example vocals and drums): "
            "the advice moves other stems relative to the anchor."
        )
    return errors


def planned_notices(infos, roles):
    """Notices for differences between stems that :func:`conform` will fix (from the headers only)."""
    notices = []
    rates = {info.sample_rate for info in infos}
    if len(rates) > 1:
        listed = ", ".join(f"{info.name} {info.sample_rate} Hz" for info in infos)
        notices.append(f"Sample rates differ ({listed}): every stem is resampled to {max(rates)} Hz.")
    lengths = {info.frames * max(rates) // info.sample_rate for info in infos}
    if len(lengths) > 1:
        listed = ", ".join(f"{info.name} {info.seconds:.2f} s" for info in infos)
        longest = max(info.seconds for info in infos)
        notices.append(
            f"Lengths differ ({listed}): shorter stems are padded with silence to {longest:.2f} s."
        )
    widths = {info.channels for info in infos}
    if widths == {1, 2}:
        mono = ", ".join(info.name for info in infos if info.channels == 1)
        notices.append(f"Mono and stereo stems are mixed: the mono stems ({mono}) play in both channels.")
    for role, count in Counter(roles).items():
        if count > 1:
            names = ", ".join(info.name for info, r in zip(infos, roles) if r == role)
            notices.append(f"{names} all have the role {role}: they are summed into one {role} stem.")
    return notices


def clipped_stretches(audio):
    """Number of places where at least :data:`CLIP_RUN` consecutive samples sit at full scale."""
    audio = check_audio(audio)
    full = np.abs(audio) >= CLIP_LEVEL
    count = 0
    for channel in full.T:
        padded = np.concatenate(([False], channel, [False]))
        edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
        starts, ends = edges[::2], edges[1::2]
        count += int(np.sum(ends - starts >= CLIP_RUN))
    return count


def is_silent(audio, sample_rate):
    """True when BS.1770 integrated loudness finds nothing above the absolute gate (-70 LUFS)."""
    return integrated_loudness(audio, sample_rate) is None


def conform(stems):
    """Bring stems to one sample rate, channel count and length, summed per role.

    Parameters
    ----------
    stems : list of tuple
        ``(name, role, audio, sample_rate)`` per file, audio float ``[frames, channels]``.

    Returns
    -------
    Conformed
        ``sample_rate`` (the highest given), ``stems`` (role -> float32 audio, stereo when any
        stem is stereo, all as long as the longest), ``notices`` (clipping and silence; the
        differences fixed here are announced by :func:`planned_notices`) and ``silent`` (roles
        that are silent after summing).
    """
    if not stems:
        raise AudioError("no stems given")
    target_rate = max(rate for _, _, _, rate in stems)
    width = max(check_audio(audio, name).shape[1] for name, _, audio, _ in stems)
    notices = []
    prepared = []
    for name, role, audio, rate in stems:
        audio = check_audio(audio, name)
        clips = clipped_stretches(audio)
        if clips:
            notices.append(
                f"{name} clips ({clips} stretch{'es' if clips != 1 else ''} at full scale): "
                "the advice is only as good as the stem; export it again with headroom if you can."
            )
        audio = resample(audio, rate, target_rate)
        if audio.shape[1] < width:
            audio = np.repeat(audio, width, axis=1)
        prepared.append((role, audio))
    length = max(audio.shape[0] for _, audio in prepared)
    summed = {}
    for role, audio in prepared:
        if audio.shape[0] < length:
            audio = np.pad(audio, ((0, length - audio.shape[0]), (0, 0)))
        summed[role] = summed[role] + audio if role in summed else audio.copy()
    ordered = {role: summed[role].astype(np.float32, copy=False) for role in STEMS if role in summed}
    silent = [role for role, audio in ordered.items() if is_silent(audio, target_rate)]
    for role in silent:
        notices.append(f"The {role} stem is silent: the advice never moves it.")
    return Conformed(sample_rate=target_rate, stems=ordered, notices=notices, silent=silent)


def _write_upload(uploaded, path):
    with open(path, "xb") as handle:
        for chunk in uploaded.chunks():
            handle.write(chunk)


def uploads_save(*, files, roles, anchor_index, limits, root=None):
    """Validate uploaded stem files and store them under a new random folder.

    Parameters
    ----------
    files : list
        Django ``UploadedFile`` objects (``name``, ``size``, ``chunks()``), in the order given.
    roles : list of str
        The role of each file (one of :data:`modelgen.corrections.STEMS`).
    anchor_index : int or None
        Index of the file marked as the anchor.
    limits : UploadLimits
    root : pathlib.Path, optional
        Uploads directory; :func:`uploads_root` by default.

    Returns
    -------
    SavedUploads
        The folder name (relative to ``root``), each stem's :class:`StemInfo` and stored file
        name, and the notices of :func:`planned_notices`.

    Raises
    ------
    UploadRejected
        With every reason the upload cannot be used. Nothing stays on disk.
    """
    root = Path(root) if root is not None else uploads_root()
    errors = check_count(len(files), limits)
    if errors:
        raise UploadRejected(errors)
    errors = check_total_size([uploaded.size for uploaded in files], limits)
    errors += [message for message in map(check_extension, (uploaded.name for uploaded in files)) if message]
    errors += check_roles(roles, anchor_index)
    if errors:
        raise UploadRejected(errors)
    folder = secrets.token_hex(16)
    target = root / folder
    target.mkdir(parents=True, mode=0o750)
    try:
        infos, stored = [], []
        for uploaded in files:
            stored_name = f"{secrets.token_hex(12)}.upload"
            _write_upload(uploaded, target / stored_name)
            try:
                info = probe(target / stored_name, uploaded.name, uploaded.size)
            except UploadRejected as rejected:
                errors += rejected.errors
                continue
            errors += check_info(info, limits)
            infos.append(info)
            stored.append(stored_name)
        if errors:
            raise UploadRejected(errors)
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise
    return SavedUploads(
        folder=folder, infos=infos, stored_names=stored, notices=planned_notices(infos, roles)
    )


def files_copy(*, paths, limits, root=None):
    """Store copies of stem files already on disk (a demo song) exactly like an upload.

    ``paths`` are the source files in order; returns :class:`SavedUploads`. Raises
    :class:`UploadRejected` when a file is not usable audio.
    """
    root = Path(root) if root is not None else uploads_root()
    folder = secrets.token_hex(16)
    target = root / folder
    target.mkdir(parents=True, mode=0o750)
    try:
        infos, stored, errors = [], [], []
        for path in paths:
            path = Path(path)
            stored_name = f"{secrets.token_hex(12)}.upload"
            shutil.copyfile(path, target / stored_name)
            info = probe(target / stored_name, path.name, path.stat().st_size)
            errors += check_info(info, limits)
            infos.append(info)
            stored.append(stored_name)
        if errors:
            raise UploadRejected(errors)
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise
    return SavedUploads(folder=folder, infos=infos, stored_names=stored)
