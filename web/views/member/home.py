"""The member's home, choosing between circles, and what was done on their behalf."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext_lazy as _

from matching.access import member_tasks_in_progress
from members.models import Member, User
from members.selectors import member_paid_until, on_behalf_list, trusted_links
from tokens.selectors import member_tokens
from web.views.base import behalf_who, member_list, member_required, render_page

# What each audited action means to the member it was done for, in their words.
ACTION_WORDS = {
    "member.registered_by_staff": _("Registered you as a member"),
    "member.joined": _("You joined"),
    "member.details_changed": _("Changed your contact details"),
    "membership.status_changed": _("Your membership changed"),
    "payment.recorded": _("Recorded a payment from you"),
    "payment.checkout_started": _("Started a card payment for you"),
    "payment.link_sent": _("Sent you a link to pay by card"),
    "member.claim_link_sent": _("Sent you a link to set a password"),
    "payment.refund_requested": _("Asked for a refund to your card"),
    "payment.refunded": _("Refunded a card payment"),
    "tokens.purchased": _("Added tokens you bought"),
    "tokens.gift": _("Gave tokens"),
    "tokens.granted": _("Gave you tokens from the circle's pot"),
    "tokens.adjusted": _("Corrected your tokens"),
    "tokens.reversed": _("Undid a token movement"),
    "tokens.refunded": _("Took back tokens that were refunded"),
    "task.booked": _("Asked for help for you"),
    "trusted_person.added": _("Named someone to act for you"),
    "trusted_person.ended": _("Stopped someone acting for you"),
    "payment.gift_link_made": _("Made a gift link for you"),
    "task.cancelled": _("Cancelled a request"),
    "task.settled": _("Confirmed a job was done"),
    "task_series.created": _("Set up a repeating request"),
    "task_series.ended": _("Stopped a repeating request"),
    "helper.preference_set": _("Changed your preferred or blocked helpers"),
    "helper.preferred": _("Named your preferred helper"),
    "helper.blocked": _("Blocked a helper for you"),
    "tokens.held": _("Set your tokens aside for a request"),
    "tokens.released": _("Gave back tokens set aside"),
    "tokens.settled": _("Paid a helper from tokens set aside"),
    "helper.preference_removed": _("Changed your preferred or blocked helpers"),
}


@member_required
def home(request: HttpRequest) -> HttpResponse:
    member: Member = request.member  # type: ignore[attr-defined]
    in_progress = member_tasks_in_progress(member=member)
    return render_page(
        request,
        "web/member/home.html",
        {
            "member": member,
            "paid_until": member_paid_until(member),
            "tokens": member_tokens(member=member),
            "in_progress": in_progress,
            "can_ask": member.membership_status in {"active", "grace"},
            "several_circles": request.several_circles,  # type: ignore[attr-defined]
            # A member may also be someone else's trusted person: their way to /trusted/.
            "helps_others": bool(trusted_links(user=request.user)),
        },
    )


def choose_circle(request: HttpRequest) -> HttpResponse:
    """For someone who belongs to two circles: which one these pages are about."""
    user = request.user
    if not isinstance(user, User):
        return redirect("web:sign-in")
    members = member_list(user)
    if request.method == "POST":
        chosen = request.POST.get("member_id", "")
        for member in members:
            if str(member.pk) == chosen:
                request.session["member_id"] = member.pk
                return redirect("web:member-home")
    return render_page(request, "web/member/choose_circle.html", {"members": members})


@member_required
def on_my_behalf(request: HttpRequest) -> HttpResponse:
    member: Member = request.member  # type: ignore[attr-defined]
    events = on_behalf_list(member=member)
    page = Paginator(events, 25).get_page(request.GET.get("page"))
    rows = [
        {
            "event": event,
            "what": ACTION_WORDS.get(
                event.action, event.action.replace("_", " ").replace(".", ": ")
            ),
            "who": behalf_who(event, member),
        }
        for event in page.object_list
    ]
    return render_page(request, "web/member/on_my_behalf.html", {"page": page, "rows": rows})
