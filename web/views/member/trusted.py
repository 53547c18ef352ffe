"""`/my/trusted-persons/`: the member names a relative or friend to act for them (with their
own login, within what the member chooses), sees who they named, and ends one at once
(members/trusted_persons.py). These pages are the member's alone: no trusted person reaches
them, whatever their scopes (no `trusted_scope`)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from circle.errors import DomainError
from members.models import Member, TrustedPerson
from members.selectors import Caller, trusted_person_list
from members.trusted_persons import trusted_person_add, trusted_person_end
from web.forms_trusted import TrustedPersonForm
from web.views.base import form_error, member_required, render_page


@member_required
def overview(request: HttpRequest) -> HttpResponse:
    member: Member = request.member  # type: ignore[attr-defined]
    caller: Caller = request.caller  # type: ignore[attr-defined]
    form = TrustedPersonForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            link = trusted_person_add(caller=caller, member=member, **form.cleaned_data)
        except DomainError as error:
            form_error(form, error)
        else:
            messages.success(
                request,
                _("%(name)s can now act for you. We have emailed them to say so.")
                % {"name": link.full_name},
            )
            return redirect("web:member-trusted")
    return render_page(
        request,
        "web/member/trusted_persons.html",
        {"links": list(trusted_person_list(member=member)), "form": form},
    )


def _own_link(member: Member, trusted_id: int) -> TrustedPerson:
    link = (
        TrustedPerson.objects.filter(member=member, pk=trusted_id, ended_at__isnull=True)
        .select_related("member", "member__circle")
        .first()
    )
    if link is None:
        raise Http404
    return link


@member_required
def end(request: HttpRequest, trusted_id: int) -> HttpResponse:
    """Ask "are you sure?", then end it at once."""
    member: Member = request.member  # type: ignore[attr-defined]
    caller: Caller = request.caller  # type: ignore[attr-defined]
    link = _own_link(member, trusted_id)
    if request.method == "POST":
        trusted_person_end(caller=caller, trusted=link)
        messages.success(
            request, _("%(name)s can no longer act for you.") % {"name": link.full_name}
        )
        return redirect("web:member-trusted")
    return render_page(request, "web/member/trusted_person_end.html", {"link": link})
