"""A member's tokens and statement on the pages: plain words, newest first, 25 lines a page,
printable."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from django.test import Client

from matching.services import task_book
from members.selectors import caller_for
from tests.conftest import Personas
from tests.matching.conftest import give_tokens, london, make_active
from tests.web.pages import text_of
from tokens.services import transfer_create

pytestmark = pytest.mark.django_db


def rows_of(response: Any) -> list[str]:
    """The statement's rows, each as its words."""
    body = re.search(
        r'<tbody class="govuk-table__body">(.*?)</tbody>', response.content.decode(), re.S
    )
    if body is None:
        return []
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", body.group(1), re.S)
    return [
        re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", row))).strip() for row in rows
    ]


@pytest.fixture
def world(personas: Personas) -> Personas:
    make_active(personas.alice, by=personas.otto, tokens=5)
    make_active(personas.bob, by=personas.otto, tokens=2)
    make_active(personas.sam, by=personas.clara, tokens=3)
    for who in (personas.alice, personas.bob, personas.sam):
        who.refresh_from_db()
    return personas


@pytest.fixture
def alice(client: Client, world: Personas) -> Client:
    client.force_login(world.alice.user)
    return client


def test_tokens_page_says_what_she_has_to_spend_in_plain_words(alice: Client) -> None:
    response = alice.get("/my/tokens/")
    assert response.status_code == 200
    words = text_of(response)
    assert "Your tokens" in words
    assert "You have 5 hours (5 tokens) to spend." in words
    assert "One token is 1 hour of help." in words
    assert "set aside" not in words
    assert rows_of(response)[0].endswith("Tokens bought In: 5 hours (5 tokens) 5 hours (5 tokens)")
    page = response.content.decode()
    assert "Your statement, newest first" in page
    for header in ("Date", "What", "In or out", "Balance after"):
        assert f'<th scope="col" class="govuk-table__header">{header}</th>' in page
    assert 'href="/my/pay/tokens/"' in page


def test_tokens_set_aside_for_a_request_are_shown_apart(alice: Client, world: Personas) -> None:
    task_book(
        member=world.alice,
        caller=caller_for(user=world.alice.user, circle=world.southwark),
        category="gardening",
        title="Trim the hedge",
        window_start=london(hour=10),
        window_end=london(hour=12),
        estimated_minutes=90,
    )
    response = alice.get("/my/tokens/")
    words = text_of(response)
    assert "You have 3 hours 30 minutes (3.5 tokens) to spend." in words
    assert "1 hour 30 minutes (1.5 tokens) more is set aside for help you have asked for." in words
    assert "In all, you have 5 hours (5 tokens)." in words
    newest = rows_of(response)[0]
    assert "Held for 'Trim the hedge' on" in newest
    assert newest.endswith("Out: 1 hour 30 minutes (1.5 tokens) 3 hours 30 minutes (3.5 tokens)")


def test_the_print_button_is_added_by_a_script_so_it_is_not_there_without_one(
    alice: Client,
) -> None:
    page = alice.get("/my/tokens/").content.decode()
    assert '<script type="module" src="/static/web/print.js"></script>' in page
    # Held in a <template>, which shows nothing until print.js puts the button in the page.
    template = re.search(r"<template data-circle-print>(.*?)</template>", page, re.S)
    assert template is not None
    assert "Print this page" in template.group(1)
    assert "<script>" not in page  # no inline script: the CSP forbids it


def test_the_statement_is_newest_first_25_a_page(alice: Client, world: Personas) -> None:
    for n in range(59):
        give_tokens(world.alice, minutes=30, key=f"page-{n}")
    # 60 lines: the membership tokens, then 59 half hours; 34 hours 30 minutes in all.
    first = alice.get("/my/tokens/")
    rows = rows_of(first)
    assert len(rows) == 25
    assert rows[0].endswith("In: 30 minutes (0.5 tokens) 34 hours 30 minutes (34.5 tokens)")
    assert rows[1].endswith("34 hours (34 tokens)")
    words = text_of(first)
    assert "Page 1 of 3" in words
    assert 'href="?page=2"' in first.content.decode()
    second = rows_of(alice.get("/my/tokens/?page=2"))
    assert second[0].endswith("22 hours (22 tokens)")
    last = alice.get("/my/tokens/?page=3")
    rows = rows_of(last)
    assert len(rows) == 10
    assert rows[-1].endswith("Tokens bought In: 5 hours (5 tokens) 5 hours (5 tokens)")
    assert "Newer" in text_of(last)
    assert "Older" not in text_of(last)
    # A page past the end is the last page; nonsense is the first.
    assert rows_of(alice.get("/my/tokens/?page=99")) == rows
    assert rows_of(alice.get("/my/tokens/?page=abc"))[0] == rows_of(first)[0]


def test_a_member_without_a_wallet_yet_is_told_nothing_has_happened(
    client: Client, personas: Personas
) -> None:
    client.force_login(personas.bob.user)
    response = client.get("/my/tokens/")
    words = text_of(response)
    assert "You have no tokens to spend at the moment." in words
    assert "Nothing yet. When you buy tokens or ask for help, it will show here." in words


def test_each_member_sees_only_their_own_tokens(client: Client, world: Personas) -> None:
    client.force_login(world.bob.user)
    words = text_of(client.get("/my/tokens/"))
    assert "You have 2 hours (2 tokens) to spend." in words
    assert "5 hours" not in words
    client.force_login(world.sam.user)
    words = text_of(client.get("/my/tokens/"))
    assert "You have 3 hours (3 tokens) to spend." in words
    assert "Southwark" not in words


def test_signed_out_person_is_sent_to_sign_in(client: Client, world: Personas) -> None:
    response = client.get("/my/tokens/")
    assert response.status_code == 302
    assert response["Location"].startswith("/sign-in/")


@pytest.mark.parametrize("lines", [1, 300])
def test_the_statement_reads_a_fixed_number_of_queries_whatever_its_length(
    alice: Client, world: Personas, lines: int, django_assert_max_num_queries: Any
) -> None:
    for n in range(lines - 1):
        give_tokens(world.alice, minutes=30, key=f"many-{n}")
    last = -(-lines // 25)
    for page in (1, last):
        with django_assert_max_num_queries(11):
            assert alice.get(f"/my/tokens/?page={page}").status_code == 200


def test_the_statement_says_why_staff_moved_her_tokens(alice: Client, world: Personas) -> None:
    transfer_create(
        source=world.alice,
        destination=world.bob,
        minutes=60,
        memo="For the lift",
        actor=world.otto.user,
        idempotency_key="staff-gift",
        reason="Alice rang and asked us to",
    )

    newest = rows_of(alice.get("/my/tokens/"))[0]

    assert "For the lift (moved by staff: Alice rang and asked us to)" in newest
