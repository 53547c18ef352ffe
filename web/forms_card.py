"""Forms of the caller's card in the operators' console: the call reference every action
takes, booking help on one page, and contact details on one page.

The booking page asks what the member's own ask pages ask, with their forms (web/forms_ask.py):
the same choices, the same checks, the same words in its errors. Staff see all the questions at
once, with short labels and drop-down lists a keyboard chooses from by typing ("10am", "G" for
gardening), since they book all day with a caller waiting.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from circle.models import Circle
from circle.selectors import category_list
from matching.selectors import KnownHelper
from members.models import Member
from web.forms import text
from web.forms_ask import (
    DAYS_AHEAD,
    NO_PREFERENCE,
    CategoryForm,
    DayForm,
    DurationForm,
    HelperChoiceForm,
    JobForm,
    TimeForm,
    today,
    window_of,
)
from web.forms_join import (
    DetailsAddressForm,
    DetailsEmailForm,
    DetailsPhoneForm,
)


class CallForm(forms.Form):
    """The call reference: every action on the card is for a caller, and the audit log keeps
    which call it was done on."""

    call_reference = text(
        _("Call reference"),
        hint=_("The reference of this call, or its date and time, like 1 Dec 10:15."),
        autocomplete="off",
        spellcheck="false",
        width="20",
        max_length=100,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["call_reference"].error_messages["required"] = _(
            "Enter the call reference, or the date and time of the call."
        )


def _as_select(form: forms.Form, name: str, label: Any, blank: Any = "") -> None:
    """A question of the member's pages as a drop-down list with a short label (a first,
    empty choice where nothing is chosen yet, which the field's own rule refuses)."""
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    field.label = label
    field.widget = forms.Select()
    choices: list[Any] = list(field.choices)  # type: ignore[arg-type]
    if blank and not any(value == "" for value, _label in choices):
        choices = [("", blank), *choices]
    field.choices = choices


class Booking:
    """Every question of the member's ask pages on one page, with their forms: each checks its
    own answers as it does there, and the time and how long are checked against the day and
    the time chosen, as the pages that follow them are."""

    def __init__(
        self,
        data: Any,
        *,
        member: Member,
        helpers: list[KnownHelper],
        initial: dict[str, Any] | None = None,
    ) -> None:
        circle: Circle = member.circle
        initial = initial or {}
        self.call = CallForm(data, initial=initial)
        self.category = CategoryForm(data, initial=initial, categories=category_list(circle=circle))
        _as_select(self.category, "category", _("Kind of help"), _("Choose the kind of help"))
        self.job = JobForm(data, initial=initial)
        self.job.fields["title"].label = _("The job, in a few words")
        self.job.fields["title"].help_text = _("For example, “Trim the front hedge”.")
        self.day = DayForm(data, initial=initial)
        _as_select(self.day, "day", _("Day"), _("Choose a day"))
        self.day.fields["day"].help_text = ""
        # The time is checked against the day chosen (not past, if today); with no day chosen
        # yet only the times themselves are, against the last day offered, which is never past.
        chosen = self.day.cleaned_data["day"] if data is not None and self.day.is_valid() else None
        self.time = TimeForm(
            data, initial=initial, day=chosen or today() + timedelta(days=DAYS_AHEAD - 1)
        )
        self.window: tuple[datetime, datetime] | None = None
        if chosen is not None and self.time.is_valid():
            self.window = window_of(
                chosen,
                time.fromisoformat(self.time.cleaned_data["start"]),
                time.fromisoformat(self.time.cleaned_data["end"]),
            )
        self.duration = DurationForm(data, initial=initial, circle=circle, window=self.window)
        _as_select(self.duration, "minutes", _("How long"), _("Choose how long"))
        self.duration.fields["minutes"].help_text = _(
            "This much is set aside from the member's tokens until the job is done."
        )
        self.helpers = helpers
        self.helper: HelperChoiceForm | None = None
        if helpers:
            self.helper = HelperChoiceForm(
                data, initial={"helper": initial.get("helper", NO_PREFERENCE)}, helpers=helpers
            )
            _as_select(self.helper, "helper", _("Helper to ask first"))
            self.helper.fields["helper"].help_text = _(
                "They become the member's preferred helper, asked first this time and next time."
            )

    @property
    def forms(self) -> list[forms.Form]:
        return [
            form
            for form in (
                self.call,
                self.category,
                self.job,
                self.day,
                self.time,
                self.duration,
                self.helper,
            )
            if form is not None
        ]

    def is_valid(self) -> bool:
        return all([form.is_valid() for form in self.forms]) and self.window is not None

    @property
    def cleaned_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for form in self.forms:
            data.update(form.cleaned_data)
        data.setdefault("helper", NO_PREFERENCE)
        return data

    def answers(self) -> dict[str, str]:
        """The answers as the check page sends them back, in hidden fields."""
        data = self.cleaned_data
        out = {name: str(value) for name, value in data.items()}
        day = data["day"]
        out["day"] = day.isoformat() if isinstance(day, date) else str(day)
        return out


class ContactForm(forms.Form):
    """Phone, email and address at once, with the member's own details forms' fields and
    checks, labelled for staff."""

    def __init__(self, *args: Any, member: Member, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        phone = DetailsPhoneForm().fields["phone"]
        phone.label = _("Phone number")
        email_form = DetailsEmailForm(signs_in=member.user_id is not None)
        email = email_form.fields["email"]
        email.label = _("Email address")
        if member.user_id is not None:
            email.help_text = _("The member signs in with this: a new one is their new sign-in.")
        address = DetailsAddressForm()
        self.fields["phone"] = phone
        self.fields["email"] = email
        self.fields["address_line1"] = address.fields["address_line1"]
        self.fields["postcode"] = address.fields["postcode"]
        self.fields["address_line1"].help_text = ""
        self._email_form = email_form
        for name, message in (
            ("phone", _("Enter a phone number.")),
            ("email", _("Enter an email address.")),
            ("address_line1", _("Enter the house number and street.")),
            ("postcode", _("Enter a postcode.")),
        ):
            self.fields[name].error_messages["required"] = message

    def clean_email(self) -> str:
        self._email_form.cleaned_data = {"email": self.cleaned_data["email"]}
        return self._email_form.clean_email()
