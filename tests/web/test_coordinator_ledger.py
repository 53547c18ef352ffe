"""The coordinators' ledger (/coordinator/{slug}/ledger/...): the trial balance with the last
check's verdict and a button to check again; the transactions, filtered, keyset-paged and
totalled by day; a transaction's page and its reversal on a confirmation page; adjustments and
grants, and approvals by a second coordinator; a member's statement; the accountant's CSV,
streamed. Cora is Southwark's coordinator; Cole, a second one, is made where needed."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from members.models import AuditEvent, Member, RoleName
from tests.conftest import Personas
from tests.factories import MemberFactory, UserFactory
from tests.web.pages import text_of
from tokens.models import (
    Account,
    AccountKind,
    Approval,
    ApprovalStatus,
    AuditRun,
    LedgerTransaction,
    TransactionKind,
)
from tokens.services import (
    purchase_credit,
    reversal_create,
    transfer_create,
)

pytestmark = pytest.mark.django_db
# PostgreSQL stamps each ledger transaction with the database's own clock (a trigger refuses
# any other time), which a test cannot move to a chosen day; SQLite takes Python's, which
# time_machine moves. bench/coordinator.py covers a year of days on PostgreSQL.
moved_clock = pytest.mark.skipif(
    connection.vendor == "postgresql", reason="PostgreSQL's clock stamps the ledger"
)

BASE = "/coordinator/southwark/ledger/"
LONDON = ZoneInfo("Europe/London")


def buy(member: Member, minutes: int, key: str) -> int:
    return purchase_credit(
        member=member, minutes=minutes, payment_key=key, actor=None
    ).transaction_id


@pytest.fixture
def books(personas: Personas) -> dict[str, int]:
    """Alice bought 2 hours and Bob 1; Alice gave Bob 30 minutes and the pot an hour; Suffolk's
    Sam bought 1 hour."""
    alice_buys = buy(personas.alice, 120, "p-alice")
    bob_buys = buy(personas.bob, 60, "p-bob")
    gift = transfer_create(
        source=personas.alice,
        destination=personas.bob,
        minutes=30,
        memo="For the lift",
        actor=personas.alice.user,
        idempotency_key="g1",
    ).transaction_id
    to_pot = transfer_create(
        source=personas.alice,
        destination=None,
        minutes=60,
        memo="",
        actor=personas.alice.user,
        idempotency_key="g2",
    ).transaction_id
    sam_buys = buy(personas.sam, 60, "p-sam")
    return {
        "alice_buys": alice_buys,
        "bob_buys": bob_buys,
        "gift": gift,
        "to_pot": to_pot,
        "sam_buys": sam_buys,
    }


@pytest.fixture
def cora(client: Client, personas: Personas) -> Client:
    client.force_login(personas.cora.user)
    return client


def second_coordinator(personas: Personas, name: str = "Cole") -> Member:
    return MemberFactory(
        circle=personas.southwark,
        user=UserFactory(email=f"{name.lower()}@example.org", full_name=f"{name} Coordinator"),
        roles=[RoleName.COORDINATOR],
    )


def rows_written() -> dict[str, int]:
    return {
        "transactions": LedgerTransaction.objects.count(),
        "approvals": Approval.objects.count(),
        "audit": AuditEvent.objects.count(),
    }


# --- The trial balance ------------------------------------------------------------------------


def test_the_trial_balance_totals_zero_and_says_so(
    cora: Client, personas: Personas, books: dict[str, int]
) -> None:
    response = cora.get(BASE)
    assert response.status_code == 200
    words = text_of(response)
    assert "The accounts total 0 minutes: the books balance." in words
    # Issuance -180 (tokens sold), pot +60, wallets 120 over four wallets (Alice, Bob, and
    # none else: Hana and staff have none); Suffolk's hour is not here.
    assert "Issuance (tokens sold) -180 -3.00" in words
    assert "Pot (donated tokens) 60 1.00" in words
    assert "Members' wallets (2 wallets) 120 2.00" in words
    assert "Total 0 0.00" in words
    assert "The books have not been checked yet." in words


def test_checking_the_books_stores_the_verdict_and_shows_it(
    cora: Client, personas: Personas, books: dict[str, int]
) -> None:
    response = cora.post(f"{BASE}audit/", follow=True)
    words = text_of(response)
    assert "Checked just now: the books hold." in words
    assert "Passed" in words
    assert "by Cora Coordinator" in words
    run = AuditRun.objects.get()
    assert (run.circle, run.ok, run.actor) == (personas.southwark, True, personas.cora.user)
    # Southwark's four transactions, not Suffolk's.
    assert run.checked_transactions == 4
    event = AuditEvent.objects.get(action="tokens.audit_run")
    assert event.data["audit_run_id"] == run.pk


def test_a_failed_check_lists_its_problems(cora: Client, personas: Personas) -> None:
    AuditRun.objects.create(
        circle=personas.southwark, ok=False, problems=["account 7 (pot): balance 5 but 0"]
    )
    words = text_of(cora.get(BASE))
    assert "Problems found" in words
    assert "account 7 (pot): balance 5 but 0" in words
    assert "by the check run on the server" in words


def test_the_command_keeps_its_verdict_for_every_circle(
    cora: Client, personas: Personas, books: dict[str, int]
) -> None:
    from django.core.management import call_command

    call_command("ledger_audit", "--no-keep", stdout=io.StringIO())
    assert not AuditRun.objects.exists()
    call_command("ledger_audit", stdout=io.StringIO())
    run = AuditRun.objects.get()
    assert run.circle is None
    assert run.ok
    assert "(every circle's books)" in text_of(cora.get(BASE))


def test_checking_the_books_is_a_post(cora: Client) -> None:
    assert cora.get(f"{BASE}audit/").status_code == 405


# --- Transactions -----------------------------------------------------------------------------


def test_the_transactions_list_newest_first_with_their_entries(
    cora: Client, personas: Personas, books: dict[str, int]
) -> None:
    response = cora.get(f"{BASE}transactions/")
    assert response.status_code == 200
    words = text_of(response)
    order = [f"#{books[k]}" for k in ("to_pot", "gift", "bob_buys", "alice_buys")]
    positions = [words.index(tx) for tx in order]
    assert positions == sorted(positions)
    assert f"#{books['sam_buys']}" not in words  # Suffolk's
    assert "For the lift" in words
    assert "Alice Archer: -30" in words
    assert "Bob Baker: +30" in words
    assert "Pot (donated tokens): +60" in words


@pytest.mark.parametrize(
    ("query", "shown", "hidden"),
    [
        ({"kind": "gift"}, ["gift", "to_pot"], ["alice_buys", "bob_buys"]),
        ({"member": "BOB"}, ["gift", "bob_buys"], ["alice_buys", "to_pot"]),
        ({"min_minutes": "61"}, ["alice_buys"], ["gift", "bob_buys", "to_pot"]),
        ({"max_minutes": "30"}, ["gift"], ["alice_buys", "bob_buys", "to_pot"]),
        ({"min_minutes": "60", "max_minutes": "60"}, ["bob_buys", "to_pot"], ["gift"]),
    ],
)
def test_the_filters(
    cora: Client,
    personas: Personas,
    books: dict[str, int],
    query: dict[str, str],
    shown: list[str],
    hidden: list[str],
) -> None:
    if query.get("member") == "BOB":
        query = {"member": str(personas.bob.pk)}
    response = cora.get(f"{BASE}transactions/", query)
    ids = set(transaction_ids(response))
    assert {books[k] for k in shown} <= ids
    assert not ids & {books[k] for k in hidden}


def transaction_ids(response: Any) -> list[int]:
    import re

    return [
        int(n)
        for n in re.findall(
            r'href="/coordinator/southwark/ledger/transactions/(\d+)/"', response.content.decode()
        )
    ]


@moved_clock
def test_the_date_filter_takes_london_days(cora: Client, personas: Personas) -> None:
    with time_machine.travel(datetime(2026, 6, 1, 23, 30, tzinfo=LONDON), tick=False):
        early = buy(personas.alice, 60, "june-1")
    with time_machine.travel(datetime(2026, 6, 2, 0, 30, tzinfo=LONDON), tick=False):
        late = buy(personas.alice, 60, "june-2")
    ids = transaction_ids(cora.get(f"{BASE}transactions/", {"since": "2026-06-02"}))
    assert late in ids
    assert early not in ids
    ids = transaction_ids(
        cora.get(f"{BASE}transactions/", {"since": "2026-06-01", "until": "2026-06-01"})
    )
    assert ids == [early]


def test_bad_filters_are_shown_and_ignored(cora: Client, books: dict[str, int]) -> None:
    response = cora.get(
        f"{BASE}transactions/",
        {"since": "2026-06-05", "until": "2026-06-01", "min_minutes": "lots", "kind": "x"},
    )
    assert response.status_code == 200
    words = text_of(response)
    assert "There is a problem" in words
    assert "The last day must be on or after the first." in words
    assert "Enter minutes as a whole number, like 90." in words
    # Nothing valid narrowed the list: every transaction is still shown.
    assert len(transaction_ids(response)) == 4


def make_many(member: Member, n: int, *, at: datetime | None = None) -> list[int]:
    """`n` purchases for the member, all stamped with one moment when `at` is given (on
    PostgreSQL, one database transaction's timestamp; on SQLite, the frozen clock)."""
    ids: list[int] = []
    moment = at or timezone.now()
    with time_machine.travel(moment, tick=False), transaction.atomic():
        for i in range(n):
            ids.append(buy(member, 1 + i % 5, f"many-{member.pk}-{moment.timestamp()}-{i}"))
    return ids


def test_keyset_paging_is_complete_across_equal_timestamps(
    cora: Client, personas: Personas
) -> None:
    first = make_many(personas.alice, 30, at=timezone.now() - timedelta(hours=2))
    same = make_many(personas.bob, 60, at=timezone.now() - timedelta(hours=1))
    assert len(set(LedgerTransaction.objects.filter(pk__in=same).values_list("created_at"))) == 1
    seen: list[int] = []
    url = f"{BASE}transactions/"
    pages = 0
    while url:
        response = cora.get(url)
        seen += transaction_ids(response)
        older = response.context["older"]
        url = f"{BASE}transactions/{older}" if older else ""
        pages += 1
    assert pages == 2
    # Every transaction once, newest first (equal times: the larger id first).
    assert seen == sorted(first + same, reverse=True)


def test_paging_back_to_newer_pages(cora: Client, personas: Personas) -> None:
    ids = make_many(personas.alice, 120)
    page1 = cora.get(f"{BASE}transactions/")
    page2 = cora.get(f"{BASE}transactions/{page1.context['older']}")
    page3 = cora.get(f"{BASE}transactions/{page2.context['older']}")
    assert transaction_ids(page3) == sorted(ids, reverse=True)[100:]
    assert page3.context["older"] == ""
    back = cora.get(f"{BASE}transactions/{page3.context['newer']}")
    assert transaction_ids(back) == transaction_ids(page2)
    back = cora.get(f"{BASE}transactions/{back.context['newer']}")
    assert transaction_ids(back) == transaction_ids(page1)
    assert back.context["newer"] == ""


def test_paging_keeps_the_filters(cora: Client, personas: Personas) -> None:
    make_many(personas.alice, 55)
    make_many(personas.bob, 10)
    page1 = cora.get(f"{BASE}transactions/", {"member": personas.alice.pk})
    assert f"member={personas.alice.pk}" in page1.context["older"]
    page2 = cora.get(f"{BASE}transactions/{page1.context['older']}")
    assert len(transaction_ids(page2)) == 5


def test_a_broken_cursor_shows_the_first_page(cora: Client, books: dict[str, int]) -> None:
    response = cora.get(f"{BASE}transactions/", {"before": "yesterday.x"})
    assert len(transaction_ids(response)) == 4


@moved_clock
def test_each_days_totals_by_kind_and_a_day_opened(cora: Client, personas: Personas) -> None:
    with time_machine.travel(datetime(2026, 6, 1, 10, tzinfo=LONDON), tick=False):
        buy(personas.alice, 60, "d1")
    with time_machine.travel(datetime(2026, 6, 2, 10, tzinfo=LONDON), tick=False):
        buy(personas.bob, 30, "d2")
    response = cora.get(f"{BASE}days/", {"since": "2026-06-01", "until": "2026-06-03"})
    assert "Day by day" in text_of(response)
    days = response.context["days"]
    assert [row["day"].day.isoformat() for row in days] == ["2026-06-02", "2026-06-01"]
    assert [(row["day"].transactions, row["day"].moved, row["day"].net) for row in days] == [
        (1, 30, 0),
        (1, 60, 0),
    ]
    opened = cora.get(days[1]["href"])
    assert opened.context["one_day"]
    assert "This day's totals" in text_of(opened)
    assert len(transaction_ids(opened)) == 1


def test_the_transaction_list_runs_a_fixed_number_of_queries(
    cora: Client, personas: Personas, django_assert_num_queries: Any
) -> None:
    buy(personas.alice, 60, "one")
    cora.get(f"{BASE}transactions/")  # the session, warmed
    today = timezone.localdate(timezone=LONDON).isoformat()
    one_day = {"since": today, "until": today, "kind": "purchase"}
    # The session and its user, the caller, the page, its entries; and for one day, its totals.
    with django_assert_num_queries(5) as few:
        cora.get(f"{BASE}transactions/")
    with django_assert_num_queries(6) as few_one_day:
        cora.get(f"{BASE}transactions/", one_day)
    # The session and its user, the caller, the days' totals.
    with django_assert_num_queries(4) as few_days:
        cora.get(f"{BASE}days/")
    make_many(personas.alice, 40)
    make_many(personas.bob, 40)
    with django_assert_num_queries(len(few.captured_queries)):
        response = cora.get(f"{BASE}transactions/")
    assert len(transaction_ids(response)) == 50
    with django_assert_num_queries(len(few_one_day.captured_queries)):
        response = cora.get(f"{BASE}transactions/", one_day)
    assert len(transaction_ids(response)) == 50
    with django_assert_num_queries(len(few_days.captured_queries)):
        cora.get(f"{BASE}days/")


# --- A transaction and its reversal -----------------------------------------------------------


def test_a_transactions_page(cora: Client, personas: Personas, books: dict[str, int]) -> None:
    response = cora.get(f"{BASE}transactions/{books['gift']}/")
    assert response.status_code == 200
    words = text_of(response)
    assert f"Gift #{books['gift']}" in words
    assert "For Alice Archer" in words
    assert "Done by Alice Archer" in words
    assert "Memo For the lift" in words
    assert "Alice Archer's wallet -30" in words
    assert "Bob Baker's wallet +30" in words
    assert "Reverse this transaction" in words


def test_another_circles_transaction_is_not_found(cora: Client, books: dict[str, int]) -> None:
    assert cora.get(f"{BASE}transactions/{books['sam_buys']}/").status_code == 404
    assert cora.get(f"{BASE}transactions/{books['sam_buys']}/reverse/").status_code == 404


def test_reversing_asks_for_a_reason_then_reverses(
    cora: Client, personas: Personas, books: dict[str, int]
) -> None:
    url = f"{BASE}transactions/{books['bob_buys']}/reverse/"
    page = cora.get(url)
    assert "Reverse Purchase #" in text_of(page)
    key = page.context["form"].initial["idempotency_key"]
    before = rows_written()
    refused = cora.post(url, {"reason": "  ", "idempotency_key": key})
    assert refused.status_code == 200
    assert "Say why." in text_of(refused)
    assert rows_written() == before
    done = cora.post(url, {"reason": "Paid twice by mistake", "idempotency_key": key}, follow=True)
    words = text_of(done)
    assert "The trial balance still totals 0." in words
    reversal = LedgerTransaction.objects.get(reverses_id=books["bob_buys"])
    assert f"Reversal #{reversal.pk}" in words
    assert "This transaction has been reversed." in words
    # The reversal's page names what it reverses and why.
    words = text_of(cora.get(f"{BASE}transactions/{reversal.pk}/"))
    assert f"Reverses Purchase #{books['bob_buys']}" in words
    assert "Reason given Paid twice by mistake" in words
    assert "Total 0" in text_of(cora.get(BASE))
    # Sent again (a double click), it moves nothing more.
    cora.post(url, {"reason": "Paid twice by mistake", "idempotency_key": key})
    assert LedgerTransaction.objects.filter(reverses_id=books["bob_buys"]).count() == 1


def test_a_second_reversal_is_refused_with_its_message(
    cora: Client, personas: Personas, books: dict[str, int]
) -> None:
    reversal_create(
        original=LedgerTransaction.objects.get(pk=books["bob_buys"]),
        reason="first",
        actor=personas.cora.user,
    )
    before = rows_written()
    response = cora.post(
        f"{BASE}transactions/{books['bob_buys']}/reverse/",
        {"reason": "again", "idempotency_key": "other"},
    )
    assert response.status_code == 200
    assert "That transaction has already been reversed." in text_of(response)
    assert rows_written() == before


def test_a_task_movement_is_not_reversed(cora: Client, personas: Personas) -> None:
    from tokens.services import hold_create

    buy(personas.alice, 120, "for-hold")
    hold = hold_create(member=personas.alice, minutes=60, reference="task:1", actor=None)
    tx_id = hold.hold_transaction_id
    page = text_of(cora.get(f"{BASE}transactions/{tx_id}/"))
    assert "Reverse this transaction" not in page
    assert "undo it through the request" in page
    response = cora.post(
        f"{BASE}transactions/{tx_id}/reverse/", {"reason": "x", "idempotency_key": "k"}
    )
    assert response.status_code == 200
    assert "not reversed" in text_of(response)


def test_a_reversal_of_a_spent_purchase_is_refused(
    cora: Client, personas: Personas, books: dict[str, int]
) -> None:
    # Alice's 2 hours: 30 minutes given to Bob and an hour to the pot, so 30 are left.
    response = cora.post(
        f"{BASE}transactions/{books['alice_buys']}/reverse/",
        {"reason": "refund", "idempotency_key": "k"},
    )
    assert response.status_code == 200
    assert "not enough tokens" in text_of(response)
    assert not LedgerTransaction.objects.filter(reverses_id=books["alice_buys"]).exists()


def test_the_transaction_pages_run_a_fixed_number_of_queries(
    cora: Client, personas: Personas, books: dict[str, int], django_assert_num_queries: Any
) -> None:
    cora.get(BASE)
    # The session and its user, the caller, the transaction, its entries, its reversal, the
    # reason in the audit log.
    with django_assert_num_queries(7) as few:
        cora.get(f"{BASE}transactions/{books['bob_buys']}/")
    make_many(personas.bob, 20)
    with django_assert_num_queries(len(few.captured_queries)):
        cora.get(f"{BASE}transactions/{books['gift']}/")


# --- Adjustments, grants and approvals --------------------------------------------------------


def correction(cora: Client, **data: Any) -> Any:
    page = cora.get(f"{BASE}corrections/new/")
    key = page.context["form"].initial["idempotency_key"]
    return cora.post(f"{BASE}corrections/new/", {"idempotency_key": key, **data}, follow=True)


def test_a_small_adjustment_is_posted_at_once(cora: Client, personas: Personas) -> None:
    response = correction(
        cora, kind="adjustment", member=personas.bob.pk, minutes=-0 + 45, reason="Lost card"
    )
    words = text_of(response)
    assert "Done. The trial balance still totals 0." in words
    tx = LedgerTransaction.objects.get(kind=TransactionKind.ADJUSTMENT)
    assert response.redirect_chain[-1][0] == f"{BASE}transactions/{tx.pk}/"
    assert Account.objects.get(member=personas.bob).balance == 45
    assert "Reason given Lost card" in words
    assert AuditEvent.objects.filter(action="tokens.adjusted", actor=personas.cora.user).exists()


def test_an_adjustment_can_take_minutes_away(cora: Client, personas: Personas) -> None:
    buy(personas.bob, 60, "b")
    correction(cora, kind="adjustment", member=personas.bob.pk, minutes=-20, reason="Too much")
    assert Account.objects.get(member=personas.bob).balance == 40


def test_a_grant_comes_from_the_pot(
    cora: Client, personas: Personas, books: dict[str, int]
) -> None:
    response = correction(cora, kind="grant", member=personas.bob.pk, minutes=30, reason="Hard up")
    assert "Done." in text_of(response)
    pot = Account.objects.get(circle=personas.southwark, kind=AccountKind.POT)
    assert pot.balance == 30


def test_a_grant_the_pot_cannot_cover_is_refused(cora: Client, personas: Personas) -> None:
    before = rows_written()
    response = correction(cora, kind="grant", member=personas.bob.pk, minutes=30, reason="x")
    assert "There is a problem" in text_of(response)
    assert "not enough tokens" in text_of(response).lower()
    assert rows_written() == before


def test_a_large_correction_waits_for_a_second_coordinator(
    cora: Client, personas: Personas
) -> None:
    response = correction(
        cora, kind="adjustment", member=personas.bob.pk, minutes=601, reason="Big fix"
    )
    words = text_of(response)
    assert response.redirect_chain[-1][0] == f"{BASE}approvals/"
    assert "This is waiting for a second coordinator" in words
    assert "Nothing has moved yet." in words
    assert not LedgerTransaction.objects.filter(kind=TransactionKind.ADJUSTMENT).exists()
    approval = Approval.objects.get()
    assert approval.status == ApprovalStatus.PENDING
    # Cora asked: she sees it, and is told another coordinator must decide; no buttons.
    assert "You asked for this, so another coordinator must approve or refuse it." in words
    assert "Approve" not in words.replace("approve or refuse", "")


def test_the_asker_cannot_approve(cora: Client, personas: Personas) -> None:
    correction(cora, kind="adjustment", member=personas.bob.pk, minutes=601, reason="Big fix")
    approval = Approval.objects.get()
    response = cora.post(f"{BASE}approvals/{approval.pk}/", {"decision": "approve"}, follow=True)
    assert "You asked for this, so another coordinator must approve or refuse it." in text_of(
        response
    )
    approval.refresh_from_db()
    assert approval.status == ApprovalStatus.PENDING


def test_another_coordinator_approves(client: Client, personas: Personas) -> None:
    client.force_login(personas.cora.user)
    correction(client, kind="adjustment", member=personas.bob.pk, minutes=601, reason="Big fix")
    cole = second_coordinator(personas)
    client.force_login(cole.user)
    approval = Approval.objects.get()
    page = text_of(client.get(f"{BASE}approvals/"))
    assert "Adjustment for Bob Baker" in page
    assert "Asked by Cora Coordinator" in page
    response = client.post(
        f"{BASE}approvals/{approval.pk}/", {"decision": "approve", "reason": "Checked"}, follow=True
    )
    assert "Approved: Adjustment for Bob Baker is done." in text_of(response)
    assert "Nothing is waiting." in text_of(response)
    assert Account.objects.get(member=personas.bob).balance == 601
    # Decided once: a second decision is refused with its message.
    again = client.post(f"{BASE}approvals/{approval.pk}/", {"decision": "refuse"}, follow=True)
    assert "Another coordinator has already decided this." in text_of(again)


def test_another_coordinator_refuses(client: Client, personas: Personas) -> None:
    client.force_login(personas.cora.user)
    correction(client, kind="grant", member=personas.bob.pk, minutes=700, reason="Big grant")
    client.force_login(second_coordinator(personas).user)
    approval = Approval.objects.get()
    response = client.post(
        f"{BASE}approvals/{approval.pk}/", {"decision": "refuse", "reason": "No"}, follow=True
    )
    assert "Refused: nothing moved for Bob Baker." in text_of(response)
    approval.refresh_from_db()
    assert approval.status == ApprovalStatus.REFUSED
    assert not LedgerTransaction.objects.filter(kind=TransactionKind.GRANT).exists()


def test_another_circles_approval_is_not_found(client: Client, personas: Personas) -> None:
    client.force_login(personas.clara.user)
    from members.selectors import caller_for
    from tokens.services import correction_ask

    approval = correction_ask(
        kind="adjustment",
        member=personas.sam,
        minutes=900,
        reason="x",
        caller=caller_for(user=personas.clara.user, circle=personas.suffolk),
        idempotency_key="s",
    )
    assert isinstance(approval, Approval)
    client.force_login(personas.cora.user)
    assert client.post(f"{BASE}approvals/{approval.pk}/", {"decision": "refuse"}).status_code == 404


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"kind": "", "member": "BOB", "minutes": "10", "reason": "x"},
            "Choose an adjustment or a grant.",
        ),
        (
            {"kind": "adjustment", "member": "", "minutes": "10", "reason": "x"},
            "Enter the member number.",
        ),
        (
            {"kind": "adjustment", "member": "99999", "minutes": "10", "reason": "x"},
            "There is no member with that number in this circle.",
        ),
        (
            {"kind": "adjustment", "member": "SAM", "minutes": "10", "reason": "x"},
            "There is no member with that number in this circle.",
        ),
        (
            {"kind": "adjustment", "member": "BOB", "minutes": "0", "reason": "x"},
            "Enter a number of minutes other than 0.",
        ),
        (
            {"kind": "adjustment", "member": "BOB", "minutes": "1.5", "reason": "x"},
            "Enter minutes as a whole number, like 90.",
        ),
        ({"kind": "adjustment", "member": "BOB", "minutes": "10", "reason": ""}, "Say why."),
        (
            {"kind": "adjustment", "member": "CORA", "minutes": "10", "reason": "x"},
            "Staff cannot do this for their own member record.",
        ),
    ],
)
def test_a_correction_refused(
    cora: Client, personas: Personas, data: dict[str, str], message: str
) -> None:
    names = {"BOB": personas.bob.pk, "SAM": personas.sam.pk, "CORA": personas.cora.pk}
    data = {**data, "member": str(names.get(data["member"], data["member"]))}
    before = rows_written()
    response = correction(cora, **data)
    words = text_of(response)
    assert "There is a problem" in words
    assert message in words
    assert rows_written() == before


