"""A small stand-in for GOV.UK Notify's API, for tests and the demo.

It answers what `notifications-python-client` sends to text someone (`POST
/v2/notifications/sms`, JSON, a JWT signed with the API key's secret and issued by its service
id, checked with the client library's own `decode_jwt_token`), with Notify's JSON shapes and
error bodies (`status_code`, `errors: [{error, message}]`). Point the client at it with
`NOTIFY_API_BASE`.

Notify sends only templates: `templates` maps a template id to its text, and a message that
leaves a `((placeholder))` without personalisation is refused, as Notify refuses it. What
happens later, the phone company's report, is `receipt()`: the JSON body and bearer token
Notify would POST to the service's callback URL.

Not Notify: no email, letters, rate limits or team-only keys; only what Circle's calls need.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from notifications_python_client.authentication import decode_jwt_token, get_token_issuer
from notifications_python_client.errors import TokenError

from messaging.local_server import Recorded, path_of, running

SERVICE_ID = "6f4c1b7e-0d1a-4c55-9a51-8a3c6d7e9f10"
SECRET = "2b9d3f4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f"  # noqa: S105  # the fake's own, public
API_KEY = f"circle_local-{SERVICE_ID}-{SECRET}"
TEMPLATE_ID = "f0e1d2c3-b4a5-4968-8776-655443322110"
CALLBACK_TOKEN = "local-notify-callback-token"  # noqa: S105  # the fake's own, public
# Notify's rule for UK mobiles, simplified: 07 and 11 digits, or +447 and 10 more.
UK_MOBILE = re.compile(r"^(\+447\d{9}|07\d{9})$")
PLACEHOLDER = re.compile(r"\(\(([^()]+)\)\)")


def _error(status: int, kind: str, message: str) -> tuple[int, dict[str, Any]]:
    return status, {"status_code": status, "errors": [{"error": kind, "message": message}]}


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class LocalNotify:
    base_url: str
    service_id: str = SERVICE_ID
    secret: str = SECRET
    callback_token: str = CALLBACK_TOKEN
    templates: dict[str, str] = field(default_factory=lambda: {TEMPLATE_ID: "((body))"})
    notifications: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    # The next requests fail with these HTTP statuses, one each, as Notify sometimes does.
    failures: list[int] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)

    def handle(self, request: Recorded) -> tuple[int, dict[str, Any]]:
        with self.lock:
            self.requests.append(request)
            status, answer = self._handle(request)
            request.status = status
            return status, answer

    def _auth_error(self, request: Recorded) -> tuple[int, dict[str, Any]] | None:
        header = request.headers.get("authorization", "")
        if not header.startswith("Bearer "):
            return _error(401, "AuthError", "Unauthorized: authentication token must be provided")
        token = header.removeprefix("Bearer ")
        try:
            if get_token_issuer(token) != self.service_id:
                return _error(403, "AuthError", "Invalid token: service not found")
            decode_jwt_token(token, self.secret)
        except TokenError as exc:
            return _error(403, "AuthError", exc.message)
        return None

    def _handle(self, request: Recorded) -> tuple[int, dict[str, Any]]:
        if self.failures:
            status = self.failures.pop(0)
            return _error(status, "Exception", "Internal server error")
        refused = self._auth_error(request)
        if refused:
            return refused
        path = path_of(request)
        if request.method == "POST" and path == "/v2/notifications/sms":
            try:
                data = json.loads(request.body or "{}")
            except ValueError:
                return _error(400, "BadRequestError", "Invalid JSON supplied in POST data")
            return self._sms(data)
        if request.method == "GET" and path.startswith("/v2/notifications/"):
            found = self.notifications.get(path.rsplit("/", 1)[-1])
            if found:
                return 200, found
            return _error(404, "NoResultFound", "No result found")
        return _error(404, "NotFound", "The requested URL was not found on the server.")

    def _sms(self, data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        phone = str(data.get("phone_number") or "").replace(" ", "")
        template_id = str(data.get("template_id") or "")
        personalisation = data.get("personalisation") or {}
        if not UK_MOBILE.match(phone):
            return _error(400, "ValidationError", "phone_number Not a UK mobile number")
        if template_id not in self.templates:
            return _error(400, "BadRequestError", "Template not found")
        text = self.templates[template_id]
        missing = [name for name in PLACEHOLDER.findall(text) if name not in personalisation]
        if missing:
            return _error(400, "BadRequestError", f"Missing personalisation: {', '.join(missing)}")
        body = PLACEHOLDER.sub(lambda m: str(personalisation[m.group(1)]), text)
        notification_id = str(uuid.uuid4())
        self.notifications[notification_id] = {
            "id": notification_id,
            "reference": data.get("reference"),
            "phone_number": phone,
            "type": "sms",
            "status": "created",
            "body": body,
            "template": {"id": template_id, "version": 1},
            "created_at": _stamp(),
        }
        return 201, {
            "id": notification_id,
            "reference": data.get("reference"),
            "content": {"body": body, "from_number": "Circle"},
            "uri": f"{self.base_url}/v2/notifications/{notification_id}",
            "template": {
                "id": template_id,
                "version": 1,
                "uri": f"{self.base_url}/services/{self.service_id}/templates/{template_id}",
            },
            "scheduled_for": None,
        }

    # --- What phone companies and Notify do later -----------------------------------------------

    def receipt(self, notification_id: str, status: str) -> tuple[dict[str, Any], str]:
        """The callback Notify would send for a notification now in `status`: the JSON body and
        the `Authorization` header (the service's callback bearer token)."""
        with self.lock:
            notification = self.notifications[notification_id]
            notification["status"] = status
            body = {
                "id": notification_id,
                "reference": notification["reference"],
                "to": notification["phone_number"],
                "status": status,
                "created_at": notification["created_at"],
                "completed_at": _stamp(),
                "sent_at": notification["created_at"],
                "notification_type": "sms",
                "template_id": notification["template"]["id"],
                "template_version": notification["template"]["version"],
            }
            return body, f"Bearer {self.callback_token}"


@contextmanager
def local_notify(**kwargs: Any) -> Iterator[LocalNotify]:
    """The fake on a free loopback port, in a thread, for as long as the block runs."""
    with running(lambda base: LocalNotify(base_url=base, **kwargs)) as state:
        yield state
