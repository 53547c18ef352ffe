"""The caller's card: everything about one member on one screen while they are on the phone
(who they are, their membership and tokens, their requests and their helpers, what staff did
for them, what is waiting on staff about them), with every action for them a link away; and
changing their contact details.

Every action for the caller takes the call reference, which the audit log keeps beside the
change (the member reads it on their "What staff have done for you" page). The reference an
operator gave is offered again on the next action for the same caller, for an hour: one call,
one reference, typed once.
"""

from __future__ import annotations

import time
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from attention.selectors import member_open_items
from circle.errors import DomainError, NotFound
from circle.models import Circle
from circle.words import LONDON
from matching.access import member_tasks_in_progress
from members.models import Member
from members.selectors import (
    Caller,
    member_get,
    member_paid_until,
    on_behalf_list,
    trusted_person_list,
)
from members.services import age_on, member_details_update
from tokens.selectors import member_tokens
from web.forms_card import CallForm, ContactForm
from web.templatetags.circle_web import phone_display
from web.views.base import behalf_who, form_error, render_page, staff_required

# How many of the latest things staff did for the caller the card shows.
RECENT = 8
# How long the call reference given for a caller is offered again for them.
CALL_SECONDS = 60 * 60
CALL_KEY = "console_call"
LEDGER_ECHOES = ("tokens.held", "tokens.released", "tokens.settled")

# What each audited action was, as staff read it on the card.
ACTION_WORDS = {
    "member.registered_by_staff": gettext_lazy("Registered as a member"),
    "member.details_changed": gettext_lazy("Changed contact details"),
    "member.claim_link_sent": gettext_lazy("Sent a link to set a password"),
    "membership.status_changed": gettext_lazy("Membership changed"),
    "payment.recorded": gettext_lazy("Recorded a payment"),
    "payment.checkout_started": gettext_lazy("Started a card payment"),
    "payment.refund_requested": gettext_lazy("Asked for a card refund"),
    "payment.refunded": gettext_lazy("Refunded a card payment"),
    "tokens.purchased": gettext_lazy("Added bought tokens"),
    "tokens.gift": gettext_lazy("Gave tokens"),
    "tokens.granted": gettext_lazy("Gave tokens from the pot"),
    "tokens.adjusted": gettext_lazy("Corrected tokens"),
    "tokens.reversed": gettext_lazy("Undid a token movement"),
    "tokens.refunded": gettext_lazy("Took back refunded tokens"),
    "task.booked": gettext_lazy("Booked help"),
    "task.cancelled": gettext_lazy("Cancelled a request"),
    "member.erased": gettext_lazy("Erased their personal data"),
    "task.settled": gettext_lazy("Confirmed a job was done"),
    "task_series.created": gettext_lazy("Set up a repeating request"),
    "task_series.ended": gettext_lazy("Stopped a repeating request"),
    "helper.preferred": gettext_lazy("Named a preferred helper"),
    "helper.blocked": gettext_lazy("Blocked a helper"),
    "helper.preference_removed": gettext_lazy("Removed a preferred or blocked helper"),
    "trusted_person.added": gettext_lazy("Named a trusted person"),
    "trusted_person.ended": gettext_lazy("Ended a trusted person"),
    "payment.gift_link_made": gettext_lazy("Made a gift link"),
}


def caller_member(circle: Circle, member_id: int) -> Member:
    """The member of this circle whose card it is: another circle's is "page not found"."""
    try:
        return member_get(circle=circle, member_id=member_id)
    except NotFound:
        raise Http404 from None


def call_initial(request: HttpRequest, member: Member) -> dict[str, str]:
    """The call reference given for this caller within the hour, to offer again."""
    kept = request.session.get(CALL_KEY)
    if (
        isinstance(kept, dict)
        and kept.get("member_id") == member.pk
        and time.time() - float(kept.get("at", 0)) < CALL_SECONDS
    ):
        return {"call_reference": str(kept.get("reference", ""))}
    return {}


def call_remember(request: HttpRequest, member: Member, reference: str) -> None:
    request.session[CALL_KEY] = {"member_id": member.pk, "reference": reference, "at": time.time()}


def _age(member: Member) -> int | None:
    if member.date_of_birth is None:
        return None
    return age_on(born=member.date_of_birth, today=timezone.localdate(timezone=LONDON))


@staff_required
def card(request: HttpRequest, circle: Circle, member_id: int) -> HttpResponse:
    member = caller_member(circle, member_id)
    # The ledger's own rows for a booking, cancel or confirm say again what the task's row
    # says, without the call: the card lists the act, once.
    events = list(on_behalf_list(member=member).exclude(action__in=LEDGER_ECHOES)[:RECENT])
    return render_page(
        request,
        "web/console/card.html",
        {
            "member": member,
            "age": _age(member),
            "paid_until": member_paid_until(member),
            "tokens": member_tokens(member=member),
            "tasks": list(member_tasks_in_progress(member=member).select_related("category")),
            "events": [
                {
                    "event": event,
                    "what": ACTION_WORDS.get(event.action, event.action),
                    "who": behalf_who(event, member),
                }
                for event in events
            ],
            "items": list(member_open_items(member=member)),
            "served": member.membership_status in ("active", "grace"),
            # Erasing a member's data is a coordinator's act (web/views/console/erase.py).
            "can_erase": member.erased_at is None and request.caller.is_coordinator,  # type: ignore[attr-defined]
            "trusted": list(trusted_person_list(member=member)),
        },
    )


@staff_required
def details(request: HttpRequest, circle: Circle, member_id: int) -> HttpResponse:
    """Phone, email and address on one page; only what changed is changed (and audited)."""
    member = caller_member(circle, member_id)
    caller: Caller = request.caller  # type: ignore[attr-defined]
    initial: dict[str, Any] = {
        "phone": phone_display(member.phone),
        "email": member.email or "",
        "address_line1": member.address_line1,
        "postcode": member.postcode,
        **call_initial(request, member),
    }
    data = request.POST if request.method == "POST" else None
    call = CallForm(data, initial=initial)
    form = ContactForm(data, initial=initial, member=member)
    if data is not None and all([call.is_valid(), form.is_valid()]):
        reference = call.cleaned_data["call_reference"]
        try:
            member_details_update(
                member=member,
                caller=caller,
                call_reference=reference,
                **form.cleaned_data,
            )
        except DomainError as error:
            form_error(form, error)
        else:
            call_remember(request, member, reference)
            messages.success(
                request,
                _("%(name)s's contact details are saved.") % {"name": member.full_name},
            )
            return redirect("web:console-member", circle.slug, member.pk)
    return render_page(
        request,
        "web/console/details.html",
        {"member": member, "call": call, "form": form},
    )
