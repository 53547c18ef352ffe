"""Forms for the pages. Each renders through `{% govuk_field %}` as its GOV.UK component; the
rules live in the services, which the views call, so a form checks only the shape of an answer
(a date is a date) and shows the service's refusal beside the field it names."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm, SetPasswordForm
from django.utils.translation import gettext_lazy as _

from members.models import phone_or_none


def text(
    label: Any,
    *,
    hint: Any = "",
    autocomplete: str = "",
    width: str = "",
    input_type: str = "text",
    required: bool = True,
    max_length: int | None = 200,
    inputmode: str = "",
    spellcheck: str = "",
) -> forms.CharField:
    """A GOV.UK text input. `width` is GOV.UK's fixed (2, 3, 4, 5, 10, 20) or fluid width."""
    attrs = {
        key: value
        for key, value in (
            ("autocomplete", autocomplete),
            ("width", width),
            ("inputmode", inputmode),
            ("spellcheck", spellcheck),
        )
        if value
    }
    widget_class = {
        "email": forms.EmailInput,
        "password": forms.PasswordInput,
        "tel": forms.TextInput,
    }.get(input_type, forms.TextInput)
    widget = widget_class(attrs=attrs)
    widget.input_type = input_type
    return forms.CharField(
        label=label,
        help_text=hint,
        required=required,
        max_length=max_length,
        widget=widget,
        error_messages={"required": _("Enter %(what)s.") % {"what": str(label).lower()}}
        if required
        else {},
    )


class DateWidget(forms.MultiWidget):
    """GOV.UK's date input: day, month and year boxes, named <name>_day, _month and _year."""

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        boxes: dict[str, forms.Widget | type[forms.Widget]] = {
            "day": forms.TextInput,
            "month": forms.TextInput,
            "year": forms.TextInput,
        }
        super().__init__(widgets=boxes, attrs=attrs)

    def decompress(self, value: Any) -> list[Any]:
        if isinstance(value, date):
            return [value.day, value.month, value.year]
        return [None, None, None]


class DateField(forms.MultiValueField):
    widget = DateWidget

    def __init__(self, *, label: Any, hint: Any = "", birthday: bool = False) -> None:
        fields = (forms.CharField(), forms.CharField(), forms.CharField())
        super().__init__(
            fields=fields,
            label=label,
            help_text=hint,
            require_all_fields=False,
            error_messages={
                "required": _("Enter %(what)s.") % {"what": str(label).lower()},
                "incomplete": _("Enter the day, month and year."),
            },
        )
        if birthday:
            self.widget.attrs["bday"] = "1"

    def compress(self, data_list: list[Any]) -> date | None:
        if not data_list or not any(data_list):
            return None
        if not all(data_list):
            raise forms.ValidationError(_("Enter the day, month and year."), code="incomplete")
        try:
            day, month, year = (int(str(part).strip()) for part in data_list)
            if year < 100:
                raise ValueError
            return date(year, month, day)
        except ValueError:
            raise forms.ValidationError(
                _("Enter a real date, like 27 3 1948."), code="invalid"
            ) from None


def _as_typed(form: forms.Form, *names: str) -> None:
    """Passwords are taken as typed, spaces and all, as joining and the API take them: a form
    that stripped them would refuse, at sign-in, a password chosen with a space at either end,
    and (setting one) let a password of spaces alone reach the validators as empty."""
    for name in names:
        field = form.fields[name]
        assert isinstance(field, forms.CharField)
        field.strip = False


class SignInForm(AuthenticationForm):
    """Django's own sign-in form (so django-axes counts its failures), in plain words."""

    error_messages = {
        "invalid_login": _(
            "The email address, mobile number or password is not right. Check them and try again."
        ),
        "inactive": _("This account is switched off. Please call your circle."),
    }

    def __init__(self, request: Any = None, *args: Any, **kwargs: Any) -> None:
        super().__init__(request, *args, **kwargs)
        self.fields["username"] = text(
            _("Email address or mobile number"), autocomplete="username", spellcheck="false"
        )
        self.fields["password"] = text(
            _("Password"), autocomplete="current-password", input_type="password"
        )
        _as_typed(self, "password")


class ResetRequestForm(PasswordResetForm):
    """An email address (the link goes by email) or a mobile number (by text, for a login that
    signs in with it). The field keeps Django's name, `email`, for either."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"] = text(
            _("Email address or mobile number"),
            hint=_("We will send a link to set a new password to this address or number."),
            autocomplete="username",
            spellcheck="false",
            max_length=254,
        )

    def clean_email(self) -> str:
        value = str(self.cleaned_data.get("email") or "").strip()
        if "@" in value:
            return value
        if phone_or_none(value) is None:
            raise forms.ValidationError(
                _("Enter an email address, or a mobile number like 07700 900123.")
            )
        return value


def new_password_fields(form: forms.Form) -> None:
    """A new password typed twice (`new_password1`, `new_password2`), as typed, with the hint
    of Django's validators: the reset page's and the claim page's."""
    form.fields["new_password1"] = text(
        _("New password"),
        hint=_("At least 8 characters. Not only numbers, and not easy to guess."),
        autocomplete="new-password",
        input_type="password",
    )
    form.fields["new_password2"] = text(
        _("Type the new password again"), autocomplete="new-password", input_type="password"
    )
    _as_typed(form, "new_password1", "new_password2")


class NewPasswordForm(SetPasswordForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        new_password_fields(self)
