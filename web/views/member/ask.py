"""Asking for help: one question a page, the answers kept in the session, then "Check your
answers" and one button that books it (DESIGN.md, "Web pages").

The journey's answers live in the session under "ask", with the idempotency key made when
the journey began: the check page's button sends the key back, so pressing it twice (or a
form sent again) books once. Nothing is written until that button: the questions only change
the session.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from circle import words
from circle.errors import DomainError
from circle.messages import message_for
from circle.selectors import category_list
from matching.models import PreferenceKind, RecurrenceInterval
from matching.selectors import KnownHelper, member_known_helpers
from matching.services import preference_remove, preference_set, series_create, task_book
from members.models import Member
from members.selectors import Caller
from tokens.selectors import member_tokens
from web.forms_ask import (
    NO_PREFERENCE,
    BookForm,
    CategoryForm,
    DayForm,
    DurationForm,
    HelperChoiceForm,
    JobForm,
    RepeatForm,
    TimeForm,
    window_of,
)
from web.views.base import member_required, render_page, trusted_scope

SESSION_KEY = "ask"
# Journeys already booked, by key, so the same button pressed again shows what it booked.
BOOKED_KEY = "ask_booked"
SERVED = ("active", "grace")

# The questions in order: the page's address, the answers it keeps, and how the check page
# names it.
STEPS: dict[str, tuple[tuple[str, ...], Any]] = {
    "what": (("category",), gettext_lazy("Kind of help")),
    "job": (("title", "details"), gettext_lazy("The job")),
    "day": (("day",), gettext_lazy("Day")),
    "time": (("start", "end"), gettext_lazy("Time")),
    "how-long": (("minutes",), gettext_lazy("How long")),
    "helper": (("helper",), gettext_lazy("Helper to ask first")),
    "repeat": (("repeat",), gettext_lazy("Repeats")),
}

# Which question a booking service's refusal is about, so the check page links to it.
REFUSAL_STEP = {
    "unknown_category": "what",
    "window_in_past": "day",
    "window_too_far": "day",
    "window_invalid": "time",
    "window_too_long": "time",
    "estimate_invalid": "how-long",
    "estimate_exceeds_window": "how-long",
}
REFUSAL_PAGE = {
    "insufficient_tokens": "web:member-pay-tokens",
    "membership_inactive": "web:member-pay",
    "no_home_location": "web:member-details",
}


@dataclass
class Journey:
    key: str
    answers: dict[str, Any]


def _journey(request: HttpRequest, member: Member, *, start: bool = False) -> Journey | None:
    """This member's journey from the session; a new one (with a new key) when `start` and
    there is none. A journey of another member record (a person in two circles) is not theirs."""
    kept = request.session.get(SESSION_KEY)
    if isinstance(kept, dict) and kept.get("member_id") == member.pk:
        return Journey(key=kept["key"], answers=dict(kept.get("answers", {})))
    if not start:
        return None
    journey = Journey(key=uuid.uuid4().hex, answers={})
    _keep(request, member, journey)
    return journey


def _keep(request: HttpRequest, member: Member, journey: Journey) -> None:
    request.session[SESSION_KEY] = {
        "member_id": member.pk,
        "key": journey.key,
        "answers": journey.answers,
    }


def _steps(helpers: list[KnownHelper]) -> list[str]:
    """The questions this member is asked: the helper question only when they know one."""
    return [slug for slug in STEPS if slug != "helper" or helpers]


def _choosable(helpers: list[KnownHelper]) -> list[KnownHelper]:
    return [k for k in helpers if k.word != PreferenceKind.BLOCKED]


def _answered(journey: Journey, slug: str) -> bool:
    return all(name in journey.answers for name in STEPS[slug][0])


def _next_step(journey: Journey, steps: list[str]) -> str | None:
    return next((slug for slug in steps if not _answered(journey, slug)), None)


def _window(journey: Journey) -> tuple[datetime, datetime] | None:
    answers = journey.answers
    if not all(name in answers for name in ("day", "start", "end")):
        return None
    return window_of(
        date.fromisoformat(answers["day"]),
        time.fromisoformat(answers["start"]),
        time.fromisoformat(answers["end"]),
    )


def _served(member: Member) -> bool:
    return member.membership_status in SERVED


@member_required
@trusted_scope("ask")
def start(request: HttpRequest) -> HttpResponse:
    """What asking involves, and the way in; or, for a membership not paid up, why not yet."""
    member: Member = request.member  # type: ignore[attr-defined]
    if not _served(member):
        return render_page(request, "web/ask/not_served.html", {"member": member})
    journey = _journey(request, member, start=True)
    assert journey is not None
    helpers = _choosable(member_known_helpers(member=member))
    steps = _steps(helpers)
    following = _next_step(journey, steps)
    return render_page(
        request,
        "web/ask/start.html",
        {
            "tokens": member_tokens(member=member),
            "questions": len(steps),
            "first": (
                reverse("web:member-ask-step", kwargs={"step": following})
                if following
                else reverse("web:member-ask-check")
            ),
            "carry_on": bool(journey.answers),
        },
    )


def _form(
    slug: str, request: HttpRequest, journey: Journey, helpers: list[KnownHelper]
) -> forms.Form:
    member: Member = request.member  # type: ignore[attr-defined]
    data = request.POST if request.method == "POST" else None
    initial = {name: journey.answers[name] for name in STEPS[slug][0] if name in journey.answers}
    if slug == "what":
        return CategoryForm(data, initial=initial, categories=category_list(circle=member.circle))
    if slug == "job":
        return JobForm(data, initial=initial)
    if slug == "day":
        return DayForm(data, initial=initial)
    if slug == "time":
        return TimeForm(data, initial=initial, day=date.fromisoformat(journey.answers["day"]))
    if slug == "how-long":
        return DurationForm(data, initial=initial, circle=member.circle, window=_window(journey))
    if slug == "helper":
        if "helper" not in initial:
            preferred = [k for k in helpers if k.word == PreferenceKind.PREFERRED]
            if preferred:
                initial["helper"] = str(preferred[0].helper.pk)
        return HelperChoiceForm(data, initial=initial, helpers=helpers)
    return RepeatForm(data, initial=initial)


def _answers(slug: str, form: forms.Form) -> dict[str, Any]:
    """A valid form's answers, as the session keeps them (JSON)."""
    data = form.cleaned_data
    if slug == "day":
        return {"day": data["day"].isoformat()}
    return {name: data[name] for name in STEPS[slug][0]}


