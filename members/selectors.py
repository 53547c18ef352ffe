"""Reads, and the access helpers every view uses to fetch objects scoped to the caller's circle.

Scoping rule: an object in a circle where the caller has no member record is "not found" (404),
so nobody can learn what another circle holds; an object in the caller's own circle that their
roles do not reach is "forbidden" (403).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NamedTuple

from django.db import connection
from django.db.models import (
    BigIntegerField,
    CharField,
    Count,
    DateField,
    Exists,
    F,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Window,
)
from django.db.models.expressions import RawSQL
from django.db.models.fields.json import KT
from django.db.models.functions import TruncMonth
from django.utils.timezone import is_aware, make_aware

from circle.errors import Forbidden, InvalidInput, NotFound, NotSignedIn
from circle.models import Circle
from circle.periods import ReportPeriod, local_date
from circle.postcodes import InvalidPostcode, normalise_postcode
from circle.selectors import circle_by_id
from circle.sql import names_a_row
from members.export import safeguarding_audit_rows
from members.models import (
    STAFF_ROLES,
    AuditEvent,
    Member,
    MembershipStatus,
    Role,
    RoleName,
    TrustedPerson,
    TrustedScope,
    User,
)


@dataclass(frozen=True)
class Caller:
    """Who is calling, as seen from one circle."""

    user: User | None
    member: Member | None
    roles: frozenset[str]
    # A trusted person acting for a member (members.models.TrustedPerson): the member they act
    # for and what the member lets them do. They have no member record for it, so `member` is
    # None and their audit rows name only their login as the actor.
    trusted_for: Member | None = None
    scopes: frozenset[str] = frozenset()

    @property
    def is_staff(self) -> bool:
        return bool(self.roles & STAFF_ROLES)

    @property
    def is_trusted(self) -> bool:
        return self.trusted_for is not None

    @property
    def is_coordinator(self) -> bool:
        return RoleName.COORDINATOR in self.roles


def _user_or_none(user: Any) -> User | None:
    return user if isinstance(user, User) and user.is_authenticated else None


# A member's role names joined with commas (no role name holds one), as a correlated subquery:
# STRING_AGG on PostgreSQL, GROUP_CONCAT on SQLite. SQL rather than a Subquery of an aggregate:
# the caller's record and roles are read on every request, and Django took 0.4 ms of CPU to build
# that Subquery each time, longer than the database took to answer it. `{m}` is the members
# table's name in the query: `members_member`, as Django names a model's own table (these
# annotate only top-level querysets of members, never one used inside another query), or `m`
# in the statements of `_member_rows` and `MemberSearchRows`.
_ROLE_NAMES_SQL = {
    "postgresql": "SELECT STRING_AGG(r.role, ',') FROM members_role r WHERE r.member_id = {m}.id",
    "sqlite": "SELECT GROUP_CONCAT(r.role) FROM members_role r WHERE r.member_id = {m}.id",
}
# The last day of the member's last paid year (`member_paid_until`), the same way. The periods
# are the payments app's, read (never written) here.
_LAST_PAID_SQL = 'SELECT MAX(p."end") FROM payments_membershipperiod p WHERE p.member_id = {m}.id'


# A member's helper profile's id, the same way; the profiles are the helpers app's, read here.
_HELPER_ID_SQL = "SELECT h.id FROM helpers_helper h WHERE h.member_id = {m}.id"


def _with_roles(members: QuerySet[Member]) -> QuerySet[Member]:
    """The members with their role names (`role_names`) read in the same statement: the
    caller's record and roles are read on every request, and were two statements."""
    names = _ROLE_NAMES_SQL[connection.vendor].format(m="members_member")
    roles = RawSQL(names, (), output_field=CharField())  # noqa: S611
    return members.annotate(role_names=roles)


# The member records every request reads (the caller's own in a circle; a member named by id),
# each with its role names, as RawQuerySets: the same rows and model instances as the ORM's
# queryset, without its building of the statement, which cost ten times the database's answer
# (0.45 ms of CPU against 0.1 for the caller's record).
# Each comes with its helper profile's id (`helper_pk`, None for a member who does not help), so
# that what a member who is no helper does reads no profile.
_MEMBER_WITH_ROLES_SQL = (
    "SELECT m.*, ({roles}) AS role_names, ({helper}) AS helper_pk"
    " FROM members_member m WHERE {where}"
)


