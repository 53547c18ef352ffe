"""A member's words about helpers: the one they prefer (asked first), the ones they do not
want sent again, and those who have helped them, with a button for each change.

Only helpers the member knows can be named here (one they prefer or blocked, or who helped
them): any other helper id, another circle's included, is "page not found".
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from matching.models import PreferenceKind
from matching.selectors import member_known_helpers
from matching.services import preference_remove, preference_set
from members.models import Member
from members.selectors import Caller
from web.forms_ask import PreferenceForm
from web.views.base import member_required, render_page

DONE = {
    PreferenceKind.PREFERRED: gettext_lazy(
        "%(name)s is now your preferred helper. We will ask %(name)s first."
    ),
    PreferenceKind.BLOCKED: gettext_lazy("We will not send %(name)s to you again."),
}


@member_required
def helpers(request: HttpRequest) -> HttpResponse:
    member: Member = request.member  # type: ignore[attr-defined]
    caller: Caller = request.caller  # type: ignore[attr-defined]
    known = member_known_helpers(member=member)
    if request.method == "POST":
        form = PreferenceForm(request.POST)
        if not form.is_valid():
            return redirect("web:member-helpers")
        chosen = next((k for k in known if k.helper.pk == form.cleaned_data["helper"]), None)
        if chosen is None:
            raise Http404
        action = form.cleaned_data["action"]
        name = chosen.first_name
        if action == "remove":
            preference_remove(member=member, helper=chosen.helper, caller=caller)
            said = (
                _("%(name)s is no longer your preferred helper.")
                if chosen.word == PreferenceKind.PREFERRED
                else _("%(name)s can be sent to you again.")
            )
        else:
            preference_set(member=member, helper=chosen.helper, kind=action, caller=caller)
            said = str(DONE[PreferenceKind(action)])
        messages.success(request, said % {"name": name})
        return redirect("web:member-helpers")
    return render_page(
        request,
        "web/member/helpers.html",
        {
            "preferred": [k for k in known if k.word == PreferenceKind.PREFERRED],
            "blocked": [k for k in known if k.word == PreferenceKind.BLOCKED],
            "others": [k for k in known if not k.word],
        },
    )
