"""The operators' follow-up list: `GET /api/v1/circles/{slug}/followups/` and
`POST /api/v1/followups/{id}/done/`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from attention.models import Item
from members.models import AuditEvent, Member, MembershipStatus
from payments.services import membership_statuses_advance
from tests.conftest import Personas
from tests.payments.test_offline_payments import old_year_paid

Client = Callable[[Any], APIClient]

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice_in_grace(personas: Personas) -> Item:
    today = timezone.localdate()
    old_year_paid(
        personas.alice,
        start=today - timedelta(days=370),
        end=today - timedelta(days=5),
        reference="F1",
    )
    Member.objects.filter(pk=personas.alice.pk).update(membership_status=MembershipStatus.ACTIVE)
    membership_statuses_advance()
    return Item.objects.get()


def test_operators_see_who_to_phone(
    personas: Personas, client_for: Client, alice_in_grace: Item
) -> None:
    response = client_for(personas.otto).get("/api/v1/circles/southwark/followups/")

    assert response.status_code == 200
    (line,) = response.json()["results"]
    assert line["member_id"] == personas.alice.pk
    assert line["member_name"] == "Alice Archer"
    assert line["phone"] == "+447700900001"
    assert line["kind"] == "grace"
    assert line["done_at"] is None


def test_marking_one_done_takes_it_off_the_list_once(
    personas: Personas, client_for: Client, alice_in_grace: Item
) -> None:
    otto = client_for(personas.otto)
    url = f"/api/v1/followups/{alice_in_grace.pk}/done/"

    response = otto.post(url, {"note": "Will pay cash on Friday"}, "json")

    assert response.status_code == 200, response.content
    assert response.json()["done_note"] == "Will pay cash on Friday"
    assert otto.get("/api/v1/circles/southwark/followups/").json()["count"] == 0
    assert otto.get("/api/v1/circles/southwark/followups/?done=true").json()["count"] == 1
    again = otto.post(url, {}, "json")
    assert again.status_code == 409
    assert again.json()["code"] == "already_done"
    assert AuditEvent.objects.filter(action="followup.done").count() == 1


def test_members_and_other_circles_do_not_see_the_list(
    personas: Personas, client_for: Client, alice_in_grace: Item
) -> None:
    assert client_for(personas.alice).get("/api/v1/circles/southwark/followups/").status_code == 403
    assert client_for(personas.clara).get("/api/v1/circles/southwark/followups/").status_code == 403
    assert client_for(personas.clara).get("/api/v1/circles/suffolk/followups/").json()["count"] == 0
    url = f"/api/v1/followups/{alice_in_grace.pk}/done/"
    response = client_for(personas.clara).post(url, {}, "json")
    assert response.status_code == 404
    assert response.json()["code"] == "followup_not_found"
    assert client_for(personas.alice).post(url, {}, "json").status_code == 403
    assert Item.objects.get().done_at is None
