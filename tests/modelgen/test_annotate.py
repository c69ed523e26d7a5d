import itertools

import numpy as np
import pytest

from modelgen.annotate import Advice, spoken_range, structure, target_advice
from modelgen.corrections import STEMS

GENRES = ("Pop", "Rap", "Rock", "Jazz", "Heavy Metal", "Country", "Electronic", "Pop/Rock", "Polka")


def scenario(seed):
    rng = np.random.default_rng(seed)
    anchor = STEMS[seed % 4]
    others = [s for s in STEMS if s != anchor]
    flawed = list(rng.choice(others, size=seed % 4, replace=False))
    corrections = dict.fromkeys(STEMS, 0.0)
    for stem in flawed:
        corrections[stem] = float(rng.choice([-1, 1]) * rng.uniform(3, 12))
    return anchor, corrections, GENRES[seed % len(GENRES)]


def test_target_advice_covers_every_non_anchor_stem():
    for seed in range(60):
        anchor, corrections, genre = scenario(seed)
        advice = target_advice(
            anchor=anchor, corrections_db=corrections, genre=genre, rng=np.random.default_rng(seed)
        )
        assert isinstance(advice, Advice)
        assert set(advice.structured) == set(STEMS) - {anchor}
        assert advice.text.strip()


def test_the_same_rng_state_gives_the_same_text():
    anchor, corrections, genre = scenario(7)
    texts = {
        target_advice(
            anchor=anchor, corrections_db=corrections, genre=genre, rng=np.random.default_rng(11)
        ).text
        for _ in range(3)
    }
    assert len(texts) == 1


def test_different_seeds_give_many_paraphrases_of_the_same_case():
    corrections = {"vocals": 0.0, "drums": -4.0, "bass": 0.0, "other": 0.0}
    texts = {
        target_advice(
            anchor="vocals", corrections_db=corrections, genre="Pop", rng=np.random.default_rng(s)
        ).text
        for s in range(100)
    }
    assert len(texts) >= 80


def test_a_balanced_mix_is_called_balanced_and_left_alone():
    corrections = dict.fromkeys(STEMS, 0.0)
    for seed in range(30):
        advice = target_advice(
            anchor="bass", corrections_db=corrections, genre="Rock", rng=np.random.default_rng(seed)
        )
        text = advice.text.lower()
        assert any(word in text for word in ("balanced", "balance", "leave", "no changes", "nothing to fix"))
        assert all(
            entry == {"direction": "leave", "db": 0.0, "range": [0.0, 0.0]}
            for entry in advice.structured.values()
        )


@pytest.mark.parametrize(("db", "direction"), [(4.2, "up"), (-9.0, "down"), (1.0, "leave"), (-1.4, "leave")])
def test_the_structured_form_states_direction_and_a_range_around_the_correction(db, direction):
    entry = structure(db)
    assert entry["direction"] == direction
    low, high = entry["range"]
    assert low <= high
    if direction != "leave":
        assert low - 0.5 <= entry["db"] <= high + 0.5


def test_spoken_ranges_are_wider_for_large_corrections():
    assert spoken_range(4.0) == (3.0, 5.0)
    assert spoken_range(9.0) == (7.0, 11.0)


def test_rap_vocals_that_need_to_come_up_can_be_explained_by_the_genre_convention():
    corrections = {"vocals": 5.0, "drums": 0.0, "bass": 0.0, "other": 0.0}
    texts = [
        target_advice(
            anchor="drums", corrections_db=corrections, genre="Rap", rng=np.random.default_rng(s)
        ).text
        for s in range(40)
    ]
    assert any("on top" in text for text in texts)


def test_a_missing_correction_is_refused():
    with pytest.raises(ValueError, match="no entry for \\['other'\\]"):
        target_advice(
            anchor="vocals",
            corrections_db={"vocals": 0, "drums": 0, "bass": 0},
            genre="Pop",
            rng=np.random.default_rng(0),
        )


def test_wording_varies_in_verbs_and_amounts():
    corrections = {"vocals": 0.0, "drums": -5.0, "bass": 5.0, "other": 0.0}
    text = " ".join(
        target_advice(
            anchor="vocals", corrections_db=corrections, genre="Pop", rng=np.random.default_rng(s)
        ).text
        for s in range(200)
    ).lower()
    for word in itertools.chain(
        ("bring", "push", "raise", "lift", "pull", "tuck", "back", "cut"), ("about", " to ", "–")
    ):
        assert word in text
