"""Who sees what of a task: the address and phone only for its member, staff, and its helper
while the task is theirs; other helpers the postcode district and distance; another circle
nothing at all."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from helpers.services import helper_suspension_set
from matching.apis import FeedItemOutput
from matching.models import Notice
from matching.notify import offer_wave
from matching.selectors import helper_feed
from members.selectors import caller_for
from tests.conftest import Personas
from tests.matching.conftest import FEED_URL, book, new_helper, task_url

pytestmark = pytest.mark.django_db

Client = Callable[[Any], Any]
Body = Callable[..., dict[str, Any]]


def _seen(client: Any, task_id: int) -> dict[str, Any]:
    response = client.get(task_url(task_id))
    assert response.status_code == 200, response.json()
    body: dict[str, Any] = response.json()
    return body


def _no_address(body: dict[str, Any], member_phone: str, address: str) -> None:
    assert body["address"] is None
    text = str(body)
    assert member_phone not in text
    assert address not in text


def test_address_before_during_and_after_a_hand_back(
    world: Personas, client_for: Client, task_body: Body
) -> None:
    alice, hana = client_for(world.alice), client_for(world.hana)
    ivy = new_helper(world, "Ivy", latitude=Decimal("51.48000"), longitude=Decimal("-0.09000"))
    ivy_client = client_for(ivy.member)
    task = book(alice, task_body())
    address, phone = world.alice.address_line1, world.alice.phone

    # Before: helpers see the district and their distance, never the address or the member.
    for client in (hana, ivy_client):
        before = _seen(client, task["id"])
        assert before["postcode_district"] == "SE1"
        assert before["distance_km"] is not None
        assert before["member"] is None
        _no_address(before, phone, address)
    assert _seen(ivy_client, task["id"])["distance_km"] == pytest.approx(2.7, abs=0.3)

    # During: Hana accepted; she sees the address and phone, Ivy still does not.
    hana.post(task_url(task["id"], "accept"))
    during = _seen(hana, task["id"])
    assert during["address"] == {
        "full_name": world.alice.full_name,
        "address_line1": address,
        "postcode": world.alice.postcode,
        "phone": phone,
    }
    # Ivy was not offered it and never had it: someone else's work in hand is not hers to see.
    assert ivy_client.get(task_url(task["id"])).status_code == 403

    # After Hana hands it back, she no longer sees it; Ivy takes it and does; Hana, who once
    # had it, still sees the task but not the address, and not who has it now.
    hana.post(task_url(task["id"], "cancel"), {"reason": "Ill"}, format="json")
    _no_address(_seen(hana, task["id"]), phone, address)
    ivy_client.post(task_url(task["id"], "accept"))
    assert _seen(ivy_client, task["id"])["address"]["phone"] == phone
    after = _seen(hana, task["id"])
    _no_address(after, phone, address)
    assert after["helper"] is None
    assert after["status"] == "accepted"


def test_the_helper_stops_seeing_the_address_once_settled(
    world: Personas, client_for: Client, task_body: Body
) -> None:
    alice, hana = client_for(world.alice), client_for(world.hana)
    task = book(alice, task_body())
    hana.post(task_url(task["id"], "accept"))
    hana.post(task_url(task["id"], "complete"), {"minutes": 60}, format="json")
    assert _seen(hana, task["id"])["address"] is not None

    alice.post(task_url(task["id"], "confirm"), {}, format="json")

    _no_address(_seen(hana, task["id"]), world.alice.phone, world.alice.address_line1)
    assert _seen(alice, task["id"])["address"] is not None


def test_member_and_staff_see_the_address(
    world: Personas, client_for: Client, task_body: Body
) -> None:
    task = book(client_for(world.alice), task_body())

    for who in (world.alice, world.otto, world.cora):
        assert _seen(client_for(who), task["id"])["address"]["phone"] == world.alice.phone


def test_another_circle_gets_404_and_another_member_403(
    world: Personas, client_for: Client, task_body: Body
) -> None:
    task = book(client_for(world.alice), task_body())

    for who in (world.sam, world.clara):
        response = client_for(who).get(task_url(task["id"]))
        assert response.status_code == 404
        assert response.json()["code"] == "task_not_found"
    assert client_for(world.bob).get(task_url(task["id"])).status_code == 403
    assert client_for(None).get(task_url(task["id"])).status_code == 401


def test_the_feed_shows_district_and_distance_never_the_address(
    world: Personas, client_for: Client, task_body: Body
) -> None:
    far = task_body(title="Far", estimated_minutes=60)
    book(client_for(world.alice), task_body(title="Near"))
    book(client_for(world.bob), far)

    response = client_for(world.hana).get(FEED_URL)

    assert response.status_code == 200
    results = response.json()["results"]
    # Bob lives at the same spot in the factories; order by distance, then window, then id.
    assert [item["title"] for item in results] == ["Near", "Far"]
    for item in results:
        assert set(item) == {
            "id",
            "category",
            "title",
            "details",
            "window_start",
            "window_end",
            "estimated_minutes",
            "postcode_district",
            "distance_km",
        }
    assert world.alice.address_line1 not in str(results)


def test_the_feed_is_for_helpers(world: Personas, client_for: Client) -> None:
    response = client_for(world.alice).get(FEED_URL)

    assert response.status_code == 403
    assert response.json()["code"] == "not_a_helper"


def test_matches_for_the_member_and_staff_only(
    world: Personas, client_for: Client, task_body: Body
) -> None:
    task = book(client_for(world.alice), task_body())
    url = task_url(task["id"], "matches")

    for who in (world.alice, world.otto):
        body = client_for(who).get(url).json()
        assert body["count"] == 1
        (match,) = body["results"]
        assert match["helper_id"] == world.hana_helper.pk
        assert match["first_name"] == "Hana"
        assert set(match) == {"helper_id", "first_name", "distance_km", "score", "reasons"}
        assert any("km away" in reason for reason in match["reasons"])
    assert client_for(world.hana).get(url).status_code == 403
    assert client_for(world.clara).get(url).status_code == 404


def test_a_helper_lists_the_tasks_they_have_in_hand_with_the_address(
    world: Personas, client_for: Client, task_body: Body
) -> None:
    alice, hana = client_for(world.alice), client_for(world.hana)
    mine = book(alice, task_body(title="Mine"))
    done = book(alice, task_body(title="Done"))
    book(alice, task_body(title="Not mine"))
    hana.post(task_url(mine["id"], "accept"))
    hana.post(task_url(done["id"], "accept"))
    hana.post(task_url(done["id"], "complete"), {"minutes": 30}, format="json")

    body = hana.get(FEED_URL + "accepted/").json()

    assert [t["title"] for t in body["results"]] == ["Mine", "Done"]
    assert all(t["address"]["phone"] == world.alice.phone for t in body["results"])
    assert client_for(world.alice).get(FEED_URL + "accepted/").status_code == 403
    # Handed back: no longer in hand, and the address is gone with it.
    hana.post(task_url(mine["id"], "cancel"), {"reason": "Ill"}, format="json")
    assert [t["title"] for t in hana.get(FEED_URL + "accepted/").json()["results"]] == ["Done"]


# --- Reading a task by id shows no more than the feed (issue 11) ------------------------------
# Any helper of the circle used to read every open task by id. Now a helper reads a task while
# it is in their feed, or if they were offered it or once had it; an unvetted or suspended
# helper reads none.


def _refused(client: Any, task_id: int) -> None:
    response = client.get(task_url(task_id))
    assert response.status_code == 403, response.json()
    assert response.json()["code"] == "forbidden"


def test_a_helper_cannot_read_an_open_task_above_their_vetting(
    world: Personas, client_for: Client, task_body: Body
) -> None:
    # Shopping needs enhanced vetting; Hana has basic.
    task = book(client_for(world.alice), task_body(category="shopping"))

    _refused(client_for(world.hana), task["id"])
    assert task["id"] not in [
        t["id"] for t in client_for(world.hana).get(FEED_URL).json()["results"]
    ]


def test_a_helper_cannot_read_an_open_task_of_a_member_who_blocked_them(
    world: Personas, client_for: Client, task_body: Body
) -> None:
    alice = client_for(world.alice)
    task = book(alice, task_body())
    blocked = alice.put(
        f"/api/v1/members/{world.alice.pk}/preferences/{world.hana_helper.pk}/",
        {"kind": "blocked"},
        format="json",
    )
    assert blocked.status_code in (200, 201)

    _refused(client_for(world.hana), task["id"])


def test_an_unvetted_helper_reads_no_task(
    world: Personas, client_for: Client, task_body: Body
) -> None:
    rookie = new_helper(world, "Rookie", level="none")
    task = book(client_for(world.alice), task_body())

    _refused(client_for(rookie.member), task["id"])
    assert client_for(rookie.member).get(FEED_URL).json()["results"] == []


def test_a_suspended_helper_reads_no_task_not_even_one_they_once_had(
    world: Personas, client_for: Client, task_body: Body
) -> None:
    hana = client_for(world.hana)
    task = book(client_for(world.alice), task_body())
    other = book(client_for(world.alice), task_body(title="Another"))
    hana.post(task_url(task["id"], "accept"))
    hana.post(task_url(task["id"], "cancel"), {"reason": "Ill"}, format="json")
    _seen(hana, task["id"])  # once hers: she still reads it

    helper_suspension_set(
        helper=world.hana_helper,
        caller=caller_for(user=world.cora.user, circle=world.southwark),
        suspended=True,
        reason="A concern is being looked into",
    )

    _refused(hana, task["id"])
    _refused(hana, other["id"])


def test_a_helper_offered_a_task_still_reads_it_once_another_has_it(
    world: Personas, client_for: Client, task_body: Body
) -> None:
    ivy = new_helper(world, "Ivy", latitude=Decimal("51.48000"), longitude=Decimal("-0.09000"))
    task = book(client_for(world.alice), task_body())
    offer_wave(task_id=task["id"], now=timezone.now() + timedelta(hours=1))
    assert Notice.objects.filter(task_id=task["id"], recipient_id=ivy.member_id).exists()
    late = new_helper(world, "Late")  # eligible, but joined after the offers went out

    client_for(world.hana).post(task_url(task["id"], "accept"))

    _no_address(
        _seen(client_for(ivy.member), task["id"]), world.alice.phone, world.alice.address_line1
    )
    _refused(client_for(late.member), task["id"])


def test_the_feed_is_what_its_serializer_writes(
    world: Personas, client_for: Client, task_body: Body
) -> None:
    """The feed builds each item's JSON directly; it must stay FeedItemOutput's, the shape
    the schema documents."""
    book(client_for(world.alice), task_body(title="Near"))
    book(client_for(world.bob), task_body(title="Far", estimated_minutes=60))

    response = client_for(world.hana).get(FEED_URL)

    items = helper_feed(helper=world.hana.helper)
    expected = json.loads(json.dumps(FeedItemOutput(items, many=True).data))
    assert response.json()["results"] == expected
    assert len(expected) == 2
