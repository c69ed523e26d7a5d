"""Target advice: an engineer's prose and its structured form for one scenario.

The writer turns per-stem corrections (dB, positive = louder) into advice that says, for
every stem except the anchor, which way to move it and roughly how far (a dB range), or that
it already sits well against the anchor. Wording is drawn from :mod:`modelgen.vocabulary`
with a numpy ``Generator``: sentence openings, verbs, amount phrasings, stem nouns, the order
of the stems, grouping of stems that move the same way, and genre-aware reasons where a
published convention applies (lead vocal on top in pop/rap/country, level with the band in
rock, inside the guitars in metal, a natural acoustic balance in jazz). The same rng state
gives the same text.

The loudness-rule baseline and the reference advisors write through :func:`write_advice`
too, so the systems in the study differ in content, not in style.

Structured form
---------------
``{stem: {"direction": "up" | "down" | "leave", "db": float, "range": [lo, hi]}}``:
``db`` is the correction rounded to 0.1 dB (0.0 for leave), ``range`` the signed dB range the
text states (lo <= hi; ``[0.0, 0.0]`` for leave). A correction smaller than
:data:`modelgen.corrections.LEAVE_BELOW_DB` is "leave".
"""

from dataclasses import dataclass, field

from modelgen import vocabulary as vocab
from modelgen.corrections import DOWN, LEAVE, STEMS, UP, direction, prompt_order


@dataclass(frozen=True)
class Advice:
    """One piece of advice: the prose and its structured per-stem form."""

    text: str
    structured: dict = field(default_factory=dict)

    @property
    def corrections_db(self):
        """Stem -> signed correction in dB (0.0 = leave), as stated by the structured form."""
        return {stem: entry["db"] for stem, entry in self.structured.items()}


def target_advice(*, anchor, stems=STEMS, corrections_db, genre, rng):
    """Write the target advice for a scenario.

    Parameters
    ----------
    anchor : str
        The stem that stays put; it is described only as the reference.
    stems : sequence of str
        Every stem of the scenario (the anchor included).
    corrections_db : dict
        stem -> correction in dB an ideal engineer would make (``-gains_db``). Every
        non-anchor stem must be present.
    genre : str
        Genre of the song (any case; unknown genres get no genre-specific wording).
    rng : numpy.random.Generator
        Source of every wording choice.

    Returns
    -------
    Advice

    Examples
    --------
    >>> import numpy as np
    >>> advice = target_advice(anchor="vocals", corrections_db={"vocals": 0, "drums": -4.2,
    ...     "bass": 0, "other": 0}, genre="Rock", rng=np.random.default_rng(0))
    >>> advice.structured["drums"]["direction"]
    'down'
    """
    return write_advice(anchor=anchor, stems=stems, corrections_db=corrections_db, genre=genre, rng=rng)


def write_advice(*, anchor, stems, corrections_db, genre, rng, silent=()):
    """Write advice for given corrections; shared by target, baseline and reference advisors.

    ``silent`` names stems with no signal in the clip: they are described as inaudible and
    left alone (direction ``leave``), never moved.
    """
    order = prompt_order(anchor, stems)
    others = order[1:]
    missing = [name for name in others if name not in corrections_db and name not in silent]
    if missing:
        raise ValueError(f"corrections_db has no entry for {missing}; every non-anchor stem needs one")
    structured = {}
    for name in others:
        structured[name] = structure(0.0 if name in silent else corrections_db[name])
    text = _Writer(anchor=anchor, genre=genre, rng=rng).write(structured, silent=set(silent))
    return Advice(text=text, structured=structured)


def structure(db):
    """Return the structured entry for one correction in dB (see the module docstring)."""
    db = float(db)
    way = direction(db)
    if way == LEAVE:
        return {"direction": LEAVE, "db": 0.0, "range": [0.0, 0.0]}
    low, high = spoken_range(abs(db))
    sign = 1.0 if way == UP else -1.0
    bounds = sorted([sign * low, sign * high])
    return {"direction": way, "db": round(db, 1), "range": bounds}


def spoken_range(magnitude):
    """Return the (low, high) magnitude range in whole dB the advice states for a correction."""
    centre = max(2, round(magnitude))
    width = 1 if centre < 6 else 2
    return float(max(1, centre - width)), float(centre + width)


