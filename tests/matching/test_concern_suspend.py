"""Suspending the helper a safeguarding concern names: one action, recorded on the vetting
record, that hands back the helper's accepted tasks so other helpers are offered them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from attention.models import ConcernNote
from helpers.models import Helper
from matching.models import Task, TaskStatus
from members.models import AuditEvent
from tests.conftest import Personas
from tests.matching.conftest import FEED_URL, book, new_helper, task_url

Client = Callable[[Any], APIClient]

pytestmark = pytest.mark.django_db


def raise_about_hana(client_for: Client, world: Personas) -> int:
    response = client_for(world.alice).post(
        "/api/v1/circles/southwark/concerns/",
        {
            "about_helper_id": world.hana.pk,
            "what_happened": "She took my purse.",
            "danger_now": False,
        },
        "json",
    )
    assert response.status_code == 201, response.json()
    return int(response.json()["id"])


def suspend_url(concern_id: int) -> str:
    return f"/api/v1/concerns/{concern_id}/suspend-helper/"


def test_suspending_hands_back_the_helpers_accepted_task(
    world: Personas, client_for: Client, task_body: Callable[..., dict[str, Any]]
) -> None:
    alice, hana = client_for(world.alice), client_for(world.hana)
    task = book(alice, task_body())
    assert hana.post(task_url(task["id"], "accept")).status_code == 200
    other = new_helper(world, "Olly", skills=["gardening"])
    concern = raise_about_hana(client_for, world)

    response = client_for(world.cora).post(
        suspend_url(concern), {"reason": "Allegation of theft"}, "json"
    )

    assert response.status_code == 200, response.json()
    assert response.json() == {
        "helper_id": world.hana_helper.pk,
        "suspended": True,
        "handed_back_task_ids": [task["id"]],
    }
    stored = Task.objects.get(pk=task["id"])
    assert stored.status == TaskStatus.OPEN
    assert stored.helper_id is None
    helper = Helper.objects.get(pk=world.hana_helper.pk)
    assert helper.suspended
    assert helper.suspended_reason == "Allegation of theft"
    assert AuditEvent.objects.filter(action="helper.suspended", member=world.hana).exists()
    handed = AuditEvent.objects.get(action="task.handed_back", data__task_id=task["id"])
    # The member whose request it was reads this reason: nothing of the concern in it.
    assert "theft" not in handed.reason
    assert handed.reason == "The helper can no longer do this; it is offered to other helpers."
    assert AuditEvent.objects.filter(
        action="concern.helper_suspended", data__concern_id=concern
    ).exists()
    assert "handed back" in ConcernNote.objects.get(concern_id=concern).text
    # Back in the feed for another helper, and not in the suspended one's.
    feed = client_for(other.member).get(FEED_URL).json()
    assert task["id"] in [row["id"] for row in feed["results"]]

    # Again: nothing more to hand back, no second suspension, still answered.
    again = client_for(world.cora).post(suspend_url(concern), {"reason": "again"}, "json")
    assert again.status_code == 200
    assert again.json()["handed_back_task_ids"] == []
    assert AuditEvent.objects.filter(action="helper.suspended").count() == 1


def test_refusals(world: Personas, client_for: Client) -> None:
    concern = raise_about_hana(client_for, world)
    otto = client_for(world.otto).post(suspend_url(concern), {"reason": "x"}, "json")
    assert otto.status_code == 403
    assert otto.json()["code"] == "concern_forbidden"
    blank = client_for(world.cora).post(suspend_url(concern), {"reason": " "}, "json")
    assert blank.status_code == 400
    about_member = (
        client_for(world.hana)
        .post(
            "/api/v1/circles/southwark/concerns/",
            {"about_member_id": world.alice.pk, "what_happened": "Bruises", "danger_now": False},
            "json",
        )
        .json()["id"]
    )
    no_helper = client_for(world.cora).post(suspend_url(about_member), {"reason": "x"}, "json")
    assert no_helper.status_code == 409
    assert no_helper.json()["code"] == "concern_no_helper"
    assert not Helper.objects.get(pk=world.hana_helper.pk).suspended
