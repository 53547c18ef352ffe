"""Writes for people: joining, staff roles, and the audit row every change writes."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from circle.errors import Conflict, Forbidden, InvalidInput
from circle.models import Circle
from circle.postcodes import Point
from circle.selectors import postcode_resolve_in_area
from circle.services import phone_e164
from members.export import member_export
from members.models import AuditEvent, JoinedVia, Member, Role, RoleName, User
from members.selectors import Caller


def audit_record(
    *,
    circle: Circle,
    action: str,
    caller: Caller | None = None,
    member: Member | None = None,
    reason: str = "",
    call_reference: str = "",
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Write one audit row. Call it inside the transaction that makes the change, so that the
    change and its record commit or vanish together."""
    return AuditEvent.objects.create(
        circle=circle,
        actor=caller.user if caller else None,
        actor_member=caller.member if caller else None,
        member=member,
        action=action,
        reason=reason,
        call_reference=call_reference,
        data=data or {},
    )


def phone_normalise(raw: str, *, field: str = "phone") -> str:
    """A UK (or international, with +) phone number as E.164 (circle's rule, one for all)."""
    return phone_e164(raw, field=field)


def _email_taken() -> InvalidInput:
    return InvalidInput(
        "email_taken", "That email address is already in use; sign in instead.", field="email"
    )


def _email_has_login() -> InvalidInput:
    return InvalidInput(
        "email_has_login",
        "There is already a login with this email; sign in with it, then join this circle too.",
        field="email",
    )


def email_check_free(*, email: str, circle: Circle | None = None, joining: bool = False) -> str:
    """`email`, normalised, once no login and no member of `circle` has it.

    `joining`: a person joining or signing up for themselves. Logins are installation-wide, so
    an email that already signs in is someone who can sign in and then join this circle too:
    the answer (`email_has_login`) asks for that, in the same words whoever holds the login
    (a member, a helper or staff, of this circle or another, or of none), so it tells nothing
    more about them. Staff registering a caller hear `email_taken`, as before."""
    email = email.strip().lower()
    if User.objects.filter(email__iexact=email).exists():
        raise _email_has_login() if joining else _email_taken()
    if circle is not None and Member.objects.filter(circle=circle, email__iexact=email).exists():
        # A member here, joined by phone, gave it as their contact email: no login to sign in to.
        raise _email_taken()
    return email


def password_check(*, password: str, email: str, full_name: str) -> None:
    try:
        password_validation.validate_password(password, User(email=email, full_name=full_name))
    except ValidationError as exc:
        raise InvalidInput("password_too_weak", " ".join(exc.messages), field="password") from None


