"""The real text-message gateways, each through its provider's official client.

`SMS_BACKEND=messaging.backends.TwilioBackend` sends through Twilio's REST API (the `twilio`
library); `messaging.backends.NotifyBackend` through GOV.UK Notify (`notifications-python-
client`), which sends only through a template: one SMS template whose whole text is `((body))`,
so Circle's words go out as written. Each returns the provider's id for the message, which
its delivery receipts name, and turns every refusal or network failure into `SmsFailed`.

`TWILIO_API_BASE` and `NOTIFY_API_BASE` point the clients at another server: the local fakes
in `messaging.twilio_local` and `messaging.notify_local` in tests, or a staging proxy.
"""

from __future__ import annotations

import hmac
import logging
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from django.conf import settings
from notifications_python_client.errors import APIError as NotifyApiError
from notifications_python_client.notifications import NotificationsAPIClient
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response as TwilioResponse
from twilio.request_validator import RequestValidator
from twilio.rest import Client as TwilioClient

from circle.sms import SmsFailed

logger = logging.getLogger(__name__)

# Seconds to wait for a gateway: a notice's sender (a Celery worker) must not hang on one.
TIMEOUT = 15

TWILIO_DEFAULT_API_BASE = "https://api.twilio.com"
NOTIFY_DEFAULT_API_BASE = "https://api.notifications.service.gov.uk"


class _RebasedTwilioHttpClient(TwilioHttpClient):
    """Twilio's own HTTP client, sending to `base` instead of https://api.twilio.com.

    The library builds every URL from its fixed domains and has no base-URL option (its
    `edge`/`region` only choose among Twilio's own hosts), so the one clean seam is the HTTP
    client it accepts: keep the path and query Twilio built, swap the scheme and host."""

    def __init__(self, base: str, *, timeout: float) -> None:
        super().__init__(timeout=timeout)
        self.base = urlsplit(base)

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> TwilioResponse:
        parts = urlsplit(url)
        path = self.base.path.rstrip("/") + parts.path
        url = urlunsplit((self.base.scheme, self.base.netloc, path, parts.query, ""))
        return super().request(method, url, *args, **kwargs)


_twilio_clients: dict[tuple[str, str, str], TwilioClient] = {}


def _twilio_client() -> TwilioClient:
    key = (settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, settings.TWILIO_API_BASE)
    found = _twilio_clients.get(key)
    if found is None:
        base = key[2] or TWILIO_DEFAULT_API_BASE
        http = (
            TwilioHttpClient(timeout=TIMEOUT)
            if base == TWILIO_DEFAULT_API_BASE
            else _RebasedTwilioHttpClient(base, timeout=TIMEOUT)
        )
        found = _twilio_clients[key] = TwilioClient(key[0], key[1], http_client=http)
    return found


class TwilioBackend:
    """Twilio's Messages resource. `TWILIO_FROM` is the sender: a number, an alphanumeric
    sender id, or a Messaging Service (`MG...`); each message asks for its receipts at
    `TWILIO_STATUS_CALLBACK_URL`."""

    provider = "twilio"

    def send(self, to: str, body: str) -> str:
        if not (
            settings.TWILIO_ACCOUNT_SID and settings.TWILIO_AUTH_TOKEN and settings.TWILIO_FROM
        ):
            raise SmsFailed(self.provider, "Twilio is not configured")
        sender: dict[str, str] = (
            {"messaging_service_sid": settings.TWILIO_FROM}
            if settings.TWILIO_FROM.startswith("MG")
            else {"from_": settings.TWILIO_FROM}
        )
        if settings.TWILIO_STATUS_CALLBACK_URL:
            sender["status_callback"] = settings.TWILIO_STATUS_CALLBACK_URL
        try:
            message = _twilio_client().messages.create(to=to, body=body, **sender)
        except TwilioRestException as exc:
            # Twilio's own code says why (21211: not a valid number; 21610: the person
            # replied STOP), which is what an operator needs to know.
            detail = f"HTTP {exc.status}, code {exc.code}: {exc.msg}"
            raise SmsFailed(self.provider, detail) from exc
        except (TwilioException, requests.RequestException) as exc:
            raise SmsFailed(self.provider, f"could not reach Twilio: {exc}") from exc
        if not message.sid:
            raise SmsFailed(self.provider, "Twilio answered without a message id")
        return str(message.sid)


