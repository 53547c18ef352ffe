"""Card payment links (DESIGN.md's `/pay/{token}/`): an operator on the phone sends a member a
link by text or email; whoever follows it pays by card for that member's year of membership, or
for a number of tokens, without signing in.

The link carries what it is for, signed with the site's key (Django's signing, with a salt of
its own so no other signed value of Circle reads as a link): the member, their circle, the
purpose, the tokens and when it was made. Nothing is stored for it: Stripe's Checkout sessions
expire within a day, so each visit opens a fresh one, and the link itself stops working
`PAY_LINK_MAX_AGE_DAYS` after it was made. Holding the link lets someone pay, nothing more: the
page shows the member's first name and the price, never their details.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import phonenumbers
from django.conf import settings
from django.core import signing
from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone

from circle import words
from circle.errors import InvalidInput
from members.models import Member
from members.selectors import Caller, own_record_refuse
from members.services import audit_record
from messaging.services import link_deliver
from payments.models import PaymentPurpose
from payments.services.offline import MAX_TOKENS_PER_PAYMENT, price_of

logger = logging.getLogger(__name__)

PAY_LINK_SALT = "circle.payments.pay-link"

# Who starts a Checkout from a link: nobody signed in. The checkout row has no `created_by`
# and its audit rows no actor; they say `LINK_REASON` instead.
LINK_HOLDER = Caller(user=None, member=None, roles=frozenset())
LINK_REASON = "by card payment link"


class PayLinkChannel(models.TextChoices):
    SMS = "sms", "Text message"
    EMAIL = "email", "Email"


@dataclass(frozen=True)
class PayLink:
    """What a link is for, as signed."""

    member_id: int
    circle_id: int
    purpose: str
    tokens: int | None
    issued_at: datetime

    @property
    def expires_at(self) -> datetime:
        return self.issued_at + timedelta(days=settings.PAY_LINK_MAX_AGE_DAYS)


class PayLinkInvalid(Exception):
    """Not a link we made (mistyped, cut short or tampered with)."""


class PayLinkExpired(Exception):
    """A link we made, too old to follow; `link` says whose it was (for the circle's phone)."""

    def __init__(self, link: PayLink) -> None:
        super().__init__("expired")
        self.link = link


def member_link_sign(
    *, member: Member, salt: str, issued_at: datetime | None = None, **extra: Any
) -> str:
    """A signed link naming a member, their circle and when it was made (short keys: links go
    into text messages), with `extra` keys of its kind; `salt` keeps each kind apart (a pay
    link, a gift link), so no other signed value of Circle reads as one."""
    issued = issued_at or timezone.now()
    payload = {"m": member.pk, "c": member.circle_id, "i": int(issued.timestamp()), **extra}
    return signing.Signer(salt=salt).sign_object(payload, compress=True)


def member_link_unsign(token: str, *, salt: str) -> tuple[int, int, datetime, dict[str, Any]]:
    """(member id, circle id, when made, the whole payload) of a `member_link_sign` token.
    Raises BadSignature for one not ours, and KeyError, TypeError or ValueError for one whose
    payload is not a link's."""
    payload = signing.Signer(salt=salt).unsign_object(token)
    issued = datetime.fromtimestamp(int(payload["i"]), tz=UTC)
    return int(payload["m"]), int(payload["c"]), issued, payload


def pay_link_token(
    *, member: Member, purpose: str, tokens: int | None, issued_at: datetime | None = None
) -> str:
    """The signed token of a link (short keys: it goes into a text message)."""
    extra: dict[str, Any] = {"p": purpose}
    if tokens is not None:
        extra["t"] = tokens
    return member_link_sign(member=member, salt=PAY_LINK_SALT, issued_at=issued_at, **extra)


def pay_link_read(token: str, *, now: datetime | None = None) -> PayLink:
    """The link a token stands for; PayLinkInvalid when it is not ours, PayLinkExpired when it
    is too old."""
    try:
        member_id, circle_id, issued, payload = member_link_unsign(token, salt=PAY_LINK_SALT)
        link = PayLink(
            member_id=member_id,
            circle_id=circle_id,
            purpose=str(payload["p"]),
            tokens=int(payload["t"]) if "t" in payload else None,
            issued_at=issued,
        )
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        raise PayLinkInvalid from exc
    if link.purpose not in PaymentPurpose.values:
        raise PayLinkInvalid
    if (now or timezone.now()) > link.expires_at:
        raise PayLinkExpired(link)
    return link


def pay_link_url(token: str) -> str:
    return f"{settings.SITE_URL}{reverse('web:pay-link', args=[token])}"


def pay_link_channels(member: Member) -> list[str]:
    """How a link can reach this member: by text to their phone, by email to their address."""
    channels = []
    if member.phone:
        channels.append(PayLinkChannel.SMS.value)
    if member.email:
        channels.append(PayLinkChannel.EMAIL.value)
    return channels


def _national(e164: str) -> str:
    """+442079460000 → 020 7946 0000, as people write it."""
    try:
        number = phonenumbers.parse(e164, "GB")
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


@dataclass(frozen=True)
class PayLinkSent:
    channel: str
    to: str
    url: str
    amount: Any
    expires_at: datetime


def _what(member: Member, purpose: str, tokens: int | None) -> tuple[Any, str]:
    """The price and the words for what the link pays for (checked as the Checkout will)."""
    circle = member.circle
    if purpose == PaymentPurpose.MEMBERSHIP:
        if tokens is not None:
            raise InvalidInput("invalid", "A membership payment buys no tokens.", field="tokens")
        fee = price_of(circle.membership_fee)
        if fee.amount <= 0:
            raise InvalidInput("no_fee", f"{circle.name} charges no membership fee.")
        return fee, "a year's membership"
    if purpose == PaymentPurpose.TOKENS:
        if isinstance(tokens, bool) or not isinstance(tokens, int):
            raise InvalidInput("required", "tokens: Say how many tokens.", field="tokens")
        if not 1 <= tokens <= MAX_TOKENS_PER_PAYMENT:
            raise InvalidInput(
                "invalid",
                f"Between 1 and {MAX_TOKENS_PER_PAYMENT} tokens at a time.",
                field="tokens",
            )
        price = price_of(circle.token_price)
        if price.amount <= 0:
            raise InvalidInput("no_price", f"{circle.name} sells no tokens.", field="tokens")
        help_time = words.duration(tokens * circle.token_minutes)
        noun = "token" if tokens == 1 else "tokens"
        return price * tokens, f"{tokens} {noun} ({help_time} of help)"
    raise InvalidInput("invalid_choice", "Pay for membership or tokens.", field="purpose")


def pay_link_send(
    *,
    member: Member,
    caller: Caller,
    purpose: str,
    tokens: int | None,
    channel: str,
    call_reference: str,
    now: datetime | None = None,
) -> PayLinkSent:
    """Send `member` a card payment link for `purpose` by `channel`, and audit it as done for
    them with the call's reference. The message is sent while the operator waits (they can tell
    the caller, or try the other channel, at once); it is audited once sent. A text the gateway
    refuses is recorded (and followed up) by messaging, and answered here `link_not_sent`.
    Staff never send one for their own member record (403 `own_record`), as they never record
    their own payments."""
    own_record_refuse(actor=caller.user, member=member, what="send payment links")
    call_reference = call_reference.strip()
    if not call_reference:
        raise InvalidInput(
            "required", "call_reference: Give the call reference.", field="call_reference"
        )
    if channel not in PayLinkChannel.values:
        raise InvalidInput("invalid_choice", "Send it by sms or email.", field="channel")
    if channel not in pay_link_channels(member):
        raise InvalidInput(
            "no_channel",
            "This member has no phone number for texts."
            if channel == PayLinkChannel.SMS
            else "This member has no email address.",
            field="channel",
        )
    amount, what = _what(member, purpose, tokens)
    issued = now or timezone.now()
    url = pay_link_url(
        pay_link_token(member=member, purpose=purpose, tokens=tokens, issued_at=issued)
    )
    days = settings.PAY_LINK_MAX_AGE_DAYS
    circle = member.circle
    phone = f" or call us on {_national(circle.phone)}" if circle.phone else ""
    sent = link_deliver(
        member=member,
        by_text=channel == PayLinkChannel.SMS,
        text=(
            f"{circle.name}: to pay {words.money(amount)} by card for {what}, open {url} "
            f"(it works for {days} days)."
        ),
        email_subject=(
            f"Pay for your {circle.name} membership by card"
            if purpose == PaymentPurpose.MEMBERSHIP
            else f"Pay for your {circle.name} tokens by card"
        ),
        email_body=(
            f"Dear {member.first_name},\n\n"
            f"As we said on the phone, you can pay {circle.name} {words.money(amount)} by card "
            f"for {what} here:\n\n{url}\n\n"
            f"You type your card details on Stripe's secure page. The link works for {days} "
            f"days; after that, ask us for a new one{phone}.\n\n{circle.name}\n"
        ),
        reference=f"pay-link:{call_reference}",
    )
    expires_at = issued + timedelta(days=days)
    with transaction.atomic(durable=True):
        audit_record(
            circle=circle,
            action="payment.link_sent",
            caller=caller,
            member=member,
            reason=f"Card payment link by {PayLinkChannel(channel).label.lower()}",
            call_reference=call_reference[:100],
            data={
                "purpose": purpose,
                "tokens": tokens,
                "amount": str(amount.amount),
                "channel": channel,
                "sms_id": sent.sms_id,
                "expires_at": expires_at.isoformat(),
            },
        )
    return PayLinkSent(channel=channel, to=sent.to, url=url, amount=amount, expires_at=expires_at)
