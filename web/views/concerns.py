"""Raising a safeguarding concern, for anyone signed in with a record in a circle, or a trusted
person of one of its members (about that member, or a helper who came to them): "is
someone in danger right now?" first (yes: the page says to call 999 before anything else),
then who, what and when. Afterwards the person sees only that it was received and, later,
when it was closed ("your concerns")."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from attention.selectors import concerns_raised
from attention.services import concern_raise
from circle.errors import DomainError
from circle.models import Circle
from matching.selectors import concern_subjects
from members.models import Member, User
from members.selectors import Caller, caller_or_trusted, trusted_links
from web.forms_concerns import ConcernForm, DangerForm
from web.views.base import ACTING_KEY, form_error, render_page


def _record(request: HttpRequest) -> Member | None:
    """The person's record in the circle they chose (kept in the session), else their first;
    for a trusted person with no record, the member they act for (or their first)."""
    if not isinstance(request.user, User):
        return None
    records = list(
        Member.objects.filter(user=request.user).select_related("circle").order_by("circle__name")
    )
    chosen = request.session.get("member_id")
    own = next((m for m in records if m.pk == chosen), records[0] if records else None)
    if own is not None:
        return own
    links = trusted_links(user=request.user)
    acting = request.session.get(ACTING_KEY)
    link = next((x for x in links if x.member_id == acting), links[0] if links else None)
    return link.member if link is not None else None


def _subjects(*, circle: Circle, caller: Caller, member: Member) -> list[tuple[str, str]]:
    """Whom they may name: for a trusted person, the member they act for and the helpers who
    came to that member (not whom the member helped: their requests are all they are shown)."""
    if caller.trusted_for is None:
        return concern_subjects(circle=circle, member=member, staff=caller.is_staff)
    helpers = [
        choice
        for choice in concern_subjects(circle=circle, member=member, staff=False)
        if choice[0].startswith("helper:")
    ]
    return [(f"member:{member.pk}", member.full_name), *helpers]


@require_http_methods(["GET", "POST"])
def new(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    member = _record(request)
    if member is None:
        return render_page(request, "web/member/not_a_member.html", status=403)
    circle = member.circle
    request.circle = circle  # type: ignore[attr-defined]
    caller = caller_or_trusted(user=request.user, circle=circle, member_id=member.pk)
    subjects = _subjects(circle=circle, caller=caller, member=member)
    if request.method == "POST":
        form = ConcernForm(request.POST, subjects=subjects)
        if form.is_valid():
            kind, _colon, person = form.cleaned_data["about"].partition(":")
            try:
                concern_raise(
                    circle=circle,
                    caller=caller,
                    about_member_id=int(person) if kind == "member" else None,
                    about_helper_id=int(person) if kind == "helper" else None,
                    what_happened=form.cleaned_data["what_happened"],
                    happened_on=form.cleaned_data["happened_on"],
                    danger_now=form.cleaned_data["danger"] == "yes",
                )
            except DomainError as error:
                form_error(form, error)
            else:
                messages.success(
                    request,
                    _("Thank you. Your concern has reached the coordinators of %(circle)s.")
                    % {"circle": circle.name},
                )
                return redirect("web:concerns-mine")
        return render_page(
            request,
            "web/concerns/new.html",
            {"form": form, "danger": form.data.get("danger") == "yes", "subjects": subjects},
        )
    danger_form = DangerForm(request.GET or None)
    if danger_form.is_bound and danger_form.is_valid():
        danger = danger_form.cleaned_data["danger"]
        form = ConcernForm(initial={"danger": danger}, subjects=subjects)
        return render_page(
            request,
            "web/concerns/new.html",
            {"form": form, "danger": danger == "yes", "subjects": subjects},
        )
    return render_page(request, "web/concerns/danger.html", {"danger_form": danger_form})


def mine(request: HttpRequest) -> HttpResponse:
    """The concerns this person raised: when each was received and closed, nothing more."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    member = _record(request)
    if member is None:
        return render_page(request, "web/member/not_a_member.html", status=403)
    request.circle = member.circle  # type: ignore[attr-defined]
    concerns = concerns_raised(user=request.user, circle=member.circle)
    return render_page(request, "web/concerns/mine.html", {"concerns": concerns})
