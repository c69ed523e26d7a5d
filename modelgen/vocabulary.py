"""Words of gain advice shared by the advice writer and the advice parser.

The writer (:mod:`modelgen.annotate`) draws its stem names, verbs and amount phrasings from
here and the parser (:mod:`modelgen.advice_parse`) recognises a superset of them, so the two
cannot drift apart: a phrasing added to the writer's lists is something the parser already
has to read (the agreement test in ``tests/modelgen/test_advice_parse.py`` checks it).

Vague amounts
-------------
Advice often gives no number. The parser then uses these defaults (dB, magnitude):

============================================  =====
words                                          dB
============================================  =====
"a touch", "slightly", "a bit", "a hair" …     2.0  (``SMALL_DB``)
no amount word at all ("too loud", "raise")    4.0  (``DEFAULT_DB``, middle of the moderate class)
"a lot", "way", "much", "significantly" …      8.0  (``LARGE_DB``, inside the large class)
"a couple of dB"                               2.0
"a few dB"                                     3.0
"several dB"                                   5.0
============================================  =====
"""

import re

SMALL_DB = 2.0
DEFAULT_DB = 4.0
LARGE_DB = 8.0

# --- stems -----------------------------------------------------------------------------------

STEM_SYNONYMS = {
    "vocals": (
        "lead vocals",
        "lead vocal",
        "lead vox",
        "lead voice",
        "lead singer",
        "rap vocals",
        "rap vocal",
        "vocal track",
        "vocal stem",
        "vocals",
        "vocal",
        "vox",
        "voices",
        "voice",
        "singers",
        "singer",
        "singing",
        "vocalist",
        "rapper",
        "lyrics",
    ),
    "drums": (
        "drum kit",
        "drum bus",
        "drum stem",
        "drum track",
        "bass drum",
        "kick drum",
        "drums",
        "drum",
        "kit",
        "percussion",
        "kick",
        "snare",
        "hi-hats",
        "hi-hat",
        "hihats",
        "hats",
        "cymbals",
        "overheads",
        "toms",
        "brushes",
    ),
    "bass": (
        "bass guitar",
        "bass line",
        "bassline",
        "bass synth",
        "bass stem",
        "upright bass",
        "double bass",
        "sub bass",
        "low end",
        "808s",
        "808",
        "bass",
        "sub",
    ),
    "other": (
        "other instruments",
        "other stem",
        "other track",
        "'other' stem",
        '"other" stem',
        "accompaniment stem",
        "guitars",
        "guitar",
        "keyboards",
        "keyboard",
        "keys",
        "synths",
        "synth",
        "pianos",
        "piano",
        "pads",
        "pad",
        "organ",
        "strings",
        "horns",
        "rhodes",
        "chords",
        "other",
    ),
}
"""Canonical stem -> the words engineers use for it (longest first within a stem)."""

STEM_NOUNS = {
    "vocals": (("vocals", True), ("vocal", False), ("lead vocal", False), ("voice", False)),
    "drums": (("drums", True), ("kit", False), ("drum bus", False)),
    "bass": (("bass", False), ("bass line", False), ("bass", False)),
    "other": (("other stem", False), ("other instruments", True), ("keys and guitars", True)),
}
"""Canonical stem -> (noun the writer may use, is it plural)."""

REST_WORDS = (
    "everything else",
    "all the rest",
    "the rest",
    "the others",
    "the other stems",
    "all the other stems",
    "the remaining stems",
    "the other tracks",
    "anything else",
)
"""Phrases meaning "every stem not named so far"."""

ALL_WORDS = (
    "the whole mix",
    "the whole thing",
    "the mix",
    "this mix",
    "the balance",
    "this balance",
    "everything",
    "all the stems",
    "all stems",
    "all four stems",
    "every stem",
    "this one",
)
"""Phrases meaning "every stem"."""

# --- amounts ---------------------------------------------------------------------------------