def _member_rows(where: str, params: list[Any]) -> list[Member]:
    roles = _ROLE_NAMES_SQL[connection.vendor].format(m="m")
    helper = _HELPER_ID_SQL.format(m="m")
    sql = _MEMBER_WITH_ROLES_SQL.format(roles=roles, helper=helper, where=where)
    return list(Member.objects.raw(sql, params))


def _member_row(where: str, params: list[Any]) -> Member | None:
    found = _member_rows(f"{where} LIMIT 1", params)
    return found[0] if found else None


def caller_for(*, user: Any, circle: Circle) -> Caller:
    account = _user_or_none(user)
    if account is None:
        return Caller(user=None, member=None, roles=frozenset())
    member = _member_row("m.circle_id = %s AND m.user_id = %s", [circle.pk, account.pk])
    if member is None:
        return Caller(user=account, member=None, roles=frozenset())
    member.circle, member.user = circle, account  # the rows already in hand, not read again
    return Caller(user=account, member=member, roles=_roles_of(member))


def caller_at(*, user: Any, slug: str) -> Caller | None:
    """The caller as seen from the circle with this slug, with their member record, its circle
    and their roles read in one statement; None when they have no record there (or the circle
    does not exist). Pages that name the circle in their address start here: one query where a
    circle's lookup and `caller_for` were two."""
    account = _user_or_none(user)
    if account is None:
        return None
    member = _with_roles(
        Member.objects.select_related("circle").filter(circle__slug=slug, user=account)
    ).first()
    if member is None:
        return None
    return Caller(user=account, member=member, roles=_roles_of(member))


def _roles_of(member: Member) -> frozenset[str]:
    if hasattr(member, "role_names"):  # read with the member by `_with_roles`
        names: str | None = member.role_names
        return frozenset(names.split(",")) if names else frozenset()
    return frozenset(Role.objects.filter(member=member).values_list("role", flat=True))


def _caller_as(account: User, member: Member) -> Caller:
    """The caller who is `member` themselves: the record already read is theirs (one member
    per circle and user), so only their roles are read (or, read with it by `_with_roles`,
    not at all), not the member again."""
    return Caller(user=account, member=member, roles=_roles_of(member))


def coordinator_access(*, user: Any, circle: Circle, what: str = "this") -> Caller:
    """The caller, if they coordinate `circle`; otherwise 403 (the circle itself is public)."""
    caller = caller_for(user=user, circle=circle)
    if not caller.is_coordinator:
        raise Forbidden("forbidden", f"Only the circle's coordinators can see {what}.")
    return caller


def _trusted_link(*, user: User, member: Member) -> TrustedPerson | None:
    return TrustedPerson.objects.filter(member=member, user=user, ended_at__isnull=True).first()


def trusted_caller(*, user: User, link: TrustedPerson) -> Caller:
    """The caller who is `link`'s trusted person acting for its member."""
    return Caller(
        user=user,
        member=None,
        roles=frozenset(),
        trusted_for=link.member,
        scopes=frozenset(link.scopes),
    )


# What an act needs of a trusted person: one scope, any of several, or None (never theirs).
Scope = str | tuple[str, ...] | None


def trusted_scope_refuse(*, caller: Caller, scope: Scope) -> None:
    """Refuse (403) a trusted person's act outside what the member let them do: with `scope`
    None the act is one no trusted person may ever do (`trusted_person_not_allowed`: their
    details, their data, who the trusted persons are); else one the member did not give
    (`scope_not_given`). A tuple is any of its scopes."""
    if not caller.is_trusted:
        return
    if scope is None:
        raise Forbidden(
            "trusted_person_not_allowed",
            "A trusted person cannot do this for a member; only the member or staff can.",
        )
    wanted = (scope,) if isinstance(scope, str) else scope
    if not caller.scopes & set(wanted):
        raise Forbidden(
            "scope_not_given",
            f"The member has not asked you to do this for them ({' or '.join(wanted)}).",
        )


