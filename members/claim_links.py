"""One-time links to set a password (DESIGN.md's `/claim/{token}/`).

A member joined by phone has a Member record and no login. Staff send them a link, by text or
email (messaging.services.claim_link_send, which sends through the circle's gateways and then
records the link here); whoever opens it sets a password, and the login is made then, with the
member's mobile number to sign in with (and an email if they give one). The same link, by text,
serves a login that signs in with its mobile number and forgot its password (`reset`).

Only a SHA-256 of the token is stored (a copy of the database opens no account), and the audit
row names the link by id, never by token. A link works once, for CLAIM_LINK_MAX_AGE_HOURS; a
newer link for the same member supersedes older ones.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from circle.errors import Conflict, InvalidInput
from members.models import ClaimChannel, ClaimLink, ClaimPurpose, Member, User
from members.selectors import CLAIM_LINK_SENT, CLAIM_LINK_USED, Caller
from members.services import audit_record


def claim_token_new() -> str:
    """A fresh token: 32 random bytes, URL-safe (43 characters, short enough for a text)."""
    return secrets.token_urlsafe(32)


def claim_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def claim_link_url(token: str) -> str:
    return f"{settings.SITE_URL}{reverse('web:claim', args=[token])}"


def claim_link_max_age() -> timedelta:
    return timedelta(hours=settings.CLAIM_LINK_MAX_AGE_HOURS)


def claim_link_lasts() -> str:
    """How long a link works, in words: "3 days" (or "36 hours" for a part of a day)."""
    hours = settings.CLAIM_LINK_MAX_AGE_HOURS
    if hours % 24 == 0:
        days = hours // 24
        return "1 day" if days == 1 else f"{days} days"
    return "1 hour" if hours == 1 else f"{hours} hours"


def claim_link_refuse(*, member: Member, channel: str, purpose: str = ClaimPurpose.CLAIM) -> None:
    """Why a link cannot be sent to `member` by `channel`, as the error to answer, if it cannot:
    a member who already has a login signs in with it (409 `already_has_login`); a text needs a
    mobile number, an email an address (400 `no_mobile` / `no_email`, on `channel`)."""
    if channel not in ClaimChannel.values:
        raise InvalidInput("invalid_choice", "Send it by sms or email.", field="channel")
    if purpose == ClaimPurpose.CLAIM and member.user_id is not None:
        raise Conflict(
            "already_has_login",
            "This member already has a login; they sign in with it (or ask for a new password).",
        )
    if channel == ClaimChannel.SMS and not member.phone:
        raise InvalidInput(
            "no_mobile", "This member has no mobile number to text.", field="channel"
        )
    if channel == ClaimChannel.EMAIL and not member.email:
        raise InvalidInput("no_email", "This member has no email address.", field="channel")


def claim_link_record(
    *,
    member: Member,
    token: str,
    channel: str,
    purpose: str = ClaimPurpose.CLAIM,
    caller: Caller | None = None,
    call_reference: str = "",
    sms_id: int | None = None,
    now: datetime | None = None,
) -> ClaimLink:
    """Keep the (hash of the) link just sent to `member`, superseding any older one, and audit
    who sent it by which channel. `caller` is the member of staff (None: the member asked for a
    new password themselves). The caller has checked `claim_link_refuse` and sent the message;
    it is checked again here under the member's lock, as a link may have been used meanwhile."""
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        # Locked so that two links sent at once for one member leave one live (the later), and
        # so that a claim in progress and a new link do not cross.
        locked = Member.objects.select_for_update().select_related("circle").get(pk=member.pk)
        claim_link_refuse(member=locked, channel=channel, purpose=purpose)
        ClaimLink.objects.filter(
            member=locked, used_at__isnull=True, superseded_at__isnull=True
        ).update(superseded_at=now)
        link = ClaimLink.objects.create(
            circle_id=locked.circle_id,
            member=locked,
            purpose=purpose,
            channel=channel,
            token_hash=claim_token_hash(token),
            created_by=caller.user if caller else None,
            created_at=now,
            expires_at=now + claim_link_max_age(),
        )
        audit_record(
            circle=locked.circle,
            action=CLAIM_LINK_SENT,
            caller=caller,
            member=locked,
            reason=f"Link to set a password by {ClaimChannel(channel).label.lower()}",
            call_reference=call_reference.strip()[:100],
            data={
                "link_id": link.pk,
                "purpose": purpose,
                "channel": channel,
                "sms_id": sms_id,
                "expires_at": link.expires_at.isoformat(),
            },
        )
    return link


# --- Opening a link ----------------------------------------------------------------------------


class ClaimLinkUnknown(Exception):
    """Not a link we made (mistyped, cut short), or one superseded by a newer link."""


class ClaimLinkClosed(Exception):
    """A link we made that no longer works: `why` is "expired" or "used"."""

    def __init__(self, link: ClaimLink, why: str) -> None:
        super().__init__(why)
        self.link = link
        self.why = why


