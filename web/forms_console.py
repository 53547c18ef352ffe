"""Forms for the operators' console: finding a caller and registering one, each on one page.

As web/forms.py says, a form checks only the shape of an answer; the views put each answer
through the services' own rules (the circle's age and area, a phone we can call) and show each
refusal beside its field. Field names are `member_join`'s argument names, so a refusal naming its
field lands on the right one. The words speak to the operator about the caller ("the caller's"),
not to a member about themselves.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.validators import ProhibitNullCharactersValidator
from django.utils.translation import gettext_lazy as _

from web.forms import DateField, text
from web.forms_join import _email_shape


class FindForm(forms.Form):
    q = text(
        _("Find a caller"),
        hint=_(
            "Their name, phone number or postcode. A district (SE1) or sector (SE1 7) works too."
        ),
        autocomplete="off",
        spellcheck="false",
        max_length=100,
        required=False,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # On arrival the operator types at once: the caller is already talking.
        self.fields["q"].widget.attrs["autofocus"] = True
        for validator in self.fields["q"].validators:
            if isinstance(validator, ProhibitNullCharactersValidator):
                validator.message = _("Type a name, a phone number or a postcode.")


class RegisterForm(forms.Form):
    full_name = text(_("Full name"), autocomplete="off", spellcheck="false", max_length=150)
    date_of_birth = DateField(label=_("Date of birth"), hint=_("For example, 27 3 1948"))
    address_line1 = text(
        _("House number and street"),
        hint=_("For example, 12 Tabard Street, or Flat 3, Rose Court"),
        autocomplete="off",
    )
    postcode = text(
        _("Postcode"), autocomplete="off", width="10", max_length=10, spellcheck="false"
    )
    phone = text(
        _("Phone number"),
        hint=_("A landline or a mobile, in any spacing: 020 7946 0000 or 07700 900 123."),
        autocomplete="off",
        input_type="tel",
        width="20",
        max_length=30,
    )
    email = text(
        _("Email address (optional)"),
        hint=_("Leave it empty if they have no email address."),
        autocomplete="off",
        input_type="email",
        spellcheck="false",
        max_length=254,
        required=False,
    )
    call_reference = text(
        _("Call reference"),
        hint=_("The reference of this call, from your phone system or call log."),
        autocomplete="off",
        spellcheck="false",
        width="20",
        max_length=100,
    )
    different_person = forms.BooleanField(
        label=_("No, this is a different person: register them"), required=False
    )
    # One per form shown: the same form sent twice (a double press) registers one caller.
    submission = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)

    required_messages: dict[str, Any] = {
        "full_name": _("Enter the caller's full name."),
        "date_of_birth": _("Enter the caller's date of birth."),
        "address_line1": _("Enter the caller's house number and street."),
        "postcode": _("Enter the caller's postcode."),
        "phone": _("Enter a phone number to call the caller on."),
        "call_reference": _("Enter the call reference, so the register shows which call this was."),
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, message in self.required_messages.items():
            self.fields[name].error_messages["required"] = message

    def clean_email(self) -> str:
        value: str = self.cleaned_data["email"].strip()
        return _email_shape(value) if value else ""

    def clean_call_reference(self) -> str:
        value: str = self.cleaned_data["call_reference"].strip()
        if not value:
            raise forms.ValidationError(self.required_messages["call_reference"], code="required")
        return value
