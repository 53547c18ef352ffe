"""The caller's card: recording a trusted person for a member on the phone (with the reference
of the call in which the member agreed, which the audit log keeps), and ending one at once."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from circle.errors import DomainError
from circle.models import Circle
from members.models import TrustedPerson
from members.selectors import Caller
from members.trusted_persons import trusted_person_add, trusted_person_end
from web.forms_card import CallForm
from web.forms_trusted import TrustedPersonForm
from web.views.base import form_error, render_page, staff_required
from web.views.console.card import call_initial, call_remember, caller_member


@staff_required
def add(request: HttpRequest, circle: Circle, member_id: int) -> HttpResponse:
    member = caller_member(circle, member_id)
    caller: Caller = request.caller  # type: ignore[attr-defined]
    data = request.POST if request.method == "POST" else None
    call = CallForm(data, initial=call_initial(request, member))
    form = TrustedPersonForm(data, staff=True)
    if data is not None and all([call.is_valid(), form.is_valid()]):
        reference = call.cleaned_data["call_reference"]
        try:
            link = trusted_person_add(
                caller=caller, member=member, consent_reference=reference, **form.cleaned_data
            )
        except DomainError as error:
            form_error(call if error.field == "consent_reference" else form, error)
        else:
            call_remember(request, member, reference)
            messages.success(
                request,
                _("%(name)s can now act for %(member)s.")
                % {"name": link.full_name, "member": member.full_name},
            )
            return redirect("web:console-member", circle.slug, member.pk)
    return render_page(
        request, "web/console/trusted_add.html", {"member": member, "call": call, "form": form}
    )


@staff_required
def end(request: HttpRequest, circle: Circle, member_id: int, trusted_id: int) -> HttpResponse:
    member = caller_member(circle, member_id)
    caller: Caller = request.caller  # type: ignore[attr-defined]
    link = (
        TrustedPerson.objects.filter(member=member, pk=trusted_id, ended_at__isnull=True)
        .select_related("member", "member__circle")
        .first()
    )
    if link is None:
        raise Http404
    data = request.POST if request.method == "POST" else None
    call = CallForm(data, initial=call_initial(request, member))
    if data is not None and call.is_valid():
        reference = call.cleaned_data["call_reference"]
        try:
            trusted_person_end(caller=caller, trusted=link, call_reference=reference)
        except DomainError as error:
            form_error(call, error)
        else:
            call_remember(request, member, reference)
            messages.success(
                request,
                _("%(name)s can no longer act for %(member)s.")
                % {"name": link.full_name, "member": member.full_name},
            )
            return redirect("web:console-member", circle.slug, member.pk)
    return render_page(
        request, "web/console/trusted_end.html", {"member": member, "link": link, "call": call}
    )
