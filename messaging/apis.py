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
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from circle.errors import error_body
from circle.parsers import JSONParser
from circle.schema import error_responses
from messaging.backends import notify_receipt_verify, twilio_error_words, twilio_receipt_verify
from messaging.services import sms_receipt_record


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
