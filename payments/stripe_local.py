"""A small stand-in for the parts of Stripe's API Circle uses, for tests and the demo.

It answers the form-encoded v1 API the official `stripe` library sends (customers, Checkout
sessions, subscriptions, invoices, refunds and their list calls), keeps everything in memory,
and honours `Idempotency-Key` as Stripe does: the same key with the same request returns the
first response and creates nothing; the same key with other parameters is an
`idempotency_error`. Point the library at it with `STRIPE_API_BASE`.

What Stripe would do on its own (a customer paying on the Checkout page, a renewal a year later,
a refund made in the dashboard) is done by calling the methods of `LocalStripe` (tests) or
through the small pay page each session's `url` points at (the demo). Each such happening makes
the events Stripe would send, shaped as in API version `API_VERSION`; `signed()` signs one with
the library's scheme so it can be POSTed to the webhook, and with `webhook_url` set the server
delivers them itself.

Not Stripe: no auth beyond "a key is present", no validation beyond what Circle's calls need.
"""

from __future__ import annotations

import html
import json
import logging
import re
import secrets
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import stripe

logger = logging.getLogger(__name__)

API_VERSION = stripe.api_version


def decode_form(body: str) -> dict[str, Any]:
    """Stripe's nested form encoding (`line_items[0][price_data][currency]=gbp`) as dicts, with
    lists for numeric keys."""
    root: dict[str, Any] = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        parts = re.findall(r"[^\[\]]+", key)
        node: Any = root
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            if isinstance(node, list):
                position = int(part)
                while len(node) <= position:
                    node.append({})
                if last:
                    node[position] = value
                else:
                    nxt = parts[index + 1]
                    if not isinstance(node[position], dict | list) or (
                        nxt.isdigit() and not isinstance(node[position], list)
                    ):
                        node[position] = [] if nxt.isdigit() else {}
                    node = node[position]
            else:
                if last:
                    node[part] = value
                else:
                    nxt = parts[index + 1]
                    if part not in node:
                        node[part] = [] if nxt.isdigit() else {}
                    node = node[part]
    return root


def sign(payload: str, secret: str, *, timestamp: int | None = None) -> str:
    """A `Stripe-Signature` header for `payload`, computed with the library's own HMAC."""
    stamp = int(time.time()) if timestamp is None else timestamp
    signature = stripe.WebhookSignature._compute_signature(f"{stamp}.{payload}", secret)
    return f"t={stamp},{stripe.WebhookSignature.EXPECTED_SCHEME}={signature}"


class _Error(Exception):
    def __init__(self, status: int, message: str, *, kind: str = "invalid_request_error") -> None:
        super().__init__(message)
        self.status, self.message, self.kind = status, message, kind


@dataclass
class Recorded:
    """One request as the server saw it, for tests to inspect."""

    method: str
    path: str
    idempotency_key: str | None
    params: dict[str, Any]
    status: int = 0


