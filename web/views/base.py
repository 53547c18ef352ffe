"""What every page view shares: who the signed-in member is, domain errors onto forms, and the
navigation of each person's pages. Views stay thin (STYLE.md): validate, resolve scoped objects,
call one service or selector, render."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, Concatenate, ParamSpec

from django import forms
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from circle.errors import DomainError
from circle.messages import message_for
from circle.models import Circle
from helpers.models import Helper
from members.models import (
    STAFF_ROLES,
    AuditEvent,
    Member,
    RoleName,
    TrustedPerson,
    TrustedScope,
    User,
)
from members.selectors import (
    Caller,
    caller_at,
    caller_for,
    trusted_caller,
    trusted_link_for,
    trusted_links,
)
from members.two_factor import is_verified, two_factor_on, two_factor_required

P = ParamSpec("P")

# The member's own pages, in the order their menu shows them.
MEMBER_NAV = (
    ("web:member-home", _("Home")),
    ("web:member-ask", _("Ask for help")),
    ("web:member-tokens", _("Tokens")),
    ("web:member-pay", _("Pay")),
    ("web:member-details", _("Your details")),
)


# A helper's pages, for a thumb on a phone: few, short words.
HELPER_NAV = (
    ("web:helper-feed", _("Tasks")),
    ("web:helper-mine", _("Mine")),
    ("web:helper-profile", _("Profile")),
)

# The operators' console, one circle at a time (its URLs take the circle's slug).
CONSOLE_NAV = (
    ("web:console", _("Find a caller")),
    ("web:console-register", _("Register a caller")),
    ("web:console-follow-ups", _("Follow-ups")),
)

# The coordinators' desk, one circle at a time (its URLs take the circle's slug).
COORDINATOR_NAV = (
    ("web:coordinator", _("Needs attention")),
    ("web:coordinator-concerns", _("Concerns")),
    ("web:coordinator-ledger", _("Ledger")),
    ("web:coordinator-helpers", _("Helpers")),
    ("web:coordinator-feedback", _("Feedback")),
    ("web:coordinator-reports", _("Reports")),
    ("web:coordinator-settings", _("Settings")),
    ("web:console", _("Console")),
)

# Menu roots: each is current only on itself, not on the pages under it.
ROOTS = ("/my/", "/helper/")


def nav(
    request: HttpRequest, items: tuple[tuple[str, Any], ...], *args: Any
) -> list[dict[str, Any]]:
    here = request.path
    out = []
    roots = {reverse(items[0][0], args=args)} | set(ROOTS)
    for name, text in items:
        href = reverse(name, args=args)
        current = here == href or (href not in roots and here.startswith(href))
        out.append({"href": href, "text": text, "current": current})
    return out


def form_error(form: forms.Form, error: DomainError) -> None:
    """A service's refusal shown on the form: inline beside its field where the form has it,
    else at the top; the words are circle/messages.py's, as the API's are."""
    field = error.field if error.field in form.fields else None
    form.add_error(field, message_for(error))


def render_page(
    request: HttpRequest, template: str, context: dict[str, Any] | None = None, *, status: int = 200
) -> HttpResponse:
    """render(), with the flag that puts "Error:" in the title when a form on the page has
    errors (GOV.UK's pattern, so a screen reader hears it first)."""
    context = dict(context or {})
    context.setdefault(
        "form_has_errors",
        any(
            isinstance(value, forms.BaseForm) and value.is_bound and bool(value.errors)
            for value in context.values()
        ),
    )
    return render(request, template, context, status=status)


# A trusted person acting for a member: which member (their id), kept in the session from
# /trusted/{id}/ until they go back to /trusted/ (or sign out).
ACTING_KEY = "acting_for"

# The member's pages a trusted person may reach, each with the scope it needs, in menu order.
TRUSTED_NAV = (
    (TrustedScope.ASK, "web:member-ask", _("Ask for help")),
    (TrustedScope.STATEMENT, "web:member-tokens", _("Tokens")),
    (TrustedScope.PAY, "web:member-pay", _("Pay")),
)


def trusted_scope(*scopes: str) -> Callable[[Callable[P, HttpResponse]], Callable[P, HttpResponse]]:
    """Declare which scopes (any of them) let a trusted person acting for a member see a member
    page; `member_required` reads it. A page without one is the member's alone (403 for a
    trusted person): details, data, helpers, what was done for them, trusted persons."""

    def mark(view: Callable[P, HttpResponse]) -> Callable[P, HttpResponse]:
        view.trusted_scopes = frozenset(scopes)  # type: ignore[attr-defined]
        return view

    return mark


def acting_nav(request: HttpRequest, link: TrustedPerson) -> list[dict[str, Any]]:
    """The menu of a trusted person acting for a member: what they may do, and no more."""
    here = request.path
    hub = reverse("web:trusted-member", args=[link.member_id])
    out = [
        {
            "href": hub,
            "text": _("For %(name)s") % {"name": link.member.first_name or link.member.full_name},
            "current": here == hub,
        }
    ]
    for scope, name, text in TRUSTED_NAV:
        if scope in link.scopes:
            href = reverse(name)
            out.append({"href": href, "text": text, "current": here.startswith(href)})
    return out


def acting_set(request: HttpRequest, link: TrustedPerson) -> None:
    """The request as one made by `link`'s trusted person for its member: the member pages'
    request.member is the member, request.caller the trusted person (so services audit their
    acts as theirs, for the member), and the banner and menu say so."""
    request.member = link.member  # type: ignore[attr-defined]
    request.circle = link.member.circle  # type: ignore[attr-defined]
    request.several_circles = False  # type: ignore[attr-defined]
    request.caller = trusted_caller(user=request.user, link=link)  # type: ignore[arg-type, attr-defined]
    request.acting_for = link  # type: ignore[attr-defined]
    request.nav = acting_nav(request, link)  # type: ignore[attr-defined]


def _acting(
    request: HttpRequest, view: Callable[..., HttpResponse]
) -> HttpResponse | TrustedPerson | None:
    """The trusted person's link if they are acting for a member (and may see this page: else
    the 403 page); None if they are not acting for anyone; a redirect to /trusted/ if the
    member ended the link (at once, even mid-journey)."""
    member_id = request.session.get(ACTING_KEY)
    if member_id is None:
        return None
    link = trusted_link_for(user=request.user, member_id=member_id)
    if link is None:
        request.session.pop(ACTING_KEY, None)
        return redirect("web:trusted-home")
    acting_set(request, link)
    if request.path == reverse("web:member-home"):
        # The member's home is theirs; the trusted person's view of it is the page of what
        # they may do for them (links back "home" from the member's pages land there).
        return redirect("web:trusted-member", link.member_id)
    allowed: frozenset[str] = getattr(view, "trusted_scopes", frozenset())
    if not allowed & set(link.scopes):
        return render_page(request, "web/trusted/not_yours.html", status=403)
    return link


def behalf_who(event: AuditEvent, member: Member) -> str:
    """Who did an act on a member's on-behalf list (members.selectors.on_behalf_list): staff by
    name; a trusted person as "Done by X (trusted person) for Y", so nobody mistakes their acts
    for the member's own or for staff's."""
    if getattr(event, "trusted_name", None) and event.actor_member_id is None:
        return gettext("Done by %(name)s (trusted person) for %(member)s") % {
            "name": event.trusted_name,  # type: ignore[attr-defined]
            "member": member.full_name,
        }
    return event.actor.full_name if event.actor else ""


class MemberRequest(HttpRequest):
    user: User
    member: Member
    caller: Caller


def member_list(user: User) -> list[Member]:
    """The person's member records, one per circle, by circle name. Only records with the
    member role count: a helper who never asks for help has no member pages."""
    return list(
        Member.objects.filter(user=user, roles__role=RoleName.MEMBER)
        .select_related("circle")
        .order_by("circle__name", "id")
    )


def member_records(request: HttpRequest) -> tuple[Member | None, int]:
    """The signed-in person's member record: in the circle they chose (kept in the session) when
    they belong to several, else their first; and how many they have."""
    user = request.user
    if not isinstance(user, User):
        return None, 0
    members = member_list(user)
    chosen = request.session.get("member_id")
    found = next((member for member in members if member.pk == chosen), None)
    return found or (members[0] if members else None), len(members)


def member_required(
    view: Callable[Concatenate[Any, P], HttpResponse],
) -> Callable[Concatenate[HttpRequest, P], HttpResponse]:
    """The member's own pages: signed in, with a member record. Sets request.member,
    request.caller (for the services) and request.circle (for the header).

    A trusted person acting for a member (ACTING_KEY in the session) sees the page as the
    member's, if it declares one of their scopes (`trusted_scope`), with the member as
    request.member and themselves as request.caller."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        acting = _acting(request, view)
        if isinstance(acting, HttpResponse):
            return acting
        if acting is not None:
            return view(request, *args, **kwargs)
        member, records = member_records(request)
        if member is None:
            return render_page(request, "web/member/not_a_member.html", status=403)
        request.member = member  # type: ignore[attr-defined]
        request.circle = member.circle  # type: ignore[attr-defined]
        request.several_circles = records > 1  # type: ignore[attr-defined]
        request.caller = caller_for(user=request.user, circle=member.circle)  # type: ignore[attr-defined]
        request.nav = nav(request, MEMBER_NAV)  # type: ignore[attr-defined]
        return view(request, *args, **kwargs)

    return wrapped


def helper_list(user: User) -> list[Helper]:
    """The person's helper profiles, one per circle, by circle name."""
    return list(
        Helper.objects.filter(member__user=user)
        .select_related("circle", "member")
        .order_by("circle__name", "id")
    )


def helper_required(
    view: Callable[Concatenate[Any, P], HttpResponse],
) -> Callable[Concatenate[HttpRequest, P], HttpResponse]:
    """A helper's own pages: signed in, with a helper profile (the one in the circle chosen in
    the session, as for members, else the first). Sets request.helper, request.member,
    request.circle, request.caller and request.nav. Someone signed in without a profile is
    offered to become a helper."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        profiles = helper_list(request.user)
        if not profiles:
            return render_page(request, "web/helper/not_a_helper.html", status=403)
        chosen = request.session.get("helper_id")
        helper = next((h for h in profiles if h.pk == chosen), profiles[0])
        request.helper = helper  # type: ignore[attr-defined]
        request.member = helper.member  # type: ignore[attr-defined]
        request.circle = helper.circle  # type: ignore[attr-defined]
        request.several_circles = len(profiles) > 1  # type: ignore[attr-defined]
        request.caller = caller_for(user=request.user, circle=helper.circle)  # type: ignore[attr-defined]
        request.nav = nav(request, HELPER_NAV)  # type: ignore[attr-defined]
        return view(request, *args, **kwargs)

    return wrapped


def _circle_staff(
    view: Callable[Concatenate[Any, Circle, P], HttpResponse],
    *,
    roles: frozenset[str],
    items: tuple[tuple[str, Any], ...],
) -> Callable[Concatenate[HttpRequest, str, P], HttpResponse]:
    """A circle's staff pages, which take the circle's slug first: signed in with one of
    `roles` in that circle. Another circle's pages are "page not found", as its objects are
    (DESIGN.md); anyone else in this circle is told the page is not for them. Sets
    request.circle, request.caller and request.nav, and passes the circle on, not the slug."""

    @wraps(view)
    def wrapped(request: HttpRequest, slug: str, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        caller = caller_at(user=request.user, slug=slug)
        if caller is None or caller.member is None:
            raise Http404
        circle = caller.member.circle
        if not caller.roles & roles:
            return render_page(request, "web/errors/403.html", status=403)
        if (gate := two_factor_gate(request)) is not None:
            return gate
        request.circle = circle  # type: ignore[attr-defined]
        request.caller = caller  # type: ignore[attr-defined]
        request.nav = nav(request, items, circle.slug)  # type: ignore[attr-defined]
        return view(request, circle, *args, **kwargs)

    return wrapped


def with_next(name: str, next_url: str) -> str:
    """The page named, with `?next=` to come back to (when there is one)."""
    url = reverse(name)
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url


def two_factor_gate(request: HttpRequest) -> HttpResponse | None:
    """Where staff two-factor is required (STAFF_TWO_FACTOR), a staff page's answer to staff
    not verified this session: set it up first, or give the code (web/views/two_factor.py).
    None: go on. Verified staff pay nothing for the check: OTPMiddleware read their device."""
    if not two_factor_required() or is_verified(request.user):
        return None
    user = request.user
    assert isinstance(user, User)
    here = request.get_full_path()
    if two_factor_on(user):
        return redirect(with_next("web:sign-in-code", here))
    return redirect(with_next("web:two-factor-set-up", here))


def staff_required(
    view: Callable[Concatenate[Any, Circle, P], HttpResponse],
) -> Callable[Concatenate[HttpRequest, str, P], HttpResponse]:
    """The console's pages: an operator or a coordinator of the circle in the URL."""
    return _circle_staff(view, roles=STAFF_ROLES, items=CONSOLE_NAV)


def console_coordinator_required(
    view: Callable[Concatenate[Any, Circle, P], HttpResponse],
) -> Callable[Concatenate[HttpRequest, str, P], HttpResponse]:
    """A console page only a coordinator may use (erasing a caller's data): the console's
    menu, a coordinator's roles; an operator is told the page is not for them."""
    return _circle_staff(view, roles=frozenset({RoleName.COORDINATOR}), items=CONSOLE_NAV)


def coordinator_required(
    view: Callable[Concatenate[Any, Circle, P], HttpResponse],
) -> Callable[Concatenate[HttpRequest, str, P], HttpResponse]:
    """The coordinators' desk: a coordinator of the circle in the URL; an operator is told
    the page is not for them."""
    return _circle_staff(view, roles=frozenset({RoleName.COORDINATOR}), items=COORDINATOR_NAV)


def landing_for(user: User) -> str:
    """Where a person starts after signing in: coordinators at their circle's desk, operators
    at its console, members at their home, helpers who never ask for help at their feed."""
    roles = list(
        Member.objects.filter(user=user)
        .order_by("circle__name", "id")
        .values_list("circle__slug", "roles__role")
    )
    for slug, role in roles:
        if role == RoleName.COORDINATOR:
            return reverse("web:coordinator", args=[slug])
    for slug, role in roles:
        if role in STAFF_ROLES:
            return reverse("web:console", args=[slug])
    if any(role == RoleName.MEMBER for _slug, role in roles):
        return reverse("web:member-home")
    if any(role == RoleName.HELPER for _slug, role in roles):
        return reverse("web:helper-feed")
    if trusted_links(user=user):
        # A trusted person has a login and no member record (DESIGN.md): their own home lists
        # the members they act for.
        return reverse("web:trusted-home")
    return reverse("web:member-home")
