"""The providers' delivery receipts. Neither is signed in as anyone: each proves itself by its
provider's scheme (Twilio's signature, Notify's bearer token), and anything else is a 403.

A receipt for a message Circle does not know, or one whose fate is already recorded, still
answers 200: the provider would only send it again."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import FormParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from circle.errors import error_body
from circle.parsers import JSONParser
from circle.schema import error_responses
from circle.serializers import StrictInputSerializer
from members.models import ClaimChannel
from members.selectors import STAFF_ROLES, member_access
from messaging.backends import notify_receipt_verify, twilio_error_words, twilio_receipt_verify
from messaging.services import claim_link_send, sms_receipt_record


def _refused(detail: str) -> Response:
    return Response(error_body("invalid_signature", detail), status=status.HTTP_403_FORBIDDEN)


def _received(outcome: str) -> Response:
    return Response({"received": True, "outcome": outcome})


RECEIVED = inline_serializer(
    "SmsReceiptReceived",
    {
        "received": serializers.BooleanField(),
        "outcome": serializers.CharField(
            help_text="delivered, failed, unchanged, or unknown (no such text)"
        ),
    },
)


class TwilioStatusApi(APIView):
    """Twilio's status callback: form fields `MessageSid`, `MessageStatus`, `ErrorCode`..."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    parser_classes = [FormParser]

    @extend_schema(request=None, responses={200: RECEIVED, **error_responses(400, 403)})
    def post(self, request: Request) -> Response:
        # Twilio signs the URL it was given, which behind a proxy is not what Django sees, so
        # the configured one is checked when there is one.
        url = settings.TWILIO_STATUS_CALLBACK_URL or request.build_absolute_uri()
        signature = request.headers.get("X-Twilio-Signature", "")
        if not twilio_receipt_verify(url=url, params=request.data, signature=signature):
            return _refused("The Twilio signature is missing or wrong.")
        data: Any = request.data  # a QueryDict of the form fields
        code = data.get("ErrorCode") or ""
        outcome = sms_receipt_record(
            provider="twilio",
            provider_id=str(data.get("MessageSid") or data.get("SmsSid") or ""),
            provider_status=str(data.get("MessageStatus") or data.get("SmsStatus") or ""),
            error=twilio_error_words(str(code)) if code else "",
        )
        return _received(outcome)


class NotifyStatusApi(APIView):
    """GOV.UK Notify's delivery receipt: JSON with `id`, `status`, `reference`..."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    parser_classes = [JSONParser]

    @extend_schema(request=None, responses={200: RECEIVED, **error_responses(400, 403)})
    def post(self, request: Request) -> Response:
        # The token is checked before the body is read.
        if not notify_receipt_verify(authorization=request.headers.get("Authorization", "")):
            return _refused("The Notify bearer token is missing or wrong.")
        data = request.data  # a malformed body is the handler's 400 malformed_json
        if not isinstance(data, dict):
            return Response(
                error_body("invalid", "A Notify receipt is a JSON object."),
                status=status.HTTP_400_BAD_REQUEST,
            )
        status_word = str(data.get("status") or "")
        outcome = sms_receipt_record(
            provider="notify",
            provider_id=str(data.get("id") or ""),
            provider_status=status_word,
            error=f"Notify: {status_word}" if status_word.endswith("failure") else "",
        )
        return _received(outcome)


class ClaimLinkApi(APIView):
    """Staff of the member's circle send a member joined by phone a one-time link to set a
    password (`/claim/{token}/`), by text or email. Refused: a member who already has a login
    (409 `already_has_login`), no mobile number for a text (400 `no_mobile`) or no email for
    an email (400 `no_email`), both on `channel`; a message the gateway did not take (400
    `link_not_sent`). Another circle's member is 404, and anyone but staff 403."""

    permission_classes = [IsAuthenticated]

    class ClaimLinkInput(StrictInputSerializer):
        channel = serializers.ChoiceField(choices=ClaimChannel.choices)
        call_reference = serializers.CharField(max_length=100, required=False, allow_blank=True)

    class ClaimLinkOutput(serializers.Serializer[Any]):
        channel = serializers.CharField()
        to = serializers.CharField()
        expires_at = serializers.DateTimeField()

    @extend_schema(
        request=ClaimLinkInput, responses={201: ClaimLinkOutput, **error_responses(404, 409)}
    )
    def post(self, request: Request, member_id: int) -> Response:
        member, caller = member_access(
            user=request.user, member_id=member_id, roles=STAFF_ROLES, allow_self=False
        )
        data = self.ClaimLinkInput(data=request.data)
        data.is_valid(raise_exception=True)
        sent = claim_link_send(
            member=member,
            caller=caller,
            channel=data.validated_data["channel"],
            call_reference=data.validated_data.get("call_reference", ""),
        )
        return Response(self.ClaimLinkOutput(sent).data, status=status.HTTP_201_CREATED)