NUMBER_WORDS = {
    "half": 0.5,
    "one": 1.0,
    "two": 2.0,
    "three": 3.0,
    "four": 4.0,
    "five": 5.0,
    "six": 6.0,
    "seven": 7.0,
    "eight": 8.0,
    "nine": 9.0,
    "ten": 10.0,
    "eleven": 11.0,
    "twelve": 12.0,
    "fifteen": 15.0,
    "twenty": 20.0,
}

VAGUE_AMOUNTS_DB = {
    "a couple of db": 2.0,
    "a couple of decibels": 2.0,
    "a couple db": 2.0,
    "a db or two": 1.5,
    "a decibel or two": 1.5,
    "a few db": 3.0,
    "a few decibels": 3.0,
    "several db": 5.0,
    "several decibels": 5.0,
    "half a db": 0.5,
    "a db": 1.0,
    "a decibel": 1.0,
}
"""Amount phrases without a digit, in dB (magnitude)."""

SMALL_WORDS = (
    "a little bit",
    "a little",
    "a tiny bit",
    "a touch",
    "a tad",
    "a hair",
    "a smidge",
    "a notch",
    "a bit",
    "slightly",
    "subtly",
    "gently",
    "just a",
    "nudge",
    "marginally",
)
LARGE_WORDS = (
    "a great deal",
    "quite a lot",
    "quite a bit",
    "a good bit",
    "a fair bit",
    "a whole lot",
    "a lot",
    "a ton",
    "big time",
    "way",
    "much",
    "massively",
    "significantly",
    "considerably",
    "substantially",
    "heavily",
    "drastically",
    "seriously",
    "hugely",
    "really",
)

# --- writer's verbs ----------------------------------------------------------------------------
# "{x}" is the stem noun phrase, "{amt}" the amount phrase.

UP_IMPERATIVES = (
    "bring {x} up {amt}",
    "bring up {x} {amt}",
    "push {x} up {amt}",
    "raise {x} {amt}",
    "lift {x} {amt}",
    "turn {x} up {amt}",
    "boost {x} {amt}",
    "give {x} {amt} more",
    "ride {x} up {amt}",
)
DOWN_IMPERATIVES = (
    "pull {x} down {amt}",
    "pull {x} back {amt}",
    "bring {x} down {amt}",
    "tuck {x} back {amt}",
    "back {x} off {amt}",
    "cut {x} {amt}",
    "lower {x} {amt}",
    "turn {x} down {amt}",
    "drop {x} {amt}",
    "ease {x} back {amt}",
    "take {amt} off {x}",
)
UP_SUBJECT = (
    "{X} {need} to come up {amt}",
    "{X} could do with {amt} more",
    "{X} {want} pushing up {amt}",
    "{X} should come up {amt}",
)
DOWN_SUBJECT = (
    "{X} {need} to come down {amt}",
    "{X} should drop {amt}",
    "{X} {want} pulling back {amt}",
    "{X} could lose {amt}",
)
UP_DIAGNOSES = (
    "{X} {be} buried under the {anchor}",
    "{X} {be} getting lost behind the {anchor}",
    "{X} {be} too quiet against the {anchor}",
    "{X} {be} sitting too far back",
    "{X} {be} hard to hear",
)
UP_DIAGNOSES_LARGE = (
    "{X} {be} way too quiet",
    "{X} {be} completely buried under the {anchor}",
    "I can barely hear {x}",
)
DOWN_DIAGNOSES = (
    "{X} {be} too loud against the {anchor}",
    "{X} {be} sticking out",
    "{X} {be} a bit hot",
    "{X} {be} too far forward",
    "{X} {be} stepping on the {anchor}",
)
DOWN_DIAGNOSES_LARGE = (
    "{X} {be} way too loud",
    "{X} {be} swamping the {anchor}",
    "{X} {be} completely overpowering the {anchor}",
)
LEAVE_PHRASES = (
    "{X} {sit} well against the {anchor}",
    "{X} {be} already balanced against the {anchor}",
    "leave {x} where {it_is}",
    "{X} {be} fine as {it_is}",
    "no need to touch {x}",
    "{X} {be} in a good place",
    "I'd leave {x} alone",
    "{X} {be} spot on",
    "don't touch {x}",
)
BALANCED_OPENINGS = (
    "This mix is already balanced against the {anchor}, so leave it as it is.",
    "Nothing to fix here: the balance around the {anchor} is right.",
    "Honestly, I wouldn't change anything; the balance against the {anchor} is already there.",
    "This one is balanced. Leave it alone.",
    "The balance is good as it is; no changes needed.",
    "I'd leave this mix exactly as it is: it's balanced against the {anchor}.",
)

