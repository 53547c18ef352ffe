"""The one module that talks to Stripe, through the official library's `StripeClient`.

Everything else in Circle calls these functions and gets plain dicts back (Stripe's JSON, as
the API version pinned by the installed library shapes it). Calls that create anything carry an
idempotency key derived from our own row, so a retry, by the library or by us, creates nothing
new. `STRIPE_API_BASE` points the library at another server (tests, the demo, staging) through
its own `base_addresses` setting.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from typing import Any

import stripe
from django.conf import settings

from circle.errors import DomainError
from circle.parsers import json_depth_check

logger = logging.getLogger(__name__)

# Raised for Stripe's answers; callers decide what each means for the member.
StripeError = stripe.StripeError
StripeServerError = stripe.APIError  # a 5xx: Stripe may or may not have done it
SignatureError = stripe.SignatureVerificationError


class PaymentsUnavailable(DomainError):
    """Stripe could not be reached or is not configured: nothing was charged."""

    status_code = 503


class PaymentsFailed(DomainError):
    """Stripe answered, but refused to start a payment (a bad key, a rate limit, its own
    error after the library's retries): nothing was charged, and a person may try again."""

    status_code = 502


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
    # Since stripe 15 a StripeObject is no longer a dict: `to_dict` gives its data, with nested
    # objects and lists made plain too (`for_json`: decimals as the strings Stripe sent).
    result: dict[str, Any] = obj.to_dict(recursive=True, for_json=True)
    return result


def _call(what: str, func: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
    try:
        return _plain(func(*args, **kwargs))
    except stripe.APIConnectionError as exc:
        raise PaymentsUnavailable(
            "payments_unavailable", f"Stripe could not be reached ({what}); try again shortly."
        ) from exc


def _start(what: str, func: Any, **kwargs: Any) -> dict[str, Any]:
    """_call for what starts a payment (a customer, a Checkout session), where nothing is
    charged yet: any other refusal of Stripe's is a clear 502, never a 500. Refunds and reads
    keep Stripe's own errors, which their callers tell apart."""
    try:
        return _call(what, func, **kwargs)
    except stripe.StripeError as exc:
        logger.warning("stripe refused %s: %s", what, exc)
        raise PaymentsFailed(
            "payments_failed", f"Stripe refused to start the payment ({what}); nothing was charged."
        ) from exc


# --- Webhooks ---------------------------------------------------------------------------------


class NotAnEvent(ValueError):
    """A correctly signed body that is JSON but not an event (an object): `[]`, `"text"`."""


def event_verify(*, payload: bytes, signature: str) -> dict[str, Any]:
    """The event in a webhook body, once its signature and its time are checked.

    Raises SignatureError for a missing or wrong signature, or one made more than
    STRIPE_WEBHOOK_TOLERANCE seconds from now, before or after (the library checks only the
    past: a body signed for the future could be held and replayed for as long as it reached);
    JsonTooDeep for a body nested deeper than the API allows; NotAnEvent for JSON that is not an
    object; ValueError for a body that is not JSON at all.
    """
    secret = settings.STRIPE_WEBHOOK_SECRET
    if not secret:
        raise SignatureError("No webhook secret is configured.", signature)
    text = payload.decode("utf-8")  # a UnicodeDecodeError is a ValueError: not JSON either
    tolerance = settings.STRIPE_WEBHOOK_TOLERANCE
    # The HMAC over "timestamp.body", and the timestamp's age, by the library's own check.
    stripe.WebhookSignature.verify_header(text, signature, secret, tolerance=tolerance)
    if _signed_at(signature) > time.time() + tolerance:
        raise SignatureError("The signature's timestamp is in the future.", signature)
    # Only a signed body is parsed, and with the API's depth cap: the library's own
    # `construct_event` would decode any depth (and, since v15, build an Event we never use).
    json_depth_check(text)
    event = json.loads(text)
    if not isinstance(event, dict):
        raise NotAnEvent("an event is a JSON object")
    return event


def _signed_at(signature: str) -> int:
    """The `t=` of a `Stripe-Signature` header the library has already accepted."""
    for item in signature.split(","):
        key, _, value = item.partition("=")
        if key.strip() == "t":
            return int(value)
    raise SignatureError("The signature has no timestamp.", signature)


# --- Creating ---------------------------------------------------------------------------------


def customer_create(*, params: dict[str, Any], idempotency_key: str) -> dict[str, Any]:
    return _start(
        "customer",
        client().v1.customers.create,
        params=params,
        options={"idempotency_key": idempotency_key},
    )


def checkout_session_create(*, params: dict[str, Any], idempotency_key: str) -> dict[str, Any]:
    return _start(
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
