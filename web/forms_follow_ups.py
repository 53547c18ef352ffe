"""The follow-ups' forms: a note, and the outcome that closes an item. Shape only; the rules
(an item closed a moment ago, a note on a closed item) are the services'."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from attention.services import NOTE_MAX


class NoteForm(forms.Form):
    text = forms.CharField(
        label=_("Add a note"),
        help_text=_(
            "What happened, for whoever picks this up next. For example: rang at 10am, "
            "no answer, try after lunch."
        ),
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["text"].error_messages.update(
            {
                "required": _("Write the note."),
                "max_length": _("Use 1,000 characters or fewer."),
            }
        )


class CloseForm(forms.Form):
    outcome = forms.CharField(
        label=_("What was the outcome?"),
        help_text=_("For example: she paid £10 in cash at the door; or he does not want to renew."),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["outcome"].error_messages.update(
            {
                "required": _("Say what the outcome was."),
                "max_length": _("Use 500 characters or fewer."),
            }
        )


class TakeOverForm(forms.Form):
    """Taking over an item someone else holds names whose it was, as seen on the page: if it
    changed hands since, the service refuses rather than take it from a third person."""

    take_over_from = forms.IntegerField(required=False, widget=forms.HiddenInput)
