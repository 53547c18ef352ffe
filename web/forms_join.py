"""Forms for joining, paying and a member's contact details: one question a form.

As web/forms.py says, a form checks only the shape of an answer (a date is a date, a number is a
number); the views put each answer through the service's own rule and show its refusal beside
the field. The field names are the services' argument names, so a refusal naming its field lands
on the right one.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _

from circle.errors import InvalidInput
from circle.messages import message_for
from web.forms import DateField, text


class QuestionForm(forms.Form):
    """A question page's form. `heading` is the page's one heading when the form asks with more
    than one box (an address: a fieldset whose legend is the heading); a form of one field makes
    that field's label the heading."""

    heading: Any = ""
    # What to say when a box is left empty, by field name (a label that asks a question does
    # not make a sentence after "Enter").
    required_messages: dict[str, Any] = {
        "full_name": _("Enter your full name."),
        "date_of_birth": _("Enter your date of birth."),
        "address_line1": _("Enter your house number and street."),
        "postcode": _("Enter your postcode."),
        "phone": _("Enter a phone number we can call you on."),
        "email": _("Enter your email address."),
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if name in self.required_messages:
                field.error_messages["required"] = self.required_messages[name]


class NameForm(QuestionForm):
    full_name = text(
        _("What is your full name?"), autocomplete="name", spellcheck="false", max_length=150
    )


class DateOfBirthForm(QuestionForm):
    date_of_birth = DateField(
        label=_("What is your date of birth?"), hint=_("For example, 27 3 1948"), birthday=True
    )


class AddressForm(QuestionForm):
    heading = _("What is your address?")
    address_line1 = text(
        _("House number and street"),
        hint=_("For example, 12 Tabard Street, or Flat 3, Rose Court"),
        autocomplete="address-line1",
    )
    postcode = text(
        _("Postcode"), autocomplete="postal-code", width="10", max_length=10, spellcheck="false"
    )


class PhoneForm(QuestionForm):
    phone = text(
        _("What is your phone number?"),
        hint=_(
            "We call you on this number about the help you ask for. A landline or a mobile, "
            "for example 020 7946 0000 or 07700 900 123."
        ),
        autocomplete="tel",
        input_type="tel",
        width="20",
        max_length=30,
    )


def _email_shape(value: str) -> str:
    value = value.strip()
    try:
        validate_email(value)
    except ValidationError:
        raise ValidationError(
            message_for(InvalidInput("email_invalid", "", field="email")), code="invalid"
        ) from None
    return value


class EmailForm(QuestionForm):
    email = text(
        _("What is your email address?"),
        hint=_("You will use it to sign in. We only write to you about your membership and help."),
        autocomplete="email",
        input_type="email",
        spellcheck="false",
        max_length=254,
    )

    def clean_email(self) -> str:
        return _email_shape(self.cleaned_data["email"])


class PasswordForm(QuestionForm):
    heading = _("Choose a password")
    password = text(
        _("Password"),
        hint=_(
            "At least 8 characters. Not only numbers, and not easy to guess. A few words you "
            "will remember, like marigold teapot river, work well."
        ),
        autocomplete="new-password",
        input_type="password",
        max_length=128,
    )
    password_again = text(
        _("Type the password again"),
        autocomplete="new-password",
        input_type="password",
        max_length=128,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["password"].error_messages["required"] = _("Choose a password.")
        # A password is taken as typed, spaces and all.
        for name in ("password", "password_again"):
            field = self.fields[name]
            assert isinstance(field, forms.CharField)
            field.strip = False
        self.fields["password_again"].error_messages["required"] = _(
            "Type the password again, to be sure it is right."
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        first, again = cleaned.get("password"), cleaned.get("password_again")
        if first and again and first != again:
            self.add_error(
                "password_again",
                _("The two passwords are not the same. Type the same password twice."),
            )
        return cleaned


# --- Paying ------------------------------------------------------------------------------------


class TokensForm(forms.Form):
    """How many tokens to buy: a whole number from 1 to the service's largest pack."""

    tokens = text(
        _("How many tokens do you want to buy?"),
        autocomplete="off",
        inputmode="numeric",
        width="3",
        max_length=6,
        spellcheck="false",
    )

    def __init__(self, *args: Any, largest: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.largest = largest
        self.fields["tokens"].error_messages["required"] = _(
            "Enter how many tokens you want to buy, like 5."
        )

    def clean_tokens(self) -> int:
        raw = self.cleaned_data["tokens"].strip()
        if not raw.isdigit():
            raise ValidationError(_("Enter a whole number of tokens, like 5."), code="invalid")
        count = int(raw)
        if not 1 <= count <= self.largest:
            raise ValidationError(
                _("You can buy from 1 to %(largest)d tokens at a time.")
                % {"largest": self.largest},
                code="invalid",
            )
        return count


# --- Contact details ---------------------------------------------------------------------------


class DetailsNameForm(QuestionForm):
    full_name = text(_("Your full name"), autocomplete="name", spellcheck="false", max_length=150)


class DetailsAddressForm(AddressForm):
    heading = _("Your address")


class DetailsPhoneForm(QuestionForm):
    phone = text(
        _("Your phone number"),
        hint=_("A landline or a mobile, for example 020 7946 0000 or 07700 900 123."),
        autocomplete="tel",
        input_type="tel",
        width="20",
        max_length=30,
    )


class DetailsEmailForm(QuestionForm):
    email = text(
        _("Your email address"),
        autocomplete="email",
        input_type="email",
        spellcheck="false",
        max_length=254,
    )

    def __init__(self, *args: Any, signs_in: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if signs_in:
            self.fields["email"].help_text = _(
                "You also sign in with this, so from now on sign in with the new address."
            )
        else:
            # Someone who joined by phone may have no email; leaving it empty removes it.
            self.fields["email"].required = False
            self.fields["email"].help_text = _("Leave it empty if you have no email address.")

    def clean_email(self) -> str:
        value: str = self.cleaned_data["email"].strip()
        return _email_shape(value) if value else ""
