from __future__ import annotations

from decimal import Decimal
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from circle.serializers import MoneyInField, MoneyOutField, StrictInputSerializer
from members.models import STAFF_ROLES
from members.selectors import member_access
from payments.models import OFFLINE_METHODS, Payment, PaymentPurpose
from payments.selectors import member_payments
from payments.services import MAX_TOKENS_PER_PAYMENT, offline_payment_record


class PaymentOutput(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    member_id = serializers.IntegerField()
    purpose = serializers.CharField()
    method = serializers.CharField()
    amount = MoneyOutField()
    tokens = serializers.IntegerField(allow_null=True)
    reference = serializers.CharField()
    created_at = serializers.DateTimeField()
    paid_until = serializers.SerializerMethodField()

    def get_paid_until(self, payment: Payment) -> str | None:
        period = getattr(payment, "period", None)
        return period.end.isoformat() if period is not None else None


class OfflinePaymentApi(APIView):
    """Staff record cash, a cheque or a bank transfer, for membership or for tokens."""

    permission_classes = [IsAuthenticated]

    class OfflinePaymentInput(StrictInputSerializer):
        purpose = serializers.ChoiceField(choices=PaymentPurpose.choices)
        tokens = serializers.IntegerField(
            required=False, min_value=1, max_value=MAX_TOKENS_PER_PAYMENT
        )
        amount = MoneyInField(required=False, min_value=Decimal("0.01"))
        method = serializers.ChoiceField(choices=[(m.value, m.label) for m in OFFLINE_METHODS])
        reference = serializers.CharField(max_length=100)

    @extend_schema(request=OfflinePaymentInput, responses={201: PaymentOutput})
    def post(self, request: Request, member_id: int) -> Response:
        member, caller = member_access(
            user=request.user, member_id=member_id, roles=STAFF_ROLES, allow_self=False
        )
        data = self.OfflinePaymentInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        payment = offline_payment_record(
            member=member,
            caller=caller,
            purpose=values["purpose"],
            method=values["method"],
            reference=values["reference"],
            tokens=values.get("tokens"),
            amount=values.get("amount"),
        )
        return Response(PaymentOutput(payment).data, status=status.HTTP_201_CREATED)


class MemberPaymentsApi(APIView):
    """A member's payments, every method, newest first: for the member and their staff."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=PaymentOutput(many=True))
    def get(self, request: Request, member_id: int) -> Response:
        member, _ = member_access(user=request.user, member_id=member_id)
        paginator = LimitOffsetPagination()
        page = paginator.paginate_queryset(member_payments(member=member), request)
        return paginator.get_paginated_response(PaymentOutput(page, many=True).data)
