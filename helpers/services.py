"""Writes for helpers: signing up, vetting and suspension."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from attention.models import ItemKind
from attention.services import item_raise, items_close
from circle.errors import Conflict, Forbidden, InvalidInput
from circle.models import Category, Circle, VettingLevel
from circle.selectors import postcode_resolve_in_area
from helpers.models import AvailabilitySlot, DbsLevel, Helper, HelperSkill, VettingCheck
from members.models import JoinedVia, RoleName
from members.selectors import Caller
from members.services import (
    AlreadyMember,
    audit_record,
    email_check_free,
    member_create,
    password_check,
    phone_normalise,
    role_grant,
)

MAX_TRAVEL_RADIUS_KM = Decimal("50")


@dataclass(frozen=True)
class Availability:
    weekday: int
    start: time
    end: time


def helper_skills_resolve(*, circle: Circle, skills: list[str]) -> list[Category]:
    if not skills:
        raise InvalidInput(
            "required", "Choose at least one kind of help you can give.", field="skills"
        )
    categories = {c.slug: c for c in Category.objects.filter(circle=circle, slug__in=skills)}
    unknown = [slug for slug in skills if slug not in categories]
    if unknown:
        raise InvalidInput(
            "unknown_category",
            f"{circle.name} has no category {unknown[0]!r}.",
            field="skills",
        )
    return [categories[slug] for slug in dict.fromkeys(skills)]


def helper_availability_check(availability: list[Availability]) -> None:
    # Field paths are written as the API's validation errors write them ("availability.0.end").
    for index, slot in enumerate(availability):
        if not 0 <= slot.weekday <= 6:
            raise InvalidInput(
                "invalid",
                "weekday runs from 0 (Monday) to 6 (Sunday).",
                field=f"availability.{index}.weekday",
            )
        if slot.start >= slot.end:
            raise InvalidInput(
                "invalid",
                "Each window must end after it starts.",
                field=f"availability.{index}.end",
            )


def _availability_merge(availability: list[Availability]) -> list[Availability]:
    """The same weekly time as the fewest windows, in week order.

    Matching asks whether a task's window fits inside one of the helper's windows, so Monday
    09:00-12:00 plus 11:00-14:00 (or plus 12:00-14:00) must be stored as 09:00-14:00, or a
    10:00-13:00 task would wrongly not fit; repeated windows are stored once.
    """
    merged: list[Availability] = []
    for slot in sorted(availability, key=lambda s: (s.weekday, s.start, s.end)):
        last = merged[-1] if merged else None
        if last is not None and last.weekday == slot.weekday and slot.start <= last.end:
            merged[-1] = Availability(last.weekday, last.start, max(last.end, slot.end))
        else:
            merged.append(slot)
    return merged


def helper_radius_check(travel_radius_km: Decimal) -> None:
    if not Decimal("0") < travel_radius_km <= MAX_TRAVEL_RADIUS_KM:
        raise InvalidInput(
            "invalid",
            f"The travel radius must be more than 0 and at most {MAX_TRAVEL_RADIUS_KM} km.",
            field="travel_radius_km",
        )


def helper_signup(
    *,
    circle: Circle,
    caller: Caller,
    kind: str,
    skills: list[str],
    travel_radius_km: Decimal,
    availability: list[Availability],
    full_name: str = "",
    email: str | None = None,
    password: str | None = None,
    password_hash: str | None = None,
    phone: str = "",
    postcode: str = "",
) -> Helper:
    """Sign up as a helper: a new person (with a login) or a signed-in person adding a helper
    profile to their member record in this circle (made if they have none here yet).

    `password_hash` (from make_password) stands in for `password` when a page checked the
    password (`password_check`) on an earlier step and kept only its hash."""
    helper_radius_check(travel_radius_km)
    helper_availability_check(availability)
    availability = _availability_merge(availability)
    categories = helper_skills_resolve(circle=circle, skills=skills)

    existing = caller.member
    if existing is not None and Helper.objects.filter(member=existing).exists():
        raise Conflict("already_helper", "You are already a helper in this circle.")
    if caller.user is None:
        for name, value in (
            ("full_name", full_name),
            ("email", email),
            ("password", password or password_hash),
            ("phone", phone),
            ("postcode", postcode),
        ):
            if not (value or "").strip():
                raise InvalidInput("required", f"{name}: This field is required.", field=name)
        email = email_check_free(email=email or "", circle=circle, joining=True)
        if password:
            password_check(password=password, email=email, full_name=full_name)

    # Where the helper travels from: the postcode given, else their home's; it must be in the area.
    known_postcode = postcode or (existing.postcode if existing else "")
    if not known_postcode.strip():
        raise InvalidInput("required", "postcode: This field is required.", field="postcode")
    norm_postcode, point = postcode_resolve_in_area(circle=circle, raw=known_postcode)
    phone_e164 = phone_normalise(phone) if phone.strip() else (existing.phone if existing else "")
    if not phone_e164:
        raise InvalidInput("required", "phone: This field is required.", field="phone")
    latitude = Decimal(str(round(point.latitude, 5)))
    longitude = Decimal(str(round(point.longitude, 5)))

    try:
        with transaction.atomic():
            if existing is not None:
                member = existing
                if not member.phone:
                    member.phone = phone_e164
                    member.save(update_fields=["phone"])
            else:
                known = caller.user
                member = member_create(
                    circle=circle,
                    user=known,
                    email=None if known else email,
                    password=None if known else password,
                    password_hash=None if known else password_hash,
                    full_name=full_name.strip()
                    or (known.full_name or (known.email or "").split("@")[0] if known else ""),
                    phone=phone_e164,
                    postcode=norm_postcode,
                    latitude=latitude,
                    longitude=longitude,
                    joined_via=JoinedVia.HELPER_SIGNUP,
                    joining=True,
                )
            helper = Helper.objects.create(
                circle=circle,
                member=member,
                kind=kind,
                postcode=norm_postcode,
                latitude=latitude,
                longitude=longitude,
                travel_radius_km=travel_radius_km,
            )
            HelperSkill.objects.bulk_create(
                HelperSkill(circle=circle, helper=helper, category=c) for c in categories
            )
            AvailabilitySlot.objects.bulk_create(
                AvailabilitySlot(
                    circle=circle, helper=helper, weekday=s.weekday, start=s.start, end=s.end
                )
                for s in availability
            )
            role_grant(member=member, role=RoleName.HELPER)
            audit_record(
                circle=circle,
                action="helper.signed_up",
                caller=Caller(user=member.user, member=member, roles=caller.roles),
                member=member,
                data={"kind": kind, "skills": [c.slug for c in categories]},
            )
    except (AlreadyMember, IntegrityError):
        # A concurrent request for the same signed-in person won a race past the checks above:
        # the constraints held on their one member record (members' service says so) or their
        # one profile per circle. (A new person's email taken meanwhile is answered by
        # member_create as when the check catches it.)
        raise Conflict("already_helper", "That person is already signed up.") from None
    return helper


def _not_own_vetting(*, helper: Helper, caller: Caller) -> None:
    # Vetting is a second pair of eyes: a coordinator who also helps is vetted, suspended and
    # reinstated by another coordinator, never by themselves.
    if caller.user is not None and helper.member.user_id == caller.user.pk:
        raise Forbidden(
            "own_vetting", "Another coordinator must record your own vetting or suspension."
        )


# ASCII digits only: `\d` would also take Arabic-Indic or full-width digits, which no DBS
# certificate carries.
_DBS_CERTIFICATE = re.compile(r"[0-9]{12}")


def vetting_level_for(*, identity_checked: bool, references_checked: bool, dbs_level: str) -> str:
    """The level a helper's checks earn: their DBS level, but only once identity and references
    are both checked; with either missing, `none` whatever the DBS says."""
    if not (identity_checked and references_checked):
        return VettingLevel.NONE
    return {
        DbsLevel.NONE: VettingLevel.NONE,
        DbsLevel.BASIC: VettingLevel.BASIC,
        DbsLevel.ENHANCED: VettingLevel.ENHANCED,
    }[DbsLevel(dbs_level)]


def helper_vetting_record(
    *,
    helper: Helper,
    caller: Caller,
    identity_checked: bool,
    references_checked: bool,
    dbs_level: str,
    dbs_certificate_number: str = "",
    dbs_issue_date: date | None = None,
    original_seen_by: str = "",
) -> Helper:
    """Record the checks a coordinator made and set the helper's vetting level from them.
    The certificate's contents are never stored: only that it was seen, its number and date."""
    if caller.user is None:
        raise Forbidden("forbidden", "Only a signed-in coordinator records vetting.")
    _not_own_vetting(helper=helper, caller=caller)
    number = re.sub(r"\s", "", dbs_certificate_number)
    if dbs_level != DbsLevel.NONE:
        if not _DBS_CERTIFICATE.fullmatch(number):
            raise InvalidInput(
                "invalid", "A DBS certificate number has 12 digits.", field="dbs_certificate_number"
            )
        if dbs_issue_date is None:
            raise InvalidInput(
                "required",
                "dbs_issue_date: Give the certificate's issue date.",
                field="dbs_issue_date",
            )
        if dbs_issue_date > timezone.localdate():
            raise InvalidInput(
                "invalid", "The issue date is in the future.", field="dbs_issue_date"
            )
        if not original_seen_by.strip():
            raise InvalidInput(
                "required", "original_seen_by: Say who saw the original.", field="original_seen_by"
            )
    level = vetting_level_for(
        identity_checked=identity_checked,
        references_checked=references_checked,
        dbs_level=dbs_level,
    )
    with transaction.atomic():
        # Lock the helper so two coordinators recording at once leave the level of the later
        # check, not a mix of both.
        locked = Helper.objects.select_for_update().get(pk=helper.pk)
        VettingCheck.objects.create(
            circle=locked.circle,
            helper=locked,
            identity_checked=identity_checked,
            references_checked=references_checked,
            dbs_level=dbs_level,
            dbs_certificate_number=number if dbs_level != DbsLevel.NONE else "",
            dbs_issue_date=dbs_issue_date if dbs_level != DbsLevel.NONE else None,
            # With no DBS there is no certificate, so nothing about one is kept.
            original_seen_by=original_seen_by.strip() if dbs_level != DbsLevel.NONE else "",
            resulting_level=level,
            recorded_by=caller.user,
        )
        previous = locked.vetting_level
        locked.vetting_level = level
        locked.save(update_fields=["vetting_level"])
        audit_record(
            circle=locked.circle,
            action="helper.vetted",
            caller=caller,
            member=locked.member,
            data={
                "identity_checked": identity_checked,
                "references_checked": references_checked,
                "dbs_level": dbs_level,
                "from": previous,
                "to": level,
            },
        )
        # Checks just recorded: whatever said the last ones were old needs nobody now.
        items_close(
            member=locked.member,
            kinds=[ItemKind.CHECKS_DUE],
            caller=caller,
            note="Closed by itself: new checks were recorded.",
        )
    return locked


