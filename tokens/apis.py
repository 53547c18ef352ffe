from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.utils.dateparse import parse_date, parse_datetime
from django.utils.timezone import get_current_timezone, make_aware
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from circle.errors import InvalidInput, NotFound
from circle.models import Circle
from circle.pagination import PaginatedApi, Pagination
from circle.selectors import circle_get
from circle.serializers import StrictInputSerializer, moment_text, query_id
from circle.words import token_count_text
from members.models import Member
from members.selectors import (
    Caller,
    acting_member,
    coordinator_access,
    member_access,
    member_get,
    signed_in,
)
from tokens.memos import rows_describe
from tokens.models import Account, Approval, ApprovalKind, LedgerTransaction
from tokens.selectors import (
    AccountBalance,
    account_balances,
    account_count_and_total,
    approval_access,
    approval_list,
    ledger_audit,
    member_statement,
    member_tokens,
    token_quantity,
    transaction_list,
)
from tokens.services import (
    approval_approve,
    approval_refuse,
    correction_ask,
    new_key,
    reversal_create,
    transfer_create,
)

TOKEN_QUANTITY = inline_serializer(
    "TokenQuantity",
    {"minutes": serializers.IntegerField(), "tokens": serializers.CharField()},
)


# --- A member's tokens ------------------------------------------------------------------------


class MemberTokensApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        responses=inline_serializer(
            "MemberTokens",
            {"balance": TOKEN_QUANTITY, "held": TOKEN_QUANTITY, "available": TOKEN_QUANTITY},
        )
    )
    def get(self, request: Request, member_id: int) -> Response:
        member, _ = member_access(user=request.user, member_id=member_id, scope="statement")
        tokens = member_tokens(member=member)
        circle = member.circle
        return Response(
            {
                "balance": token_quantity(tokens.balance, circle=circle).as_json(),
                "held": token_quantity(tokens.held, circle=circle).as_json(),
                "available": token_quantity(tokens.available, circle=circle).as_json(),
            }
        )


