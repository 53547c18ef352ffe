from __future__ import annotations

from decimal import Decimal
from typing import Any

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from circle.errors import error_body
from circle.messages import message_for_code
from circle.pagination import PaginatedApi, UncappedPagination
from circle.parsers import JsonTooDeep
from circle.schema import error_responses
from circle.serializers import MoneyInField, MoneyOutField, StrictInputSerializer
from members.models import STAFF_ROLES
from members.selectors import member_access
from payments import stripe_client
from payments.models import OFFLINE_METHODS, CheckoutSession, Payment, PaymentPurpose
from payments.selectors import (
    COORDINATORS,
    member_payments,
    payment_access,
)
from payments.services import (
    MAX_TOKENS_PER_PAYMENT,
    membership_checkout_create,
    offline_payment_record,
    stripe_event_receive,
    token_refund_create,
    tokens_checkout_create,
)
from payments.services.gifts import gift_link_create


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
    refunded_tokens = serializers.SerializerMethodField()

    def get_paid_until(self, payment: Payment) -> str | None:
        period = getattr(payment, "period", None)
        return period.end.isoformat() if period is not None else None

    def get_refunded_tokens(self, payment: Payment) -> int:
        annotated = getattr(payment, "refunded_tokens", None)
        if annotated is not None:
            return int(annotated)
        return sum(r.tokens for r in payment.refunds.exclude(status="failed"))


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
        call_reference = serializers.CharField(max_length=100, required=False, allow_blank=True)

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
            call_reference=values.get("call_reference", ""),
        )
        return Response(PaymentOutput(payment).data, status=status.HTTP_201_CREATED)


class MemberPaymentsApi(PaginatedApi, APIView):
    """A member's payments, every method, newest first: for the member and their staff."""

    permission_classes = [IsAuthenticated]
    pagination_class = UncappedPagination

    @extend_schema(responses=PaymentOutput(many=True))
    def get(self, request: Request, member_id: int) -> Response:
        member, _ = member_access(user=request.user, member_id=member_id, scope="pay")
        paginator = self.paginator()
        page = paginator.paginate_queryset(member_payments(member=member), request)
        return paginator.get_paginated_response(PaymentOutput(page, many=True).data)


class CheckoutOutput(serializers.Serializer[Any]):
    checkout_url = serializers.CharField(source="url")
    checkout_id = serializers.IntegerField(source="pk")


def _checkout_response(checkout: CheckoutSession) -> Response:
    return Response(CheckoutOutput(checkout).data, status=status.HTTP_201_CREATED)


class MembershipCheckoutApi(APIView):
    """A Stripe Checkout for a year's membership, renewed each year by card."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={201: CheckoutOutput, **error_responses(503)})
    def post(self, request: Request, member_id: int) -> Response:
        member, caller = member_access(user=request.user, member_id=member_id, scope="pay")
        StrictInputSerializer(data=request.data).is_valid(raise_exception=True)
        return _checkout_response(membership_checkout_create(member=member, caller=caller))


class TokensCheckoutApi(APIView):
    """A Stripe Checkout for a pack of tokens at the circle's price."""

    permission_classes = [IsAuthenticated]

    class TokensCheckoutInput(StrictInputSerializer):
        tokens = serializers.IntegerField(min_value=1, max_value=MAX_TOKENS_PER_PAYMENT)

    @extend_schema(
        request=TokensCheckoutInput, responses={201: CheckoutOutput, **error_responses(503)}
    )
    def post(self, request: Request, member_id: int) -> Response:
        member, caller = member_access(user=request.user, member_id=member_id, scope="pay")
        data = self.TokensCheckoutInput(data=request.data)
        data.is_valid(raise_exception=True)
        checkout = tokens_checkout_create(
            member=member, caller=caller, tokens=data.validated_data["tokens"]
        )
        return _checkout_response(checkout)


class GiftLinkOutput(serializers.Serializer[Any]):
    url = serializers.CharField()
    expires_at = serializers.DateTimeField()


class GiftLinkApi(APIView):
    """A gift link for the member: anyone who opens it can buy them tokens by card, without an
    account (the member for themselves, or their circle's staff)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={201: GiftLinkOutput})
    def post(self, request: Request, member_id: int) -> Response:
        member, caller = member_access(user=request.user, member_id=member_id, scope="pay")
        StrictInputSerializer(data=request.data).is_valid(raise_exception=True)
        made = gift_link_create(member=member, caller=caller)
        return Response(GiftLinkOutput(made).data, status=status.HTTP_201_CREATED)


class StripeWebhookApi(APIView):
    """Events from Stripe. The signature is checked on the raw body; every event is stored once
    and applied idempotently. A 2xx tells Stripe not to send it again."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    parser_classes: list[Any] = []  # the raw body is what is signed; nothing may parse it first

    @extend_schema(
        request=None,
        responses={
            200: inline_serializer(
                "WebhookReceived",
                {"received": serializers.BooleanField(), "outcome": serializers.CharField()},
            ),
            **error_responses(400),
        },
    )
    def post(self, request: Request) -> Response:
        payload = request.body
        signature = request.headers.get("Stripe-Signature", "")
        try:
            event = stripe_client.event_verify(payload=payload, signature=signature)
        except stripe_client.SignatureError:
            return Response(
                error_body("invalid_signature", "The Stripe signature is missing or wrong."),
                status=status.HTTP_400_BAD_REQUEST,
            )
        except JsonTooDeep:
            return Response(
                error_body("json_too_deep", message_for_code("json_too_deep")),
                status=status.HTTP_400_BAD_REQUEST,
            )
        except stripe_client.NotAnEvent:
            return Response(
                error_body("invalid_body", "The request body must be a JSON object."),
                status=status.HTTP_400_BAD_REQUEST,
            )
        except ValueError:
            return Response(
                error_body("malformed_json", "The request body is not valid JSON."),
                status=status.HTTP_400_BAD_REQUEST,
            )
        outcome = stripe_event_receive(event=event)
        return Response({"received": True, "outcome": outcome})


class RefundOutput(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    payment_id = serializers.IntegerField()
    member_id = serializers.IntegerField()
    tokens = serializers.IntegerField()
    amount = MoneyOutField()
    status = serializers.CharField()
    made_by = serializers.CharField(source="source")
    reason = serializers.CharField()
    created_at = serializers.DateTimeField()


class PaymentRefundApi(APIView):
    """A coordinator refunds unspent tokens of a card payment."""

    permission_classes = [IsAuthenticated]

    class RefundInput(StrictInputSerializer):
        tokens = serializers.IntegerField(min_value=1, max_value=MAX_TOKENS_PER_PAYMENT)
        reason = serializers.CharField(max_length=500)

    @extend_schema(
        request=RefundInput,
        responses={201: RefundOutput, 202: RefundOutput, **error_responses(503)},
    )
    def post(self, request: Request, payment_id: int) -> Response:
        payment, caller = payment_access(
            user=request.user, payment_id=payment_id, roles=COORDINATORS
        )
        data = self.RefundInput(data=request.data)
        data.is_valid(raise_exception=True)
        refund = token_refund_create(
            payment=payment,
            tokens=data.validated_data["tokens"],
            reason=data.validated_data["reason"],
            caller=caller,
        )
        # 202: Stripe could not be reached; the tokens are held back and it is asked again.
        code = status.HTTP_202_ACCEPTED if refund.status == "pending" else status.HTTP_201_CREATED
        return Response(RefundOutput(refund).data, status=code)