def test_the_correction_form_is_filled_from_a_statement(cora: Client, personas: Personas) -> None:
    page = cora.get(f"{BASE}corrections/new/", {"member": personas.bob.pk, "kind": "grant"})
    assert f'value="{personas.bob.pk}"' in page.content.decode()


# --- A member's statement ---------------------------------------------------------------------


def test_a_members_statement_with_running_balances(
    cora: Client, personas: Personas, books: dict[str, int]
) -> None:
    response = cora.get(f"{BASE}members/{personas.alice.pk}/")
    assert response.status_code == 200
    words = text_of(response)
    assert "Alice Archer's statement" in words
    assert "In their wallet now: 30 minutes" in words
    lines = response.context["found"].lines
    assert [(line.minutes, line.balance) for line in lines] == [(-60, 30), (-30, 90), (120, 120)]


def test_the_statement_pages_by_keyset(cora: Client, personas: Personas) -> None:
    make_many(personas.bob, 75)
    page1 = cora.get(f"{BASE}members/{personas.bob.pk}/")
    lines1 = page1.context["found"].lines
    page2 = cora.get(f"{BASE}members/{personas.bob.pk}/{page1.context['older']}")
    lines2 = page2.context["found"].lines
    assert (len(lines1), len(lines2)) == (50, 25)
    assert page2.context["older"] == ""
    # The balance runs on across the page break, down to the first purchase alone.
    assert lines2[0].balance == lines1[-1].balance - lines1[-1].minutes
    assert lines2[-1].balance == lines2[-1].minutes


