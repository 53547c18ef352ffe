"""Reads for matching: the facts the rules need, the ranked helpers of a task, a helper's feed.

The rules themselves are in `matching/rules.py`. The fast path (`task_matches`, `helper_feed`)
lets the database narrow the candidates with plain indexed filters that work on SQLite as on
PostgreSQL (no PostGIS, no trigonometry in SQL): the skill, and with it the circle (driven from
the category's skill rows, so a skill almost nobody has costs almost nothing), the vetting level,
not suspended or paused, not the member themself, a latitude/longitude box, a flat-earth
distance that never exceeds the true one against each helper's own radius with some slack, and
weekly availability (for matches) or members' blocks (for the feed).
What is left, usually a few dozen to a few hundred rows, goes through the very rules of
`rules.py` in Python, with exact distances; so the fast path returns what `task_matches_naive`
returns, only sooner.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, NamedTuple

from django.db import connection
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Coalesce, TruncWeek
from django.utils import timezone
from django.utils.translation import gettext
from geopy.distance import EARTH_RADIUS

from circle.models import Category, Circle, VettingLevel
from circle.periods import ReportPeriod, local_date
from circle.postcodes import Point, distance_km
from circle.sql import aware
from helpers.models import AvailabilitySlot, Helper, HelperSkill
from helpers.services import MAX_TRAVEL_RADIUS_KM
from matching import rules
from matching.models import Feedback, HelperPreference, PreferenceKind, Task, TaskStatus
from members.models import Member, first_name_of
from tokens.selectors import TokenQuantity, token_quantity

# Kilometres per degree of latitude on the sphere geopy's `great_circle` uses.
KM_PER_DEGREE = EARTH_RADIUS * math.pi / 180
# The database's flat-earth distance is compared with each helper's radius times this, plus
# REACH_SLACK_KM: it only has to keep every helper the exact distance keeps (the exact
# distance in Python then decides), so it errs generously.
REACH_FACTOR = 1.02
REACH_SLACK_KM = 0.2


def helper_distance_km(*, task: Task, helper: Helper) -> float:
    """How far the task's place is from where the helper travels from, to 0.1 km, as a
    helper is shown it."""
    far = distance_km(
        Point(float(task.latitude), float(task.longitude)),
        Point(float(helper.latitude), float(helper.longitude)),
    )
    return round(far, 1)


@dataclass(frozen=True)
class FeedItem:
    task: Task
    distance_km: float

    @property
    def order(self) -> tuple[float, datetime, int]:
        """Nearest first, then soonest; the task's id keeps the order stable."""
        return (self.distance_km, self.task.window_start, self.task.pk)


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
            paused=h.paused,
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
) -> dict[int, rules.Relationship]:
    """How each helper stands with the member: preferred or blocked, past help, recent load."""
    ids = list(helper_ids)
    if not ids:
        return {}
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
        hid: rules.Relationship(
            preferred=words.get(hid) == PreferenceKind.PREFERRED,
            blocked=words.get(hid) == PreferenceKind.BLOCKED,
            served_before=served.get(hid, 0),
            recent_tasks=recent.get(hid, 0),
        )
        for hid in ids
    }


# One helper's facts for one task, in one statement: the helper's row and name, whether they
# have the task's skill, the member's word about them, and whether their weekly slots (if they
# have any) cover part of the window (`_available_sql`). Read fresh, inside the caller's
# transaction, rather than from the profile the caller has in hand.
_HELPER_FACTS_SQL = """
SELECT h.member_id, h.circle_id, m.full_name, h.suspended, h.paused, h.vetting_level,
       CAST(h.latitude AS DOUBLE PRECISION), CAST(h.longitude AS DOUBLE PRECISION),
       CAST(h.travel_radius_km AS DOUBLE PRECISION),
       EXISTS (SELECT 1 FROM {skill} s
                WHERE s.helper_id = h.id AND s.category_id = %(category)s),
       (SELECT p.kind FROM {preference} p
         WHERE p.helper_id = h.id AND p.member_id = %(member)s),
       (NOT EXISTS (SELECT 1 FROM {slot} a WHERE a.helper_id = h.id)
        OR EXISTS (SELECT 1 FROM {slot} a WHERE a.helper_id = h.id AND ({available})))
  FROM {helper} h
  JOIN {member} m ON m.id = h.member_id
 WHERE h.id = %(helper)s
"""


def helper_ineligibility(*, task: Task, helper: Helper) -> rules.Ineligible | None:
    """Why this helper may not take this task (for accept's 403), or None.

    The facts come in one statement (`_HELPER_FACTS_SQL`) instead of six (the profile, its
    skills, its slots, and three standings of which the rules need only the member's block);
    the rules of `rules.py` decide, as on the fast path. Only when the statement finds the
    helper's slots miss the window are the slots read, so that the rules say so themselves."""
    facts = task_facts(task)
    available, times = _available_sql(facts)
    params = {"helper": helper.pk, "category": task.category_id, "member": task.member_id}
    with connection.cursor() as cursor:
        cursor.execute(_sql(_HELPER_FACTS_SQL, available=available), {**params, **times})
        row = cursor.fetchone()
    if row is None:
        raise Helper.DoesNotExist
    (
        member_id,
        circle_id,
        full_name,
        suspended,
        paused,
        level,
        lat,
        lon,
        radius,
        skilled,
        word,
        free,
    ) = row
    candidate = rules.Candidate(
        helper_id=helper.pk,
        member_id=member_id,
        circle_id=circle_id,
        first_name=first_name_of(full_name),
        suspended=bool(suspended),
        paused=bool(paused),
        vetting_level=level,
        # What the statement proved: the task's skill is theirs, or none of theirs is it.
        skill_ids=frozenset([task.category_id]) if skilled else frozenset(),
        latitude=lat,
        longitude=lon,
        travel_radius_km=radius,
        # Slots that cover part of the window (or none at all) are "any time" to the rules.
        slots=() if free else _slots_of(helper.pk),
    )
    standing = rules.Relationship(
        preferred=word == PreferenceKind.PREFERRED, blocked=word == PreferenceKind.BLOCKED
    )
    return rules.ineligibility(facts, candidate, standing)


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


