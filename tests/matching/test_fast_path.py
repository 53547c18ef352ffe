"""The fast path returns exactly what the naive reference returns, on generated circles: helpers
scattered round the centre with random radii, skills (one almost nobody has), vetting levels,
suspensions, weekly slots and members' preferences, and a few hundred tasks of every kind, some
across midnight, some already over, some booked by helpers themselves."""

from __future__ import annotations

import math
import random
from collections import Counter
from datetime import time, timedelta
from typing import Any

import pytest
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from circle.models import VettingLevel
from circle.postcodes import Point, distance_km
from helpers.models import AvailabilitySlot, Helper
from matching import rules
from matching.models import PreferenceKind, Task, TaskStatus
from matching.rules import TaskFacts
from matching.selectors import (
    candidates,
    helper_feed,
    helper_feed_naive,
    helper_ineligibility,
    standings,
    task_facts,
    task_matches,
    task_matches_naive,
)
from matching.selectors import task_distance_km as fast_distance
from members.models import Member
from tests.conftest import Personas
from tests.factories import MemberFactory
from tests.matching.tasks_factory import helper_near, make_task, offset, word

pytestmark = pytest.mark.django_db

# How likely a helper is to have each skill: "lifts" is the one almost nobody has.
SKILL_ODDS = {
    "gardening": 0.5,
    "odd-jobs": 0.4,
    "diy": 0.3,
    "it-help": 0.2,
    "paperwork": 0.2,
    "companionship": 0.3,
    "shopping": 0.25,
    "lifts": 0.03,
}
RADII = ("0.5", "1", "2", "3", "5", "8", "10", "15", "25", "50")


def scatter(rng: random.Random, within_km: float) -> dict[str, float]:
    """A point uniformly in a disc round the centre, as north/east offsets."""
    distance = within_km * math.sqrt(rng.random())
    bearing = rng.uniform(0, 2 * math.pi)
    return {"north_km": distance * math.cos(bearing), "east_km": distance * math.sin(bearing)}


