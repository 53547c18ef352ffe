"""The helper's feed on the pages: the open tasks they may take, nearest first, in words; and
an empty feed that says why."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from helpers.models import HelperKind
from helpers.services import helper_pause_set, helper_suspension_set
from matching.rules import local_zone
from members.selectors import caller_for
from tests.conftest import Personas
from tests.factories import HelperFactory, MemberFactory
from tests.matching.conftest import london, new_helper, vet
from tests.matching.tasks_factory import make_task, offset
from tests.web import helper_world
from tests.web.helper_world import book
from tests.web.pages import text_of
from web.views.helper.feed import EmptyReason, feed_empty_reason

pytestmark = pytest.mark.django_db

# The shared fixtures (tests/web/helper_world.py).
hana = helper_world.hana
world = helper_world.world


def test_the_feed_says_what_where_when_how_long_and_what_it_earns(
    hana: Client, world: Personas
) -> None:
    task = book(world.alice, minutes=90)
    response = hana.get("/helper/")
    assert response.status_code == 200
    words = text_of(response)
    day = london(hour=10).astimezone(local_zone())
    assert "Tasks near you" in words
    assert "1 task you can take, nearest first." in words
    assert "Trim the hedge" in words
    assert "Gardening, SE1" in words
    assert f"{day:%A} {day.day} {day:%B}, 10am to 12pm" in words
    assert "Takes about 1 hour 30 minutes" in words
    assert "You earn about 1 hour 30 minutes (1.5 tokens)" in words
    assert "0.0 km away" in words
    assert f'href="/helper/tasks/{task.pk}/"' in response.content.decode()
    # Never who or where exactly, before accepting.
    assert "Alice" not in words
    assert world.alice.address_line1 not in words
    assert world.alice.phone not in response.content.decode()


def test_the_estimate_is_shown_billed_in_the_circles_blocks(hana: Client, world: Personas) -> None:
    book(world.alice, minutes=40)
    words = text_of(hana.get("/helper/"))
    assert "Takes about 40 minutes" in words
    assert "You earn about 1 hour (1 token)" in words


def test_nearest_first(hana: Client, world: Personas) -> None:
    near = make_task(member=world.alice)
    lat, lon = offset(world.alice.latitude, world.alice.longitude, north_km=2)
    far = make_task(member=world.bob, latitude=lat, longitude=lon)
    html = hana.get("/helper/").content.decode()
    assert html.index(f"/helper/tasks/{near.pk}/") < html.index(f"/helper/tasks/{far.pk}/")
    assert "2.0 km away" in text_of(hana.get("/helper/"))


def test_a_paid_helper_sees_the_time_as_paid_work(client: Client, world: Personas) -> None:
    paid = new_helper(world, "Pat", kind=HelperKind.PAID)
    book(world.alice, minutes=90)
    client.force_login(paid.member.user)
    words = text_of(client.get("/helper/"))
    assert "About 1 hour 30 minutes of paid work" in words
    assert "You earn" not in words


def test_tasks_the_helper_may_not_take_are_left_out(hana: Client, world: Personas) -> None:
    book(world.alice, title="Drive me to the clinic", category="lifts")  # enhanced vetting
    book(world.sam, title="Suffolk hedge", minutes=60)  # another circle
    words = text_of(hana.get("/helper/"))
    assert "Drive me to the clinic" not in words
    assert "Suffolk hedge" not in words
    assert "Nothing near you just now" in words


def test_an_unvetted_helper_is_told_the_checks_are_not_done_yet(
    client: Client, world: Personas
) -> None:
    member = MemberFactory(circle=world.southwark, roles=["helper"])
    HelperFactory(member=member)
    book(world.alice)
    client.force_login(member.user)
    response = client.get("/helper/")
    assert response.status_code == 200
    words = text_of(response)
    assert "Your checks are not done yet" in words
    assert "Trim the hedge" not in words
    assert "020 7946 0000" in words


def test_a_suspended_helper_is_told_to_contact_the_coordinator(
    hana: Client, world: Personas
) -> None:
    book(world.alice)
    helper_suspension_set(
        helper=world.hana_helper,
        caller=caller_for(user=world.cora.user, circle=world.southwark),
        suspended=True,
        reason="A concern is being looked into.",
    )
    words = text_of(hana.get("/helper/"))
    assert "A coordinator has stopped offering you tasks" in words
    assert "contact your circle's coordinator" in words
    assert "Trim the hedge" not in words
    assert "A concern is being looked into." not in words


def test_a_helper_who_paused_is_told_so_and_resumes_from_the_feed(
    hana: Client, world: Personas
) -> None:
    book(world.alice)
    helper_pause_set(
        helper=world.hana_helper,
        caller=caller_for(user=world.hana.user, circle=world.southwark),
        paused=True,
    )
    words = text_of(hana.get("/helper/"))
    assert "You have paused" in words
    assert "Trim the hedge" not in words

    hana.post("/helper/profile/pause/", {"paused": "0"})

    assert "Trim the hedge" in text_of(hana.get("/helper/"))


def test_a_helper_whose_skills_all_need_more_checks_is_told_so(
    client: Client, world: Personas
) -> None:
    member = MemberFactory(circle=world.southwark, roles=["helper"])
    helper = vet(HelperFactory(member=member, skills=["shopping", "lifts"]), by=world.cora)
    book(world.alice, category="shopping")
    client.force_login(member.user)
    assert helper.vetting_level == "basic"
    words = text_of(client.get("/helper/"))
    assert "The help you offer needs more checks" in words


def test_nothing_nearby_says_so(hana: Client, world: Personas) -> None:
    lat, lon = offset(world.alice.latitude, world.alice.longitude, north_km=9)
    make_task(member=world.bob, latitude=lat, longitude=lon)  # beyond Hana's 5 km
    words = text_of(hana.get("/helper/"))
    assert "Nothing near you just now" in words
    assert "Look again" in words


def test_feed_empty_reason_in_order(world: Personas) -> None:
    helper = world.hana_helper
    assert feed_empty_reason(helper) == EmptyReason.NOTHING_NEARBY
    helper.vetting_level = "none"
    assert feed_empty_reason(helper) == EmptyReason.NOT_VETTED
    helper.suspended = True
    assert feed_empty_reason(helper) == EmptyReason.SUSPENDED


def test_someone_who_is_not_a_helper_is_offered_to_become_one(
    client: Client, world: Personas
) -> None:
    client.force_login(world.alice.user)
    response = client.get("/helper/")
    assert response.status_code == 403
    assert "You are not a helper yet" in text_of(response)


def test_signing_in_comes_first(client: Client, world: Personas) -> None:
    response = client.get("/helper/")
    assert response.status_code == 302
    assert response["Location"].startswith("/sign-in/")


def test_the_feed_asks_the_database_a_fixed_number_of_times(
    hana: Client, world: Personas, django_assert_max_num_queries: Any
) -> None:
    make_task(member=world.alice)
    with django_assert_max_num_queries(20) as one:
        hana.get("/helper/")
    for i in range(6):
        lat, lon = offset(world.alice.latitude, world.alice.longitude, north_km=0.2 * (i + 1))
        make_task(member=world.bob, latitude=lat, longitude=lon)
    with django_assert_max_num_queries(len(one.captured_queries)):
        response = hana.get("/helper/")
    assert "7 tasks you can take" in text_of(response)


def test_a_helper_far_away_has_an_empty_feed_with_the_distance_rule(
    client: Client, world: Personas
) -> None:
    far = new_helper(world, "Fay", latitude=Decimal("51.60000"))
    book(world.alice)
    client.force_login(far.member.user)
    assert "Nothing near you just now" in text_of(client.get("/helper/"))


def test_the_feed_refreshes_itself_with_a_module_and_works_without_it(
    hana: Client, world: Personas
) -> None:
    html = hana.get("/helper/").content.decode()
    assert '<script type="module" src="/static/web/helper_feed.js"></script>' in html
    assert 'data-refresh-seconds="60"' in html
    assert 'href="/helper/"' in html  # "Look again", for a page without JavaScript
