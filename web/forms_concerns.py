"""The safeguarding concern forms: raising one (danger first), and a coordinator's note,
referral, suspension and closing. Shape only; the rules are attention's and matching's."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from attention.services import CONCERN_MAX, CONCERN_NOTE_MAX
from web.forms import DateField

YES_NO = [("yes", _("Yes")), ("no", _("No"))]


class DangerForm(forms.Form):
    danger = forms.ChoiceField(
        label=_("Is someone in danger right now?"),
        choices=YES_NO,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Say whether someone is in danger right now."),
            "invalid_choice": _("Say whether someone is in danger right now."),
        },
    )


class ConcernForm(forms.Form):
    danger = forms.ChoiceField(choices=YES_NO, widget=forms.HiddenInput)
    about = forms.ChoiceField(
        label=_("Who are you worried about?"),
        error_messages={
            "required": _("Choose who you are worried about."),
            "invalid_choice": _("Choose who you are worried about."),
        },
    )
    what_happened = forms.CharField(
        label=_("What happened, or what worries you?"),
        help_text=_("Say what you saw or heard, in your own words. Only coordinators read it."),
        max_length=CONCERN_MAX,
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={
            "required": _("Say what happened or what worries you."),
            "max_length": _("Use 5,000 characters or fewer."),
        },
    )
    happened_on = DateField(
        label=_("When did it happen? (optional)"), hint=_("For example, 27 11 2026")
    )

    def __init__(self, *args: Any, subjects: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["happened_on"].required = False
        about = self.fields["about"]
        assert isinstance(about, forms.ChoiceField)
        about.choices = [("", _("Choose a person")), *subjects]


class ConcernNoteForm(forms.Form):
    text = forms.CharField(
        label=_("Add a note"),
        help_text=_("Who you spoke to and what was done. Only coordinators read it."),
        max_length=CONCERN_NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "required": _("Write the note."),
            "max_length": _("Use 2,000 characters or fewer."),
        },
    )


class ReferralForm(forms.Form):
    referred_on = DateField(
        label=_("Date referred to the council's safeguarding team"),
        hint=_("For example, 27 11 2026"),
    )
    reference = forms.CharField(
        label=_("Their reference"),
        max_length=100,
        error_messages={
            "required": _("Give the reference the safeguarding team gave."),
            "max_length": _("Use 100 characters or fewer."),
        },
    )


class SuspendForm(forms.Form):
    reason = forms.CharField(
        label=_("Why are you suspending the helper?"),
        help_text=_("Recorded on their vetting record."),
        max_length=500,
        error_messages={
            "required": _("Say why."),
            "max_length": _("Use 500 characters or fewer."),
        },
    )


class ConcernCloseForm(forms.Form):
    outcome = forms.CharField(
        label=_("What was the outcome?"),
        max_length=CONCERN_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "required": _("Say what the outcome was."),
            "max_length": _("Use 5,000 characters or fewer."),
        },
    )
