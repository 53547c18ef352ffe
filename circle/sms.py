"""Text messages through a pluggable backend, chosen by the `SMS_BACKEND` setting the way
Django's mail is by `EMAIL_BACKEND`.

A backend is a class with a `provider` name and `send(to, body)`, which returns the provider's
id for the message or raises `SmsFailed` when the provider refused it or could not be reached.
`ConsoleBackend` (the laptop default) prints the message, `LocmemBackend` keeps it in
`circle.sms.outbox` for tests; the real gateways, Twilio and GOV.UK Notify, are in
`messaging.backends`, with the record of what was sent and the delivery receipts.

This is the transport only: it knows numbers and words, not members. Apps send through
`messaging.services.sms_send`, which records each message and follows up one that failed.
"""

from __future__ import annotations

import secrets
import sys
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class Sms:
    to: str
    body: str


@dataclass(frozen=True)
class SmsSent:
    """What the provider said when it took the message: who it is, and its id for it."""

    provider: str
    provider_id: str


class SmsFailed(Exception):
    """The provider refused the message (a 4xx: a bad number, a blocked sender) or could not be
    reached or answered with a 5xx. `detail` is what the provider said, for the record."""

    def __init__(self, provider: str, detail: str) -> None:
        super().__init__(f"{provider}: {detail}")
        self.provider = provider
        self.detail = detail


class SmsBackend(Protocol):
    provider: str

    def send(self, to: str, body: str) -> str: ...


# What LocmemBackend has sent, oldest first (like django.core.mail.outbox).
outbox: list[Sms] = []


def _local_id() -> str:
    return f"local-{secrets.token_hex(8)}"


class ConsoleBackend:
    provider = "console"

    def send(self, to: str, body: str) -> str:
        sys.stdout.write(f"SMS to {to}: {body}\n")
        sys.stdout.flush()
        return _local_id()


class LocmemBackend:
    provider = "locmem"

    def send(self, to: str, body: str) -> str:
        outbox.append(Sms(to=to, body=body))
        return _local_id()


def backend() -> SmsBackend:
    backend_class = import_string(settings.SMS_BACKEND)
    found: SmsBackend = backend_class()
    return found


def send_sms(*, to: str, body: str) -> SmsSent:
    """Hand one message to the configured backend. Raises SmsFailed; records nothing."""
    chosen = backend()
    return SmsSent(provider=chosen.provider, provider_id=chosen.send(to, body))
