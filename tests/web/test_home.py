"""The member's home, choosing between circles, and what staff did on their behalf."""

from __future__ import annotations

import pytest
from django.test import Client

from matching.services import task_book, task_cancel
from members.models import Member, RoleName
from members.selectors import caller_for
from tests.conftest import Personas
from tests.factories import MemberFactory
from tests.matching.conftest import london, make_active
from tests.web.pages import text_of

pytestmark = pytest.mark.django_db


def book(member, title: str):
    caller = caller_for(user=member.user, circle=member.circle)
    start = london()
    return task_book(
        member=member,
        caller=caller,
        category="gardening",
        title=title,
        window_start=start,
        window_end=start.replace(hour=12),
        estimated_minutes=60,
    ).task


def test_home_says_membership_tokens_and_requests_in_words(client: Client, personas: Personas):
    make_active(personas.alice, by=personas.otto, tokens=4)
    book(personas.alice, "Mow the lawn")
    client.force_login(personas.alice.user)

    words = text_of(client.get("/my/"))

    assert "Hello, Alice" in words
    assert "Your membership is paid until" in words
    assert "You have 3 hours (3 tokens) of help to spend." in words
    assert "1 hour (1 token) more is set aside for help you have asked for." in words
    assert "Mow the lawn" in words
    assert "Looking for a helper" in words
    assert "Ask for help" in words


def test_an_unpaid_member_is_told_how_to_pay_and_not_offered_asking(
    client: Client, personas: Personas
):
    client.force_login(personas.bob.user)
    response = client.get("/my/")
    words = text_of(response)
    assert "Your membership is not paid yet" in words
    assert (
        'href="/my/ask/"'
        not in response.content.decode().split("<main")[1].split("Your membership")[0]
    )


def test_finished_requests_leave_the_home_page(client: Client, personas: Personas):
    make_active(personas.alice, by=personas.otto, tokens=4)
    task = book(personas.alice, "Change a bulb")
    task_cancel(
        task=task,
        caller=caller_for(user=personas.alice.user, circle=personas.southwark),
        reason="No longer needed",
    )
    client.force_login(personas.alice.user)
    words = text_of(client.get("/my/"))
    assert "Change a bulb" not in words
    assert "Nothing at the moment." in words


def test_home_asks_the_database_a_fixed_number_of_times(
    client: Client, personas: Personas, django_assert_max_num_queries
):
    make_active(personas.alice, by=personas.otto, tokens=20)
    client.force_login(personas.alice.user)
    client.get("/my/")
    with django_assert_max_num_queries(12) as few:
        client.get("/my/")
    for n in range(8):
        book(personas.alice, f"Job {n}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/my/")
    assert "Job 7" in text_of(response)


def test_on_my_behalf_lists_what_staff_did_with_who_and_why(client: Client, personas: Personas):
    make_active(personas.alice, by=personas.otto, tokens=2)
    client.force_login(personas.alice.user)

    response = client.get("/my/on-my-behalf/")

    words = text_of(response)
    assert "Recorded a payment from you" in words
    assert "Otto Operator" in words


def test_on_my_behalf_leaves_out_what_the_member_did_themselves(client: Client, personas: Personas):
    make_active(personas.alice, by=personas.otto, tokens=2)
    book(personas.alice, "Fix the gate")
    client.force_login(personas.alice.user)
    words = text_of(client.get("/my/on-my-behalf/"))
    assert "Asked for help for you" not in words


def test_a_member_of_two_circles_chooses_which_to_see(client: Client, personas: Personas):
    MemberFactory(circle=personas.suffolk, user=personas.alice.user, roles=[RoleName.MEMBER])
    client.force_login(personas.alice.user)
    assert "Switch to your other circle" in text_of(client.get("/my/"))
    choose = client.get("/my/circle/")
    assert "Suffolk Circle" in text_of(choose)
    suffolk_member = Member.objects.get(user__email="alice@example.org", circle=personas.suffolk)
    client.post("/my/circle/", {"member_id": suffolk_member.pk})
    home = client.get("/my/")
    assert "Suffolk Circle" in text_of(home)
    # Another person's member id is ignored.
    client.post("/my/circle/", {"member_id": personas.bob.pk})
    assert "Suffolk Circle" in text_of(client.get("/my/"))


def test_a_helper_taking_the_task_is_not_done_on_the_members_behalf(
    client: Client, personas: Personas
):
    from matching.services import task_accept
    from tests.matching.conftest import new_helper

    make_active(personas.alice, by=personas.otto, tokens=2)
    task = book(personas.alice, "Weed the border")
    gill = new_helper(personas, "Gill", skills=["gardening"])
    task_accept(
        task=task,
        helper=gill,
        caller=caller_for(user=gill.member.user, circle=personas.southwark),
    )
    client.force_login(personas.alice.user)
    words = text_of(client.get("/my/on-my-behalf/"))
    assert "Gill" not in words
    assert "Otto Operator" in words
