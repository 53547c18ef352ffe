"""`POST /api/v1/members/{id}/payments/offline/`: staff record cash, a cheque or a bank transfer
for a year's membership or for tokens (DESIGN.md, "Membership" and the API table)."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from djmoney.money import Money
from rest_framework.test import APIClient

from circle.models import Circle
from members.models import AuditEvent, Member, MembershipStatus
from payments.models import MembershipPeriod, Payment
from payments.services import one_year_from
from tests.conftest import Personas
from tests.payments.conftest import offline_url, row_counts
from tokens.models import Account, AccountKind, Entry, LedgerTransaction

Client = Callable[[Any], APIClient]
Body = Callable[..., dict[str, Any]]


def year_end(start: date) -> date:
    """The last day of a year that starts on `start`, worked out independently of the app: the
    day before the anniversary, and a 29 February start's anniversary is 1 March."""
    try:
        anniversary = date(start.year + 1, start.month, start.day)
    except ValueError:
        anniversary = date(start.year + 1, 3, 1)
    return anniversary - timedelta(days=1)


def pay(client: APIClient, member: Member, body: dict[str, Any]) -> Any:
    return client.post(offline_url(member.pk), body, format="json")


def assert_error(response: Any, status: int, code: str | None, field: str | None) -> None:
    assert response.status_code == status, response.content
    body = response.json()
    if code is not None:
        assert body["code"] == code, body
    assert body.get("field") == field, body
    assert body["detail"]


def old_year_paid(member: Member, *, start: date, end: date, reference: str) -> MembershipPeriod:
    """A year paid before this test began (set up directly: the clock cannot be moved)."""
    payment = Payment.objects.create(
        circle=member.circle,
        member=member,
        purpose="membership",
        method="cheque",
        amount=Money("10.00", "GBP"),
        reference=reference,
    )
    return MembershipPeriod.objects.create(
        circle=member.circle,
        member=member,
        start=start,
        end=end,
        amount=payment.amount,
        payment=payment,
    )


# --- Membership ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_membership_payment_by_operator_makes_member_active(
    personas: Personas, client_for: Client, payment_body: Body
) -> None:
    alice = personas.alice
    assert alice.membership_status == MembershipStatus.PENDING
    today = timezone.localdate()

    response = pay(client_for(personas.otto), alice, payment_body())

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["member_id"] == alice.pk
    assert body["purpose"] == "membership"
    assert body["method"] == "cash"
    assert body["amount"] == {"amount": "10.00", "currency": "GBP"}
    assert body["tokens"] is None
    assert body["reference"] == "R1"
    assert body["paid_until"] == year_end(today).isoformat()

    period = MembershipPeriod.objects.get(member=alice)
    assert (period.start, period.end) == (today, year_end(today))
    assert period.payment_id == body["id"]
    assert period.circle == personas.southwark

    detail = client_for(alice).get(f"/api/v1/members/{alice.pk}/")
    assert detail.status_code == 200
    assert detail.json()["membership"] == {
        "status": "active",
        "paid_until": year_end(today).isoformat(),
    }


@pytest.mark.django_db
def test_membership_payment_is_audited(
    personas: Personas, client_for: Client, payment_body: Body
) -> None:
    response = pay(client_for(personas.otto), personas.alice, payment_body(reference="REC-7"))

    assert response.status_code == 201
    recorded = AuditEvent.objects.get(action="payment.recorded")
    assert recorded.actor == personas.otto.user
    assert recorded.actor_member == personas.otto
    assert recorded.member == personas.alice
    assert recorded.circle == personas.southwark
    assert "REC-7" in recorded.reason
    assert recorded.data["payment_id"] == response.json()["id"]
    assert recorded.data["amount"] == "10.00"

    changed = AuditEvent.objects.get(action="membership.status_changed")
    assert changed.member == personas.alice
    assert changed.actor == personas.otto.user  # the change was Otto's doing, not the system's
    assert changed.data["from"] == "pending"
    assert changed.data["to"] == "active"


@pytest.mark.django_db
def test_an_operators_call_reference_is_kept_on_the_audit_row(
    personas: Personas, client_for: Client, payment_body: Body
) -> None:
    body = payment_body(call_reference="CALL-31")

    response = pay(client_for(personas.otto), personas.alice, body)

    assert response.status_code == 201
    assert AuditEvent.objects.get(action="payment.recorded").call_reference == "CALL-31"


