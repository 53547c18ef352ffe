"""A request nobody took: when its window ends with no helper, the task expires and the
operators' follow-ups get one item to ring the member, once however often the job runs."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from attention.models import Item, ItemKind
from matching.models import TaskStatus
from matching.services import task_accept, task_expire, tasks_expire
from members.models import AuditEvent
from members.selectors import caller_for
from tests.conftest import Personas
from tests.matching.conftest import vet
from tests.matching.tasks_factory import make_task

pytestmark = pytest.mark.django_db


def test_an_expired_task_raises_one_follow_up_to_ring_its_member(personas: Personas) -> None:
    alice = personas.alice
    start = timezone.now() + timedelta(days=1)
    task = make_task(member=alice, start=start, hours=2)
    later = make_task(member=alice, start=start + timedelta(days=3), hours=2)

    with time_machine.travel(start + timedelta(hours=2, minutes=1), tick=False):
        assert tasks_expire() == 1
        assert tasks_expire() == 0
        task_expire(task=task)  # run by hand too: still once

    item = Item.objects.get(kind=ItemKind.TASK_UNACCEPTED)
    assert (item.member, item.circle, item.task_id) == (alice, personas.southwark, task.pk)
    assert item.cause == f"task:{task.pk}"
    assert item.phone == alice.phone
    assert f"No helper took “{task.title}”" in item.note
    assert "Ring to offer another time." in item.note
    assert item.done_at is None
    task.refresh_from_db()
    assert task.status == TaskStatus.EXPIRED
    assert not Item.objects.filter(task_id=later.pk).exists()
    queued = AuditEvent.objects.get(action="followup.queued")
    assert queued.data == {"followup_id": item.pk, "kind": "task_unaccepted", "task_id": task.pk}


def test_a_task_someone_took_raises_nothing_when_its_window_ends(personas: Personas) -> None:
    vet(personas.hana_helper, by=personas.cora)
    start = timezone.now() + timedelta(days=1)
    task = make_task(member=personas.alice, start=start, hours=2)
    task_accept(
        task=task,
        helper=personas.hana_helper,
        caller=caller_for(user=personas.hana.user, circle=personas.southwark),
    )

    with time_machine.travel(start + timedelta(hours=3), tick=False):
        assert tasks_expire() == 0

    assert not Item.objects.filter(kind=ItemKind.TASK_UNACCEPTED).exists()
