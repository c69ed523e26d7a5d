"""Reference advisors for the listening study: ideal advice and sham advice.

Both write through :func:`modelgen.annotate.write_advice`, the writer of the target advice,
so a listener cannot tell them from the other systems by style.

``ideal``
    The exact inverse of the scenario's offsets (``corrections_db = -gains_db``): every flawed
    stem moved the right way by the right amount, every other stem left alone, a balanced mix
    called balanced. Its structured ``db`` is the true correction; the prose states it as a
    range of whole dB around it. It is the upper reference ("hidden reference") of the study:
    raters who score it low are not listening.

``sham``
    Plausible but wrong advice, the lower reference and an attention check: every flawed stem
    is moved the wrong way by the same amount (a stem 5 dB too loud is "pushed up 5 dB").
    For a balanced mix, where there is nothing to invert, one non-anchor stem (chosen with the
    rng) gets a plausible 3-6 dB move in a random direction while the rest are left alone, so
    the advice still asks for a change the mix does not need. Unflawed stems of a flawed mix
    are left alone, as in the ideal advice, so the sham differs from it only where it matters.
"""

from modelgen.annotate import write_advice
from modelgen.corrections import LEAVE, STEMS, direction, prompt_order

SHAM_BALANCED_DB = (3.0, 6.0)
"""Range (dB, magnitude) of the one move a sham advises on a balanced mix."""


def ideal_advice(*, anchor, stems=STEMS, corrections_db, genre, rng):
    """Advice that states the true correction of every stem (see the module docstring).

    Parameters
    ----------
    anchor, stems, corrections_db, genre, rng
        As for :func:`modelgen.annotate.target_advice`.

    Returns
    -------
    modelgen.annotate.Advice
    """
    return write_advice(anchor=anchor, stems=stems, corrections_db=corrections_db, genre=genre, rng=rng)


def sham_corrections(*, anchor, stems=STEMS, corrections_db, rng):
    """The wrong corrections a sham advises: flawed stems inverted, or one needless move."""
    others = prompt_order(anchor, stems)[1:]
    missing = [name for name in others if name not in corrections_db]
    if missing:
        raise ValueError(f"corrections_db has no entry for {missing}; every non-anchor stem needs one")
    flawed = [name for name in others if direction(corrections_db[name]) != LEAVE]
    sham = dict.fromkeys(others, 0.0)
    if flawed:
        for name in flawed:
            sham[name] = -float(corrections_db[name])
        return sham
    victim = others[int(rng.integers(len(others)))]
    magnitude = float(rng.uniform(*SHAM_BALANCED_DB))
    sham[victim] = magnitude if rng.random() < 0.5 else -magnitude
    return sham


def sham_advice(*, anchor, stems=STEMS, corrections_db, genre, rng):
    """Advice that moves every flawed stem the wrong way (see the module docstring).

    Parameters
    ----------
    anchor, stems, corrections_db, genre, rng
        As for :func:`modelgen.annotate.target_advice`; ``corrections_db`` is the truth the
        sham contradicts.

    Returns
    -------
    modelgen.annotate.Advice
        Its ``structured`` form states the sham's (wrong) moves.
    """
    wrong = sham_corrections(anchor=anchor, stems=stems, corrections_db=corrections_db, rng=rng)
    return write_advice(anchor=anchor, stems=stems, corrections_db=wrong, genre=genre, rng=rng)