@pytest.mark.django_db
def test_second_membership_payment_extends_the_year(
    personas: Personas, client_for: Client, payment_body: Body
) -> None:
    otto = client_for(personas.otto)
    first = pay(otto, personas.alice, payment_body(reference="R1"))
    second = pay(otto, personas.alice, payment_body(reference="R2"))

    assert first.status_code == 201
    assert second.status_code == 201
    first_period, second_period = MembershipPeriod.objects.filter(member=personas.alice).order_by(
        "start"
    )
    assert second_period.start == first_period.end + timedelta(days=1)
    assert second_period.end == year_end(second_period.start)
    assert second.json()["paid_until"] == second_period.end.isoformat()

    detail = client_for(personas.alice).get(f"/api/v1/members/{personas.alice.pk}/").json()
    assert detail["membership"] == {"status": "active", "paid_until": str(second_period.end)}
    # Already active: the second year changes no status, so it writes no status change.
    assert AuditEvent.objects.filter(action="membership.status_changed").count() == 1
    assert AuditEvent.objects.filter(action="payment.recorded").count() == 2


@pytest.mark.django_db
def test_lapsed_member_paying_again_starts_a_year_today(
    personas: Personas, client_for: Client, payment_body: Body
) -> None:
    today = timezone.localdate()
    old_year_paid(
        personas.alice,
        start=today - timedelta(days=800),
        end=today - timedelta(days=436),
        reference="OLD",
    )
    Member.objects.filter(pk=personas.alice.pk).update(membership_status=MembershipStatus.LAPSED)

    response = pay(client_for(personas.otto), personas.alice, payment_body())

    assert response.status_code == 201
    assert response.json()["paid_until"] == year_end(today).isoformat()
    personas.alice.refresh_from_db()
    assert personas.alice.membership_status == MembershipStatus.ACTIVE
    changed = AuditEvent.objects.get(action="membership.status_changed")
    assert (changed.data["from"], changed.data["to"]) == ("lapsed", "active")


@pytest.mark.django_db
def test_year_paid_ahead_after_a_year_ending_28_february_starts_on_29_february(
    personas: Personas, client_for: Client, payment_body: Body
) -> None:
    # The clock cannot be frozen (no such library installed), so the leap day is reached by a
    # year already paid up to the next 28 February of a leap year.
    today = timezone.localdate()
    leap = next(y for y in range(today.year, today.year + 9) if y % 4 == 0 and y % 100 != 0)
    if date(leap, 2, 28) < today:
        leap += 4
    old_year_paid(
        personas.alice, start=date(leap - 1, 3, 1), end=date(leap, 2, 28), reference="OLD"
    )

    response = pay(client_for(personas.otto), personas.alice, payment_body())

    assert response.status_code == 201
    period = MembershipPeriod.objects.get(payment_id=response.json()["id"])
    assert period.start == date(leap, 2, 29)
    assert period.end == date(leap + 1, 2, 28)
    assert response.json()["paid_until"] == f"{leap + 1}-02-28"


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (date(2028, 2, 29), date(2029, 2, 28)),
        (date(2032, 2, 29), date(2033, 2, 28)),
        (date(2026, 1, 15), date(2027, 1, 14)),
        (date(2026, 1, 1), date(2026, 12, 31)),
        (date(2026, 12, 31), date(2027, 12, 30)),
        (date(2026, 3, 1), date(2027, 2, 28)),
        (date(2027, 3, 1), date(2028, 2, 29)),
        (date(2027, 2, 28), date(2028, 2, 27)),
        (date(2028, 2, 28), date(2029, 2, 27)),
        (date(2028, 3, 1), date(2029, 2, 28)),
    ],
)
def test_one_year_from_ends_the_day_before_the_anniversary(start: date, end: date) -> None:
    assert one_year_from(start) == end


@pytest.mark.django_db
@pytest.mark.parametrize("amount", [None, "10.00", "10", "10.0", 10])
def test_membership_amount_defaults_to_and_may_equal_the_fee(
    personas: Personas, client_for: Client, payment_body: Body, amount: Any
) -> None:
    response = pay(client_for(personas.otto), personas.alice, payment_body(amount=amount))

    assert response.status_code == 201, response.content
    assert response.json()["amount"] == {"amount": "10.00", "currency": "GBP"}
    assert Payment.objects.get().amount == Money("10.00", "GBP")


