"""Gift links (payments/services/gifts.py): who may make one, what it carries, and a gift's
Checkout on the local Stripe, credited once by the webhook with the giver's name on the
member's statement."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core import mail, signing
from django.utils import timezone

from circle.errors import Forbidden, InvalidInput
from members.models import AuditEvent, Member
from members.selectors import caller_for
from messaging.models import Sms
from payments.models import CheckoutSession, Payment
from payments.services import tokens_checkout_create
from payments.services.gifts import (
    GIFT_LINK_SALT,
    GiftLinkExpired,
    GiftLinkInvalid,
    gift_checkout_create,
    gift_link_create,
    gift_link_read,
    gift_link_token,
    gift_tell,
)
from payments.services.links import PAY_LINK_SALT
from payments.stripe_local import LocalStripe
from tests.conftest import Personas
from tests.payments.conftest import deliver_all, wallet_minutes
from tokens.models import LedgerTransaction
from tokens.selectors import member_statement

pytestmark = pytest.mark.django_db


def token_of(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]


# --- Making and reading a link ------------------------------------------------------------------


def test_the_member_makes_their_own_link_and_it_is_audited(personas: Personas) -> None:
    alice = personas.alice
    made = gift_link_create(member=alice, caller=caller_for(user=alice.user, circle=alice.circle))

    assert made.url.startswith("http")
    assert "/gift/" in made.url
    link = gift_link_read(token_of(made.url))
    assert (link.member_id, link.circle_id) == (alice.pk, alice.circle_id)
    assert made.expires_at - link.issued_at == timedelta(days=90)
    event = AuditEvent.objects.get(action="payment.gift_link_made")
    assert (event.member_id, event.actor_id) == (alice.pk, alice.user_id)


@pytest.mark.parametrize("who", ["cora", "otto"])
def test_staff_of_the_circle_make_a_members_link(personas: Personas, who: str) -> None:
    staff = getattr(personas, who)
    made = gift_link_create(
        member=personas.alice, caller=caller_for(user=staff.user, circle=personas.southwark)
    )
    assert gift_link_read(token_of(made.url)).member_id == personas.alice.pk


@pytest.mark.parametrize("who", ["bob", "hana", "clara"])
def test_anyone_else_may_not_make_a_members_link(personas: Personas, who: str) -> None:
    other = getattr(personas, who)
    with pytest.raises(Forbidden):
        gift_link_create(
            member=personas.alice, caller=caller_for(user=other.user, circle=personas.southwark)
        )
    assert not AuditEvent.objects.filter(action="payment.gift_link_made").exists()


def test_the_link_carries_no_personal_details(personas: Personas) -> None:
    token = gift_link_token(member=personas.alice)
    payload = signing.Signer(salt=GIFT_LINK_SALT).unsign_object(token)
    assert set(payload) == {"m", "c", "i"}


def test_a_tampered_link_or_a_pay_links_token_is_not_a_gift_link(personas: Personas) -> None:
    token = gift_link_token(member=personas.alice)
    with pytest.raises(GiftLinkInvalid):
        gift_link_read(token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
    pay = signing.Signer(salt=PAY_LINK_SALT).sign_object({"m": personas.alice.pk, "c": 1, "i": 0})
    with pytest.raises(GiftLinkInvalid):
        gift_link_read(pay)


def test_a_link_older_than_the_setting_has_expired(personas: Personas, settings: Any) -> None:
    settings.GIFT_LINK_MAX_AGE_DAYS = 30
    token = gift_link_token(member=personas.alice, issued_at=timezone.now() - timedelta(days=31))
    with pytest.raises(GiftLinkExpired) as raised:
        gift_link_read(token)
    assert raised.value.link.member_id == personas.alice.pk
    fresh = gift_link_token(member=personas.alice, issued_at=timezone.now() - timedelta(days=29))
    assert gift_link_read(fresh).member_id == personas.alice.pk


# --- A gift's Checkout and its webhook -----------------------------------------------------------


def test_a_gift_is_credited_once_with_the_givers_name_on_the_statement(
    personas: Personas, stripe_server: LocalStripe
) -> None:
    alice = personas.alice
    checkout = gift_checkout_create(
        member=alice,
        tokens=2,
        giver_name="  Dora   Archer ",
        giver_email="dora@example.com",
        return_path="/gift/x/",
    )
    assert (checkout.gift_from, checkout.gift_email) == ("Dora Archer", "dora@example.com")
    assert checkout.created_by is None
    session = stripe_server.of_kind("checkout.session")[0]
    assert session["metadata"]["circle_gift_from"] == "Dora Archer"
    assert session["amount_total"] == 2000
    assert session["success_url"].endswith("/gift/x/?checkout=paid")
    started = AuditEvent.objects.get(action="payment.checkout_started")
    assert started.reason == "by gift link"
    assert started.data["gift_from"] == "Dora Archer"

    events = stripe_server.complete(session["id"])
    deliver_all(stripe_server, events)
    deliver_all(stripe_server, events)  # Stripe delivers again: nothing more

    assert wallet_minutes(alice) == 2 * 60
    assert Payment.objects.filter(member=alice).count() == 1
    _, lines = member_statement(member=alice, limit=10, offset=0)
    assert [line.description for line in lines] == ["Gift from Dora Archer: 2 tokens (card)"]
    # The giver is named through the gift, never in the append-only ledger row itself, so
    # erasing the member can take her name out (payments/erase.py).
    memo = LedgerTransaction.objects.get(kind="purchase").memo
    assert "Dora" not in memo
    assert memo.startswith("Gift ")


def test_a_members_own_purchase_still_says_bought(
    personas: Personas, stripe_server: LocalStripe
) -> None:
    alice = personas.alice
    caller = caller_for(user=alice.user, circle=alice.circle)
    checkout = tokens_checkout_create(member=alice, caller=caller, tokens=1)
    assert checkout.stripe_session_id is not None
    deliver_all(stripe_server, stripe_server.complete(checkout.stripe_session_id))
    _, lines = member_statement(member=alice, limit=10, offset=0)
    assert lines[0].description == "1 tokens bought (card)"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"giver_name": "   "}, "giver_name"),
        ({"giver_name": "x" * 101}, "giver_name"),
        ({"giver_email": "not-an-address"}, "giver_email"),
        ({"tokens": 0}, "tokens"),
        ({"tokens": 21}, "tokens"),
        ({"tokens": "2"}, "tokens"),
        ({"tokens": True}, "tokens"),
    ],
)
def test_a_gift_is_refused_on_a_bad_answer_and_nothing_is_started(
    personas: Personas, stripe_server: LocalStripe, changes: dict[str, Any], field: str
) -> None:
    args: dict[str, Any] = {"tokens": 2, "giver_name": "Dora", "giver_email": ""}
    args.update(changes)
    with pytest.raises(InvalidInput) as refused:
        gift_checkout_create(member=personas.alice, return_path="/gift/x/", **args)
    assert refused.value.field == field
    assert CheckoutSession.objects.count() == 0
    assert stripe_server.requests == []


# --- Telling the member -----------------------------------------------------------------------


def give(member: Any, stripe_server: LocalStripe, *, twice: bool = True) -> None:
    checkout = gift_checkout_create(
        member=member, tokens=2, giver_name="Dora", return_path="/gift/x/"
    )
    assert checkout.stripe_session_id is not None
    events = stripe_server.complete(checkout.stripe_session_id)
    deliver_all(stripe_server, events)
    if twice:
        deliver_all(stripe_server, events)


def test_the_member_is_emailed_once_who_gave_them_tokens(
    personas: Personas, stripe_server: LocalStripe
) -> None:
    alice = personas.alice
    assert alice.email

    give(alice, stripe_server)

    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == [alice.email]
    assert email.subject == "A gift from Dora"
    assert "Dora has given you 2 tokens (2 hours of help) at Southwark Circle." in email.body
    assert Sms.objects.count() == 0
    told = AuditEvent.objects.get(action="payment.gift_told")
    assert (told.member_id, told.data["channel"]) == (alice.pk, "email")


def test_a_member_without_email_is_texted_once(
    personas: Personas, stripe_server: LocalStripe
) -> None:
    alice = personas.alice
    Member.objects.filter(pk=alice.pk).update(email="")
    alice.refresh_from_db()

    give(alice, stripe_server)

    assert mail.outbox == []
    sms = Sms.objects.get()
    assert sms.to == alice.phone
    assert "Dora has given you 2 tokens (2 hours of help)" in sms.body
    assert AuditEvent.objects.get(action="payment.gift_told").data["channel"] == "sms"


def test_a_member_with_neither_has_the_statement_line(
    personas: Personas, stripe_server: LocalStripe
) -> None:
    alice = personas.alice
    Member.objects.filter(pk=alice.pk).update(email="", phone="")
    alice.refresh_from_db()

    give(alice, stripe_server)

    assert mail.outbox == []
    assert Sms.objects.count() == 0
    assert AuditEvent.objects.get(action="payment.gift_told").data["channel"] == ""
    _, lines = member_statement(member=alice, limit=10, offset=0)
    assert lines[0].description == "Gift from Dora: 2 tokens (card)"


def test_a_members_own_purchase_tells_no_one(
    personas: Personas, stripe_server: LocalStripe
) -> None:
    alice = personas.alice
    caller = caller_for(user=alice.user, circle=alice.circle)
    checkout = tokens_checkout_create(member=alice, caller=caller, tokens=1)
    assert checkout.stripe_session_id is not None
    deliver_all(stripe_server, stripe_server.complete(checkout.stripe_session_id))

    assert mail.outbox == []
    assert not AuditEvent.objects.filter(action="payment.gift_told").exists()
    assert gift_tell(checkout_id=checkout.pk) is None
