"""Gifts from family and friends (payments/services/gifts.py).

`/gift/{token}/`: whoever holds a member's gift link sees whose it is (first name and circle
only), gives their name (shown to the member), an email for Stripe's receipt if they want one,
and how many tokens; "Continue to payment" opens a fresh Stripe Checkout each time. No sign-in:
the signature is the permission, and it lets someone give, nothing more. As for card payment
links, the page Stripe sends the giver back to never says "paid": the webhook applies a payment.

`/my/pay/gift-link/`: the member makes their link, to copy and share; the console's
`/console/{slug}/members/{id}/gift-link/`, staff make it for them.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from circle import words
from circle.errors import DomainError
from circle.models import Circle
from members.models import Member
from members.selectors import Caller, member_get
from payments.services.gifts import (
    GIFT_MAX_TOKENS,
    GiftLinkExpired,
    GiftLinkInvalid,
    gift_checkout_create,
    gift_link_create,
    gift_link_read,
)
from payments.services.offline import price_of
from payments.stripe_client import PaymentsFailed, PaymentsUnavailable
from web.forms_gift import GiftForm
from web.views.base import form_error, member_required, render_page, staff_required, trusted_scope
from web.views.member.pay import SeeOther
from web.views.pay_link import link_circle


def gift(request: HttpRequest, token: str) -> HttpResponse:
    returned = request.GET.get("checkout", "")
    try:
        link, expired = gift_link_read(token), False
    except GiftLinkInvalid:
        raise Http404 from None
    except GiftLinkExpired as too_old:
        link, expired = too_old.link, True
    circle = link_circle(link.circle_id)
    request.circle = circle  # type: ignore[attr-defined]
    # Back from Stripe just after the link ran out: the payment still counts, so thank them.
    if expired and returned != "paid":
        return render_page(request, "web/gift/expired.html", status=410)
    member = member_get(circle=circle, member_id=link.member_id)
    context: dict[str, Any] = {
        "name": member.first_name or _("this member"),
        "unit_price": words.money(price_of(circle.token_price)),
        "largest": GIFT_MAX_TOKENS,
        "expires_at": link.expires_at,
    }
    if returned == "paid":
        return render_page(request, "web/gift/thanks.html", context)
    if request.method == "POST":
        form = GiftForm(request.POST)
        if form.is_valid():
            try:
                checkout = gift_checkout_create(
                    member=member,
                    tokens=form.cleaned_data["tokens"],
                    giver_name=form.cleaned_data["giver_name"],
                    giver_email=form.cleaned_data["giver_email"],
                    return_path=request.path,
                )
                if not checkout.url:
                    raise PaymentsUnavailable(
                        "payments_unavailable", "Card payments are not working just now."
                    )
            except (PaymentsUnavailable, PaymentsFailed):
                return render_page(request, "web/gift/unavailable.html", status=503)
            except DomainError as refused:
                form_error(form, refused)
            else:
                return SeeOther(checkout.url)
    else:
        form = GiftForm()
    return render_page(
        request,
        "web/gift/gift.html",
        {**context, "form": form, "cancelled": returned == "cancelled"},
    )


@member_required
@trusted_scope("pay")
def share(request: HttpRequest) -> HttpResponse:
    """A page to make the member's gift link (a POST, audited) and show it to copy."""
    member: Member = request.member  # type: ignore[attr-defined]
    caller: Caller = request.caller  # type: ignore[attr-defined]
    made = None
    if request.method == "POST":
        made = gift_link_create(member=member, caller=caller)
    return render_page(
        request, "web/gift/share.html", {"made": made, "back_href": reverse("web:member-pay")}
    )


@staff_required
def console(request: HttpRequest, circle: Circle, member_id: int) -> HttpResponse:
    """The console's gift link for a member (an operator on the phone to the member or their
    family): made on a POST (audited as the operator's), shown to copy or read out."""
    member = member_get(circle=circle, member_id=member_id)
    caller: Caller = request.caller  # type: ignore[attr-defined]
    made = gift_link_create(member=member, caller=caller) if request.method == "POST" else None
    return render_page(
        request,
        "web/gift/share.html",
        {
            "made": made,
            "member": member,
            "back_href": reverse("web:console-member", args=[circle.slug, member.pk]),
        },
    )