# A DBS certificate older than this is due for renewal (the circle's policy: DESIGN.md).
CHECKS_RENEW_AFTER_YEARS = 3


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def checks_due_raise(*, today: date | None = None) -> int:
    """The periodic job: every helper (not suspended) whose latest checks carry a DBS
    certificate issued more than CHECKS_RENEW_AFTER_YEARS years ago goes on the
    coordinators' queue, once per check (the check is the cause: newer checks recorded later
    and grown old in turn raise again). Idempotent. How many were raised."""
    today = today or timezone.localdate()
    before = _years_before(today, CHECKS_RENEW_AFTER_YEARS)
    latest = VettingCheck.objects.filter(helper=OuterRef("pk")).order_by("-recorded_at", "-id")
    helpers = (
        Helper.objects.filter(suspended=False)
        .annotate(
            check_id=Subquery(latest.values("pk")[:1]),
            issued=Subquery(latest.values("dbs_issue_date")[:1]),
        )
        .filter(issued__lte=before)
        .select_related("member", "member__circle")
        .order_by("id")
    )
    raised = 0
    for helper in helpers:
        issued: date = helper.issued
        with transaction.atomic(durable=True):
            item = item_raise(
                member=helper.member,
                kind=ItemKind.CHECKS_DUE,
                cause=f"vetting_check:{helper.check_id}",
                note=(
                    f"{helper.member.full_name}'s DBS certificate was issued on "
                    f"{issued:%d %B %Y}, more than {CHECKS_RENEW_AFTER_YEARS} years ago. "
                    "Ask them for a new one and record the checks."
                ),
                audit_data={"helper_id": helper.pk},
            )
        raised += item is not None
    return raised


