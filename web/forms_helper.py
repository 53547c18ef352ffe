"""Forms for becoming a helper, for a helper's profile, and for a task: the minutes a job
took, and why a helper hands a task back.

As web/forms.py says, a form checks only the shape of an answer; the views put each answer
through helpers.services' own rules (`helper_skills_resolve`, `helper_radius_check`,
`helper_availability_check`, the circle's area) and show a refusal beside its field.

The weekly availability is edited without JavaScript: a checkbox per weekday, each with a "from"
and an "until" time (GOV.UK's conditional reveal hides the times of unticked days when scripts
run), or "any day, at any time". One window a day, which is what a phone's screen holds; the
service merges and stores them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import time
from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.core.validators import MaxValueValidator
from django.utils.translation import gettext_lazy as _

from circle.models import Category, VettingLevel
from helpers.models import HelperKind
from helpers.services import Availability
from web.forms import text
from web.forms_ask import clock, half_hours
from web.forms_join import EmailForm, QuestionForm

WEEKDAYS = (
    _("Monday"),
    _("Tuesday"),
    _("Wednesday"),
    _("Thursday"),
    _("Friday"),
    _("Saturday"),
    _("Sunday"),
)
# Times offered for a day's window, in half hours.
FIRST_TIME = time(7, 0)
LAST_TIME = time(22, 0)
RADII = ("1", "2", "3", "5", "8", "10", "15")


def radius_text(value: Decimal | str) -> str:
    """5.0 → "5", 2.5 → "2.5": the radius as the radios write it."""
    number = Decimal(str(value)).normalize()
    return f"{number:f}"


class HelperPhoneForm(QuestionForm):
    phone = text(
        _("What is your phone number?"),
        hint=_(
            "We text you about tasks near you, and a coordinator calls you about your checks. "
            "A mobile is best, for example 07700 900 123."
        ),
        autocomplete="tel",
        input_type="tel",
        width="20",
        max_length=30,
    )


class HelperEmailForm(EmailForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].help_text = _(
            "You will use it to sign in. We only write to you about helping."
        )


class KindForm(QuestionForm):
    kind = forms.ChoiceField(
        label=_("How do you want to help?"),
        widget=forms.RadioSelect,
        choices=[
            (HelperKind.VOLUNTEER, _("As a volunteer")),
            (HelperKind.PAID, _("As a paid helper")),
        ],
        error_messages={"required": _("Choose how you want to help.")},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choice_hints = {  # type: ignore[attr-defined]
            HelperKind.VOLUNTEER: _(
                "You earn tokens for the time you give, to spend on help later or to give away."
            ),
            HelperKind.PAID: _("The circle pays you for your time, as agreed with a coordinator."),
        }


def vetting_hint(level: str) -> Any:
    if level == VettingLevel.ENHANCED:
        return _("Needs an enhanced DBS check")
    if level == VettingLevel.BASIC:
        return _("Needs a basic DBS check")
    return ""


class SkillsForm(forms.Form):
    skills = forms.MultipleChoiceField(
        label=_("What kinds of help can you give?"),
        help_text=_("Choose all that you can do. You can change them later."),
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": _("Choose at least one kind of help you can give."),
            "invalid_choice": _("Choose one of the kinds of help listed."),
        },
    )

    def __init__(self, *args: Any, categories: Iterable[Category], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["skills"]
        assert isinstance(field, forms.MultipleChoiceField)
        listed = list(categories)
        field.choices = [(c.slug, c.name) for c in listed]
        field.choice_hints = {c.slug: vetting_hint(c.vetting_level) for c in listed}  # type: ignore[attr-defined]


class AreaForm(QuestionForm):
    heading = _("Where can you help?")
    postcode = text(
        _("Your home postcode"),
        hint=_("We measure how far each task is from here. We never show it to members."),
        autocomplete="postal-code",
        width="10",
        max_length=10,
        spellcheck="false",
    )
    travel_radius_km = forms.ChoiceField(
        label=_("How far can you travel?"),
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose how far you can travel.")},
    )

    def __init__(self, *args: Any, current_radius: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.required_messages = {**self.required_messages, "postcode": _("Enter your postcode.")}
        self.fields["postcode"].error_messages["required"] = _("Enter your postcode.")
        radii = list(RADII)
        if current_radius and current_radius not in radii:
            # A radius set another way (by a coordinator, or the API) is offered as it is.
            radii = sorted({*radii, current_radius}, key=Decimal)
        field = self.fields["travel_radius_km"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(r, _("Up to %(km)s km") % {"km": r}) for r in radii]

    def clean_travel_radius_km(self) -> Decimal:
        return Decimal(self.cleaned_data["travel_radius_km"])


class AvailabilityForm(forms.Form):
    """Per weekday a tick and its from and until times, or "any day, at any time"."""

    any_time = forms.BooleanField(required=False, label=_("Any day, at any time"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        blank = [("", _("Choose a time"))]
        half = [at for at in half_hours(FIRST_TIME, LAST_TIME)]
        starts = blank + [(at.strftime("%H:%M"), clock(at)) for at in half[:-1]]
        ends = blank + [(at.strftime("%H:%M"), clock(at)) for at in half[1:]]
        for day, name in enumerate(WEEKDAYS):
            self.fields[f"day{day}"] = forms.BooleanField(required=False, label=name)
            for part, choices, label in (
                ("start", starts, _("From")),
                ("end", ends, _("Until")),
            ):
                self.fields[f"day{day}_{part}"] = forms.ChoiceField(
                    required=False,
                    label=label,
                    choices=choices,
                    error_messages={"invalid_choice": _("Choose one of the times listed.")},
                )

    def days(self) -> list[dict[str, Any]]:
        """Each weekday's tick and times, for the template."""
        return [
            {
                "name": name,
                "tick": self[f"day{day}"],
                "times": [self[f"day{day}_start"], self[f"day{day}_end"]],
            }
            for day, name in enumerate(WEEKDAYS)
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        ticked = [day for day in range(7) if data.get(f"day{day}")]
        if data.get("any_time") and ticked:
            self.add_error(
                "any_time",
                _("Choose the days you can help, or “Any day, at any time”, not both."),
            )
        elif not data.get("any_time") and not ticked:
            self.add_error(
                "any_time", _("Choose the days you can help, or “Any day, at any time”.")
            )
        for day in ticked:
            name = WEEKDAYS[day]
            if not data.get(f"day{day}_start"):
                self.add_error(
                    f"day{day}_start",
                    _("Choose the time you can start on %(day)s.") % {"day": name},
                )
            if not data.get(f"day{day}_end"):
                self.add_error(
                    f"day{day}_end",
                    _("Choose the time you must finish by on %(day)s.") % {"day": name},
                )
        return data

    def availability(self) -> list[Availability]:
        """The windows chosen (none for "any time"), in week order."""
        data = self.cleaned_data
        if data.get("any_time"):
            return []
        return [
            Availability(
                day,
                time.fromisoformat(data[f"day{day}_start"]),
                time.fromisoformat(data[f"day{day}_end"]),
            )
            for day in range(7)
            if data.get(f"day{day}")
        ]

    @staticmethod
    def initial_for(slots: Sequence[Availability]) -> dict[str, Any]:
        """The boxes for stored windows: the first window of each day (one a day here)."""
        if not slots:
            return {"any_time": True}
        initial: dict[str, Any] = {}
        for slot in slots:
            if f"day{slot.weekday}" in initial:
                continue
            initial[f"day{slot.weekday}"] = True
            initial[f"day{slot.weekday}_start"] = slot.start.strftime("%H:%M")
            initial[f"day{slot.weekday}_end"] = slot.end.strftime("%H:%M")
        return initial


class DoneForm(forms.Form):
    """How long the job took, in minutes. `confirmed` is the second step's hidden answer: the
    first step shows what will be billed and asks again, and only then is anything written."""

    minutes = forms.IntegerField(
        label=_("How many minutes did it take?"),
        help_text=_("Count the time you spent on the job, in minutes: 1 hour is 60 minutes."),
        min_value=1,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "width": "3"}),
    )
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        most = settings.MATCHING_MAX_REPORTED_MINUTES
        field = self.fields["minutes"]
        assert isinstance(field, forms.IntegerField)
        field.max_value = most
        field.validators.append(MaxValueValidator(most))
        field.error_messages.update(
            {
                "required": _("Enter how many minutes the job took."),
                "invalid": _("Enter the minutes as a number, like 45."),
                "min_value": _("Enter at least 1 minute."),
                "max_value": _("Enter %(most)s minutes or fewer. If it took longer, call us.")
                % {"most": most},
            }
        )


class HandBackForm(forms.Form):
    reason = forms.CharField(
        label=_("Why can you not do it?"),
        help_text=_(
            "Your circle's coordinator reads this. We will offer the job to other helpers."
        ),
        max_length=500,
        widget=forms.Textarea,
        error_messages={
            "required": _("Say why you cannot do it."),
            "max_length": _("Use 500 characters or fewer."),
        },
    )
