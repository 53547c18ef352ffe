"""Forms for setting a password with a one-time link (`/claim/{token}/`), and for staff sending
one from the console."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _

from web.forms import new_password_fields, text
from web.forms_card import CallForm


class ClaimForm(forms.Form):
    """A new password, typed twice (as NewPasswordForm asks), and, when a login is being made,
    an email to sign in with too if they want one. The strength rules are Django's validators,
    which the service applies."""

    def __init__(self, *args: Any, with_email: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        new_password_fields(self)
        if with_email:
            self.fields["email"] = text(
                _("Email address (optional)"),
                hint=_(
                    "You can sign in with your mobile number. Give an email address if you "
                    "would like to sign in with that too."
                ),
                autocomplete="email",
                input_type="email",
                spellcheck="false",
                required=False,
                max_length=254,
            )

    def clean_email(self) -> str:
        email = str(self.cleaned_data.get("email") or "").strip()
        if email:
            try:
                validate_email(email)
            except ValidationError:
                raise ValidationError(
                    _("Enter an email address like name@example.com, or leave it empty.")
                ) from None
        return email

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        first, second = cleaned.get("new_password1"), cleaned.get("new_password2")
        if first and second and first != second:
            self.add_error("new_password2", _("The two passwords are not the same."))
        return cleaned


class ClaimLinkForm(CallForm):
    """How to send the link (only the ways the member can be reached), and the call."""

    channel = forms.ChoiceField(
        label=_("Send it by"),
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose how to send the link."),
            "invalid_choice": _("Choose how to send the link."),
        },
    )

    field_order = ["channel", "call_reference"]

    def __init__(self, *args: Any, channels: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["channel"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = channels