def helper_suspension_set(
    *, helper: Helper, caller: Caller, suspended: bool, reason: str
) -> Helper:
    """Suspend a helper (they see and take no tasks) or lift a suspension; both need a reason."""
    _not_own_vetting(helper=helper, caller=caller)
    if not reason.strip():
        raise InvalidInput("required", "reason: Say why.", field="reason")
    with transaction.atomic():
        locked = Helper.objects.select_for_update().get(pk=helper.pk)
        if locked.suspended == suspended:
            raise Conflict(
                "already_suspended" if suspended else "not_suspended",
                "The helper is already suspended." if suspended else "The helper is not suspended.",
            )
        locked.suspended = suspended
        locked.suspended_reason = reason.strip() if suspended else ""
        locked.save(update_fields=["suspended", "suspended_reason"])
        audit_record(
            circle=locked.circle,
            action="helper.suspended" if suspended else "helper.reinstated",
            caller=caller,
            member=locked.member,
            reason=reason.strip(),
        )
    return locked


def _own_profile(*, helper: Helper, caller: Caller) -> None:
    # A helper changes their own profile; a coordinator of the circle may do it for them (on
    # the phone, say). Nobody else, whatever other roles they hold.
    if caller.user is None:
        raise Forbidden("forbidden", "Sign in to change a helper's profile.")
    if helper.member.user_id != caller.user.pk and not caller.is_coordinator:
        raise Forbidden("forbidden", "Only the helper and the circle's coordinators can do this.")


