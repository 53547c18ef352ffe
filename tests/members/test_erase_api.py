"""POST /api/v1/members/{id}/erase/: a coordinator erases a member's personal data (UK GDPR
right to erasure). The member's rows stay, pseudonymised; the ledger still balances; their
words are nowhere; and it is refused plainly while it cannot be done yet."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from attention.models import ItemKind
from attention.services import concern_raise, item_raise
from helpers.models import VettingCheck
from matching.models import Feedback, Task
from members.models import AuditEvent, ClaimChannel, ClaimLink, ClaimPurpose, Member
from members.selectors import MEMBER_ERASED, caller_for
from members.services import audit_record
from messaging.models import Sms
from payments.models import StripeEvent
from payments.services.events import stripe_event_receive
from tests.conftest import Personas
from tests.erasure_search import rows_quoting
from tests.factories import body_with
from tests.matching.conftest import book, london, make_active, task_url, vet
from tokens.models import MemoRedaction
from tokens.selectors import ledger_audit
from tokens.services import transfer_create

ClientFor = Callable[[Any], APIClient]

NAME = "Marguerite Quillfeather"
EMAIL = "marguerite.quillfeather@example.org"
PHONE = "+447700900777"
ADDRESS = "12 Oddingley Lane"
TITLE = "Mend Marguerite's greenhouse door"


@pytest.fixture(autouse=True)
def sms_outbox(settings: Any) -> None:
    settings.SMS_BACKEND = "circle.sms.LocmemBackend"


@pytest.fixture
def world(personas: Personas) -> Personas:
    """Alice and Bob active with tokens, Hana vetted (tests/matching/conftest.py's world)."""
    make_active(personas.alice, by=personas.otto, tokens=5)
    make_active(personas.bob, by=personas.otto, tokens=2)
    vet(personas.hana_helper, by=personas.cora)
    for who in (personas.alice, personas.bob):
        who.refresh_from_db()
    return personas


@pytest.fixture
def task_body() -> Callable[..., dict[str, Any]]:
    def make(**changes: Any) -> dict[str, Any]:
        body = {
            "category": "gardening",
            "title": "Trim the hedge",
            "details": "The front hedge.",
            "window_start": london(hour=10).isoformat(),
            "window_end": london(hour=12).isoformat(),
            "estimated_minutes": 90,
        }
        return body_with(body, **changes)

    return make


def erase_url(member_id: int) -> str:
    return f"/api/v1/members/{member_id}/erase/"


def erase(client: APIClient, member: Member, reason: str = "She asked us by letter") -> Any:
    return client.post(erase_url(member.pk), {"reason": reason}, format="json")


@pytest.fixture
def marguerite(world: Personas, client_for: ClientFor, task_body: Callable[..., Any]) -> Member:
    """Alice, renamed to someone findable, with a history: a request done by Hana and one
    cancelled (titled with her name), feedback, a gift from Bob whose memo names her, text
    messages, queue items, audit reasons quoting her, a Stripe event, sign-in attempts, a
    session and an API token."""
    alice = world.alice
    Member.objects.filter(pk=alice.pk).update(
        full_name=NAME, email=EMAIL, phone=PHONE, address_line1=ADDRESS
    )
    assert alice.user is not None
    alice.user.email = EMAIL
    alice.user.full_name = NAME
    alice.user.save()
    alice.refresh_from_db()
    her, hana = client_for(alice), client_for(world.hana)

    done = book(her, task_body(title=TITLE, details=f"Ring {PHONE} first; {ADDRESS}"))
    assert hana.post(task_url(done["id"], "accept")).status_code == 200
    assert (
        hana.post(task_url(done["id"], "complete"), {"minutes": 60}, format="json").status_code
        == 200
    )
    confirmed = her.post(
        task_url(done["id"], "confirm"),
        {"feedback": {"rating": 5, "comment": "Marguerite says thank you"}},
        format="json",
    )
    assert confirmed.status_code == 200, confirmed.json()
    cancelled = book(her, task_body(title=f"Lift for {NAME}"))
    assert (
        her.post(
            task_url(cancelled["id"], "cancel"), {"reason": "Feeling unwell"}, format="json"
        ).status_code
        == 200
    )

    # A memo written by a person, quoting her (the ledger never changes it).
    transfer_create(
        source=world.bob,
        destination=alice,
        minutes=30,
        memo=f"For {NAME}'s birthday",
        actor=world.bob.user,
        idempotency_key="birthday",
    )
    Sms.objects.create(
        circle=alice.circle, member=alice, to=PHONE, body=f"Hello {NAME}", provider="t"
    )
    Sms.objects.create(
        circle=alice.circle,
        member=world.hana,
        to="+447700900003",
        body=f"New request: {TITLE}",
        provider="t",
    )
    item_raise(member=alice, kind=ItemKind.GRACE, cause="g-1", note=f"Ring {NAME} on {PHONE}")
    cora = caller_for(user=world.cora.user, circle=alice.circle)
    audit_record(
        circle=alice.circle,
        action="member.details_changed",
        caller=cora,
        member=alice,
        reason=f"{NAME} moved to {ADDRESS}",
        data={"postcode": alice.postcode, "email": EMAIL},
    )
    audit_record(
        circle=alice.circle,
        action="note",
        caller=cora,
        member=world.bob,
        reason=f"Bob is {NAME}'s neighbour",
    )
    # A Stripe event stored as it came, before events were stored scrubbed.
    StripeEvent.objects.create(
        event_id="evt_old",
        type="checkout.session.completed",
        payload={
            "id": "evt_old",
            "data": {
                "object": {
                    "id": "cs_old",
                    "amount_total": 1000,
                    "customer_details": {"email": EMAIL, "name": NAME, "phone": PHONE},
                    "metadata": {"circle_member_id": str(alice.pk), "circle": "southwark"},
                }
            },
        },
    )
    AccessAttempt.objects.create(
        username=EMAIL, ip_address="127.0.0.1", user_agent="t", failures_since_start=1
    )
    session = SessionStore()
    session["_auth_user_id"] = str(alice.user.pk)
    session.create()
    Token.objects.get_or_create(user=alice.user)
    return alice


def test_coordinator_erases_a_member_and_nothing_of_them_is_left(
    marguerite: Member, world: Personas, client_for: ClientFor
) -> None:
    user = marguerite.user
    assert user is not None
    assert rows_quoting(NAME), "the fixture holds her name somewhere to begin with"
    # A login that once had an authenticator app (a former operator's, say), and a link to set
    # a password never used.
    TOTPDevice.objects.create(user=user, name="Phone", confirmed=True)
    ClaimLink.objects.create(
        circle=marguerite.circle,
        member=marguerite,
        purpose=ClaimPurpose.RESET,
        channel=ClaimChannel.SMS,
        token_hash="0" * 64,
        expires_at=timezone.now() + timedelta(hours=72),
    )

    response = erase(client_for(world.cora), marguerite, reason=f"{NAME} asked by letter")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["id"] == marguerite.pk
    assert body["full_name"] == f"Former member {marguerite.pk}"
    assert body["erased_at"]
    # Nowhere, but in the one ledger row whose memo Bob typed with her name in it: ledger
    # rows never change, so its redaction stands in front of it for every reader.
    redacted = {
        f"tokens_transaction.memo #{tx}"
        for tx in MemoRedaction.objects.values_list("transaction_id", flat=True)
    }
    for words in (NAME, EMAIL, PHONE, ADDRESS, "07700 900777", "Quillfeather", TITLE, "greenhouse"):
        assert set(rows_quoting(words)) - redacted == set(), words

    member = Member.objects.get(pk=marguerite.pk)
    assert (member.email, member.phone, member.address_line1, member.postcode) == (None, "", "", "")
    assert member.date_of_birth is None
    assert member.latitude is None
    assert member.erased_at is not None
    user.refresh_from_db()
    assert not user.is_active
    assert not user.has_usable_password()
    assert user.full_name == ""
    assert (user.email, user.phone) == (None, None)
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert not ClaimLink.objects.filter(member=member).exists()
    assert not Token.objects.filter(user=user).exists()
    assert not Session.objects.exists()
    assert not AccessAttempt.objects.exists()

    # Rows stay: the tasks, the feedback's rating, the texts' record, the audit.
    tasks = Task.objects.filter(member=member).order_by("pk")
    assert [t.title for t in tasks] == [f"Request {t.pk}" for t in tasks]
    assert all(t.details == "" for t in tasks)
    feedback = Feedback.objects.get(task__member=member)
    assert (feedback.rating, feedback.comment) == (5, "")
    assert Sms.objects.filter(member=member).values_list("to", "body").get() == ("", "")
    # Her memo-quoting gift reads through a redaction; the ledger row itself is as written.
    redaction = MemoRedaction.objects.get()
    assert redaction.memo == "For [erased]'s birthday"
    assert redaction.transaction.memo == f"For {NAME}'s birthday"

    # The audit: what was done and why, never who.
    event = AuditEvent.objects.get(action=MEMBER_ERASED)
    assert event.member_id == member.pk
    assert event.actor_id == world.cora.user_id
    assert event.reason == "[erased] asked by letter"
    assert event.data["rows"]["tasks"] >= 2

    # The books still balance, by the command too.
    assert ledger_audit().ok
    call_command("ledger_audit")


def test_ledger_rows_are_never_changed_by_erasure(
    marguerite: Member, world: Personas, client_for: ClientFor
) -> None:
    from tokens.models import LedgerTransaction

    before = list(LedgerTransaction.objects.order_by("pk").values_list("pk", "memo"))
    assert erase(client_for(world.cora), marguerite).status_code == 200
    assert list(LedgerTransaction.objects.order_by("pk").values_list("pk", "memo")) == before


def test_statement_after_erasure_shows_no_words_of_the_task(
    marguerite: Member, world: Personas, client_for: ClientFor
) -> None:
    cora = client_for(world.cora)
    url = f"/api/v1/members/{marguerite.pk}/statement/"
    before = " ".join(line["description"] for line in cora.get(url).json()["results"])
    assert "Mend Marguerite" in before, "the title is read through the task"
    assert erase(cora, marguerite).status_code == 200

    after = [line["description"] for line in cora.get(url).json()["results"]]
    text = " ".join(after)
    assert "Marguerite" not in text
    assert "greenhouse" not in text
    assert "Quillfeather" not in text
    assert any(line.startswith("Held for 'Request ") for line in after), after
    # Bob's own statement, and the coordinators' transaction list, read through the redaction.
    bob = " ".join(
        line["description"]
        for line in client_for(world.bob)
        .get(f"/api/v1/members/{world.bob.pk}/statement/")
        .json()["results"]
    )
    assert "For [erased]'s birthday" in bob
    listed = cora.get("/api/v1/circles/southwark/ledger/transactions/").json()["results"]
    assert "Quillfeather" not in str(listed)


def test_new_memos_name_the_task_by_id_only(marguerite: Member) -> None:
    from tokens.models import LedgerTransaction

    memos = list(LedgerTransaction.objects.values_list("memo", flat=True))
    assert not [memo for memo in memos if "greenhouse" in memo or "Lift for" in memo]
    assert "Held for a request" in memos
    assert any(memo.startswith("Paid for request ") for memo in memos)
    assert any(memo.startswith("Back from request ") for memo in memos)


def test_stripe_events_are_stored_without_personal_details(personas: Personas) -> None:
    stripe_event_receive(
        event={
            "id": "evt_new",
            "type": "customer.updated",
            "data": {
                "object": {
                    "id": "cus_1",
                    "email": EMAIL,
                    "name": NAME,
                    "address": {"line1": ADDRESS},
                    "metadata": {"circle_member_id": "1"},
                }
            },
        }
    )
    stored = StripeEvent.objects.get(event_id="evt_new")
    obj = stored.payload["data"]["object"]
    assert (obj["id"], obj["email"], obj["name"], obj["address"]) == ("cus_1", None, None, None)
    assert obj["metadata"] == {"circle_member_id": "1"}


def test_a_helpers_vetting_keeps_only_what_the_law_asks(
    world: Personas, client_for: ClientFor
) -> None:
    hana = world.hana
    assert erase(client_for(world.cora), hana).status_code == 200
    check = VettingCheck.objects.get(helper__member=hana)
    assert check.dbs_certificate_number == ""
    assert check.certificate_erased_at is not None
    assert (check.dbs_level, check.original_seen_by, check.identity_checked) == (
        "basic",
        "Cora",
        True,
    )
    assert check.dbs_issue_date is not None
    helper = world.hana_helper
    helper.refresh_from_db()
    assert helper.paused
    assert helper.postcode == "SE15"


def test_refused_while_tokens_are_held(
    world: Personas, client_for: ClientFor, task_body: Callable[..., Any]
) -> None:
    book(client_for(world.alice), task_body(estimated_minutes=60))
    response = erase(client_for(world.cora), world.alice)
    assert response.status_code == 409
    assert response.json() == {
        "code": "tokens_held",
        "detail": "Alice still has 1 hour held for a request; cancel or finish it first.",
    }
    assert Member.objects.get(pk=world.alice.pk).erased_at is None
    assert not AuditEvent.objects.filter(action=MEMBER_ERASED).exists()


def test_refused_while_a_task_they_help_with_is_open(
    world: Personas, client_for: ClientFor, task_body: Callable[..., Any]
) -> None:
    task = book(client_for(world.alice), task_body())
    assert client_for(world.hana).post(task_url(task["id"], "accept")).status_code == 200
    response = erase(client_for(world.cora), world.hana)
    assert response.status_code == 409
    assert response.json()["code"] == "task_open"
    assert f"request {task['id']}" in response.json()["detail"]


def test_refused_while_a_concern_about_them_is_open(world: Personas, client_for: ClientFor) -> None:
    concern_raise(
        circle=world.southwark,
        caller=caller_for(user=world.hana.user, circle=world.southwark),
        what_happened="Bruising on her arm",
        danger_now=False,
        about_member_id=world.bob.pk,
    )
    response = erase(client_for(world.cora), world.bob)
    assert (response.status_code, response.json()["code"]) == (409, "concern_open")


def test_refused_twice(world: Personas, client_for: ClientFor) -> None:
    cora = client_for(world.cora)
    assert erase(cora, world.bob).status_code == 200
    again = erase(cora, world.bob)
    assert (again.status_code, again.json()["code"]) == (409, "already_erased")
    assert AuditEvent.objects.filter(action=MEMBER_ERASED).count() == 1


def test_staff_are_never_erased_themselves_included(world: Personas, client_for: ClientFor) -> None:
    cora = client_for(world.cora)
    for who in (world.otto, world.cora):
        response = erase(cora, who)
        assert (response.status_code, response.json()["code"]) == (409, "is_staff")


def test_operators_may_not_erase(world: Personas, client_for: ClientFor) -> None:
    response = erase(client_for(world.otto), world.bob)
    assert response.status_code == 403
    assert Member.objects.get(pk=world.bob.pk).erased_at is None


def test_members_may_not_erase_even_themselves(world: Personas, client_for: ClientFor) -> None:
    assert erase(client_for(world.bob), world.bob).status_code == 403


def test_another_circles_coordinator_finds_nothing(world: Personas, client_for: ClientFor) -> None:
    response = erase(client_for(world.clara), world.bob)
    assert (response.status_code, response.json()["code"]) == (404, "member_not_found")


def test_a_reason_is_required(world: Personas, client_for: ClientFor) -> None:
    response = client_for(world.cora).post(erase_url(world.bob.pk), {"reason": "  "}, format="json")
    assert response.status_code == 400
    assert Member.objects.get(pk=world.bob.pk).erased_at is None


def test_a_member_of_two_circles_keeps_their_login_for_the_other(
    world: Personas, client_for: ClientFor
) -> None:
    from tests.factories import MemberFactory

    other = MemberFactory(circle=world.suffolk, user=world.bob.user, roles=["member"])
    assert erase(client_for(world.cora), world.bob).status_code == 200
    bob = Member.objects.get(pk=world.bob.pk)
    assert bob.user_id is None
    other.refresh_from_db()
    assert other.user is not None
    assert other.user.is_active


def test_refused_while_a_card_still_renews_their_membership(
    world: Personas, client_for: ClientFor
) -> None:
    from payments.models import StripeSubscription

    subscription = StripeSubscription.objects.create(
        circle=world.southwark, member=world.bob, stripe_subscription_id="sub_1", status="active"
    )
    response = erase(client_for(world.cora), world.bob)
    assert response.status_code == 409
    assert response.json() == {
        "code": "card_renews",
        "detail": "Bob's membership still renews by card each year; cancel the card renewal first.",
    }
    # Once its renewal is cancelled (it ends with the paid year), erasure goes ahead.
    subscription.cancel_at_period_end = True
    subscription.save()
    assert erase(client_for(world.cora), world.bob).status_code == 200


def test_their_trusted_persons_stop_acting_for_them_and_they_for_others(
    world: Personas, client_for: ClientFor
) -> None:
    """Bob's daughter acted for him: erasing Bob ends her link (her acts stay, as hers), and
    the consent call's note that named Bob loses his name. Bob acted for Alice: that ends too."""
    from members.trusted_persons import trusted_person_add

    otto = caller_for(user=world.otto.user, circle=world.southwark)
    daughter = trusted_person_add(
        caller=otto,
        member=world.bob,
        full_name="Bea Baker",
        email="bea@example.net",
        scopes=["statement"],
        consent_reference="Bob Baker agreed on the call",
    )
    for_alice = trusted_person_add(
        caller=caller_for(user=world.alice.user, circle=world.southwark),
        member=world.alice,
        full_name="Bob Baker",
        email="bob@example.org",
        scopes=["statement"],
    )
    bea = client_for(daughter.user)
    assert bea.get(f"/api/v1/members/{world.bob.pk}/tokens/").status_code == 200

    assert erase(client_for(world.cora), world.bob).status_code == 200

    daughter.refresh_from_db()
    assert daughter.ended_at is not None
    assert "Bob Baker" not in daughter.consent_reference
    assert bea.get(f"/api/v1/members/{world.bob.pk}/tokens/").status_code == 404
    for_alice.refresh_from_db()
    assert for_alice.ended_at is not None
    assert for_alice.full_name == "[erased]"
