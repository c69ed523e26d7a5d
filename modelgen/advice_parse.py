"""Free-text gain advice -> per stem: up / down / leave and an amount in dB.

One parser serves every caller: it fills ``corrections_db`` of advice records (the model's
output, the baselines, user text in the "try the advisor" page) and scores the fine-tuned
model against its targets.

Why a hand-written grammar
--------------------------
The language is a small closed domain (four stems, three directions, amounts in dB) where
the hard parts are domain idioms ("tuck the guitars under the vocal", "the kit is stepping
on the voice", "don't touch the bass"), not general syntax. A general parser (spaCy, stanza)
would need model weights this project cannot download at run time, still need all the
domain rules on top, and be slower and less predictable; no maintained library extracts gain
moves. So the parser is regular expressions over a small clause segmenter, deterministic and
linear in the length of the text.

How it reads
------------
1. Normalise (NFKC, lower case, straight quotes, "3–5 dB" -> "3 to 5 dB").
2. Split into sentences, then clauses (commas, dashes, "but", "while", "so", …; "and" only
   when both sides carry a cue, so "bring the bass and drums down" stays one clause).
3. In each clause find stem mentions (synonyms in :data:`modelgen.vocabulary.STEM_SYNONYMS`),
   "everything else" / "the mix" phrases, pronouns, amounts and cues (direction verbs and
   particles, diagnoses such as "too loud" or "buried", leave phrases). A stem after "against",
   "under", "than", "drowning out", … is a reference, not a target.
4. Each target stem takes the strongest cue nearest to it; a negation before a move cue turns
   it into "leave" ("don't bring the bass up"). A clause with a cue but no stem applies to the
   stems of the previous clause when it has a pronoun ("pull them down 3 dB") or a dangling
   stem ("Drums: down 3 dB"); a leave cue with no antecedent means the whole mix.
5. A later statement about a stem replaces an earlier one, except that an explicit amount is
   kept over a vague one in the same direction. "Everything else" statements fill the stems
   not named anywhere. The anchor, when given, is dropped from the result.

Amounts: a number with a unit (dB, decibels, LU), a range ("3 to 5 dB" -> 4, range kept),
a signed number ("-3 dB", "+2"), "by 3", or a vague phrase; no amount -> the defaults in
:mod:`modelgen.vocabulary` (2 dB for "a touch", 4 dB plain, 8 dB for "a lot"). Amounts are
clipped to the contract's ±60 dB.

Known limits: EQ advice ("cut 3 dB at 200 Hz") reads as a gain move; comparisons between two
stems that name no direction for either ("the drums are louder than the bass") are read as
the first stem being too loud; sarcasm and conditionals are read literally.
"""

import math
import re
import unicodedata
from dataclasses import dataclass

from modelgen import vocabulary as vocab
from modelgen.corrections import DOWN, LEAVE, STEMS, UP

MAX_DB = 60.0
ALL, REST = "*all", "*rest"


@dataclass(frozen=True)
class ParsedCorrection:
    """What the advice says about one stem.

    Attributes
    ----------
    direction : str
        ``up``, ``down`` or ``leave`` as the text states it.
    db : float
        Signed amount in dB (0.0 for leave); a default when the text gives none.
    range : tuple of float or None
        Signed (low, high) when the text gives a range, else None.
    source : str
        The (normalised) clause the statement came from.
    """

    direction: str
    db: float
    range: tuple | None
    source: str


def parse_advice(text, *, stems=STEMS, anchor=None):
    """Parse advice text into per-stem corrections.

    Parameters
    ----------
    text : str
        Any text; empty or unrelated text gives an empty dict.
    stems : sequence of str
        Stems to report (others are ignored).
    anchor : str, optional
        Dropped from the result: the anchor is never moved.

    Returns
    -------
    dict
        stem -> :class:`ParsedCorrection` for every stem the text says something about.

    Examples
    --------
    >>> parse_advice("Bring the vocals up 3 to 5 dB and don't touch the bass.")["vocals"].db
    4.0
    >>> parse_advice("Don't touch the bass.")["bass"].direction
    'leave'
    """
    if not isinstance(text, str):
        raise TypeError(f"advice text must be a str, got {type(text).__name__}")
    statements = _Reader().read(normalise(text))
    return _resolve(statements, stems=tuple(stems), anchor=anchor)


