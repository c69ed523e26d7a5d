"""The advisor page's form: uploaded stems (or a demo song), their roles, the anchor, the advisor.

Validation only; the audio itself is checked by ``modelgen.uploads`` when the view saves it.
The page's script adds one row per chosen file with a role menu (``roles``, one value per
file, in order) and an anchor radio button (``anchor``, the file's index).
"""

from django import forms

from modelgen.corrections import STEMS
from modelgen.models import AdvisorJob

ROLE_CHOICES = [(stem, stem) for stem in STEMS]


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """A file field that takes several files and cleans to a list (empty when none)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".wav,.flac,.aif,.aiff,audio/*"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, (list, tuple)):
            return [super(MultipleFileField, self).clean(item, initial) for item in data if item]
        return [super().clean(data, initial)] if data else []


class OrderedRolesField(forms.MultipleChoiceField):
    """Roles in file order; the same role may appear more than once (those stems are summed)."""

    widget = forms.MultipleHiddenInput


class AdvisorForm(forms.Form):
    source = forms.ChoiceField(
        choices=AdvisorJob.Source.choices, initial=AdvisorJob.Source.UPLOAD, widget=forms.RadioSelect
    )
    stems = MultipleFileField(required=False, label="Stems (WAV, FLAC or AIFF)")
    roles = OrderedRolesField(choices=ROLE_CHOICES, required=False)
    anchor = forms.IntegerField(min_value=0, required=False, widget=forms.HiddenInput)
    demo_song = forms.ChoiceField(choices=[], required=False, label="Demo song")
    demo_anchor = forms.ChoiceField(choices=ROLE_CHOICES, required=False, label="Anchor of the demo song")
    advisor = forms.ChoiceField(choices=[], label="Advisor")
    genre = forms.ChoiceField(choices=[], required=False, label="Genre")

    def __init__(self, *args, advisors, genres, demo_songs, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["advisor"].choices = advisors
        if advisors:
            self.fields["advisor"].initial = advisors[0][0]
        self.fields["genre"].choices = [("", "not given"), *[(genre, genre) for genre in genres]]
        self.fields["demo_song"].choices = [(song.scenario_id, song.label) for song in demo_songs]
        self.fields["demo_anchor"].initial = STEMS[0]

    def clean(self):
        cleaned = super().clean()
        source = cleaned.get("source")
        if source == AdvisorJob.Source.UPLOAD:
            files = cleaned.get("stems") or []
            roles = cleaned.get("roles") or []
            if not files:
                self.add_error("stems", "Choose the stem files to upload.")
            elif len(roles) != len(files):
                self.add_error("roles", f"Give each stem a role: {len(files)} files but {len(roles)} roles.")
            elif cleaned.get("anchor") is None or cleaned["anchor"] >= len(files):
                self.add_error("anchor", "Mark one stem as the anchor: the stem that stays where it is.")
        elif source == AdvisorJob.Source.DEMO:
            if not cleaned.get("demo_song"):
                self.add_error("demo_song", "Choose a demo song.")
            if not cleaned.get("demo_anchor"):
                self.add_error("demo_anchor", "Choose the anchor of the demo song.")
        return cleaned
