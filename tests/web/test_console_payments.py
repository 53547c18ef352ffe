"""The console's money pages: recording cash, a cheque or a bank transfer for a caller (form,
check step, recorded once), and sending a card payment link by text or email. Otto (operator)
and Cora (coordinator) serve Southwark; Alice and Bob are its members; Clara coordinates
Suffolk."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from members.models import AuditEvent, Member
from messaging.models import Sms
from payments.models import MembershipPeriod, Payment
from payments.selectors import one_year_from
from tests.conftest import Personas
from tests.payments.conftest import row_counts, wallet_minutes
from tests.web.pages import text_of

pytestmark = pytest.mark.django_db


def payment_url(member: Member) -> str:
    return f"/console/{member.circle.slug}/members/{member.pk}/payments/new/"


def link_url(member: Member) -> str:
    return f"/console/{member.circle.slug}/members/{member.pk}/pay-link/"


def card_url(member: Member) -> str:
    return f"/console/{member.circle.slug}/members/{member.pk}/"


@pytest.fixture
def otto(client: Client, personas: Personas) -> Client:
    client.force_login(personas.otto.user)
    return client


def cash_for_the_year(**changes: Any) -> dict[str, Any]:
    body = {
        "purpose": "membership",
        "tokens": "",
        "method": "cash",
        "amount": "10.00",
        "reference": "R-1001",
        "call_reference": "CALL-77",
    }
    body.update(changes)
    return {key: value for key, value in body.items() if value is not None}


def confirmed(body: dict[str, Any]) -> dict[str, Any]:
    return {**body, "confirm": "1"}


# --- Who may see them -------------------------------------------------------------------------


@pytest.mark.parametrize("url", [payment_url, link_url])
def test_the_signed_out_are_sent_to_sign_in(client: Client, personas: Personas, url: Any) -> None:
    response = client.get(url(personas.alice))

    assert response.status_code == 302
    assert response.url.startswith("/sign-in/?next=")


@pytest.mark.parametrize("url", [payment_url, link_url])
@pytest.mark.parametrize("who", ["bob", "hana"])
def test_members_and_helpers_are_told_the_page_is_for_staff(
    client: Client, personas: Personas, url: Any, who: str
) -> None:
    client.force_login(getattr(personas, who).user)

    get = client.get(url(personas.alice))
    post = client.post(url(personas.alice), confirmed(cash_for_the_year()))

    assert get.status_code == 403
    assert post.status_code == 403
    assert Payment.objects.count() == 0


@pytest.mark.parametrize("url", [payment_url, link_url])
def test_another_circles_member_is_page_not_found(
    otto: Client, personas: Personas, url: Any
) -> None:
    sam = personas.sam
    # Otto's own circle's console, naming Suffolk's member.
    response = otto.get(url(sam).replace("/suffolk/", "/southwark/"))
    posted = otto.post(
        payment_url(sam).replace("/suffolk/", "/southwark/"), confirmed(cash_for_the_year())
    )

    assert response.status_code == 404
    assert posted.status_code == 404
    assert Payment.objects.count() == 0


def test_another_circles_console_is_page_not_found(client: Client, personas: Personas) -> None:
    client.force_login(personas.clara.user)

    assert client.get(payment_url(personas.alice)).status_code == 404
    assert client.get(link_url(personas.alice)).status_code == 404


# --- Recording a payment ----------------------------------------------------------------------


def test_the_form_comes_with_the_amount_filled_in_at_the_circles_fee(
    otto: Client, personas: Personas
) -> None:
    response = otto.get(payment_url(personas.alice))

    assert response.status_code == 200
    words = text_of(response)
    assert "Alice Archer" in words
    assert "Record a payment" in words
    assert "Membership not paid yet." in words
    assert "The circle charges £10.00 a year and £10.00 a token." in words
    html = response.content.decode()
    assert re.search(r'name="amount" type="text" value="10.00"', html)
    assert re.search(r'name="purpose" type="radio" value="membership" checked', html)
    assert f'href="{card_url(personas.alice)}"' in html


def test_a_card_may_ask_for_tokens_with_their_price_filled_in(
    otto: Client, personas: Personas
) -> None:
    html = otto.get(f"{payment_url(personas.alice)}?purpose=tokens&tokens=3").content.decode()

    assert 'name="amount" type="text" value="30.00"' in html
    assert 'name="tokens" type="text" value="3"' in html


def test_the_check_step_asks_before_anything_is_written(otto: Client, personas: Personas) -> None:
    before = row_counts()
    until = one_year_from(timezone.localdate())

    response = otto.post(payment_url(personas.alice), cash_for_the_year())

    assert response.status_code == 200
    words = text_of(response)
    day = f"{until:%A} {until.day} {until:%B} {until.year}"
    assert f"Record £10.00 cash for Alice's membership until {day}?" in words
    assert "R-1001" in words
    assert "CALL-77" in words
    assert row_counts() == before


def test_recording_cash_for_the_year_goes_back_to_the_card_and_is_audited(
    otto: Client, personas: Personas
) -> None:
    alice = personas.alice

    response = otto.post(payment_url(alice), confirmed(cash_for_the_year()))

    assert response.status_code == 302
    assert response.url == card_url(alice)
    payment = Payment.objects.get()
    assert (payment.member, payment.method, payment.purpose) == (alice, "cash", "membership")
    assert payment.amount.amount == Decimal("10.00")
    assert payment.recorded_by == personas.otto.user
    period = MembershipPeriod.objects.get(member=alice)
    alice.refresh_from_db()
    assert alice.membership_status == "active"
    audit = AuditEvent.objects.get(action="payment.recorded")
    assert audit.member == alice
    assert audit.actor == personas.otto.user
    assert audit.call_reference == "CALL-77"
    # The card (built elsewhere) shows the message; here, the message is waiting for it.
    shown = [str(m) for m in response.wsgi_request._messages]
    day = f"{period.end:%A} {period.end.day} {period.end:%B} {period.end.year}"
    assert shown == [f"Recorded £10.00 cash from Alice Archer for membership until {day}."]


def test_the_member_reads_it_among_what_staff_did_for_them(
    client: Client, personas: Personas
) -> None:
    client.force_login(personas.otto.user)
    client.post(payment_url(personas.alice), confirmed(cash_for_the_year()))
    client.force_login(personas.alice.user)

    words = text_of(client.get("/my/on-my-behalf/"))

    assert "Recorded a payment from you" in words
    assert "Call CALL-77" in words


def test_a_cheque_for_tokens_credits_them(otto: Client, personas: Personas) -> None:
    alice = personas.alice
    body = cash_for_the_year(
        purpose="tokens", tokens="3", method="cheque", amount="30.00", reference="CHQ 000123"
    )

    check = text_of(otto.post(payment_url(alice), body))
    response = otto.post(payment_url(alice), confirmed(body))

    assert "Record a cheque of £30.00 for Alice's 3 tokens (3 hours of help)?" in check
    assert response.status_code == 302
    payment = Payment.objects.get()
    assert (payment.purpose, payment.method, payment.tokens) == ("tokens", "cheque", 3)
    assert wallet_minutes(alice) == 180
    assert MembershipPeriod.objects.count() == 0
    shown = [str(m) for m in response.wsgi_request._messages]
    assert shown == ["Recorded £30.00 by cheque from Alice Archer for 3 tokens (3 hours of help)."]


def test_a_bank_transfer_for_the_year_by_a_coordinator(client: Client, personas: Personas) -> None:
    client.force_login(personas.cora.user)
    body = cash_for_the_year(method="bank_transfer", reference="BACS 42")

    check = text_of(client.post(payment_url(personas.bob), body))
    response = client.post(payment_url(personas.bob), confirmed(body))

    assert "Record a bank transfer of £10.00 for Bob's membership until" in check
    assert response.status_code == 302
    assert Payment.objects.get().method == "bank_transfer"


def test_change_on_the_check_step_shows_the_form_as_filled(
    otto: Client, personas: Personas
) -> None:
    response = otto.post(payment_url(personas.alice), {**cash_for_the_year(), "change": "1"})

    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="R-1001"' in html
    assert "Record a payment" in text_of(response)
    assert Payment.objects.count() == 0


def test_pressed_twice_records_once(otto: Client, personas: Personas) -> None:
    alice = personas.alice
    body = confirmed(cash_for_the_year())

    first = otto.post(payment_url(alice), body)
    second = otto.post(payment_url(alice), body)

    assert first.status_code == second.status_code == 302
    assert second.url == card_url(alice)
    assert Payment.objects.count() == 1
    assert MembershipPeriod.objects.count() == 1
    assert AuditEvent.objects.filter(action="payment.recorded").count() == 1
    # The card (on another branch) shows the messages; the first press's is waiting too.
    shown = [str(m) for m in second.wsgi_request._messages]
    assert shown[-1] == (
        "This payment was already recorded (reference R-1001). Nothing more was recorded."
    )


def test_a_reference_already_used_for_someone_else_is_refused(
    otto: Client, personas: Personas
) -> None:
    otto.post(payment_url(personas.bob), confirmed(cash_for_the_year()))
    before = row_counts()

    response = otto.post(payment_url(personas.alice), confirmed(cash_for_the_year()))

    assert response.status_code == 200
    assert "A cash payment with reference 'R-1001' is already recorded." in text_of(response)
    assert row_counts() == before


def test_an_amount_that_is_not_the_circles_price_is_refused_and_nothing_is_written(
    otto: Client, personas: Personas
) -> None:
    before = row_counts()

    response = otto.post(payment_url(personas.alice), confirmed(cash_for_the_year(amount="8.00")))

    assert response.status_code == 200
    words = text_of(response)
    assert "There is a problem" in words
    assert "The amount must be £10.00, the circle's price." in words
    assert "<title>Error:" in response.content.decode()
    assert row_counts() == before


def test_a_token_amount_is_checked_against_the_token_price(
    otto: Client, personas: Personas
) -> None:
    before = row_counts()
    body = cash_for_the_year(purpose="tokens", tokens="2", amount="10.00")

    response = otto.post(payment_url(personas.alice), confirmed(body))

    assert "The amount must be £20.00, the circle's price." in text_of(response)
    assert row_counts() == before


@pytest.mark.parametrize(
    ("tokens", "said"),
    [
        ("", "Enter how many tokens, like 5."),
        ("two", "Enter a whole number of tokens, like 5."),
        ("0", "From 1 to 100 tokens at a time."),
        ("101", "From 1 to 100 tokens at a time."),
    ],
)
def test_bad_token_counts_are_refused_and_nothing_is_written(
    otto: Client, personas: Personas, tokens: str, said: str
) -> None:
    before = row_counts()
    body = cash_for_the_year(purpose="tokens", tokens=tokens, amount="10.00")

    response = otto.post(payment_url(personas.alice), confirmed(body))

    assert response.status_code == 200
    assert said in text_of(response)
    assert 'href="#id_tokens"' in response.content.decode()
    assert row_counts() == before


@pytest.mark.parametrize(
    ("field", "value", "said"),
    [
        ("amount", "ten pounds", "Enter an amount in pounds, like 10.00."),
        ("amount", "10.001", "Enter an amount in pounds, like 10.00."),
        ("reference", "", "Enter the receipt number, cheque number or bank reference."),
        ("call_reference", "", "Enter the call reference."),
        ("method", "card", "Choose cash, cheque or bank transfer."),
    ],
)
def test_each_missing_or_bad_answer_is_said_beside_its_box(
    otto: Client, personas: Personas, field: str, value: str, said: str
) -> None:
    before = row_counts()

    body = confirmed(cash_for_the_year(**{field: value}))

    response = otto.post(payment_url(personas.alice), body)

    assert said in text_of(response)
    assert f'href="#id_{field}"' in response.content.decode()
    assert row_counts() == before


def test_staff_never_record_for_their_own_member_record(otto: Client, personas: Personas) -> None:
    before = row_counts()
    own = personas.otto

    check = otto.post(payment_url(own), cash_for_the_year())
    confirm = otto.post(payment_url(own), confirmed(cash_for_the_year()))

    for response in (check, confirm):
        assert response.status_code == 200
        assert "Staff cannot do this for their own member record. Ask another member of staff." in (
            text_of(response)
        )
    assert row_counts() == before


def test_the_amount_with_a_pound_sign_is_read(otto: Client, personas: Personas) -> None:
    response = otto.post(payment_url(personas.alice), confirmed(cash_for_the_year(amount="£10")))

    assert response.status_code == 302
    assert Payment.objects.get().amount.amount == Decimal("10.00")


# --- Sending a card payment link ----------------------------------------------------------------


def test_the_link_form_offers_only_the_ways_the_member_can_be_reached(
    otto: Client, personas: Personas
) -> None:
    alice = personas.alice
    both = text_of(otto.get(link_url(alice)))
    alice.email = None
    alice.save(update_fields=["email"])
    phone_only = otto.get(link_url(alice)).content.decode()

    assert "Text message to 07700 900001" in both
    assert "Email to alice@example.org" in both
    assert "It works for 7 days." in both
    assert 'value="sms" checked' in phone_only
    assert 'value="email"' not in phone_only


def test_a_member_without_phone_or_email_cannot_be_sent_a_link(
    otto: Client, personas: Personas
) -> None:
    alice = personas.alice
    alice.email, alice.phone = None, ""
    alice.save(update_fields=["email", "phone"])

    words = text_of(otto.get(link_url(alice)))

    assert "We have no phone number or email address for them" in words
    assert "Send link" not in words


def test_a_link_by_text_for_the_year(otto: Client, personas: Personas) -> None:
    alice = personas.alice

    response = otto.post(
        link_url(alice), {"purpose": "membership", "channel": "sms", "call_reference": "CALL-9"}
    )

    assert response.status_code == 302
    assert response.url == card_url(alice)
    sms = Sms.objects.get()
    assert sms.to == "+447700900001"
    assert sms.status == "sent"
    assert "Southwark Circle: to pay £10.00 by card for a year's membership" in sms.body
    assert re.search(r"http://127\.0\.0\.1:8000/pay/[^/ ]+/", sms.body)
    assert "(it works for 7 days)" in sms.body
    audit = AuditEvent.objects.get(action="payment.link_sent")
    assert (audit.member, audit.actor, audit.call_reference) == (
        alice,
        personas.otto.user,
        "CALL-9",
    )
    assert audit.data["channel"] == "sms"
    assert audit.data["purpose"] == "membership"
    shown = [str(m) for m in response.wsgi_request._messages]
    assert shown[0].startswith(
        "Sent Alice Archer a text message with a link to pay £10.00 by card. It works until "
    )


def test_staff_never_send_a_link_for_their_own_member_record(
    otto: Client, personas: Personas
) -> None:
    own = personas.otto
    own.phone = "+447700900009"
    own.save(update_fields=["phone"])

    response = otto.post(
        link_url(own), {"purpose": "membership", "channel": "sms", "call_reference": "CALL-9"}
    )

    assert response.status_code == 200
    assert "Staff cannot do this for their own member record" in text_of(response)
    assert not Sms.objects.exists()
    assert not AuditEvent.objects.filter(action="payment.link_sent").exists()


def test_a_link_by_email_for_tokens(otto: Client, personas: Personas, settings: Any) -> None:
    settings.SITE_URL = "https://circle.example.org"
    personas.southwark.phone = "+442079460000"
    personas.southwark.save(update_fields=["phone"])

    response = otto.post(
        link_url(personas.alice),
        {"purpose": "tokens", "tokens": "4", "channel": "email", "call_reference": "CALL-10"},
    )

    assert response.status_code == 302
    (message,) = mail.outbox
    assert message.to == ["alice@example.org"]
    assert message.subject == "Pay for your Southwark Circle tokens by card"
    assert "Dear Alice," in message.body
    assert "pay Southwark Circle £40.00 by card for 4 tokens (4 hours of help) here:" in (
        message.body
    )
    assert re.search(r"https://circle\.example\.org/pay/[^/\s]+/", message.body)
    assert "or call us on 020 7946 0000" in message.body
    audit = AuditEvent.objects.get(action="payment.link_sent")
    assert (audit.call_reference, audit.data["tokens"], audit.data["channel"]) == (
        "CALL-10",
        4,
        "email",
    )
    assert Sms.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ({"purpose": "membership", "channel": "sms"}, "Enter the call reference."),
        ({"purpose": "tokens", "channel": "sms", "call_reference": "C"}, "Enter how many tokens"),
        ({"purpose": "membership", "call_reference": "C"}, "Choose how to send the link."),
        ({"channel": "sms", "call_reference": "C"}, "Choose membership or tokens."),
    ],
)
def test_a_link_form_with_answers_missing_sends_nothing(
    otto: Client, personas: Personas, body: dict[str, str], said: str
) -> None:
    response = otto.post(link_url(personas.alice), body)

    assert response.status_code == 200
    assert said in text_of(response)
    assert Sms.objects.count() == 0
    assert mail.outbox == []
    assert not AuditEvent.objects.filter(action="payment.link_sent").exists()


def test_a_channel_the_member_lacks_is_refused(otto: Client, personas: Personas) -> None:
    alice = personas.alice
    alice.email = None
    alice.save(update_fields=["email"])

    response = otto.post(
        link_url(alice), {"purpose": "membership", "channel": "email", "call_reference": "C"}
    )

    assert response.status_code == 200
    assert "Choose how to send the link." in text_of(response)
    assert mail.outbox == []


# --- Queries ------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [payment_url, link_url])
def test_the_forms_read_a_handful_of_rows(
    otto: Client, personas: Personas, url: Any, django_assert_max_num_queries: Any
) -> None:
    with django_assert_max_num_queries(6):
        response = otto.get(url(personas.alice))

    assert response.status_code == 200
