from __future__ import annotations

from typing import Any, ClassVar

import phonenumbers
from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from circle.errors import InvalidInput
from circle.models import Circle
from circle.services import phone_e164


class UserManager(BaseUserManager["User"]):
    def create_user(
        self,
        email: str | None,
        password: str | None = None,
        *,
        password_hash: str = "",
        **extra: Any,
    ) -> User:
        # NULL, not "", for "no email" (a member who claimed a phone account may have none).
        user = self.model(email=self.normalize_email(email).lower() if email else None, **extra)
        if password_hash:
            # Made earlier by make_password from a password already checked (a page that asked
            # for it before the last step keeps only this).
            user.password = password_hash
        else:
            user.set_password(password)  # None leaves an unusable password
        user.save(using=self._db)
        return user

    def get_by_natural_key(self, username: str | None) -> User:
        """The login a sign-in names: by email (stored lower-cased; a sign-in form may not be),
        or, for anything without an @, by mobile number in whatever spacing it was typed."""
        username = (username or "").strip()
        if "@" in username or not username:
            return self.get(email__iexact=username)
        phone = phone_or_none(username)
        if phone is None:
            raise self.model.DoesNotExist
        return self.get(phone=phone)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A login. People who join by phone have a Member record and no User.

    Invariants: emails are unique whatever their case (stored lower-cased), and optional (NULL,
    never "", for none: a member who joined by phone and claimed their account may sign in with
    their mobile number alone); phones are E.164 and unique when set (NULL for none). A login
    has at least one of the two to sign in with.
    `is_staff` is Django admin access for the installation's own operators, not circle staff:
    circle roles live on Member.
    """

    email = models.EmailField(max_length=254, unique=True, null=True, blank=True)
    # The mobile number this login signs in with (E.164), set when a phone member claims it.
    phone = models.CharField(max_length=20, unique=True, null=True, blank=True)
    full_name = models.CharField(max_length=150, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = ["full_name"]

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), name="members_user_unique_email"),
            # A login signs in with its email or its mobile number; only an erased login
            # (inactive for good) has neither.
            models.CheckConstraint(
                condition=models.Q(email__isnull=False)
                | models.Q(phone__isnull=False)
                | models.Q(is_active=False),
                name="members_user_email_or_phone",
            ),
        ]

    def __str__(self) -> str:
        return self.sign_in_name or f"User {self.pk}"

    @property
    def sign_in_name(self) -> str:
        """What this person signs in with, as they would read it: the email, else the mobile."""
        if self.email:
            return self.email
        return phone_national(self.phone) if self.phone else ""


def phone_or_none(raw: str) -> str | None:
    """`raw` as E.164 if it is a phone number we can call, else None."""
    try:
        return phone_e164(raw)
    except InvalidInput:
        return None


def phone_national(e164: str) -> str:
    """+447700900123 -> 07700 900123, as people write it."""
    try:
        number = phonenumbers.parse(e164, "GB")
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


class MembershipStatus(models.TextChoices):
    PENDING = "pending", "Pending (not paid)"
    ACTIVE = "active", "Active"
    GRACE = "grace", "Grace period"
    LAPSED = "lapsed", "Lapsed"


class JoinedVia(models.TextChoices):
    ONLINE = "online", "Online"
    PHONE = "phone", "By phone, through staff"
    HELPER_SIGNUP = "helper_signup", "As a helper"
    STAFF = "staff", "Made staff"


class Member(models.Model):
    """A person in one circle: contact details, wallet owner, holder of roles.

    A person in two circles has two Member rows (one per circle) and, if they log in, one User.
    Invariants: one Member per (circle, user); contact emails unique per circle whatever their case.
    `phone` is E.164 so that a search by phone matches whatever spacing the caller reads out.
    """

    circle = models.ForeignKey(Circle, on_delete=models.PROTECT, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="members",
    )
    full_name = models.CharField(max_length=150)
    # NULL, not "", for "no email": the per-circle unique index then ignores phone-only members.
    email = models.EmailField(max_length=254, null=True, blank=True)  # noqa: DJ001
    phone = models.CharField(max_length=20, blank=True)
    date_of_birth = models.DateField(null=True, blank=True)
    address_line1 = models.CharField(max_length=200, blank=True)
    postcode = models.CharField(max_length=8, blank=True)
    latitude = models.DecimalField(max_digits=8, decimal_places=5, null=True, blank=True)
    longitude = models.DecimalField(max_digits=8, decimal_places=5, null=True, blank=True)
    membership_status = models.CharField(
        max_length=10, choices=MembershipStatus.choices, default=MembershipStatus.PENDING
    )
    joined_via = models.CharField(max_length=20, choices=JoinedVia.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    # When their personal data was erased (members.erasure): the row stays, as "Former
    # member <id>", so the ledger, tasks and audit stay whole.
    erased_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["full_name", "id"]
        indexes = [
            models.Index(fields=["circle", "phone"], name="members_member_phone"),
            models.Index(fields=["circle", "postcode"], name="members_member_postcode"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["circle", "user"],
                condition=models.Q(user__isnull=False),
                name="members_member_unique_user_per_circle",
            ),
            models.UniqueConstraint(
                "circle",
                Lower("email"),
                condition=models.Q(email__isnull=False),
                name="members_member_unique_email_per_circle",
            ),
            models.CheckConstraint(
                condition=models.Q(membership_status__in=MembershipStatus.values),
                name="members_member_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.circle.slug})"

    @property
    def first_name(self) -> str:
        return first_name_of(self.full_name)


def first_name_of(full_name: str) -> str:
    """The first word of a full name ("" for none), for readers that have only the column."""
    words = full_name.split()
    return words[0] if words else ""


class RoleName(models.TextChoices):
    MEMBER = "member", "Member (asks for help)"
    HELPER = "helper", "Helper"
    OPERATOR = "operator", "Operator"
    COORDINATOR = "coordinator", "Coordinator"


STAFF_ROLES = frozenset({RoleName.OPERATOR, RoleName.COORDINATOR})


class Role(models.Model):
    """A role a member holds in their circle. A person may hold several."""

    circle = models.ForeignKey(Circle, on_delete=models.CASCADE, related_name="+")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="roles")
    role = models.CharField(max_length=20, choices=RoleName.choices)
    granted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["member_id", "role"]
        constraints = [
            models.UniqueConstraint(fields=["member", "role"], name="members_role_unique"),
            models.CheckConstraint(
                condition=models.Q(role__in=RoleName.values), name="members_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member_id}:{self.role}"


class AuditEvent(models.Model):
    """One change to membership, tokens, tasks, vetting or payments, written in the same
    transaction as the change itself. Append-only: nothing updates or deletes these rows.

    `actor` is who did it (None for the system or Stripe); `member` is whom it was done for.
    Staff acting for a member give a reason or a call reference.
    """

    # Every write in the system adds a row here, so it carries only what its readers need:
    # indexes on (circle, time) for the coordinator's log and on member for a member's own
    # list, and no foreign key constraints. Circles, users and members are never deleted
    # (PROTECT everywhere, and no service deletes them), while each constraint would take a
    # KEY SHARE lock on the row it names, and log it, at every write: on the circle's row, that
    # is every writer in the circle queueing on one row.
    circle = models.ForeignKey(
        Circle, on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    actor_member = models.ForeignKey(
        Member,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    member = models.ForeignKey(
        Member,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="audit_events",
        db_constraint=False,
    )
    action = models.CharField(max_length=60)
    reason = models.CharField(max_length=500, blank=True)
    call_reference = models.CharField(max_length=100, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["circle", "-created_at"], name="members_audit_circle_time"),
            # The reports replay members' statuses from these few rows among all the circle's
            # audit rows (members.selectors.members_by_status_monthly).
            models.Index(
                fields=["circle", "created_at"],
                condition=models.Q(action="membership.status_changed"),
                name="members_audit_status_changes",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action}"


class ClaimChannel(models.TextChoices):
    SMS = "sms", "Text message"
    EMAIL = "email", "Email"


class ClaimPurpose(models.TextChoices):
    CLAIM = "claim", "Set a first password (an account joined by phone)"
    RESET = "reset", "Set a new password (forgotten, by text)"


class ClaimLink(models.Model):
    """A one-time link to set a password (DESIGN.md's `/claim/{token}/`): sent by staff to a
    member joined by phone, who has no login yet (`claim`), or by text to a login that forgot
    its password and signs in with its mobile number (`reset`).

    Only a SHA-256 of the token is kept, so a copy of the database opens no account.
    Invariants: a link is used at most once (`used_at`); a newer link for the same member
    supersedes the older ones (`superseded_at`, set when it is made), so at most one link per
    member is live at a time; it stops working at `expires_at` (CLAIM_LINK_MAX_AGE_HOURS).
    """

    circle = models.ForeignKey(Circle, on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="claim_links")
    purpose = models.CharField(max_length=10, choices=ClaimPurpose.choices)
    channel = models.CharField(max_length=10, choices=ClaimChannel.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    superseded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["member", "-created_at"], name="members_claimlink_member")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(purpose__in=ClaimPurpose.values),
                name="members_claimlink_purpose_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(channel__in=ClaimChannel.values),
                name="members_claimlink_channel_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("created_at")),
                name="members_claimlink_expires_after_created",
            ),
        ]

    def __str__(self) -> str:
        return f"claim link {self.pk} for member {self.member_id}"


class TrustedScope(models.TextChoices):
    """What a trusted person may do for the member who named them (DESIGN.md)."""

    ASK = "ask", "Ask for help (and cancel a request)"
    CONFIRM = "confirm", "Confirm that a job was done"
    PAY = "pay", "Pay (membership, tokens, a gift link)"
    STATEMENT = "statement", "Read the tokens statement"


class TrustedPerson(models.Model):
    """A relative or friend who acts for one member within the scopes the member chose.

    They sign in with their own login (`user`) and hold no member record for it (DESIGN.md).
    Named by the member themselves, or recorded by staff with the member's consent given on a
    call (`consent_reference`, that call's reference). Ended at once by setting `ended_at`;
    nothing is deleted, so the audit rows they wrote keep naming someone.

    Invariants: one active link per (member, user); `scopes` is a list of TrustedScope values
    (checked by the service, which is the only writer).
    """

    circle = models.ForeignKey(Circle, on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="trusted_persons")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="trusted_for"
    )
    full_name = models.CharField(max_length=150)
    scopes = models.JSONField(default=list)
    consent_reference = models.CharField(max_length=100, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["full_name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["member", "user"],
                condition=models.Q(ended_at__isnull=True),
                name="members_trustedperson_one_active",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.full_name} for member {self.member_id}"

    @property
    def active(self) -> bool:
        return self.ended_at is None

    @property
    def scope_labels(self) -> list[str]:
        labels = dict(TrustedScope.choices)
        return [str(labels[s]) for s in TrustedScope.values if s in self.scopes]