def helper_feed_naive(*, helper: Helper, now: datetime | None = None) -> list[FeedItem]:
    """Every open task of the helper's circle through the rules, in Python: the reference."""
    now = now or timezone.now()
    fetched = _helpers_with_facts().get(pk=helper.pk)
    (candidate,) = candidates([fetched])
    tasks = Task.objects.filter(
        circle_id=helper.circle_id, status=TaskStatus.OPEN, window_end__gt=now
    ).select_related("member", "category")
    return _feed_items(candidate, tasks, _blocked_by(helper))


def _blocked_by(helper: Helper) -> set[int]:
    """The members who have blocked this helper."""
    return set(
        HelperPreference.objects.filter(
            helper_id=helper.pk, kind=PreferenceKind.BLOCKED
        ).values_list("member_id", flat=True)
    )


def _geopy_km(facts: rules.TaskFacts, latitude: float, longitude: float) -> float:
    return distance_km(Point(facts.latitude, facts.longitude), Point(latitude, longitude))


def _feed_items(
    candidate: rules.Candidate,
    tasks: Iterable[Task],
    blocked_by: set[int],
    distance: Callable[[rules.TaskFacts, float, float], float] = _geopy_km,
) -> list[FeedItem]:
    items = []
    for task in tasks:
        facts = task_facts(task)
        far = distance(facts, candidate.latitude, candidate.longitude)
        standing = rules.Relationship(blocked=task.member_id in blocked_by)
        if rules.ineligibility(facts, candidate, standing, distance=far) is None:
            items.append(FeedItem(task=task, distance_km=round(far, 1)))
    items.sort(key=lambda item: item.order)
    return items


def _vetting_levels_at_least(level: str) -> list[str]:
    return [v for v in VettingLevel.values if VettingLevel.rank(v) >= VettingLevel.rank(level)]


def _vetting_levels_at_most(level: str) -> list[str]:
    return [v for v in VettingLevel.values if VettingLevel.rank(v) <= VettingLevel.rank(level)]


@dataclass(frozen=True)
class _Box:
    """Around a point: the latitude/longitude ranges that hold every point within `reach_km`,
    and the kilometres per degree of longitude at the box's edge nearer the pole (the smallest
    in the box, so the flat-earth distance made with it never exceeds the true one)."""

    lat_min: float
    lat_max: float
    lon_min: float
    lon_max: float
    km_per_degree_lon: float

    @classmethod
    def around(cls, latitude: float, longitude: float, reach_km: float) -> _Box:
        reach = reach_km * REACH_FACTOR + REACH_SLACK_KM
        dlat = reach / KM_PER_DEGREE
        polar = min(89.0, abs(latitude) + dlat)
        km_lon = KM_PER_DEGREE * math.cos(math.radians(polar))
        dlon = reach / km_lon
        return cls(latitude - dlat, latitude + dlat, longitude - dlon, longitude + dlon, km_lon)

    def params(self, latitude: float, longitude: float) -> dict[str, Any]:
        """The parameters of `_near_sql` for a point at the box's centre."""
        return {
            # Decimals, as the columns are; the box's slack dwarfs the rounding to 6 places.
            "lat_min": _dec(self.lat_min),
            "lat_max": _dec(self.lat_max),
            "lon_min": _dec(self.lon_min),
            "lon_max": _dec(self.lon_max),
            "lat": latitude,
            "lon": longitude,
            "km_lat": KM_PER_DEGREE,
            "km_lon": self.km_per_degree_lon,
            "factor": REACH_FACTOR,
            "slack": REACH_SLACK_KM,
        }


def _dec(value: float) -> Decimal:
    return Decimal(f"{value:.6f}")


def _near_sql(alias: str, radius: str) -> str:
    """SQL keeping the rows of `alias` in the box and within `radius` (a column or parameter)
    of its centre by a flat-earth distance that never exceeds the true one: squared, so no
    square root is needed, and with the radius's slack, so the exact distance decides."""
    lat = f"(CAST({alias}.latitude AS DOUBLE PRECISION) - %(lat)s) * %(km_lat)s"
    lon = f"(CAST({alias}.longitude AS DOUBLE PRECISION) - %(lon)s) * %(km_lon)s"
    reach = f"(CAST({radius} AS DOUBLE PRECISION) * %(factor)s + %(slack)s)"
    return (
        f"{alias}.latitude BETWEEN %(lat_min)s AND %(lat_max)s"
        f" AND {alias}.longitude BETWEEN %(lon_min)s AND %(lon_max)s"
        f" AND {lat} * {lat} + {lon} * {lon} <= {reach} * {reach}"
    )


def _slots_of(helper_id: int) -> tuple[rules.Slot, ...]:
    """The helper's weekly slots (none: any time)."""
    rows = AvailabilitySlot.objects.filter(helper_id=helper_id).values_list(
        "weekday", "start", "end"
    )
    return tuple(rules.Slot(weekday, start, end) for weekday, start, end in rows)


