"""Erasing a member's personal data, for the UK GDPR right to erasure and for retention
(issue 14). The member's rows stay, so the ledger, tasks, audit and concerns stay whole and
balanced; what is personal in them is wiped or pseudonymised ("Former member 123").

Like the export (members/export.py, which says why), every app erases its own tables: each
registers from its AppConfig.ready()
- a *refusal* (`erase_refusal_register`): a reason not to erase now (attention: an open
  safeguarding concern about them, 409 `concern_open`; tokens: minutes held in escrow,
  `tokens_held`; matching: a task still under way, `task_open`; payments: a card that still
  renews their membership, `card_renews`), checked first;
- its *words* (`erase_words_register`): the member's own words the app holds that may be
  quoted elsewhere (matching: their tasks' titles and details), gathered before anything is
  wiped so that every app can take them out of its texts;
- an *eraser* (`erase_part_register`): wipes the app's rows about the member, and takes the
  member's words out of texts that quote them (audit reasons, memos, text messages...).
Each runs inside `member_erase`'s one transaction, so an erasure happens whole or not at all.

A new model holding personal data plugs in with one eraser (and, if its words may be quoted
elsewhere, one words function). What is kept, and why, is listed in the README's
"Safeguarding and data" section.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import phonenumbers
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.admin.models import LogEntry
from django.contrib.sessions.models import Session
from django.db import transaction
from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django.utils import timezone
from rest_framework.authtoken.models import Token

from circle.errors import Conflict, DomainError, Forbidden, InvalidInput
from members.models import AuditEvent, ClaimLink, Member, TrustedPerson, User
from members.selectors import MEMBER_ERASED, Caller, member_is_staff
from members.services import audit_record
from members.two_factor import devices_remove

# What stands where a person's words were.
ERASED = "[erased]"

# Words shorter than this are not searched for in other rows' texts: "IT" or "Tea" would take
# out other people's words too. (The member's own rows are wiped whole, whatever their length.)
MIN_WORD = 4


@dataclass
class Erasure:
    """One erasure under way: the member (as they were, before anything was wiped) and the
    words to take out of every text that quotes them.

    `words` are distinctive enough to search a whole circle's texts for (full name, email,
    phone numbers, address, their tasks' titles); `own_words` adds what is only personal on
    rows about the member themselves (their postcode, shared by their neighbours)."""

    member: Member
    words: list[str] = field(default_factory=list)
    own_words: list[str] = field(default_factory=list)
    # What each part did, by part, for the audit row (counts only, never words).
    done: dict[str, int] = field(default_factory=dict)

    def add_words(self, words: Iterable[str], *, own_only: bool = False) -> None:
        for word in words:
            word = (word or "").strip()
            if len(word) < MIN_WORD:
                continue
            target = self.own_words if own_only else self.words
            if word.lower() not in (known.lower() for known in target):
                target.append(word)

    def _pattern(self, own: bool) -> re.Pattern[str] | None:
        words = self.words + (self.own_words if own else [])
        if not words:
            return None
        # Longest first, so a full name goes before the surname inside it.
        ordered = sorted(words, key=len, reverse=True)
        return re.compile("|".join(re.escape(word) for word in ordered), re.IGNORECASE)

    def redact(self, text: str, *, own: bool = False) -> str:
        """`text` with every one of the member's words replaced by "[erased]"."""
        pattern = self._pattern(own)
        if not text or pattern is None:
            return text
        return pattern.sub(ERASED, text)

    def redact_json(self, value: Any, *, own: bool = False) -> Any:
        """A JSON value with every string in it redacted (keys kept)."""
        if isinstance(value, str):
            return self.redact(value, own=own)
        if isinstance(value, list):
            return [self.redact_json(item, own=own) for item in value]
        if isinstance(value, dict):
            return {key: self.redact_json(item, own=own) for key, item in value.items()}
        return value

    def quoting(self, *fields: str, json: bool = False) -> Q:
        """Rows whose `fields` contain one of the (circle-wide) words, case-insensitively: a
        scan of the circle's rows, which an erasure (rare, by hand or yearly) can afford.
        `json`: the fields are JSON, searched as their text."""
        found = Q(pk__in=[])
        for name in fields:
            for word in self.words:
                if json:
                    found |= Q(**{f"{name}_text__icontains": word})
                else:
                    found |= Q(**{f"{name}__icontains": word})
        return found

    def count(self, part: str, n: int) -> None:
        self.done[part] = self.done.get(part, 0) + n


def json_text(name: str) -> Cast:
    """Annotate a JSON field as its text, for `Erasure.quoting(json=True)`."""
    return Cast(name, TextField())