def claim_link_open(token: str, *, now: datetime | None = None) -> ClaimLink:
    """The live link this token stands for (with its member and circle); ClaimLinkUnknown or
    ClaimLinkClosed when there is none.

    A superseded link answers "expired", as the member would put it: the link they hold no
    longer works and they need a new one (the newer one is on its way, or they ask again)."""
    link = (
        ClaimLink.objects.select_related("member", "member__circle", "member__user")
        .filter(token_hash=claim_token_hash(token or ""))
        .first()
    )
    if link is None:
        raise ClaimLinkUnknown
    if link.used_at is not None:
        raise ClaimLinkClosed(link, "used")
    if link.superseded_at is not None or (now or timezone.now()) >= link.expires_at:
        raise ClaimLinkClosed(link, "expired")
    return link


def _password_check(*, password: str, user: User) -> None:
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        raise InvalidInput("password_too_weak", " ".join(exc.messages), field="password") from None


def claim_link_use(
    *, token: str, password: str, email: str | None = None, now: datetime | None = None
) -> User:
    """Set a password with a link, once: for a claim, make the member's login (their mobile
    number to sign in with, the email if given) and link it to the member record; for a reset,
    set the login's new password. All in one transaction with marking the link used, so a link
    opened twice at once makes one login; nothing is written when anything is refused."""
    now = now or timezone.now()
    link = claim_link_open(token, now=now)
    member = link.member
    email = (email or "").strip().lower() or None
    if email is not None:
        try:
            validate_email(email)
        except ValidationError:
            raise InvalidInput(
                "email_invalid", "Enter an email address like name@example.com.", field="email"
            ) from None
    try:
        with transaction.atomic(durable=True):
            # The link's row, locked, and read again: a second tab that got here first has used
            # it (or staff sent a newer one), and this one then changes nothing.
            locked = ClaimLink.objects.select_for_update().get(pk=link.pk)
            if locked.used_at is not None:
                raise ClaimLinkClosed(locked, "used")
            if locked.superseded_at is not None or now >= locked.expires_at:
                raise ClaimLinkClosed(locked, "expired")
            member = Member.objects.select_for_update().select_related("circle").get(pk=member.pk)
            if locked.purpose == ClaimPurpose.RESET:
                if member.user_id is None:
                    raise ClaimLinkUnknown
                user = User.objects.select_for_update().get(pk=member.user_id)
                if not user.is_active:
                    # Switched off since the text went: the link opens nothing.
                    raise ClaimLinkUnknown
                _password_check(password=password, user=user)
                user.set_password(password)
                user.save(update_fields=["password"])
            else:
                if member.user_id is not None:
                    raise Conflict(
                        "already_has_login", "This account already has a password; sign in."
                    )
                if email is not None and (
                    User.objects.filter(email__iexact=email).exists()
                    or Member.objects.filter(circle=member.circle, email__iexact=email)
                    .exclude(pk=member.pk)
                    .exists()
                ):
                    # Free among logins and this circle's members; the member's own contact
                    # email is theirs to sign in with.
                    raise InvalidInput(
                        "email_taken",
                        "That email address is already in use; sign in with it instead.",
                        field="email",
                    )
                phone = member.phone or None
                if phone is not None and User.objects.filter(phone=phone).exists():
                    # Two people sharing one mobile: the number signs in to one login only, so
                    # this one needs an email to sign in with.
                    if email is None:
                        raise InvalidInput(
                            "email_required",
                            "Another account signs in with this mobile number. Give an email "
                            "address to sign in with instead.",
                            field="email",
                        )
                    phone = None
                if phone is None and email is None:
                    raise InvalidInput(
                        "email_required", "Give an email address to sign in with.", field="email"
                    )
                user = User(email=email, phone=phone, full_name=member.full_name)
                _password_check(password=password, user=user)
                user.set_password(password)
                user.save()
                member.user = user
                fields = ["user"]
                if email is not None and not member.email:
                    member.email = email
                    fields.append("email")
                member.save(update_fields=fields)
            locked.used_at = now
            locked.save(update_fields=["used_at"])
            audit_record(
                circle=member.circle,
                action=CLAIM_LINK_USED,
                caller=Caller(user=user, member=member, roles=frozenset()),
                member=member,
                data={"link_id": locked.pk, "purpose": locked.purpose},
            )
    except IntegrityError:
        # A login took the email or the number between the checks and the write.
        raise InvalidInput(
            "email_taken", "That email address is already in use; sign in instead.", field="email"
        ) from None
    return user


def reset_member_for(*, phone: str) -> Member | None:
    """The member record to text a new-password link to, for a login that signs in with this
    mobile number (E.164): its record with that number, in any circle. None when there is
    none (the page says "sent" all the same)."""
    user = User.objects.filter(phone=phone, is_active=True).first()
    if user is None or not user.has_usable_password():
        return None
    return Member.objects.filter(user=user, phone=phone).select_related("circle").first()


def reset_recently_sent(*, member: Member, now: datetime | None = None) -> bool:
    """Whether a new-password text went to this member in the last minute: a form sent again
    and again texts once a minute at most (each text costs the circle, and bothers its
    reader)."""
    since = (now or timezone.now()) - timedelta(minutes=1)
    return ClaimLink.objects.filter(
        member=member, purpose=ClaimPurpose.RESET, created_at__gte=since
    ).exists()
