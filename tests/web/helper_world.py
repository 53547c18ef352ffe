"""What the helper pages' tests share: Southwark with Alice and Bob active, Hana vetted (basic,
gardening and odd jobs, next door to Alice), Sam active in Suffolk; tasks booked the way a
member books them; and the rows a helper's action may write."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from matching.models import Notice, Task, TaskStatus
from matching.services import task_accept, task_book, task_complete, task_confirm
from members.models import AuditEvent, Member
from members.selectors import caller_for
from tests.conftest import Personas
from tests.matching.conftest import london, make_active, vet
from tokens.models import Entry


@pytest.fixture
def world(personas: Personas) -> Personas:
    make_active(personas.alice, by=personas.otto, tokens=5)
    make_active(personas.bob, by=personas.otto, tokens=2)
    make_active(personas.sam, by=personas.clara, tokens=1)
    personas.southwark.phone = "+442079460000"
    personas.southwark.save(update_fields=["phone"])
    vet(personas.hana_helper, by=personas.cora)
    for who in (personas.alice, personas.bob, personas.sam):
        who.refresh_from_db()
    personas.hana_helper.refresh_from_db()
    return personas


@pytest.fixture
def hana(client: Client, world: Personas) -> Client:
    client.force_login(world.hana.user)
    return client


def book(
    member: Member,
    *,
    title: str = "Trim the hedge",
    category: str = "gardening",
    minutes: int = 90,
    hour: int = 10,
    days: int = 1,
) -> Task:
    """The member books help tomorrow (or `days` ahead), `hour` o'clock for two hours."""
    from datetime import timedelta

    start = london(hour=hour) + timedelta(days=days - 1)
    return task_book(
        member=member,
        caller=caller_for(user=member.user, circle=member.circle),
        category=category,
        title=title,
        details="The front hedge, about 5 m.",
        window_start=start,
        window_end=start + timedelta(hours=2),
        estimated_minutes=minutes,
    ).task


def take(task: Task, world: Personas, *, status: str, minutes: int = 40) -> Task:
    """Hana takes the task as far as `status`; the member confirms a settled one."""
    hana = caller_for(user=world.hana.user, circle=task.circle)
    task_accept(task=task, helper=world.hana_helper, caller=hana)
    if status in (TaskStatus.COMPLETED, TaskStatus.SETTLED):
        task_complete(task=task, helper=world.hana_helper, caller=hana, minutes=minutes)
    if status == TaskStatus.SETTLED:
        member = task.member
        task_confirm(task=task, caller=caller_for(user=member.user, circle=task.circle))
    return Task.objects.get(pk=task.pk)


def written() -> dict[str, Any]:
    return {
        "entries": Entry.objects.count(),
        "audit": AuditEvent.objects.count(),
        "notices": Notice.objects.count(),
        "tasks": list(
            Task.objects.order_by("pk").values_list("status", "helper_id", "minutes_reported")
        ),
    }