def generate(personas: Personas, seed: int) -> tuple[list[Task], list[Helper]]:
    rng = random.Random(seed)
    centre = personas.alice
    members: list[Member] = [personas.alice, personas.bob]
    for _ in range(30):
        latitude, longitude = offset(
            centre.latitude, centre.longitude, **scatter(rng, within_km=14)
        )
        members.append(
            MemberFactory(circle=personas.southwark, latitude=latitude, longitude=longitude)
        )
    helpers: list[Helper] = []
    for number in range(140):
        skills = [slug for slug, odds in SKILL_ODDS.items() if rng.random() < odds]
        suspended = rng.random() < 0.1
        helper = helper_near(
            centre,
            **scatter(rng, within_km=18),
            skills=skills,
            vetting_level=rng.choices(VettingLevel.values, weights=(2, 5, 3))[0],
            radius_km=rng.choice(RADII),
            suspended=suspended,
            suspended_reason="Generated" if suspended else "",
            name=f"Helper{number} Generated",
        )
        if rng.random() < 0.6:
            for _ in range(rng.randint(1, 3)):
                begins = rng.randrange(0, 23 * 4) * 15
                ends = min(begins + rng.choice((30, 60, 120, 240, 480)), 24 * 60 - 1)
                AvailabilitySlot.objects.create(
                    circle_id=helper.circle_id,
                    helper=helper,
                    weekday=rng.randrange(7),
                    start=time(begins // 60, begins % 60),
                    end=time(ends // 60, ends % 60),
                )
        helpers.append(helper)
    # Helpers of another circle living among them, who must never be offered these tasks.
    for _ in range(8):
        helpers.append(
            helper_near(
                centre,
                **scatter(rng, within_km=5),
                circle=personas.suffolk,
                skills=list(SKILL_ODDS),
                vetting_level=VettingLevel.ENHANCED,
                radius_km="50",
            )
        )
    southwark = [h for h in helpers if h.circle_id == personas.southwark.pk]
    bookers = members + [h.member for h in southwark[:10]]  # some helpers ask for help too
    # Members prefer helpers who can do much (else a preferred helper would seldom be eligible).
    able = [
        h
        for h in southwark
        if not h.suspended and h.vetting_level == VettingLevel.ENHANCED and h.travel_radius_km >= 8
    ]
    for member in bookers:
        if rng.random() < 0.5:
            word(member, rng.choice(able), PreferenceKind.PREFERRED)
        if rng.random() < 0.3:
            blocked = rng.choice(southwark)
            if not member.helper_preferences.filter(helper=blocked).exists():
                word(member, blocked, PreferenceKind.BLOCKED)
    now = timezone.now()
    # Past work, for "helped before" and "recent tasks": some settled, some merely accepted.
    for _ in range(40):
        make_task(
            member=rng.choice(bookers),
            status=rng.choice((TaskStatus.SETTLED, TaskStatus.COMPLETED, TaskStatus.ACCEPTED)),
            helper=rng.choice(southwark),
            accepted_at=now - timedelta(days=rng.randrange(0, 60)),
            start=now - timedelta(days=rng.randrange(1, 60)),
        )
    tasks = []
    for _ in range(200):
        member = rng.choice(bookers)
        start = now.replace(minute=0, second=0, microsecond=0) + timedelta(
            minutes=15 * rng.randrange(-4 * 24 * 2, 4 * 24 * 14)
        )
        where = {}
        if rng.random() < 0.2:  # booked for somewhere else than the member's home
            latitude, longitude = offset(
                centre.latitude, centre.longitude, **scatter(rng, within_km=20)
            )
            where = {"latitude": latitude, "longitude": longitude}
        tasks.append(
            make_task(
                member=member,
                category=rng.choice(list(SKILL_ODDS)),
                start=start,
                hours=rng.choice((0.5, 1, 2, 3, 6, 12, 30)),
                **where,
            )
        )
    return tasks, helpers


def why_not(tasks: list[Task]) -> Counter[str]:
    """How often each rule turned a helper away (of any circle), over all the tasks."""
    codes: Counter[str] = Counter()
    pool = candidates(
        Helper.objects.select_related("member").prefetch_related("skill_rows", "availability")
    )
    for task in tasks:
        table = standings(member_id=task.member_id, helper_ids=[c.helper_id for c in pool])
        for candidate in pool:
            found = rules.ineligibility(task_facts(task), candidate, table[candidate.helper_id])
            codes[found.code if found else "eligible"] += 1
    return codes


def test_the_fast_path_returns_what_the_naive_one_does(personas: Personas) -> None:
    tasks, helpers = generate(personas, seed=20261201)

    matches: list[rules.Ranked] = []
    for task in tasks:
        naive = task_matches_naive(task=task)
        assert task_matches(task=task) == naive, task
        assert task_matches(task=task, limit=3) == naive[:3]
        matches += naive
    fed = 0
    for helper in helpers:
        naive_feed = helper_feed_naive(helper=helper)
        assert helper_feed(helper=helper) == naive_feed, helper
        fed += len(naive_feed)

    # The data exercises every rule, so the equality above means something.
    codes = why_not(tasks)
    assert set(codes) >= {
        "eligible",
        "other_circle",
        "own_task",
        "helper_suspended",
        "blocked_by_member",
        "vetting_too_low",
        "skill_missing",
        "too_far",
        "not_available",
    }, codes
    assert len(matches) > 100
    assert fed > 100
    assert any(m.preferred for m in matches)
    assert any(m.served_before for m in matches)
    assert any(m.recent_tasks for m in matches)


def test_a_helper_just_inside_or_outside_their_radius(personas: Personas) -> None:
    # The database's rough distance must keep everyone the exact one keeps, at any bearing.
    alice = personas.alice
    task = make_task(member=alice)
    helpers = []
    for degrees in range(0, 360, 15):
        bearing = math.radians(degrees)
        for km in (4.95, 4.99, 5.01, 5.05):
            helpers.append(
                helper_near(
                    alice,
                    north_km=km * math.cos(bearing),
                    east_km=km * math.sin(bearing),
                    radius_km="5",
                )
            )

    matches = task_matches(task=task)

    assert matches == task_matches_naive(task=task)
    assert 0 < len(matches) < len(helpers)
    assert all(m.distance_km <= 5.0 for m in matches)
    # Hana of the personas lives where Alice does, but is not vetted for gardening.
    assert {m.helper_id for m in matches} <= {h.pk for h in helpers}


@settings(max_examples=3000, deadline=None)
@given(
    a_lat=st.floats(-90, 90),
    a_lon=st.floats(-180, 180),
    b_lat=st.floats(-90, 90),
    b_lon=st.floats(-180, 180),
)
def test_the_fast_distance_is_geopys_bit_for_bit(
    a_lat: float, a_lon: float, b_lat: float, b_lon: float
) -> None:
    facts = TaskFacts(
        circle_id=1,
        member_id=1,
        member_first_name="",
        category_id=1,
        category_vetting_level="basic",
        latitude=a_lat,
        longitude=a_lon,
        window_start=timezone.now(),
        window_end=timezone.now(),
    )

    assert fast_distance(facts, b_lat, b_lon) == distance_km(
        Point(a_lat, a_lon), Point(b_lat, b_lon)
    )


@pytest.mark.parametrize(
    ("latitude", "longitude"),
    [(51.50218, -0.0763), (58.6, -3.1), (49.9, -6.3), (51.5, -0.07631), (0.0, 0.0)],
)
def test_the_fast_distance_is_geopys_near_home(latitude: float, longitude: float) -> None:
    rng = random.Random(7)
    facts = TaskFacts(1, 1, "", 1, "basic", latitude, longitude, timezone.now(), timezone.now())
    for _ in range(2000):
        lat = latitude + rng.uniform(-0.5, 0.5)
        lon = longitude + rng.uniform(-0.8, 0.8)
        assert fast_distance(facts, lat, lon) == distance_km(
            Point(latitude, longitude), Point(lat, lon)
        )


def test_the_fast_path_asks_the_database_a_fixed_number_of_times(
    personas: Personas, django_assert_max_num_queries: Any
) -> None:
    # However many helpers there are: the candidates, the member's standing; for the feed, the
    # helper, the tasks' ids, the tasks, the helper's slots.
    alice = personas.alice
    helpers = []
    for km in range(1, 21):
        helper = helper_near(alice, north_km=km / 5, name=f"Helper{km} Near")
        make_task(member=personas.bob, status=TaskStatus.ACCEPTED, helper=helper)
        if km % 2 == 0:
            AvailabilitySlot.objects.create(
                circle_id=helper.circle_id,
                helper=helper,
                weekday=km % 7,
                start=time(9),
                end=time(17),
            )
        helpers.append(helper)
    task = Task.objects.select_related("member", "category").get(pk=make_task(member=alice).pk)
    make_task(member=personas.bob)
    helper = Helper.objects.get(pk=helpers[0].pk)

    with django_assert_max_num_queries(2):
        matches = task_matches(task=task)
    with django_assert_max_num_queries(4):
        feed = helper_feed(helper=helper)

    assert len(matches) >= 10
    assert matches == task_matches_naive(task=task)
    assert len(feed) == 2
    assert feed == helper_feed_naive(helper=helper)


def test_helper_ineligibility_says_what_the_rules_say_over_every_pair(
    personas: Personas,
) -> None:
    # helper_ineligibility reads one helper's facts in one statement; the rules, given every
    # fact of every helper, are the reference.
    tasks, _ = generate(personas, seed=20261202)
    pool = candidates(
        Helper.objects.select_related("member").prefetch_related("skill_rows", "availability")
    )
    helpers = {h.pk: h for h in Helper.objects.all()}
    codes = set()
    for task in Task.objects.filter(pk__in=[t.pk for t in tasks[:12]]).select_related(
        "member", "category"
    ):
        table = standings(member_id=task.member_id, helper_ids=[c.helper_id for c in pool])
        for candidate in pool:
            expected = rules.ineligibility(task_facts(task), candidate, table[candidate.helper_id])
            found = helper_ineligibility(task=task, helper=helpers[candidate.helper_id])
            assert found == expected, (task, candidate)
            codes.add(found.code if found else "eligible")
    assert {"eligible", "not_available", "blocked_by_member", "skill_missing"} <= codes, codes