def corrections_db(text, *, stems=STEMS, anchor=None):
    """Stem -> signed correction in dB (0 = leave) for the stems the text mentions.

    This is the ``corrections_db`` field of an advice record.

    Examples
    --------
    >>> corrections_db("The drums are way too loud; everything else sits well.", anchor="vocals")
    {'drums': -8.0, 'bass': 0.0, 'other': 0.0}
    """
    parsed = parse_advice(text, stems=stems, anchor=anchor)
    return {stem: parsed[stem].db for stem in stems if stem in parsed}


# --- normalisation --------------------------------------------------------------------------

_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "\u2212": "-"})
_NUM = r"(?:\d+(?:\.\d+)?|" + "|".join(sorted(vocab.NUMBER_WORDS, key=len, reverse=True)) + r")"


def normalise(text):
    """Lower-case, NFKC, straight quotes and minus signs, number ranges written with "to"."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES).lower()
    text = re.sub(r"(?<=\d)\s*(?:db)?\s*[-\u2010-\u2015]\s*(?=\d)", " to ", text)
    text = re.sub(r"[ \t\u00a0]+", " ", text)
    return text


# --- lexicon as regular expressions -----------------------------------------------------------


def _alternation(words):
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


_SYNONYM_TO_STEM = {word: stem for stem, words in vocab.STEM_SYNONYMS.items() for word in words}
_STEM_RE = re.compile(r"(?<![\w-])(" + _alternation(_SYNONYM_TO_STEM) + r")(?![\w-])")
_OTHER_NOT_A_STEM_AFTER = re.compile(
    r"\s+(?:hand|than|way|words?|side|stems?|tracks?|things?|elements?|parts?|changes?|moves?|"
    r"adjustments?|issues?|problems?|ones?|sounds?|mix(?:es)?|genres?|songs?|people|engineers?|"
    r"days?|times?|options?|stuff|levels?|sections?|instrument)\b"
)
_OTHER_NOT_A_STEM_BEFORE = re.compile(r"(?:\beach|\bevery|\bno|\bany|\bsome|\bon the|\bthe one or the)\s+$")
_GROUP_RE = re.compile(
    r"\b(?P<rest>"
    + _alternation(vocab.REST_WORDS)
    + r")\b|\b(?P<all>"
    + _alternation(vocab.ALL_WORDS)
    + r")\b"
)
_PRONOUN_RE = re.compile(
    r"\b(?:it|its|it's|them|they|they're|those|these|both|'em|em|that one|he|she|him|her|his)\b"
)
_ALSO_RE = re.compile(r"\b(?:too|as well|also|likewise|same (?:goes )?for|same with|the same)\b")
_REFERENCE_BEFORE = re.compile(
    r"(?:\bagainst|\brelative to|\bcompared (?:to|with)|\bthan|\bunder|\bover|\babove|\bbelow|\bbeneath|"
    r"\bunderneath|\bbehind|\baround|\bwith|\bnext to|\balongside|\bbeside|\bon top of|\blevel with|"
    r"\bin line with|\bto match|\bmatch|\bversus|\bvs\.?|\bin relation to|\bdrown(?:s|ing)? out|"
    r"\bbur(?:y|ies|ying)|\bmask(?:s|ing)?|\bcover(?:s|ing)?(?: up)?|\bstep(?:s|ping)? on|"
    r"\bswamp(?:s|ing)?|\boverpower(?:s|ing)?|\boverwhelm(?:s|ing)?|\bfight(?:s|ing)?(?: with)?|"
    r"\bcompet(?:es|ing) with|\bclash(?:es|ing) with|\bfor|\bwhere|\binside|\bbetween|\bsupport(?:s|ing)?)"
    r"\s+(?:the\s+|a\s+|that\s+|this\s+|your\s+|our\s+|my\s+|those\s+|these\s+|all\s+the\s+|both\s+)?$"
)
_REFERENCE_AFTER = re.compile(r"^\s*(?:,\s*)?(?:as|is|are)\s+(?:the|our|my|your)\s+(?:reference|anchor)\b")
_LIST_JOIN = re.compile(r"^\s*(?:,|and|&|or|plus|,\s*and)?\s*(?:the\s+)?$")
_NEGATION_RE = re.compile(
    r"\b(?:not|no|never|without|neither|nor|nothing|dont|cannot)\b|n't\b|\bdo not\b|\bdoes not\b"
)

_NOT_UP = r"(?!\s+(?:to\s+(?:\d|about|around|roughly|maybe)|until|against))"
_CUE_PATTERNS = [
    # (pattern, direction, priority); earlier patterns win overlapping text.
    (
        r"(?:\bnot|n't)\s+(?:\w+\s+)?(?:loud|present|audible|prominent|forward|up front|upfront|hot) enough\b",
        UP,
        3,
    ),
    (r"(?:\bnot|n't)\s+(?:\w+\s+)?enough\b(?!\s+to\b)", UP, 3),
    (r"\b(?:loud|present|audible|prominent) enough\b", LEAVE, 2),
    (
        r"\b(?:is|are|'s|'re|sits?|sitting|comes? across|feels?|seems?)\s+(?:\w+\s+){0,2}?(?:louder|hotter|higher) than\b",
        DOWN,
        3,
    ),
    (r"\b(?:way|miles|too far|far too)\s+(?:out\s+)?(?:in front|on top|out front|up front|above)\b", DOWN, 3),
    (
        r"\btoo\s+(?:far\s+(?:forward|up|out front|in front|on top)|loud|hot|high|prominent|forward|present|strong|big|heavy|dominant|much|upfront|up front|aggressive|boomy)\b",
        DOWN,
        3,
    ),
    (
        r"\btoo\s+(?:far\s+(?:back|down|behind|away|under)|quiet|soft|low|weak|buried|distant|thin|timid|polite|shy|recessed|small|faint|subtle|tucked|little)\b",
        UP,
        3,
    ),
    (r"\bcan(?:'t|not| not)\s+(?:really\s+|even\s+)?hear\b", UP, 3),
    (r"\bcan\s+(?:barely|hardly|only just|just about|scarcely)\s+(?:even\s+)?hear\b", UP, 3),
    (r"\b(?:hard|difficult|impossible|tough|struggling|struggle)\s+to\s+(?:hear|make out|pick out)\b", UP, 3),
    (r"\b(?:barely|hardly)\s+(?:audible|there|present)\b", UP, 3),
    (
        r"\b(?:drown(?:s|ing)? out|bur(?:y|ies|ying)|mask(?:s|ing)|swamp(?:s|ing)|overpower(?:s|ing)?|overwhelm(?:s|ing)?|dominat(?:es|ing)|step(?:s|ping)? on|stomp(?:s|ing)? on|cover(?:s|ing) up|eat(?:s|ing) up|walk(?:s|ing)? all over|fight(?:s|ing)?(?: with)?|smash(?:es|ing))\b",
        DOWN,
        3,
    ),
    (
        r"\b(?:sticks?|sticking|pokes?|poking|jumps?|jumping|leaps?|leaping|sticks out|pops?|popping) out\b",
        DOWN,
        3,
    ),
    (
        r"\b(?:buried|lost|drowned(?: out)?|drowning|masked|hidden|hiding|swamped|swallowed|smothered|overpowered|overwhelmed|obscured|recessed|inaudible|underpowered|under-?level(?:l)?ed|missing|lacking|too far away)\b",
        UP,
        3,
    ),
    (
        r"\b(?:needs?|could use|could do with|wants?|would benefit from|calls? for|deserves?|requires?)\s+(?:[^\s,]+\s+){0,4}?more\b",
        UP,
        3,
    ),
    (
        r"\b(?:needs?|could use|could do with|wants?|would benefit from|requires?)\s+(?:[^\s,]+\s+){0,4}?less\b",
        DOWN,
        3,
    ),
    (r"\bbring(?:s|ing)?\s+(?:[^\s,]+\s+){0,4}?out\b", UP, 3),
    (
        r"\b(?:needs?|give|giving|add|adding)\s+(?:[^\s,]+\s+){0,2}?(?:at least|another|an extra|extra|more|a further)\b",
        UP,
        3,
    ),
    (r"\btake\s+(?:[^\s,]+\s+){0,6}?(?:off|away)\b", DOWN, 3),
    (r"\b(?:leave|leaving|left)\s+(?:[^\s,]+\s+){0,4}?(?:down|up|louder|quieter)\b", None, 0),
    (r"\bup\b" + _NOT_UP, UP, 3),
    (
        r"\b(?:raise|raising|raised|lift|lifting|lifted|boost|boosting|boosted|increase|increasing|increased|crank|cranking|cranked|amplify|louder|higher|bump|bumping|bumped|feature|featuring|forward|upfront|out front|to the front|front and cent(?:er|re))\b",
        UP,
        3,
    ),
    (
        r"\b(?:down|back|lower|lowering|lowered|cut|cutting|reduce|reducing|reduced|decrease|decreasing|decreased|drop|dropping|dropped|tuck|tucking|tucked|attenuate|attenuating|tame|taming|trim|trimming|shave|shaving|duck|ducking|quieter|softer|rein(?:ing)? in|ease off|ease|easing|lose|losing|sink|softened|dip|dipping)\b",
        DOWN,
        3,
    ),
    (
        r"\b(?:sits?|sitting)\s+(?:really\s+|just\s+|pretty\s+|nicely\s+|very\s+)?(?:well|fine|nicely|right|perfectly|great|good|where)\b",
        LEAVE,
        2,
    ),
    (
        r"\b(?:is|are|'s|'re|sounds?|looks?|feels?|seems?)\s+(?:[^\s,]+\s+){0,2}?(?:fine|good|great|ok|okay|right|perfect|spot on|spot-on|balanced|solid|in a good place|in the right place|where (?:it|they) should be|sitting well|level)\b",
        LEAVE,
        2,
    ),
    (
        r"\b(?:(?:don't|do not|wouldn't|would not|no need to|needn't|don't need to|doesn't need to|shouldn't|won't|dont) (?:touch|change|move|adjust|do anything|mess with|worry about|fiddle with|bother)(?: with)?|no need to (?:do anything|worry)|doesn't need (?:moving|changing|touching|anything)|don't need (?:moving|changing|touching|anything)|nothing to (?:fix|change|do|move|adjust)|nothing needs|no (?:changes?|adjustments?|tweaks?|moves?)|nothing wrong|no problems?|no issues?)\b",
        LEAVE,
        2,
    ),
    (
        r"\b(?:balanced|spot on|spot-on|in a good place|in the right place|where it is|where they are|as it is|as they are|as is|fine|leave|leaving|keep|keeping|stays?|staying|hold|untouched|unchanged|alone|good as it is|happy with|sounds good|sound good|works|working)\b",
        LEAVE,
        2,
    ),
    (r"\b(?:push|pushing|pushed|add|adding|more|gain)\b(?!\s+than)", UP, 1),
    (r"\b(?:pull|pulling|pulled|less|taking)\b(?!\s+than)", DOWN, 1),
    (r"\b(?:quiet|soft|weak|faint|thin|distant|low)\b", UP, 1),
    (r"\b(?:loud|hot|harsh|overbearing|dominant|in your face)\b", DOWN, 1),
]
_CUES = [(re.compile(p), d, prio) for p, d, prio in _CUE_PATTERNS]

_UNIT = r"\s*-?\s*(?:db|dbs|decibels?|lu)\b"
_AMOUNT_PATTERNS = [
    ("range", re.compile(rf"\bbetween\s+({_NUM})\s*(?:db\s*)?and\s+({_NUM}){_UNIT}")),
    ("range", re.compile(rf"(?<![\w.])({_NUM})\s*(?:db\s*)?(?:to|or)\s+({_NUM})(?:\s*-?\s*ish)?{_UNIT}")),
    ("vague", re.compile(r"\b(" + _alternation(vocab.VAGUE_AMOUNTS_DB) + r")\b")),
    ("single", re.compile(rf"(?<![\w.])([+-])?\s*({_NUM})(?:\s*-?\s*ish)?{_UNIT}")),
    ("signed", re.compile(r"(?<![\w.+-])([+-])(\d+(?:\.\d+)?)\b(?!\s*(?:%|hz|khz|ms|lufs|bpm|st\b|cents?))")),
    (
        "by",
        re.compile(
            r"\bby\s+(?:about\s+|around\s+|roughly\s+|maybe\s+)?(\d+(?:\.\d+)?)\b(?!\s*(?:%|hz|khz|ms|lufs|bpm|bars?|beats?|seconds?|s\b))"
        ),
    ),
]
_SMALL_RE = re.compile(r"\b(?:" + _alternation(vocab.SMALL_WORDS) + r")\b")
_LARGE_RE = re.compile(
    r"\b(?:"
    + _alternation(w for w in vocab.LARGE_WORDS if w != "way")
    + r")\b|\bway\b(?=\s+(?:too|up|down|more|less|louder|quieter|back|over|under|out))"
)

_SENTENCE_SPLIT = re.compile(r"(?<!\d)[.!?]+(?!\d)|[\n;]+|(?<=\d)\.(?=\s|$)")
_CLAUSE_SPLIT = re.compile(
    r",|:|\s[-\u2010-\u2015]+\s|[\u2013\u2014()\[\]]|\b(?:but|while|whereas|though|although|however|"
    r"because|since|otherwise|then|(?<!or )so(?! much| far)|except|instead|rather than|yet)\b"
)
_AND_SPLIT = re.compile(r"\s(?:and|&|plus)\s")
_BARE_LIST = re.compile(r"[\s\x00&]*(?:(?:and|the|a|plus|or|both|also)\b[\s\x00&]*)*")
_ELLIPSIS = re.compile(
    r"[\s\x01]*(?:(?:by|maybe|perhaps|about|around|roughly|approximately|approx|another|more|further|or so|so|or|too|as well|also|like|something|somewhere|a good|good|a|some|ish|~)(?:\b|(?<=~))[\s\x01~]*)*"
)
"""What may follow the second stem of "pull the drums down 4 dB and the bass 8 dB"."""
_LEAD_IN = re.compile(
    r"\s*(?:(?:and|then|maybe|perhaps|just|i'd|i would|i'll|so|also|probably|definitely|still)\b\s*)*"
)
"""Words that may come before the verb of a clause with no subject ("Needs at least 8 dB")."""
MAX_CLAUSE_CHARS = 2000
"""Longer stretches without punctuation are read in pieces of this size (linear time)."""


def _number(token):
    token = token.strip()
    if token in vocab.NUMBER_WORDS:
        return vocab.NUMBER_WORDS[token]
    return float(token)


@dataclass(frozen=True)
class _Span:
    start: int
    end: int


@dataclass(frozen=True)
class _Mention(_Span):
    stem: str
    reference: bool


@dataclass(frozen=True)
class _Cue(_Span):
    direction: str
    priority: int


@dataclass(frozen=True)
class _Amount(_Span):
    magnitude: float
    low: float | None
    high: float | None
    sign: int
    vague: bool


@dataclass(frozen=True)
class _Statement:
    target: str
    direction: str
    db: float
    range: tuple | None
    explicit: bool
    source: str


class _Clause:
    """Everything found in one clause, positions relative to the clause text."""

    def __init__(self, text):
        self.text = text
        masked = list(text)
        self.mentions = []
        for match in _STEM_RE.finditer(text):
            word = match.group(1)
            if word == "other" and (
                _OTHER_NOT_A_STEM_AFTER.match(text, match.end())
                or _OTHER_NOT_A_STEM_BEFORE.search(text[max(0, match.start() - 30) : match.start()])
            ):
                continue
            self.mentions.append(_Mention(match.start(), match.end(), _SYNONYM_TO_STEM[word], False))
            masked[match.start() : match.end()] = "\x00" * (match.end() - match.start())
        masked_text = "".join(masked)
        for match in _GROUP_RE.finditer(masked_text):
            stem = REST if match.group("rest") else ALL
            self.mentions.append(_Mention(match.start(), match.end(), stem, False))
            masked[match.start() : match.end()] = "\x00" * (match.end() - match.start())
        self.mentions.sort(key=lambda m: m.start)
        self.mentions = self._mark_references(text)
        self.masked = "".join(masked)
        self.amounts = self._find_amounts()
        self.cues = self._find_cues()
        self.pronoun = any(
            not any(c.start <= m.start() < c.end for c in self.cues)
            for m in _PRONOUN_RE.finditer(self.masked)
        )
        self.also = bool(_ALSO_RE.search(self.masked))
        lead = _LEAD_IN.match(self.masked)
        self.starts_with_cue = (
            bool(self.cues)
            and self.cues[0].start <= (lead.end() if lead else 0)
            and self.cues[0].direction != LEAVE
            and self.cues[0].priority >= 2
        )

    def _mark_references(self, text):
        marked = []
        for mention in self.mentions:
            before = text[: mention.start]
            if marked:
                before = text[marked[-1].end : mention.start]
            reference = bool(
                _REFERENCE_BEFORE.search(text[max(0, mention.start - 60) : mention.start])
            ) or bool(_REFERENCE_AFTER.match(text, mention.end))
            if not reference and marked and marked[-1].reference and _LIST_JOIN.match(before):
                reference = True
            marked.append(_Mention(mention.start, mention.end, mention.stem, reference))
        return marked

    def _find_amounts(self):
        taken, amounts = [], []
        for kind, pattern in _AMOUNT_PATTERNS:
            for match in pattern.finditer(self.masked):
                if any(match.start() < end and start < match.end() for start, end in taken):
                    continue
                amount = _amount(kind, match)
                if amount is not None:
                    taken.append((match.start(), match.end()))
                    amounts.append(amount)
        amounts.sort(key=lambda a: a.start)
        self._amount_spans = taken
        return amounts

    def _find_cues(self):
        text = list(self.masked)
        for start, end in self._amount_spans:
            text[start:end] = "\x01" * (end - start)
        text = "".join(text)
        self.cue_text = text
        taken, cues = [], []
        for pattern, way, priority in _CUES:
            for match in pattern.finditer(text):
                if match.end() == match.start():
                    continue
                if any(match.start() < end and start < match.end() for start, end in taken):
                    continue
                taken.append((match.start(), match.end()))
                if way is not None:
                    cues.append(_Cue(match.start(), match.end(), way, priority))
        for amount in self.amounts:
            if amount.sign and not any(c.priority >= 2 and c.direction != LEAVE for c in cues):
                cues.append(_Cue(amount.start, amount.end, UP if amount.sign > 0 else DOWN, 2))
        cues.sort(key=lambda c: c.start)
        return cues

    @property
    def targets(self):
        return [m for m in self.mentions if not m.reference]

    def negated(self, cue, lower_bound):
        """Is there a negation between ``lower_bound`` and the cue, outside the cue itself?"""
        window = self.masked[lower_bound : cue.start]
        return bool(_NEGATION_RE.search(window))

    def default_magnitude(self, near):
        """Amount implied by intensity words when no number is given."""
        best, distance = vocab.DEFAULT_DB, math.inf
        for pattern, value in ((_SMALL_RE, vocab.SMALL_DB), (_LARGE_RE, vocab.LARGE_DB)):
            for match in pattern.finditer(self.masked):
                gap = abs(match.start() - near)
                if gap < distance:
                    best, distance = value, gap
        return best


def _amount(kind, match):
    if kind == "range":
        low, high = sorted((_number(match.group(1)), _number(match.group(2))))
        return _Amount(match.start(), match.end(), (low + high) / 2, low, high, 0, False)
    if kind == "vague":
        value = vocab.VAGUE_AMOUNTS_DB[match.group(1)]
        return _Amount(match.start(), match.end(), value, None, None, 0, True)
    if kind == "single":
        sign = {"+": 1, "-": -1}.get(match.group(1) or "", 0)
        return _Amount(match.start(), match.end(), _number(match.group(2)), None, None, sign, False)
    if kind == "signed":
        sign = 1 if match.group(1) == "+" else -1
        return _Amount(match.start(), match.end(), float(match.group(2)), None, None, sign, False)
    return _Amount(match.start(), match.end(), float(match.group(1)), None, None, 0, False)


def _split_clauses(sentence):
    clauses = []
    for piece in _CLAUSE_SPLIT.split(sentence):
        if piece and piece.strip():
            for chunk in _chunks(piece):
                clauses.extend(_split_on_and(chunk))
    return clauses


def _chunks(piece):
    """Cut a very long stretch without punctuation at spaces into pieces of bounded size."""
    while len(piece) > MAX_CLAUSE_CHARS:
        cut = piece.rfind(" ", 0, MAX_CLAUSE_CHARS)
        cut = cut if cut > 0 else MAX_CLAUSE_CHARS
        yield piece[:cut]
        piece = piece[cut:]
    yield piece


def _split_on_and(piece):
    """Split "push the vocals up and pull the drums down" but not "bring the bass and drums down".

    An "and" splits the piece when the stretch before it (since the last split) and the rest
    after it both hold a cue, and one of them names a stem. Positions come from one reading of
    the whole piece, so the cost stays linear.
    """
    clause = _Clause(piece)
    cue_starts = [c.start for c in clause.cues]
    cue_ends = [c.end for c in clause.cues]
    mention_starts = [m.start for m in clause.mentions]
    parts, last = [], 0
    for match in _AND_SPLIT.finditer(piece):
        left_cue = any(last <= e <= match.start() for e in cue_ends)
        right_cue = any(st >= match.end() for st in cue_starts)
        named = any(last <= m < match.start() for m in mention_starts) or any(
            m >= match.end() for m in mention_starts
        )
        inside_cue = any(c.start < match.start() < c.end for c in clause.cues)
        if left_cue and right_cue and named and not inside_cue:
            parts.append(piece[last : match.start()])
            last = match.end()
    parts.append(piece[last:])
    return parts


class _Reader:
    """Walks the clauses in order, keeping the antecedents for pronouns and dangling stems."""

    def __init__(self):
        self.statements = []
        self.last_targets = []
        self.pending = []
        self.pending_is_list = False

    def read(self, text):
        for sentence in _SENTENCE_SPLIT.split(text):
            if not sentence or not sentence.strip():
                continue
            self.pending, self.pending_is_list = [], False
            for piece in _split_clauses(sentence):
                self.clause(_Clause(piece.strip()))
        return self.statements

    def clause(self, clause):
        targets = clause.targets
        if targets and clause.cues:
            if self.pending_is_list:
                self.assign_to(clause, self.pending, region_end=targets[0].start)
            self.assign(clause, targets)
            self.last_targets = [*(self.pending if self.pending_is_list else []), *(t.stem for t in targets)]
            self.pending, self.pending_is_list = [], False
        elif targets:
            if clause.also and self.statements:
                self.copy_last(clause, targets)
                self.last_targets, self.pending = [t.stem for t in targets], []
            else:
                self.last_targets = [t.stem for t in targets]
                is_list = bool(_BARE_LIST.fullmatch(clause.masked))
                if is_list and self.pending_is_list:
                    self.pending = [*self.pending, *(t.stem for t in targets)]
                else:
                    self.pending = [t.stem for t in targets]
                self.pending_is_list = is_list
        elif clause.cues:
            elliptical = clause.pronoun or clause.starts_with_cue
            antecedent = self.pending or (self.last_targets if elliptical else [])
            if antecedent:
                self.assign_to(clause, antecedent)
                self.last_targets, self.pending, self.pending_is_list = list(antecedent), [], False
            elif any(c.direction == LEAVE for c in clause.cues) and not any(
                c.direction != LEAVE and c.priority >= 3 for c in clause.cues
            ):
                self.assign_to(clause, [ALL])

    def assign(self, clause, targets):
        for index, target in enumerate(targets):
            region_start = targets[index - 1].end if index else 0
            region_end = targets[index + 1].start if index + 1 < len(targets) else len(clause.masked)
            listed = bool(index) and (
                bool(_LIST_JOIN.match(clause.masked[region_start : target.start]))
                or bool(_ELLIPSIS.fullmatch(clause.cue_text[target.end : region_end]))
            )
            self.add(clause, target.stem, target.start, target.end, region_start, region_end, listed=listed)

    def assign_to(self, clause, stems, region_end=None):
        for stem in stems:
            self.add(clause, stem, 0, 0, 0, len(clause.masked) if region_end is None else region_end)

    def add(self, clause, stem, start, end, region_start, region_end, listed=True):
        cue = _choose_cue(clause, start, end, region_start, region_end, listed=listed)
        if cue is None:
            return
        way = cue.direction
        if way != LEAVE and clause.negated(cue, region_start):
            way = LEAVE
        elif way == LEAVE and clause.negated(cue, region_start):
            return
        if way == LEAVE:
            statement = _Statement(stem, LEAVE, 0.0, None, True, clause.text)
        else:
            statement = _move(clause, stem, way, cue, end, region_start, region_end)
        self.statements.append(statement)

    def copy_last(self, clause, targets):
        last = self.statements[-1]
        for target in targets:
            self.statements.append(
                _Statement(target.stem, last.direction, last.db, last.range, last.explicit, clause.text)
            )


def _choose_cue(clause, start, end, region_start, region_end, *, listed):
    """The cue that governs the stem at ``start:end``.

    The stem's own stretch is the text after it up to the next stem, plus, for the first stem
    of a clause, the text before it ("bring up the vocals"); the strongest cue there wins,
    nearest first. With none there: the first cue after the stem's stretch ("bring the bass
    and drums down"), or, for a stem listed right after another ("the bass and the drums are
    too loud", "pull the drums down 4 dB and the bass 8 dB"), the cue before it.
    """
    first = region_start == 0
    own = [c for c in clause.cues if end <= c.start < region_end or (first and c.start < start)]
    if own:
        return max(own, key=lambda c: (c.priority, -min(abs(c.start - end), abs(c.end - start))))
    after = [c for c in clause.cues if c.start >= region_end]
    if after:
        return after[0]
    before = [c for c in clause.cues if c.start < start]
    if before and listed:
        return before[-1]
    return None


def _move(clause, stem, way, cue, end, region_start, region_end):
    amount = _choose_amount(clause, end, region_start, region_end)
    sign = 1.0 if way == UP else -1.0
    if amount is None:
        magnitude = clause.default_magnitude(cue.start)
        return _Statement(stem, way, sign * magnitude, None, False, clause.text)
    magnitude = min(amount.magnitude, MAX_DB)
    bounds = None
    if amount.low is not None:
        bounds = tuple(sorted((sign * min(amount.low, MAX_DB), sign * min(amount.high, MAX_DB))))
    return _Statement(stem, way, sign * magnitude, bounds, not amount.vague, clause.text)


def _choose_amount(clause, end, region_start, region_end):
    after = [a for a in clause.amounts if end <= a.start < region_end]
    if after:
        return after[0]
    if len(clause.amounts) == 1:
        return clause.amounts[0]
    before = [a for a in clause.amounts if region_start <= a.start < end]
    if before:
        return before[-1]
    return None


def _resolve(statements, *, stems, anchor):
    final = {}
    for statement in statements:
        previous = final.get(statement.target)
        if (
            previous is not None
            and previous.direction == statement.direction
            and previous.explicit
            and not statement.explicit
        ):
            continue
        final[statement.target] = statement
    named = {s for s in final if s not in (ALL, REST)}
    result = {}
    for stem in stems:
        if stem == anchor:
            continue
        statement = final.get(stem)
        if statement is None and stem not in named:
            statement = final.get(REST) or final.get(ALL)
        if statement is not None:
            result[stem] = ParsedCorrection(
                direction=statement.direction,
                db=float(round(statement.db, 2)) + 0.0,
                range=statement.range,
                source=statement.source,
            )
    return result
