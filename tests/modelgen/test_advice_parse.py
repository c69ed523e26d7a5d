import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelgen.advice_parse import ParsedCorrection, corrections_db, parse_advice
from modelgen.annotate import target_advice
from modelgen.corrections import STEMS
from modelgen.vocabulary import DEFAULT_DB, LARGE_DB, SMALL_DB

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "advice"
GENRES = ("Pop", "Rap", "Rock", "Jazz", "Heavy Metal", "Country", "Electronic", "Pop/Rock", "Reggae", "Polka")


def directions(text, **kwargs):
    return {stem: parsed.direction for stem, parsed in parse_advice(text, **kwargs).items()}


def held_out_scenarios(n, seed):
    rng = np.random.default_rng(seed)
    for index in range(n):
        anchor = STEMS[index % len(STEMS)]
        others = [s for s in STEMS if s != anchor]
        flawed = [others[i] for i in rng.permutation(3)[: index % 4]]
        corrections = dict.fromkeys(STEMS, 0.0)
        for stem in flawed:
            corrections[stem] = float(rng.choice([-1.0, 1.0]) * rng.uniform(3.0, 12.0))
        yield anchor, corrections, GENRES[int(rng.integers(len(GENRES)))], rng


def agreement_on(path):
    agree = total = 0
    errors = []
    for line in path.read_text(encoding="utf-8").splitlines():
        piece = json.loads(line)
        parsed = parse_advice(piece["text"], stems=piece["stems"], anchor=piece["anchor"])
        for stem, expected in piece["expected"].items():
            got = parsed.get(stem)
            same = (got.direction if got else "leave") == expected["direction"]
            agree += same
            total += 1
            if same and expected["db"] is not None:
                errors.append(abs((got.db if got else 0.0) - expected["db"]))
    return agree / total, float(np.mean(errors)), total


def test_the_parser_recovers_at_least_98_percent_of_directions_from_generated_targets():
    agree = total = 0
    amount_errors = []
    for anchor, corrections, genre, rng in held_out_scenarios(800, seed=987654):
        advice = target_advice(anchor=anchor, corrections_db=corrections, genre=genre, rng=rng)
        parsed = parse_advice(advice.text, anchor=anchor)
        for stem, entry in advice.structured.items():
            got = parsed.get(stem)
            same = (got.direction if got else "leave") == entry["direction"]
            agree += same
            total += 1
            if same and got is not None:
                amount_errors.append(abs(got.db - entry["db"]))
    assert total == 800 * 3
    assert agree / total >= 0.98
    assert np.mean(amount_errors) < 0.5


def test_the_parser_agrees_with_engineers_hand_written_advice_at_least_90_percent_of_the_time():
    rate, error, total = agreement_on(FIXTURES / "handwritten.jsonl")
    assert total >= 100
    assert rate >= 0.90
    assert error < 1.0


def test_the_parser_agrees_with_advice_written_after_it_was_frozen_at_least_90_percent_of_the_time():
    rate, error, _ = agreement_on(FIXTURES / "handwritten_unseen.jsonl")
    assert rate >= 0.90
    assert error < 1.0


def test_the_hand_written_fixture_has_at_least_40_varied_pieces():
    pieces = [json.loads(line) for line in (FIXTURES / "handwritten.jsonl").read_text().splitlines()]
    assert len(pieces) >= 40
    assert len({p["text"] for p in pieces}) == len(pieces)
    assert {p["anchor"] for p in pieces} >= {"vocals", "drums", "bass", "other"}
    assert all(p["anchor"] not in p["expected"] for p in pieces)


@pytest.mark.parametrize(
    ("text", "stem"),
    [
        ("Bring the vocal up 3 dB.", "vocals"),
        ("Bring the voice up 3 dB.", "vocals"),
        ("Bring the singer up 3 dB.", "vocals"),
        ("Bring the lead vocal up 3 dB.", "vocals"),
        ("Bring the kit up 3 dB.", "drums"),
        ("Bring the drum bus up 3 dB.", "drums"),
        ("Bring the snare up 3 dB.", "drums"),
        ("Bring the bass guitar up 3 dB.", "bass"),
        ("Bring the low end up 3 dB.", "bass"),
        ("Bring the guitars up 3 dB.", "other"),
        ("Bring the keys up 3 dB.", "other"),
        ("Bring the synths up 3 dB.", "other"),
        ("Bring the piano up 3 dB.", "other"),
        ("Bring the pads up 3 dB.", "other"),
        ("Bring the other stem up 3 dB.", "other"),
    ],
)
def test_synonyms_name_the_right_stem(text, stem):
    assert corrections_db(text) == {stem: 3.0}


def test_a_bass_drum_is_a_drum_not_the_bass():
    assert directions("The bass drum is too loud.") == {"drums": "down"}


def test_on_the_other_hand_does_not_name_the_other_stem():
    assert directions("On the other hand, the bass is too quiet.") == {"bass": "up"}


@pytest.mark.parametrize(
    "text",
    [
        "Don't touch the bass.",
        "No need to change the bass.",
        "Leave the bass alone.",
        "I wouldn't bring the bass up.",
        "The bass doesn't need to come down.",
        "The bass isn't too loud.",
        "The bass sits well against the vocals.",
        "Leave the bass where it is.",
    ],
)
def test_negations_and_leave_phrases_mean_leave(text):
    assert parse_advice(text)["bass"] == ParsedCorrection(
        "leave", 0.0, None, parse_advice(text)["bass"].source
    )