@member_required
@trusted_scope("ask")
def question(request: HttpRequest, step: str) -> HttpResponse:
    member: Member = request.member  # type: ignore[attr-defined]
    if not _served(member):
        return redirect("web:member-ask")
    helpers = _choosable(member_known_helpers(member=member))
    steps = _steps(helpers)
    if step not in steps:
        raise Http404
    journey = _journey(request, member)
    if journey is None:
        return redirect("web:member-ask")
    # A question comes after the ones it depends on: the time needs the day.
    missing = _next_step(journey, steps[: steps.index(step)])
    if missing is not None:
        return redirect("web:member-ask-step", step=missing)
    form = _form(step, request, journey, helpers)
    if request.method == "POST" and form.is_valid():
        journey.answers.update(_answers(step, form))
        if step == "day":
            # A new day can leave a time of today that has passed: ask the time again.
            journey.answers.pop("start", None)
            journey.answers.pop("end", None)
        _keep(request, member, journey)
        following = _next_step(journey, steps)
        if following is None:
            return redirect("web:member-ask-check")
        return redirect("web:member-ask-step", step=following)
    index = steps.index(step)
    back = (
        reverse("web:member-ask-step", kwargs={"step": steps[index - 1]})
        if index
        else reverse("web:member-ask")
    )
    return render_page(
        request,
        f"web/ask/{step}.html",
        {
            "form": form,
            "number": index + 1,
            "questions": len(steps),
            "back": back,
            "day": (
                words.day(date.fromisoformat(journey.answers["day"]))
                if "day" in journey.answers
                else ""
            ),
        },
    )


@dataclass(frozen=True)
class Plan:
    """What the booking will hold: per visit, how many visits are booked at once (a repeat
    books its visits some weeks ahead), and the first visit's window."""

    hold: int
    visits: int
    window: tuple[datetime, datetime]

    @property
    def total(self) -> int:
        return self.hold * self.visits


