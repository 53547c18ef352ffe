"""Random sequences of every way tokens move, against a model of the books kept in Python.

Each rule predicts from the model what the service must do (move these minutes, answer a replay
with the first transaction, or refuse with this code) and checks that it did; after every step
the invariants check the database itself: the audit is clean, each circle's books sum to zero,
no wallet, pot or escrow is negative, every balance equals its entries, every account matches
the model, and GET /tokens/ shows each member what the model says they have.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import ClassVar

import pytest
from django.db import transaction
from django.db.models import Sum
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from rest_framework.test import APIClient

from circle.errors import DomainError
from members.models import Member, User
from tests.conftest import Personas
from tokens.models import NEVER_NEGATIVE, Account, AccountKind, Entry, Hold, LedgerTransaction
from tokens.selectors import ledger_audit
from tokens.services import (
    Posted,
    adjustment_create,
    grant_create,
    hold_create,
    hold_release,
    hold_settle,
    purchase_credit,
    reversal_create,
    transfer_create,
)

# An account in the model: (circle slug, kind, member name or None).
Acct = tuple[str, str, str | None]
Legs = tuple[tuple[Acct, int], ...]

MEMBERS = ("alice", "bob", "hana", "sam")  # sam is in Suffolk, the others in Southwark
CIRCLE = {"alice": "southwark", "bob": "southwark", "hana": "southwark", "sam": "suffolk"}
REVERSIBLE = {"purchase", "gift", "grant", "adjustment"}

# A few shared keys and references, so that reusing one (for the same or a different movement)
# is common, or None for a fresh key; and a few round amounts, so that a reuse is often the same
# movement again (a replay), plus odd ones.
keys = st.one_of(st.sampled_from(["k1", "k2"]), st.none())
references = st.sampled_from(["task-1", "task-2", "task-3"])
# Alice twice: most movements are hers, so that her holds get settled and released.
members = st.sampled_from(("alice", *MEMBERS))
amounts = st.one_of(st.sampled_from([15, 30, 60]), st.integers(min_value=1, max_value=240))
purchases = st.one_of(st.sampled_from([60, 120, 240]), st.integers(min_value=1, max_value=600))


def wallet(name: str) -> Acct:
    return (CIRCLE[name], AccountKind.WALLET, name)


def system(circle: str, kind: str) -> Acct:
    return (circle, kind, None)


def tokens(minutes: int) -> str:
    return str((Decimal(minutes) / 60).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


@dataclass
class ModelTx:
    id: int
    kind: str
    legs: Legs
    reversed: bool = False


@dataclass
class ModelHold:
    pk: int
    member: str
    minutes: int
    status: str = "open"
    close_legs: Legs = ()
    close_id: int | None = None


@dataclass
class Expect:
    """What the model says a call must do: move `legs`, replay `replay`, or fail with `code`."""

    legs: Legs = ()
    replay: int | None = None
    code: str | None = None


@dataclass
class Model:
    balances: dict[Acct, int] = field(default_factory=dict)
    # (circle, prefixed key) -> (kind, sorted legs, transaction id)
    keys: dict[tuple[str, str], tuple[str, Legs, int]] = field(default_factory=dict)
    transactions: dict[int, ModelTx] = field(default_factory=dict)
    holds: dict[tuple[str, str], ModelHold] = field(default_factory=dict)

    def balance(self, acct: Acct) -> int:
        return self.balances.get(acct, 0)

    def overdraws(self, legs: Legs) -> bool:
        after = dict(self.balances)
        for acct, minutes in legs:
            after[acct] = after.get(acct, 0) + minutes
        return any(after[acct] < 0 for acct, _ in legs if acct[1] in NEVER_NEGATIVE)

    def expect(self, circle: str, key: str, kind: str, legs: Legs) -> Expect:
        """The rules of `_post`: a used key is looked at before any balance."""
        legs = tuple(sorted(legs))
        used = self.keys.get((circle, key))
        if used is not None:
            if used[:2] == (kind, legs):
                return Expect(replay=used[2])
            return Expect(code="idempotency_key_reused")
        if self.overdraws(legs):
            return Expect(code="insufficient_tokens")
        return Expect(legs=legs)

    def apply(self, circle: str, key: str, kind: str, legs: Legs, tx_id: int) -> None:
        legs = tuple(sorted(legs))
        for acct, minutes in legs:
            self.balances[acct] = self.balance(acct) + minutes
        self.keys[(circle, key)] = (kind, legs, tx_id)
        self.transactions[tx_id] = ModelTx(tx_id, kind, legs)

    def held(self, name: str) -> int:
        return sum(
            h.minutes for h in self.holds.values() if h.member == name and h.status == "open"
        )


class LedgerMachine(RuleBasedStateMachine):
    """Set `personas` and `clients` on the class before running it (see the test below)."""

    personas: ClassVar[Personas]
    clients: ClassVar[dict[str, APIClient]]

    def __init__(self) -> None:
        super().__init__()
        # Every example starts from the personas with an empty ledger: the test runs inside
        # pytest-django's transaction, and each example inside a savepoint of it, rolled back
        # in teardown(). This works the same on SQLite and PostgreSQL and keeps the `personas`
        # fixture; hypothesis.extra.django.TestCase would need a unittest class instead and
        # would rebuild the people for every example. The services open only savepoints of
        # their own when already inside a transaction, so nothing escapes the rollback.
        self._example = transaction.atomic()
        self._example.__enter__()
        self.model = Model()
        self.fresh = 0

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._example.__exit__(None, None, None)

    # --- helpers ------------------------------------------------------------------------------

    def key(self, key: str | None) -> str:
        if key is None:
            self.fresh += 1
            return f"fresh-{self.fresh}"
        return key

    def member(self, name: str) -> Member:
        member: Member = getattr(self.personas, name)
        return member

    def call(self, expect: Expect, action: Callable[[], Posted]) -> Posted | None:
        """Run the service and check it did what the model expects. Returns what it posted."""
        if expect.code is not None:
            with pytest.raises(DomainError) as refused:
                action()
            assert refused.value.code == expect.code, refused.value.detail
            return None
        posted = action()
        if expect.replay is not None:
            assert posted == Posted(expect.replay, created=False)
        else:
            assert posted.created
            moved = sorted(
                Entry.objects.filter(transaction_id=posted.transaction_id).values_list(
                    "account_id", "minutes"
                )
            )
            assert moved == sorted((self.account_id(a), m) for a, m in expect.legs)
        return posted

    def account_id(self, acct: Acct) -> int:
        circle, kind, name = acct
        if name is not None:
            return Account.objects.get(member=self.member(name)).pk
        return Account.objects.get(circle__slug=circle, kind=kind).pk

    def post(
        self, circle: str, key: str, kind: str, legs: Legs, action: Callable[[], Posted]
    ) -> None:
        expect = self.model.expect(circle, key, kind, legs)
        posted = self.call(expect, action)
        if posted is not None and posted.created:
            self.model.apply(circle, key, kind, legs, posted.transaction_id)

    # --- rules: every movement ----------------------------------------------------------------

    @initialize(
        alice=st.sampled_from([0, 120, 240]),
        bob=st.sampled_from([0, 60, 120]),
        pot=st.sampled_from([0, 30, 60]),
    )
    def opening(self, alice: int, bob: int, pot: int) -> None:
        """Often start with money in wallets and the pot, so that holds, settles, releases and
        grants get past "insufficient" within a short run."""
        for name, minutes in (("alice", alice), ("bob", bob)):
            if minutes:
                self.purchase(name, minutes, None)
        if pot:
            self.gift("bob", "pot", pot, None)

    @rule(name=members, minutes=purchases, key=keys)
    def purchase(self, name: str, minutes: int, key: str | None) -> None:
        key = self.key(key)
        circle = CIRCLE[name]
        legs = ((system(circle, AccountKind.ISSUANCE), -minutes), (wallet(name), minutes))
        self.post(
            circle,
            f"purchase:{key}",
            "purchase",
            legs,
            lambda: purchase_credit(
                member=self.member(name), minutes=minutes, payment_key=key, actor=None
            ),
        )

    @rule(source=members, to=st.sampled_from((*MEMBERS, "pot")), minutes=amounts, key=keys)
    def gift(self, source: str, to: str, minutes: int, key: str | None) -> None:
        key = self.key(key)
        circle = CIRCLE[source]

        def give() -> Posted:
            return transfer_create(
                source=self.member(source),
                destination=None if to == "pot" else self.member(to),
                minutes=minutes,
                memo="",
                actor=None,
                idempotency_key=key,
            )

        if to != "pot" and CIRCLE[to] != circle:
            self.call(Expect(code="member_not_found"), give)
            return
        if to == source:
            self.call(Expect(code="same_member"), give)
            return
        target = system(circle, AccountKind.POT) if to == "pot" else wallet(to)
        legs = ((wallet(source), -minutes), (target, minutes))
        self.post(circle, f"gift:{key}", "gift", legs, give)

    @rule(source=members, to=st.sampled_from(("pot", "other")), extra=amounts)
    def overspend(self, source: str, to: str, extra: int) -> None:
        """A gift of more than is available, with a fresh key: always refused."""
        minutes = self.model.balance(wallet(source)) + extra
        destination = None
        if to == "other":
            destination = self.member("bob" if source != "bob" else "alice")
            if destination.circle_id != self.member(source).circle_id:
                destination = None
        self.call(
            Expect(code="insufficient_tokens"),
            lambda: transfer_create(
                source=self.member(source),
                destination=destination,
                minutes=minutes,
                memo="",
                actor=None,
                idempotency_key=self.key(None),
            ),
        )

    @rule(name=members, minutes=amounts, reference=references)
    def hold(self, name: str, minutes: int, reference: str) -> None:
        circle = CIRCLE[name]
        existing = self.model.holds.get((circle, reference))

        def book() -> Posted:
            made = hold_create(
                member=self.member(name), minutes=minutes, reference=reference, actor=None
            )
            return Posted(made.hold_transaction_id, created=made.pk not in known)

        known = {h.pk for h in self.model.holds.values()}
        if existing is not None:
            if (existing.member, existing.minutes) == (name, minutes):
                hold_tx = Hold.objects.get(pk=existing.pk).hold_transaction_id
                self.call(Expect(replay=hold_tx), book)
            else:
                self.call(Expect(code="idempotency_key_reused"), book)
            return
        legs = ((wallet(name), -minutes), (system(circle, AccountKind.ESCROW), minutes))
        expect = self.model.expect(circle, f"hold:{reference}", "hold", legs)
        posted = self.call(expect, book)
        if posted is not None:
            self.model.apply(circle, f"hold:{reference}", "hold", legs, posted.transaction_id)
            pk = Hold.objects.get(hold_transaction_id=posted.transaction_id).pk
            self.model.holds[(circle, reference)] = ModelHold(pk, name, minutes)

    @precondition(lambda self: bool(self.model.holds))
    @rule(
        data=st.data(),
        minutes_done=amounts,
        helper=st.sampled_from(("hana", "bob", "sam", "paid")),
    )
    def settle(self, data: st.DataObject, minutes_done: int, helper: str) -> None:
        where = data.draw(st.sampled_from(sorted(self.model.holds)), label="hold")
        circle, _ = where
        held = self.model.holds[where]
        helper_member = None if helper == "paid" else self.member(helper)

        def pay() -> Posted:
            return hold_settle(
                hold=Hold.objects.get(pk=held.pk),
                minutes_done=minutes_done,
                helper=helper_member,
                actor=None,
            )

        if minutes_done > held.minutes:
            self.call(Expect(code="more_than_held"), pay)
            return
        if helper != "paid" and CIRCLE[helper] != circle:
            self.call(Expect(code="member_not_found"), pay)
            return
        to = system(circle, AccountKind.PAID_HELP) if helper == "paid" else wallet(helper)
        legs: Legs = tuple(
            sorted(
                leg
                for leg in (
                    (system(circle, AccountKind.ESCROW), -held.minutes),
                    (to, minutes_done),
                    (wallet(held.member), held.minutes - minutes_done),
                )
                if leg[1] != 0
            )
        )
        self.close(held, circle, "settled", "settle", legs, pay)

    @precondition(lambda self: bool(self.model.holds))
    @rule(data=st.data())
    def release(self, data: st.DataObject) -> None:
        where = data.draw(st.sampled_from(sorted(self.model.holds)), label="hold")
        circle, _ = where
        held = self.model.holds[where]
        legs: Legs = tuple(
            sorted(
                (
                    (system(circle, AccountKind.ESCROW), -held.minutes),
                    (wallet(held.member), held.minutes),
                )
            )
        )
        self.close(
            held,
            circle,
            "released",
            "release",
            legs,
            lambda: hold_release(hold=Hold.objects.get(pk=held.pk), actor=None),
        )

    def close(
        self,
        held: ModelHold,
        circle: str,
        status: str,
        kind: str,
        legs: Legs,
        action: Callable[[], Posted],
    ) -> None:
        if held.status != "open":
            if held.status == status and held.close_legs == legs:
                self.call(Expect(replay=held.close_id), action)
            else:
                self.call(Expect(code="hold_closed"), action)
            return
        posted = self.call(Expect(legs=legs), action)
        assert posted is not None
        self.model.apply(circle, f"{kind}:{held.pk}", kind, legs, posted.transaction_id)
        held.status, held.close_legs, held.close_id = status, legs, posted.transaction_id

    @rule(name=members, minutes=amounts, key=keys)
    def grant(self, name: str, minutes: int, key: str | None) -> None:
        key = self.key(key)
        circle = CIRCLE[name]
        legs = ((system(circle, AccountKind.POT), -minutes), (wallet(name), minutes))
        self.post(
            circle,
            f"grant:{key}",
            "grant",
            legs,
            lambda: grant_create(
                member=self.member(name),
                minutes=minutes,
                reason="hardship",
                actor=None,
                idempotency_key=key,
            ),
        )

    @rule(
        name=members,
        minutes=st.integers(min_value=-240, max_value=240).filter(bool),
        key=keys,
    )
    def adjustment(self, name: str, minutes: int, key: str | None) -> None:
        key = self.key(key)
        circle = CIRCLE[name]
        legs = ((system(circle, AccountKind.ADJUSTMENTS), -minutes), (wallet(name), minutes))
        self.post(
            circle,
            f"adjustment:{key}",
            "adjustment",
            legs,
            lambda: adjustment_create(
                member=self.member(name),
                minutes=minutes,
                reason="correction",
                actor=None,
                idempotency_key=key,
            ),
        )

    @precondition(lambda self: bool(self.model.transactions))
    @rule(data=st.data())
    def reversal(self, data: st.DataObject) -> None:
        """Any transaction: reversible ones once; holds, settles, releases and reversals never."""
        tx = self.model.transactions[
            data.draw(st.sampled_from(sorted(self.model.transactions)), label="transaction")
        ]
        self.reverse(tx)

    @precondition(lambda self: any(tx.reversed for tx in self.model.transactions.values()))
    @rule(data=st.data())
    def reversal_again(self, data: st.DataObject) -> None:
        reversed_ids = sorted(tx.id for tx in self.model.transactions.values() if tx.reversed)
        self.reverse(self.model.transactions[data.draw(st.sampled_from(reversed_ids))])

    def reverse(self, tx: ModelTx) -> None:
        inverse: Legs = tuple(sorted((acct, -minutes) for acct, minutes in tx.legs))
        if tx.kind not in REVERSIBLE:
            expect = Expect(code="not_reversible")
        elif tx.reversed:
            expect = Expect(code="already_reversed")
        elif self.model.overdraws(inverse):
            expect = Expect(code="insufficient_tokens")
        else:
            expect = Expect(legs=inverse)
        posted = self.call(
            expect,
            lambda: reversal_create(
                original=LedgerTransaction.objects.get(pk=tx.id), reason="mistake", actor=None
            ),
        )
        if posted is not None:
            circle = inverse[0][0][0]
            self.model.apply(
                circle, f"reversal:of-{tx.id}", "reversal", inverse, posted.transaction_id
            )
            tx.reversed = True

    # --- invariants ---------------------------------------------------------------------------

    @invariant()
    def the_audit_is_clean(self) -> None:
        report = ledger_audit()
        assert report.ok, report.problems

    @invariant()
    def each_circles_books_sum_to_zero(self) -> None:
        totals = Account.objects.values("circle_id").annotate(total=Sum("balance"))
        assert all(row["total"] == 0 for row in totals), list(totals)

    @invariant()
    def nothing_that_holds_real_minutes_is_negative(self) -> None:
        assert not Account.objects.filter(kind__in=NEVER_NEGATIVE, balance__lt=0).exists()

    @invariant()
    def balances_equal_their_entries(self) -> None:
        for account in Account.objects.annotate(total=Sum("entries__minutes")):
            assert account.balance == (account.total or 0), account

    @invariant()
    def every_account_matches_the_model(self) -> None:
        actual = {}
        for account in Account.objects.select_related("circle", "member"):
            name = None
            if account.member is not None:
                name = next(n for n in MEMBERS if self.member(n).pk == account.member.pk)
            actual[(account.circle.slug, account.kind, name)] = account.balance
        expected = {acct: minutes for acct, minutes in self.model.balances.items()}
        assert {a: m for a, m in actual.items() if m} == {a: m for a, m in expected.items() if m}

    @invariant()
    def each_member_sees_what_the_model_says(self) -> None:
        for name in MEMBERS:
            available = self.model.balance(wallet(name))
            held = self.model.held(name)
            response = self.clients[name].get(f"/api/v1/members/{self.member(name).pk}/tokens/")
            assert response.status_code == 200
            assert response.json() == {
                "balance": {"minutes": available + held, "tokens": tokens(available + held)},
                "held": {"minutes": held, "tokens": tokens(held)},
                "available": {"minutes": available, "tokens": tokens(available)},
            }


@pytest.mark.django_db
def test_random_movements_keep_the_books(
    personas: Personas, client_for: Callable[[Member | User | None], APIClient]
) -> None:
    LedgerMachine.personas = personas
    LedgerMachine.clients = {name: client_for(getattr(personas, name)) for name in MEMBERS}

    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=10,
            stateful_step_count=40,
            deadline=None,  # database round trips vary; speed is bench/'s business
            database=None,  # no example files written into the checkout
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )


def test_tokens_helper_rounds_like_the_contract() -> None:
    # The model's own arithmetic, pinned so that the comparison above cannot agree by accident.
    assert [tokens(m) for m in (0, 1, 3, 30, 90, 100)] == [
        "0.00",
        "0.02",
        "0.05",
        "0.50",
        "1.50",
        "1.67",
    ]