def age_on(*, born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _check_age(*, circle: Circle, born: date) -> None:
    # Ages are counted on today's date in London, where every circle is.
    today = timezone.localdate()
    if born > today:
        raise InvalidInput(
            "date_of_birth_invalid", "The date of birth is in the future.", field="date_of_birth"
        )
    age = age_on(born=born, today=today)
    if age > 120:
        raise InvalidInput(
            "date_of_birth_invalid", "Please check the date of birth.", field="date_of_birth"
        )
    if age < circle.min_age:
        raise InvalidInput(
            "too_young",
            f"Members of {circle.name} are {circle.min_age} or over.",
            field="date_of_birth",
        )


def _coords(point: Point) -> tuple[Decimal, Decimal]:
    return Decimal(str(round(point.latitude, 5))), Decimal(str(round(point.longitude, 5)))


def role_grant(*, member: Member, role: str) -> bool:
    """Give `member` a role; True if it is new."""
    _, created = Role.objects.get_or_create(circle=member.circle, member=member, role=role)
    return created


class AlreadyMember(Conflict):
    """A login already has a member record in the circle (two requests for one person at once;
    the unique (circle, user) index caught the second)."""

    def __init__(self, detail: str = "You are already a member of this circle.") -> None:
        super().__init__("already_member", detail)


def member_create(
    *,
    circle: Circle,
    joined_via: str,
    full_name: str,
    phone: str,
    postcode: str,
    latitude: Decimal,
    longitude: Decimal,
    user: User | None = None,
    email: str | None = None,
    password: str | None = None,
    password_hash: str | None = None,
    address_line1: str = "",
    date_of_birth: date | None = None,
    joining: bool = False,
) -> Member:
    """A member record in `circle`: on a new login when `email` and `password` (or its
    `password_hash`, from make_password) are given, else
    on `user` (a signed-in person), else with no login (a caller registered by phone).

    The caller has checked the details (`email_check_free`, `password_check`) and holds the
    transaction; this makes the rows in a savepoint, and turns a race the checks could not see
    into the answer the check would have given: a login made meanwhile with the same email is
    `email_has_login` for a person `joining` for themselves (`email_taken` for staff); a member
    record made meanwhile for the same `user` is AlreadyMember.
    """
    try:
        with transaction.atomic():
            if email and (password or password_hash):
                user = User.objects.create_user(
                    email, password, password_hash=password_hash or "", full_name=full_name
                )
            return Member.objects.create(
                circle=circle,
                user=user,
                email=email or (user.email if user else None),
                joined_via=joined_via,
                full_name=full_name,
                phone=phone,
                date_of_birth=date_of_birth,
                address_line1=address_line1,
                postcode=postcode,
                latitude=latitude,
                longitude=longitude,
            )
    except IntegrityError:
        if user is not None and not (email and (password or password_hash)):
            raise AlreadyMember() from None
        # Two sign-ups with one email raced past the check; the unique index caught it.
        raise (_email_has_login() if joining else _email_taken()) from None


def member_join(
    *,
    circle: Circle,
    caller: Caller,
    full_name: str,
    phone: str,
    date_of_birth: date,
    address_line1: str,
    postcode: str,
    email: str | None = None,
    password: str | None = None,
    password_hash: str | None = None,
    reason: str = "",
    call_reference: str = "",
) -> Member:
    """Join a circle as a member who asks for help.

    `password_hash` (from make_password) stands in for `password` when a page checked the
    password (`password_check`) on an earlier step and kept only its hash.

    Three ways in: a visitor signing up online (email and password make their login); a signed-in
    person joining for themselves (a helper who now wants help too); or staff registering a
    caller on the phone, who may have no email and no password. Staff must give a reason or a
    call reference, which the audit row keeps.
    """
    by_staff = caller.is_staff
    for_self = caller.user is not None and not by_staff
    if for_self and caller.user is not None:
        # Signed in but not staff of this circle (a helper, or another circle's staff): they can
        # join only as themselves. A reason, a call reference or another person's email means
        # they meant to register someone else, which would put that person's details on their
        # own login; refuse rather than guess.
        other_email = (
            bool(email) and (email or "").strip().lower() != (caller.user.email or "").lower()
        )
        if reason.strip() or call_reference.strip() or other_email:
            raise Forbidden(
                "forbidden",
                "Only this circle's staff can register someone else; signed in, you can join "
                "only as yourself.",
            )
    full_name = full_name.strip()
    if not full_name:
        raise InvalidInput("blank", "Please give the member's full name.", field="full_name")
    if not address_line1.strip():
        raise InvalidInput(
            "blank", "Please give the first line of the address.", field="address_line1"
        )
    phone = phone_normalise(phone)
    _check_age(circle=circle, born=date_of_birth)
    postcode, point = postcode_resolve_in_area(circle=circle, raw=postcode)
    latitude, longitude = _coords(point)

    if by_staff and not (reason.strip() or call_reference.strip()):
        raise InvalidInput(
            "reason_required",
            "Staff registering a member give a reason or the call reference.",
            field="reason",
        )
    if not by_staff and not for_self and not (email and (password or password_hash)):
        missing = "email" if not email else "password"
        raise InvalidInput(
            "required", f"{missing}: To join online, give an email and a password.", field=missing
        )
    if for_self:
        # A signed-in person joins as themselves; their login already has an email.
        email, password, password_hash = None, None, None
    if email:
        email = email_check_free(email=email, circle=circle, joining=not by_staff)
    if password:
        password_check(password=password, email=email or "", full_name=full_name)
    if (password or password_hash) and not email:
        raise InvalidInput(
            "required", "email: A password needs an email to sign in with.", field="email"
        )

    details = {
        "full_name": full_name,
        "phone": phone,
        "date_of_birth": date_of_birth,
        "address_line1": address_line1.strip(),
        "postcode": postcode,
        "latitude": latitude,
        "longitude": longitude,
    }
    try:
        with transaction.atomic():
            if for_self and caller.member is not None:
                # Locked so that two joins at once (a double tap) give one role and a 409.
                member = Member.objects.select_for_update().get(pk=caller.member.pk)
                if member.roles.filter(role=RoleName.MEMBER).exists():
                    raise Conflict("already_member", "You are already a member of this circle.")
                for name, value in details.items():
                    setattr(member, name, value)
                member.save(update_fields=[*details])
            else:
                member = member_create(
                    circle=circle,
                    user=caller.user if for_self else None,
                    email=email,
                    password=password,
                    password_hash=password_hash,
                    joined_via=JoinedVia.PHONE if by_staff else JoinedVia.ONLINE,
                    full_name=full_name,
                    phone=phone,
                    date_of_birth=date_of_birth,
                    address_line1=address_line1.strip(),
                    postcode=postcode,
                    latitude=latitude,
                    longitude=longitude,
                    joining=not by_staff,
                )
            role_grant(member=member, role=RoleName.MEMBER)
            audit_record(
                circle=circle,
                action="member.registered_by_staff" if by_staff else "member.joined",
                # Someone joining online acts for themselves, through the login just made.
                caller=caller
                if by_staff or for_self
                else Caller(user=member.user, member=member, roles=frozenset()),
                member=member,
                reason=reason.strip(),
                call_reference=call_reference.strip(),
                data={"postcode": postcode, "with_login": member.user_id is not None},
            )
    except IntegrityError:
        if for_self:
            # The same person joined twice at once; the unique (circle, user) index caught it.
            raise Conflict("already_member", "You are already a member of this circle.") from None
        # Two sign-ups with one email raced past the check above; the unique index caught it.
        raise (_email_taken() if by_staff else _email_has_login()) from None
    return member


def staff_grant(
    *,
    circle: Circle,
    email: str,
    role: str,
    password: str | None = None,
    full_name: str = "",
    phone: str = "",
) -> Member:
    """Make someone an operator or coordinator of a circle (the `createstaff` command).

    Creates their login if they have none, and their member record in the circle if they have
    none there; a person may hold several roles.
    """
    if role not in (RoleName.OPERATOR, RoleName.COORDINATOR):
        raise InvalidInput("invalid_choice", "Staff are operators or coordinators.", field="role")
    email = email.strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidInput(
            "email_invalid", f"{email!r} is not an email address.", field="email"
        ) from None
    with transaction.atomic():
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            if not password:
                raise InvalidInput(
                    "required", "A new staff login needs a password.", field="password"
                )
            password_check(password=password, email=email, full_name=full_name)
            user = User.objects.create_user(email, password, full_name=full_name)
        elif password:
            user.set_password(password)
            user.save(update_fields=["password"])
        member = Member.objects.filter(circle=circle, user=user).first()
        if member is None:
            member = Member.objects.create(
                circle=circle,
                user=user,
                full_name=full_name or user.full_name or email.split("@")[0],
                email=email,
                phone=phone_normalise(phone) if phone else "",
                joined_via=JoinedVia.STAFF,
            )
        if role_grant(member=member, role=role):
            audit_record(
                circle=circle, action="staff.role_granted", member=member, data={"role": role}
            )
    return member


# --- Checking one answer at a time, and changing contact details --------------------------------
# (The pages ask one question a page and check each answer as it is given, with the rules above.)


def member_age_check(*, circle: Circle, born: date) -> None:
    """The age rule `member_join` applies, on its own: a page asking for the date of birth tells
    someone too young at once, rather than at the end. Raises InvalidInput (too_young or
    date_of_birth_invalid, on the date_of_birth field)."""
    _check_age(circle=circle, born=born)


def member_details_update(
    *,
    member: Member,
    caller: Caller,
    full_name: str | None = None,
    address_line1: str | None = None,
    postcode: str | None = None,
    phone: str | None = None,
    email: str | None = None,
    reason: str = "",
    call_reference: str = "",
) -> Member:
    """Change a member's contact details: only the ones given (None leaves one as it is), with
    the rules of joining (a postcode in the circle's area, placed again on the map; a phone
    number we can call; an email nobody else uses). A member with a login signs in with their
    email or mobile number, so the login's changes with it. The audit row names the fields
    changed, never their values (the log is read more widely than the record).

    The member changes their own; staff of the member's circle change anyone's, giving a reason
    or the call reference, as when they register someone.
    """
    own = caller.member is not None and caller.member.pk == member.pk
    by_staff = (
        not own
        and caller.is_staff
        and caller.member is not None
        and caller.member.circle_id == member.circle_id
    )
    if not own and not by_staff:
        raise Forbidden("forbidden", "You may not change this member's details.")
    if by_staff and not (reason.strip() or call_reference.strip()):
        raise InvalidInput(
            "reason_required",
            "Staff changing a member's details give a reason or the call reference.",
            field="reason",
        )

    changes: dict[str, Any] = {}
    if full_name is not None:
        full_name = full_name.strip()
        if not full_name:
            raise InvalidInput("blank", "Please give the member's full name.", field="full_name")
        changes["full_name"] = full_name
    if address_line1 is not None:
        address_line1 = address_line1.strip()
        if not address_line1:
            raise InvalidInput(
                "blank", "Please give the first line of the address.", field="address_line1"
            )
        changes["address_line1"] = address_line1
    if postcode is not None:
        normalised, point = postcode_resolve_in_area(circle=member.circle, raw=postcode)
        changes["postcode"] = normalised
        changes["latitude"], changes["longitude"] = _coords(point)
    if phone is not None:
        changes["phone"] = phone_normalise(phone)
    new_email: str | None = None
    if email is not None:
        # NULL, not "", is "no email" (the per-circle unique index ignores NULLs).
        new_email = email.strip().lower() or None
        if new_email != (member.email.lower() if member.email else None):
            if new_email is None:
                login = member.user if member.user_id is not None else None
                if login is not None and not login.phone:
                    raise InvalidInput(
                        "required",
                        "email: A member who signs in needs an email address (or a mobile "
                        "number to sign in with).",
                        field="email",
                    )
            else:
                try:
                    validate_email(new_email)
                except ValidationError:
                    raise InvalidInput(
                        "email_invalid", f"{new_email!r} is not an email address.", field="email"
                    ) from None
                # The rule of joining: free among logins and among this circle's members. The
                # member's own old address is theirs, and is not asked about.
                email_check_free(email=new_email, circle=member.circle)
            changes["email"] = new_email

    try:
        with transaction.atomic():
            # Locked so that two changes at once apply one after the other, each seeing the
            # other's result, rather than the second writing back what the first replaced.
            locked = Member.objects.select_for_update().get(pk=member.pk)
            changed = [
                name
                for name, value in changes.items()
                if name not in ("latitude", "longitude") and getattr(locked, name) != value
            ]
            if not changed:
                return locked
            fields = [*changed]
            if "postcode" in changed:
                fields += ["latitude", "longitude"]
            old_phone = locked.phone
            for name in fields:
                setattr(locked, name, changes[name])
            locked.save(update_fields=fields)
            if "email" in changed and locked.user_id is not None:
                User.objects.filter(pk=locked.user_id).update(email=new_email)
            if "phone" in changed and locked.user_id is not None:
                # A login that signs in with the old number signs in with the new one.
                User.objects.filter(pk=locked.user_id, phone=old_phone).update(phone=locked.phone)
            audit_record(
                circle=member.circle,
                action="member.details_changed",
                caller=caller,
                member=locked,
                reason=reason.strip(),
                call_reference=call_reference.strip(),
                data={"fields": changed},
            )
    except IntegrityError:
        # Another member or login took the address between the check above and the write; the
        # unique indexes caught it.
        raise InvalidInput(
            "email_taken", "That email address is already in use; sign in instead.", field="email"
        ) from None
    return locked


def member_data_export(*, caller: Caller, member: Member, how: str = "json") -> dict[str, Any]:
    """Everything held about `member` (members.export), for them or their circle's staff, with
    the reading recorded: who took a copy of whose data, and when (UK GDPR right of access).
    `how` says in what form the copy was taken ("json" through the API, "page" read on the
    screen, "file" downloaded from the page). The caller's access is the view's to check
    (member_access, or the page's own)."""
    body = member_export(member=member)
    audit_record(
        circle=member.circle,
        action="data.exported",
        caller=caller,
        member=member,
        data={"how": how, "sections": sorted(body)},
    )
    return body
