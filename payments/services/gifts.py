"""Gift links (DESIGN.md's `/gift/{token}/`): family and friends buy tokens for a member. The
member (or their circle's staff) makes a link and shares it; whoever opens it gives their name
and pays by card through Stripe Checkout, without an account. The tokens arrive through the
webhook, exactly once, as the member's own purchase does (payments/services/card.py), and the
member's statement says who gave them.

Like a card payment link (links.py) the link is signed, not stored: it names the member and
their circle and when it was made, with a salt of its own so no other signed value reads as one,
and stops working `GIFT_LINK_MAX_AGE_DAYS` after it was made. Holding it lets someone give,
nothing more: the page shows the member's first name and the circle, never their details.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from circle import words
from circle.errors import Forbidden, InvalidInput
from members.models import STAFF_ROLES, Member, TrustedScope
from members.selectors import Caller
from members.services import audit_record
from messaging.models import SmsStatus
from messaging.services import sms_send
from payments.models import CheckoutSession
from payments.services.checkout import tokens_checkout_create
from payments.services.links import LINK_HOLDER, member_link_sign, member_link_unsign

logger = logging.getLogger(__name__)

GIFT_LINK_SALT = "circle.payments.gift-link"
# Whoever opens a gift link is signed in as nobody; the checkout's audit rows say this instead.
GIFT_REASON = "by gift link"
GIFT_FROM_MAX = 100


@dataclass(frozen=True)
class GiftLink:
    """What a gift link names, as signed."""

    member_id: int
    circle_id: int
    issued_at: datetime

    @property
    def expires_at(self) -> datetime:
        return self.issued_at + timedelta(days=settings.GIFT_LINK_MAX_AGE_DAYS)


@dataclass(frozen=True)
class GiftLinkMade:
    url: str
    expires_at: datetime


class GiftLinkInvalid(Exception):
    """Not a gift link we made (mistyped, cut short or tampered with)."""


class GiftLinkExpired(Exception):
    """A gift link we made, too old to follow; `link` says whose it was."""

    def __init__(self, link: GiftLink) -> None:
        super().__init__("expired")
        self.link = link


def gift_link_token(*, member: Member, issued_at: datetime | None = None) -> str:
    return member_link_sign(member=member, salt=GIFT_LINK_SALT, issued_at=issued_at)


def gift_link_read(token: str, *, now: datetime | None = None) -> GiftLink:
    """The gift link a token stands for; GiftLinkInvalid when it is not ours, GiftLinkExpired
    when it is too old."""
    try:
        member_id, circle_id, issued, _payload = member_link_unsign(token, salt=GIFT_LINK_SALT)
        link = GiftLink(member_id=member_id, circle_id=circle_id, issued_at=issued)
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        raise GiftLinkInvalid from exc
    if (now or timezone.now()) > link.expires_at:
        raise GiftLinkExpired(link)
    return link


def gift_link_url(token: str) -> str:
    return f"{settings.SITE_URL}{reverse('web:gift-link', args=[token])}"


def gift_link_create(
    *, member: Member, caller: Caller, now: datetime | None = None
) -> GiftLinkMade:
    """A gift link for `member`, made by the member themselves, by staff of their circle, or
    by a trusted person of the member's with the "pay" scope (403 `forbidden` for anyone
    else), and audited."""
    is_self = caller.user is not None and member.user_id == caller.user.pk
    is_staff = (
        caller.member is not None
        and caller.member.circle_id == member.circle_id
        and bool(caller.roles & STAFF_ROLES)
    )
    is_trusted = (
        caller.trusted_for is not None
        and caller.trusted_for.pk == member.pk
        and TrustedScope.PAY in caller.scopes
    )
    if not (is_self or is_staff or is_trusted):
        raise Forbidden("forbidden", "You may not see or act for this member.")
    issued = (now or timezone.now()).replace(microsecond=0)  # as the link says it
    link = GiftLink(member_id=member.pk, circle_id=member.circle_id, issued_at=issued)
    url = gift_link_url(gift_link_token(member=member, issued_at=issued))
    with transaction.atomic(durable=True):
        audit_record(
            circle=member.circle,
            action="payment.gift_link_made",
            caller=caller,
            member=member,
            reason="Gift link for family and friends",
            data={"expires_at": link.expires_at.isoformat()},
        )
    return GiftLinkMade(url=url, expires_at=link.expires_at)


GIFT_MAX_TOKENS = 20


def gift_checkout_create(
    *, member: Member, tokens: Any, giver_name: str, giver_email: str = "", return_path: str
) -> CheckoutSession:
    """A Stripe Checkout for `tokens` tokens for `member`, given by `giver_name` (required, shown
    to the member), whoever holds the member's gift link; `giver_email`, if given, gets Stripe's
    receipt. Opened by nobody signed in: its audit rows say GIFT_REASON."""
    giver_name = " ".join(giver_name.split())
    if not giver_name:
        raise InvalidInput("required", "Enter your name.", field="giver_name")
    if len(giver_name) > GIFT_FROM_MAX:
        raise InvalidInput(
            "invalid", f"Your name can be {GIFT_FROM_MAX} characters at most.", field="giver_name"
        )
    giver_email = giver_email.strip()
    if giver_email:
        try:
            validate_email(giver_email)
        except ValidationError:
            raise InvalidInput(
                "invalid", "Enter an email address like name@example.com.", field="giver_email"
            ) from None
    if (
        isinstance(tokens, bool)
        or not isinstance(tokens, int)
        or not (1 <= tokens <= GIFT_MAX_TOKENS)
    ):
        raise InvalidInput(
            "invalid", f"You can give from 1 to {GIFT_MAX_TOKENS} tokens.", field="tokens"
        )
    return tokens_checkout_create(
        member=member,
        caller=LINK_HOLDER,
        tokens=tokens,
        return_path=return_path,
        reason=GIFT_REASON,
        gift_from=giver_name,
        gift_email=giver_email,
    )


@dataclass(frozen=True)
class GiftTold:
    channel: str  # "email", "sms" or "" (no address: the statement line tells them)
    to: str


def gift_tell(*, checkout_id: int, now: datetime | None = None) -> GiftTold | None:
    """Tell the member who gave them tokens, once: the first delivery that credited the gift
    claims it (a conditional update), so a webhook delivered again tells no one twice. By email
    where they have an address, else by text; a message that cannot be sent is logged, not
    retried (the statement line, "Gift from <name>", still says it). None: not a gift, not yet
    credited, or told already."""
    now = now or timezone.now()
    claimed = CheckoutSession.objects.filter(
        pk=checkout_id, payment__isnull=False, gift_told_at__isnull=True
    ).exclude(gift_from="")
    if claimed.update(gift_told_at=now) != 1:
        return None
    checkout = CheckoutSession.objects.select_related("member", "member__circle").get(
        pk=checkout_id
    )
    member, circle = checkout.member, checkout.member.circle
    tokens = checkout.tokens or 0
    what = f"{tokens} {'token' if tokens == 1 else 'tokens'}"
    help_time = words.duration(tokens * circle.token_minutes)
    told = GiftTold(channel="", to="")
    if member.email:
        message = (
            f"Dear {member.first_name},\n\n"
            f"{checkout.gift_from} has given you {what} ({help_time} of help) at {circle.name}. "
            f"They are in your account now, ready to spend when you ask for help.\n\n"
            f"{circle.name}\n"
        )
        try:
            send_mail(f"A gift from {checkout.gift_from}", message, None, [member.email])
            told = GiftTold(channel="email", to=member.email)
        except OSError as exc:  # SMTP refused or unreachable
            logger.warning("gift notice email to member %s failed: %s", member.pk, exc)
    elif member.phone:
        body = (
            f"{circle.name}: {checkout.gift_from} has given you {what} ({help_time} of help). "
            "They are ready to spend when you ask for help."
        )
        sms = sms_send(member=member, body=body, reference=f"gift:{checkout.pk}", follow_up=False)
        if sms is not None and sms.status != SmsStatus.FAILED:
            told = GiftTold(channel="sms", to=sms.to)
    with transaction.atomic(durable=True):
        audit_record(
            circle=circle,
            action="payment.gift_told",
            member=member,
            reason=f"Gift from {checkout.gift_from}",
            data={"checkout_id": checkout.pk, "channel": told.channel},
        )
    return told