# --- genres ------------------------------------------------------------------------------------

GENRE_FAMILIES = {
    "pop": "pop",
    "rap": "rap",
    "hip hop": "rap",
    "hip-hop": "rap",
    "country": "country",
    "singer/songwriter": "singer-songwriter",
    "singer-songwriter": "singer-songwriter",
    "rock": "rock",
    "pop/rock": "pop-rock",
    "heavy metal": "metal",
    "metal": "metal",
    "jazz": "jazz",
    "electronic": "electronic",
    "reggae": "reggae",
}


def genre_family(genre):
    """Return the convention family of a genre name (``"Pop/Rock"`` -> ``"pop-rock"``), or ``""``.

    Unknown genres get ``""``: the writer then uses no genre-specific wording.
    """
    key = re.sub(r"\s+", " ", str(genre or "").strip().lower())
    return GENRE_FAMILIES.get(key, "")


GENRE_LABELS = {
    "pop": "pop",
    "rap": "rap",
    "country": "country",
    "singer-songwriter": "a singer-songwriter track",
    "rock": "rock",
    "pop-rock": "pop-rock",
    "metal": "metal",
    "jazz": "jazz",
    "electronic": "electronic music",
    "reggae": "reggae",
}

VOCALS_UP_REASONS = {
    "pop": ("in pop the vocal has to sit on top", "pop wants the vocal clearly on top"),
    "rap": ("in rap the vocal has to ride on top of the beat", "rap vocals need to sit on top"),
    "country": ("country vocals sit on top of the band",),
    "singer-songwriter": ("the voice is the point of a singer-songwriter track",),
    "rock": ("even in rock the vocal needs to be level with the band, not under it",),
    "pop-rock": ("in pop-rock the vocal belongs just over the band",),
    "metal": ("metal vocals can sit inside the guitars, but not this far under them",),
    "jazz": ("jazz wants a natural, acoustic balance",),
    "reggae": ("reggae vocals sit on top of the riddim",),
}
"""Why the vocals go up, by genre family (Gerdes & Siedenburg 2023: lead vocal above the
accompaniment in pop, rap and country, about level in rock, below it in metal)."""

VOCALS_DOWN_REASONS = {
    "pop": ("pop wants the vocal on top, just not by this much",),
    "rap": ("rap vocals sit on top, just not by this much",),
    "country": ("country vocals sit on top, just not by this much",),
    "rock": ("rock vocals sit level with the band rather than riding over it",),
    "pop-rock": ("in pop-rock the vocal sits just over the band",),
    "metal": ("in metal the vocal sits into the guitars",),
    "jazz": ("jazz wants a natural, acoustic balance",),
}

ACCOMPANIMENT_DOWN_REASONS = {
    "pop": ("the vocal has to stay on top in pop",),
    "rap": ("the vocal has to stay on top in rap",),
    "country": ("the vocal has to stay on top in country",),
    "singer-songwriter": ("the voice has to stay on top here",),
    "jazz": ("jazz wants a natural, acoustic balance",),
}
"""Why a non-vocal stem goes down when the vocals are the anchor."""

BALANCED_NOTES = {
    "pop": "That's where pop wants it: the vocal on top and the band behind it.",
    "rap": "That's how rap should sit, with the vocal on top of the beat.",
    "country": "That's the country convention, with the vocal on top of the band.",
    "singer-songwriter": "The voice leads, which is what this kind of song needs.",
    "rock": "That's a proper rock balance, with the vocal level with the band.",
    "pop-rock": "For pop-rock that's right, with the vocal just over the band.",
    "metal": "For metal that's right, with the vocal sitting into the guitars.",
    "jazz": "It has the natural, acoustic balance jazz wants.",
    "electronic": "The kick and bass carry it, as electronic music should.",
}
