"""Erasing a member's personal data (UK GDPR right to erasure), from their caller's card:
coordinators only. The page says what is kept and what is wiped, and, when it cannot be done
yet, why, in the service's own words ("Margaret still has 1 hour held for a request; cancel
or finish it first"). The service is members.erasure.member_erase, as the API's."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from circle.errors import DomainError
from circle.messages import message_for
from circle.models import Circle
from members.erasure import erase_check, member_erase
from members.selectors import Caller
from web.forms_erase import EraseForm
from web.views.base import console_coordinator_required, form_error, render_page
from web.views.console.card import caller_member


@console_coordinator_required
def erase(request: HttpRequest, circle: Circle, member_id: int) -> HttpResponse:
    member = caller_member(circle, member_id)
    caller: Caller = request.caller  # type: ignore[attr-defined]
    if member.erased_at is not None:
        return redirect("web:console-member", circle.slug, member.pk)
    form = EraseForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            erased = member_erase(caller=caller, member=member, reason=form.cleaned_data["reason"])
        except DomainError as error:
            form_error(form, error)
        else:
            # Not their name: the message is kept in the session until shown.
            messages.success(
                request,
                _("Their personal data is erased. They are shown as “%(former)s” from now on.")
                % {"former": erased.full_name},
            )
            return redirect("web:console-member", circle.slug, member.pk)
    refusal = ""
    if not form.errors:
        try:
            erase_check(member)
        except DomainError as error:
            refusal = str(message_for(error))
    return render_page(
        request, "web/console/erase.html", {"member": member, "form": form, "refusal": refusal}
    )
