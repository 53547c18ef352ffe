"""GET /api/v1/members/{id}/export/: everything Circle holds about a member (UK GDPR right
of access), for the member and their circle's staff, audited, in a fixed number of queries."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from attention.models import ItemKind
from attention.services import item_raise
from circle import sms
from matching.models import HelperPreference
from members.models import AuditEvent
from members.services import audit_record
from messaging.models import Sms
from tests.conftest import Personas
from tests.matching.conftest import TASKS_URL, give_tokens, make_active, vet

ClientFor = Callable[[Any], APIClient]

SECTIONS = {
    "generated_at",
    "circle",
    "member",
    "audit",
    "attention",
    "helper",
    "tokens",
    "messaging",
    "help",
    "payments",
}


def export_url(member_id: int) -> str:
    return f"/api/v1/members/{member_id}/export/"


@pytest.fixture(autouse=True)
def sms_outbox(settings: Any) -> None:
    settings.SMS_BACKEND = "circle.sms.LocmemBackend"
    sms.outbox.clear()


def book(client: APIClient, title: str) -> dict[str, Any]:
    from tests.matching.conftest import london

    response = client.post(
        TASKS_URL,
        {
            "category": "gardening",
            "title": title,
            "details": "The front hedge.",
            "window_start": london(hour=10).isoformat(),
            "window_end": london(hour=12).isoformat(),
            "estimated_minutes": 60,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body: dict[str, Any] = response.json()
    return body


def add_rows(personas: Personas, client_for: ClientFor, n: int) -> None:
    """n of each kind of row an export reads, about Alice."""
    alice = personas.alice
    for i in range(n):
        give_tokens(alice, minutes=60, key=f"rows-{n}-{i}")
        item_raise(member=alice, kind=ItemKind.GRACE, cause=f"rows-{n}-{i}", note="Call her")
        Sms.objects.create(
            circle=alice.circle, member=alice, to=alice.phone, body=f"Hello {i}", provider="t"
        )
        book(client_for(alice), f"Hedge {n}-{i}")


@pytest.fixture
def alice_with_history(personas: Personas, client_for: ClientFor) -> Personas:
    make_active(personas.alice, by=personas.otto, tokens=4, reference="CASH-77")
    vet(personas.hana_helper, by=personas.cora)
    add_rows(personas, client_for, 1)
    HelperPreference.objects.create(
        circle=personas.southwark,
        member=personas.alice,
        helper=personas.hana_helper,
        kind="preferred",
    )
    return personas


def test_member_downloads_everything_held_about_her(
    alice_with_history: Personas, client_for: ClientFor
) -> None:
    p = alice_with_history
    response = client_for(p.alice).get(export_url(p.alice.pk))

    assert response.status_code == 200
    body = response.json()
    assert set(body) == SECTIONS
    assert body["member"]["full_name"] == "Alice Archer"
    assert body["member"]["phone"] == p.alice.phone
    assert body["member"]["postcode"] == p.alice.postcode
    assert p.alice.date_of_birth is not None
    assert body["member"]["date_of_birth"] == p.alice.date_of_birth.isoformat()
    assert body["member"]["roles"] == ["member"]
    assert body["circle"] == {"slug": "southwark", "name": "Southwark Circle"}
    # Money is exact text, and Stripe's keys are not there.
    payment = body["payments"]["payments"][0]
    assert payment["reference"] == "CASH-77"
    assert payment["amount"]["currency"] == "GBP"
    assert "." in payment["amount"]["amount"]
    assert "stripe" not in response.content.decode().lower()
    assert body["payments"]["membership_periods"]
    # Four tokens bought, an hour given, an hour set aside for the hedge.
    assert body["tokens"]["balance_minutes"] == 4 * 60 + 60 - 60
    assert len(body["tokens"]["statement"]) == 3
    assert [t["title"] for t in body["help"]["tasks_asked"]] == ["Hedge 1-0"]
    assert [(p["kind"], p["helper"]) for p in body["help"]["preferences"]] == [
        ("preferred", "Hana")
    ]
    assert [i["note"] for i in body["attention"]["items"]] == ["Call her"]
    assert [t["body"] for t in body["messaging"]["text_messages"]] == ["Hello 0"]
    assert body["helper"] == {"profile": None, "skills": [], "availability": [], "vetting": []}
    assert any(a["action"] == "payment.recorded" or a["by"] for a in body["audit"])


def test_helper_sees_her_profile_and_vetting_record(
    personas: Personas, client_for: ClientFor
) -> None:
    vet(personas.hana_helper, by=personas.cora)

    body = client_for(personas.hana).get(export_url(personas.hana.pk)).json()

    assert body["helper"]["profile"]["vetting_level"] == "basic"
    (check,) = body["helper"]["vetting"]
    assert check["dbs_certificate_number"] == "001234567890"
    assert check["recorded_by"] == "Cora Coordinator"
    assert "helper.vetted" in [a["action"] for a in body["audit"]]


def test_staff_download_a_members_data_as_a_file(
    alice_with_history: Personas, client_for: ClientFor
) -> None:
    p = alice_with_history
    for staff in (p.otto, p.cora):
        response = client_for(staff).get(export_url(p.alice.pk) + "?download=1")
        assert response.status_code == 200
        assert response["Content-Disposition"] == (
            f'attachment; filename="circle-data-{p.alice.pk}.json"'
        )
        assert response.json()["member"]["id"] == p.alice.pk


def test_without_download_it_is_not_an_attachment(
    personas: Personas, client_for: ClientFor
) -> None:
    response = client_for(personas.alice).get(export_url(personas.alice.pk))
    assert "Content-Disposition" not in response


def test_each_export_is_audited_with_who_and_for_whom(
    personas: Personas, client_for: ClientFor
) -> None:
    client_for(personas.otto).get(export_url(personas.alice.pk))

    event = AuditEvent.objects.get(action="data.exported")
    assert event.member == personas.alice
    assert event.actor == personas.otto.user
    assert event.actor_member == personas.otto
    assert "payments" in event.data["sections"]


def test_safeguarding_concerns_are_left_out(personas: Personas, client_for: ClientFor) -> None:
    concern = item_raise(
        member=personas.alice, kind=ItemKind.SAFEGUARDING, cause="c1", note="Bruising"
    )
    assert concern is not None
    # Later rows about the concern name its item, not its kind.
    audit_record(
        circle=personas.southwark,
        action="followup.done",
        member=personas.alice,
        data={"followup_id": concern.pk, "note": "Spoke to the council"},
    )
    item_raise(member=personas.alice, kind=ItemKind.LAPSED, cause="l1", note="Lapsed")
    audit_record(circle=personas.southwark, action="safeguarding.raised", member=personas.alice)

    response = client_for(personas.alice).get(export_url(personas.alice.pk))

    text = response.content.decode()
    assert "Bruising" not in text
    assert "safeguarding" not in text
    assert "council" not in text
    assert "followup.queued" in text  # the lapsed item's row is hers to see
    assert [i["note"] for i in response.json()["attention"]["items"]] == ["Lapsed"]


def test_another_member_may_not_read_it(personas: Personas, client_for: ClientFor) -> None:
    response = client_for(personas.bob).get(export_url(personas.alice.pk))

    assert response.status_code == 403
    assert not AuditEvent.objects.filter(action="data.exported").exists()


def test_another_circles_coordinator_gets_404(personas: Personas, client_for: ClientFor) -> None:
    response = client_for(personas.clara).get(export_url(personas.alice.pk))

    assert response.status_code == 404
    assert response.json()["code"] == "member_not_found"


def test_anonymous_is_refused(personas: Personas, client_for: ClientFor) -> None:
    assert client_for(None).get(export_url(personas.alice.pk)).status_code == 401


def _queries(client: APIClient, member_id: int) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(export_url(member_id)).status_code == 200
    return len(ctx.captured_queries)


def test_queries_do_not_grow_with_history(personas: Personas, client_for: ClientFor) -> None:
    make_active(personas.alice, by=personas.otto, tokens=10)
    vet(personas.hana_helper, by=personas.cora)
    add_rows(personas, client_for, 1)
    client = client_for(personas.alice)
    few = _queries(client, personas.alice.pk)

    add_rows(personas, client_for, 6)
    many = _queries(client, personas.alice.pk)

    assert few == many
    assert len(client.get(export_url(personas.alice.pk)).json()["help"]["tasks_asked"]) == 7
