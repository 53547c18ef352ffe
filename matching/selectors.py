"""Reads for matching: the facts the rules need, the ranked helpers of a task, a helper's feed.

The rules themselves are in `matching/rules.py`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from helpers.models import Helper
from matching import rules
from matching.models import HelperPreference, PreferenceKind, Task, TaskStatus


@dataclass(frozen=True)
class FeedItem:
    task: Task
    distance_km: float


def task_facts(task: Task) -> rules.TaskFacts:
    return rules.TaskFacts(
        circle_id=task.circle_id,
        member_id=task.member_id,
        member_first_name=task.member.first_name,
        category_id=task.category_id,
        category_vetting_level=task.category.vetting_level,
        latitude=float(task.latitude),
        longitude=float(task.longitude),
        window_start=task.window_start,
        window_end=task.window_end,
    )


def candidates(helpers: Iterable[Helper]) -> list[rules.Candidate]:
    """Rule facts for helpers fetched with `member`, `skill_rows` and `availability`."""
    return [
        rules.Candidate(
            helper_id=h.pk,
            member_id=h.member_id,
            circle_id=h.circle_id,
            first_name=h.member.first_name,
            suspended=h.suspended,
            vetting_level=h.vetting_level,
            skill_ids=frozenset(s.category_id for s in h.skill_rows.all()),
            latitude=float(h.latitude),
            longitude=float(h.longitude),
            travel_radius_km=float(h.travel_radius_km),
            slots=tuple(rules.Slot(a.weekday, a.start, a.end) for a in h.availability.all()),
        )
        for h in helpers
    ]


def _helpers_with_facts() -> QuerySet[Helper]:
    return Helper.objects.select_related("member").prefetch_related("skill_rows", "availability")


def standings(
    *, member_id: int, helper_ids: Iterable[int], now: datetime | None = None
) -> dict[int, rules.Standing]:
    """How each helper stands with the member: preferred or blocked, past help, recent load."""
    ids = list(helper_ids)
    now = now or timezone.now()
    words = dict(
        HelperPreference.objects.filter(member_id=member_id, helper_id__in=ids).values_list(
            "helper_id", "kind"
        )
    )
    served = dict(
        Task.objects.filter(
            member_id=member_id,
            helper_id__in=ids,
            status__in=(TaskStatus.COMPLETED, TaskStatus.SETTLED),
        )
        .values("helper_id")
        .annotate(n=Count("id"))
        .values_list("helper_id", "n")
    )
    recent = dict(
        Task.objects.filter(
            helper_id__in=ids, accepted_at__gte=now - timedelta(days=rules.RECENT_DAYS)
        )
        .values("helper_id")
        .annotate(n=Count("id"))
        .values_list("helper_id", "n")
    )
    return {
        hid: rules.Standing(
            preferred=words.get(hid) == PreferenceKind.PREFERRED,
            blocked=words.get(hid) == PreferenceKind.BLOCKED,
            served_before=served.get(hid, 0),
            recent_tasks=recent.get(hid, 0),
        )
        for hid in ids
    }


def helper_ineligibility(*, task: Task, helper: Helper) -> rules.Ineligible | None:
    """Why this helper may not take this task (for accept's 403), or None."""
    fetched = _helpers_with_facts().get(pk=helper.pk)
    (candidate,) = candidates([fetched])
    standing = standings(member_id=task.member_id, helper_ids=[helper.pk])[helper.pk]
    return rules.ineligibility(task_facts(task), candidate, standing)


def _ranked(
    facts: rules.TaskFacts, pool: list[rules.Candidate], member_id: int
) -> list[rules.Ranked]:
    table = standings(member_id=member_id, helper_ids=[c.helper_id for c in pool])
    ranked = []
    for candidate in pool:
        standing = table[candidate.helper_id]
        distance = rules.task_distance_km(facts, candidate)
        if rules.ineligibility(facts, candidate, standing, distance=distance) is None:
            ranked.append(rules.rank(facts, candidate, standing, distance))
    return rules.order(ranked)


def task_matches_naive(*, task: Task) -> list[rules.Ranked]:
    """Every helper of the circle through the rules, in Python: the reference version."""
    pool = candidates(_helpers_with_facts().filter(circle_id=task.circle_id))
    return _ranked(task_facts(task), pool, task.member_id)


def task_matches(*, task: Task, limit: int | None = None) -> list[rules.Ranked]:
    """The eligible helpers of a task, best first, each with distance, score and reasons."""
    ranked = task_matches_naive(task=task)
    return ranked if limit is None else ranked[:limit]


def helper_feed(*, helper: Helper, now: datetime | None = None) -> list[FeedItem]:
    """Open tasks this helper may take whose window has not ended, nearest first."""
    now = now or timezone.now()
    fetched = _helpers_with_facts().get(pk=helper.pk)
    (candidate,) = candidates([fetched])
    tasks = (
        Task.objects.filter(circle_id=helper.circle_id, status=TaskStatus.OPEN)
        .filter(Q(window_end__gt=now))
        .select_related("member", "category")
    )
    blocked_by = set(
        HelperPreference.objects.filter(
            helper_id=helper.pk, kind=PreferenceKind.BLOCKED
        ).values_list("member_id", flat=True)
    )
    items = []
    for task in tasks:
        facts = task_facts(task)
        distance = rules.task_distance_km(facts, candidate)
        standing = rules.Standing(blocked=task.member_id in blocked_by)
        if rules.ineligibility(facts, candidate, standing, distance=distance) is None:
            items.append(FeedItem(task=task, distance_km=round(distance, 1)))
    items.sort(key=lambda item: (item.distance_km, item.task.window_start, item.task.pk))
    return items