def member_access(
    *,
    user: Any,
    member_id: int,
    roles: Iterable[str] = STAFF_ROLES,
    allow_self: bool = True,
    scope: Scope = None,
) -> tuple[Member, Caller]:
    """The member with this id, if the caller is that member or holds one of `roles` in its
    circle, or is a trusted person the member gave `scope` (None: no trusted person may).

    Every endpoint names the scope it needs, so what a trusted person may do is written where
    each act is: anything without one stays the member's and staff's alone (403)."""
    account = _user_or_none(user)
    if account is None:
        raise NotFound("No such member.", code="member_not_found")
    # The member by id alone, then whether the caller may see them: a plain statement where one
    # that also asked "in one of the caller's circles, or trusting them" cost more to build
    # than the answer saved (read on every member endpoint).
    member = _member_row("m.id = %s", [member_id]) if names_a_row(member_id) else None
    if member is None:
        raise NotFound("No such member.", code="member_not_found")
    member.circle = circle_by_id(member.circle_id)
    if member.user_id == account.pk:
        member.user = account
        caller = _caller_as(account, member)
        if allow_self:
            return member, caller
    else:
        caller = caller_for(user=account, circle=member.circle)
    if caller.roles & frozenset(roles):
        return member, caller
    link = _trusted_link(user=account, member=member)
    if link is not None:
        trusted = trusted_caller(user=account, link=link)
        trusted_scope_refuse(caller=trusted, scope=scope)
        return member, trusted
    if caller.member is None:
        # Another circle's member, whom the caller does not act for: as if there were none.
        raise NotFound("No such member.", code="member_not_found")
    raise Forbidden("forbidden", "You may not see or act for this member.")


def signed_in(user: Any) -> User:
    """The caller's account, or NotSignedIn (401). Views behind IsAuthenticated (or a page's
    login_required) have turned the anonymous away already; this also tells the type checker."""
    account = _user_or_none(user)
    if account is None:
        raise NotSignedIn()
    return account


def acting_member(
    *, user: Any, member_id: int | None, scope: Scope = None
) -> tuple[Member, Caller]:
    """Who the caller acts for, and as whom (DESIGN.md): staff (or a member for themselves)
    name the member with `member_id`; a member of one circle may leave it out and acts for
    themselves; a trusted person names the member too, and may act within `scope` (see
    `member_access`). Another circle's member is 404; one the caller may not act for, 403."""
    if member_id is not None:
        return member_access(user=user, member_id=member_id, scope=scope)
    account = signed_in(user)
    # At most two rows tell "exactly one circle" from "several".
    memberships = _member_rows("m.user_id = %s LIMIT 2", [account.pk])
    if len(memberships) != 1:
        raise InvalidInput(
            "member_id_required",
            "You belong to several circles (or none): name the member with member_id.",
            field="member_id",
        )
    (member,) = memberships
    member.circle, member.user = circle_by_id(member.circle_id), account
    return member, _caller_as(account, member)


def member_get(*, circle: Circle, member_id: int) -> Member:
    member = Member.objects.filter(circle=circle, pk=member_id).select_related("circle").first()
    if member is None:
        raise NotFound("No such member.", code="member_not_found")
    return member


def member_paid_until(member: Member) -> date | None:
    """The last day of the member's last paid year. Periods are written by payments, through
    the reverse relation, so this app needs no import of that one. A list of members reads it
    once for all of them (`member_search` annotates `last_paid_day`), not once a member."""
    if hasattr(member, "last_paid_day"):
        found: date | None = member.last_paid_day
        return found
    return member.membership_periods.aggregate(end=Max("end"))["end"]


def member_roles(member: Member) -> list[str]:
    order = list(RoleName.values)
    if hasattr(member, "role_names"):  # read with the member by `_with_roles`
        return sorted(_roles_of(member), key=order.index)
    return sorted((role.role for role in member.roles.all()), key=order.index)


