"""The caller's card in the operators' console: who the caller is, their membership, tokens,
requests, follow-ups and what staff did for them, on one page; and changing their contact
details with the call reference."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from attention.models import Item, ItemKind
from matching.models import TaskStatus
from matching.services import task_book
from members.models import AuditEvent, Member
from members.selectors import caller_for
from tests.conftest import Personas
from tests.matching.conftest import london, make_active, vet
from tests.matching.tasks_factory import make_task
from tests.web.pages import text_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(personas: Personas) -> Personas:
    """Alice active with 5 tokens; Hana vetted; Sam active in Suffolk."""
    make_active(personas.alice, by=personas.otto, tokens=5, reference="CASH-1")
    make_active(personas.sam, by=personas.clara, tokens=1)
    vet(personas.hana_helper, by=personas.cora)
    for who in (personas.alice, personas.sam, personas.hana_helper):
        who.refresh_from_db()
    return personas


@pytest.fixture
def otto(client: Client, world: Personas) -> Client:
    client.force_login(world.otto.user)
    return client


def card_url(member: Member, slug: str = "southwark") -> str:
    return f"/console/{slug}/members/{member.pk}/"


def book_hedge(world: Personas) -> Any:
    return task_book(
        member=world.alice,
        caller=caller_for(user=world.otto.user, circle=world.southwark),
        category="gardening",
        title="Trim the hedge",
        window_start=london(hour=10),
        window_end=london(hour=12),
        estimated_minutes=90,
        call_reference="CALL-77",
    ).task


# --- Who may see it ---------------------------------------------------------------------------


def test_signed_out_person_is_sent_to_sign_in(client: Client, world: Personas) -> None:
    response = client.get(card_url(world.alice))
    assert response.status_code == 302
    assert response["Location"].startswith("/sign-in/")


@pytest.mark.parametrize("who", ["alice", "bob", "hana"])
def test_members_and_helpers_are_told_it_is_for_staff(
    client: Client, world: Personas, who: str
) -> None:
    client.force_login(getattr(world, who).user)
    for path in ("", "details/", "book/"):
        response = client.get(card_url(world.alice) + path)
        assert response.status_code == 403
        assert "Alice Archer" not in text_of(response)


def test_another_circles_member_is_page_not_found(otto: Client, world: Personas) -> None:
    for path in ("", "details/", "book/"):
        response = otto.get(card_url(world.sam) + path)
        assert response.status_code == 404
        assert "Sam Smith" not in text_of(response)


def test_another_circles_staff_cannot_open_southwarks_console(
    client: Client, world: Personas
) -> None:
    client.force_login(world.clara.user)
    assert client.get(card_url(world.alice)).status_code == 404
    # Nor Southwark's member through Suffolk's console.
    assert client.get(card_url(world.alice, "suffolk")).status_code == 404


def test_an_unknown_member_is_page_not_found(otto: Client) -> None:
    assert otto.get("/console/southwark/members/999999/").status_code == 404


def test_a_coordinator_sees_the_card_too(client: Client, world: Personas) -> None:
    client.force_login(world.cora.user)
    assert client.get(card_url(world.alice)).status_code == 200


# --- What it shows ----------------------------------------------------------------------------


def test_the_card_shows_who_the_caller_is_and_how_to_reach_them(
    otto: Client, world: Personas
) -> None:
    response = otto.get(card_url(world.alice))
    assert response.status_code == 200
    words = text_of(response)
    born = world.alice.date_of_birth
    assert born is not None
    assert "Alice Archer" in words
    assert f"Age 70 (born {born:%A} {born.day} {born:%B} {born.year})" in words
    assert f"Address {world.alice.address_line1} SE1 2AA" in words
    assert "Phone 07700 900001" in words
    assert "Email alice@example.org" in words
    assert 'href="tel:+447700900001"' in response.content.decode()


def test_the_card_shows_membership_until_when_and_tokens(otto: Client, world: Personas) -> None:
    book_hedge(world)
    words = text_of(otto.get(card_url(world.alice)))
    assert "Membership Active Paid until" in words
    assert "Tokens available 3 hours 30 minutes (3.5 tokens)" in words
    assert "Set aside 1 hour 30 minutes (1.5 tokens), for requests below" in words


def test_a_lapsed_member_has_no_book_button(otto: Client, world: Personas) -> None:
    Member.objects.filter(pk=world.alice.pk).update(membership_status="lapsed")
    response = otto.get(card_url(world.alice))
    words = text_of(response)
    assert "Lapsed" in words
    assert "Cannot ask for help until it is paid." in words
    assert "Book help" not in words
    assert "Record a payment" in words


def test_the_card_links_to_every_action(otto: Client, world: Personas) -> None:
    page = otto.get(card_url(world.alice)).content.decode()
    base = card_url(world.alice)
    for href in ("book/", "payments/new/", "pay-link/", "details/"):
        assert f'href="{base}{href}"' in page
    words = text_of(otto.get(card_url(world.alice)))
    for text in ("Book help", "Record a payment", "Send a card payment link"):
        assert text in words


def test_open_requests_show_their_helper_window_and_actions(otto: Client, world: Personas) -> None:
    task = book_hedge(world)
    done = make_task(member=world.alice, status=TaskStatus.COMPLETED, helper=world.hana_helper)
    settled = make_task(member=world.alice, status=TaskStatus.SETTLED, helper=world.hana_helper)
    response = otto.get(card_url(world.alice))
    words = text_of(response)
    page = response.content.decode()
    day = london(hour=10)
    assert (
        f"Trim the hedge Gardening, 1 hour 30 minutes {day:%A} {day.day} {day:%B}, 10am to 12pm"
        in words
    )
    assert "Looking for a helper" in words
    assert "Done: please confirm" in words
    assert f"{card_url(world.alice)}requests/{task.pk}/cancel/" in page
    assert f"{card_url(world.alice)}requests/{done.pk}/confirm/" in page
    assert f"requests/{done.pk}/cancel/" not in page
    # A settled task is not in progress.
    assert done.title in words
    assert settled.title not in words
    assert "Hughes" not in words


def test_recent_actions_done_for_them_show_who_and_the_call(otto: Client, world: Personas) -> None:
    book_hedge(world)
    words = text_of(otto.get(card_url(world.alice)))
    assert "Recently done for them by staff" in words
    assert "Booked help Otto Operator Call CALL-77" in words
    assert "Recorded a payment Otto Operator" in words


def test_follow_ups_for_the_member_are_on_the_card(otto: Client, world: Personas) -> None:
    Item.objects.create(
        circle=world.southwark, member=world.alice, kind=ItemKind.RENEWAL_FAILED, note="Card"
    )
    Item.objects.create(circle=world.southwark, member=world.bob, kind=ItemKind.LAPSED)
    words = text_of(otto.get(card_url(world.alice)))
    assert "Card renewal failed , since" in words  # (the kind is in bold)
    assert "Membership lapsed" not in words


def test_nothing_to_show_says_so(client: Client, world: Personas) -> None:
    client.force_login(world.otto.user)
    words = text_of(client.get(card_url(world.bob)))
    assert "No requests in progress." in words
    assert "Nothing is waiting on staff for this member." in words
    assert "Not paid yet" in words


@pytest.mark.parametrize("more", [0, 12])
def test_the_card_reads_a_fixed_number_of_queries(
    otto: Client, world: Personas, more: int, django_assert_max_num_queries: Any
) -> None:
    for n in range(more):
        make_task(
            member=world.alice,
            status=TaskStatus.COMPLETED if n % 2 else TaskStatus.ACCEPTED,
            helper=world.hana_helper,
        )
        Item.objects.create(circle=world.southwark, member=world.alice, kind=ItemKind.LAPSED)
    book_hedge(world)
    # 12: the card's trusted persons are one query more, whatever their number.
    with django_assert_max_num_queries(12):
        assert otto.get(card_url(world.alice)).status_code == 200


# --- Contact details --------------------------------------------------------------------------


def details(**changes: str) -> dict[str, str]:
    body = {
        "call_reference": "CALL-9",
        "phone": "020 7946 0018",
        "email": "alice@example.org",
        "address_line1": "1 Borough Road",
        "postcode": "SE1 2AA",
    }
    body.update(changes)
    return body


def test_the_details_page_is_filled_with_what_we_hold(otto: Client, world: Personas) -> None:
    response = otto.get(card_url(world.alice) + "details/")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'value="07700 900001"' in page
    assert 'value="alice@example.org"' in page
    assert 'value="SE1 2AA"' in page


def test_changing_a_phone_number_is_audited_with_the_call(otto: Client, world: Personas) -> None:
    response = otto.post(
        card_url(world.alice) + "details/", details(address_line1=world.alice.address_line1)
    )
    assert response.status_code == 302
    assert response["Location"] == card_url(world.alice)
    world.alice.refresh_from_db()
    assert world.alice.phone == "+442079460018"
    event = AuditEvent.objects.get(action="member.details_changed")
    assert event.member == world.alice
    assert event.actor == world.otto.user
    assert event.call_reference == "CALL-9"
    assert event.data == {"fields": ["phone"]}
    words = text_of(otto.get(card_url(world.alice)))
    assert "Alice Archer's contact details are saved." in words
    assert "Phone 020 7946 0018" in words
    assert "Changed contact details Otto Operator Call CALL-9" in words


def test_the_call_reference_is_offered_again_for_the_same_caller(
    otto: Client, world: Personas
) -> None:
    otto.post(card_url(world.alice) + "details/", details(address_line1=world.alice.address_line1))
    assert 'value="CALL-9"' in otto.get(card_url(world.alice) + "details/").content.decode()
    assert 'value="CALL-9"' not in otto.get(card_url(world.bob) + "details/").content.decode()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"call_reference": ""}, "Enter the call reference, or the date and time of the call."),
        ({"phone": "12"}, "Enter a UK phone number we can call"),
        ({"postcode": "IP4 1AA"}, "That postcode is outside the area this circle covers."),
        ({"email": "bob@example.org"}, "That email address is already in use."),
        ({"email": "not an email"}, "Enter an email address in the right form"),
        ({"email": ""}, "Enter an email address."),
    ],
)
def test_bad_details_are_refused_and_nothing_is_written(
    otto: Client, world: Personas, changes: dict[str, str], message: str
) -> None:
    before = AuditEvent.objects.count()
    response = otto.post(card_url(world.alice) + "details/", details(**changes))
    assert response.status_code == 200
    words = text_of(response)
    assert words.startswith("Error:")
    assert "There is a problem" in words
    assert message in words
    assert AuditEvent.objects.count() == before
    world.alice.refresh_from_db()
    assert world.alice.phone == "+447700900001"


def test_a_member_without_a_login_may_have_no_email(otto: Client, world: Personas) -> None:
    Member.objects.filter(pk=world.bob.pk).update(user=None)
    response = otto.post(
        card_url(world.bob) + "details/",
        details(email="", postcode="SE5 8AB", address_line1="2 Camberwell Road"),
    )
    assert response.status_code == 302
    world.bob.refresh_from_db()
    assert world.bob.email is None
    assert world.bob.address_line1 == "2 Camberwell Road"


def test_other_circles_details_cannot_be_changed(otto: Client, world: Personas) -> None:
    response = otto.post(card_url(world.sam) + "details/", details(postcode="IP4 1AA"))
    assert response.status_code == 404
    world.sam.refresh_from_db()
    assert world.sam.phone != "+442079460018"


def test_the_member_sees_the_change_on_their_on_my_behalf_page(
    client: Client, world: Personas
) -> None:
    client.force_login(world.otto.user)
    client.post(
        card_url(world.alice) + "details/", details(address_line1=world.alice.address_line1)
    )
    client.force_login(world.alice.user)
    words = text_of(client.get("/my/on-my-behalf/"))
    assert "Changed your contact details Otto Operator Call CALL-9" in words


def test_the_ledgers_own_rows_for_a_booking_are_not_listed_twice(
    otto: Client, world: Personas
) -> None:
    book_hedge(world)
    assert AuditEvent.objects.filter(action="tokens.held", member=world.alice).exists()
    words = text_of(otto.get(card_url(world.alice)))
    assert words.count("Booked help") == 1
    assert "tokens.held" not in words
    assert "Set tokens aside" not in words
