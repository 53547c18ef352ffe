"""A small stand-in for Twilio's Messages API, for tests and the demo.

It answers what the official `twilio` library sends to create a message (`POST
/2010-04-01/Accounts/<sid>/Messages.json`, form-encoded, HTTP Basic auth with the account SID
and auth token) and to fetch one, with Twilio's JSON shapes and error bodies (`code`,
`message`, `status`). Point the library at it with `TWILIO_API_BASE`.

What Twilio does later, a carrier's delivery report, is `receipt()`: the form fields and
`X-Twilio-Signature` Twilio would POST to the message's StatusCallback, signed by the library's
own RequestValidator with the auth token.

Not Twilio: no pricing, media, scheduling or paging; only what Circle's calls need.
"""

from __future__ import annotations

import base64
import re
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any
from urllib.parse import parse_qsl

from twilio.request_validator import RequestValidator

from messaging.local_server import Recorded, path_of, running

ACCOUNT_SID = "AC" + "0" * 31 + "1"
AUTH_TOKEN = "local-twilio-auth-token"  # noqa: S105  # the fake's own, public
E164 = re.compile(r"^\+[1-9]\d{6,14}$")
API_VERSION = "2010-04-01"


def _error(status: int, code: int, message: str) -> tuple[int, dict[str, Any]]:
    more = f"https://www.twilio.com/docs/errors/{code}"
    return status, {"code": code, "message": message, "more_info": more, "status": status}


@dataclass
class LocalTwilio:
    base_url: str
    account_sid: str = ACCOUNT_SID
    auth_token: str = AUTH_TOKEN
    messages: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    # Numbers Twilio refuses at once, with its error code (21211: not a valid number,
    # 21610: the person texted STOP).
    refused: dict[str, int] = field(default_factory=dict)
    # The next requests fail with these HTTP statuses, one each, as Twilio sometimes does.
    failures: list[int] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)

    def _authorised(self, request: Recorded) -> bool:
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        return secrets.compare_digest(request.headers.get("authorization", ""), f"Basic {expected}")

    def handle(self, request: Recorded) -> tuple[int, dict[str, Any]]:
        with self.lock:
            self.requests.append(request)
            status, answer = self._handle(request)
            request.status = status
            return status, answer

    def _handle(self, request: Recorded) -> tuple[int, dict[str, Any]]:
        if self.failures:
            return _error(self.failures.pop(0), 20500, "An internal server error has occurred")
        if not self._authorised(request):
            return _error(401, 20003, "Authenticate")
        prefix = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages"
        path = path_of(request)
        if request.method == "POST" and path == f"{prefix}.json":
            return self._create(dict(parse_qsl(request.body, keep_blank_values=True)))
        if request.method == "GET" and path.startswith(f"{prefix}/") and path.endswith(".json"):
            sid = path[len(prefix) + 1 : -len(".json")]
            if sid in self.messages:
                return 200, self.messages[sid]
            return _error(404, 20404, f"The requested resource {path} was not found")
        return _error(404, 20404, f"The requested resource {path} was not found")

    def _create(self, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
        to, body = params.get("To", ""), params.get("Body", "")
        sender, service = params.get("From", ""), params.get("MessagingServiceSid", "")
        if not E164.match(to):
            return _error(400, 21211, f"Invalid 'To' Phone Number: {to}")
        if to in self.refused:
            code = self.refused[to]
            return _error(400, code, f"Message to {to} refused (error {code})")
        if not body:
            return _error(400, 21602, "Message body is required.")
        if len(body) > 1600:
            return _error(400, 21617, "The concatenated message body exceeds the 1600 limit.")
        if not sender and not service:
            return _error(400, 21603, "A 'From' or 'MessagingServiceSid' parameter is required")
        sid = "SM" + secrets.token_hex(16)
        now = formatdate(usegmt=True)
        message: dict[str, Any] = {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": body,
            "date_created": now,
            "date_updated": now,
            "date_sent": None,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": sender or None,
            "messaging_service_sid": service or None,
            "num_media": "0",
            "num_segments": str(1 + len(body) // 160),
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "accepted" if service and not sender else "queued",
            "subresource_uris": {},
            "to": to,
            "uri": f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{sid}.json",
            "_status_callback": params.get("StatusCallback", ""),
        }
        self.messages[sid] = message
        return 201, {k: v for k, v in message.items() if not k.startswith("_")}

    # --- What carriers and Twilio do later ------------------------------------------------------

    def receipt(
        self, sid: str, status: str, *, error_code: str = "", url: str = ""
    ) -> tuple[str, dict[str, str], str]:
        """The status callback Twilio would send for message `sid` now in `status`: the URL it
        would call (the message's StatusCallback, unless `url` is given), the form fields, and
        the `X-Twilio-Signature` header."""
        with self.lock:
            message = self.messages[sid]
            message["status"] = status
            target = url or message["_status_callback"]
            fields = {
                "AccountSid": self.account_sid,
                "ApiVersion": API_VERSION,
                "From": message["from"] or "",
                "MessageSid": sid,
                "MessageStatus": status,
                "SmsSid": sid,
                "SmsStatus": status,
                "To": message["to"],
            }
            if error_code:
                fields["ErrorCode"] = error_code
                message["error_code"] = int(error_code)
            signature = RequestValidator(self.auth_token).compute_signature(target, fields)
            return target, fields, signature


@contextmanager
def local_twilio(**kwargs: Any) -> Iterator[LocalTwilio]:
    """The fake on a free loopback port, in a thread, for as long as the block runs."""
    with running(lambda base: LocalTwilio(base_url=base, **kwargs)) as state:
        yield state