def _great_circle_km(a_lat: float, a_lon: float, b_lat: float, b_lon: float) -> float:
    """What `circle.postcodes.distance_km` (geopy's great_circle) gives, bit for bit, for
    latitudes within ±90 and longitudes within ±180 (geopy normalises no others), without its
    objects: the same operations in the same order (and its -0.0 read as 0.0), in a fifth of
    the time. A test compares the two on many points."""
    lat1, lng1 = math.radians(a_lat or 0.0), math.radians(a_lon or 0.0)
    lat2, lng2 = math.radians(b_lat or 0.0), math.radians(b_lon or 0.0)
    sin_lat1, cos_lat1 = math.sin(lat1), math.cos(lat1)
    sin_lat2, cos_lat2 = math.sin(lat2), math.cos(lat2)
    delta_lng = lng2 - lng1
    cos_delta_lng, sin_delta_lng = math.cos(delta_lng), math.sin(delta_lng)
    d = math.atan2(
        math.sqrt(
            (cos_lat2 * sin_delta_lng) ** 2
            + (cos_lat1 * sin_lat2 - sin_lat1 * cos_lat2 * cos_delta_lng) ** 2
        ),
        sin_lat1 * sin_lat2 + cos_lat1 * cos_lat2 * cos_delta_lng,
    )
    return EARTH_RADIUS * d


def task_distance_km(facts: rules.TaskFacts, latitude: float, longitude: float) -> float:
    """`rules.task_distance_km`, fast where it can be."""
    within = max(abs(latitude), abs(facts.latitude)) <= 90
    if within and max(abs(longitude), abs(facts.longitude)) <= 180:
        return _great_circle_km(facts.latitude, facts.longitude, latitude, longitude)
    return distance_km(Point(facts.latitude, facts.longitude), Point(latitude, longitude))


# The candidates of a task, with their recent load, in one statement. It starts from the
# category's skill rows (a category belongs to one circle, so they are that circle's helpers
# only) and joins each helper by id, so a skill almost nobody has costs a handful of index
# entries whatever the size of the circle, and a common one the rows that have it. Plain SQL
# that SQLite and PostgreSQL both run, written out rather than built by the ORM, whose building
# cost as much as running it. Availability is decided here too (see `_available_sql`). The
# count of recent tasks runs for the rows that pass the filters only, on matching_task_helper.
_CANDIDATES_SQL = """
SELECT h.id, h.member_id, h.circle_id, m.full_name, h.vetting_level,
       CAST(h.latitude AS DOUBLE PRECISION), CAST(h.longitude AS DOUBLE PRECISION),
       CAST(h.travel_radius_km AS DOUBLE PRECISION),
       (SELECT COUNT(*) FROM {task} t
         WHERE t.helper_id = h.id AND t.accepted_at >= %(since)s) AS recent
  FROM {skill} s
  JOIN {helper} h ON h.id = s.helper_id
  JOIN {member} m ON m.id = h.member_id
 WHERE s.category_id = %(category)s
   AND h.suspended = %(false)s
   AND h.paused = %(false)s
   AND h.vetting_level IN ({levels})
   AND h.member_id <> %(member)s
   AND {near}
   AND (NOT EXISTS (SELECT 1 FROM {slot} a WHERE a.helper_id = h.id)
        OR EXISTS (SELECT 1 FROM {slot} a WHERE a.helper_id = h.id AND ({available})))
"""

# The member's word about helpers, and whom finished tasks of theirs: a member has few of
# either, so they are read from the member's side (their indexes) in one small statement.
_MEMBER_STANDING_SQL = """
SELECT p.helper_id, p.kind, 0 FROM {preference} p WHERE p.member_id = %(member)s
UNION ALL
SELECT t.helper_id, 'served', COUNT(*) FROM {task} t
 WHERE t.member_id = %(member)s AND t.helper_id IS NOT NULL
   AND t.status IN (%(completed)s, %(settled)s)
 GROUP BY t.helper_id
"""


def _available_sql(facts: rules.TaskFacts) -> tuple[str, dict[str, Any]]:
    """SQL true for a slot `a` that covers part of the task's window, and its parameters:
    `rules.window_overlaps` written as a condition, day by day of the window in the circle's
    wall-clock time. On a day, a slot of that weekday overlaps unless the window starts that
    day after the slot ends, or ends that day before it starts. The tests hold the two to the
    same answers, across midnight and the changes of summer time."""
    zone = rules.local_zone()
    local_start = facts.window_start.astimezone(zone).replace(tzinfo=None)
    local_end = facts.window_end.astimezone(zone).replace(tzinfo=None)
    day = local_start.date()
    last = min(local_end.date(), day + timedelta(days=7))
    clauses: list[str] = []
    params: dict[str, Any] = {}
    while day <= last:
        n = len(clauses)
        parts = [f"a.weekday = %(day{n})s"]
        params[f"day{n}"] = day.weekday()
        if day == local_end.date():
            parts.append(f"a.start < %(until{n})s")
            params[f"until{n}"] = connection.ops.adapt_timefield_value(local_end.time())
        if day == local_start.date():
            parts.append(f'a."end" > %(from{n})s')
            params[f"from{n}"] = connection.ops.adapt_timefield_value(local_start.time())
        clauses.append("(" + " AND ".join(parts) + ")")
        day += timedelta(days=1)
    return " OR ".join(clauses), params


def _sql(template: str, levels: int = 0, near: str = "", available: str = "") -> str:
    return template.format(
        preference=HelperPreference._meta.db_table,
        task=Task._meta.db_table,
        slot=AvailabilitySlot._meta.db_table,
        skill=HelperSkill._meta.db_table,
        helper=Helper._meta.db_table,
        member=Member._meta.db_table,
        category=Category._meta.db_table,
        levels=", ".join(f"%(level{i})s" for i in range(levels)),
        near=near,
        available=available,
    )


