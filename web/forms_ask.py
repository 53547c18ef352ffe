"""Forms of a member's own requests: asking for help one question a page, cancelling one,
saying it has been done, and their words about helpers.

Each form checks the shape of an answer (a day from the list, an end after the start); the
rules themselves (enough tokens, a window not past, a served membership) are the booking
services', whose refusals the check page shows beside the question to change.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from circle import words
from circle.models import Category, Circle
from matching.selectors import KnownHelper
from web.forms import text

# Days a member can choose from: today and the next 13. Further ahead, they call.
DAYS_AHEAD = 14
# The half hours a helper can be asked to come between: 7am to 9pm, London time.
FIRST_SLOT = time(7, 0)
LAST_SLOT = time(21, 0)
# The longest job the page offers; longer ones are booked by phone.
LONGEST_MINUTES = 240
NO_PREFERENCE = "none"


def today() -> date:
    return timezone.localdate(timezone=words.LONDON)


def day_choices(*, start: date | None = None) -> list[tuple[str, str]]:
    """("2025-12-08", "Today: Monday 8 December"), then tomorrow, then the days after."""
    first = start or today()
    choices = []
    for n in range(DAYS_AHEAD):
        day = first + timedelta(days=n)
        name = words.day(day)
        if n == 0:
            name = _("Today: %(day)s") % {"day": name}
        elif n == 1:
            name = _("Tomorrow: %(day)s") % {"day": name}
        choices.append((day.isoformat(), str(name)))
    return choices


def clock(at: time) -> str:
    """10am, 10:30am, as words.clock says a moment."""
    return words.clock(datetime.combine(today(), at, tzinfo=words.LONDON))


def half_hours(first: time, last: time) -> list[time]:
    out, at = [], datetime.combine(date(2000, 1, 1), first)
    while at.time() <= last:
        out.append(at.time())
        at += timedelta(minutes=30)
    return out


def duration_step(circle: Circle) -> int:
    """The durations offered go up in the circle's billing increment (at least half an hour),
    so what is set aside is exactly what the member chose."""
    increment = circle.billing_increment_minutes
    return increment * max(1, -(-30 // increment))


def duration_choices(circle: Circle) -> list[tuple[str, str]]:
    step = duration_step(circle)
    longest = max(step, min(LONGEST_MINUTES, settings.MATCHING_MAX_ESTIMATE_MINUTES))
    return [
        (str(minutes), words.time_and_tokens(minutes, token_minutes=circle.token_minutes))
        for minutes in range(step, longest + 1, step)
    ]


def window_of(day: date, start: time, end: time) -> tuple[datetime, datetime]:
    """A window on a day in London's wall-clock time (the times offered avoid the clock
    change's missing and doubled hour, 1am to 2am)."""
    return (
        datetime.combine(day, start, tzinfo=words.LONDON),
        datetime.combine(day, end, tzinfo=words.LONDON),
    )