class _Writer:
    """Assembles sentences for one piece of advice."""

    def __init__(self, *, anchor, genre, rng):
        self.anchor = anchor
        self.family = vocab.genre_family(genre)
        self.rng = rng
        self.anchor_noun = self.pick(vocab.STEM_NOUNS[anchor])[0] if anchor in vocab.STEM_NOUNS else anchor

    # --- random helpers ---
    def pick(self, options):
        return options[int(self.rng.integers(len(options)))]

    def chance(self, p):
        return float(self.rng.random()) < p

    # --- top level ---
    def write(self, structured, *, silent):
        ups = [s for s, e in structured.items() if e["direction"] == UP]
        downs = [s for s, e in structured.items() if e["direction"] == DOWN]
        leaves = [s for s, e in structured.items() if e["direction"] == LEAVE and s not in silent]
        if not ups and not downs:
            return self.balanced(leaves, silent)
        blocks = [self.moves(group, structured) for group in self.groups(ups, structured)]
        blocks += [self.moves(group, structured) for group in self.groups(downs, structured)]
        if leaves:
            blocks.append(self.leave_sentence(leaves))
        blocks += [self.silent_sentence(name) for name in sorted(silent)]
        order = self.rng.permutation(len(blocks))
        sentences = [blocks[i] for i in order]
        if self.chance(0.4):
            sentences.insert(0, self.opening())
        return " ".join(sentences)

    def groups(self, names, structured):
        """Split stems that move the same way into sentences of one or two stems."""
        names = [names[i] for i in self.rng.permutation(len(names))]
        groups = []
        while names:
            if len(names) >= 2 and self.chance(0.45):
                groups.append(names[:2])
                names = names[2:]
            else:
                groups.append(names[:1])
                names = names[1:]
        return groups

    def opening(self):
        return self.pick(
            (
                f"Taking the {self.anchor_noun} as the reference, here's what I'd change.",
                f"Listening against the {self.anchor_noun}, a few moves.",
                f"With the {self.anchor_noun} fixed, here's the balance as I hear it.",
                "Here's what I'd do with the faders.",
                "Quick notes on the balance.",
            )
        )

    # --- stems ---
    def noun(self, stem, *, in_group=False):
        options = vocab.STEM_NOUNS.get(stem, ((stem, False),))
        if in_group:
            options = tuple(o for o in options if " and " not in o[0]) or options
        word, plural = self.pick(options)
        return f"the {word}", plural

    def nouns(self, stems):
        picked = [self.noun(s, in_group=len(stems) > 1) for s in stems]
        phrase = join_words([p[0] for p in picked])
        plural = len(stems) > 1 or picked[0][1]
        return phrase, plural

    # --- amounts ---
    def amount(self, magnitude):
        low, high = (int(v) for v in spoken_range(magnitude))
        centre = max(2, round(magnitude))
        options = [
            f"about {centre} dB",
            f"around {centre} dB",
            f"roughly {centre} dB",
            f"{low} to {high} dB",
            f"{low}\u2013{high} dB",
            f"somewhere between {low} and {high} dB",
            f"{centre} dB or so",
            f"something like {centre} dB",
            f"{low}-{high}dB",
            f"about {number_word(centre)} dB",
        ]
        if centre >= 5:
            options.append(f"a good {centre} dB")
        if centre == 3:
            options.append("a few dB")
        return self.pick(options)

    # --- moves ---
    def moves(self, group, structured):
        way = structured[group[0]]["direction"]
        magnitudes = [abs(structured[s]["db"]) for s in group]
        large = min(magnitudes) >= 6
        style = self.pick(("imperative", "imperative", "subject", "diagnosis"))
        if style == "diagnosis" and len(group) == 1:
            sentence = self.diagnosed(group[0], way, magnitudes[0], large)
        elif style == "subject" and len(group) == 1:
            sentence = self.subject_move(group[0], way, magnitudes[0])
        else:
            sentence = self.imperative_move(group, way, magnitudes)
        return self.with_reason(sentence, group, way)

    def imperative_move(self, group, way, magnitudes):
        templates = vocab.UP_IMPERATIVES if way == UP else vocab.DOWN_IMPERATIVES
        same = len({round(m) for m in magnitudes}) == 1
        if len(group) == 1 or same:
            x, _ = self.nouns(group)
            template = self.pick(templates)
            amt = self.amount(magnitudes[0])
            if template.endswith("{amt}") and self.chance(0.3):
                amt = f"by {amt}"
            sentence = template.format(x=x, amt=amt)
        else:
            template = self.pick(tuple(t for t in templates if t.endswith("{amt}")))
            first, _ = self.noun(group[0], in_group=True)
            second, _ = self.noun(group[1], in_group=True)
            sentence = template.format(x=first, amt=self.amount(magnitudes[0]))
            sentence += f" and {second} {self.amount(magnitudes[1])}"
        if self.chance(0.3):
            sentence = self.pick(("I'd ", "I would ", "You want to ", "Try to ")) + sentence
        return capitalise(sentence) + "."

    def subject_move(self, stem, way, magnitude):
        templates = vocab.UP_SUBJECT if way == UP else vocab.DOWN_SUBJECT
        x, plural = self.noun(stem)
        sentence = self.pick(templates).format(
            X=capitalise(x), amt=self.amount(magnitude), **verb_forms(plural)
        )
        return sentence + "."

    def diagnosed(self, stem, way, magnitude, large):
        if way == UP:
            templates = vocab.UP_DIAGNOSES_LARGE if large else vocab.UP_DIAGNOSES
        else:
            templates = vocab.DOWN_DIAGNOSES_LARGE if large else vocab.DOWN_DIAGNOSES
        x, plural = self.noun(stem)
        diagnosis = self.pick(templates).format(
            X=capitalise(x), x=x, anchor=self.anchor_noun, **verb_forms(plural)
        )
        pronoun = "them" if plural else "it"
        verb = self.pick(
            ("bring {p} up", "push {p} up", "raise {p}", "lift {p}")
            if way == UP
            else ("pull {p} down", "bring {p} down", "tuck {p} back", "back {p} off")
        ).format(p=pronoun)
        amt = self.amount(magnitude)
        joiner = self.pick(("; {v} {a}.", ", so {v} {a}.", ". {V} {a}.", " \u2014 {v} {a}."))
        return capitalise(diagnosis) + joiner.format(v=verb, V=capitalise(verb), a=amt)

    def with_reason(self, sentence, group, way):
        reasons = ()
        if "vocals" in group:
            table = vocab.VOCALS_UP_REASONS if way == UP else vocab.VOCALS_DOWN_REASONS
            reasons = table.get(self.family, ())
        elif self.anchor == "vocals" and way == DOWN:
            reasons = vocab.ACCOMPANIMENT_DOWN_REASONS.get(self.family, ())
        elif self.family == "jazz":
            reasons = ("jazz wants a natural, acoustic balance",)
        if not reasons or not self.chance(0.6):
            return sentence
        reason = self.pick(reasons)
        if self.chance(0.5):
            return f"{sentence[:-1]} \u2014 {reason}."
        return f"{sentence} {capitalise(reason)}."

    # --- leaving stems alone ---
    def leave_sentence(self, stems):
        stems = [stems[i] for i in self.rng.permutation(len(stems))]
        x, plural = self.nouns(stems)
        forms = verb_forms(plural)
        if len(stems) > 1 and self.chance(0.5):
            sentence = self.pick(
                (
                    "{X} both {sit} well against the {anchor}",
                    "{X} are already balanced against the {anchor}",
                    "leave {x} where they are",
                    "{X} are fine as they are",
                )
            )
            if len(stems) > 2:
                sentence = sentence.replace(" both", " all")
        else:
            sentence = self.pick(vocab.LEAVE_PHRASES)
        return capitalise(sentence.format(X=capitalise(x), x=x, anchor=self.anchor_noun, **forms)) + "."

    def silent_sentence(self, stem):
        x, _ = self.noun(stem)
        return self.pick(
            (
                f"I can't hear any {x.removeprefix('the ')} in this section, so I'd leave it.",
                f"{capitalise(x)} is silent here; leave it alone.",
            )
        )

    def balanced(self, leaves, silent):
        sentences = [self.pick(vocab.BALANCED_OPENINGS).format(anchor=self.anchor_noun)]
        if leaves:
            sentences.append(self.leave_sentence(leaves))
        sentences += [self.silent_sentence(name) for name in sorted(silent)]
        note = vocab.BALANCED_NOTES.get(self.family)
        if note and self.chance(0.6):
            sentences.append(note)
        if len(sentences) > 2 and self.chance(0.5):
            sentences[0], sentences[1] = sentences[1], sentences[0]
        return " ".join(sentences)


def verb_forms(plural):
    """Verb agreement for the stem noun in templates."""
    if plural:
        return {"be": "are", "need": "need", "want": "want", "sit": "sit", "it_is": "they are"}
    return {"be": "is", "need": "needs", "want": "wants", "sit": "sits", "it_is": "it is"}


def join_words(words):
    """``["a", "b", "c"]`` -> ``"a, b and c"``."""
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + " and " + words[-1]


def capitalise(text):
    """Upper-case the first character only."""
    return text[:1].upper() + text[1:]


def number_word(n):
    """12 -> ``"twelve"``; numbers without a word stay digits."""
    words = {int(v): k for k, v in vocab.NUMBER_WORDS.items() if v >= 1 and v == int(v)}
    return words.get(int(n), str(n))
