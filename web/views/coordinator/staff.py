"""The circle's staff, with whether each signs in with two-factor, and a coordinator's reset of
another's two-factor (a lost phone): with a reason, audited, never one's own
(members/two_factor.py)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from circle.errors import DomainError
from circle.models import Circle
from members.models import Member
from members.selectors import member_get, member_is_staff
from members.two_factor import staff_list, two_factor_on, two_factor_required, two_factor_reset
from web.forms_two_factor import ResetForm
from web.views.base import coordinator_required, form_error, render_page


@require_http_methods(["GET"])
@coordinator_required
def page(request: HttpRequest, circle: Circle) -> HttpResponse:
    return render_page(
        request,
        "web/coordinator/staff.html",
        {
            "circle": circle,
            "staff": staff_list(circle=circle),
            "required": two_factor_required(),
        },
    )


def _staff_member(circle: Circle, member_id: int) -> Member:
    """A staff member of this circle; anyone else (or another circle's) is "not found"."""
    member = member_get(circle=circle, member_id=member_id)
    if member.user_id is None or not member_is_staff(member):
        raise Http404
    return member


@require_http_methods(["GET", "POST"])
@coordinator_required
def reset(request: HttpRequest, circle: Circle, member_id: int) -> HttpResponse:
    member = _staff_member(circle, member_id)
    if member.user_id == request.user.pk:
        return render_page(request, "web/errors/403.html", status=403)
    form = ResetForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            two_factor_reset(
                circle=circle,
                caller=request.caller,  # type: ignore[attr-defined]
                member=member,
                reason=form.cleaned_data["reason"],
            )
        except DomainError as error:
            form_error(form, error)
        else:
            messages.success(
                request,
                _(
                    "%(name)s's two-factor sign-in is reset. They set it up again the next "
                    "time they sign in."
                )
                % {"name": member.full_name},
            )
            return redirect("web:coordinator-staff", circle.slug)
    assert member.user is not None
    return render_page(
        request,
        "web/coordinator/staff_reset.html",
        {"circle": circle, "person": member, "form": form, "on": two_factor_on(member.user)},
    )
