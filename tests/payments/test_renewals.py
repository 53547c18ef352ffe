"""Renewals and lapses: the card renews (or fails to) through webhooks, and the periodic job
moves statuses on and sends reminders, each once per period."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone
from rest_framework.test import APIClient

from attention.models import Item, ItemKind
from members.models import AuditEvent, Member, MembershipStatus
from payments.models import MembershipPeriod, Payment, StripeSubscription
from payments.services import membership_reminders_send, membership_statuses_advance
from payments.services.membership import period_cause, renewal_reminder_email_send
from payments.stripe_local import LocalStripe
from payments.tasks import membership_daily, reminder_emails_outbox
from tests.conftest import Personas
from tests.factories import MemberFactory
from tests.payments.conftest import deliver_all, start_checkout
from tests.payments.test_offline_payments import old_year_paid

Client = Callable[[Any], APIClient]

pytestmark = pytest.mark.django_db

YEAR = 365 * 24 * 3600


def subscribed(stripe: LocalStripe, client: APIClient, member: Member) -> tuple[str, Any]:
    """The member pays a year by card; returns the Stripe subscription id and their period."""
    deliver_all(stripe, stripe.complete(start_checkout(client, member)))
    return stripe.of_kind("subscription")[-1]["id"], MembershipPeriod.objects.get(member=member)


def status_of(member: Member) -> str:
    member.refresh_from_db()
    return member.membership_status


def test_a_card_renewal_a_year_on_adds_the_next_year(
    personas: Personas, client_for: Client, stripe_server: LocalStripe
) -> None:
    sub, first = subscribed(stripe_server, client_for(personas.alice), personas.alice)
    stripe_server.clock = YEAR

    deliver_all(stripe_server, stripe_server.renew(sub) * 2)

    periods = list(MembershipPeriod.objects.filter(member=personas.alice).order_by("start"))
    assert [p.start for p in periods] == [first.start, first.end + timedelta(days=1)]
    assert Payment.objects.filter(member=personas.alice, method="card").count() == 2
    assert status_of(personas.alice) == MembershipStatus.ACTIVE
    assert Item.objects.count() == 0


def test_a_failed_renewal_moves_to_grace_with_one_follow_up_then_to_lapsed(
    personas: Personas, client_for: Client, stripe_server: LocalStripe
) -> None:
    sub, period = subscribed(stripe_server, client_for(personas.alice), personas.alice)
    stripe_server.clock = YEAR
    failed = stripe_server.renew(sub, paid=False)
    assert [e["type"] for e in failed] == [
        "invoice.payment_failed",
        "customer.subscription.updated",
    ]

    # Stripe tries the card again and tells us again; the events are delivered twice each.
    deliver_all(stripe_server, failed * 2)

    assert status_of(personas.alice) == MembershipStatus.GRACE
    followup = Item.objects.get()
    assert followup.kind == ItemKind.RENEWAL_FAILED
    assert followup.member == personas.alice
    assert followup.phone == "+447700900001"
    # The item names its period by reference (attention has no foreign key into payments).
    assert followup.cause == period_cause(period)
    changed = AuditEvent.objects.get(action="membership.status_changed", data__to="grace")
    assert changed.data["from"] == "active"
    assert StripeSubscription.objects.get().status == "past_due"
    # Grace is still served; the year's end plus 30 days is still grace.
    assert membership_statuses_advance(today=period.end + timedelta(days=30)) == {}
    assert status_of(personas.alice) == MembershipStatus.GRACE

    assert membership_statuses_advance(today=period.end + timedelta(days=31)) == {"lapsed": 1}
    assert status_of(personas.alice) == MembershipStatus.LAPSED
    # Again: nothing more, and still one follow-up.
    assert membership_statuses_advance(today=period.end + timedelta(days=32)) == {}
    assert Item.objects.count() == 1
    assert AuditEvent.objects.filter(action="membership.status_changed").count() == 3


def test_a_failed_renewal_then_paid_on_retry_is_active_again(
    personas: Personas, client_for: Client, stripe_server: LocalStripe
) -> None:
    sub, period = subscribed(stripe_server, client_for(personas.alice), personas.alice)
    stripe_server.clock = YEAR
    deliver_all(stripe_server, stripe_server.renew(sub, paid=False))
    assert status_of(personas.alice) == MembershipStatus.GRACE

    deliver_all(stripe_server, stripe_server.renew(sub, paid=True))

    assert status_of(personas.alice) == MembershipStatus.ACTIVE
    assert MembershipPeriod.objects.filter(member=personas.alice).count() == 2
    assert membership_statuses_advance(today=period.end + timedelta(days=40)) == {}


def test_a_late_failure_for_an_invoice_already_paid_changes_nothing(
    personas: Personas, client_for: Client, stripe_server: LocalStripe
) -> None:
    sub, _ = subscribed(stripe_server, client_for(personas.alice), personas.alice)
    stripe_server.clock = YEAR
    paid = stripe_server.renew(sub)
    failed = [{**paid[0], "id": "evt_late_failure", "type": "invoice.payment_failed"}]

    deliver_all(stripe_server, paid + failed)

    assert status_of(personas.alice) == MembershipStatus.ACTIVE
    assert Item.objects.count() == 0


def test_a_cancelled_subscription_stays_cancelled_and_the_year_runs_out(
    personas: Personas, client_for: Client, stripe_server: LocalStripe
) -> None:
    sub, period = subscribed(stripe_server, client_for(personas.alice), personas.alice)
    stripe_server.subscription_cancel(sub)
    deleted = stripe_server.events[-1]
    late_update = {**deleted, "id": "evt_late", "type": "customer.subscription.updated"}
    late_update["data"] = {"object": {**deleted["data"]["object"], "status": "active"}}

    deliver_all(stripe_server, [deleted, late_update])

    assert StripeSubscription.objects.get().status == "canceled"
    assert status_of(personas.alice) == MembershipStatus.ACTIVE  # paid to the end of the year
    membership_statuses_advance(today=period.end + timedelta(days=1))
    assert status_of(personas.alice) == MembershipStatus.GRACE
    assert Item.objects.get().kind == ItemKind.GRACE


# --- The periodic job, on years paid by hand ---------------------------------------------------


def test_the_job_moves_an_ended_year_to_grace_once_with_a_follow_up(personas: Personas) -> None:
    today = timezone.localdate()
    alice = personas.alice
    old_year_paid(
        alice, start=today - timedelta(days=370), end=today - timedelta(days=5), reference="C1"
    )
    Member.objects.filter(pk=alice.pk).update(membership_status=MembershipStatus.ACTIVE)

    assert membership_statuses_advance() == {"grace": 1}
    assert membership_statuses_advance() == {}

    assert status_of(alice) == MembershipStatus.GRACE
    followup = Item.objects.get()
    assert (followup.kind, followup.phone) == (ItemKind.GRACE, alice.phone)
    assert AuditEvent.objects.filter(action="membership.status_changed").count() == 1


def test_the_job_lapses_a_year_ended_more_than_thirty_days_ago(personas: Personas) -> None:
    today = timezone.localdate()
    bob = personas.bob
    old_year_paid(
        bob, start=today - timedelta(days=400), end=today - timedelta(days=31), reference="C2"
    )
    Member.objects.filter(pk=bob.pk).update(membership_status=MembershipStatus.GRACE)
    alice = personas.alice
    old_year_paid(
        alice, start=today - timedelta(days=400), end=today - timedelta(days=30), reference="C3"
    )
    Member.objects.filter(pk=alice.pk).update(membership_status=MembershipStatus.GRACE)

    assert membership_statuses_advance() == {"lapsed": 1}

    assert status_of(bob) == MembershipStatus.LAPSED
    assert status_of(alice) == MembershipStatus.GRACE  # ended exactly 30 days ago: still grace


def test_the_job_leaves_pending_and_covered_members_alone(personas: Personas) -> None:
    today = timezone.localdate()
    old_year_paid(personas.alice, start=today, end=today + timedelta(days=364), reference="C4")
    Member.objects.filter(pk=personas.alice.pk).update(membership_status=MembershipStatus.ACTIVE)

    assert membership_statuses_advance() == {}
    assert status_of(personas.alice) == MembershipStatus.ACTIVE
    assert status_of(personas.bob) == MembershipStatus.PENDING


def test_reminders_go_once_by_email_or_to_the_operators_list(
    personas: Personas, mailoutbox: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    today = timezone.localdate()
    ends = today + timedelta(days=10)
    by_phone = Member.objects.get(
        pk=MemberFactory(circle=personas.southwark, user=None, email=None, phone="+447700900777").pk
    )
    for member, ref in ((personas.alice, "R-A"), (by_phone, "R-P")):
        old_year_paid(member, start=ends - timedelta(days=364), end=ends, reference=ref)
        Member.objects.filter(pk=member.pk).update(membership_status=MembershipStatus.ACTIVE)
    # Bob's year ends later than the reminder window: nothing yet.
    old_year_paid(personas.bob, start=today, end=today + timedelta(days=300), reference="R-B")

    with django_capture_on_commit_callbacks(execute=True):
        assert membership_reminders_send() == 2
        assert membership_reminders_send() == 0

    assert [m.to for m in mailoutbox] == [[personas.alice.email]]
    assert "renew" in mailoutbox[0].body
    followup = Item.objects.get()
    assert (followup.kind, followup.member, followup.phone) == (
        ItemKind.RENEWAL_REMINDER,
        by_phone,
        "+447700900777",
    )
    assert AuditEvent.objects.filter(action="membership.reminder_sent").count() == 2


def test_a_card_subscriber_is_told_their_card_will_be_charged(
    personas: Personas,
    client_for: Client,
    stripe_server: LocalStripe,
    mailoutbox: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    _, period = subscribed(stripe_server, client_for(personas.alice), personas.alice)

    with django_capture_on_commit_callbacks(execute=True):
        assert membership_reminders_send(today=period.end - timedelta(days=3)) == 1

    (mail,) = mailoutbox
    assert "Your card will be charged" in mail.body
    assert "10.00" in mail.body


def test_the_celery_task_runs_both_and_is_scheduled(personas: Personas) -> None:
    today = timezone.localdate()
    old_year_paid(
        personas.alice,
        start=today - timedelta(days=370),
        end=today - timedelta(days=5),
        reference="T1",
    )
    Member.objects.filter(pk=personas.alice.pk).update(membership_status=MembershipStatus.ACTIVE)

    result = membership_daily.delay().get()

    assert result == {"changed": {"grace": 1}, "reminders": 0}
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"payments.tasks.membership_daily", "payments.tasks.payments_reconcile"} <= scheduled


def test_a_failed_renewal_of_a_year_since_paid_ahead_in_cash_changes_nothing(
    personas: Personas, client_for: Client, stripe_server: LocalStripe
) -> None:
    sub, _ = subscribed(stripe_server, client_for(personas.alice), personas.alice)
    body = {"purpose": "membership", "method": "cash", "reference": "CASH-AHEAD"}
    paid = client_for(personas.otto).post(
        f"/api/v1/members/{personas.alice.pk}/payments/offline/", body, format="json"
    )
    assert paid.status_code == 201
    stripe_server.clock = YEAR

    deliver_all(stripe_server, stripe_server.renew(sub, paid=False))

    assert status_of(personas.alice) == MembershipStatus.ACTIVE
    assert Item.objects.count() == 0
    assert MembershipPeriod.objects.filter(renewal_failed_at__isnull=False).count() == 0


def test_a_reminder_email_whose_job_never_ran_is_sent_once_by_the_sweep(
    personas: Personas, mailoutbox: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    today = timezone.localdate()
    ends = today + timedelta(days=10)
    old_year_paid(personas.alice, start=ends - timedelta(days=364), end=ends, reference="R-S")
    Member.objects.filter(pk=personas.alice.pk).update(membership_status=MembershipStatus.ACTIVE)
    with django_capture_on_commit_callbacks(execute=False):  # its email job is lost
        assert membership_reminders_send() == 1

    assert reminder_emails_outbox.delay().get() == 0  # too young: its job may still come
    later = timezone.now() + timedelta(seconds=settings.OUTBOX_SWEEP_AFTER_SECONDS + 1)
    with time_machine.travel(later):
        assert reminder_emails_outbox.delay().get() == 1
        assert reminder_emails_outbox.delay().get() == 0
    period = MembershipPeriod.objects.get(member=personas.alice)
    assert renewal_reminder_email_send(period_id=period.pk) is False  # the late job: nothing

    assert [m.to for m in mailoutbox] == [[personas.alice.email]]