Refusal = Callable[[Member], DomainError | None]
# Retention (payments/services/retention.py): ids of the members who did something since a
# moment (asked for help, helped), as a query or list each app builds from its own tables.
Activity = Callable[[datetime], Iterable[int]]
Words = Callable[[Erasure], None]
ErasePart = Callable[[Erasure], None]

_REFUSALS: dict[str, Refusal] = {}
_WORDS: dict[str, Words] = {}
_PARTS: dict[str, ErasePart] = {}
_ACTIVITY: dict[str, Activity] = {}


def erase_refusal_register(*, name: str, refusal: Refusal) -> None:
    _REFUSALS[name] = refusal


def erase_words_register(*, name: str, words: Words) -> None:
    _WORDS[name] = words


def erase_part_register(*, name: str, part: ErasePart) -> None:
    _PARTS[name] = part


def retention_activity_register(*, name: str, activity: Activity) -> None:
    _ACTIVITY[name] = activity


def retention_active_since(since: datetime) -> list[int]:
    """Ids of members active since `since` in any registered app (kept from retention)."""
    found: set[int] = set()
    for activity in _ACTIVITY.values():
        found.update(member_id for member_id in activity(since) if member_id is not None)
    return sorted(found)


def erase_refusals(member: Member) -> list[DomainError]:
    """Every registered reason not to erase `member` now, in registration order."""
    return [found for check in _REFUSALS.values() if (found := check(member)) is not None]


def erase_words(erasure: Erasure) -> None:
    for words in _WORDS.values():
        words(erasure)


def erase_parts() -> list[tuple[str, ErasePart]]:
    return list(_PARTS.items())


# --- The service ------------------------------------------------------------------------------

# Keys of audit data that name a person's details: wiped on rows about the member whatever
# they hold (a postcode on `member.joined`, the fields a details change named are only names).
_PERSONAL_KEYS = frozenset(
    {"full_name", "name", "email", "phone", "address_line1", "postcode", "date_of_birth", "to"}
)