def _with_paid_until(members: QuerySet[Member]) -> QuerySet[Member]:
    """The members with `last_paid_day` (see `member_paid_until`) read in the same statement,
    as a subquery rather than a join and GROUP BY, so that a count of the same members (a
    search's page count) reads no membership periods at all."""
    last_sql = _LAST_PAID_SQL.format(m="members_member")
    last = RawSQL(last_sql, (), output_field=DateField())  # noqa: S611
    return members.annotate(last_paid_day=last)


_PHONE_CHARS = re.compile(r"^[\d\s()+\-.]+$")


# What the console's list of callers shows of each (with `last_paid_day`), and no more.
SEARCH_LIST_FIELDS = ("id", "full_name", "phone", "postcode", "date_of_birth", "membership_status")


@dataclass(frozen=True)
class _SearchTerms:
    """What an operator's search asks for: members whose name holds every word, or whose phone
    holds `phone_digits`, or whose postcode is `postcode` or starts with `postcode_prefix`
    (each of the last three only when the text reads as one)."""

    words: tuple[str, ...]
    phone_digits: str = ""
    postcode: str = ""
    postcode_prefix: str = ""


def _search_terms(query: str) -> _SearchTerms | None:
    """The terms of a search's text (see `member_search`), or None when it is blank."""
    if "\x00" in query:
        # PostgreSQL refuses NUL inside a string parameter; say so rather than fail with a 500.
        raise InvalidInput("invalid", "The search may not contain NUL characters.", field="q")
    query = query.strip()
    if not query:
        return None
    words = query.split()
    phone_digits = postcode = postcode_prefix = ""

    if _PHONE_CHARS.match(query):
        digits = re.sub(r"\D", "", query)
        # Stored numbers are E.164 (+447700900123); a caller reads out 07700 900123 or
        # +44 7700 900123, so drop the trunk 0 or the country code and match the rest.
        if digits.startswith("44"):
            digits = digits[2:]
        digits = digits.lstrip("0")
        if len(digits) >= 4:
            phone_digits = digits

    compact = re.sub(r"\s", "", query).upper()
    outward = r"[A-Z]{1,2}\d[A-Z\d]?"
    try:
        postcode = normalise_postcode(compact)
    except InvalidPostcode:
        sector = " ".join(words).upper()
        # The sector is tried first: "SE1 2" squashed is "SE12", which is also a district, but
        # the space says the caller means sector 2 of SE1.
        if len(words) == 2 and re.fullmatch(rf"{outward} \d", sector):
            postcode_prefix = sector
        elif re.fullmatch(outward, compact):
            # An outward code alone ("SE1"): the trailing space keeps SE10 out.
            postcode_prefix = compact + " "
        elif partial := re.fullmatch(rf"({outward})(\d[A-Z])", compact):
            # A postcode typed as far as the inward code's first letter ("SE1 7P", or "SE17P"):
            # the inward code is a digit and two letters, so its digit is the last one typed.
            postcode_prefix = f"{partial[1]} {partial[2]}"
    return _SearchTerms(tuple(words), phone_digits, postcode, postcode_prefix)


def member_search(*, circle: Circle, query: str, listing: bool = False) -> QuerySet[Member]:
    """Find members of one circle by name, phone (any spacing) or postcode, as an operator
    types what a caller says: "Mary Smith", "020 7946 0018", "se1 7pb" or just "SE1".

    The members come with their roles and last paid day (the API's whole record); with
    `listing`, for the console's list as the operator types, only `SEARCH_LIST_FIELDS` and the
    last paid day are read, no roles (the list does not show them), and each member found comes
    with `matches`, how many were found in all: counted in the same statement (`COUNT(*) OVER
    ()`), not by a second scan of the circle's members for a list longer than its first page.
    PostgreSQL still reads the last paid day of the returned rows only (after the LIMIT).
    The API's list reads the same members with `MemberSearchRows`."""
    members = Member.objects.filter(circle=circle)
    members = (
        _with_paid_until(members.only(*SEARCH_LIST_FIELDS)).annotate(matches=Window(Count("id")))
        if listing
        else _with_paid_until(_with_roles(members))
    )
    terms = _search_terms(query)
    if terms is None:
        return members.order_by("full_name", "id")

    name_match = Q()
    for word in terms.words:
        name_match &= Q(full_name__icontains=word)
    condition = Q() | name_match
    if terms.phone_digits:
        condition |= Q(phone__contains=terms.phone_digits)
    if terms.postcode:
        condition |= Q(postcode=terms.postcode)
    if terms.postcode_prefix:
        condition |= Q(postcode__startswith=terms.postcode_prefix)
    return members.filter(condition).order_by("full_name", "id")


