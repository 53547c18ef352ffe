"""Setting a password with a one-time link (members.claim_links).

`/claim/{token}/`: a member joined by phone opens the link staff sent them, chooses a password
(and, if they like, an email to sign in with too); their login is made, they are signed in and
land at home. The same page, from a link texted for a forgotten password, sets a new one. An
expired link says so plainly, with the circle's number to call for a new one; a used one says
it has been used; anything else is "page not found".

`/console/{slug}/members/{id}/claim-link/`: staff send such a link, by text or email, to a
member of their circle who has no login yet.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _

from circle import words
from circle.errors import DomainError
from circle.messages import message_for
from circle.models import Circle
from members.claim_links import (
    ClaimLinkClosed,
    ClaimLinkUnknown,
    claim_link_lasts,
    claim_link_open,
    claim_link_use,
)
from members.models import ClaimChannel, ClaimPurpose
from members.selectors import Caller
from messaging.services import claim_link_send
from web.forms_claim import ClaimForm, ClaimLinkForm
from web.templatetags.circle_web import phone_display
from web.views.base import form_error, render_page, staff_required
from web.views.console.card import call_initial, call_remember, caller_member


def _closed(request: HttpRequest, closed: ClaimLinkClosed) -> HttpResponse:
    request.circle = closed.link.member.circle  # type: ignore[attr-defined]
    template = "web/claim/used.html" if closed.why == "used" else "web/claim/expired.html"
    return render_page(
        request,
        template,
        {"reset": closed.link.purpose == ClaimPurpose.RESET, "lasts": claim_link_lasts()},
        status=410,
    )


def claim(request: HttpRequest, token: str) -> HttpResponse:
    try:
        link = claim_link_open(token)
    except ClaimLinkUnknown:
        raise Http404 from None
    except ClaimLinkClosed as closed:
        return _closed(request, closed)
    member = link.member
    request.circle = member.circle  # type: ignore[attr-defined]
    claiming = link.purpose == ClaimPurpose.CLAIM
    form = ClaimForm(request.POST if request.method == "POST" else None, with_email=claiming)
    if form.is_bound and form.is_valid():
        try:
            user = claim_link_use(
                token=token,
                password=form.cleaned_data["new_password1"],
                email=form.cleaned_data.get("email") or None,
            )
        except ClaimLinkUnknown:
            raise Http404 from None
        except ClaimLinkClosed as closed:
            return _closed(request, closed)
        except DomainError as error:
            if error.field == "password":
                form.add_error("new_password1", message_for(error))
            else:
                form_error(form, error)
        else:
            if not claiming:
                # A new password signs nobody in, as Django's own reset does not: the login may
                # be staff's, whose second factor a link by text must not stand in for.
                messages.success(request, _("Your new password is set. Sign in with it now."))
                return redirect("web:sign-in")
            # A login just made has no second factor to skip. One backend named: axes' own
            # only refuses, it never signs anyone in.
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(
                request,
                _("Your password is set. Next time, sign in with your mobile number or email."),
            )
            return redirect("web:member-home")
    return render_page(
        request,
        "web/claim/claim.html",
        {
            "form": form,
            "name": member.first_name,
            "claiming": claiming,
            "phone": phone_display(member.phone) if member.phone else "",
        },
    )


@staff_required
def console(request: HttpRequest, circle: Circle, member_id: int) -> HttpResponse:
    """Send a member without a login a link to set a password: only the ways they can be
    reached are offered; the call's reference goes in the audit row."""
    member = caller_member(circle, member_id)
    caller: Caller = request.caller  # type: ignore[attr-defined]
    channels = []
    if member.phone:
        channels.append(
            (
                ClaimChannel.SMS.value,
                _("Text message to %(to)s") % {"to": phone_display(member.phone)},
            )
        )
    if member.email:
        channels.append((ClaimChannel.EMAIL.value, _("Email to %(to)s") % {"to": member.email}))
    data = request.POST if request.method == "POST" else None
    initial = call_initial(request, member)
    if len(channels) == 1:
        initial["channel"] = channels[0][0]
    form = ClaimLinkForm(data, initial=initial, channels=channels)
    if data is not None and member.user_id is None and form.is_valid():
        reference = form.cleaned_data["call_reference"]
        try:
            sent = claim_link_send(
                member=member,
                caller=caller,
                channel=form.cleaned_data["channel"],
                call_reference=reference,
            )
        except DomainError as error:
            form_error(form, error)
        else:
            call_remember(request, member, reference)
            how = _("a text message") if sent.channel == ClaimChannel.SMS else _("an email")
            messages.success(
                request,
                _(
                    "Sent %(name)s %(how)s with a link to set a password. "
                    "It works once, until %(when)s."
                )
                % {
                    "name": member.full_name,
                    "how": how,
                    "when": words.day(timezone.localtime(sent.expires_at), with_year=False),
                },
            )
            return redirect("web:console-member", circle.slug, member.pk)
    return render_page(
        request,
        "web/console/claim_link.html",
        {
            "member": member,
            "form": form,
            "channels": channels,
            "lasts": claim_link_lasts(),
        },
    )