@pytest.mark.django_db
@pytest.mark.parametrize("amount", ["9.99", "10.01", "20.00", "1.00", "0.01", "999999.99"])
def test_membership_rejected_when_amount_is_not_the_fee(
    personas: Personas, client_for: Client, payment_body: Body, amount: str
) -> None:
    before = row_counts()

    response = pay(client_for(personas.otto), personas.alice, payment_body(amount=amount))

    assert_error(response, 400, "amount_mismatch", "amount")
    assert "10.00" in response.json()["detail"]
    assert row_counts() == before
    personas.alice.refresh_from_db()
    assert personas.alice.membership_status == MembershipStatus.PENDING


@pytest.mark.django_db
@pytest.mark.parametrize(
    "amount", ["0", "0.00", "-10.00", "ten", "10.001", "1e400", "NaN", "Infinity", "", [], {}, True]
)
def test_payment_rejected_when_amount_is_not_a_price(
    personas: Personas, client_for: Client, payment_body: Body, amount: Any
) -> None:
    before = row_counts()

    response = pay(client_for(personas.otto), personas.alice, payment_body(amount=amount))

    assert_error(response, 400, None, "amount")
    assert row_counts() == before


@pytest.mark.django_db
def test_membership_amount_follows_the_circles_own_fee(
    personas: Personas, client_for: Client, payment_body: Body
) -> None:
    Circle.objects.filter(pk=personas.southwark.pk).update(membership_fee=Decimal("15.00"))
    otto = client_for(personas.otto)

    refused = pay(otto, personas.alice, payment_body(amount="10.00", reference="R1"))
    taken = pay(otto, personas.alice, payment_body(reference="R2"))

    assert_error(refused, 400, "amount_mismatch", "amount")
    assert taken.status_code == 201
    assert taken.json()["amount"] == {"amount": "15.00", "currency": "GBP"}


@pytest.mark.django_db
def test_membership_payment_refused_when_circle_charges_nothing(
    personas: Personas, client_for: Client, payment_body: Body
) -> None:
    Circle.objects.filter(pk=personas.southwark.pk).update(membership_fee=Decimal("0.00"))
    before = row_counts()

    response = pay(client_for(personas.otto), personas.alice, payment_body())

    assert response.status_code == 400
    assert row_counts() == before


# --- Tokens ----------------------------------------------------------------------------------


def tokens_body(payment_body: Body, **changes: Any) -> dict[str, Any]:
    return payment_body(purpose="tokens", **{"tokens": 3, **changes})


@pytest.mark.django_db
def test_token_payment_credits_the_wallet_through_the_purchase_service(
    personas: Personas, client_for: Client, payment_body: Body
) -> None:
    alice = personas.alice

    response = pay(client_for(personas.otto), alice, tokens_body(payment_body))

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["purpose"] == "tokens"
    assert body["tokens"] == 3
    assert body["amount"] == {"amount": "30.00", "currency": "GBP"}
    assert body["paid_until"] is None

    purchase = LedgerTransaction.objects.get()
    assert purchase.kind == "purchase"
    assert purchase.idempotency_key == f"purchase:payment:{body['id']}"
    assert purchase.member == alice
    assert purchase.actor == personas.otto.user
    legs = {
        (entry.account.kind, entry.account.member_id): entry.minutes
        for entry in Entry.objects.filter(transaction=purchase).select_related("account")
    }
    assert legs == {(AccountKind.WALLET, alice.pk): 180, (AccountKind.ISSUANCE, None): -180}

    tokens = client_for(alice).get(f"/api/v1/members/{alice.pk}/tokens/")
    assert tokens.status_code == 200
    assert tokens.json()["balance"] == {"minutes": 180, "tokens": "3.00"}
    assert tokens.json()["available"] == {"minutes": 180, "tokens": "3.00"}

    # Buying tokens is not a membership year.
    assert not MembershipPeriod.objects.exists()
    alice.refresh_from_db()
    assert alice.membership_status == MembershipStatus.PENDING
    assert set(AuditEvent.objects.values_list("action", flat=True)) == {
        "payment.recorded",
        "tokens.purchased",
    }