class SearchRow(NamedTuple):
    """One member found by `MemberSearchRows`: the API's record of them, as plain values."""

    id: int
    full_name: str
    email: str | None
    phone: str
    date_of_birth: date | None
    address_line1: str
    postcode: str
    has_login: bool
    joined_via: str
    created_at: datetime
    membership_status: str
    roles: list[str]
    paid_until: date | None
    helper_id: int | None


def _like(column: str, lookup: str) -> str:
    """`column` against a pattern parameter as the ORM writes the lookup on this database
    (UPPER(...::text) LIKE UPPER(%s) for icontains on PostgreSQL, LIKE %s ESCAPE '\\' on
    SQLite), so the plain SQL below matches exactly what `member_search`'s filter does."""
    cast = connection.ops.lookup_cast(lookup, "CharField") % column
    operators: dict[str, str] = connection.operators  # type: ignore[attr-defined]
    return f"{cast} {operators[lookup] % '%s'}"


class MemberSearchRows:
    """`member_search`'s members for the API's list (`member_search` with roles, last paid day
    and helper id), as a sliceable list that a paginator pages: `rows[offset:offset + limit]`
    reads one page in one statement and `count()` counts every member found.

    Written as plain SQL that SQLite and PostgreSQL both run, with the conditions built from
    the same `_search_terms` and each written as the ORM's own lookup on this database
    (`_like`): building the ORM's statement and a model instance, a circle and a helper for
    each row cost more than the search itself. Roles, last paid day and helper id are
    subqueries in the select list, which PostgreSQL evaluates for the page's rows only."""

    def __init__(self, *, circle: Circle, query: str) -> None:
        terms = _search_terms(query)
        self._where, self._params = "m.circle_id = %s", [circle.pk]
        if terms is None:
            return
        prep = connection.ops.prep_for_like_query
        name = " AND ".join(_like("m.full_name", "icontains") for _ in terms.words)
        either = [f"({name})"]
        params: list[Any] = [f"%{prep(word)}%" for word in terms.words]
        if terms.phone_digits:
            either.append(_like("m.phone", "contains"))
            params.append(f"%{prep(terms.phone_digits)}%")
        if terms.postcode:
            either.append("m.postcode = %s")
            params.append(terms.postcode)
        if terms.postcode_prefix:
            either.append(_like("m.postcode", "startswith"))
            params.append(f"{prep(terms.postcode_prefix)}%")
        self._where += f" AND ({' OR '.join(either)})"
        self._params += params

    def count(self) -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT COUNT(*) FROM {Member._meta.db_table} m WHERE {self._where}",  # noqa: S608
                self._params,
            )
            (found,) = cursor.fetchone()
        return int(found)

    def __getitem__(self, window: slice) -> list[SearchRow]:
        offset, stop = window.start or 0, window.stop
        columns = (
            "m.id, m.full_name, m.email, m.phone, m.date_of_birth, m.address_line1, m.postcode,"
            " m.user_id, m.joined_via, m.created_at, m.membership_status"
        )
        # The page is chosen first, in a subquery, and its roles, last paid day and helper
        # read for its rows only: PostgreSQL otherwise read the last paid day of every member
        # found (and sorted them whole) when the periods table looked cheap to it, twice the
        # time for a search that finds a whole sector.
        sql = (
            f"SELECT {columns},"  # noqa: S608
            f" ({_ROLE_NAMES_SQL[connection.vendor].format(m='m')}),"
            f" ({_LAST_PAID_SQL.format(m='m')}),"
            f" ({_HELPER_ID_SQL.format(m='m')})"
            f" FROM (SELECT {columns} FROM {Member._meta.db_table} m WHERE {self._where}"
            "        ORDER BY m.full_name, m.id LIMIT %s OFFSET %s) m"
            " ORDER BY m.full_name, m.id"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [*self._params, stop - offset, offset])
            found = cursor.fetchall()
        order = list(RoleName.values)
        utc = connection.timezone
        return [
            SearchRow(
                id=row[0],
                full_name=row[1],
                email=row[2],
                phone=row[3],
                date_of_birth=row[4],
                address_line1=row[5],
                postcode=row[6],
                has_login=row[7] is not None,
                joined_via=row[8],
                # SQLite gives the naive UTC time the ORM would have made aware.
                created_at=row[9] if is_aware(row[9]) else make_aware(row[9], utc),
                membership_status=row[10],
                roles=sorted(set(row[11].split(",")), key=order.index) if row[11] else [],
                # SQLite gives an aggregate's date as its ISO text.
                paid_until=date.fromisoformat(row[12]) if isinstance(row[12], str) else row[12],
                helper_id=row[13],
            )
            for row in found
        ]