def test_another_circles_member_has_no_statement_here(cora: Client, personas: Personas) -> None:
    assert cora.get(f"{BASE}members/{personas.sam.pk}/").status_code == 404


def test_a_member_with_no_wallet_yet(cora: Client, personas: Personas) -> None:
    words = text_of(cora.get(f"{BASE}members/{personas.hana.pk}/"))
    assert "Nothing has moved in or out of their wallet yet." in words


def test_the_statement_runs_a_fixed_number_of_queries(
    cora: Client, personas: Personas, django_assert_num_queries: Any
) -> None:
    buy(personas.bob, 60, "b1")
    cora.get(BASE)
    with django_assert_num_queries(6) as few:
        cora.get(f"{BASE}members/{personas.bob.pk}/")
    make_many(personas.bob, 70)
    with django_assert_num_queries(len(few.captured_queries)):
        cora.get(f"{BASE}members/{personas.bob.pk}/")


# --- The export -------------------------------------------------------------------------------


def test_the_export_page_offers_last_month(cora: Client) -> None:
    response = cora.get(f"{BASE}export/")
    assert response.status_code == 200
    words = text_of(response)
    assert "one row per entry" in words
    assert response.context["form"].initial["since"].day == 1


def test_the_export_streams_one_row_per_entry(
    cora: Client, personas: Personas, books: dict[str, int]
) -> None:
    today = timezone.localdate(timezone=LONDON).isoformat()
    response = cora.get(f"{BASE}export/", {"since": today, "until": today})
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert f'filename="southwark-ledger-{today}-to-{today}.csv"' in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    # Four transactions of two entries each; Suffolk's purchase is not here.
    assert len(rows) == 8
    assert {int(r["transaction"]) for r in rows} == {
        books[k] for k in ("alice_buys", "bob_buys", "gift", "to_pot")
    }
    gift = [r for r in rows if int(r["transaction"]) == books["gift"]]
    assert [(r["account_member_name"], r["minutes"], r["tokens"]) for r in gift] == [
        ("Alice Archer", "-30", "-0.50"),
        ("Bob Baker", "30", "0.50"),
    ]
    assert gift[0]["kind"] == "gift"
    assert gift[0]["memo"] == "For the lift"
    assert sum(int(r["minutes"]) for r in rows) == 0


