"""What Circle holds about a person, on the pages (UK GDPR right of access): the member's
/my/data/ and its JSON file, and the same for staff from the caller's card. Every reading
is audited; safeguarding concerns never show; the queries do not grow with the history."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from attention.models import ItemKind
from attention.services import item_raise
from members.models import AuditEvent, RoleName
from members.services import role_grant
from messaging.models import Sms
from tests.conftest import Personas
from tests.matching.conftest import give_tokens, make_active, vet
from tests.web.pages import text_of

pytestmark = pytest.mark.django_db


def console_url(p: Personas, what: str = "") -> str:
    return f"/console/southwark/members/{p.alice.pk}/data/{what}"


def add_rows(p: Personas, n: int, tag: str) -> None:
    for i in range(n):
        give_tokens(p.alice, minutes=60, key=f"{tag}-{i}")
        item_raise(member=p.alice, kind=ItemKind.GRACE, cause=f"{tag}-{i}", note=f"Ring {tag}{i}")
        Sms.objects.create(
            circle=p.alice.circle,
            member=p.alice,
            to=p.alice.phone,
            body=f"Hi {tag}{i}",
            provider="t",
        )


@pytest.fixture
def world(personas: Personas) -> Personas:
    make_active(personas.alice, by=personas.otto, tokens=3, reference="CASH-12")
    add_rows(personas, 1, "a")
    return personas


def sign_in(client: Client, who: Any) -> Client:
    client.force_login(who.user)
    return client


def test_member_reads_what_we_hold_in_plain_words(client: Client, world: Personas) -> None:
    response = sign_in(client, world.alice).get("/my/data/")

    assert response.status_code == 200
    words = text_of(response)
    assert "What we hold about you" in words
    assert "Alice Archer" in words
    for heading in (
        "Contact details and membership",
        "Payments",
        "Tokens",
        "Help asked for",
        "Messages sent",
        "Things staff followed up",
        "Record of what was done",
    ):
        assert heading in words
    assert "CASH-12" in words
    assert "Hi a0" in words
    assert "Ring a0" in words
    assert "Download as a file (JSON)" in words
    assert "/my/data/download/" in response.content.decode()
    assert "As a helper" not in words
    # The record says what was done in words, and who did it.
    assert "Recorded a payment" in words
    assert "Otto Operator" in words
    assert "followup.queued" not in words
    event = AuditEvent.objects.get(action="data.exported")
    assert (event.member, event.actor, event.data["how"]) == (
        world.alice,
        world.alice.user,
        "page",
    )


def test_member_downloads_the_file(client: Client, world: Personas) -> None:
    response = sign_in(client, world.alice).get("/my/data/download/")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response["Content-Disposition"] == (
        f'attachment; filename="circle-data-{world.alice.pk}.json"'
    )
    body = json.loads(response.content)
    assert body["member"]["full_name"] == "Alice Archer"
    assert body["payments"]["payments"][0]["reference"] == "CASH-12"
    assert AuditEvent.objects.get(action="data.exported").data["how"] == "file"


def test_a_helper_who_asks_for_help_too_sees_her_checks(client: Client, personas: Personas) -> None:
    # (A helper who is not a member has no /my/ pages: she reads hers through the API.)
    role_grant(member=personas.hana, role=RoleName.MEMBER)
    vet(personas.hana_helper, by=personas.cora)

    words = text_of(sign_in(client, personas.hana).get("/my/data/"))

    assert "As a helper" in words
    assert "Certificate 001234567890" in words


def test_safeguarding_concerns_never_show(client: Client, world: Personas) -> None:
    item_raise(member=world.alice, kind=ItemKind.SAFEGUARDING, cause="s", note="Bruising seen")

    page = sign_in(client, world.alice).get("/my/data/").content.decode()
    # (Every page's footer offers "Raise a safeguarding concern": the item's kind is not shown.)
    assert "Bruising" not in page
    assert "Safeguarding" not in page
    download = client.get("/my/data/download/").content.decode()
    assert "Bruising" not in download
    assert "afeguarding" not in download


def test_home_and_details_link_to_it(client: Client, world: Personas) -> None:
    sign_in(client, world.alice)
    for url in ("/my/", "/my/details/"):
        assert 'href="/my/data/"' in client.get(url).content.decode()


def test_anonymous_is_sent_to_sign_in(client: Client, world: Personas) -> None:
    response = client.get("/my/data/")
    assert response.status_code == 302
    assert "/my/data/" in response["Location"]


@pytest.mark.parametrize("who", ["cora", "otto"])
def test_staff_read_a_callers_data_from_the_card(client: Client, world: Personas, who: str) -> None:
    staff = getattr(world, who)
    sign_in(client, staff)
    card = client.get(f"/console/southwark/members/{world.alice.pk}/")
    assert f'href="{console_url(world)}"' in card.content.decode()

    response = client.get(console_url(world))

    assert response.status_code == 200
    words = text_of(response)
    assert "What we hold about Alice Archer" in words
    assert "CASH-12" in words
    event = AuditEvent.objects.get(action="data.exported")
    assert (event.member, event.actor) == (world.alice, staff.user)

    download = client.get(console_url(world, "download/"))
    assert download["Content-Disposition"] == (
        f'attachment; filename="circle-data-{world.alice.pk}.json"'
    )
    assert json.loads(download.content)["member"]["id"] == world.alice.pk


def test_a_member_cannot_use_the_console_copy(client: Client, world: Personas) -> None:
    response = sign_in(client, world.bob).get(console_url(world))
    assert response.status_code == 403
    assert not AuditEvent.objects.filter(action="data.exported").exists()


def test_another_circles_coordinator_gets_not_found(client: Client, world: Personas) -> None:
    sign_in(client, world.clara)
    assert client.get(console_url(world)).status_code == 404
    assert client.get(f"/console/suffolk/members/{world.alice.pk}/data/").status_code == 404
    assert not AuditEvent.objects.filter(action="data.exported").exists()


def _count(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize(("who", "url"), [("alice", "/my/data/"), ("cora", "console")])
def test_queries_do_not_grow_with_history(
    client: Client, world: Personas, who: str, url: str
) -> None:
    sign_in(client, getattr(world, who))
    address = console_url(world) if url == "console" else url
    few = _count(client, address)

    add_rows(world, 8, "b")
    many = _count(client, address)

    assert few == many
    assert "Hi b7" in text_of(client.get(address))
