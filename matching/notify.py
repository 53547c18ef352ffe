"""Telling people about tasks: offers to helpers in waves, and news to members.

Each message is a Notice row first, keyed by its event (`task_offered:17:helper:4`), and only
then sent. Sending claims the row with a conditional update of `sent_at` (`UPDATE ... WHERE
sent_at IS NULL`), so of two workers handed the same notice (a retry, a duplicated job) only one
sends; the other sends nothing. A send that fails after its claim is logged and not retried:
for these messages once or not at all is better than twice.

Offers go out in waves. The first follows the booking (after commit); the best
MATCHING_OFFER_WAVE_SIZE eligible helpers not yet told are told, and `next_offer_at` is set
the circle's `offer_wave_minutes` ahead; if nobody has accepted by then the periodic job sends
the next wave. A recurring task's previous helper is offered a new occurrence alone, first.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from circle.queueing import enqueue_after_commit
from helpers.models import Helper
from matching.models import Notice, NoticeKind, Task, TaskStatus
from matching.rules import local_zone
from matching.selectors import helper_distance_km, helper_ineligibility, task_matches
from messaging.models import Sms, SmsStatus
from messaging.services import sms_attempt, sms_record

logger = logging.getLogger(__name__)


# --- Queuing (called inside the service's transaction) ----------------------------------------


# A broker that is down never fails the request (circle/queueing.py): a due wave is sent by the
# periodic `offer_waves_due`, an unsent notice by the periodic `notices_sweep`.


def _after_commit_offer(task_id: int, excluding: int | None = None) -> None:
    from matching import tasks  # the Celery tasks import this module

    enqueue_after_commit(tasks.offer_task, task_id, excluding)


def _after_commit_send(notice_id: int) -> None:
    from matching import tasks

    enqueue_after_commit(tasks.send_notice, notice_id)


def on_booked(task: Task) -> None:
    _after_commit_offer(task.pk)


def on_reopened(task: Task, *, excluding: int) -> None:
    _after_commit_offer(task.pk, excluding)


def _notice(task: Task, kind: str, key: str, *, recipient_id: int | None = None) -> None:
    """One message about the task, to its member unless someone else is named, sent after
    commit."""
    notice = Notice.objects.create(
        circle_id=task.circle_id,
        kind=kind,
        key=key,
        task=task,
        recipient_id=recipient_id or task.member_id,
    )
    _after_commit_send(notice.pk)


def on_accepted(task: Task) -> None:
    stamp = task.accepted_at.isoformat() if task.accepted_at else ""
    _notice(task, NoticeKind.TASK_ACCEPTED, f"task_accepted:{task.pk}:{task.helper_id}:{stamp}")


def on_completed(task: Task) -> None:
    _notice(task, NoticeKind.TASK_COMPLETED, f"task_completed:{task.pk}")


def on_expired(task: Task) -> None:
    """Nobody took it: the member should not wait at home for a helper who is not coming."""
    _notice(task, NoticeKind.TASK_EXPIRED, f"task_expired:{task.pk}")


def on_cancelled(task: Task, *, helper: Helper) -> None:
    """The helper who had the task is told not to come."""
    key = f"task_cancelled:{task.pk}:helper:{helper.pk}"
    _notice(task, NoticeKind.TASK_CANCELLED, key, recipient_id=helper.member_id)


# --- Waves of offers --------------------------------------------------------------------------


def offer_key(task_id: int, helper_id: int) -> str:
    return f"task_offered:{task_id}:helper:{helper_id}"


def offer_wave(
    *, task_id: int, excluding: int | None = None, now: datetime | None = None
) -> list[int]:
    """Send the task's next wave of offers if one is due; the notice ids written.

    The due wave is claimed under the task's row lock and moved on (`offer_wave + 1`,
    `next_offer_at` later), so a duplicated job finds nothing due and writes nothing."""
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        task = (
            Task.objects.select_for_update(of=("self",))
            .select_related("circle", "member", "category", "series")
            .filter(pk=task_id)
            .first()
        )
        if (
            task is None
            or task.status != TaskStatus.OPEN
            or task.next_offer_at is None
            or task.next_offer_at > now
        ):
            return []
        # Only a wave writes offers, and it moves `offer_wave` on in the same transaction:
        # before the first wave nobody has been told, and nothing need be read to know it.
        told: set[int] = set()
        if task.offer_wave:
            told = set(
                Notice.objects.filter(task=task, kind=NoticeKind.TASK_OFFERED).values_list(
                    "recipient_id", flat=True
                )
            )
        # (helper id, member id) of those to tell.
        chosen: list[tuple[int, int]] = []
        last = task.series.last_helper if task.series else None
        if (
            task.offer_wave == 0
            and last is not None
            and last.member_id not in told
            and helper_ineligibility(task=task, helper=last) is None
        ):
            chosen = [(last.pk, last.member_id)]  # the previous helper alone, before everyone
        if not chosen:
            # The ranking carries each helper's member: no helper row is read to tell them.
            fresh = [
                (m.helper_id, m.member_id)
                for m in task_matches(task=task)
                if m.helper_id != excluding and m.member_id not in told
            ]
            chosen = fresh[: settings.MATCHING_OFFER_WAVE_SIZE]
        wave = task.offer_wave + 1
        written = _offers_write(task, chosen, wave=wave, now=now)
        if written:
            # The wave is sent by whoever wrote it, once it commits: one claim and one read
            # for the wave, not a job per helper (each notice is still claimed before it is
            # sent). A send that never happens (the worker dies) is the sweep's, as ever.
            transaction.on_commit(lambda: notices_send(notice_ids=written))
        # Nobody left to tell: stop; a hand-back starts the waves again.
        wait = timedelta(minutes=task.circle.offer_wave_minutes)
        next_at = now + wait if chosen else None
        Task.objects.filter(pk=task.pk).update(offer_wave=wave, next_offer_at=next_at)
    return written


def _offers_write(
    task: Task, chosen: list[tuple[int, int]], *, wave: int, now: datetime
) -> list[int]:
    """The offer notices of a wave, one for each (helper id, member id); the ids written.

    All in one INSERT; only if a helper was told meanwhile (a concurrent wave, which the row
    lock makes all but impossible) does the unique key refuse it, and then each is written
    alone, skipping whoever was told already."""
    notices = [
        Notice(
            circle_id=task.circle_id,
            kind=NoticeKind.TASK_OFFERED,
            key=offer_key(task.pk, helper_id),
            task=task,
            recipient_id=member_id,
            wave=wave,
            created_at=now,
        )
        for helper_id, member_id in chosen
    ]
    if not notices:
        return []
    try:
        with transaction.atomic():
            return [notice.pk for notice in Notice.objects.bulk_create(notices)]
    except IntegrityError:
        pass
    written: list[int] = []
    for notice in notices:
        notice.pk = None
        try:
            with transaction.atomic():
                notice.save(force_insert=True)
        except IntegrityError:
            continue  # told already
        written.append(notice.pk)
    return written


def offer_waves_due(*, now: datetime | None = None) -> int:
    """The periodic job: every open task whose wave is due gets its next one."""
    now = now or timezone.now()
    due = Task.objects.filter(
        status=TaskStatus.OPEN, next_offer_at__lte=now, window_end__gt=now
    ).values_list("id", flat=True)
    return sum(len(offer_wave(task_id=task_id, now=now)) for task_id in list(due))


# --- The outbox sweep ------------------------------------------------------------------------


def notices_sweep(*, now: datetime | None = None) -> int:
    """The periodic job's outbox: notices written more than `OUTBOX_SWEEP_AFTER_SECONDS` ago and
    still unsent (the queue could not take their job, or the worker died before it ran) are
    sent now; how many were. Each goes through `notice_send`, whose claim makes it once
    whatever else sends it meanwhile.

    Not older than `OUTBOX_SWEEP_WITHIN_HOURS` (news a day late misleads more than it helps),
    and no offer of a task that is no longer open (a helper must not go to a task someone took)."""
    now = now or timezone.now()
    due = (
        Notice.objects.filter(
            sent_at__isnull=True,
            created_at__lte=now - timedelta(seconds=settings.OUTBOX_SWEEP_AFTER_SECONDS),
            created_at__gte=now - timedelta(hours=settings.OUTBOX_SWEEP_WITHIN_HOURS),
        )
        .exclude(kind=NoticeKind.TASK_OFFERED, task__status__in=_NOT_OPEN)
        .order_by("created_at")
        .values_list("pk", flat=True)
    )
    return sum(notice_send(notice_id=notice_id) for notice_id in list(due))


_NOT_OPEN = [status for status in TaskStatus.values if status != TaskStatus.OPEN]


# --- Sending ----------------------------------------------------------------------------------


def _when(task: Task) -> str:
    start = task.window_start.astimezone(local_zone())
    end = task.window_end.astimezone(local_zone())
    return f"{start:%a %d %b} {start:%H:%M}-{end:%H:%M}"


def helper_task_url(task: Task) -> str:
    """The task's page for helpers, in full (SITE_URL): a notice to a helper links straight to
    it, where they accept it in one tap or read where it stands. The path is the one web/urls.py
    names `helper-task` (matching never imports web; a test holds the two together)."""
    return f"{settings.SITE_URL}/helper/tasks/{task.pk}/"


def _message(notice: Notice, helper: Helper | None) -> tuple[str, str]:
    """What to say; `helper` is the recipient's helper row, for an offer."""
    task = notice.task
    when = _when(task)
    if notice.kind == NoticeKind.TASK_OFFERED:
        far = ""
        if helper is not None:
            far = f", {helper_distance_km(task=task, helper=helper):.1f} km away"
        # Short, as it goes by text too: what, where, when, and the link to accept it.
        return (
            f"Can you help? {task.title}",
            f"{task.category.name} in {task.postcode_district}{far}, {when}: {task.title}. "
            f"To accept: {helper_task_url(task)}",
        )
    if notice.kind == NoticeKind.TASK_CANCELLED:
        return (
            f"Cancelled: {task.title}",
            f"'{task.title}' ({task.postcode_district}, {when}) has been cancelled, so you "
            f"need not go. Reason given: {task.cancel_reason} {helper_task_url(task)}",
        )
    if notice.kind == NoticeKind.TASK_EXPIRED:
        return (
            f"Nobody was free: {task.title}",
            f"Sorry: no helper was free for '{task.title}' ({when}), so nobody will come. "
            f"The {task.hold.minutes} minutes held for it are back in your tokens. Call your "
            "circle or ask again for another time.",
        )
    helper_name = task.helper.member.first_name if task.helper else "Your helper"
    if notice.kind == NoticeKind.TASK_ACCEPTED:
        return (
            f"{helper_name} will help: {task.title}",
            f"{helper_name} has accepted your request '{task.title}' for {when}.",
        )
    return (
        f"Done: {task.title}",
        f"{helper_name} has reported '{task.title}' done in {task.minutes_reported} minutes. "
        "Please confirm it so they are paid.",
    )


