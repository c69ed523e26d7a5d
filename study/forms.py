"""Participant forms: validation only. Every write is a service in ``study/services.py``."""

from django import forms

from study.dimensions import SCALE
from study.huggins import INTERVALS

ROLE_CHOICES = [
    ("mixing_engineer", "Mixing or mastering engineer"),
    ("producer", "Producer"),
    ("recording_engineer", "Recording or live-sound engineer"),
    ("musician", "Musician who mixes their own music"),
    ("student", "Audio-engineering student"),
    ("hobbyist", "Hobbyist"),
    ("other", "Other"),
]
DAW_CHOICES = [
    ("pro_tools", "Pro Tools"),
    ("logic", "Logic Pro"),
    ("ableton", "Ableton Live"),
    ("cubase", "Cubase or Nuendo"),
    ("reaper", "Reaper"),
    ("studio_one", "Studio One"),
    ("fl_studio", "FL Studio"),
    ("bitwig", "Bitwig Studio"),
    ("console", "An analogue console"),
    ("other", "Other"),
    ("none", "None"),
]
GENRE_CHOICES = [
    ("pop", "Pop"),
    ("rock", "Rock"),
    ("hip_hop", "Hip-hop / rap"),
    ("electronic", "Electronic"),
    ("metal", "Metal"),
    ("jazz", "Jazz"),
    ("country", "Country"),
    ("singer_songwriter", "Singer-songwriter / folk"),
    ("classical", "Classical"),
    ("other", "Other"),
]
HEARING_CHOICES = [
    ("no", "No"),
    ("yes", "Yes"),
    ("prefer_not", "I prefer not to say"),
]


class ContinueForm(forms.Form):
    """A page whose only answer is "continue" (the CSRF token is its whole content)."""


class ConsentForm(forms.Form):
    """One required checkbox per statement of the consent document being shown."""

    def __init__(self, *args, statements=(), **kwargs):
        super().__init__(*args, **kwargs)
        for index, statement in enumerate(statements, start=1):
            self.fields[f"statement_{index}"] = forms.BooleanField(
                label=statement,
                required=True,
                error_messages={"required": "Please tick this statement to take part."},
            )

    def answers(self):
        """The ticked statements, keyed by their text, as stored with the consent record."""
        return {field.label: bool(self.cleaned_data[name]) for name, field in self.fields.items()}


class BackgroundForm(forms.Form):
    role = forms.ChoiceField(
        label="Which best describes your work with audio?", choices=ROLE_CHOICES, widget=forms.RadioSelect
    )
    years_mixing = forms.IntegerField(
        label="How many years have you been mixing music?", min_value=0, max_value=80
    )
    daw = forms.ChoiceField(label="Which DAW or console do you mix on most?", choices=DAW_CHOICES)
    genres = forms.MultipleChoiceField(
        label="Which genres do you mix? (tick all that apply)",
        choices=GENRE_CHOICES,
        widget=forms.CheckboxSelectMultiple,
    )
    hearing_issues = forms.ChoiceField(
        label="Do you have any known hearing impairment (for example hearing loss or tinnitus)?",
        choices=HEARING_CHOICES,
        widget=forms.RadioSelect,
    )


class ScreenForm(forms.Form):
    """The headphone screen's answers: which interval held the tone, one field per trial."""

    def __init__(self, *args, trials=6, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(str(i), f"Sound {i}") for i in range(1, INTERVALS + 1)]
        for trial in range(1, trials + 1):
            self.fields[f"trial_{trial}"] = forms.TypedChoiceField(
                label=f"Trial {trial}: which sound had the faint tone?",
                choices=choices,
                coerce=int,
                widget=forms.RadioSelect,
                error_messages={"required": "Please choose one of the three sounds."},
            )

    def answers(self):
        return [self.cleaned_data[name] for name in self.fields]


class ClosingForm(forms.Form):
    """The study's closing questionnaire, built from ``Study.closing_questionnaire``.

    Each question is ``{"name", "kind": "text" | "likert", "label", "required"}``; a Likert
    question also has ``low`` and ``high`` endpoint labels.
    """

    def __init__(self, *args, questions=(), **kwargs):
        super().__init__(*args, **kwargs)
        for question in questions:
            name, kind = question["name"], question.get("kind", "text")
            required = bool(question.get("required", False))
            if kind == "likert":
                field = forms.TypedChoiceField(
                    choices=[(str(s), str(s)) for s in SCALE],
                    coerce=int,
                    widget=forms.RadioSelect,
                    required=required,
                    empty_value=None,
                )
                field.low = question.get("low", "")
                field.high = question.get("high", "")
            elif kind == "text":
                field = forms.CharField(
                    widget=forms.Textarea(attrs={"rows": 3}), required=required, max_length=5000
                )
            else:
                raise ValueError(f"closing question {name!r}: unknown kind {kind!r} (use text or likert)")
            field.label = question["label"]
            field.kind = kind
            self.fields[name] = field