_notify_clients: dict[tuple[str, str], NotificationsAPIClient] = {}


def _notify_client() -> NotificationsAPIClient:
    key = (settings.NOTIFY_API_KEY, settings.NOTIFY_API_BASE or NOTIFY_DEFAULT_API_BASE)
    found = _notify_clients.get(key)
    if found is None:
        found = _notify_clients[key] = NotificationsAPIClient(
            key[0], base_url=key[1], timeout=TIMEOUT
        )
    return found


class NotifyBackend:
    """GOV.UK Notify. Notify sends only templates: `NOTIFY_SMS_TEMPLATE_ID` names one whose
    text is `((body))`, and the message is its personalisation. Receipts go to the callback
    URL and bearer token set in Notify's own settings for the service (API integration)."""

    provider = "notify"

    def send(self, to: str, body: str) -> str:
        if not (settings.NOTIFY_API_KEY and settings.NOTIFY_SMS_TEMPLATE_ID):
            raise SmsFailed(self.provider, "GOV.UK Notify is not configured")
        try:
            client = _notify_client()
            answer = client.send_sms_notification(
                phone_number=to,
                template_id=settings.NOTIFY_SMS_TEMPLATE_ID,
                personalisation={"body": body},
                sms_sender_id=settings.NOTIFY_SMS_SENDER_ID or None,
            )
        except NotifyApiError as exc:
            # The client turns a connection failure into an APIError too (status 503).
            raise SmsFailed(self.provider, f"HTTP {exc.status_code}: {exc.message}") from exc
        except (AssertionError, ValueError, requests.RequestException) as exc:
            # The client asserts on a malformed API key before sending anything.
            raise SmsFailed(self.provider, f"could not send through Notify: {exc!r}") from exc
        notification_id = (answer or {}).get("id")
        if not notification_id:
            raise SmsFailed(self.provider, "Notify answered without a notification id")
        return str(notification_id)


# --- Delivery receipts ------------------------------------------------------------------------


# Twilio's commonest delivery error codes, in words an operator can act on.
TWILIO_ERRORS = {
    "30003": "the phone is off or out of reach",
    "30004": "the number blocks messages",
    "30005": "the number is unknown or no longer in use",
    "30006": "the number is a landline or cannot receive texts",
    "30007": "the carrier filtered it",
    "30008": "the carrier gave no reason",
}


def twilio_error_words(code: str) -> str:
    words = TWILIO_ERRORS.get(code)
    return f"Twilio error {code}: {words}" if words else f"Twilio error {code}"


def twilio_receipt_verify(*, url: str, params: Any, signature: str) -> bool:
    """Whether a status callback really comes from Twilio: `X-Twilio-Signature` is an HMAC of
    the URL Twilio called and the posted fields, keyed with our auth token, checked by the
    library's own RequestValidator (which compares in constant time)."""
    if not (settings.TWILIO_AUTH_TOKEN and signature):
        return False
    return bool(RequestValidator(settings.TWILIO_AUTH_TOKEN).validate(url, params, signature))


def notify_receipt_verify(*, authorization: str) -> bool:
    """Whether a callback really comes from Notify: it carries the bearer token we gave Notify
    (`NOTIFY_CALLBACK_TOKEN`), compared in constant time so timing reveals none of it."""
    token = settings.NOTIFY_CALLBACK_TOKEN
    if not token:
        return False
    return hmac.compare_digest(authorization.encode(), f"Bearer {token}".encode())
