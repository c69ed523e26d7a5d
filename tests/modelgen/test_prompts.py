"""Chat messages: labelled clips anchor first, the instruction names the anchor, the schema holds."""

import pytest

from modelgen.contracts import validate
from modelgen.prompts import REPRESENTATIONS, audio_paths, build_messages, prompt_sha256

STEMS = ["bass", "vocals", "drums", "other"]
CLIPS = [f"audio/s1/model/{i}_{stem}.wav" for i, stem in enumerate(STEMS)]


def record(messages):
    return {"schema_version": "1.0", "scenario_id": "s1", "messages": messages}


def test_the_anchor_is_heard_first_and_named_as_the_anchor():
    messages = build_messages(anchor="bass", stems=STEMS, clip_paths=CLIPS)
    labels = messages[1]["content"][0]["text"]
    assert labels.startswith("Audio 1 is the anchor, the bass.")
    assert "Audio 4 is the other instruments" in labels
    assert audio_paths(messages) == CLIPS
    assert "The anchor is the bass" in messages[1]["content"][-1]["text"]


def test_an_answer_becomes_the_assistant_turn_and_the_record_follows_the_contract():
    messages = build_messages(anchor="bass", stems=STEMS, clip_paths=CLIPS, answer="Leave it all.")
    assert [turn["role"] for turn in messages] == ["system", "user", "assistant"]
    validate("dataset_record", record(messages))


@pytest.mark.parametrize(
    ("representation", "expected"),
    [("stems", CLIPS), ("anchor_mix", [CLIPS[0], "mix.wav"]), ("stems_mix", [*CLIPS, "mix.wav"])],
)
def test_each_representation_hears_its_clips(representation, expected):
    messages = build_messages(
        anchor="bass", stems=STEMS, clip_paths=CLIPS, representation=representation, mix_path="mix.wav"
    )
    assert audio_paths(messages) == expected
    validate("dataset_record", record(messages))
    assert representation in REPRESENTATIONS


def test_the_genre_is_named_when_known():
    messages = build_messages(anchor="bass", stems=STEMS, clip_paths=CLIPS, genre="jazz")
    assert "This is a jazz song." in messages[1]["content"][-1]["text"]


def test_an_anchor_that_is_not_first_is_refused():
    with pytest.raises(ValueError, match="must come first"):
        build_messages(anchor="vocals", stems=STEMS, clip_paths=CLIPS)


def test_a_mix_representation_without_a_mix_is_refused():
    with pytest.raises(ValueError, match="needs mix_path"):
        build_messages(anchor="bass", stems=STEMS, clip_paths=CLIPS, representation="anchor_mix")


def test_a_missing_clip_is_refused():
    with pytest.raises(ValueError, match="needs 4 clip path"):
        build_messages(anchor="bass", stems=STEMS, clip_paths=CLIPS[:3])


def test_the_prompt_hash_ignores_the_answer_but_not_the_clips():
    plain = build_messages(anchor="bass", stems=STEMS, clip_paths=CLIPS)
    answered = build_messages(anchor="bass", stems=STEMS, clip_paths=CLIPS, answer="Fine.")
    other = build_messages(anchor="bass", stems=STEMS, clip_paths=[*CLIPS[:3], "x.wav"])
    assert prompt_sha256(plain) == prompt_sha256(answered) != prompt_sha256(other)