def task_candidates(
    task: Task, facts: rules.TaskFacts, *, now: datetime | None = None
) -> list[tuple[rules.Candidate, rules.Relationship, float]]:
    """The helpers the database finds for the task, each with its standing with the member and
    its exact distance, kept only when within the helper's radius and available: a superset
    of the eligible ones, which the rules then decide."""
    now = now or timezone.now()
    box = _Box.around(facts.latitude, facts.longitude, float(MAX_TRAVEL_RADIUS_KM))
    levels = _vetting_levels_at_least(facts.category_vetting_level)
    params: dict[str, Any] = {
        "member": task.member_id,
        "category": task.category_id,
        "completed": TaskStatus.COMPLETED.value,
        "settled": TaskStatus.SETTLED.value,
        "since": connection.ops.adapt_datetimefield_value(now - timedelta(days=rules.RECENT_DAYS)),
        "false": False,
        **box.params(facts.latitude, facts.longitude),
        **{f"level{i}": level for i, level in enumerate(levels)},
    }
    words: dict[int, str] = {}
    served: dict[int, int] = {}
    with connection.cursor() as cursor:
        cursor.execute(_sql(_MEMBER_STANDING_SQL), params)
        for helper_id, kind, count in cursor.fetchall():
            if kind == "served":
                served[helper_id] = count
            else:
                words[helper_id] = kind
        available, times = _available_sql(facts)
        sql = _sql(_CANDIDATES_SQL, len(levels), _near_sql("h", "h.travel_radius_km"), available)
        cursor.execute(sql, {**params, **times})
        rows = cursor.fetchall()
    skills = frozenset([task.category_id])  # what the join proved; other skills are not read
    found = []
    for pk, member_id, circle_id, full_name, level, latitude, longitude, radius, recent in rows:
        # The exact distance on the bare row: objects only for the helpers within their radius.
        distance = task_distance_km(facts, latitude, longitude)
        if distance > radius:
            continue
        word = words.get(pk)
        candidate = rules.Candidate(
            helper_id=pk,
            member_id=member_id,
            circle_id=circle_id,
            first_name=first_name_of(full_name),
            suspended=False,
            vetting_level=level,
            skill_ids=skills,
            latitude=latitude,
            longitude=longitude,
            travel_radius_km=radius,
            # What the statement proved: their slots cover part of the window, or they have
            # none; either way the rules' availability check is "any time" for them.
            slots=(),
        )
        standing = rules.Relationship(
            preferred=word == PreferenceKind.PREFERRED,
            blocked=word == PreferenceKind.BLOCKED,
            served_before=served.get(pk, 0),
            recent_tasks=recent,
        )
        found.append((candidate, standing, distance))
    return found


def task_matches(*, task: Task, limit: int | None = None) -> list[rules.Ranked]:
    """The eligible helpers of a task, best first, each with distance, score and reasons."""
    facts = task_facts(task)
    ranked = [
        rules.rank(facts, candidate, standing, distance)
        for candidate, standing, distance in task_candidates(task, facts)
        if rules.ineligibility(facts, candidate, standing, distance=distance) is None
    ]
    ordered = rules.order(ranked)
    return ordered if limit is None else ordered[:limit]


# The open tasks a helper may see: their circle's (the partial index matching_task_open), of
# the helper's categories and a vetting level they have, near enough, not their own, and of
# no member who blocked them. `helper_feed` reads their ids (and then the tasks through the
# ORM); `user_feed` reads the columns its entries need (_FEED_ROW_COLUMNS) in the same
# statement.
_FEED_SQL = """
SELECT {columns} FROM {task} t
  JOIN {category} c ON c.id = t.category_id
  {member_join}
 WHERE t.circle_id = %(circle)s
   AND t.status = %(open)s
   AND t.category_id IN (SELECT s.category_id FROM {skill} s WHERE s.helper_id = %(helper)s)
   AND c.vetting_level IN ({levels})
   AND t.window_end > %(now)s
   AND t.member_id <> %(member)s
   AND NOT EXISTS (SELECT 1 FROM {preference} p WHERE p.helper_id = %(helper)s
                     AND p.member_id = t.member_id AND p.kind = %(blocked)s)
   AND {near}
"""

_FEED_ROW_COLUMNS = (
    "t.id, t.circle_id, t.member_id, m.full_name, t.category_id, c.slug, c.vetting_level,"
    " t.title, t.details, t.window_start, t.window_end, t.estimated_minutes,"
    " t.postcode_district, t.latitude, t.longitude"
)


_FEED_TASK_COLUMNS = (
    # task_facts' and FeedItemOutput's
    "circle_id",
    "member_id",
    "category_id",
    "title",
    "details",
    "window_start",
    "window_end",
    "estimated_minutes",
    "postcode_district",
    "latitude",
    "longitude",
    "member__full_name",
    "category__slug",
    "category__vetting_level",
)


# A helper's facts for their feed, with their member's name and their weekly slots (as
# "weekday start end" joined with commas; {agg} is STRING_AGG or GROUP_CONCAT): by helper
# id, or every helper profile of one login (a person may help in several circles). The slots
# were a statement of their own.
_FEED_HELPER_SQL = """
SELECT h.id, h.circle_id, h.member_id, m.full_name, h.suspended, h.paused, h.vetting_level,
       h.latitude, h.longitude, h.travel_radius_km,
       (SELECT {agg}(CAST(a.weekday AS TEXT) || ' ' || CAST(a.start AS TEXT) || ' '
                     || CAST(a."end" AS TEXT), ',')
          FROM {slot} a WHERE a.helper_id = h.id)
  FROM {helper} h JOIN {member} m ON m.id = h.member_id
"""