def member_duplicates(
    *, circle: Circle, phone: str = "", full_name: str = "", date_of_birth: date | None = None
) -> list[Member]:
    """Members of `circle` who may be the person about to be registered: the same phone number
    (`phone` in E.164, as stored, so any spacing the caller read it out in matches), or the
    same name (whatever its case and spacing) and date of birth. At most five, by name."""
    condition = Q()
    if phone:
        condition |= Q(phone=phone)
    name = " ".join(full_name.split())
    if name and date_of_birth is not None:
        condition |= Q(full_name__iexact=name, date_of_birth=date_of_birth)
    if not condition:
        return []
    return list(Member.objects.filter(condition, circle=circle).order_by("full_name", "id")[:5])


def audit_list(
    *, circle: Circle, member: Member | None = None, action: str | None = None
) -> QuerySet[AuditEvent]:
    events = AuditEvent.objects.filter(circle=circle).select_related("actor", "member")
    if member is not None:
        events = events.filter(member=member)
    if action:
        events = events.filter(action=action)
    return events.order_by("-created_at", "-id")


def on_behalf_list(*, member: Member) -> QuerySet[AuditEvent]:
    """What was done for this member by others, newest first: the audit rows about them whose
    actor was, when reading, an operator or coordinator of the circle other than the member
    themselves, or one of the member's trusted persons (now or once: a link ended later still
    did what it did). A helper accepting their task, or the member's own acts, are not done on
    their behalf. Nothing about a safeguarding concern: the person it is about never learns of
    it here.

    Each row comes with `trusted_name`: the trusted person's name when one did it (their rows
    name no member record as actor: they have none), else None."""
    staff = Role.objects.filter(circle=member.circle, role__in=STAFF_ROLES).values("member_id")
    trusted = TrustedPerson.objects.filter(member=member)
    name = (
        trusted.filter(user_id=OuterRef("actor_id")).order_by("-created_at").values("full_name")[:1]
    )
    by_trusted = Q(actor_member__isnull=True, actor_id__in=trusted.values("user_id"))
    return (
        audit_list(circle=member.circle, member=member)
        .filter(Q(actor_member_id__in=staff) | by_trusted)
        .exclude(actor_member=member)
        .exclude(safeguarding_audit_rows(member))
        .annotate(trusted_name=Subquery(name, output_field=CharField()))
    )


# --- Trusted persons ---------------------------------------------------------------------------

# The audit actions of trusted persons (members/services.py writes them).
TRUSTED_PERSON_ADDED = "trusted_person.added"
TRUSTED_PERSON_ENDED = "trusted_person.ended"

TRUSTED_SCOPES = tuple(TrustedScope.values)


def trusted_person_list(*, member: Member, include_ended: bool = False) -> QuerySet[TrustedPerson]:
    """The member's trusted persons, active first then by name (ended ones only if asked)."""
    links = TrustedPerson.objects.filter(member=member).select_related("user")
    if not include_ended:
        links = links.filter(ended_at__isnull=True)
    return links.order_by(F("ended_at").desc(nulls_first=True), "full_name", "id")


