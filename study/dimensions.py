"""The five rating dimensions of the study, with the proposal's definitions.

The Likert help text shown to participants and the LLM judge's rubric both read these, so a
human and a judge rate the same thing on the same 1–5 scale.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Dimension:
    name: str
    label: str
    question: str
    definition: str
    low: str
    high: str


DIMENSIONS = (
    Dimension(
        "effectiveness",
        "Effectiveness",
        "How well does the advice address the mixing problem?",
        "How well the advice addresses the mixing problem you hear in the mix as given.",
        "Does not address the problem",
        "Fully addresses the problem",
    ),
    Dimension(
        "musicality",
        "Musicality",
        "How appropriate is the advice for the genre and musical context?",
        "Appropriateness of the advice for the genre and the musical context of the song.",
        "Inappropriate for this music",
        "Perfectly suited to this music",
    ),
    Dimension(
        "conventions",
        "Conventions",
        "How well does the advice reflect established mixing conventions?",
        "Understanding of established mixing conventions (for example typical vocal-to-band balance).",
        "Ignores mixing conventions",
        "Reflects conventions expertly",
    ),
    Dimension(
        "actionability",
        "Actionability",
        "How clear and easy to carry out is the advice?",
        "Clarity and ease of implementation: could you act on it at the console right away?",
        "Unclear, cannot act on it",
        "Clear, immediately actionable",
    ),
    Dimension(
        "helpfulness",
        "Helpfulness",
        "How useful would this advice be in your real workflow?",
        "Real-world workflow utility: would this advice help you in your own mixing sessions?",
        "Not helpful at all",
        "Extremely helpful",
    ),
)
DIMENSION_NAMES = tuple(d.name for d in DIMENSIONS)
SCALE = (1, 2, 3, 4, 5)
