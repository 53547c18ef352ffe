"""Writes for trusted persons: a relative or friend a member names (or staff record, with the
member's consent given on a call) to act for them within scopes (DESIGN.md, issue 14).

A trusted person signs in with their own login and has no member record for it. Who may act
for a member is the member's to say, so the rules here are strict:
- only the member themselves, or staff of the member's circle giving the consent's call
  reference, add or end one; a trusted person never does (403 `trusted_person_not_allowed`),
  whatever their scopes;
- ending takes effect at once: every read of what a trusted person may do
  (members.selectors.member_access, matching.access) reads the link's `ended_at`;
- both are audited, and every act the trusted person then does is audited as theirs, for the
  member (on the member's "done on my behalf" page).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from circle.errors import Conflict, Forbidden, InvalidInput
from members.models import Member, TrustedPerson, TrustedScope, User
from members.selectors import (
    TRUSTED_PERSON_ADDED,
    TRUSTED_PERSON_ENDED,
    Caller,
    trusted_scope_refuse,
)
from members.services import audit_record

logger = logging.getLogger(__name__)


def _standing(*, caller: Caller, member: Member) -> str:
    """'self' or 'staff': how the caller may change this member's trusted persons; refused
    otherwise. A trusted person is refused first, whatever their scopes."""
    trusted_scope_refuse(caller=caller, scope=None)
    if caller.user is not None and member.user_id is not None and member.user_id == caller.user.pk:
        return "self"
    if (
        caller.is_staff
        and caller.member is not None
        and caller.member.circle_id == member.circle_id
    ):
        return "staff"
    raise Forbidden("forbidden", "You may not see or act for this member.")


def scopes_clean(scopes: Iterable[str]) -> list[str]:
    """The scopes as a list in TrustedScope's order, each once; at least one, none unknown."""
    given = set(scopes)
    unknown = given - set(TrustedScope.values)
    if unknown:
        raise InvalidInput(
            "invalid_choice",
            f"scopes: {sorted(unknown)[0]!r} is not one of ask, confirm, pay, statement.",
            field="scopes",
        )
    if not given:
        raise InvalidInput(
            "scopes_required",
            "Choose at least one thing the trusted person may do.",
            field="scopes",
        )
    return [s for s in TrustedScope.values if s in given]


def _set_password_link(user: User) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return f"{settings.SITE_URL}{reverse('web:password-reset-confirm', args=[uid, token])}"


def _tell(*, link: TrustedPerson, new_login: bool) -> None:
    """Email the trusted person that the member named them (and, for a new login, a link to set
    their password: Django's password-reset token, on the password-reset page)."""
    member = link.member
    circle = member.circle
    user = link.user
    if new_login:
        how = (
            "To start, choose a password for your own login with this link (it works once, "
            f"for a few days):\n\n{_set_password_link(user)}\n\n"
            f"Your login is your email address, {user.email}."
        )
    else:
        how = f"Sign in with your own login as usual, then choose “{member.full_name}”."
    message = (
        f"Dear {link.full_name},\n\n"
        f"{member.full_name} has named you as their trusted person at {circle.name}: you can "
        f"act for them online ({', '.join(link.scope_labels).lower()}).\n\n"
        f"{how}\n\n"
        f"Everything you do for {member.first_name or member.full_name} is shown to them. "
        f"They (or {circle.name}'s staff) can end this at any time.\n\n"
        f"{circle.name}\n"
    )
    if not user.email:  # found by this email; a login that since dropped it is not written to
        return
    try:
        send_mail(f"{member.full_name} named you at {circle.name}", message, None, [user.email])
    except OSError as exc:  # SMTP refused or unreachable: the link stands; staff can re-send
        logger.warning("trusted person notice to user %s failed: %s", user.pk, exc)


def trusted_person_add(
    *,
    caller: Caller,
    member: Member,
    full_name: str,
    email: str,
    scopes: Iterable[str],
    consent_reference: str = "",
) -> TrustedPerson:
    """Name a trusted person for `member`. Their login is the one with this email if there is
    one, else a new login without a usable password, emailed a link to set one. Staff give
    the reference of the call in which the member gave consent; the member need not."""
    standing = _standing(caller=caller, member=member)
    assert caller.user is not None
    full_name = " ".join((full_name or "").split())
    if not full_name:
        raise InvalidInput(
            "blank", "Please give the trusted person's full name.", field="full_name"
        )
    if len(full_name) > 150:
        raise InvalidInput("invalid", "A name is at most 150 characters.", field="full_name")
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidInput(
            "email_invalid", f"{email!r} is not an email address.", field="email"
        ) from None
    chosen = scopes_clean(scopes)
    consent_reference = (consent_reference or "").strip()
    if len(consent_reference) > 100:
        raise InvalidInput(
            "invalid", "A reference is at most 100 characters.", field="consent_reference"
        )
    if standing == "staff" and not consent_reference:
        raise InvalidInput(
            "consent_reference_required",
            "Staff recording a trusted person give the reference of the call in which the "
            "member agreed.",
            field="consent_reference",
        )
    existing = User.objects.filter(email__iexact=email).first()
    if existing is not None and existing.pk == member.user_id:
        raise InvalidInput(
            "trusted_person_self",
            "A member cannot be their own trusted person: give someone else's email.",
            field="email",
        )
    if existing is not None and standing == "staff" and existing.pk == caller.user.pk:
        raise Forbidden(
            "own_record",
            "Staff never record themselves as a member's trusted person; ask another member "
            "of staff.",
        )
    try:
        with transaction.atomic():
            new_login = existing is None
            user = existing or User.objects.create_user(email, None, full_name=full_name)
            if TrustedPerson.objects.filter(
                member=member, user=user, ended_at__isnull=True
            ).exists():
                raise Conflict(
                    "trusted_person_exists",
                    "This person is already a trusted person for the member.",
                )
            link = TrustedPerson.objects.create(
                circle=member.circle,
                member=member,
                user=user,
                full_name=full_name,
                scopes=chosen,
                consent_reference=consent_reference if standing == "staff" else "",
                created_by=caller.user,
            )
            audit_record(
                circle=member.circle,
                action=TRUSTED_PERSON_ADDED,
                caller=caller,
                member=member,
                reason=f"Named {full_name} as a trusted person",
                call_reference=link.consent_reference,
                data={"trusted_person_id": link.pk, "scopes": chosen, "new_login": new_login},
            )
            transaction.on_commit(lambda: _tell(link=link, new_login=new_login))
    except IntegrityError:
        # Another request named the same person between the check and the write (the
        # one-active index), or made the same login.
        raise Conflict(
            "trusted_person_exists", "This person is already a trusted person for the member."
        ) from None
    return link


def trusted_person_end(
    *, caller: Caller, trusted: TrustedPerson, call_reference: str = ""
) -> TrustedPerson:
    """End a trusted person's link at once (the member, or staff of their circle). Ending one
    already ended changes nothing."""
    _standing(caller=caller, member=trusted.member)
    with transaction.atomic():
        locked = TrustedPerson.objects.select_for_update().get(pk=trusted.pk)
        if locked.ended_at is not None:
            return locked
        locked.ended_at = timezone.now()
        locked.ended_by = caller.user
        locked.save(update_fields=["ended_at", "ended_by"])
        audit_record(
            circle=trusted.member.circle,
            action=TRUSTED_PERSON_ENDED,
            caller=caller,
            member=trusted.member,
            reason=f"Ended {locked.full_name} as a trusted person",
            call_reference=(call_reference or "").strip()[:100],
            data={"trusted_person_id": locked.pk},
        )
    locked.member = trusted.member
    return locked