@pytest.mark.django_db
def test_token_payment_is_a_few_statements_in_one_transaction(
    personas: Personas, client_for: Client, payment_body: Body
) -> None:
    """Signing in, finding the member, their circle and the caller's record, then, in the
    service's one transaction (in a test, a savepoint): the payment, the accounts' ids, the
    movement with its audit row (one statement on PostgreSQL) and the payment's audit row.
    Nothing can refuse tokens bought, so on PostgreSQL the movement needs no savepoint of its
    own inside that transaction."""
    otto = client_for(personas.otto)
    # The first payment opens the accounts (and prepares the movement's statement).
    first = pay(otto, personas.alice, tokens_body(payment_body, reference="R0"))
    assert first.status_code == 201, first.content

    with CaptureQueriesContext(connection) as seen:
        response = pay(otto, personas.alice, tokens_body(payment_body))

    assert response.status_code == 201, response.content
    sql = [query["sql"] for query in seen.captured_queries]
    if connection.vendor == "postgresql":
        assert [s for s in sql if s.startswith("SAVEPOINT")] == sql[4:5], sql
        assert len(sql) == 11, sql
    payment_id = response.json()["id"]
    assert Payment.objects.filter(pk=payment_id).exists()
    assert LedgerTransaction.objects.filter(idempotency_key=f"purchase:payment:{payment_id}")
    assert Account.objects.get(member=personas.alice).balance == 2 * 180


@pytest.mark.django_db
def test_token_payment_buys_the_circles_own_token_minutes(
    personas: Personas, client_for: Client, payment_body: Body
) -> None:
    Circle.objects.filter(pk=personas.southwark.pk).update(token_minutes=90)

    response = pay(client_for(personas.otto), personas.alice, tokens_body(payment_body, tokens=2))

    assert response.status_code == 201
    assert Account.objects.get(member=personas.alice).balance == 180
    tokens = client_for(personas.alice).get(f"/api/v1/members/{personas.alice.pk}/tokens/")
    assert tokens.json()["balance"] == {"minutes": 180, "tokens": "2.00"}


@pytest.mark.django_db
@pytest.mark.parametrize("amount", [None, "30.00", "30"])
def test_token_amount_defaults_to_and_may_equal_the_price_of_the_tokens(
    personas: Personas, client_for: Client, payment_body: Body, amount: Any
) -> None:
    response = pay(
        client_for(personas.otto), personas.alice, tokens_body(payment_body, amount=amount)
    )

    assert response.status_code == 201, response.content
    assert response.json()["amount"] == {"amount": "30.00", "currency": "GBP"}


@pytest.mark.django_db
@pytest.mark.parametrize("amount", ["10.00", "29.99", "300.00"])
def test_token_payment_rejected_when_amount_is_not_the_price(
    personas: Personas, client_for: Client, payment_body: Body, amount: str
) -> None:
    before = row_counts()

    response = pay(
        client_for(personas.otto), personas.alice, tokens_body(payment_body, amount=amount)
    )

    assert_error(response, 400, "amount_mismatch", "amount")
    assert "30.00" in response.json()["detail"]
    assert row_counts() == before
    assert not Account.objects.filter(member=personas.alice, balance__gt=0).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("tokens", [0, -1, 101, "three", 1.5, "1.5", True, None, [3], {"n": 3}])
def test_token_payment_rejected_when_tokens_are_not_a_whole_pack(
    personas: Personas, client_for: Client, payment_body: Body, tokens: Any
) -> None:
    body = payment_body(purpose="tokens")
    body["tokens"] = tokens  # None here is JSON null
    before = row_counts()

    response = pay(client_for(personas.otto), personas.alice, body)

    assert_error(response, 400, None, "tokens")
    assert row_counts() == before


@pytest.mark.django_db
def test_token_payment_rejected_when_tokens_missing(
    personas: Personas, client_for: Client, payment_body: Body
) -> None:
    before = row_counts()

    response = pay(client_for(personas.otto), personas.alice, payment_body(purpose="tokens"))

    assert_error(response, 400, "required", "tokens")
    assert row_counts() == before


@pytest.mark.django_db
@pytest.mark.parametrize("tokens", [1, 100])
def test_token_payment_accepts_one_to_a_hundred_tokens(
    personas: Personas, client_for: Client, payment_body: Body, tokens: int
) -> None:
    response = pay(
        client_for(personas.otto), personas.alice, tokens_body(payment_body, tokens=tokens)
    )

    assert response.status_code == 201
    assert Account.objects.get(member=personas.alice).balance == tokens * 60


@pytest.mark.django_db
def test_membership_payment_rejected_when_it_names_tokens(
    personas: Personas, client_for: Client, payment_body: Body
) -> None:
    before = row_counts()

    response = pay(client_for(personas.otto), personas.alice, payment_body(tokens=3))

    assert_error(response, 400, None, "tokens")
    assert row_counts() == before