def test_the_export_refuses_bad_dates(cora: Client) -> None:
    response = cora.get(f"{BASE}export/", {"since": "2026-06-02", "until": "2026-06-01"})
    assert not getattr(response, "streaming", False)
    assert "The last day must be on or after the first." in text_of(response)
    response = cora.get(f"{BASE}export/", {"since": "2024-01-01", "until": "2026-01-01"})
    assert "Export at most a year at a time." in text_of(response)
    response = cora.get(f"{BASE}export/", {"since": "", "until": ""})
    assert "Enter a date." in text_of(response)


# --- Access -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["", "transactions/", "days/", "corrections/new/", "approvals/", "export/"],
)
def test_an_operator_is_refused_and_another_circle_not_found(
    client: Client, personas: Personas, path: str
) -> None:
    client.force_login(personas.otto.user)
    assert client.get(f"{BASE}{path}").status_code == 403
    client.force_login(personas.clara.user)
    assert client.get(f"{BASE}{path}").status_code == 404


def test_the_ledger_pages_run_a_fixed_number_of_queries(
    cora: Client, personas: Personas, django_assert_num_queries: Any
) -> None:
    cora.get(BASE)
    counts = {}
    for path in ("", "approvals/", "corrections/new/", "export/"):
        with django_assert_num_queries(99, exact=False) as q:
            cora.get(f"{BASE}{path}")
        counts[path] = len(q.captured_queries)
    make_many(personas.alice, 30)
    make_many(personas.bob, 30)
    cora.post(f"{BASE}audit/")
    for n in range(3):
        correction(
            cora, kind="adjustment", member=personas.bob.pk, minutes=700 + n, reason=f"big {n}"
        )
    for path, count in counts.items():
        with django_assert_num_queries(count):
            cora.get(f"{BASE}{path}")
