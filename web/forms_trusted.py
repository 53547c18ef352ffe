"""Forms for trusted persons: a member naming one (name, email, what they may do), and staff
recording one for a caller with the reference of the call in which the member agreed."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from members.models import TrustedScope
from web.forms import text

# What each scope lets the trusted person do, in the member's words.
SCOPE_CHOICES = [
    (TrustedScope.ASK.value, _("Ask for help for me, and cancel a request")),
    (TrustedScope.CONFIRM.value, _("Say a job has been done, so the helper is paid")),
    (TrustedScope.PAY.value, _("Pay for me: my membership, tokens, and a gift link")),
    (TrustedScope.STATEMENT.value, _("See my tokens and statement")),
]


class TrustedPersonForm(forms.Form):
    full_name = text(_("Their full name"), autocomplete="off", max_length=150)
    email = text(
        _("Their email address"),
        hint=_(
            "They sign in with their own login. If they do not have one, we email them a link "
            "to choose a password."
        ),
        input_type="email",
        autocomplete="off",
        spellcheck="false",
        max_length=254,
    )
    scopes = forms.MultipleChoiceField(
        label=_("What may they do for you?"),
        help_text=_("Choose all that apply. They can never change your details."),
        choices=SCOPE_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one thing they may do.")},
    )

    def __init__(self, *args: Any, staff: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["full_name"].error_messages["required"] = _("Enter their full name.")
        self.fields["email"].error_messages["required"] = _("Enter their email address.")
        if staff:
            self.fields["scopes"].label = _("What may they do for the member?")
            self.fields["scopes"].help_text = _("Only what the member agreed to on the call.")
            self.fields["scopes"].choices = TrustedScope.choices  # type: ignore[attr-defined]