# --- References ------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("second", "changes"),
    [
        ("the same", {}),
        ("with spaces round it", {"reference": "  R1  "}),
        ("for tokens", {"purpose": "tokens", "tokens": 1}),
        ("recorded by a coordinator", {"_by": "cora"}),
    ],
)
def test_same_reference_twice_is_refused(
    personas: Personas, client_for: Client, payment_body: Body, second: str, changes: dict[str, Any]
) -> None:
    changes = dict(changes)
    by = getattr(personas, changes.pop("_by", "otto"))
    first = pay(client_for(personas.otto), personas.alice, payment_body())
    assert first.status_code == 201
    before = row_counts()
    balance_before = list(Account.objects.values_list("id", "balance"))

    response = pay(client_for(by), personas.bob, payment_body(**changes))

    assert_error(response, 409, "duplicate_reference", "reference")
    assert "R1" in response.json()["detail"]
    assert row_counts() == before
    assert list(Account.objects.values_list("id", "balance")) == balance_before
    assert not MembershipPeriod.objects.filter(member=personas.bob).exists()


@pytest.mark.django_db
def test_same_reference_with_another_method_is_accepted(
    personas: Personas, client_for: Client, payment_body: Body
) -> None:
    otto = client_for(personas.otto)

    statuses = [
        pay(otto, personas.alice, payment_body(method=method)).status_code
        for method in ("cash", "cheque", "bank_transfer")
    ]

    assert statuses == [201, 201, 201]
    assert Payment.objects.filter(reference="R1").count() == 3


@pytest.mark.django_db
def test_same_reference_in_another_circle_is_accepted(
    personas: Personas, client_for: Client, payment_body: Body
) -> None:
    southwark = pay(client_for(personas.otto), personas.alice, payment_body())
    suffolk = pay(client_for(personas.clara), personas.sam, payment_body())

    assert southwark.status_code == 201
    assert suffolk.status_code == 201
    assert MembershipPeriod.objects.filter(member=personas.sam).count() == 1


# --- Bad input -------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"purpose": "donation"}, "purpose"),
        ({"purpose": ""}, "purpose"),
        ({"purpose": None}, "purpose"),
        ({"purpose": 1}, "purpose"),
        ({"method": "card"}, "method"),
        ({"method": "bitcoin"}, "method"),
        ({"method": "CASH"}, "method"),
        ({"method": None}, "method"),
        ({"reference": None}, "reference"),
        ({"reference": ""}, "reference"),
        ({"reference": "   "}, "reference"),
        ({"reference": "x" * 101}, "reference"),
        ({"reference": ["R1"]}, "reference"),
        ({"note": "paid at the door"}, "note"),
    ],
)
def test_payment_rejected_when_input_is_bad(
    personas: Personas,
    client_for: Client,
    payment_body: Body,
    changes: dict[str, Any],
    field: str,
) -> None:
    body = payment_body(**changes)
    before = row_counts()

    response = pay(client_for(personas.otto), personas.alice, body)

    assert_error(response, 400, None, field)
    assert row_counts() == before


@pytest.mark.django_db
def test_payment_rejected_when_reference_or_method_missing_names_the_field(
    personas: Personas, client_for: Client, payment_body: Body
) -> None:
    otto = client_for(personas.otto)

    no_reference = pay(otto, personas.alice, payment_body(reference=None))
    unknown_field = pay(otto, personas.alice, payment_body(card_number="4242"))

    assert_error(no_reference, 400, "required", "reference")
    assert_error(unknown_field, 400, "unknown_field", "card_number")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ('{"purpose": "membership", "method": "cash", ', "malformed_json"),
        ("not json", "malformed_json"),
        ("[]", "invalid_body"),
        ("null", "invalid_body"),
        ('"membership"', "invalid_body"),
    ],
)
def test_payment_rejected_when_body_is_not_a_json_object(
    personas: Personas, client_for: Client, raw: str, code: str
) -> None:
    before = row_counts()

    response = client_for(personas.otto).post(
        offline_url(personas.alice.pk), raw, content_type="application/json"
    )

    assert_error(response, 400, code, None)
    assert row_counts() == before