@dataclass
class LocalStripe:
    """The in-memory state and the behaviour of the server."""

    webhook_secret: str = ""
    webhook_url: str = ""
    base_url: str = ""
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    requests: list[Recorded] = field(default_factory=list)
    idempotent: dict[str, tuple[str, dict[str, Any], int, dict[str, Any]]] = field(
        default_factory=dict
    )
    # (status, times): the next `times` API requests fail with `status`, as Stripe sometimes does.
    failures: list[int] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)
    clock: int = 0  # seconds added to the wall clock, to make renewals "a year later"
    # Events whose delivery failed (no answer, or not a 2xx), to be sent again by `redeliver`,
    # as Stripe retries a webhook for days until it is acknowledged.
    undelivered: list[dict[str, Any]] = field(default_factory=list)

    # --- Bookkeeping ---------------------------------------------------------------------------

    def now(self) -> int:
        return int(time.time()) + self.clock

    def new_id(self, prefix: str) -> str:
        return f"{prefix}_local{secrets.token_hex(8)}"

    def store(self, obj: dict[str, Any]) -> dict[str, Any]:
        self.objects[obj["id"]] = obj
        return obj

    def get(self, oid: str, kind: str) -> dict[str, Any]:
        obj = self.objects.get(oid)
        if obj is None or obj["object"] != kind:
            raise _Error(404, f"No such {kind}: '{oid}'")
        return obj

    def event(self, kind: str, obj: dict[str, Any]) -> dict[str, Any]:
        event = {
            "id": self.new_id("evt"),
            "object": "event",
            "api_version": API_VERSION,
            "created": self.now(),
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": kind,
            "data": {"object": json.loads(json.dumps(obj))},
        }
        self.events.append(event)
        return event

    def fail_next(self, status: int = 500, times: int = 1) -> None:
        with self.lock:
            self.failures.extend([status] * times)

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [obj for obj in self.objects.values() if obj["object"] == kind]

    # --- The API -------------------------------------------------------------------------------

    def handle(
        self, method: str, path: str, params: dict[str, Any], key: str | None
    ) -> tuple[int, dict[str, Any]]:
        with self.lock:
            record = Recorded(method, path, key, params)
            self.requests.append(record)
            if self.failures:
                record.status = self.failures.pop(0)
                return record.status, {
                    "error": {"type": "api_error", "message": "Local failure, on purpose."}
                }
            if method == "POST" and key:
                seen = self.idempotent.get(key)
                if seen is not None:
                    seen_path, seen_params, status, body = seen
                    if seen_path != path or seen_params != params:
                        record.status = 400
                        return 400, {
                            "error": {
                                "type": "idempotency_error",
                                "message": "Keys for idempotent requests can only be used with "
                                "the same parameters they were first used with.",
                            }
                        }
                    record.status = status
                    return status, body
            try:
                status, body = 200, self.route(method, path, params)
            except _Error as exc:
                status, body = exc.status, {"error": {"type": exc.kind, "message": exc.message}}
            if method == "POST" and key:
                self.idempotent[key] = (path, params, status, body)
            record.status = status
            return status, json.loads(json.dumps(body))

    def route(self, method: str, path: str, params: dict[str, Any]) -> dict[str, Any]:
        parts = path.strip("/").split("/")
        if parts[0] != "v1":
            raise _Error(404, f"Unrecognized request URL ({method}: {path}).")
        parts = parts[1:]
        if parts == ["customers"] and method == "POST":
            return self.customer_create(params)
        if parts[:1] == ["customers"] and len(parts) == 2 and method == "GET":
            return self.get(parts[1], "customer")
        if parts == ["checkout", "sessions"]:
            if method == "POST":
                return self.session_create(params)
            return self.listing("checkout.session", params, "/v1/checkout/sessions")
        if parts[:2] == ["checkout", "sessions"] and len(parts) == 3 and method == "GET":
            return self.get(parts[2], "checkout.session")
        if parts[:1] == ["subscriptions"] and len(parts) == 2:
            subscription = self.get(parts[1], "subscription")
            if method == "DELETE":
                return self.subscription_cancel(subscription["id"])
            if method == "POST" and "cancel_at_period_end" in params:
                subscription["cancel_at_period_end"] = params["cancel_at_period_end"] == "true"
                self.event("customer.subscription.updated", subscription)
            return subscription
        if parts == ["invoices"] and method == "GET":
            return self.listing("invoice", params, "/v1/invoices")
        if parts[:1] == ["invoices"] and len(parts) == 2 and method == "GET":
            return self.get(parts[1], "invoice")
        if parts == ["refunds"]:
            if method == "POST":
                return self.refund_create(params)
            return self.listing("refund", params, "/v1/refunds")
        if parts[:1] == ["refunds"] and len(parts) == 2 and method == "GET":
            return self.get(parts[1], "refund")
        if parts[:1] == ["charges"] and len(parts) == 2 and method == "GET":
            return self.get(parts[1], "charge")
        raise _Error(404, f"Unrecognized request URL ({method}: {path}).")

    def listing(self, kind: str, params: dict[str, Any], url: str) -> dict[str, Any]:
        found = [obj for obj in self.objects.values() if obj["object"] == kind]
        created = params.get("created") or {}
        if isinstance(created, dict) and "gte" in created:
            found = [obj for obj in found if obj["created"] >= int(created["gte"])]
        for name in ("payment_intent", "customer", "subscription", "status", "charge"):
            if name in params:
                found = [obj for obj in found if _field(obj, name) == params[name]]
        found.sort(key=lambda obj: (obj["created"], obj["id"]), reverse=True)
        if "starting_after" in params:
            ids = [obj["id"] for obj in found]
            found = found[ids.index(params["starting_after"]) + 1 :]
        limit = int(params.get("limit", 10))
        return {
            "object": "list",
            "url": url,
            "has_more": len(found) > limit,
            "data": found[:limit],
        }

    def customer_create(self, params: dict[str, Any]) -> dict[str, Any]:
        return self.store(
            {
                "id": self.new_id("cus"),
                "object": "customer",
                "created": self.now(),
                "email": params.get("email"),
                "name": params.get("name"),
                "phone": params.get("phone"),
                "metadata": params.get("metadata", {}),
            }
        )

    def session_create(self, params: dict[str, Any]) -> dict[str, Any]:
        mode = params.get("mode")
        if mode not in ("payment", "subscription"):
            raise _Error(400, "mode must be payment or subscription")
        items = params.get("line_items") or []
        if not items:
            raise _Error(400, "line_items is required")
        total = 0
        for item in items:
            data = item.get("price_data") or {}
            if "unit_amount" not in data:
                raise _Error(400, "line_items[][price_data][unit_amount] is required")
            if (mode == "subscription") != ("recurring" in data):
                raise _Error(400, "recurring prices are for subscription mode only")
            total += int(data["unit_amount"]) * int(item.get("quantity", 1))
        sid = self.new_id("cs")
        return self.store(
            {
                "id": sid,
                "object": "checkout.session",
                "created": self.now(),
                "mode": mode,
                "status": "open",
                "payment_status": "unpaid",
                "amount_total": total,
                "currency": items[0]["price_data"].get("currency", "gbp"),
                "customer": params.get("customer"),
                "customer_email": params.get("customer_email"),
                "client_reference_id": params.get("client_reference_id"),
                "metadata": params.get("metadata", {}),
                "line_items_sent": items,
                "payment_intent": None,
                "subscription": None,
                "invoice": None,
                "success_url": params.get("success_url"),
                "cancel_url": params.get("cancel_url"),
                "url": f"{self.base_url}/pay/{sid}",
                "_subscription_metadata": (params.get("subscription_data") or {}).get(
                    "metadata", {}
                ),
                "_payment_metadata": (params.get("payment_intent_data") or {}).get("metadata", {}),
            }
        )

    def _charge(self, *, amount: int, currency: str, customer: str | None, metadata: Any) -> str:
        pi = self.new_id("pi")
        ch = self.new_id("ch")
        self.store(
            {
                "id": pi,
                "object": "payment_intent",
                "created": self.now(),
                "amount": amount,
                "currency": currency,
                "customer": customer,
                "status": "succeeded",
                "latest_charge": ch,
                "metadata": metadata or {},
            }
        )
        self.store(
            {
                "id": ch,
                "object": "charge",
                "created": self.now(),
                "amount": amount,
                "amount_refunded": 0,
                "currency": currency,
                "customer": customer,
                "payment_intent": pi,
                "paid": True,
                "refunded": False,
                "status": "succeeded",
                "metadata": metadata or {},
            }
        )
        return pi

    def _invoice(self, subscription: dict[str, Any], *, reason: str, paid: bool) -> dict[str, Any]:
        amount = subscription["_amount"]
        start = self.now()
        invoice: dict[str, Any] = {
            "id": self.new_id("in"),
            "object": "invoice",
            "created": start,
            "customer": subscription["customer"],
            "currency": subscription["currency"],
            "billing_reason": reason,
            "amount_due": amount,
            "amount_paid": amount if paid else 0,
            "amount_remaining": 0 if paid else amount,
            "attempt_count": 1,
            "status": "paid" if paid else "open",
            "period_start": start,
            "period_end": start,
            "parent": {
                "type": "subscription_details",
                "subscription_details": {
                    "subscription": subscription["id"],
                    "metadata": subscription["metadata"],
                },
            },
            "lines": {
                "object": "list",
                "data": [
                    {
                        "amount": amount,
                        "period": {
                            "start": start,
                            "end": subscription["items"]["data"][0]["current_period_end"],
                        },
                    }
                ],
            },
            "payments": {"object": "list", "data": []},
        }
        if paid:
            pi = self._charge(
                amount=amount,
                currency=subscription["currency"],
                customer=subscription["customer"],
                metadata=subscription["metadata"],
            )
            invoice["payments"]["data"].append(
                {
                    "object": "invoice_payment",
                    "status": "paid",
                    "payment": {"type": "payment_intent", "payment_intent": pi},
                }
            )
        subscription["latest_invoice"] = invoice["id"]
        return self.store(invoice)

    # --- What customers and Stripe do ----------------------------------------------------------

    def complete(self, session_id: str, *, paid: bool = True) -> list[dict[str, Any]]:
        """The customer pays on the Checkout page. `paid=False`: a delayed method (a bank
        debit) whose money arrives later, through `async_succeed`. Returns the new events."""
        with self.lock:
            before = len(self.events)
            session = self.get(session_id, "checkout.session")
            if session["status"] != "open":
                raise _Error(400, "session is not open")
            session["status"] = "complete"
            if session["customer"] is None:
                session["customer"] = self.customer_create({"email": session["customer_email"]})[
                    "id"
                ]
            if session["mode"] == "payment":
                session["payment_intent"] = self._charge(
                    amount=session["amount_total"],
                    currency=session["currency"],
                    customer=session["customer"],
                    metadata=session["_payment_metadata"],
                )
                if paid:
                    session["payment_status"] = "paid"
                else:
                    self.objects[session["payment_intent"]]["status"] = "processing"
                self.event("checkout.session.completed", session)
            else:
                year = 365 * 24 * 3600
                subscription = self.store(
                    {
                        "id": self.new_id("sub"),
                        "object": "subscription",
                        "created": self.now(),
                        "customer": session["customer"],
                        "status": "active",
                        "cancel_at_period_end": False,
                        "currency": session["currency"],
                        "metadata": session["_subscription_metadata"],
                        "items": {
                            "object": "list",
                            "data": [
                                {
                                    "current_period_start": self.now(),
                                    "current_period_end": self.now() + year,
                                }
                            ],
                        },
                        "latest_invoice": None,
                        "_amount": session["amount_total"],
                    }
                )
                invoice = self._invoice(subscription, reason="subscription_create", paid=True)
                session["subscription"] = subscription["id"]
                session["invoice"] = invoice["id"]
                session["payment_status"] = "paid"
                self.event("customer.subscription.created", subscription)
                self.event("checkout.session.completed", session)
                self.event("invoice.paid", invoice)
            return self.events[before:]

    def expire(self, session_id: str) -> list[dict[str, Any]]:
        """Nobody paid in time: Stripe expires the session."""
        with self.lock:
            before = len(self.events)
            session = self.get(session_id, "checkout.session")
            session["status"] = "expired"
            self.event("checkout.session.expired", session)
            return self.events[before:]

    def async_succeed(self, session_id: str) -> list[dict[str, Any]]:
        with self.lock:
            before = len(self.events)
            session = self.get(session_id, "checkout.session")
            self.objects[session["payment_intent"]]["status"] = "succeeded"
            session["payment_status"] = "paid"
            self.event("checkout.session.async_payment_succeeded", session)
            return self.events[before:]

    def renew(self, subscription_id: str, *, paid: bool = True) -> list[dict[str, Any]]:
        """A year on, Stripe charges the card again (or fails to)."""
        with self.lock:
            before = len(self.events)
            subscription = self.get(subscription_id, "subscription")
            item = subscription["items"]["data"][0]
            if paid:
                item["current_period_start"] = item["current_period_end"]
                item["current_period_end"] += 365 * 24 * 3600
            invoice = self._invoice(subscription, reason="subscription_cycle", paid=paid)
            subscription["status"] = "active" if paid else "past_due"
            self.event("invoice.paid" if paid else "invoice.payment_failed", invoice)
            self.event("customer.subscription.updated", subscription)
            return self.events[before:]

    def subscription_cancel(self, subscription_id: str) -> dict[str, Any]:
        with self.lock:
            subscription = self.get(subscription_id, "subscription")
            subscription["status"] = "canceled"
            self.event("customer.subscription.deleted", subscription)
            return subscription

    def refund_create(self, params: dict[str, Any]) -> dict[str, Any]:
        pi = params.get("payment_intent")
        if not pi:
            raise _Error(400, "payment_intent is required")
        intent = self.get(pi, "payment_intent")
        charge = self.get(intent["latest_charge"], "charge")
        amount = int(params.get("amount", charge["amount"] - charge["amount_refunded"]))
        if amount <= 0 or amount > charge["amount"] - charge["amount_refunded"]:
            raise _Error(400, f"Refund amount ({amount}) is greater than unrefunded amount.")
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount"]
        refund = self.store(
            {
                "id": self.new_id("re"),
                "object": "refund",
                "created": self.now(),
                "amount": amount,
                "currency": charge["currency"],
                "charge": charge["id"],
                "payment_intent": pi,
                "status": "succeeded",
                "reason": params.get("reason"),
                "metadata": params.get("metadata", {}),
            }
        )
        self.event("charge.refunded", charge)
        return refund

    def dashboard_refund(self, payment_intent: str, amount: int) -> list[dict[str, Any]]:
        """Someone refunds a payment by hand in Stripe's dashboard."""
        with self.lock:
            before = len(self.events)
            self.refund_create({"payment_intent": payment_intent, "amount": str(amount)})
            return self.events[before:]

    # --- Webhooks ------------------------------------------------------------------------------

    def signed(self, event: dict[str, Any], *, timestamp: int | None = None) -> tuple[str, str]:
        """The body and `Stripe-Signature` header Stripe would send for `event`."""
        payload = json.dumps(event)
        return payload, sign(payload, self.webhook_secret, timestamp=timestamp)

    def deliver(self, events: list[dict[str, Any]]) -> int:
        """POST events, signed, to `webhook_url` (the demo: Stripe delivering them); how many
        were acknowledged. One that was not is kept in `undelivered` for `redeliver`."""
        delivered = 0
        for event in events:
            payload, header = self.signed(event)
            request = urllib.request.Request(  # noqa: S310  # our own configured URL
                self.webhook_url,
                data=payload.encode(),
                headers={"Content-Type": "application/json", "Stripe-Signature": header},
                method="POST",
            )
            try:
                with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                    logger.info("delivered %s: %s", event["type"], response.status)
                    delivered += 1
            except OSError as exc:  # no answer, or (HTTPError) one that is not a 2xx
                logger.warning("could not deliver %s: %s", event["type"], exc)
                with self.lock:
                    self.undelivered.append(event)
        return delivered

    def redeliver(self) -> int:
        """Stripe's retry: send every unacknowledged event again, in order; how many were
        acknowledged this time (the others stay for the next retry)."""
        with self.lock:
            pending, self.undelivered = self.undelivered, []
        return self.deliver(pending)