def trusted_links(*, user: Any) -> list[TrustedPerson]:
    """The members this login acts for as a trusted person (active links), by name."""
    account = _user_or_none(user)
    if account is None:
        return []
    return list(
        TrustedPerson.objects.filter(user=account, ended_at__isnull=True)
        .select_related("member", "member__circle")
        .order_by("member__full_name", "id")
    )


def trusted_for_rows(*, user: Any) -> list[dict[str, Any]]:
    """The members this login acts for (as `trusted_links`), as the API's `trusted_for` shows
    them: `member_id`, `full_name`, `circle` (its slug) and `scopes`. Read as plain rows: every
    `/me/` asks, and hardly anyone acts for anybody."""
    account = _user_or_none(user)
    if account is None:
        return []
    rows = (
        TrustedPerson.objects.filter(user=account, ended_at__isnull=True)
        .order_by("member__full_name", "id")
        .values_list("member_id", "member__full_name", "member__circle__slug", "scopes")
    )
    return [
        {"member_id": member_id, "full_name": name, "circle": slug, "scopes": scopes}
        for member_id, name, slug, scopes in rows
    ]


def caller_or_trusted(*, user: Any, circle: Circle, member_id: int | None = None) -> Caller:
    """The caller as seen from `circle`; for someone with no record there who is a trusted
    person of one of its members (the one with `member_id`, if they act for several), the
    caller as that trusted person. For what anyone with a standing in the circle may do on
    their own account, such as raising a safeguarding concern."""
    caller = caller_for(user=user, circle=circle)
    if caller.member is not None or caller.user is None:
        return caller
    links = [link for link in trusted_links(user=user) if link.member.circle_id == circle.pk]
    link = next(
        (link for link in links if link.member_id == member_id), links[0] if links else None
    )
    return trusted_caller(user=caller.user, link=link) if link is not None else caller


def trusted_link_for(*, user: Any, member_id: int) -> TrustedPerson | None:
    """This login's active link to the member with this id, if it has one."""
    account = _user_or_none(user)
    if account is None:
        return None
    return (
        TrustedPerson.objects.filter(user=account, member_id=member_id, ended_at__isnull=True)
        .select_related("member", "member__circle")
        .first()
    )


def trusted_person_access(*, user: Any, trusted_id: int) -> tuple[TrustedPerson, Caller]:
    """A trusted-person link, for its member or their circle's staff (who may end it); 404 for
    another circle's or for someone who cannot see the member; 403 for a trusted person (they
    never change who the trusted persons are)."""
    account = _user_or_none(user)
    link = (
        TrustedPerson.objects.select_related("member", "member__circle", "user")
        .filter(pk=trusted_id)
        .first()
        if account is not None
        else None
    )
    if link is None:
        raise NotFound("No such trusted person.", code="trusted_person_not_found")
    try:
        _member, caller = member_access(user=account, member_id=link.member_id)
    except NotFound:
        raise NotFound("No such trusted person.", code="trusted_person_not_found") from None
    return link, caller


def user_memberships(*, user: User) -> QuerySet[Member]:
    """This login's member records, one a circle, by the circle's name, each with its circle,
    roles, last paid day and helper profile's id (`helper_pk`, None if not a helper; read
    with the record rather than the whole profile, which nobody here needs)."""
    helper_id = _HELPER_ID_SQL.format(m="members_member")
    helper = RawSQL(helper_id, (), output_field=BigIntegerField())  # noqa: S611
    return (
        _with_paid_until(_with_roles(Member.objects.filter(user=user).select_related("circle")))
        .annotate(helper_pk=helper)
        .order_by("circle__name")
    )


# --- Separation of duties ---------------------------------------------------------------------
# Staff may hold a member record in the circle they serve (an operator who also helps, a
# coordinator who buys help). What they do as staff must never be for that record: the issue
# that brought these in found an operator recording cash for themselves and a coordinator
# adjusting their own wallet, each answered 201.


def is_staff_of(*, user: User | None, circle_id: int) -> bool:
    """Whether this account holds an operator's or coordinator's role in the circle."""
    if user is None:
        return False
    return Role.objects.filter(
        circle_id=circle_id, member__user=user, role__in=STAFF_ROLES
    ).exists()