# --- Who may record a payment ----------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("staff", ["otto", "cora"])
def test_operator_and_coordinator_may_record_a_payment(
    personas: Personas, client_for: Client, payment_body: Body, staff: str
) -> None:
    response = pay(client_for(getattr(personas, staff)), personas.alice, payment_body())

    assert response.status_code == 201
    assert Payment.objects.get().recorded_by == getattr(personas, staff).user


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("alice", 403),  # members do not record their own cash
        ("bob", 403),
        ("hana", 403),
        ("clara", 404),  # Suffolk cannot see Southwark's members
        ("sam", 404),
        (None, 401),
    ],
)
def test_payment_refused_to_everyone_but_the_circles_staff(
    personas: Personas,
    client_for: Client,
    payment_body: Body,
    who: str | None,
    status: int,
) -> None:
    before = row_counts()
    caller = getattr(personas, who) if who else None

    membership = pay(client_for(caller), personas.alice, payment_body(reference="R1"))
    tokens = pay(client_for(caller), personas.alice, tokens_body(payment_body, reference="R2"))

    assert membership.status_code == status
    assert tokens.status_code == status
    assert membership.json()["code"]
    assert row_counts() == before


@pytest.mark.django_db
def test_payment_for_unknown_member_is_not_found(
    personas: Personas, client_for: Client, payment_body: Body
) -> None:
    missing = Member.objects.order_by("-pk").values_list("pk", flat=True)[0] + 1000

    response = client_for(personas.otto).post(offline_url(missing), payment_body(), format="json")

    assert_error(response, 404, "member_not_found", None)
    assert not Payment.objects.exists()


@pytest.mark.django_db
def test_staff_cannot_record_payment_for_another_circles_member(
    personas: Personas, client_for: Client, payment_body: Body
) -> None:
    response = pay(client_for(personas.cora), personas.sam, payment_body())

    assert response.status_code == 404
    assert not Payment.objects.exists()


# --- Concurrency (PostgreSQL) ----------------------------------------------------------------


def run_together(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run each call in its own thread (its own database connection), released at once."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def work(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            results[index] = call()
        except Exception as exc:  # reported by the assertions below, not lost in the thread
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="real concurrency needs PostgreSQL"
)


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_membership_payments_at_once_make_two_consecutive_years(
    personas: Personas, client_for: Client, payment_body: Body
) -> None:
    today = timezone.localdate()
    calls: list[Callable[[], Any]] = [
        lambda ref=ref: pay(client_for(personas.otto), personas.alice, payment_body(reference=ref))
        for ref in ("R1", "R2", "R3", "R4")
    ]

    responses = run_together(calls)

    assert [getattr(r, "status_code", r) for r in responses] == [201] * 4
    periods = list(MembershipPeriod.objects.filter(member=personas.alice).order_by("start"))
    assert periods[0].start == today
    for earlier, later in itertools.pairwise(periods):
        assert later.start == earlier.end + timedelta(days=1)
    assert [p.end for p in periods] == [year_end(p.start) for p in periods]
    assert AuditEvent.objects.filter(action="membership.status_changed").count() == 1


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_same_reference_twice_at_once_is_recorded_once(
    personas: Personas, client_for: Client, payment_body: Body
) -> None:
    calls: list[Callable[[], Any]] = [
        lambda member=member: pay(
            client_for(personas.otto), member, tokens_body(payment_body, reference="SAME")
        )
        for member in (personas.alice, personas.bob)
    ]

    responses = run_together(calls)

    assert sorted(getattr(r, "status_code", r) for r in responses) == [201, 409]
    refused = next(r for r in responses if r.status_code == 409)
    assert refused.json()["code"] == "duplicate_reference"
    assert Payment.objects.count() == 1
    assert LedgerTransaction.objects.count() == 1
    assert (
        sum(Account.objects.filter(kind=AccountKind.WALLET).values_list("balance", flat=True))
        == 180
    )


@pytest.mark.django_db
@pytest.mark.parametrize("purpose", ["tokens", "membership"])
def test_the_answer_is_the_payment_as_the_list_shows_it(
    personas: Personas, client_for: Client, purpose: str
) -> None:
    # The service says a new payment has no refunds (and, for tokens, no membership year)
    # rather than the answer reading them back: the answer is still what the list says.
    otto = client_for(personas.otto)
    body: dict[str, Any] = {"purpose": purpose, "method": "cash", "reference": "R-answer"}
    if purpose == "tokens":
        body["tokens"] = 2
    answer = otto.post(offline_url(personas.alice.pk), body, format="json")
    assert answer.status_code == 201, answer.json()
    listed = otto.get(f"/api/v1/members/{personas.alice.pk}/payments/").json()["results"]
    assert answer.json() == listed[0]