@pytest.mark.parametrize(
    ("text", "db"),
    [
        ("Raise the bass 3 dB.", 3.0),
        ("Raise the bass 3dB.", 3.0),
        ("Raise the bass 3 decibels.", 3.0),
        ("Raise the bass three dB.", 3.0),
        ("Raise the bass by 3.", 3.0),
        ("Raise the bass 3.5 dB.", 3.5),
        ("Raise the bass a couple of dB.", 2.0),
        ("Raise the bass a few dB.", 3.0),
        ("Bass +3 dB.", 3.0),
        ("Bass -3dB.", -3.0),
        ("Bass \u22123 dB.", -3.0),
    ],
)
def test_amounts_are_read_in_every_usual_unit(text, db):
    assert corrections_db(text)["bass"] == db


@pytest.mark.parametrize(
    "text",
    [
        "Raise the bass 3\u20135 dB.",
        "Raise the bass 3 to 5 dB.",
        "Raise the bass 3-5dB.",
        "Raise the bass between 3 and 5 dB.",
    ],
)
def test_a_range_gives_its_midpoint_and_keeps_the_range(text):
    parsed = parse_advice(text)["bass"]
    assert parsed.db == 4.0
    assert parsed.range == (3.0, 5.0)


def test_a_downward_range_is_signed():
    assert parse_advice("Cut the drums 6 to 8 dB.")["drums"].range == (-8.0, -6.0)


@pytest.mark.parametrize(
    ("text", "db"),
    [
        ("The drums are too loud.", -DEFAULT_DB),
        ("The drums are a touch too loud.", -SMALL_DB),
        ("The drums are slightly loud.", -SMALL_DB),
        ("The drums are way too loud.", -LARGE_DB),
        ("Turn the drums down a lot.", -LARGE_DB),
        ("The vocals are buried.", DEFAULT_DB),
        ("I can barely hear the vocals.", DEFAULT_DB),
    ],
)
def test_relative_phrasing_gets_the_documented_default_amounts(text, db):
    assert next(iter(corrections_db(text).values())) == db


def test_one_sentence_can_move_several_stems():
    assert corrections_db("Bring the bass and drums down 3 dB.") == {"drums": -3.0, "bass": -3.0}
    assert corrections_db("Pull the drums down about 4 dB and the bass about 8 dB.") == {
        "drums": -4.0,
        "bass": -8.0,
    }
    assert directions("Push the vocals up and pull the drums down.") == {"vocals": "up", "drums": "down"}


def test_a_pronoun_carries_the_stem_of_the_previous_clause():
    assert corrections_db("The drums are too loud against the vocals, so pull them down about 4 dB.") == {
        "drums": -4.0
    }


def test_a_stem_named_as_the_reference_is_not_moved():
    assert directions("The guitars are drowning out the vocals.") == {"other": "down"}
    assert directions("The drums are too loud compared to the bass.") == {"drums": "down"}


def test_everything_else_fills_the_stems_not_named_and_the_anchor_is_dropped():
    parsed = corrections_db("The drums are way too loud; everything else sits well.", anchor="vocals")
    assert parsed == {"drums": -8.0, "bass": 0.0, "other": 0.0}


def test_a_balanced_verdict_leaves_every_stem():
    assert directions("This mix is balanced. Leave it as it is.", anchor="bass") == dict.fromkeys(
        ("vocals", "drums", "other"), "leave"
    )


def test_unmentioned_stems_are_absent_and_unrelated_text_gives_nothing():
    assert corrections_db("Raise the bass 2 dB.") == {"bass": 2.0}
    assert corrections_db("") == {}
    assert corrections_db("The chorus could use a key change.") == {}


def test_stems_outside_the_given_list_are_ignored():
    assert corrections_db("Raise the bass 2 dB and cut the drums 3 dB.", stems=("bass",)) == {"bass": 2.0}


def test_amounts_are_clipped_to_the_contract_range():
    assert corrections_db("Raise the bass 5000 dB.") == {"bass": 60.0}


def test_non_text_is_refused_with_a_clear_error():
    with pytest.raises(TypeError, match="must be a str"):
        parse_advice(None)


def test_very_long_input_is_parsed_in_bounded_pieces():
    text = "Bring the vocals up 3 dB and the drums and the bass and the keys " * 400
    assert set(directions(text)) == set(STEMS)
    assert corrections_db("x" * 100_000) == {}


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=400))
def test_the_parser_never_crashes_on_arbitrary_text(text):
    parsed = parse_advice(text)
    for stem, correction in parsed.items():
        assert stem in STEMS
        assert correction.direction in {"up", "down", "leave"}
        assert -60.0 <= correction.db <= 60.0


ADVICE_WORDS = (
    "bring push pull the vocals drums bass keys up down don't leave alone 3 dB to 5 - + and , . too loud",
    "quiet buried it them everything else a touch way by about \u2013 : ; ! ? 12 0.5",
)
WORDS = st.sampled_from([word for line in ADVICE_WORDS for word in line.split(" ")])


@settings(max_examples=300, deadline=None, database=None)
@given(st.lists(WORDS, max_size=60).map(" ".join))
def test_the_parser_never_crashes_on_advice_like_word_salad(text):
    for correction in parse_advice(text, anchor="vocals").values():
        assert correction.direction in {"up", "down", "leave"}
        if correction.direction == "leave":
            assert correction.db == 0.0


def test_a_markdown_list_like_a_zero_shot_model_writes_is_read_stem_by_stem():
    text = "**Drums:** Decrease by 4 dB.\n**Bass:** No adjustment needed.\n**Other:** Increase by 2-3 dB."
    assert corrections_db(text, anchor="vocals") == {"drums": -4.0, "bass": 0.0, "other": 2.5}
