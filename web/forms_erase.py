"""The coordinator's form for erasing a member's personal data (web/views/console/erase.py)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _


class EraseForm(forms.Form):
    reason = forms.CharField(
        label=_("Why are you erasing their data?"),
        help_text=_(
            "For example: they asked us to, in a letter dated 3 December. This is kept in the "
            "audit log. Do not write their name or address here."
        ),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    confirm = forms.BooleanField(
        label=_("I understand this cannot be undone"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"].error_messages["required"] = _("Say why you are erasing their data.")
        self.fields["reason"].error_messages["max_length"] = _("Use 500 characters or fewer.")
        self.fields["confirm"].error_messages["required"] = _(
            "Tick the box to confirm you understand this cannot be undone."
        )
