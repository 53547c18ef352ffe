"""Erasing a member's personal data from their caller's card (coordinators only): the page
says what is kept and what is wiped, asks why and for a confirmation, says plainly why it
cannot be done yet, and the card then shows "Former member <id>" and when."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from members.models import AuditEvent, Member
from members.selectors import MEMBER_ERASED, caller_for
from tests.conftest import Personas
from tests.matching.conftest import london, make_active
from tests.web.pages import text_of

pytestmark = pytest.mark.django_db


def url(member: Member, what: str = "erase/") -> str:
    return f"/console/{member.circle.slug}/members/{member.pk}/{what}"


def sign_in(client: Client, who: Any) -> Client:
    client.force_login(who.user)
    return client


def test_the_card_offers_erasure_to_coordinators_only(client: Client, personas: Personas) -> None:
    assert "Erase their data" in text_of(sign_in(client, personas.cora).get(url(personas.bob, "")))
    assert "Erase their data" not in text_of(
        sign_in(Client(), personas.otto).get(url(personas.bob, ""))
    )


def test_coordinator_erases_a_member_through_the_page(client: Client, personas: Personas) -> None:
    cora = sign_in(client, personas.cora)
    page = text_of(cora.get(url(personas.bob)))
    assert "What we wipe" in page
    assert "What we keep" in page
    assert "the law asks us to keep accounts for six years" in page

    response = cora.post(url(personas.bob), {"reason": "He asked by letter", "confirm": "on"})

    assert response.status_code == 302
    assert response["Location"] == url(personas.bob, "")
    card = text_of(cora.get(response["Location"]))
    assert f"Former member {personas.bob.pk}" in card
    assert "Their personal data was erased on" in card
    assert "Bob Baker" not in card
    assert "Erase their data" not in card
    assert AuditEvent.objects.get(action=MEMBER_ERASED).reason == "He asked by letter"


def test_a_reason_and_the_confirmation_are_required(client: Client, personas: Personas) -> None:
    response = sign_in(client, personas.cora).post(url(personas.bob), {"reason": ""})
    page = text_of(response)
    assert response.status_code == 200
    assert "There is a problem" in page
    assert "Say why you are erasing their data." in page
    assert "Tick the box to confirm you understand this cannot be undone." in page
    assert Member.objects.get(pk=personas.bob.pk).erased_at is None


def test_the_refusal_is_said_plainly(client: Client, personas: Personas) -> None:
    from matching.services import task_book

    make_active(personas.alice, by=personas.otto, tokens=2)
    personas.alice.refresh_from_db()
    task_book(
        member=personas.alice,
        caller=caller_for(user=personas.alice.user, circle=personas.southwark),
        category="gardening",
        title="Trim the hedge",
        details="",
        window_start=london(hour=10),
        window_end=london(hour=10) + timedelta(hours=1),
        estimated_minutes=60,
    )
    cora = sign_in(client, personas.cora)
    page = text_of(cora.get(url(personas.alice)))
    assert (
        "This cannot be done yet. Alice still has 1 hour held for a request; cancel or finish "
        "it first." in page
    )
    assert "Erase their personal data" not in page.replace("Erase this member's personal data", "")
    response = cora.post(url(personas.alice), {"reason": "Asked", "confirm": "on"})
    assert "Alice still has 1 hour held for a request" in text_of(response)
    assert Member.objects.get(pk=personas.alice.pk).erased_at is None


def test_operators_are_told_the_page_is_not_for_them(client: Client, personas: Personas) -> None:
    otto = sign_in(client, personas.otto)
    assert otto.get(url(personas.bob)).status_code == 403
    assert otto.post(url(personas.bob), {"reason": "x", "confirm": "on"}).status_code == 403
    assert Member.objects.get(pk=personas.bob.pk).erased_at is None


def test_another_circles_member_is_not_found(client: Client, personas: Personas) -> None:
    clara = sign_in(client, personas.clara)
    assert clara.get(f"/console/suffolk/members/{personas.bob.pk}/erase/").status_code == 404
    assert clara.get(url(personas.bob)).status_code == 404


def test_the_desk_lists_who_retention_will_erase_and_a_coordinator_holds_one_back(
    client: Client, personas: Personas
) -> None:
    from attention.models import Item, ItemKind
    from payments.services.retention import retention_run

    Member.objects.filter(pk=personas.bob.pk).update(
        created_at=timezone.now() - timedelta(days=7 * 365)
    )
    assert retention_run(report_only=True)["reported"] == 1
    item = Item.objects.get(kind=ItemKind.RETENTION_DUE)
    cora = sign_in(client, personas.cora)

    desk = text_of(cora.get("/coordinator/southwark/"))
    assert "Data due for erasure (lapsed for years)" in desk
    assert "Bob Baker" in desk
    page = text_of(cora.get(f"/coordinator/southwark/items/{item.pk}/"))
    assert "Their personal data will be erased on" in page
    assert "Resolving this holds them back" in page
    assert "Or erase their data now" in page

    response = cora.post(
        f"/coordinator/southwark/items/{item.pk}/resolve/",
        {"outcome": "Held back: a complaint of his is still open"},
    )
    assert response.status_code == 302
    counts = retention_run(now=timezone.now() + timedelta(days=60))
    assert (counts["held_back"], counts["erased"]) == (1, 0)
    assert Member.objects.get(pk=personas.bob.pk).erased_at is None
    assert AuditEvent.objects.filter(
        member=personas.bob, reason="Held back: a complaint of his is still open"
    ).exists()