def _feed_helper_sql() -> str:
    agg = "STRING_AGG" if connection.vendor == "postgresql" else "GROUP_CONCAT"
    return _sql(_FEED_HELPER_SQL.replace("{agg}", agg))


class _FeedHelper(NamedTuple):
    """A `_FEED_HELPER_SQL` row."""

    id: int
    circle_id: int
    member_id: int
    full_name: str
    suspended: bool
    paused: bool
    vetting_level: str
    latitude: Any
    longitude: Any
    travel_radius_km: Any
    slots: str | None  # "weekday start end,..."; None for none (available any time)


def _feed_sql(helper: _FeedHelper, now: datetime, *, rows: bool) -> tuple[str, dict[str, Any]]:
    """_FEED_SQL for this helper, reading the tasks' ids or (`rows`) _FEED_ROW_COLUMNS, and
    its parameters."""
    latitude, longitude = float(helper.latitude), float(helper.longitude)
    reach = float(helper.travel_radius_km)
    box = _Box.around(latitude, longitude, reach)
    levels = _vetting_levels_at_most(helper.vetting_level)
    params: dict[str, Any] = {
        "circle": helper.circle_id,
        "open": TaskStatus.OPEN.value,
        "helper": helper.id,
        "member": helper.member_id,
        "now": connection.ops.adapt_datetimefield_value(now),
        "blocked": PreferenceKind.BLOCKED.value,
        "reach": reach,
        **box.params(latitude, longitude),
        **{f"level{i}": level for i, level in enumerate(levels)},
    }
    template = _FEED_SQL.replace("{columns}", _FEED_ROW_COLUMNS if rows else "t.id")
    join = "JOIN {member} m ON m.id = t.member_id" if rows else ""
    template = template.replace("{member_join}", join)
    return _sql(template, len(levels), _near_sql("t", "%(reach)s")), params


def _feed_candidate(helper: _FeedHelper, category_ids: Iterable[int]) -> rules.Candidate:
    """The helper as the rules see them."""
    slots = (
        tuple(
            rules.Slot(int(weekday), time.fromisoformat(start), time.fromisoformat(end))
            for weekday, start, end in (slot.split(" ") for slot in helper.slots.split(","))
        )
        if helper.slots
        else ()
    )
    return rules.Candidate(
        helper_id=helper.id,
        member_id=helper.member_id,
        circle_id=helper.circle_id,
        first_name=first_name_of(helper.full_name),
        suspended=False,
        vetting_level=helper.vetting_level,
        # What the query proved: each task's category is one of the helper's skills.
        skill_ids=frozenset(category_ids),
        latitude=float(helper.latitude),
        longitude=float(helper.longitude),
        travel_radius_km=float(helper.travel_radius_km),
        slots=slots,
    )


def helper_feed(*, helper: Helper, now: datetime | None = None) -> list[FeedItem]:
    """Open tasks this helper may take whose window has not ended, nearest first. The
    helper's facts are read afresh (the instance given may be older than a pause)."""
    now = now or timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(_feed_helper_sql() + " WHERE h.id = %s", [helper.pk])
        found = cursor.fetchone()
        if found is None:
            raise Helper.DoesNotExist
        facts = _FeedHelper(*found)
        if facts.suspended or facts.paused:
            return []  # the rules turn every task away
        cursor.execute(*_feed_sql(facts, now, rows=False))
        ids = [task_id for (task_id,) in cursor.fetchall()]
        if not ids:
            return []
        # Only the columns the rules and the feed's items read: the member's whole record,
        # for each of up to a circle's open tasks, was most of the time spent building rows.
        tasks = list(
            Task.objects.filter(pk__in=ids)
            .select_related("member", "category")
            .only(*_FEED_TASK_COLUMNS)
            .order_by()
        )
        candidate = _feed_candidate(facts, (task.category_id for task in tasks))
    # No member of these tasks blocked the helper: the query left those out. The distance is
    # `task_distance_km`'s, bit for bit geopy's that the rules use, in a fifth of the time.
    return _feed_items(candidate, tasks, blocked_by=set(), distance=task_distance_km)


class FeedEntry(NamedTuple):
    """One task of `user_feed`: what a helper's feed shows of it, as plain values."""

    id: int
    category: str  # its slug
    title: str
    details: str
    window_start: datetime
    window_end: datetime
    estimated_minutes: int
    postcode_district: str
    distance_km: float


def user_feed(*, user_id: int, now: datetime | None = None) -> list[FeedEntry] | None:
    """`helper_feed` for every helper profile of this login as one list, nearest first, then
    soonest; None when the login is no helper anywhere. For the API, which polls it: the
    profiles and their facts are read in one statement, each profile's tasks with the
    columns shown in the statement that finds them, as plain values (a statement for the
    profiles, one for each one's facts, one for the task ids and one for the tasks, with
    three model instances a task, before). The same rules decide (`rules.ineligibility`)."""
    now = now or timezone.now()
    entries: list[FeedEntry] = []
    with connection.cursor() as cursor:
        cursor.execute(_feed_helper_sql() + " WHERE m.user_id = %s ORDER BY h.id", [user_id])
        profiles = [_FeedHelper(*found) for found in cursor.fetchall()]
        if not profiles:
            return None
        for helper in profiles:
            if helper.suspended or helper.paused:
                continue  # the rules turn every task away
            cursor.execute(*_feed_sql(helper, now, rows=True))
            rows = cursor.fetchall()
            if not rows:
                continue
            candidate = _feed_candidate(helper, (row[4] for row in rows))
            for row in rows:
                facts = rules.TaskFacts(
                    circle_id=row[1],
                    member_id=row[2],
                    member_first_name=first_name_of(row[3]),
                    category_id=row[4],
                    category_vetting_level=row[6],
                    latitude=float(row[13]),
                    longitude=float(row[14]),
                    window_start=aware(row[9]),
                    window_end=aware(row[10]),
                )
                far = task_distance_km(facts, candidate.latitude, candidate.longitude)
                # No member of these tasks blocked the helper: the query left those out.
                standing = rules.Relationship()
                if rules.ineligibility(facts, candidate, standing, distance=far) is not None:
                    continue
                entries.append(
                    FeedEntry(
                        id=row[0],
                        category=row[5],
                        title=row[7],
                        details=row[8],
                        window_start=facts.window_start,
                        window_end=facts.window_end,
                        estimated_minutes=row[11],
                        postcode_district=row[12],
                        distance_km=round(far, 1),
                    )
                )
    # FeedItem.order's: nearest first, then soonest, then by id.
    entries.sort(key=lambda entry: (entry.distance_km, entry.window_start, entry.id))
    return entries


