"""A helper's profile in words: how they help, when, and where their checks stand. Shared by
becoming a helper and the profile page."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from django.utils.translation import gettext as _

from circle import words
from circle.models import VettingLevel
from helpers.models import DbsLevel, Helper, HelperKind, VettingCheck
from helpers.services import Availability
from web.forms_helper import WEEKDAYS


def kind_text(kind: str) -> str:
    return {
        HelperKind.VOLUNTEER: _("As a volunteer, earning tokens"),
        HelperKind.PAID: _("As a paid helper"),
    }.get(HelperKind(kind), kind)


def _clock(at: time) -> str:
    return words.clock(datetime.combine(date(2000, 1, 3), at, tzinfo=words.LONDON))


def availability_lines(windows: Sequence[Availability]) -> list[str]:
    """["Monday, 9am to 12pm", ...], or "Any day, at any time" for none."""
    if not windows:
        return [_("Any day, at any time")]
    return [
        _("%(day)s, %(start)s to %(end)s")
        % {"day": WEEKDAYS[w.weekday], "start": _clock(w.start), "end": _clock(w.end)}
        for w in windows
    ]


def windows_of_helper(helper: Helper) -> list[Availability]:
    return [Availability(s.weekday, s.start, s.end) for s in helper.availability.all()]


@dataclass(frozen=True)
class Checks:
    """Where a helper's vetting stands, as the profile shows it."""

    done: bool
    headline: str
    rows: list[dict[str, Any]]


def _state(done: bool) -> dict[str, str]:
    return (
        {"text": _("Done"), "colour": "green"}
        if done
        else {"text": _("Not done yet"), "colour": "grey"}
    )


def checks_of(helper: Helper, latest: VettingCheck | None) -> Checks:
    identity = bool(latest and latest.identity_checked)
    references = bool(latest and latest.references_checked)
    dbs = latest.dbs_level if latest else DbsLevel.NONE
    dbs_state = (
        {"text": DbsLevel(dbs).label, "colour": "green"} if dbs != DbsLevel.NONE else _state(False)
    )
    if helper.vetting_level == VettingLevel.ENHANCED:
        headline = _("Your checks are done: you can take every kind of help.")
    elif helper.vetting_level == VettingLevel.BASIC:
        headline = _("Your checks are done for help that needs a basic DBS check.")
    else:
        headline = _("Your checks are not done yet.")
    rows = [
        {"key": _("Identity"), "tag": _state(identity)},
        {"key": _("References"), "tag": _state(references)},
        {"key": _("DBS check"), "tag": dbs_state},
    ]
    if latest is not None:
        rows.append(
            {"key": _("Last checked"), "value": words.day(latest.recorded_at, with_year=True)}
        )
    return Checks(done=helper.vetting_level != VettingLevel.NONE, headline=headline, rows=rows)
