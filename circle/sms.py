"""Text messages through a pluggable backend, chosen by the `SMS_BACKEND` setting the way
Django's mail is by `EMAIL_BACKEND`.

A backend is a class with `send(to, body)`; `ConsoleBackend` (the laptop default) prints the
message, `LocmemBackend` keeps it in `circle.sms.outbox` for tests. A real gateway (Twilio,
GOV.UK Notify...) is a class of the same shape named in the setting; nothing here calls one.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class Sms:
    to: str
    body: str


class SmsBackend(Protocol):
    def send(self, to: str, body: str) -> None: ...


# What LocmemBackend has sent, oldest first (like django.core.mail.outbox).
outbox: list[Sms] = []


class ConsoleBackend:
    def send(self, to: str, body: str) -> None:
        sys.stdout.write(f"SMS to {to}: {body}\n")
        sys.stdout.flush()


class LocmemBackend:
    def send(self, to: str, body: str) -> None:
        outbox.append(Sms(to=to, body=body))


def send_sms(*, to: str, body: str) -> None:
    backend_class = import_string(settings.SMS_BACKEND)
    backend: SmsBackend = backend_class()
    backend.send(to, body)