# --- For the member's pages -------------------------------------------------------------------


@dataclass(frozen=True)
class KnownHelper:
    """A helper the member knows: one they named (preferred or blocked) or who helped them."""

    helper: Helper
    first_name: str
    word: str  # PreferenceKind's value, or "" for none
    times_helped: int


def member_known_helpers(*, member: Member) -> list[KnownHelper]:
    """The member's preferred helper, blocked helpers and those who finished a task of theirs
    ("helped before", as ranking counts it), preferred first, then the most help. Three small
    queries from the member's side, whatever the circle's size."""
    words = dict(HelperPreference.objects.filter(member=member).values_list("helper_id", "kind"))
    helped = dict(
        Task.objects.filter(member=member, status__in=(TaskStatus.COMPLETED, TaskStatus.SETTLED))
        .values("helper_id")
        .annotate(n=Count("id"))
        .values_list("helper_id", "n")
    )
    helpers = Helper.objects.filter(
        pk__in=set(words) | set(helped), circle_id=member.circle_id
    ).select_related("member")
    known = [
        KnownHelper(
            helper=helper,
            first_name=helper.member.first_name,
            word=words.get(helper.pk, ""),
            times_helped=helped.get(helper.pk, 0),
        )
        for helper in helpers
    ]
    known.sort(
        key=lambda k: (
            k.word != PreferenceKind.PREFERRED,
            -k.times_helped,
            k.first_name,
            k.helper.pk,
        )
    )
    return known


# --- Billing ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskBilling:
    """What a completed task costs, for the member, staff and its helper: the minutes the
    helper reported, those billed (rounded up to the circle's increment), and once confirmed,
    what the ledger settled and what went unpaid because the member's wallet ran out (the
    wallet never goes negative; a coordinator settles the rest by hand). `note` says that in
    words, or is blank when nothing went unpaid. For the member's page: `held` when booked,
    and once settled, `returned` (held and not used) and `extra` (paid beyond the hold)."""

    held: TokenQuantity
    reported: TokenQuantity
    billed: TokenQuantity
    increment_minutes: int
    settled: TokenQuantity | None
    unpaid: TokenQuantity | None
    returned: TokenQuantity | None
    extra: TokenQuantity | None
    note: str


def task_billing(task: Task) -> TaskBilling | None:
    """The task's billing, or None before the helper reports the minutes. Shows minutes that
    may be private to the task's insiders: the caller decides who sees it."""
    if task.minutes_billed is None:
        return None
    circle = task.circle
    # Booking holds the estimate (DESIGN.md), so that is what was set aside.
    held = task.estimated_minutes
    settled = unpaid = returned = extra = None
    note = ""
    if task.minutes_settled is not None:
        returned = token_quantity(max(held - task.minutes_settled, 0), circle=circle)
        extra = token_quantity(max(task.minutes_settled - held, 0), circle=circle)
        unpaid_minutes = task.minutes_billed - task.minutes_settled
        settled = token_quantity(task.minutes_settled, circle=circle)
        unpaid = token_quantity(unpaid_minutes, circle=circle)
        if unpaid_minutes:
            note = gettext(
                "The work took %(unpaid)s minutes more than the member had tokens for; "
                "%(settled)s of %(billed)s minutes were paid and %(unpaid)s are unpaid. "
                "A coordinator can settle the rest by hand."
            ) % {
                "unpaid": unpaid_minutes,
                "settled": task.minutes_settled,
                "billed": task.minutes_billed,
            }
    return TaskBilling(
        held=token_quantity(held, circle=circle),
        reported=token_quantity(task.minutes_reported or 0, circle=circle),
        billed=token_quantity(task.minutes_billed, circle=circle),
        increment_minutes=circle.billing_increment_minutes,
        settled=settled,
        unpaid=unpaid,
        returned=returned,
        extra=extra,
        note=note,
    )


def tasks_by_id(*, circle: Any, task_ids: Iterable[int | None]) -> dict[int, Task]:
    """The circle's tasks among `task_ids`, by id, in one query (what a list that names tasks
    by reference, like the follow-ups, shows beside each line: title and window). Ids of
    another circle's tasks are left out."""
    ids = {task_id for task_id in task_ids if task_id is not None}
    if not ids:
        return {}
    tasks = Task.objects.filter(circle=circle, pk__in=ids).only(
        "id", "circle_id", "title", "window_start", "window_end", "status"
    )
    return {task.pk: task for task in tasks}


# --- The coordinators' desk: a helper's work and the members' feedback -------------------------

# A rating at or below this is low: the desk marks it, and lists it on its own when asked.
LOW_RATING = 2


