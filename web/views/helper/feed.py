"""The helper's feed: the open tasks they may take, nearest first, and, when there are none,
why (their checks, a suspension, or simply nothing nearby now)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from circle import words
from circle.models import Category, Circle, VettingLevel
from helpers.models import Helper, HelperKind, HelperSkill
from matching.selectors import FeedItem, helper_feed
from matching.services import billed_minutes
from web.views.base import helper_required, render_page

# The feed shows the nearest tasks; a helper on a phone does not scroll past this many.
FEED_LIMIT = 50
# How often the open feed refreshes itself (web/static/web/helper_feed.js), in seconds.
REFRESH_SECONDS = 60


class EmptyReason:
    """Why a helper's feed is empty, most pressing first (the template words each)."""

    SUSPENDED = "suspended"
    PAUSED = "paused"  # by the helper themselves, from their profile
    NOT_VETTED = "not_vetted"  # no checks recorded yet
    CHECKS_TOO_LOW = "checks_too_low"  # checked, but below every kind of help they offer
    NO_SKILLS = "no_skills"
    NOTHING_NEARBY = "nothing_nearby"


def feed_empty_reason(helper: Helper) -> str:
    """Why `helper` sees no task. Each reason is a state of the helper the feed's own rules
    turn every task away for (matching.selectors.helper_feed); otherwise there is simply
    nothing open near them now. The coordinator's suspension comes before the helper's own
    pause, which they can undo themselves from the feed."""
    if helper.suspended:
        return EmptyReason.SUSPENDED
    if helper.paused:
        return EmptyReason.PAUSED
    if helper.vetting_level == VettingLevel.NONE:
        return EmptyReason.NOT_VETTED
    needed = list(
        HelperSkill.objects.filter(helper=helper).values_list("category__vetting_level", flat=True)
    )
    if not needed:
        return EmptyReason.NO_SKILLS
    rank = VettingLevel.rank(helper.vetting_level)
    if all(VettingLevel.rank(level) > rank for level in needed):
        return EmptyReason.CHECKS_TOO_LOW
    return EmptyReason.NOTHING_NEARBY


@dataclass(frozen=True)
class FeedRow:
    """One task as the feed shows it: never the member's name or address."""

    task_id: int
    title: str
    category: str
    district: str
    distance: str
    when: str
    how_long: str
    earns: str


def earnings_words(*, helper: Helper, circle: Circle, estimated_minutes: int) -> str:
    """What taking the task is worth to this helper, for the estimate: a volunteer earns the
    billed time as tokens; a paid helper is paid for it, at the rate they agreed with the
    circle (which Circle does not hold)."""
    billed = billed_minutes(minutes=estimated_minutes, increment=circle.billing_increment_minutes)
    if helper.kind == HelperKind.PAID:
        return _("About %(time)s of paid work") % {"time": words.duration(billed)}
    return _("You earn about %(amount)s") % {
        "amount": words.time_and_tokens(billed, token_minutes=circle.token_minutes)
    }


def distance_words(km: float) -> str:
    return _("%(km)s km away") % {"km": f"{km:.1f}"}


def feed_rows(*, helper: Helper, circle: Circle, items: list[FeedItem]) -> list[FeedRow]:
    # The feed's tasks carry their category's slug and level only; the circle's few
    # categories give the names, in one query.
    names = dict(Category.objects.filter(circle=circle).values_list("pk", "name"))
    return [
        FeedRow(
            task_id=item.task.pk,
            title=item.task.title,
            category=names.get(item.task.category_id, ""),
            district=item.task.postcode_district,
            distance=distance_words(item.distance_km),
            when=words.window(item.task.window_start, item.task.window_end),
            how_long=words.duration(item.task.estimated_minutes),
            earns=earnings_words(
                helper=helper, circle=circle, estimated_minutes=item.task.estimated_minutes
            ),
        )
        for item in items
    ]


@helper_required
def feed(request: HttpRequest) -> HttpResponse:
    helper: Helper = request.helper  # type: ignore[attr-defined]
    circle: Circle = request.circle  # type: ignore[attr-defined]
    items = helper_feed(helper=helper)[:FEED_LIMIT]
    context: dict[str, Any] = {
        "helper": helper,
        "rows": feed_rows(helper=helper, circle=circle, items=items),
        "empty_reason": "" if items else feed_empty_reason(helper),
        "reasons": EmptyReason,
        "refresh_seconds": REFRESH_SECONDS,
    }
    return render_page(request, "web/helper/feed.html", context)
