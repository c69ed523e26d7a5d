import pytest

from study.forms import BackgroundForm, ClosingForm, ConsentForm, ScreenForm
from study.models import DEFAULT_CLOSING_QUESTIONNAIRE

BACKGROUND = {
    "role": "producer",
    "years_mixing": "3",
    "daw": "logic",
    "genres": ["jazz"],
    "hearing_issues": "prefer_not",
}


def test_consent_needs_every_statement_ticked_and_reports_them_by_text():
    statements = ["I am 18 or older.", "I agree to take part."]
    assert not ConsentForm({"statement_1": "on"}, statements=statements).is_valid()
    form = ConsentForm({"statement_1": "on", "statement_2": "on"}, statements=statements)
    assert form.is_valid()
    assert form.answers() == {"I am 18 or older.": True, "I agree to take part.": True}


def test_a_complete_background_is_cleaned_to_plain_values():
    form = BackgroundForm(BACKGROUND)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["years_mixing"] == 3 and form.cleaned_data["genres"] == ["jazz"]


@pytest.mark.parametrize(
    ("field", "value"),
    [("years_mixing", "-1"), ("years_mixing", "many"), ("daw", "garageband"), ("genres", []), ("role", "")],
)
def test_a_bad_background_answer_is_rejected(field, value):
    form = BackgroundForm({**BACKGROUND, field: value})
    assert not form.is_valid() and field in form.errors


def test_the_screen_form_has_one_three_way_choice_per_trial_and_returns_answers_in_order():
    form = ScreenForm({f"trial_{i}": str(i % 3 + 1) for i in range(1, 7)}, trials=6)
    assert form.is_valid()
    assert form.answers() == [2, 3, 1, 2, 3, 1]
    assert not ScreenForm({**{f"trial_{i}": "1" for i in range(1, 7)}, "trial_3": "4"}, trials=6).is_valid()
    assert "trial_6" in ScreenForm({}, trials=6).errors


def test_the_closing_form_follows_the_studys_questionnaire():
    form = ClosingForm({"workflow_fit": "As a check.", "trust": "5"}, questions=DEFAULT_CLOSING_QUESTIONNAIRE)
    assert form.is_valid(), form.errors
    assert form.cleaned_data == {"workflow_fit": "As a check.", "trust": 5, "missing": ""}
    assert form.fields["trust"].low == "Strongly disagree"


def test_a_required_closing_question_left_empty_or_an_out_of_scale_score_is_rejected():
    assert "workflow_fit" in ClosingForm({"trust": "4"}, questions=DEFAULT_CLOSING_QUESTIONNAIRE).errors
    bad = ClosingForm({"workflow_fit": "x", "trust": "6"}, questions=DEFAULT_CLOSING_QUESTIONNAIRE)
    assert "trust" in bad.errors


def test_an_unknown_closing_question_kind_is_a_configuration_error():
    with pytest.raises(ValueError, match="unknown kind 'slider'"):
        ClosingForm(questions=[{"name": "q", "kind": "slider", "label": "Q"}])