@dataclass(frozen=True)
class HelperWork:
    """What a helper has done, for their record: tasks done (reported done, confirmed or not),
    the time they reported on them, and the members' ratings."""

    tasks_done: int
    minutes: int
    ratings: int
    rating_average: Decimal | None
    feedback: int


def helper_work(*, helper: Helper) -> HelperWork:
    """In two queries, however much they have done."""
    done = Task.objects.filter(
        helper=helper, status__in=(TaskStatus.COMPLETED, TaskStatus.SETTLED)
    ).aggregate(n=Count("pk"), minutes=Sum("minutes_reported"))
    said = Feedback.objects.filter(helper=helper).aggregate(
        n=Count("pk"), ratings=Count("rating"), total=Sum("rating")
    )
    ratings = int(said["ratings"] or 0)
    # The average to one decimal place, exactly (ratings are whole numbers 1 to 5).
    average = (
        (Decimal(int(said["total"])) / ratings).quantize(Decimal("0.1"), ROUND_HALF_UP)
        if ratings
        else None
    )
    return HelperWork(
        tasks_done=int(done["n"] or 0),
        minutes=int(done["minutes"] or 0),
        ratings=ratings,
        rating_average=average,
        feedback=int(said["n"] or 0),
    )


def _feedback_rows(circle: Any) -> QuerySet[Feedback]:
    return Feedback.objects.filter(circle=circle).select_related(
        "task", "task__member", "helper__member"
    )


def helper_recent_feedback(*, helper: Helper, limit: int = 5) -> list[Feedback]:
    """The newest feedback on the helper's tasks, with each task and its member."""
    return list(
        _feedback_rows(helper.circle_id)
        .filter(helper=helper)
        .order_by("-created_at", "-id")[:limit]
    )


@dataclass(frozen=True)
class FeedbackPage:
    rows: list[Feedback]
    # Where the next (older) page starts, for `feedback_page(after=...)`; "" on the last page.
    next_after: str


def _cursor(row: Feedback) -> str:
    return f"{row.created_at.isoformat()}~{row.pk}"


def _after(cursor: str) -> Q | None:
    # A cursor from an old link or typed by hand that does not read is taken as none: the
    # newest page, rather than an error.
    when, _, pk = cursor.partition("~")
    try:
        moment = datetime.fromisoformat(when)
        row_id = int(pk)
    except ValueError:
        return None
    if timezone.is_naive(moment):
        return None
    # "Older than (moment, id)". The redundant `created_at <= moment` lets the database start
    # its walk down the (circle, -created_at, -id) index at the moment, which the OR alone
    # does not tell it.
    return Q(created_at__lte=moment) & (
        Q(created_at__lt=moment) | Q(created_at=moment, pk__lt=row_id)
    )


def feedback_page(
    *,
    circle: Any,
    helper_id: int | None = None,
    low_only: bool = False,
    after: str = "",
    limit: int = 25,
) -> FeedbackPage:
    """The circle's feedback, newest first, `limit` at a time: the page after the cursor
    `after` (keyset paging on (created_at, id), so a page deep in years of feedback costs what
    the first does), optionally only one helper's, or only the low ratings."""
    rows = _feedback_rows(circle)
    if helper_id is not None:
        rows = rows.filter(helper_id=helper_id)
    if low_only:
        rows = rows.filter(rating__lte=LOW_RATING)
    start = _after(after) if after else None
    if start is not None:
        rows = rows.filter(start)
    found = list(rows.order_by("-created_at", "-id")[: limit + 1])
    more = len(found) > limit
    found = found[:limit]
    return FeedbackPage(rows=found, next_after=_cursor(found[-1]) if more else "")


# --- Reports ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TasksWeek:
    """Tasks asked for (booked), accepted by a helper and settled in the week from `week`."""

    week: date
    asked: int
    accepted: int
    settled: int


def tasks_by_week(*, circle: Circle, period: ReportPeriod) -> list[TasksWeek]:
    """Three grouped queries, one per moment of a task's life, each by its own timestamp."""
    tasks = Task.objects.filter(circle_id=circle.pk)
    counts: dict[str, dict[date, int]] = {}
    for name, column, extra in (
        ("asked", "created_at", Q()),
        ("accepted", "accepted_at", Q()),
        ("settled", "closed_at", Q(status=TaskStatus.SETTLED)),
    ):
        rows = (
            tasks.filter(extra, **{f"{column}__gte": period.start, f"{column}__lt": period.end})
            .annotate(week=TruncWeek(column))
            .values("week")
            .annotate(n=Count("id"))
            .values_list("week", "n")
        )
        counts[name] = {local_date(week): n for week, n in rows}
    return [
        TasksWeek(
            week=week,
            asked=counts["asked"].get(week, 0),
            accepted=counts["accepted"].get(week, 0),
            settled=counts["settled"].get(week, 0),
        )
        for week in period.week_starts()
    ]


@dataclass(frozen=True)
class CategoryWait:
    """How long the tasks of one category accepted in the period waited from being asked for
    to being accepted: the median and the 90th percentile, in seconds (continuous percentiles,
    interpolated between the two nearest tasks, as PostgreSQL's percentile_cont)."""

    category: str
    tasks: int
    median_seconds: float
    p90_seconds: float


# PostgreSQL has the ordered-set aggregate itself.
_WAIT_SQL_POSTGRES = """
SELECT c.name, COUNT(*),
       percentile_cont(0.5) WITHIN GROUP (
           ORDER BY EXTRACT(EPOCH FROM t.accepted_at - t.created_at)),
       percentile_cont(0.9) WITHIN GROUP (
           ORDER BY EXTRACT(EPOCH FROM t.accepted_at - t.created_at))
FROM matching_task t JOIN circle_category c ON c.id = t.category_id
WHERE t.circle_id = %s AND t.accepted_at >= %s AND t.accepted_at < %s
GROUP BY c.id, c.name
ORDER BY c.name, c.id
"""