def member_is_staff(member: Member) -> bool:
    """Whether this member record holds an operator's or coordinator's role."""
    return Role.objects.filter(member=member, role__in=STAFF_ROLES).exists()


def own_record_refuse(*, actor: User | None, member: Member, what: str) -> None:
    """Refuse (403 `own_record`) a staff act whose member is the actor themselves. Callers are
    the services only staff reach (offline payments, refunds, adjustments, grants, reversals),
    so whoever acts there acts as staff."""
    if actor is not None and member.user_id is not None and member.user_id == actor.pk:
        raise Forbidden(
            "own_record",
            f"Staff never {what} for their own member record; ask another member of staff.",
        )


# --- Reports ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatusMonth:
    """How many members were in each status at the end of `month` (or now, for this month)."""

    month: date
    pending: int
    active: int
    grace: int
    lapsed: int


STATUS_CHANGED = "membership.status_changed"
# A link to set a password was sent (by staff, or by text for a forgotten password), and used.
CLAIM_LINK_SENT = "member.claim_link_sent"
CLAIM_LINK_USED = "member.claim_link_used"

# A member's personal data erased (members.erasure).
MEMBER_ERASED = "member.erased"


def members_by_status_monthly(*, circle: Circle, period: ReportPeriod) -> list[StatusMonth]:
    """Members (those who hold the member role) by membership status at each month's end.

    The status of the past is not stored on the member, so it is replayed from its history:
    everyone starts `pending` the month they joined, and each audited status change
    (`membership.status_changed`, written with every change: payments/services/membership.py)
    takes one from its old status and adds one to its new. Two grouped queries, by month; the
    running sum is taken here, over a few dozen rows whatever the circle's size."""
    is_member = Exists(Role.objects.filter(member_id=OuterRef("member_id"), role=RoleName.MEMBER))
    joined = (
        Member.objects.filter(circle=circle, roles__role=RoleName.MEMBER, created_at__lt=period.end)
        .annotate(month=TruncMonth("created_at"))
        .values("month")
        .annotate(n=Count("id"))
        .values_list("month", "n")
    )
    changes = (
        AuditEvent.objects.filter(
            is_member, circle=circle, action=STATUS_CHANGED, created_at__lt=period.end
        )
        .annotate(
            month=TruncMonth("created_at"),
            old=KT("data__from"),
            new=KT("data__to"),
        )
        .values("month", "old", "new")
        .annotate(n=Count("id"))
        .values_list("month", "old", "new", "n")
    )
    deltas: dict[date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for month, n in joined:
        deltas[local_date(month)][MembershipStatus.PENDING] += n
    for month, old, new, n in changes:
        deltas[local_date(month)][old] -= n
        deltas[local_date(month)][new] += n
    months = period.month_starts()
    running: dict[str, int] = defaultdict(int)
    # Everything before the period sets where its first month starts from.
    for month in sorted(m for m in deltas if m < months[0]):
        for status, n in deltas[month].items():
            running[status] += n
    out = []
    for month in months:
        for status, n in deltas.get(month, {}).items():
            running[status] += n
        out.append(
            StatusMonth(
                month=month,
                pending=running[MembershipStatus.PENDING],
                active=running[MembershipStatus.ACTIVE],
                grace=running[MembershipStatus.GRACE],
                lapsed=running[MembershipStatus.LAPSED],
            )
        )
    return out


# Another coordinator removed a staff member's second factor (members/two_factor.py).
TWO_FACTOR_RESET = "staff.two_factor_reset"

# The audit actions of a circle's settings (members/circle_settings.py writes them).
SETTING_CHANGED = "circle.setting_changed"
CATEGORY_ADDED = "circle.category_added"
CATEGORY_CHANGED = "circle.category_changed"


def settings_audit_list(*, circle: Circle, limit: int = 30) -> list[AuditEvent]:
    """The latest changes to the circle's settings and kinds of help, newest first, with who
    made each."""
    return list(
        audit_list(circle=circle).filter(
            action__in=(SETTING_CHANGED, CATEGORY_ADDED, CATEGORY_CHANGED)
        )[:limit]
    )
