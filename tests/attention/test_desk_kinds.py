"""The coordinators' kinds: each raised once per cause, by the service that notices it or by
its periodic job, and closed by itself when its cause goes; safeguarding sorts first."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from attention.models import COORDINATOR_KINDS, OPERATOR_KINDS, Item, ItemKind
from attention.selectors import desk_items, member_open_items, queue_items
from attention.services import item_assign, item_claim, item_raise, item_resolve
from circle.errors import InvalidInput
from helpers.models import VettingCheck
from helpers.tasks import checks_due_sweep
from matching.models import Task, TaskStatus
from matching.services import task_accept, task_cancel, task_confirm, task_hand_back
from matching.tasks import attention_sweep
from members.models import MembershipStatus
from members.selectors import caller_for
from payments.services import membership_statuses_advance
from payments.tasks import grace_ending_sweep
from tests.conftest import Personas
from tests.matching.conftest import vet
from tests.matching.tasks_factory import make_task
from tests.payments.test_offline_payments import old_year_paid
from tokens.services import purchase_credit

pytestmark = pytest.mark.django_db


def items(kind: str) -> list[Item]:
    return list(Item.objects.filter(kind=kind).order_by("id"))


def test_every_kind_belongs_to_one_desk_and_the_beat_runs_the_jobs() -> None:
    assert set(OPERATOR_KINDS) | set(COORDINATOR_KINDS) == set(ItemKind.values)
    assert not set(OPERATOR_KINDS) & set(COORDINATOR_KINDS)
    assert COORDINATOR_KINDS[0] == ItemKind.SAFEGUARDING
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {
        "matching.tasks.attention_sweep",
        "helpers.tasks.checks_due_sweep",
        "payments.tasks.grace_ending_sweep",
    } <= scheduled


# --- A request soon with no helper -------------------------------------------------------------


def test_a_task_soon_with_no_helper_is_raised_once(personas: Personas) -> None:
    soon = make_task(member=personas.alice, start=timezone.now() + timedelta(hours=10))
    later = make_task(member=personas.alice, start=timezone.now() + timedelta(hours=30))
    assert attention_sweep.delay().get()["no_helper"] == 1
    assert attention_sweep.delay().get()["no_helper"] == 0
    [item] = items(ItemKind.TASK_NO_HELPER)
    assert (item.member, item.task_id, item.cause) == (personas.alice, soon.pk, f"task:{soon.pk}")
    assert f"Nobody has taken “{soon.title}”" in item.note
    assert not Item.objects.filter(task_id=later.pk).exists()


def test_the_warning_follows_the_circles_setting(personas: Personas) -> None:
    personas.southwark.no_helper_warning_hours = 48
    personas.southwark.save(update_fields=["no_helper_warning_hours"])
    task = make_task(member=personas.alice, start=timezone.now() + timedelta(hours=30))
    attention_sweep.delay()
    assert [item.task_id for item in items(ItemKind.TASK_NO_HELPER)] == [task.pk]


def test_accepting_the_task_closes_its_no_helper_item(
    personas: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    vet(personas.hana_helper, by=personas.cora)
    task = make_task(member=personas.alice, start=timezone.now() + timedelta(hours=10))
    attention_sweep.delay()
    with django_capture_on_commit_callbacks(execute=True):
        task_accept(
            task=task,
            helper=personas.hana_helper,
            caller=caller_for(user=personas.hana.user, circle=personas.southwark),
        )
    [item] = items(ItemKind.TASK_NO_HELPER)
    assert item.done_at is not None
    assert item.done_by is None
    assert "Closed by itself" in item.done_note


def test_cancelling_closes_it_and_the_job_tidies_what_was_missed(personas: Personas) -> None:
    one = make_task(member=personas.alice, start=timezone.now() + timedelta(hours=10))
    two = make_task(member=personas.alice, start=timezone.now() + timedelta(hours=11))
    attention_sweep.delay()
    task_cancel(
        task=one,
        caller=caller_for(user=personas.alice.user, circle=personas.southwark),
        reason="No need now",
    )
    # Moved on without its service closing the item (a queueing lost): the job closes it.
    Task.objects.filter(pk=two.pk).update(status=TaskStatus.EXPIRED)
    assert Item.objects.get(task_id=one.pk).done_at is not None
    assert attention_sweep.delay().get()["closed"] == 1
    assert not Item.objects.filter(kind=ItemKind.TASK_NO_HELPER, done_at__isnull=True).exists()


def test_a_task_handed_back_inside_its_warning_goes_on_the_queue_again_at_once(
    personas: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    vet(personas.hana_helper, by=personas.cora)
    hana = caller_for(user=personas.hana.user, circle=personas.southwark)
    task = make_task(member=personas.alice, start=timezone.now() + timedelta(hours=10))
    attention_sweep.delay()
    for times in (1, 2):
        with django_capture_on_commit_callbacks(execute=True):
            task_accept(task=task, helper=personas.hana_helper, caller=hana)
        assert not Item.objects.filter(task_id=task.pk, done_at__isnull=True).exists()
        task_hand_back(task=task, helper=personas.hana_helper, caller=hana, reason="Car broke")

        [waiting] = Item.objects.filter(task_id=task.pk, done_at__isnull=True)
        assert waiting.kind == ItemKind.TASK_NO_HELPER
        assert waiting.cause == f"task:{task.pk}:handed-back:{times}"
        assert "handed back" in waiting.note
        assert "Car broke" in waiting.note
        # The job does not raise a second item for a task already waiting.
        assert attention_sweep.delay().get()["no_helper"] == 0
    assert Item.objects.filter(task_id=task.pk).count() == 3


def test_a_task_handed_back_long_before_its_window_waits_for_the_job(
    personas: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    vet(personas.hana_helper, by=personas.cora)
    hana = caller_for(user=personas.hana.user, circle=personas.southwark)
    task = make_task(member=personas.alice, start=timezone.now() + timedelta(hours=40))
    with django_capture_on_commit_callbacks(execute=True):
        task_accept(task=task, helper=personas.hana_helper, caller=hana)
    task_hand_back(task=task, helper=personas.hana_helper, caller=hana, reason="Away")
    assert not Item.objects.filter(task_id=task.pk).exists()

    with time_machine.travel(timezone.now() + timedelta(hours=20)):
        assert attention_sweep.delay().get()["no_helper"] == 1
    [item] = Item.objects.filter(task_id=task.pk)
    assert item.cause == f"task:{task.pk}"


# --- Done but not confirmed --------------------------------------------------------------------


def test_work_done_and_unconfirmed_for_three_days_is_raised_once_and_confirming_closes_it(
    personas: Personas,
) -> None:
    old = make_task(member=personas.alice, status=TaskStatus.COMPLETED, helper=personas.hana_helper)
    fresh = make_task(
        member=personas.alice, status=TaskStatus.COMPLETED, helper=personas.hana_helper
    )
    Task.objects.filter(pk=old.pk).update(completed_at=timezone.now() - timedelta(days=3, hours=1))
    Task.objects.filter(pk=fresh.pk).update(completed_at=timezone.now() - timedelta(days=2))
    assert attention_sweep.delay().get()["unconfirmed"] == 1
    assert attention_sweep.delay().get()["unconfirmed"] == 0
    [item] = items(ItemKind.TASK_UNCONFIRMED)
    assert (item.member, item.task_id) == (personas.alice, old.pk)
    assert "has not confirmed it" in item.note
    task_confirm(task=old, caller=caller_for(user=personas.alice.user, circle=personas.southwark))
    item.refresh_from_db()
    assert item.done_at is not None
    assert "confirmed" in item.done_note


# --- A rating of 1 or 2 ------------------------------------------------------------------------


@pytest.mark.parametrize(("rating", "raised"), [(1, True), (2, True), (3, False), (None, False)])
def test_a_low_rating_puts_the_helper_on_the_queue(
    personas: Personas, rating: int | None, raised: bool
) -> None:
    task = make_task(
        member=personas.alice, status=TaskStatus.COMPLETED, helper=personas.hana_helper
    )
    caller = caller_for(user=personas.alice.user, circle=personas.southwark)
    task_confirm(task=task, caller=caller, rating=rating, comment="Late and rude")
    task_confirm(task=task, caller=caller, rating=rating, comment="Late and rude")  # again
    found = items(ItemKind.LOW_RATING)
    assert len(found) == (1 if raised else 0)
    if raised:
        [item] = found
        assert (item.member, item.task_id) == (personas.hana, task.pk)
        assert item.cause == f"feedback:{task.feedback.pk}"
        assert f"rated “{task.title}” {rating} out of 5: “Late and rude”" in item.note


# --- Grace ending, lapsed with tokens ----------------------------------------------------------


def test_grace_ending_within_a_week_is_raised_once(personas: Personas) -> None:
    today = timezone.localdate()
    grace = settings.MEMBERSHIP_GRACE_DAYS
    ending = old_year_paid(
        personas.alice,
        start=today - timedelta(days=365 + grace - 5),
        end=today - timedelta(days=grace - 5),
        reference="G1",
    )
    old_year_paid(
        personas.bob,
        start=today - timedelta(days=375),
        end=today - timedelta(days=10),
        reference="G2",
    )
    personas.alice.__class__.objects.filter(pk__in=[personas.alice.pk, personas.bob.pk]).update(
        membership_status=MembershipStatus.GRACE
    )
    assert grace_ending_sweep.delay().get() == 1
    assert grace_ending_sweep.delay().get() == 0
    [item] = items(ItemKind.GRACE_ENDING)
    assert item.member == personas.alice
    assert item.cause == f"membership_period:{ending.pk}"
    ends = ending.end + timedelta(days=grace)
    assert f"grace ends {ends.isoformat()}" in item.note
    assert item.kind in OPERATOR_KINDS


def test_lapsing_with_tokens_left_is_raised_once(personas: Personas) -> None:
    today = timezone.localdate()
    long_ago = today - timedelta(days=settings.MEMBERSHIP_GRACE_DAYS + 5)
    for member, ref in ((personas.alice, "L1"), (personas.bob, "L2")):
        old_year_paid(member, start=long_ago - timedelta(days=365), end=long_ago, reference=ref)
    personas.alice.__class__.objects.filter(pk__in=[personas.alice.pk, personas.bob.pk]).update(
        membership_status=MembershipStatus.GRACE
    )
    purchase_credit(member=personas.alice, minutes=90, payment_key="lapse-1", actor=None)
    membership_statuses_advance()
    membership_statuses_advance()
    [item] = items(ItemKind.LAPSED_TOKENS)
    assert item.member == personas.alice
    assert "with 90 minutes of tokens left" in item.note
    assert item.kind in COORDINATOR_KINDS


# --- A helper's checks older than three years --------------------------------------------------


def test_checks_older_than_three_years_are_raised_once_and_new_checks_close_them(
    personas: Personas,
) -> None:
    vet(personas.hana_helper, by=personas.cora)
    check = VettingCheck.objects.get(helper=personas.hana_helper)
    with time_machine.travel(date(2027, 1, 14), tick=False):
        assert checks_due_sweep.delay().get() == 0  # three years less a day
    with time_machine.travel(date(2027, 1, 16), tick=False):
        assert checks_due_sweep.delay().get() == 1
        assert checks_due_sweep.delay().get() == 0
        [item] = items(ItemKind.CHECKS_DUE)
        assert item.member == personas.hana
        assert item.cause == f"vetting_check:{check.pk}"
        assert "issued on 15 January 2024" in item.note
        vet(personas.hana_helper, by=personas.cora)  # new checks recorded (same old date here)
        item.refresh_from_db()
        assert item.done_at is not None
        assert "new checks were recorded" in item.done_note


# --- Safeguarding first; assigning; resolving --------------------------------------------------


def test_safeguarding_sorts_first_whatever_its_age(personas: Personas) -> None:
    with time_machine.travel(timezone.now() - timedelta(days=5), tick=False):
        old = item_raise(member=personas.bob, kind=ItemKind.LOW_RATING, cause="feedback:9")
    concern = item_raise(member=personas.alice, kind=ItemKind.SAFEGUARDING, cause="concern:1")
    assert old is not None
    assert concern is not None
    assert personas.cora.user is not None
    listed = desk_items(circle=personas.southwark, user_id=personas.cora.user.pk)
    assert [item.pk for item in listed] == [concern.pk, old.pk]
    both = queue_items(
        circle=personas.southwark, kinds=[ItemKind.LOW_RATING, ItemKind.SAFEGUARDING]
    )
    assert [item.pk for item in both] == [concern.pk, old.pk]


def test_an_item_goes_only_to_the_circles_staff_and_resolves_only_with_words(
    personas: Personas,
) -> None:
    item = item_raise(member=personas.alice, kind=ItemKind.LOW_RATING, cause="feedback:1")
    assert item is not None
    cora = caller_for(user=personas.cora.user, circle=personas.southwark)
    for nobody in (personas.alice, personas.clara):
        assert nobody.user is not None
        with pytest.raises(InvalidInput) as refused:
            item_assign(item=item, caller=cora, to_user_id=nobody.user.pk)
        assert refused.value.code == "assignee_not_staff"
    assert personas.otto.user is not None
    given = item_assign(item=item, caller=cora, to_user_id=personas.otto.user.pk)
    assert (given.claimed_by, given.assigned_by) == (personas.otto.user, personas.cora.user)
    with pytest.raises(InvalidInput):
        item_resolve(item=item, caller=cora, outcome="   ")
    done = item_resolve(item=item, caller=cora, outcome="Talked it through.")
    assert done.done_note == "Talked it through."


def test_a_safeguarding_concern_stays_off_the_members_card(personas: Personas) -> None:
    concern = item_raise(member=personas.alice, kind=ItemKind.SAFEGUARDING, cause="concern:2")
    rating = item_raise(member=personas.alice, kind=ItemKind.LOW_RATING, cause="feedback:2")
    assert concern is not None
    assert rating is not None
    assert list(member_open_items(member=personas.alice)) == [rating]


def test_claiming_an_item_given_to_someone_else_forgets_who_gave_it(personas: Personas) -> None:
    item = item_raise(member=personas.alice, kind=ItemKind.LOW_RATING, cause="feedback:3")
    assert item is not None
    assert personas.otto.user is not None
    cora = caller_for(user=personas.cora.user, circle=personas.southwark)
    assert item_assign(item=item, caller=cora, to_user_id=personas.otto.user.pk).assigned_by
    # Cora takes it over in the console, having asked Otto: hers now, given by nobody.
    taken = item_claim(item=item, caller=cora, take_over_from=personas.otto.user.pk)
    assert (taken.claimed_by, taken.assigned_by) == (personas.cora.user, None)


def test_lapsing_closes_the_grace_ending_item(personas: Personas) -> None:
    today = timezone.localdate()
    grace = settings.MEMBERSHIP_GRACE_DAYS
    old_year_paid(
        personas.alice,
        start=today - timedelta(days=365 + grace - 3),
        end=today - timedelta(days=grace - 3),
        reference="G3",
    )
    personas.alice.__class__.objects.filter(pk=personas.alice.pk).update(
        membership_status=MembershipStatus.GRACE
    )
    assert grace_ending_sweep.delay().get() == 1
    with time_machine.travel(timezone.now() + timedelta(days=4), tick=False):
        membership_statuses_advance()
    [item] = items(ItemKind.GRACE_ENDING)
    assert item.done_at is not None
    assert "lapsed" in item.done_note