# SQLite has none: number each category's waits in order (window functions), then take the
# two around position p * (n - 1) and interpolate, which is percentile_cont's definition.
# CAST(x AS INTEGER) is floor() for the non-negative positions here.
_WAIT_SQL_SQLITE = """
WITH waits AS (
    SELECT t.category_id AS category_id,
           -- julianday() is a float of days: to the nearest second, as PostgreSQL counts.
           ROUND((julianday(t.accepted_at) - julianday(t.created_at)) * 86400.0) AS secs
    FROM matching_task t
    WHERE t.circle_id = %s AND t.accepted_at >= %s AND t.accepted_at < %s
), ranked AS (
    SELECT category_id, secs,
           ROW_NUMBER() OVER (PARTITION BY category_id ORDER BY secs) - 1 AS i,
           COUNT(*) OVER (PARTITION BY category_id) AS n
    FROM waits
), picked AS (
    SELECT category_id, n,
           0.5 * (n - 1) AS pos50, 0.9 * (n - 1) AS pos90,
           MAX(CASE WHEN i = CAST(0.5 * (n - 1) AS INTEGER) THEN secs END) AS lo50,
           MAX(CASE WHEN i = CAST(0.5 * (n - 1) AS INTEGER) + 1 THEN secs END) AS hi50,
           MAX(CASE WHEN i = CAST(0.9 * (n - 1) AS INTEGER) THEN secs END) AS lo90,
           MAX(CASE WHEN i = CAST(0.9 * (n - 1) AS INTEGER) + 1 THEN secs END) AS hi90
    FROM ranked
    GROUP BY category_id, n
)
SELECT c.name, p.n,
       p.lo50 + (p.pos50 - CAST(p.pos50 AS INTEGER)) * (COALESCE(p.hi50, p.lo50) - p.lo50),
       p.lo90 + (p.pos90 - CAST(p.pos90 AS INTEGER)) * (COALESCE(p.hi90, p.lo90) - p.lo90)
FROM picked p JOIN circle_category c ON c.id = p.category_id
ORDER BY c.name, c.id
"""


def acceptance_waits_by_category(*, circle: Circle, period: ReportPeriod) -> list[CategoryWait]:
    """For each category with a task accepted in the period: how long such tasks waited for a
    helper, median and 90th percentile, computed by the database. Categories with none are
    left out (there is no wait to show)."""
    sql = _WAIT_SQL_POSTGRES if connection.vendor == "postgresql" else _WAIT_SQL_SQLITE
    start, end = period.start, period.end
    if connection.vendor != "postgresql":
        # SQLite compares the stored text, which Django writes as naive UTC.
        start, end = (timezone.make_naive(t, UTC) for t in (start, end))
    with connection.cursor() as cursor:
        cursor.execute(sql, [circle.pk, start, end])
        rows = cursor.fetchall()
    return [
        CategoryWait(
            category=name, tasks=int(n), median_seconds=float(median), p90_seconds=float(p90)
        )
        for name, n, median, p90 in rows
    ]


@dataclass(frozen=True)
class CategoryHelp:
    """The help given in one category in the period: tasks settled and the minutes the
    helpers reported doing."""

    category: str
    tasks: int
    minutes: int


def help_by_category(*, circle: Circle, period: ReportPeriod) -> list[CategoryHelp]:
    """Every category of the circle, with the help settled in the period (0 for none)."""
    done = dict(
        (category_id, (n, minutes))
        for category_id, n, minutes in Task.objects.filter(
            circle_id=circle.pk,
            status=TaskStatus.SETTLED,
            closed_at__gte=period.start,
            closed_at__lt=period.end,
        )
        .values("category_id")
        .annotate(n=Count("id"), minutes=Coalesce(Sum("minutes_reported"), 0))
        .values_list("category_id", "n", "minutes")
    )
    categories = Category.objects.filter(circle_id=circle.pk).order_by("name", "id")
    return [
        CategoryHelp(
            category=category.name,
            tasks=done.get(category.pk, (0, 0))[0],
            minutes=int(done.get(category.pk, (0, 0))[1]),
        )
        for category in categories.only("id", "name")
    ]


def concern_subjects(*, circle: Circle, member: Member, staff: bool) -> list[tuple[str, str]]:
    """Whom a person may raise a safeguarding concern about, as (value, name) choices:
    "member:<id>" for a member, "helper:<id>" for a helper (their member record). Staff may
    name anyone in the circle; a member names the helpers who came to them, a helper the
    members they helped, so nobody learns who else is in the circle from the list."""
    if staff:
        members = Member.objects.filter(circle=circle, roles__role="member")
        helpers = Member.objects.filter(circle=circle, helper__isnull=False)
    else:
        tasks = Task.objects.filter(circle=circle)
        members = Member.objects.filter(
            pk__in=tasks.filter(helper__member=member).values("member_id")
        )
        helpers = Member.objects.filter(
            pk__in=tasks.filter(member=member, helper__isnull=False).values("helper__member_id")
        )
    choices = [
        (f"member:{pk}", name)
        for pk, name in members.exclude(pk=member.pk)
        .order_by("full_name", "id")
        .values_list("pk", "full_name")
        .distinct()
    ]
    choices += [
        (f"helper:{pk}", gettext("%(name)s (helper)") % {"name": name})
        for pk, name in helpers.exclude(pk=member.pk)
        .order_by("full_name", "id")
        .values_list("pk", "full_name")
        .distinct()
    ]
    return choices