class StatementLineOutput(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    kind = serializers.CharField()
    description = serializers.CharField()
    minutes = serializers.IntegerField(help_text="signed: + into the wallet, - out of it")
    balance = serializers.IntegerField(help_text="the wallet's minutes after this entry")
    transaction_id = serializers.IntegerField()


class MemberStatementApi(PaginatedApi, APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=StatementLineOutput(many=True))
    def get(self, request: Request, member_id: int) -> Response:
        member, _ = member_access(user=request.user, member_id=member_id, scope="statement")
        paginator = self.paginator()
        limit, offset = paginator.window(request)
        count, lines = member_statement(member=member, limit=limit, offset=offset)
        return paginator.counted_response(
            count=count, results=StatementLineOutput(lines, many=True).data
        )


# --- Transfers --------------------------------------------------------------------------------


class TransferInput(StrictInputSerializer):
    member_id = serializers.IntegerField(required=False, help_text="staff: the giver")
    to_member_id = serializers.IntegerField(required=False)
    to = serializers.ChoiceField(choices=["pot"], required=False)
    minutes = serializers.IntegerField()
    memo = serializers.CharField(max_length=300, required=False, allow_blank=True)
    idempotency_key = serializers.CharField(max_length=200)
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True)
    call_reference = serializers.CharField(max_length=100, required=False, allow_blank=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("to_member_id" in attrs) == ("to" in attrs):
            # Neither is a missing field; both is a contradiction, which "required" would misname.
            both = "to_member_id" in attrs
            raise serializers.ValidationError(
                {
                    "to_member_id": [
                        serializers.ErrorDetail(
                            'Give either to_member_id or to: "pot", not both.'
                            if both
                            else 'Give either to_member_id or to: "pot".',
                            code="invalid" if both else "required",
                        )
                    ]
                }
            )
        return attrs


class EntryOutput(serializers.Serializer[Any]):
    account_id = serializers.IntegerField()
    account = serializers.CharField(source="account.kind")
    member_id = serializers.IntegerField(source="account.member_id", allow_null=True)
    minutes = serializers.IntegerField()


class TransactionOutput(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    memo = serializers.CharField()
    member_id = serializers.IntegerField(allow_null=True)
    reverses_id = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()
    entries = EntryOutput(many=True)


def transactions_json(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """TransactionOutput's shape built from `transaction_list`'s plain rows with their
    entries, for the ledger's pages of 50 transactions: model instances and nested
    serializers were most of the request's time. `created_at` is written as DRF's field
    writes it (`moment_text`; a test compares the two)."""
    zone = get_current_timezone()
    rows = [dict(row) for row in rows]
    rows_describe(rows)
    return [
        {
            "id": row["id"],
            "kind": row["kind"],
            "memo": row["memo"],
            "member_id": row["member_id"],
            "reverses_id": row["reverses_id"],
            "created_at": moment_text(row["created_at"], zone),
            "entries": row["entries"],
        }
        for row in rows
    ]


def _transaction_body(transaction_id: int) -> dict[str, Any]:
    tx = LedgerTransaction.objects.prefetch_related("entries__account").get(pk=transaction_id)
    return dict(TransactionOutput(tx).data)


class TransferApi(APIView):
    """A gift: to another member of the circle, or to its pot."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=TransferInput, responses={201: TransactionOutput, 200: TransactionOutput}
    )
    def post(self, request: Request) -> Response:
        data = TransferInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        # Giving a member's tokens away is no trusted person's (no scope covers it).
        source, caller = acting_member(
            user=request.user, member_id=values.get("member_id"), scope=None
        )
        destination = None
        if "to_member_id" in values:
            try:
                destination = member_get(circle=source.circle, member_id=values["to_member_id"])
            except NotFound:
                raise InvalidInput(
                    "member_not_found", "No such member in this circle.", field="to_member_id"
                ) from None
        acting_for_other = caller.member is None or caller.member.pk != source.pk
        posted = transfer_create(
            source=source,
            destination=destination,
            minutes=values["minutes"],
            memo=values.get("memo", ""),
            actor=caller.user,
            idempotency_key=values["idempotency_key"],
            reason=values.get("reason", "") if acting_for_other else "",
            call_reference=values.get("call_reference", "") if acting_for_other else "",
        )
        return Response(
            _transaction_body(posted.transaction_id),
            status=status.HTTP_201_CREATED if posted.created else status.HTTP_200_OK,
        )


# --- The coordinator's books ------------------------------------------------------------------


def _coordinator(request: Request, slug: str) -> tuple[Circle, Caller]:
    circle = circle_get(slug=slug)
    return circle, coordinator_access(user=request.user, circle=circle, what="its books")


# The years a ledger filter may name. Nothing in any circle's books is older than 1900, and the
# edges of Python's and the databases' calendars (year 1, year 9999) are where a day added or a
# time zone applied overflows: `to=9999-12-31` (its next day) or `from=0001-01-01T00:00+01:00`
# (in UTC, the year 0, on SQLite) failed as a 500.
EARLIEST_YEAR, LATEST_YEAR = 1900, 9998


def _parse_moment(raw: str | None, field: str, *, end_of_day: bool = False) -> datetime | None:
    """A date or an ISO 8601 time. A bare date means the start of that day in London, where
    circles are, or with `end_of_day` the start of the next, so that "to 2 March" includes
    2 March as a coordinator means it."""
    if not raw:
        return None
    try:
        # A bare date first: parse_datetime would also read "2024-03-02" as its midnight.
        day = parse_date(raw) if len(raw) == 10 else None
        moment: datetime | None = None if day is not None else parse_datetime(raw)
    except ValueError:
        # Well formed but impossible ("2024-02-30"): Django raises rather than returning None.
        day = moment = None
    found = day if day is not None else moment
    if found is None:
        raise InvalidInput("invalid", f"{field} is a date or an ISO 8601 time.", field=field)
    if not EARLIEST_YEAR <= found.year <= LATEST_YEAR:
        raise InvalidInput(
            "date_out_of_range",
            f"{field}: a date between the years {EARLIEST_YEAR} and {LATEST_YEAR}.",
            field=field,
        )
    if day is not None:
        if end_of_day:
            day += timedelta(days=1)
        return datetime(day.year, day.month, day.day, tzinfo=get_current_timezone())
    assert moment is not None
    return make_aware(moment) if moment.tzinfo is None else moment


class LedgerTransactionsApi(PaginatedApi, APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[
            OpenApiParameter("account_id", int, description="only transactions touching it"),
            OpenApiParameter("from", str, description="on or after (date or ISO time)"),
            OpenApiParameter(
                "to", str, description="before this time, or up to the end of this date"
            ),
        ],
        responses=TransactionOutput(many=True),
    )
    def get(self, request: Request, slug: str) -> Response:
        circle, _ = _coordinator(request, slug)
        account_id = query_id(request.query_params.get("account_id"), field="account_id")
        if (
            account_id is not None
            and not Account.objects.filter(circle=circle, pk=account_id).exists()
        ):
            raise InvalidInput(
                "unknown_account", "No such account in this circle.", field="account_id"
            )
        transactions = transaction_list(
            circle=circle,
            account_id=account_id,
            since=_parse_moment(request.query_params.get("from"), "from"),
            until=_parse_moment(request.query_params.get("to"), "to", end_of_day=True),
        )
        paginator = self.paginator()
        page = paginator.paginate_queryset(transactions, request)
        return paginator.get_paginated_response(transactions_json(page or []))


class AccountOutput(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    member_id = serializers.IntegerField(allow_null=True)
    member_name = serializers.CharField(source="member.full_name", allow_null=True, default=None)
    balance = serializers.SerializerMethodField()

    def get_balance(self, account: Account) -> dict[str, Any]:
        return token_quantity(account.balance, circle=self.context["circle"]).as_json()


class TrialBalancePagination(Pagination):
    """A page of the circle's accounts, with `total_minutes`: the sum of every account's balance,
    not only the page's, which is always zero while the books hold (a trial balance)."""

    total_minutes = 0

    def get_paginated_response(self, data: Any) -> Response:
        response = super().get_paginated_response(data)
        response.data["total_minutes"] = self.total_minutes
        return response

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        described = super().get_paginated_response_schema(schema)
        described["properties"]["total_minutes"] = {
            "type": "integer",
            "description": "the sum of every account's balance (all pages): always 0",
        }
        described["required"] = [*described.get("required", []), "total_minutes"]
        return described


class LedgerBalancesApi(PaginatedApi, APIView):
    """The trial balance a page at a time: the circle's accounts by kind then id, each with its
    balance, and the total of every account's balance, which is always zero.

    Paged like every other list: a circle has an account per member, and the whole of 2,000
    members' accounts in one answer (270 kB) cost the server five times what any other read
    did."""

    permission_classes = [IsAuthenticated]
    pagination_class = TrialBalancePagination

    @extend_schema(responses=AccountOutput(many=True))
    def get(self, request: Request, slug: str) -> Response:
        circle, _ = _coordinator(request, slug)
        paginator = TrialBalancePagination()  # as pagination_class, typed for total_minutes
        limit, offset = paginator.window(request)
        count, paginator.total_minutes = account_count_and_total(circle=circle)
        rows = account_balances(circle=circle, limit=limit, offset=offset)
        return paginator.counted_response(count=count, results=accounts_json(rows, circle=circle))


def accounts_json(rows: list[AccountBalance], *, circle: Circle) -> list[dict[str, Any]]:
    """AccountOutput's shape, built directly: a serializer a row cost most of the time, and
    then a Decimal a row for the tokens (`token_count_text` writes the same text)."""
    minutes = circle.token_minutes
    return [
        {
            "id": account_id,
            "kind": kind,
            "member_id": member_id,
            "member_name": member_name,
            "balance": {
                "minutes": balance,
                "tokens": token_count_text(balance, token_minutes=minutes),
            },
        }
        for account_id, kind, member_id, member_name, balance in rows
    ]


class LedgerAuditApi(APIView):
    """The same checks as `manage.py ledger_audit`, for this circle."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        responses=inline_serializer(
            "LedgerAudit",
            {
                "ok": serializers.BooleanField(),
                "checked_transactions": serializers.IntegerField(),
                "checked_accounts": serializers.IntegerField(),
                "problems": serializers.ListField(child=serializers.CharField()),
            },
        )
    )
    def get(self, request: Request, slug: str) -> Response:
        circle, _ = _coordinator(request, slug)
        report = ledger_audit(circle=circle)
        return Response(
            {
                "ok": report.ok,
                "checked_transactions": report.checked_transactions,
                "checked_accounts": report.checked_accounts,
                "problems": report.problems,
            }
        )


class CorrectionInput(StrictInputSerializer):
    member_id = serializers.IntegerField()
    minutes = serializers.IntegerField()
    reason = serializers.CharField(max_length=500)
    idempotency_key = serializers.CharField(max_length=200, required=False)


PENDING_APPROVAL = inline_serializer(
    "PendingApproval",
    {
        "status": serializers.ChoiceField(choices=["pending_approval"]),
        "approval_id": serializers.IntegerField(),
    },
)


class _CorrectionApi(APIView):
    """A coordinator moves minutes for a member with a reason: `kind` says which movement.
    Above the circle's threshold (or an adjustment to a helper who is also staff) it waits for
    a second coordinator: 202 with the approval's id."""

    permission_classes = [IsAuthenticated]
    kind: str

    @extend_schema(
        request=CorrectionInput,
        responses={201: TransactionOutput, 200: TransactionOutput, 202: PENDING_APPROVAL},
    )
    def post(self, request: Request, slug: str) -> Response:
        circle, caller = _coordinator(request, slug)
        data = CorrectionInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        result = correction_ask(
            kind=self.kind,
            member=_circle_member(circle, values["member_id"]),
            minutes=values["minutes"],
            reason=values["reason"],
            caller=caller,
            idempotency_key=values.get("idempotency_key") or new_key(),
        )
        if isinstance(result, Approval):
            return Response(
                {"status": "pending_approval", "approval_id": result.pk},
                status=status.HTTP_202_ACCEPTED,
            )
        return Response(
            _transaction_body(result.transaction_id),
            status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
        )


class LedgerAdjustmentsApi(_CorrectionApi):
    """A coordinator's correction to a wallet: minutes in (positive) or out (negative)."""

    kind = ApprovalKind.ADJUSTMENT


class LedgerGrantsApi(_CorrectionApi):
    """A grant from the pot to a member in hardship."""

    kind = ApprovalKind.GRANT


def _circle_member(circle: Circle, member_id: int) -> Member:
    try:
        return member_get(circle=circle, member_id=member_id)
    except NotFound:
        raise InvalidInput(
            "member_not_found", "No such member in this circle.", field="member_id"
        ) from None


class ReversalInput(StrictInputSerializer):
    reason = serializers.CharField(max_length=500)
    idempotency_key = serializers.CharField(max_length=200, required=False)


class TransactionReverseApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=ReversalInput, responses={201: TransactionOutput})
    def post(self, request: Request, transaction_id: int) -> Response:
        circles = Member.objects.filter(user=signed_in(request.user)).values("circle_id")
        original = LedgerTransaction.objects.filter(
            pk=transaction_id, circle_id__in=circles
        ).first()
        if original is None:
            raise NotFound("No such transaction.", code="transaction_not_found")
        _, caller = _coordinator(request, original.circle.slug)
        data = ReversalInput(data=request.data)
        data.is_valid(raise_exception=True)
        posted = reversal_create(
            original=original,
            reason=data.validated_data["reason"],
            actor=caller.user,
            idempotency_key=data.validated_data.get("idempotency_key", ""),
        )
        return Response(
            _transaction_body(posted.transaction_id),
            status=status.HTTP_201_CREATED if posted.created else status.HTTP_200_OK,
        )


# --- Four eyes --------------------------------------------------------------------------------


class ApprovalOutput(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=ApprovalKind.choices)
    member_id = serializers.IntegerField()
    member_name = serializers.CharField(source="member.full_name")
    minutes = serializers.IntegerField(help_text="signed, for adjustments: + into the wallet")
    reason = serializers.CharField()
    asked_by = serializers.CharField(source="asked_by.full_name")
    asked_at = serializers.DateTimeField()
    status = serializers.ChoiceField(choices=["pending", "approved", "refused"])
    decided_by = serializers.CharField(source="decided_by.full_name", allow_null=True, default=None)
    decided_at = serializers.DateTimeField(allow_null=True)
    decision_reason = serializers.CharField()
    transaction_id = serializers.IntegerField(
        allow_null=True, help_text="the movement posted, once approved"
    )


class ApprovalsApi(PaginatedApi, APIView):
    """Adjustments and grants waiting for a second coordinator, oldest first."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=ApprovalOutput(many=True))
    def get(self, request: Request, slug: str) -> Response:
        circle, _ = _coordinator(request, slug)
        paginator = self.paginator()
        page = paginator.paginate_queryset(approval_list(circle=circle), request)
        return paginator.get_paginated_response(ApprovalOutput(page, many=True).data)


class DecisionInput(StrictInputSerializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True)


class _DecisionApi(APIView):
    """Another coordinator decides: the one who asked never does (403
    `approval_own_request`); a decided approval stays decided (409 `approval_decided`)."""

    permission_classes = [IsAuthenticated]
    decide: Callable[..., Approval]

    @extend_schema(request=DecisionInput, responses={200: ApprovalOutput})
    def post(self, request: Request, approval_id: int) -> Response:
        approval, caller = approval_access(user=signed_in(request.user), approval_id=approval_id)
        data = DecisionInput(data=request.data)
        data.is_valid(raise_exception=True)
        decided = type(self).decide(
            approval=approval, caller=caller, reason=data.validated_data.get("reason", "")
        )
        return Response(ApprovalOutput(decided).data)


class ApprovalApproveApi(_DecisionApi):
    """Approve: the adjustment or grant is posted, once."""

    decide = approval_approve


class ApprovalRefuseApi(_DecisionApi):
    """Refuse: nothing moves."""

    decide = approval_refuse
