"""The rules of matching, in plain Python: who may take a task, and in what order they come.

These functions are the definition. `matching/selectors.py` answers the same questions for
thousands of helpers at once by letting the database narrow the candidates first, and then
applies these very functions to what is left, so the fast path cannot drift from the rules.
`task_matches_naive` runs them over every helper of the circle: it is the reference the tests
and `bench/matching.py` compare the fast path with.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings

from circle.models import VettingLevel
from circle.postcodes import Point, distance_km

# "Fewer recent tasks" counts the tasks a helper accepted in this many days.
RECENT_DAYS = 30


@dataclass(frozen=True)
class Slot:
    weekday: int  # Monday 0
    start: time
    end: time


@dataclass(frozen=True)
class Ineligible:
    """Why a helper may not take a task: a stable code for the API and a sentence."""

    code: str
    detail: str


@dataclass(frozen=True)
class Candidate:
    """What the rules need to know of one helper, however it was read."""

    helper_id: int
    member_id: int
    circle_id: int
    first_name: str
    suspended: bool
    vetting_level: str
    skill_ids: frozenset[int]
    latitude: float
    longitude: float
    travel_radius_km: float
    slots: tuple[Slot, ...]
    # The helper's own "not taking tasks for now" (helpers.Helper.paused).
    paused: bool = False


@dataclass(frozen=True)
class TaskFacts:
    """What the rules need to know of one task."""

    circle_id: int
    member_id: int
    member_first_name: str
    category_id: int
    category_vetting_level: str
    latitude: float
    longitude: float
    window_start: datetime
    window_end: datetime


@dataclass(frozen=True)
class Relationship:
    """How a helper stands with the task's member (their words about the helper, the help
    already given) and how busy they have been lately: what ranking and blocking need. Not to
    be confused with `access.TaskRole`, how a caller stands with a task."""

    preferred: bool = False
    blocked: bool = False
    served_before: int = 0
    recent_tasks: int = 0


@dataclass(frozen=True)
class Ranked:
    helper_id: int
    member_id: int  # whom an offer goes to
    first_name: str
    distance_km: float
    score: float
    reasons: tuple[str, ...]
    preferred: bool
    served_before: int
    recent_tasks: int


def local_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def window_overlaps(slots: Sequence[Slot], start: datetime, end: datetime) -> bool:
    """Whether the weekly availability covers part of the window. No slots means any time.

    Slots are wall-clock times in the circle's zone; the window is compared in that zone, day
    by day, so a window across midnight or several days is checked on each of its days.
    """
    if not slots:
        return True
    zone = local_zone()
    local_start = start.astimezone(zone).replace(tzinfo=None)
    local_end = end.astimezone(zone).replace(tzinfo=None)
    day = local_start.date()
    # A week of days covers every weekday; a longer window adds nothing new.
    last = min(local_end.date(), day + timedelta(days=7))
    while day <= last:
        for slot in slots:
            if slot.weekday != day.weekday():
                continue
            slot_start = datetime.combine(day, slot.start)
            slot_end = datetime.combine(day, slot.end)
            if slot_start < local_end and slot_end > local_start:
                return True
        day += timedelta(days=1)
    return False


def task_distance_km(task: TaskFacts, helper: Candidate) -> float:
    return distance_km(
        Point(task.latitude, task.longitude), Point(helper.latitude, helper.longitude)
    )


def ineligibility(
    task: TaskFacts, helper: Candidate, standing: Relationship, *, distance: float | None = None
) -> Ineligible | None:
    """The first rule the helper fails for this task, or None when they may take it."""
    if helper.circle_id != task.circle_id:
        return Ineligible("other_circle", "This helper is not in the task's circle.")
    if helper.member_id == task.member_id:
        return Ineligible("own_task", "A helper cannot take their own request.")
    if helper.suspended:
        return Ineligible("helper_suspended", "This helper is suspended.")
    if helper.paused:
        return Ineligible("helper_paused", "This helper is not taking tasks for now.")
    if standing.blocked:
        return Ineligible("blocked_by_member", "The member has asked not to be helped by you.")
    if VettingLevel.rank(helper.vetting_level) < VettingLevel.rank(task.category_vetting_level):
        return Ineligible(
            "vetting_too_low",
            f"This kind of help needs {task.category_vetting_level} vetting; "
            f"the helper has {helper.vetting_level}.",
        )
    if task.category_id not in helper.skill_ids:
        return Ineligible("skill_missing", "This kind of help is not among the helper's skills.")
    far = task_distance_km(task, helper) if distance is None else distance
    if far > helper.travel_radius_km:
        return Ineligible(
            "too_far",
            f"The member lives {far:.1f} km away, beyond the helper's "
            f"{helper.travel_radius_km:g} km.",
        )
    if not window_overlaps(helper.slots, task.window_start, task.window_end):
        return Ineligible("not_available", "The task's time is outside the helper's availability.")
    return None


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def rank(task: TaskFacts, helper: Candidate, standing: Relationship, distance: float) -> Ranked:
    """Score and reasons of an eligible helper.

    The order is: the member's preferred helper, then those who helped this member before,
    then distance (to 0.1 km), then fewer tasks in the last RECENT_DAYS days. The score encodes
    that order so that sorting by it descending is the ranking: 1000 for preferred, 100 for
    having helped before, 100 minus the distance in km for nearness (0.1 to 100), and under
    0.1 for fairness, which therefore only separates helpers at the same distance.
    """
    near = round(distance, 1)
    score = (
        (1000 if standing.preferred else 0)
        + (100 if standing.served_before else 0)
        + (100 - min(near, 99.9))
        + 0.09 / (1 + standing.recent_tasks)
    )
    reasons: list[str] = []
    if standing.preferred:
        reasons.append(f"{task.member_first_name}'s preferred helper")
    if standing.served_before:
        reasons.append(
            f"Helped {task.member_first_name} {_plural(standing.served_before, 'time')} before"
        )
    reasons.append(f"{near:.1f} km away")
    reasons.append(f"{_plural(standing.recent_tasks, 'task')} in the last {RECENT_DAYS} days")
    return Ranked(
        helper_id=helper.helper_id,
        member_id=helper.member_id,
        first_name=helper.first_name,
        distance_km=near,
        score=round(score, 3),
        reasons=tuple(reasons),
        preferred=standing.preferred,
        served_before=standing.served_before,
        recent_tasks=standing.recent_tasks,
    )


def order(ranked: Iterable[Ranked]) -> list[Ranked]:
    """Best first; helpers alike in every respect come in id order, so the list is stable."""
    return sorted(
        ranked,
        key=lambda r: (
            -int(r.preferred),
            -int(bool(r.served_before)),
            r.distance_km,
            r.recent_tasks,
            r.helper_id,
        ),
    )
