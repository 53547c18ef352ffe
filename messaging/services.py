"""Sending a text to a member, and recording what the provider later says became of it.

A message that is not delivered (the provider refused it, could not be reached, or reported it
undelivered) is followed up: an `sms_undelivered` item on the circle's attention queue, caused
by "sms:<id>", so it is raised once however many receipts say so, for an operator to phone.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from attention.models import ItemKind
from attention.services import item_raise
from circle.errors import DomainError
from circle.sms import SmsFailed, send_sms
from members.claim_links import (
    claim_link_lasts,
    claim_link_record,
    claim_link_refuse,
    claim_link_url,
    claim_token_new,
    reset_member_for,
    reset_recently_sent,
)
from members.models import ClaimChannel, ClaimPurpose, Member, phone_national, phone_or_none
from members.selectors import Caller
from messaging.models import Sms, SmsStatus

logger = logging.getLogger(__name__)

# What each provider's statuses mean for us. Only final statuses are listed; anything else
# (queued, sending, sent, accepted, created, pending...) leaves the message `sent`.
# Twilio: `undelivered` (the carrier could not deliver it) and `failed` (it never left Twilio)
# are final; `canceled` is a scheduled message that was never sent.
# Notify: its callbacks carry only final statuses, and every failure is final by then: it has
# already retried a `temporary-failure` (phone off, inbox full) for up to 72 hours, and a
# `technical-failure` is one it will not retry. From the member's side all three are the same:
# the text did not arrive, so someone should phone. Notify's `sent` (abroad, no receipt) is
# left `sent`: nobody can say it failed.
PROVIDER_OUTCOMES: dict[str, dict[str, str]] = {
    "twilio": {
        "delivered": SmsStatus.DELIVERED,
        "read": SmsStatus.DELIVERED,
        "undelivered": SmsStatus.FAILED,
        "failed": SmsStatus.FAILED,
        "canceled": SmsStatus.FAILED,
    },
    "notify": {
        "delivered": SmsStatus.DELIVERED,
        "permanent-failure": SmsStatus.FAILED,
        "temporary-failure": SmsStatus.FAILED,
        "technical-failure": SmsStatus.FAILED,
    },
}


def _follow_up(sms: Sms) -> None:
    """An operator should phone the member: the item names the number and what they missed."""
    why = sms.error or sms.provider_status or "not delivered"
    item_raise(
        member=sms.member,
        kind=ItemKind.SMS_UNDELIVERED,
        cause=f"sms:{sms.pk}",
        task_id=sms.task_id,
        note=f"A text to {sms.to} was not delivered ({why}). It said: {sms.body}",
        audit_data={"sms_id": sms.pk, "provider": sms.provider},
    )


def sms_send(
    *,
    member: Member,
    body: str,
    reference: str = "",
    task_id: int | None = None,
    follow_up: bool = True,
    now: datetime | None = None,
    recorded_body: str | None = None,
) -> Sms | None:
    """Text `member` (None when they have no phone) and record it. Never raises for the
    provider: a refusal or an outage is logged, recorded as failed and, with `follow_up`,
    put on the attention queue, so the caller's other work (the email beside it) goes on.
    `recorded_body` is what the record (and any follow-up) keeps instead of `body`, when the
    text carries a secret (a link to set a password).

    The provider is called before any transaction opens: a slow gateway holds no locks."""
    sms = sms_attempt(
        member=member,
        body=body,
        reference=reference,
        task_id=task_id,
        follow_up=follow_up,
        now=now,
        recorded_body=recorded_body,
    )
    if sms is not None:
        sms_record([sms])
    return sms


def sms_attempt(
    *,
    member: Member,
    body: str,
    reference: str = "",
    task_id: int | None = None,
    follow_up: bool = True,
    now: datetime | None = None,
    recorded_body: str | None = None,
) -> Sms | None:
    """`sms_send`'s text, sent but not yet recorded: its record, unsaved, for `sms_record` to
    keep with others (a wave's texts, in one statement). Call it outside any transaction."""
    if not member.phone:
        return None
    now = now or timezone.now()
    provider_id, error = "", ""
    try:
        sent = send_sms(to=member.phone, body=body)
        provider, provider_id = sent.provider, sent.provider_id
    except SmsFailed as exc:
        logger.warning("text to member %s (%s) failed: %s", member.pk, reference, exc)
        provider, error = exc.provider, exc.detail
    failed = not provider_id
    return Sms(
        circle_id=member.circle_id,
        member=member,
        to=member.phone,
        body=body if recorded_body is None else recorded_body,
        provider=provider,
        provider_id=provider_id,
        status=SmsStatus.FAILED if failed else SmsStatus.SENT,
        error=error[:300],
        reference=reference[:100],
        task_id=task_id,
        follow_up=follow_up,
        sent_at=now,
        failed_at=now if failed else None,
    )


def sms_record(texts: Sequence[Sms]) -> None:
    """Keep the records of texts `sms_attempt` sent, in one statement, and follow up each
    that failed (where asked): together, in the caller's transaction or one of their own."""
    if not texts:
        return
    # No savepoint inside the caller's transaction: a failure here is theirs to roll back.
    with transaction.atomic(savepoint=False):
        Sms.objects.bulk_create(texts)
        for sms in texts:
            if sms.status == SmsStatus.FAILED and sms.follow_up:
                _follow_up(sms)


def sms_receipt_record(
    *,
    provider: str,
    provider_id: str,
    provider_status: str,
    error: str = "",
    now: datetime | None = None,
) -> str:
    """A delivery receipt: what became of a message. Returns the outcome: "delivered",
    "failed", "unchanged" (not final, or the message's fate was already recorded: repeats and
    late receipts change nothing) or "unknown" (not a message Circle recorded).

    The status moves only from `sent`, by a conditional update, so of two copies of a receipt
    handled at once one records it and raises the follow-up, the other finds nothing to do."""
    now = now or timezone.now()
    outcome = PROVIDER_OUTCOMES.get(provider, {}).get(provider_status)
    with transaction.atomic(durable=True):
        sms = (
            Sms.objects.select_related("member__circle")
            .filter(provider=provider, provider_id=provider_id)
            .first()
            if provider_id
            else None
        )
        if sms is None:
            logger.warning("%s receipt for unknown message %r", provider, provider_id)
            return "unknown"
        pending = Sms.objects.filter(pk=sms.pk, status=SmsStatus.SENT)
        if outcome is None:
            pending.update(provider_status=provider_status[:30])
            return "unchanged"
        changes: dict[str, object] = {"status": outcome, "provider_status": provider_status[:30]}
        if outcome == SmsStatus.FAILED:
            changes.update(failed_at=now, error=error[:300])
        else:
            changes.update(delivered_at=now)
        if not pending.update(**changes):
            return "unchanged"
        if outcome == SmsStatus.FAILED:
            logger.warning("text %s to member %s undelivered: %s", sms.pk, sms.member_id, error)
            if sms.follow_up:
                sms.refresh_from_db()
                _follow_up(sms)
    return outcome


# --- Links sent while staff wait ---------------------------------------------------------------


@dataclass(frozen=True)
class LinkDelivered:
    """Where a link went: the text's record (None for an email) and the number or address."""

    sms_id: int | None
    to: str


def link_deliver(
    *,
    member: Member,
    by_text: bool,
    text: str,
    email_subject: str,
    email_body: str,
    reference: str,
    recorded_text: str | None = None,
    follow_up: bool = True,
) -> LinkDelivered:
    """Send `member` a link by text (`text`) or by email, while staff wait on the phone: what
    could not be sent is `link_not_sent` (400, on `channel`), so they can tell the caller or
    try the other way, and the caller keeps nothing of a link that never left. The sender has
    checked that the member has a mobile number or an email. `recorded_text` is what the text's
    record keeps instead of `text` when the link is a secret (a link to set a password)."""
    if by_text:
        sms = sms_send(
            member=member,
            body=text,
            recorded_body=recorded_text,
            reference=reference,
            follow_up=follow_up,
        )
        if sms is None or sms.status == SmsStatus.FAILED:
            raise DomainError(
                "link_not_sent",
                "The text could not be sent just now. Try again, or send the link by email.",
                field="channel",
            )
        return LinkDelivered(sms_id=sms.pk, to=sms.to)
    assert member.email is not None
    try:
        send_mail(email_subject, email_body, None, [member.email])
    except OSError as exc:  # SMTP refused or unreachable
        logger.warning("%s email to member %s failed: %s", reference, member.pk, exc)
        raise DomainError(
            "link_not_sent",
            "The email could not be sent just now. Try again, or send the link by text.",
            field="channel",
        ) from None
    return LinkDelivered(sms_id=None, to=member.email)


# --- Links to set a password ------------------------------------------------------------------


@dataclass(frozen=True)
class ClaimLinkSent:
    channel: str
    to: str
    expires_at: datetime


def _claim_sms_body(url: str) -> str:
    return f"Set a password for Circle: {url}. The link works once, for {claim_link_lasts()}."


def claim_link_send(
    *,
    member: Member,
    channel: str,
    caller: Caller | None,
    call_reference: str = "",
    purpose: str = ClaimPurpose.CLAIM,
    now: datetime | None = None,
) -> ClaimLinkSent:
    """Send `member` a one-time link to set a password (members.claim_links) by `channel`, then
    keep its hash and audit the sending, superseding older links. As with card payment links,
    the message goes while staff wait, so they can tell the caller or try the other channel; a
    text or email that could not be sent is `link_not_sent` and no link is kept. The text kept
    in the messaging record leaves the link out: only its hash is stored anywhere."""
    claim_link_refuse(member=member, channel=channel, purpose=purpose)
    token = claim_token_new()
    url = claim_link_url(token)
    body = _claim_sms_body(url)
    circle = member.circle
    phone = f" or call us on {phone_national(circle.phone)}" if circle.phone else ""
    sent = link_deliver(
        member=member,
        by_text=channel == ClaimChannel.SMS,
        text=body,
        recorded_text=_claim_sms_body("(link not kept)"),
        email_subject="Set a password for Circle",
        email_body=(
            f"Dear {member.first_name},\n\n{body}\n\n"
            f"After that, ask {circle.name} for a new one{phone}.\n\n{circle.name}\n"
        ),
        reference=f"claim-link:{purpose}",
        # A new-password text the member asked for is theirs to ask again; a link staff sent
        # is followed up, as staff expect it to arrive.
        follow_up=purpose == ClaimPurpose.CLAIM,
    )
    link = claim_link_record(
        member=member,
        token=token,
        channel=channel,
        purpose=purpose,
        caller=caller,
        call_reference=call_reference,
        sms_id=sent.sms_id,
        now=now,
    )
    return ClaimLinkSent(channel=channel, to=sent.to, expires_at=link.expires_at)


def password_reset_by_text(*, phone: str, now: datetime | None = None) -> bool:
    """Text a one-time link to set a new password to the login that signs in with `phone`
    (any spacing), if there is one and none went in the last minute; True if a text went.
    The page that asks says "sent" either way: whether a number has a login is not told."""
    e164 = phone_or_none(phone)
    member = reset_member_for(phone=e164) if e164 else None
    if member is None or reset_recently_sent(member=member, now=now):
        return False
    try:
        claim_link_send(
            member=member,
            channel=ClaimChannel.SMS,
            caller=None,
            purpose=ClaimPurpose.RESET,
            now=now,
        )
    except DomainError as refused:
        logger.warning("new-password text to member %s not sent: %s", member.pk, refused)
        return False
    return True
