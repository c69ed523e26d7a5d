import numpy as np
import pytest

from modelgen.advice_parse import parse_advice
from modelgen.corrections import STEMS, direction, item_error
from modelgen.reference_advisors import ideal_advice, sham_advice, sham_corrections

GENRES = ("Pop", "Rap", "Rock", "Jazz", "Heavy Metal")


def scenarios(n, seed=5):
    rng = np.random.default_rng(seed)
    for index in range(n):
        anchor = STEMS[index % 4]
        others = [s for s in STEMS if s != anchor]
        corrections = dict.fromkeys(STEMS, 0.0)
        for stem in [others[i] for i in rng.permutation(3)[: index % 4]]:
            corrections[stem] = float(rng.choice([-1.0, 1.0]) * rng.uniform(3.0, 12.0))
        yield anchor, corrections, GENRES[index % len(GENRES)]


def test_ideal_advice_states_the_exact_inverse_of_the_offsets():
    for seed, (anchor, corrections, genre) in enumerate(scenarios(40)):
        advice = ideal_advice(
            anchor=anchor, corrections_db=corrections, genre=genre, rng=np.random.default_rng(seed)
        )
        for stem, entry in advice.structured.items():
            assert entry["direction"] == direction(corrections[stem])
            assert entry["db"] == pytest.approx(
                round(corrections[stem], 1) if entry["direction"] != "leave" else 0.0
            )


def test_ideal_advice_read_back_by_the_parser_scores_every_direction_right():
    for seed, (anchor, corrections, genre) in enumerate(scenarios(40)):
        advice = ideal_advice(
            anchor=anchor, corrections_db=corrections, genre=genre, rng=np.random.default_rng(seed)
        )
        parsed = {s: p.db for s, p in parse_advice(advice.text, anchor=anchor).items()}
        assert item_error(corrections, parsed, anchor=anchor)["all_directions_correct"]


def test_sham_advice_is_always_wrong_in_direction_on_flawed_stems():
    for seed, (anchor, corrections, genre) in enumerate(scenarios(80)):
        advice = sham_advice(
            anchor=anchor, corrections_db=corrections, genre=genre, rng=np.random.default_rng(seed)
        )
        parsed = parse_advice(advice.text, anchor=anchor)
        for stem, truth in corrections.items():
            if stem == anchor or direction(truth) == "leave":
                continue
            assert advice.structured[stem]["direction"] != direction(truth)
            assert parsed[stem].direction != direction(truth)


def test_sham_advice_on_a_balanced_mix_asks_for_one_needless_move():
    balanced = dict.fromkeys(STEMS, 0.0)
    for seed in range(30):
        advice = sham_advice(
            anchor="vocals", corrections_db=balanced, genre="Pop", rng=np.random.default_rng(seed)
        )
        moves = [s for s, e in advice.structured.items() if e["direction"] != "leave"]
        assert len(moves) == 1
        assert 3.0 <= abs(advice.structured[moves[0]]["db"]) <= 6.0
        assert parse_advice(advice.text, anchor="vocals")[moves[0]].direction != "leave"


def test_reference_advice_is_deterministic_by_rng():
    anchor, corrections, genre = next(scenarios(1))
    for advisor in (ideal_advice, sham_advice):
        first = advisor(anchor=anchor, corrections_db=corrections, genre=genre, rng=np.random.default_rng(4))
        again = advisor(anchor=anchor, corrections_db=corrections, genre=genre, rng=np.random.default_rng(4))
        assert first == again


def test_a_sham_needs_the_truth_for_every_non_anchor_stem():
    with pytest.raises(ValueError, match="no entry for \\['bass'\\]"):
        sham_corrections(
            anchor="vocals", corrections_db={"drums": 4.0, "other": 0.0}, rng=np.random.default_rng(0)
        )
