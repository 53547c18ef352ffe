"""One receipt delivered twice at once, on PostgreSQL with real threads: one follow-up."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from attention.models import Item
from members.models import AuditEvent
from messaging.models import Sms, SmsStatus
from messaging.services import sms_send
from messaging.twilio_local import LocalTwilio
from tests.conftest import Personas
from tests.messaging.conftest import twilio_receipt
from tests.payments.test_offline_payments import run_together

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="real concurrency needs PostgreSQL"
    ),
    pytest.mark.django_db(transaction=True),
]


def test_one_failure_reported_twice_at_once_raises_one_follow_up(
    personas: Personas, twilio: LocalTwilio
) -> None:
    sms = sms_send(member=personas.alice, body="Hello")
    assert sms is not None

    def report() -> Any:
        return twilio_receipt(twilio, sms.provider_id, "undelivered", error_code="30003")

    responses = run_together([report] * 4)

    assert [getattr(r, "status_code", r) for r in responses] == [200] * 4
    outcomes = sorted(r.json()["outcome"] for r in responses)
    assert outcomes == ["failed", "unchanged", "unchanged", "unchanged"]
    assert Sms.objects.get().status == SmsStatus.FAILED
    assert Item.objects.count() == 1
    assert AuditEvent.objects.filter(action="followup.queued").count() == 1
