"""`/pay/{token}/`: a card payment link an operator sent (payments/services/links.py). Whoever
holds it sees whose it is (first name only) and what it pays for, and "Pay by card" opens a
fresh Stripe Checkout each time, since Checkout sessions expire. No sign-in: the signature is
the permission, and it lets someone pay, nothing more.

Like the member's own payments page, the page Stripe sends the payer back to never says "paid":
the webhook, not the return, applies a payment.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from circle import words
from circle.errors import Conflict, DomainError
from circle.messages import message_for
from circle.models import Circle
from members.models import Member, MembershipStatus
from members.selectors import member_get, member_paid_until
from payments.selectors import link_checkout_paid_since, member_renews_by_card
from payments.services import membership_checkout_create, tokens_checkout_create
from payments.services.links import (
    LINK_HOLDER,
    LINK_REASON,
    PayLink,
    PayLinkExpired,
    PayLinkInvalid,
    pay_link_read,
)
from payments.services.offline import price_of
from payments.stripe_client import PaymentsFailed, PaymentsUnavailable
from web.views.base import render_page
from web.views.member.pay import RENEW_FROM, SeeOther


def _order(member: Member, link: PayLink) -> dict[str, Any]:
    circle = member.circle
    if link.purpose == "membership":
        return {
            "membership": True,
            "what": _("A year's membership of %(circle)s") % {"circle": circle.name},
            "price": words.money(price_of(circle.membership_fee)),
        }
    tokens = link.tokens or 0
    minutes = tokens * circle.token_minutes
    return {
        "membership": False,
        "what": ngettext(
            "%(n)d token (%(time)s of help)", "%(n)d tokens (%(time)s of help)", tokens
        )
        % {"n": tokens, "time": words.duration(minutes)},
        "price": words.money(price_of(circle.token_price) * tokens),
        "unit_price": words.money(price_of(circle.token_price)),
    }


def _already_paid(member: Member, link: PayLink) -> dict[str, Any] | None:
    """Whether paying now would charge twice: the year is paid (or renews by card), or these
    tokens were paid through a link since this one was made."""
    if link.purpose == "membership":
        paid_until = member_paid_until(member)
        ahead = (
            member.membership_status == MembershipStatus.ACTIVE
            and paid_until is not None
            and paid_until > timezone.localdate() + RENEW_FROM
        )
        by_card = member_renews_by_card(member=member)
        return {"paid_until": paid_until, "renews_by_card": by_card} if ahead or by_card else None
    paid = link_checkout_paid_since(
        member=member, purpose=link.purpose, tokens=link.tokens, since=link.issued_at
    )
    return {"tokens_paid_on": paid.created_at} if paid is not None else None


def link_circle(circle_id: int) -> Circle:
    """The circle a signed link names (a pay link's, a gift link's); 404 once it is gone."""
    circle = Circle.objects.filter(pk=circle_id).first()
    if circle is None:
        raise Http404
    return circle


def pay(request: HttpRequest, token: str) -> HttpResponse:
    returned = request.GET.get("checkout", "")
    try:
        link, expired = pay_link_read(token), False
    except PayLinkInvalid:
        raise Http404 from None
    except PayLinkExpired as too_old:
        link, expired = too_old.link, True
    circle = link_circle(link.circle_id)
    request.circle = circle  # type: ignore[attr-defined]
    # Back from Stripe just after the link ran out: the payment still counts, so thank them.
    if expired and returned != "paid":
        return render_page(request, "web/pay/expired.html", status=410)
    member = member_get(circle=circle, member_id=link.member_id)
    context: dict[str, Any] = {
        "name": member.first_name or _("this member"),
        "order": _order(member, link),
        "expires_at": link.expires_at,
    }
    if returned == "paid":
        return render_page(request, "web/pay/thanks.html", context)
    already = _already_paid(member, link)
    if already is not None:
        return render_page(request, "web/pay/already.html", {**context, **already})
    error: DomainError | None = None
    if request.method == "POST":
        try:
            if link.purpose == "membership":
                checkout = membership_checkout_create(
                    member=member, caller=LINK_HOLDER, return_path=request.path, reason=LINK_REASON
                )
            else:
                checkout = tokens_checkout_create(
                    member=member,
                    caller=LINK_HOLDER,
                    tokens=link.tokens,
                    return_path=request.path,
                    reason=LINK_REASON,
                )
            if not checkout.url:
                raise PaymentsUnavailable(
                    "payments_unavailable", "Card payments are not working just now."
                )
        except (PaymentsUnavailable, PaymentsFailed):
            # Not configured, Stripe not answering or refusing: to the payer, one plain page.
            return render_page(request, "web/pay/unavailable.html", status=503)
        except Conflict as refused:
            if refused.code != "subscription_exists":
                raise
            return render_page(request, "web/pay/already.html", {**context, "renews_by_card": True})
        except DomainError as refused:
            error = refused
        else:
            return SeeOther(checkout.url)
    return render_page(
        request,
        "web/pay/pay.html",
        {
            **context,
            "cancelled": returned == "cancelled",
            "errors": [{"href": "", "text": message_for(error)}] if error else [],
            "form_has_errors": error is not None,
        },
    )
