"""A trusted person's own pages (DESIGN.md: `/trusted/`): the members they act for, each with
what the member lets them do, and acting for one.

`/trusted/{member_id}/` starts acting for that member: the session keeps whom for
(web.views.base.ACTING_KEY), and the member's own pages then show that member, for the scopes
each page declares, with a banner saying so; the trusted person's acts are audited as theirs,
for the member. Back at `/trusted/`, they act for nobody. A link the member ends stops working
at the trusted person's next request.
"""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse

from matching.access import member_tasks_in_progress
from members.models import TrustedScope
from members.selectors import trusted_link_for, trusted_links
from web.views.base import ACTING_KEY, acting_set, render_page


def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    request.session.pop(ACTING_KEY, None)
    return render_page(
        request, "web/trusted/home.html", {"links": trusted_links(user=request.user)}
    )


def member(request: HttpRequest, member_id: int) -> HttpResponse:
    """Start acting for the member, and show what the trusted person may do for them."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    link = trusted_link_for(user=request.user, member_id=member_id)
    if link is None:
        # Not theirs (or ended): as for anything of someone else's, "page not found".
        raise Http404
    request.session[ACTING_KEY] = link.member_id
    acting_set(request, link)
    sees_requests = bool({TrustedScope.ASK, TrustedScope.CONFIRM} & set(link.scopes))
    tasks = (
        list(member_tasks_in_progress(member=link.member).select_related("category"))
        if sees_requests
        else []
    )
    return render_page(
        request,
        "web/trusted/member.html",
        {"link": link, "member": link.member, "tasks": tasks, "sees_requests": sees_requests},
    )