class CategoryForm(forms.Form):
    category = forms.ChoiceField(
        label=_("What kind of help do you need?"),
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose the kind of help you need.")},
    )

    def __init__(self, *args: Any, categories: Iterable[Category], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["category"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(c.slug, c.name) for c in categories]
        field.error_messages["invalid_choice"] = _("Choose one of the kinds of help listed.")


class JobForm(forms.Form):
    title = text(
        _("In a few words, what is the job?"),
        hint=_("For example, “Trim the front hedge” or “Help me set up my new phone”."),
        max_length=120,
    )
    details = forms.CharField(
        label=_("Anything else the helper should know (optional)"),
        help_text=_("For example, where the tools are, or that there is a dog."),
        required=False,
        max_length=4000,
        widget=forms.Textarea,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["title"].error_messages["required"] = _("Say in a few words what the job is.")
        self.fields["title"].error_messages["max_length"] = _(
            "Use 120 characters or fewer. You can say more in the next box."
        )
        self.fields["details"].error_messages["max_length"] = _("Use 4,000 characters or fewer.")


class DayForm(forms.Form):
    day = forms.ChoiceField(
        label=_("Which day would you like help?"),
        help_text=_("For a day further ahead, call us."),
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose the day you would like help."),
            "invalid_choice": _("Choose one of the days listed."),
        },
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["day"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = day_choices()

    def clean_day(self) -> date:
        return date.fromisoformat(self.cleaned_data["day"])


class TimeForm(forms.Form):
    """From and until, in half hours: the helper comes some time between them."""

    start = forms.ChoiceField(
        label=_("From"),
        error_messages={"required": _("Choose the earliest time a helper can come.")},
    )
    end = forms.ChoiceField(
        label=_("Until"),
        error_messages={"required": _("Choose the time the job must be finished by.")},
    )

    def __init__(self, *args: Any, day: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.day = day
        blank = [("", _("Choose a time"))]
        half = timedelta(minutes=30)
        last_start = (datetime.combine(day, LAST_SLOT) - half).time()
        first_end = (datetime.combine(day, FIRST_SLOT) + half).time()
        for name, slots in (
            ("start", half_hours(FIRST_SLOT, last_start)),
            ("end", half_hours(first_end, LAST_SLOT)),
        ):
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)
            field.choices = blank + [(at.strftime("%H:%M"), clock(at)) for at in slots]
            field.error_messages["invalid_choice"] = _("Choose one of the times listed.")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end <= start:
                self.add_error("end", _("Choose a time after the time it starts."))
            elif (
                window_of(self.day, time.fromisoformat(start), time.fromisoformat(end))[1]
                <= timezone.now()
            ):
                self.add_error(
                    "start",
                    _("That time has already passed today. Choose a later time, or another day."),
                )
        return data


class DurationForm(forms.Form):
    minutes = forms.TypedChoiceField(
        label=_("How long do you think the job will take?"),
        help_text=_(
            "We set this much aside from your tokens until the job is done. If it takes less "
            "time, the rest comes back to you."
        ),
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose how long you think the job will take."),
            "invalid_choice": _("Choose one of the times listed."),
        },
    )

    def __init__(
        self, *args: Any, circle: Circle, window: tuple[datetime, datetime] | None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["minutes"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = duration_choices(circle)
        self.window = window

    def clean_minutes(self) -> int:
        minutes: int = self.cleaned_data["minutes"]
        if self.window is not None:
            start, end = self.window
            room = int((end - start).total_seconds() // 60)
            if minutes > room:
                raise forms.ValidationError(
                    _(
                        "The job must fit between %(start)s and %(end)s, which is %(room)s. "
                        "Choose a shorter time, or go back and choose more time."
                    )
                    % {
                        "start": words.clock(start),
                        "end": words.clock(end),
                        "room": words.duration(room),
                    }
                )
        return minutes


class HelperChoiceForm(forms.Form):
    helper = forms.ChoiceField(
        label=_("Is there a helper you would like us to ask first?"),
        help_text=_(
            "We will ask them first this time and next time too. You can change this at any "
            "time on the “Your helpers” page."
        ),
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose a helper, or “No preference”."),
            "invalid_choice": _("Choose one of the helpers listed."),
        },
    )

    def __init__(self, *args: Any, helpers: Sequence[KnownHelper], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["helper"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(str(k.helper.pk), k.first_name) for k in helpers] + [
            (NO_PREFERENCE, str(_("No preference: anyone suitable")))
        ]


class RepeatForm(forms.Form):
    repeat = forms.TypedChoiceField(
        label=_("Do you need this help again?"),
        choices=[
            ("0", _("No, just this once")),
            ("1", _("Yes, every week")),
            ("2", _("Yes, every two weeks")),
        ],
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Say whether you need this help again."),
            "invalid_choice": _("Choose one of the answers listed."),
        },
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["repeat"]
        field.choice_hints = {  # type: ignore[attr-defined]
            "1": _("On the same day of the week, at the same times."),
            "2": _("On the same day every other week, at the same times."),
        }


class BookForm(forms.Form):
    """The check page's button: the key made when the journey started, so a second press (or
    a form sent twice) books once."""

    key = forms.CharField(max_length=64, widget=forms.HiddenInput)


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Why are you cancelling? (optional)"),
        help_text=_("This helps us do better. Only the circle's staff see it."),
        required=False,
        max_length=500,
        widget=forms.Textarea,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"].error_messages["max_length"] = _("Use 500 characters or fewer.")


RATINGS = [
    ("5", _("Excellent")),
    ("4", _("Good")),
    ("3", _("All right")),
    ("2", _("Not very good")),
    ("1", _("Poor")),
]


class ConfirmForm(forms.Form):
    rating = forms.TypedChoiceField(
        label=_("How was the help? (optional)"),
        choices=RATINGS,
        coerce=int,
        required=False,
        empty_value=None,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": _("Choose one of the answers listed.")},
    )
    comment = forms.CharField(
        label=_("Anything you would like to tell us? (optional)"),
        help_text=_("Only the circle's staff read this, not the helper."),
        required=False,
        max_length=2000,
        widget=forms.Textarea,
    )

    def __init__(self, *args: Any, helper_name: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if helper_name:
            self.fields["rating"].label = _("How was %(name)s's help? (optional)") % {
                "name": helper_name
            }
        self.fields["comment"].error_messages["max_length"] = _("Use 2,000 characters or fewer.")


class PreferenceForm(forms.Form):
    """One of the buttons on the helpers page."""

    ACTIONS = ("preferred", "blocked", "remove")

    helper = forms.IntegerField(min_value=1)
    action = forms.ChoiceField(choices=[(a, a) for a in ACTIONS])
