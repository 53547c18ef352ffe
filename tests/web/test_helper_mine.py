"""A helper's own tasks: coming up by date, waiting for the member's confirmation, finished,
and the tokens a volunteer has earned."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from helpers.models import HelperKind
from matching.models import TaskStatus
from tests.conftest import Personas
from tests.matching.conftest import give_tokens, new_helper
from tests.web import helper_world
from tests.web.helper_world import book, take
from tests.web.pages import text_of

pytestmark = pytest.mark.django_db

# The shared fixtures (tests/web/helper_world.py).
hana = helper_world.hana
world = helper_world.world


def test_mine_lists_coming_waiting_and_finished_and_the_tokens_earned(
    hana: Client, world: Personas
) -> None:
    later = take(book(world.alice, title="Paint the gate", days=3), world, status="accepted")
    sooner = take(book(world.bob, title="Weed the beds", minutes=60), world, status="accepted")
    waiting = take(
        book(world.alice, title="Fix the shelf", days=2, minutes=60), world, status="completed"
    )
    done = take(
        book(world.alice, title="Mow the lawn", days=4, minutes=60),
        world,
        status="settled",
        minutes=40,
    )
    book(world.alice, title="Still open", minutes=30)

    response = hana.get("/helper/mine/")

    assert response.status_code == 200
    words = text_of(response)
    html = response.content.decode()
    assert "Tokens earned You have earned 1 hour (1 token) by helping." in words
    coming_at = words.index("Coming up")
    waiting_at = words.index("Waiting for the member to confirm")
    finished_at = words.index("Finished", waiting_at + 10)
    assert coming_at < words.index("Weed the beds") < words.index("Paint the gate") < waiting_at
    assert waiting_at < words.index("Fix the shelf") < finished_at
    assert finished_at < words.index("Mow the lawn")
    assert "Still open" not in words
    for task in (later, sooner, waiting, done):
        assert f'href="/helper/tasks/{task.pk}/"' in html
    assert "Bob, SE5" in words


def test_a_helper_with_nothing_yet(hana: Client, world: Personas) -> None:
    words = text_of(hana.get("/helper/mine/"))
    assert "You have not earned any tokens yet." in words
    assert "Nothing at the moment." in words
    assert "Nothing waiting." in words
    assert "None yet." in words


def test_a_paid_helper_sees_no_tokens_earned(client: Client, world: Personas) -> None:
    paid = new_helper(world, "Pat", kind=HelperKind.PAID)
    client.force_login(paid.member.user)
    words = text_of(client.get("/helper/mine/"))
    assert "Tokens earned" not in words
    assert "You have earned" not in words


def test_mine_asks_the_database_a_fixed_number_of_times(
    hana: Client, world: Personas, django_assert_max_num_queries: Any
) -> None:
    take(book(world.alice, title="One"), world, status=TaskStatus.SETTLED)
    with django_assert_max_num_queries(20) as one:
        hana.get("/helper/mine/")
    give_tokens(world.alice, minutes=600)
    for day in range(2, 6):
        take(book(world.alice, title=f"Job {day}", days=day), world, status=TaskStatus.SETTLED)
        take(book(world.bob, title=f"Bob {day}", days=day, minutes=30), world, status="accepted")
    with django_assert_max_num_queries(len(one.captured_queries)):
        response = hana.get("/helper/mine/")
    assert "Job 5" in text_of(response)
    assert "Bob 5" in text_of(response)