def _field(obj: dict[str, Any], name: str) -> Any:
    if name == "subscription" and obj["object"] == "invoice":
        return obj["parent"]["subscription_details"]["subscription"]
    return obj.get(name)


_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Local Stripe Checkout</title><style>body{{font:1.3rem sans-serif;margin:2rem}}
button{{font-size:1.3rem;padding:.5rem 1.5rem}}</style></head><body>
<h1>Local Stripe Checkout (demo)</h1><p>{what}: <strong>{amount}</strong></p>
<p>No card is needed: this page stands in for Stripe's.</p>
<form method="post" action="/pay/{sid}"><button>Pay</button></form>
<p><a href="{cancel}">Cancel</a></p></body></html>"""


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("stripe_local: " + format, *args)

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Request-Id", f"req_local{secrets.token_hex(6)}")
        self.end_headers()
        self.wfile.write(data)

    def _api(self, method: str) -> None:
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        if split.path.startswith("/pay/"):
            self._pay_page(method, split.path.removeprefix("/pay/"))
            return
        if not self.headers.get("Authorization", "").startswith("Bearer "):
            self._send(401, {"error": {"type": "invalid_request_error", "message": "No key."}})
            return
        params = decode_form(body if method == "POST" else split.query)
        status, answer = self.server.state.handle(
            method, split.path, params, self.headers.get("Idempotency-Key")
        )
        self._send(status, answer)

    def _pay_page(self, method: str, sid: str) -> None:
        state = self.server.state
        session = state.objects.get(sid)
        if session is None or session["object"] != "checkout.session":
            self._send(404, {"error": {"message": "No such session."}})
            return
        if method == "POST":
            events = state.complete(sid) if session["status"] == "open" else []
            state.deliver(events)
            self.send_response(303)
            self.send_header("Location", session["success_url"] or "/")
            self.end_headers()
            return
        what = "Membership, a year" if session["mode"] == "subscription" else "Tokens"
        page = _PAGE.format(
            what=what,
            amount=f"£{session['amount_total'] / 100:.2f}",
            sid=html.escape(sid),
            cancel=html.escape(session["cancel_url"] or "/"),
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(page)))
        self.end_headers()
        self.wfile.write(page)

    def do_GET(self) -> None:
        self._api("GET")

    def do_POST(self) -> None:
        self._api("POST")

    def do_DELETE(self) -> None:
        self._api("DELETE")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: LocalStripe


def make_server(
    host: str = "127.0.0.1", port: int = 0, *, webhook_secret: str = "", webhook_url: str = ""
) -> _Server:
    """A server on `port` (0: a free one); call `serve_forever()` on it."""
    server = _Server((host, port), _Handler)
    server.state = LocalStripe(
        webhook_secret=webhook_secret,
        webhook_url=webhook_url,
        base_url=f"http://{host}:{server.server_address[1]}",
    )
    return server


@contextmanager
def running(*, webhook_secret: str = "", webhook_url: str = "") -> Iterator[LocalStripe]:
    """A server on a free loopback port, in a thread, for as long as the block runs."""
    server = make_server(webhook_secret=webhook_secret, webhook_url=webhook_url)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
