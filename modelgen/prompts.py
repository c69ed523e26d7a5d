"""Chat messages for Qwen2-Audio: which clips the model hears, how they are labelled, what it is asked.

One implementation serves the dataset build, training, generation and the advisor web page, so the
model is always asked the same question in the same words. No file I/O: clip paths are opaque
strings (relative paths in a dataset, temporary files for an upload).

Representations (the audio the model hears, always anchor first):

- ``stems`` (default): the anchor, then every other stem, each its own labelled clip;
- ``anchor_mix``: the anchor, then the mix as given (the flawed balance);
- ``stems_mix``: every stem as in ``stems``, then the mix as given.

The message format is the one of ``docs/contracts/dataset-record.schema.json``.
"""

import hashlib
import json

REPRESENTATIONS = ("stems", "anchor_mix", "stems_mix")

SYSTEM_PROMPT = (
    "You are an experienced mixing engineer. You listen to the stems of a song and say how to "
    "change the level of each stem so that the balance works, keeping the anchor stem where it is."
)

STEM_LABELS = {
    "vocals": "the vocals",
    "drums": "the drums",
    "bass": "the bass",
    "other": "the other instruments (guitars, keys, synths)",
}


def stem_label(stem):
    """How a stem is named to the model (unknown stem names are used as they are)."""
    return STEM_LABELS.get(stem, f"the {stem}")


def _join(words):
    words = list(words)
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def _check(anchor, stems, clip_paths, representation, mix_path):
    if representation not in REPRESENTATIONS:
        raise ValueError(f"unknown representation {representation!r}; expected one of {REPRESENTATIONS}")
    stems = list(stems)
    if len(stems) < 2 or len(set(stems)) != len(stems):
        raise ValueError(f"need at least two distinct stems, got {stems}")
    if stems[0] != anchor:
        raise ValueError(f"the anchor {anchor!r} must come first in the stems {stems}")
    clip_paths = [str(path) for path in clip_paths]
    needed = 1 if representation == "anchor_mix" else len(stems)
    if len(clip_paths) < needed or (representation != "anchor_mix" and len(clip_paths) != needed):
        raise ValueError(
            f"representation {representation!r} needs {needed} clip path(s) in prompt order, "
            f"got {len(clip_paths)}"
        )
    if representation != "stems" and not mix_path:
        raise ValueError(f"representation {representation!r} needs mix_path (the mix as given)")
    return stems, clip_paths


def _clips(anchor, stems, clip_paths, representation, mix_path):
    """Return ``[(label, path), ...]`` in the order the model hears them."""
    clips = [(f"the anchor, {stem_label(anchor)}", clip_paths[0])]
    if representation in ("stems", "stems_mix"):
        clips += [(stem_label(stem), path) for stem, path in zip(stems[1:], clip_paths[1:])]
    if representation in ("anchor_mix", "stems_mix"):
        clips.append(("the full mix as it is now", str(mix_path)))
    return clips


def instruction(anchor, stems, genre=None):
    """The question put to the model: keep the anchor, say what to do with each other stem."""
    others = _join(stem_label(stem).removeprefix("the ") for stem in stems[1:])
    song = f"This is a {genre.lower()} song. " if genre else ""
    return (
        f"{song}The anchor is {stem_label(anchor)}: keep it at its current level. For each of "
        f"{others}, should it go up, go down or stay as it is relative to the anchor, and by "
        "roughly how many dB?"
    )


def build_messages(
    *, anchor, stems, clip_paths, representation="stems", genre=None, mix_path=None, answer=None
):
    """Build the Qwen2-Audio chat messages for one scenario.

    Parameters
    ----------
    anchor : str
        The stem that stays put.
    stems : sequence of str
        Stem names in prompt order, anchor first (see ``modelgen.corrections.prompt_order``).
    clip_paths : sequence of str
        One 16 kHz mono clip per stem in the same order (``anchor_mix`` uses only the first).
    representation : str
        One of :data:`REPRESENTATIONS`.
    genre : str, optional
        Named in the instruction when given.
    mix_path : str, optional
        Clip of the mix as given; required by ``anchor_mix`` and ``stems_mix``.
    answer : str, optional
        The target advice; adds the assistant turn (training records).

    Returns
    -------
    list of dict
        ``[system, user(, assistant)]`` turns whose content items are
        ``{"type": "text", "text": ...}`` or ``{"type": "audio", "audio_url": ...}``.

    Examples
    --------
    >>> messages = build_messages(anchor="vocals", stems=["vocals", "drums"], clip_paths=["v.wav", "d.wav"])
    >>> [item["audio_url"] for item in messages[1]["content"] if item["type"] == "audio"]
    ['v.wav', 'd.wav']
    """
    stems, clip_paths = _check(anchor, stems, clip_paths, representation, mix_path)
    clips = _clips(anchor, stems, clip_paths, representation, mix_path)
    labels = " ".join(f"Audio {number} is {label}." for number, (label, _) in enumerate(clips, start=1))
    user = [{"type": "text", "text": labels}]
    user += [{"type": "audio", "audio_url": path} for _, path in clips]
    user.append({"type": "text", "text": instruction(anchor, stems, genre)})
    messages = [
        {"role": "system", "content": [{"type": "text", "text": SYSTEM_PROMPT}]},
        {"role": "user", "content": user},
    ]
    if answer is not None:
        messages.append({"role": "assistant", "content": [{"type": "text", "text": answer}]})
    return messages


def audio_paths(messages):
    """The audio clips of a message list, in the order the model hears them."""
    return [item["audio_url"] for turn in messages for item in turn["content"] if item["type"] == "audio"]


def prompt_sha256(messages):
    """sha256 of the prompt (every turn but an assistant answer), for advice provenance."""
    prompt = [turn for turn in messages if turn["role"] != "assistant"]
    return hashlib.sha256(json.dumps(prompt, sort_keys=True).encode("utf-8")).hexdigest()