def member_erase(*, caller: Caller | None, member: Member, reason: str) -> Member:
    """Erase `member`'s personal data, keeping their rows (UK GDPR erasure; retention).

    Coordinators only (the view checks the caller's access to the member; `caller` None is the
    retention job). Refused with 409 `already_erased`, `is_staff` (a member of staff is made
    an ordinary member first, by another coordinator), then each app's refusal
    (`concern_open`, `tokens_held`, `task_open`, `card_renews`). In one transaction, with the
    member's row locked so two erasures (a coordinator's and the job's) cannot run at once:
    every app's eraser, then the
    member's own record, their login, and the audit row, which keeps the reason (without the
    member's words) and what was done, never who they were."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("reason_required", "Say why their data is being erased.", field="reason")
    if caller is not None and not caller.is_coordinator:
        raise Forbidden("forbidden", "Only the circle's coordinators can erase a member's data.")
    with transaction.atomic(durable=True):
        # Only the member's row is locked (its login may be none: no outer join under FOR
        # UPDATE on PostgreSQL).
        locked = (
            Member.objects.select_for_update(of=("self",))
            .select_related("circle", "user")
            .get(pk=member.pk)
        )
        erase_check(locked)
        erasure = Erasure(member=locked)
        _member_words(erasure)
        erase_words(erasure)
        for _name, part in erase_parts():
            part(erasure)
        _erase_member(erasure)
        audit_record(
            circle=locked.circle,
            action=MEMBER_ERASED,
            caller=caller,
            member=locked,
            reason=erasure.redact(reason, own=True)[:500],
            data={"rows": dict(sorted(erasure.done.items()))},
        )
    return locked


def erase_check(member: Member) -> None:
    """Raise the first reason not to erase `member` now (409), if there is one."""
    if member.erased_at is not None:
        raise Conflict(
            "already_erased",
            f"This member's data was erased on {member.erased_at:%-d %B %Y}.",
        )
    if member_is_staff(member):
        raise Conflict(
            "is_staff",
            "This person is a member of staff. Another coordinator must take away their staff "
            "role before their data can be erased.",
        )
    refusals = erase_refusals(member)
    if refusals:
        raise refusals[0]


def _member_words(erasure: Erasure) -> None:
    member = erasure.member
    erasure.add_words([member.full_name, member.email or "", member.address_line1])
    if member.phone:
        erasure.add_words(
            [member.phone, _national(member.phone), _national(member.phone, spaced=False)]
        )
    if member.user is not None:
        erasure.add_words([member.user.email or "", member.user.phone or "", member.user.full_name])
    erasure.add_words([member.postcode], own_only=True)


def _national(e164: str, *, spaced: bool = True) -> str:
    """+447700900123 → "07700 900123" (or "07700900123"): how a phone number is quoted."""
    try:
        number = phonenumbers.parse(e164, "GB")
    except phonenumbers.NumberParseException:
        return e164
    text = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return text if spaced else text.replace(" ", "")


def _erase_member(erasure: Erasure) -> None:
    """The member's own record, their login, and the audit rows about them or quoting them."""
    member = erasure.member
    circle_id = member.circle_id
    # Audit rows about the member (or done by them): their words, and any personal key.
    own = AuditEvent.objects.filter(circle_id=circle_id).filter(
        Q(member=member) | Q(actor_member=member)
    )
    changed = 0
    for event in own:
        data = {
            key: (ERASED if key in _PERSONAL_KEYS and value not in (None, "") else value)
            for key, value in (event.data or {}).items()
        }
        data = erasure.redact_json(data, own=True)
        event_reason = erasure.redact(event.reason, own=True)
        if data != event.data or event_reason != event.reason:
            AuditEvent.objects.filter(pk=event.pk).update(data=data, reason=event_reason)
            changed += 1
    # Other rows of the circle that quote the member (a reason naming them).
    others = (
        AuditEvent.objects.filter(circle_id=circle_id)
        .exclude(Q(member=member) | Q(actor_member=member))
        .annotate(data_text=json_text("data"))
        .filter(erasure.quoting("reason", "call_reference") | erasure.quoting("data", json=True))
    )
    for event in others:
        AuditEvent.objects.filter(pk=event.pk).update(
            data=erasure.redact_json(event.data),
            reason=erasure.redact(event.reason),
            call_reference=erasure.redact(event.call_reference)[:100],
        )
        changed += 1
    # The Django admin's own log names what it changed (its repr is the member's name).
    for entry in LogEntry.objects.filter(erasure.quoting("object_repr", "change_message")):
        LogEntry.objects.filter(pk=entry.pk).update(
            object_repr=erasure.redact(entry.object_repr)[:200],
            change_message=erasure.redact(entry.change_message),
        )
        changed += 1
    erasure.count("audit", changed)

    # The people they trusted to act for them: their links end now (the acts done stay, as
    # "done by <name> for Former member <id>"), and a consent note that quotes them loses it.
    for link in TrustedPerson.objects.filter(member=member):
        TrustedPerson.objects.filter(pk=link.pk).update(
            ended_at=link.ended_at or timezone.now(),
            consent_reference=erasure.redact(link.consent_reference)[:100],
        )
    # Links to set a password not yet used: nobody may sign in as a former member.
    ClaimLink.objects.filter(member=member, used_at__isnull=True).delete()
    user = member.user
    member.full_name = f"Former member {member.pk}"
    member.email = None
    member.phone = ""
    member.date_of_birth = None
    member.address_line1 = ""
    member.postcode = ""
    member.latitude = None
    member.longitude = None
    member.erased_at = timezone.now()
    if (
        user is not None
        and Member.objects.filter(user=user, erased_at__isnull=True).exclude(pk=member.pk).exists()
    ):
        # The same person is a member of another circle too: that circle keeps their login;
        # this record lets go of it.
        member.user = None
        user = None
    member.save()
    if user is not None:
        _erase_login(user)
        erasure.count("login", 1)


def _erase_login(user: User) -> None:
    """The login: deactivated, with no password, no email, no name, no way back in (API
    tokens and sessions gone), and the sign-in attempts recorded under its email forgotten."""
    names = [name for name in (user.email, user.phone) if name]
    # Neither an email nor a mobile number to sign in with: the login's check constraint allows
    # that only of an inactive login.
    user.email = None
    user.phone = None
    user.full_name = ""
    user.is_active = False
    user.set_unusable_password()
    user.save()
    Token.objects.filter(user=user).delete()
    now = timezone.now()
    for session in Session.objects.filter(expire_date__gt=now).iterator():
        if session.get_decoded().get("_auth_user_id") == str(user.pk):
            session.delete()
    # Acting for others as their trusted person ends with the login, and the name the others
    # knew them by goes.
    TrustedPerson.objects.filter(user=user, ended_at__isnull=True).update(ended_at=timezone.now())
    TrustedPerson.objects.filter(user=user).update(full_name=ERASED)
    # Its authenticator app and recovery codes, if it was ever staff's.
    devices_remove(user)
    for name in names:
        # django-axes counts attempts by the email, lower-cased, or the mobile as E.164
        # (circle.security.login_username), as the login's were stored.
        AccessAttempt.objects.filter(username__iexact=name).delete()
        AccessLog.objects.filter(username__iexact=name).delete()
        AccessFailureLog.objects.filter(username__iexact=name).delete()