def helper_profile_update(
    *,
    helper: Helper,
    caller: Caller,
    skills: list[str],
    travel_radius_km: Decimal,
    availability: list[Availability],
    postcode: str | None = None,
) -> Helper:
    """Replace what the helper can do, how far they go and when: the skills and weekly windows
    given become the whole of them (no windows: any time), by sign-up's own rules. `postcode`
    (where they travel from) changes only when given, within the circle's area."""
    _own_profile(helper=helper, caller=caller)
    helper_radius_check(travel_radius_km)
    helper_availability_check(availability)
    availability = _availability_merge(availability)
    categories = helper_skills_resolve(circle=helper.circle, skills=skills)
    place = (
        postcode_resolve_in_area(circle=helper.circle, raw=postcode)
        if postcode is not None
        else None
    )
    with transaction.atomic(durable=True):
        # Locked so that two saves at once (two tabs) leave one whole profile, not a mix.
        locked = (
            Helper.objects.select_for_update().select_related("circle", "member").get(pk=helper.pk)
        )
        before = {
            "skills": sorted(
                HelperSkill.objects.filter(helper=locked).values_list("category__slug", flat=True)
            ),
            "travel_radius_km": str(locked.travel_radius_km),
            "postcode": locked.postcode,
        }
        locked.travel_radius_km = travel_radius_km
        fields = ["travel_radius_km"]
        if place is not None:
            norm_postcode, point = place
            locked.postcode = norm_postcode
            locked.latitude = Decimal(str(round(point.latitude, 5)))
            locked.longitude = Decimal(str(round(point.longitude, 5)))
            fields += ["postcode", "latitude", "longitude"]
        locked.save(update_fields=fields)
        HelperSkill.objects.filter(helper=locked).delete()
        HelperSkill.objects.bulk_create(
            HelperSkill(circle=locked.circle, helper=locked, category=c) for c in categories
        )
        AvailabilitySlot.objects.filter(helper=locked).delete()
        AvailabilitySlot.objects.bulk_create(
            AvailabilitySlot(
                circle=locked.circle, helper=locked, weekday=s.weekday, start=s.start, end=s.end
            )
            for s in availability
        )
        audit_record(
            circle=locked.circle,
            action="helper.profile_updated",
            caller=caller,
            member=locked.member,
            data={
                "from": before,
                "to": {
                    "skills": sorted(c.slug for c in categories),
                    "travel_radius_km": str(travel_radius_km),
                    "postcode": locked.postcode,
                    "availability": [
                        f"{s.weekday} {s.start:%H:%M}-{s.end:%H:%M}" for s in availability
                    ],
                },
            },
        )
    return locked


def helper_pause_set(*, helper: Helper, caller: Caller, paused: bool) -> Helper:
    """The helper stops taking tasks for now (`paused`), or starts again. Asking for the state
    they are already in changes nothing and writes nothing (a double tap is harmless)."""
    _own_profile(helper=helper, caller=caller)
    with transaction.atomic(durable=True):
        locked = (
            Helper.objects.select_for_update().select_related("circle", "member").get(pk=helper.pk)
        )
        if locked.paused == paused:
            return locked
        locked.paused = paused
        locked.paused_at = timezone.now() if paused else None
        locked.save(update_fields=["paused", "paused_at"])
        audit_record(
            circle=locked.circle,
            action="helper.paused" if paused else "helper.resumed",
            caller=caller,
            member=locked.member,
        )
    return locked
