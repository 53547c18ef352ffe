"""Forms of staff two-factor sign-in: a code, and a coordinator's reason for a reset."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from web.forms import text


class CodeForm(forms.Form):
    """The code at sign-in: the 6 numbers the app shows, or a recovery code."""

    def __init__(self, *args: Any, recovery: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["code"] = text(
            _("Code"),
            hint=_("The 6 numbers your authenticator app shows now, or one of your recovery codes.")
            if recovery
            else _("The 6 numbers your authenticator app shows now."),
            autocomplete="one-time-code",
            width="10",
            max_length=40,
            spellcheck="false",
            inputmode="" if recovery else "numeric",
        )
        self.fields["code"].error_messages["required"] = _("Enter the code.")


class ResetForm(forms.Form):
    reason = forms.CharField(
        label=_("Why?"),
        help_text=_("For example: a lost or new phone. This is kept in the circle's audit log."),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"].error_messages.update(
            {"required": _("Say why."), "max_length": _("Use 500 characters or fewer.")}
        )
