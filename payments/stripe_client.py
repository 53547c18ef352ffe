"""The one module that talks to Stripe, through the official library's `StripeClient`.

Everything else in Circle calls these functions and gets plain dicts back (Stripe's JSON, as
the API version pinned by the installed library shapes it). Calls that create anything carry an
idempotency key derived from our own row, so a retry, by the library or by us, creates nothing
new. `STRIPE_API_BASE` points the library at another server (tests, the demo, staging) through
its own `base_addresses` setting.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import stripe
from django.conf import settings

from circle.errors import DomainError

# Raised for Stripe's answers; callers decide what each means for the member.
StripeError = stripe.StripeError
StripeServerError = stripe.APIError  # a 5xx: Stripe may or may not have done it
SignatureError = stripe.SignatureVerificationError


class PaymentsUnavailable(DomainError):
    """Stripe could not be reached or is not configured: nothing was charged."""

    status_code = 503


def configured() -> bool:
    return bool(settings.STRIPE_SECRET_KEY)


_clients: dict[tuple[str, str, int], stripe.StripeClient] = {}


def client() -> stripe.StripeClient:
    if not configured():
        raise PaymentsUnavailable(
            "payments_not_configured", "Card payments are not set up for this installation."
        )
    key = (
        settings.STRIPE_SECRET_KEY,
        settings.STRIPE_API_BASE or stripe.DEFAULT_API_BASE,
        settings.STRIPE_MAX_NETWORK_RETRIES,
    )
    found = _clients.get(key)
    if found is None:
        found = _clients[key] = stripe.StripeClient(
            key[0], base_addresses={"api": key[1]}, max_network_retries=key[2]
        )
    return found


def _plain(obj: Any) -> dict[str, Any]:
    # StripeObject is a dict; through JSON it becomes plain dicts and lists all the way down.
    result: dict[str, Any] = json.loads(json.dumps(obj))
    return result


def _call(what: str, func: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
    try:
        return _plain(func(*args, **kwargs))
    except stripe.APIConnectionError as exc:
        raise PaymentsUnavailable(
            "payments_unavailable", f"Stripe could not be reached ({what}); try again shortly."
        ) from exc


# --- Webhooks ---------------------------------------------------------------------------------


def event_verify(*, payload: bytes, signature: str) -> dict[str, Any]:
    """The event in a webhook body, once its signature (and its age) is checked by the
    library's own verification. Raises SignatureError, or ValueError for a body that is not
    JSON."""
    secret = settings.STRIPE_WEBHOOK_SECRET
    if not secret:
        raise SignatureError("No webhook secret is configured.", signature)
    text = payload.decode("utf-8")  # a UnicodeDecodeError is a ValueError: not JSON either
    # The library checks the HMAC over "timestamp.body" and the timestamp's age; its Event
    # object is not kept: the services read the plain JSON.
    stripe.Webhook.construct_event(
        text, signature, secret, tolerance=settings.STRIPE_WEBHOOK_TOLERANCE
    )
    event = json.loads(text)
    if not isinstance(event, dict):
        raise ValueError("an event is a JSON object")
    return event


# --- Creating ---------------------------------------------------------------------------------


def customer_create(*, params: dict[str, Any], idempotency_key: str) -> dict[str, Any]:
    return _call(
        "customer",
        client().v1.customers.create,
        params=params,
        options={"idempotency_key": idempotency_key},
    )


def checkout_session_create(*, params: dict[str, Any], idempotency_key: str) -> dict[str, Any]:
    return _call(
        "checkout",
        client().v1.checkout.sessions.create,
        params=params,
        options={"idempotency_key": idempotency_key},
    )


def refund_create(*, params: dict[str, Any], idempotency_key: str) -> dict[str, Any]:
    return _call(
        "refund",
        client().v1.refunds.create,
        params=params,
        options={"idempotency_key": idempotency_key},
    )


# --- Reading ----------------------------------------------------------------------------------


def checkout_session_retrieve(session_id: str) -> dict[str, Any]:
    return _call("checkout", client().v1.checkout.sessions.retrieve, session_id)


def invoice_retrieve(invoice_id: str) -> dict[str, Any]:
    return _call("invoice", client().v1.invoices.retrieve, invoice_id)


def subscription_retrieve(subscription_id: str) -> dict[str, Any]:
    return _call("subscription", client().v1.subscriptions.retrieve, subscription_id)


def _each(what: str, lister: Any, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every object of a list call, page by page (Stripe pages by `starting_after`)."""
    params = {"limit": 100, **params}
    while True:
        page = _call(what, lister, params=params)
        yield from page["data"]
        if not page.get("has_more") or not page["data"]:
            return
        params = {**params, "starting_after": page["data"][-1]["id"]}


def checkout_sessions_list(**params: Any) -> Iterator[dict[str, Any]]:
    return _each("checkout", client().v1.checkout.sessions.list, params)


def invoices_list(**params: Any) -> Iterator[dict[str, Any]]:
    return _each("invoices", client().v1.invoices.list, params)


def refunds_list(**params: Any) -> Iterator[dict[str, Any]]:
    return _each("refunds", client().v1.refunds.list, params)