def _plan(member: Member, journey: Journey) -> Plan:
    window = _window(journey)
    assert window is not None
    minutes = int(journey.answers["minutes"])
    increment = member.circle.billing_increment_minutes
    hold = -(-minutes // increment) * increment
    visits = 1
    interval = int(journey.answers.get("repeat", 0))
    if interval:
        # As series_book_ahead does: every visit that starts within the horizon.
        horizon = datetime.now(tz=words.LONDON) + timedelta(
            days=settings.MATCHING_SERIES_BOOK_AHEAD_DAYS
        )
        visits = 0
        at = window[0]
        while at <= horizon:
            visits += 1
            at += timedelta(weeks=interval)
        visits = max(visits, 1)
    return Plan(hold=hold, visits=visits, window=window)


def _rows(
    journey: Journey, steps: list[str], helpers: list[KnownHelper], categories: dict[str, str]
) -> list[dict[str, Any]]:
    answers = journey.answers
    window = _window(journey)
    assert window is not None
    by_id = {str(k.helper.pk): k.first_name for k in helpers}
    values: dict[str, Any] = {
        "what": categories.get(answers["category"], answers["category"]),
        "job": {"lines": [answers["title"], *([answers["details"]] if answers["details"] else [])]},
        "day": words.day(date.fromisoformat(answers["day"])),
        "time": _("%(start)s to %(end)s")
        % {
            "start": words.clock(window[0]),
            "end": words.clock(window[1]),
        },
        "how-long": words.duration(int(answers["minutes"])),
        "helper": (
            _("Ask %(name)s first, this time and next time") % {"name": by_id[answers["helper"]]}
            if answers.get("helper") in by_id
            else _("No preference")
        ),
        "repeat": {
            0: _("No, just this once"),
            RecurrenceInterval.WEEKLY: _("Every week"),
            RecurrenceInterval.FORTNIGHTLY: _("Every two weeks"),
        }.get(int(answers["repeat"]), ""),
    }
    rows = []
    for slug in steps:
        value = values[slug]
        row = {
            "key": STEPS[slug][1],
            "href": reverse("web:member-ask-step", kwargs={"step": slug}),
            "hidden": str(STEPS[slug][1]).lower(),
        }
        if isinstance(value, dict):
            row.update(value)
        else:
            row["value"] = value
        rows.append(row)
    return rows


def _refusal(error: DomainError) -> dict[str, str]:
    """A booking service's refusal for the error summary, linking to what to change."""
    href = ""
    if error.code in REFUSAL_STEP:
        href = reverse("web:member-ask-step", kwargs={"step": REFUSAL_STEP[error.code]})
    elif error.code in REFUSAL_PAGE:
        href = reverse(REFUSAL_PAGE[error.code])
    text = message_for(error)
    if error.code == "insufficient_tokens":
        # The service's sentence counts minutes for a developer ("This needs 120 minutes of
        # tokens held; 30 are available."); circle/messages.py has no plain one for it yet.
        text = _(
            "You do not have enough tokens for this now. Buy more tokens, or choose a shorter time."
        )
    return {"href": href, "text": text}


@member_required
@trusted_scope("ask")
def check(request: HttpRequest) -> HttpResponse:
    member: Member = request.member  # type: ignore[attr-defined]
    caller: Caller = request.caller  # type: ignore[attr-defined]
    if request.method == "POST":
        sent = BookForm(request.POST)
        key = sent.data.get("key", "")
        booked = request.session.get(BOOKED_KEY, {})
        if key and key in booked:
            # The same button again: the booking it made.
            return redirect("web:member-request", task_id=booked[key])
    if not _served(member):
        return redirect("web:member-ask")
    journey = _journey(request, member)
    if journey is None:
        return redirect("web:member-ask")
    helpers = _choosable(member_known_helpers(member=member))
    steps = _steps(helpers)
    missing = _next_step(journey, steps)
    if missing is not None:
        return redirect("web:member-ask-step", step=missing)
    plan = _plan(member, journey)
    errors: list[dict[str, str]] = []
    if request.method == "POST":
        if sent.is_valid() and sent.cleaned_data["key"] == journey.key:
            try:
                task_id = _book(member, caller, journey, plan, helpers)
            except DomainError as error:
                errors.append(_refusal(error))
            else:
                if task_id is None:  # the same journey is being booked by another request
                    return redirect("web:member-home")
                request.session.pop(SESSION_KEY, None)
                recent = dict(list(request.session.get(BOOKED_KEY, {}).items())[-4:])
                recent[journey.key] = task_id
                request.session[BOOKED_KEY] = recent
                messages.success(
                    request,
                    _(
                        "You have asked for help. We are finding a helper, and will tell you "
                        "when someone says they will come."
                    ),
                )
                return redirect("web:member-request", task_id=task_id)
        else:
            # A page from an older journey: show this one's answers to check again.
            return redirect("web:member-ask-check")
    tokens = member_tokens(member=member)
    categories = {c.slug: c.name for c in category_list(circle=member.circle)}
    return render_page(
        request,
        "web/ask/check.html",
        {
            "rows": _rows(journey, steps, helpers, categories),
            "plan": plan,
            "tokens": tokens,
            "enough": tokens.available >= plan.hold,
            "enough_for": min(plan.visits, tokens.available // plan.hold),
            "errors": errors,
            "form_has_errors": bool(errors),
            "key": journey.key,
            "helper_change": _helper_change(journey, helpers),
        },
    )


def _helper_change(journey: Journey, known: list[KnownHelper]) -> str:
    """What booking will do to the member's standing preference, in words ("" for nothing)."""
    chosen = journey.answers.get("helper")
    if chosen is None:
        return ""
    preferred = next((k for k in known if k.word == PreferenceKind.PREFERRED), None)
    if chosen == NO_PREFERENCE:
        if preferred is None:
            return ""
        return _("We will stop asking %(name)s first for your requests.") % {
            "name": preferred.first_name
        }
    if preferred is not None and str(preferred.helper.pk) == chosen:
        return ""
    name = next((k.first_name for k in known if str(k.helper.pk) == chosen), "")
    if not name:
        return ""
    return _(
        "%(name)s will be your preferred helper: we will ask %(name)s first for this and your "
        "future requests."
    ) % {"name": name}


def _book(
    member: Member, caller: Caller, journey: Journey, plan: Plan, known: list[KnownHelper]
) -> int | None:
    """Record the helper choice as the member's standing preference, then book the journey
    (a task, or a series and its first visit). The task cannot carry a preferred helper:
    matching ranks by the member's HelperPreference, so that is where the choice goes, and it
    must be there before the booking commits, since the first offers go out then. A booking
    refused after it leaves the preference she chose, as the check page said it would be."""
    answers = journey.answers
    booking = {
        "member": member,
        "caller": caller,
        "category": answers["category"],
        "title": answers["title"],
        "details": answers["details"],
        "window_start": plan.window[0],
        "window_end": plan.window[1],
        "estimated_minutes": int(answers["minutes"]),
    }
    prefer_helper(member, caller, answers.get("helper"), known)
    interval = int(answers["repeat"])
    if interval:
        # series_create takes no idempotency key: a short lock on the journey's key keeps a
        # second press, arriving while the first is booking, from booking a second series.
        lock = f"web:ask:{member.pk}:{journey.key}"
        if not cache.add(lock, 1, timeout=60):
            return None
        try:
            series = series_create(interval_weeks=interval, **booking)
        except DomainError:
            cache.delete(lock)
            raise
        first = series.tasks.order_by("window_start").values_list("pk", flat=True).first()
        assert first is not None
        task_id = int(first)
    else:
        outcome = task_book(idempotency_key=journey.key, **booking)
        task_id = outcome.task.pk
    return task_id


def prefer_helper(
    member: Member,
    caller: Caller,
    chosen: str | None,
    known: list[KnownHelper],
    *,
    call_reference: str = "",
) -> None:
    """The helper question's answer (a helper's id, or NO_PREFERENCE) made the member's
    standing preference. Shared with the console's booking page, where staff give the call
    reference that the audit rows keep."""
    if chosen is None:
        return
    preferred = next((k for k in known if k.word == PreferenceKind.PREFERRED), None)
    if chosen == NO_PREFERENCE:
        if preferred is not None:
            preference_remove(
                member=member,
                helper=preferred.helper,
                caller=caller,
                call_reference=call_reference,
            )
        return
    helper = next((k.helper for k in known if str(k.helper.pk) == chosen), None)
    if helper is not None and (preferred is None or preferred.helper.pk != helper.pk):
        preference_set(
            member=member,
            helper=helper,
            kind=PreferenceKind.PREFERRED,
            caller=caller,
            call_reference=call_reference,
        )
