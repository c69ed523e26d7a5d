"""Lexical and semantic metrics on hand-checked pairs (local WordNet and local MiniLM, no network)."""

import pandas as pd
import pytest

from analysis.metrics import ScoringContext, get
from analysis.metrics.text import (
    MissingReferenceError,
    WordNetMissingError,
    default_bertscore_model,
    load_wordnet,
)


def items(pairs):
    return pd.DataFrame(
        {
            "item": [f"s{i}:x" for i in range(len(pairs))],
            "text": [candidate for candidate, _ in pairs],
            "reference": [reference for _, reference in pairs],
        }
    )


def score(name, pairs, context=None):
    return get(name)(items(pairs), context or ScoringContext())


def test_rouge_l_of_boost_against_cut_is_point_eight():
    # Documented figure: the pair shares "the vocal 3 db" (4 of 5 tokens), so opposite advice scores 0.80.
    assert score("rouge_l", [("cut the vocal −3 dB", "boost the vocal +3 dB")]) == [pytest.approx(0.8)]


def test_chrf_is_one_hundred_for_identical_text_and_lower_for_a_change():
    same, changed = score(
        "chrf", [("Pull the drums down 4 dB.",) * 2, ("Push the drums up 4 dB.", "Pull the drums down 4 dB.")]
    )
    assert same == pytest.approx(100.0)
    assert changed < 80.0


@pytest.mark.slow
def test_meteor_credits_a_wordnet_synonym_that_meteor_without_synonyms_does_not():
    pair = [("trim the drums by 3 dB", "cut the drums by 3 dB")]
    with_synonyms = score("meteor", pair)[0]
    without = score("meteor_no_synonyms", pair)[0]
    assert with_synonyms == pytest.approx(0.9977, abs=1e-3)
    assert without == pytest.approx(0.83, abs=1e-3)
    assert with_synonyms > without


@pytest.mark.slow
def test_meteor_variants_agree_when_no_synonym_is_involved():
    pair = [("boost the vocal +3 dB", "cut the vocal −3 dB")]
    assert score("meteor", pair) == pytest.approx(score("meteor_no_synonyms", pair))


def test_missing_wordnet_raises_an_error_naming_make_setup(tmp_path):
    with pytest.raises(WordNetMissingError, match="make setup"):
        load_wordnet([str(tmp_path)])


def test_meteor_without_wordnet_on_the_search_path_fails_instead_of_dropping_synonyms(tmp_path, monkeypatch):
    import nltk.data

    monkeypatch.setattr(nltk.data, "path", [str(tmp_path)])
    with pytest.raises(WordNetMissingError, match="make setup"):
        score("meteor", [("a", "b")])
    assert score("meteor_no_synonyms", [("cut the drums", "cut the drums")])[0] > 0.9


def test_an_item_without_a_reference_is_an_error_not_a_zero():
    with pytest.raises(MissingReferenceError, match="s1:x"):
        score("rouge_l", [("cut the drums", "cut the drums"), ("raise the bass", None)])


@pytest.fixture(scope="module")
def bertscore_pairs():
    pairs = [
        ("Pull the drums down by about 4 dB.", "Pull the drums down by about 4 dB."),
        ("Lower the drums a few decibels.", "Pull the drums down by about 4 dB."),
        ("The recipe needs two cups of flour and an egg.", "Pull the drums down by about 4 dB."),
    ]
    return score("bertscore_f1", pairs)


@pytest.mark.slow
def test_bertscore_of_identical_strings_is_one(bertscore_pairs):
    assert bertscore_pairs[0] == pytest.approx(1.0, abs=1e-4)


@pytest.mark.slow
def test_bertscore_ranks_unrelated_text_below_related_text(bertscore_pairs):
    _, related, unrelated = bertscore_pairs
    assert unrelated < related < 1.0


def test_bertscore_default_model_is_the_packaged_minilm_with_six_layers():
    from pathlib import Path

    assert Path(default_bertscore_model(), "config.json").is_file()
    assert ScoringContext().bertscore_layers == 6


def test_bertscore_model_that_is_not_a_local_folder_is_refused(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a local model directory"):
        score("bertscore_f1", [("a", "b")], ScoringContext(bertscore_model=str(tmp_path / "nope")))