def notice_send(*, notice_id: int, now: datetime | None = None) -> bool:
    """Send one notice by email and text, if this call is the one to claim it."""
    return notices_send(notice_ids=[notice_id], now=now) == 1


def _claim(notice_ids: list[int], now: datetime) -> list[int]:
    """Mark these notices sent where nobody has (`UPDATE ... WHERE sent_at IS NULL`): the ones
    this call claimed, which only it sends. A concurrent claimer's rows are locked until it
    commits and then no longer match, so each notice is claimed once."""
    marks = ", ".join(["%s"] * len(notice_ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Notice._meta.db_table} SET sent_at = %s"  # noqa: S608  # our table, marks
            f" WHERE id IN ({marks}) AND sent_at IS NULL RETURNING id",
            [connection.ops.adapt_datetimefield_value(now), *notice_ids],
        )
        return [row[0] for row in cursor.fetchall()]


def notices_send(*, notice_ids: list[int], now: datetime | None = None) -> int:
    """Send notices by email and text, each only if this call is the one to claim it; how many
    it sent. A wave's offers are claimed and read together: one statement each, not one a
    notice."""
    now = now or timezone.now()
    if not notice_ids:
        return 0
    # The claim commits with the reading of what to say: if the database goes away before
    # then, the claim is undone and the sweep sends the notices later, instead of them being
    # claimed but never sent.
    with transaction.atomic():
        claimed = _claim(notice_ids, now)
        if not claimed:
            return 0
        notices = list(
            Notice.objects.select_related(
                "recipient", "task", "task__category", "task__helper__member"
            ).filter(pk__in=claimed)
        )
        # An offer says how far away the task is: the helpers told, in one read.
        offered = [n.recipient_id for n in notices if n.kind == NoticeKind.TASK_OFFERED]
        helpers = (
            {h.member_id: h for h in Helper.objects.filter(member_id__in=offered)}
            if offered
            else {}
        )
        messages = [(n, *_message(n, helpers.get(n.recipient_id))) for n in notices]
    sent: dict[tuple[str, ...], list[int]] = {}
    texts: list[Sms] = []
    for notice, subject, body in messages:
        channels, sms = _deliver(notice, subject, body)
        sent.setdefault(channels, []).append(notice.pk)
        if sms is not None:
            texts.append(sms)
    # Then, in one transaction, the texts' records (with any follow-up) and what each notice
    # went by, one statement for all that went the same ways (all of a wave, most often): a
    # wave's texts were a transaction each.
    with transaction.atomic():
        sms_record(texts)
        for channels, ids in sent.items():
            Notice.objects.filter(pk__in=ids).update(channels=list(channels))
    return len(notices)


def _deliver(notice: Notice, subject: str, body: str) -> tuple[tuple[str, ...], Sms | None]:
    """Email and text the notice's recipient: the channels it went by, and the text's record
    (unsaved, for `notices_send` to keep with the others), if a text was tried."""
    channels: list[str] = []
    sms: Sms | None = None
    recipient = notice.recipient
    try:
        if recipient.email:
            send_mail(subject, body, None, [recipient.email])
            channels.append("email")
        # A text the gateway refuses is recorded as failed and, but for an offer (the next
        # wave covers those), put on the attention queue for an operator to phone.
        sms = sms_attempt(
            member=recipient,
            body=body,
            reference=notice.key,
            task_id=notice.task_id,
            follow_up=notice.kind != NoticeKind.TASK_OFFERED,
        )
        if sms is not None and sms.status != SmsStatus.FAILED:
            channels.append("sms")
    except Exception:
        logger.exception("sending notice %s failed after %s", notice.key, channels)
    return tuple(channels), sms
