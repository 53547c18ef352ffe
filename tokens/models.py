"""The token ledger: double entry in integer minutes of help.

The database holds the invariants itself (see tokens/migrations and tokens/ledger_sql.py):
- every transaction's entries sum to zero, with at least two entries (PostgreSQL: a deferred
  constraint trigger checked at commit; SQLite: the transaction row can only be inserted after
  its entries, and only if they balance, and no entry may join a transaction already written);
- entries are append-only: UPDATE and DELETE are refused by triggers;
- an account's `balance` is moved by a trigger in the same statement that writes its entries
  (on PostgreSQL nothing else may change it), and `ledger_audit` proves it equals their sum; a CHECK
  (balance >= 0) on wallets, the pot and escrow refuses an overdraft whatever code, or raw SQL,
  tries it;
- a transaction is reversed at most once (unique `reverses`), and an idempotency key is used
  once per circle.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from circle.models import Circle
from members.models import Member


class AccountKind(models.TextChoices):
    WALLET = "wallet", "Member wallet"
    ISSUANCE = "issuance", "Issuance (tokens sold)"
    POT = "pot", "Pot (donated tokens)"
    PAID_HELP = "paid_help", "Paid help"
    ESCROW = "escrow", "Escrow (held for booked tasks)"
    ADJUSTMENTS = "adjustments", "Adjustments"


SYSTEM_KINDS = tuple(kind for kind in AccountKind if kind != AccountKind.WALLET)
NEVER_NEGATIVE = (AccountKind.WALLET, AccountKind.POT, AccountKind.ESCROW)


class Account(models.Model):
    """A place minutes live. One wallet per member; one of each system kind per circle.

    Invariants: a wallet has a member and nothing else does; a wallet, the pot and escrow are
    never negative; `balance` equals the sum of the account's entries (see the module docstring).
    """

    # Indexed with the kind (`tokens_account_trial_order` below), which serves every lookup by
    # circle.
    circle = models.ForeignKey(Circle, on_delete=models.PROTECT, related_name="+", db_index=False)
    kind = models.CharField(max_length=12, choices=AccountKind.choices)
    member = models.OneToOneField(
        Member, on_delete=models.PROTECT, null=True, blank=True, related_name="wallet"
    )
    balance = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "tokens_account"
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=AccountKind.values), name="tokens_account_kind_valid"
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(kind=AccountKind.WALLET, member__isnull=False)
                    | (~models.Q(kind=AccountKind.WALLET) & models.Q(member__isnull=True))
                ),
                name="tokens_account_wallet_has_member",
            ),
            # Wallets, the pot and escrow hold real minutes; only issuance (tokens sold),
            # paid_help and adjustments are contra accounts that may run negative.
            models.CheckConstraint(
                condition=~models.Q(kind__in=NEVER_NEGATIVE) | models.Q(balance__gte=0),
                name="tokens_account_not_negative",
            ),
            models.UniqueConstraint(
                fields=["circle", "kind"],
                condition=~models.Q(kind=AccountKind.WALLET),
                name="tokens_account_one_system_account_per_kind",
            ),
        ]
        indexes = [
            # The trial balance's order (a page at a time, tokens.selectors.account_balances):
            # without it each page sorted the circle's accounts joined to every member.
            models.Index(fields=["circle", "kind", "id"], name="tokens_account_trial_order"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.member_id or self.circle_id}"


class TransactionKind(models.TextChoices):
    PURCHASE = "purchase", "Purchase"
    GIFT = "gift", "Gift"
    HOLD = "hold", "Hold"
    SETTLE = "settle", "Settle"
    RELEASE = "release", "Release"
    GRANT = "grant", "Grant from the pot"
    ADJUSTMENT = "adjustment", "Adjustment"
    REVERSAL = "reversal", "Reversal"


class LedgerTransaction(models.Model):
    """One movement of minutes: two or more entries that sum to zero. Never changed after it is
    written; a mistake is corrected by a reversing transaction with a reason."""

    # Indexed through (circle, idempotency_key) and (circle, -id); one index fewer per write.
    # No foreign key constraint either: the deferred balance check ties every transaction to
    # its entries' accounts, whose own foreign keys name the circle, so the constraint would
    # only add a KEY SHARE lock on the circle's row to every transfer in that circle.
    circle = models.ForeignKey(
        Circle, on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    kind = models.CharField(max_length=12, choices=TransactionKind.choices)
    memo = models.CharField(max_length=300, blank=True)
    # The caller's key (at most 200 characters) behind the movement's own prefix ("gift:").
    idempotency_key = models.CharField(max_length=255)
    # Whom it was done for, and who did it (None: the system, e.g. a Stripe webhook).
    # Not indexed and not constrained: readers find transactions through their entries'
    # accounts, and members and users are never deleted (PROTECT), so nothing looks these up
    # the other way; a constraint would only lock and log both rows at every transfer (see
    # AuditEvent). The accounts, which carry the money, keep their foreign keys.
    member = models.ForeignKey(
        Member,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    reverses = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reversals",
        db_index=False,  # the partial unique index below serves it
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "tokens_transaction"
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["circle", "idempotency_key"], name="tokens_transaction_unique_key"
            ),
            # Reversed at most once. Partial: most transactions reverse nothing, and their
            # NULLs need no index entry.
            models.UniqueConstraint(
                fields=["reverses"],
                condition=models.Q(reverses__isnull=False),
                name="tokens_transaction_reversed_once",
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=TransactionKind.values),
                name="tokens_transaction_kind_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(kind=TransactionKind.REVERSAL, reverses__isnull=False)
                | (~models.Q(kind=TransactionKind.REVERSAL) & models.Q(reverses__isnull=True)),
                name="tokens_transaction_reversal_names_original",
            ),
        ]
        indexes = [
            models.Index(fields=["circle", "-id"], name="tokens_tx_circle_newest"),
            # The coordinators' transaction list and export: a date range of one circle, newest
            # first, paged by (created_at, id) (keyset, never OFFSET), and each day's totals.
            models.Index(fields=["circle", "-created_at", "-id"], name="tokens_tx_circle_created"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"


class Entry(models.Model):
    """Minutes into (+) or out of (-) one account, as part of one transaction. Append-only.

    No circle column of its own: its transaction names the circle, and a trigger refuses an
    entry whose account is in another circle, which a copied column could not promise.
    """

    transaction = models.ForeignKey(
        LedgerTransaction, on_delete=models.PROTECT, related_name="entries"
    )
    # Indexed by (account, id) below, which also serves every lookup by account.
    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="entries", db_index=False
    )
    minutes = models.BigIntegerField()

    class Meta:
        db_table = "tokens_entry"
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(minutes=0), name="tokens_entry_minutes_not_zero"
            ),
        ]
        # Ascending, so each account's new entries go at the right of its range (read backwards
        # for "newest first").
        indexes = [models.Index(fields=["account", "id"], name="tokens_entry_account_id")]

    def __str__(self) -> str:
        return f"{self.account_id} {self.minutes:+d}"


class HoldStatus(models.TextChoices):
    OPEN = "open", "Open"
    SETTLED = "settled", "Settled"
    RELEASED = "released", "Released"


class Hold(models.Model):
    """Minutes a member has put in escrow for one booked task (or other reference).

    The minutes themselves sit in the circle's escrow account; this row says whose they are, so
    `held` can be shown per member. It is closed once, by a conditional update from `open`.
    """

    # Indexed with the reference (the unique constraint below), which serves every lookup by
    # circle.
    circle = models.ForeignKey(Circle, on_delete=models.PROTECT, related_name="+", db_index=False)
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="holds")
    reference = models.CharField(max_length=200)
    minutes = models.BigIntegerField()
    status = models.CharField(max_length=10, choices=HoldStatus.choices, default=HoldStatus.OPEN)
    hold_transaction = models.OneToOneField(
        LedgerTransaction, on_delete=models.PROTECT, related_name="hold"
    )
    close_transaction = models.OneToOneField(
        LedgerTransaction, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "tokens_hold"
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["circle", "reference"], name="tokens_hold_unique_ref"),
            models.CheckConstraint(
                condition=models.Q(minutes__gt=0), name="tokens_hold_minutes_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(status=HoldStatus.OPEN, close_transaction__isnull=True)
                | (~models.Q(status=HoldStatus.OPEN) & models.Q(close_transaction__isnull=False)),
                name="tokens_hold_closed_has_transaction",
            ),
        ]
        indexes = [
            models.Index(
                fields=["member"],
                condition=models.Q(status="open"),
                name="tokens_hold_open_by_member",
            ),
        ]

    def __str__(self) -> str:
        return f"hold {self.reference} {self.minutes}"


class ApprovalKind(models.TextChoices):
    ADJUSTMENT = "adjustment", "Adjustment"
    GRANT = "grant", "Grant from the pot"


class ApprovalStatus(models.TextChoices):
    PENDING = "pending", "Waiting for a second coordinator"
    APPROVED = "approved", "Approved"
    REFUSED = "refused", "Refused"


class Approval(models.Model):
    """An adjustment or grant waiting for a second coordinator (four eyes): one above the
    circle's `approval_threshold_minutes`, or any adjustment to a helper who is also staff.

    Invariants: it is decided once, by someone other than the one who asked; an approved one
    names the transaction it posted and a pending or refused one names none; the asker's
    idempotency key is used once per circle (the posting reuses it, so it moves minutes once).
    """

    circle = models.ForeignKey(Circle, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=12, choices=ApprovalKind.choices)
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    minutes = models.BigIntegerField()
    reason = models.CharField(max_length=500)
    idempotency_key = models.CharField(max_length=200)
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    asked_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(
        max_length=10, choices=ApprovalStatus.choices, default=ApprovalStatus.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.CharField(max_length=500, blank=True)
    transaction = models.OneToOneField(
        LedgerTransaction, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        db_table = "tokens_approval"
        ordering = ["asked_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["circle", "idempotency_key"], name="tokens_approval_unique_key"
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=ApprovalKind.values), name="tokens_approval_kind_valid"
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(
                        status=ApprovalStatus.PENDING,
                        decided_by__isnull=True,
                        decided_at__isnull=True,
                        transaction__isnull=True,
                    )
                    | models.Q(
                        status=ApprovalStatus.APPROVED,
                        decided_by__isnull=False,
                        decided_at__isnull=False,
                        transaction__isnull=False,
                    )
                    | models.Q(
                        status=ApprovalStatus.REFUSED,
                        decided_by__isnull=False,
                        decided_at__isnull=False,
                        transaction__isnull=True,
                    )
                ),
                name="tokens_approval_decided_once",
            ),
            models.CheckConstraint(
                condition=models.Q(decided_by__isnull=True)
                | ~models.Q(decided_by=models.F("asked_by")),
                name="tokens_approval_four_eyes",
            ),
        ]
        indexes = [
            models.Index(
                fields=["circle", "asked_at"],
                condition=models.Q(status="pending"),
                name="tokens_approval_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"approval {self.pk} {self.kind} {self.minutes:+d}"


class AuditRun(models.Model):
    """One run of `ledger_audit` and its verdict, so the ledger's page can say when the books
    were last proved and what was found. `circle` None: a run over every circle (the
    management command without --circle), which speaks for each of them. `actor` None: the
    command or a periodic job. Written once, never changed."""

    circle = models.ForeignKey(
        Circle, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    ran_at = models.DateTimeField(default=timezone.now)
    ok = models.BooleanField()
    checked_transactions = models.PositiveBigIntegerField(default=0)
    checked_accounts = models.PositiveBigIntegerField(default=0)
    problems = models.JSONField(default=list, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        db_table = "tokens_audit_run"
        ordering = ["-ran_at", "-id"]
        indexes = [models.Index(fields=["circle", "-ran_at"], name="tokens_audit_run_latest")]

    def __str__(self) -> str:
        return f"audit {self.ran_at:%Y-%m-%d %H:%M} {'ok' if self.ok else 'problems'}"


class MemoRedaction(models.Model):
    """What a transaction's memo says now, when the words it was written with had to go
    (a member's data erased: members/erasure.py). Ledger rows are append-only (the triggers
    refuse UPDATE), so a memo that quoted a member's words is not edited: this row stands in
    front of it, and every reader of memos reads through it (`tokens.memos`:
    COALESCE(redaction.memo, transaction.memo)). Since issue 14 memos name a task by its id
    ("Held for request 123") and the words live in the task, so only memos written before
    then, or typed by a person (a gift's note), ever need one.

    Invariant: at most one per transaction (the latest wording replaces the earlier)."""

    transaction = models.OneToOneField(
        LedgerTransaction, on_delete=models.PROTECT, related_name="redaction"
    )
    memo = models.CharField(max_length=300)
    redacted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "tokens_memo_redaction"

    def __str__(self) -> str:
        return f"memo of {self.transaction_id} redacted"
