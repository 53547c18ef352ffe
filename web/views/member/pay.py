"""Paying: the membership (by card through Stripe Checkout, or in cash or by cheque through the
circle's operators) and buying tokens, for the signed-in member.

A card payment counts only once Stripe's webhook has been applied (payments/services/card.py), so
the page a member comes back to from Stripe never says "paid": it says the payment is being
confirmed, and the membership shows as paid once it is.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from circle import words
from circle.errors import DomainError, InvalidInput
from circle.messages import message_for
from members.models import Member, MembershipStatus
from members.selectors import Caller, member_paid_until
from payments.selectors import member_renews_by_card
from payments.services.checkout import membership_checkout_create, tokens_checkout_create
from payments.services.offline import MAX_TOKENS_PER_PAYMENT, price_of
from tokens.selectors import member_tokens
from web.forms_join import TokensForm
from web.views.base import form_error, member_required, render_page, trusted_scope

# A member may renew from this long before their paid year ends; before that there is nothing
# to pay, and the button would only confuse.
RENEW_FROM = timedelta(days=30)


class SeeOther(HttpResponseRedirect):
    """303: after a POST, the browser follows with a GET (to Stripe's page)."""

    status_code = 303


def _overview(
    request: HttpRequest, member: Member, *, error: DomainError | None = None
) -> HttpResponse:
    today = timezone.localdate()
    paid_until = member_paid_until(member)
    renews_by_card = member_renews_by_card(member=member)
    paid_ahead = (
        member.membership_status == MembershipStatus.ACTIVE
        and paid_until is not None
        and paid_until > today + RENEW_FROM
    )
    returned = request.GET.get("checkout", "")
    return render_page(
        request,
        "web/member/pay.html",
        {
            "member": member,
            "paid_until": paid_until,
            "renews_by_card": renews_by_card,
            "can_pay": not renews_by_card and not paid_ahead,
            "fee": price_of(member.circle.membership_fee),
            "tokens": member_tokens(member=member),
            "returned": returned if returned in ("paid", "cancelled") else "",
            "errors": [{"href": "", "text": message_for(error)}] if error else [],
            "form_has_errors": error is not None,
        },
    )


@member_required
@trusted_scope("pay")
def overview(request: HttpRequest) -> HttpResponse:
    member: Member = request.member  # type: ignore[attr-defined]
    return _overview(request, member)


@member_required
@trusted_scope("pay")
def membership(request: HttpRequest) -> HttpResponse:
    """Starts a Stripe Checkout for a year's membership and sends the member to it."""
    member: Member = request.member  # type: ignore[attr-defined]
    caller: Caller = request.caller  # type: ignore[attr-defined]
    if request.method != "POST":
        return redirect("web:member-pay")
    try:
        checkout = membership_checkout_create(member=member, caller=caller)
        if not checkout.url:
            raise InvalidInput("payments_unavailable", "Card payments are not working just now.")
    except DomainError as error:
        return _overview(request, member, error=error)
    return SeeOther(checkout.url)


def _order(member: Member, tokens: int) -> dict[str, Any]:
    circle = member.circle
    return {
        "tokens": tokens,
        "minutes": tokens * circle.token_minutes,
        "price": words.money(price_of(circle.token_price) * tokens),
        "unit_price": words.money(price_of(circle.token_price)),
    }


@member_required
@trusted_scope("pay")
def buy_tokens(request: HttpRequest) -> HttpResponse:
    """How many tokens (the question), then what that buys and costs (the check, at
    ?tokens=N), then Stripe. The number travels in the address and the form, not the session:
    each page stands alone, and the service checks it again."""
    member: Member = request.member  # type: ignore[attr-defined]
    caller: Caller = request.caller  # type: ignore[attr-defined]
    here = reverse("web:member-pay-tokens")

    if request.method == "POST":
        form = TokensForm(request.POST, largest=MAX_TOKENS_PER_PAYMENT)
        if form.is_valid():
            tokens: int = form.cleaned_data["tokens"]
            if request.POST.get("confirm") != "1":
                return redirect(f"{here}?tokens={tokens}")
            try:
                checkout = tokens_checkout_create(member=member, caller=caller, tokens=tokens)
                if not checkout.url:
                    raise InvalidInput(
                        "payments_unavailable", "Card payments are not working just now."
                    )
            except DomainError as error:
                form_error(form, error)
            else:
                return SeeOther(checkout.url)
    elif "tokens" in request.GET:
        form = TokensForm(request.GET, largest=MAX_TOKENS_PER_PAYMENT)
        if form.is_valid():
            order = _order(member, form.cleaned_data["tokens"])
            change = f"{here}?again={order['tokens']}"
            rows = [
                {
                    "key": _("Tokens"),
                    "value": order["tokens"],
                    "href": change,
                    "hidden": _("how many tokens"),
                },
                {"key": _("Help they buy"), "value": words.duration(order["minutes"])},
                {"key": _("Price"), "value": order["price"]},
            ]
            return render_page(
                request,
                "web/member/pay_tokens_check.html",
                {"order": order, "rows": rows, "change_href": change},
            )
    else:
        # Back from the check page to change the number: the box shows the one chosen.
        again = request.GET.get("again", "")
        form = TokensForm(
            initial={"tokens": again} if again.isdigit() else {}, largest=MAX_TOKENS_PER_PAYMENT
        )
    return render_page(
        request,
        "web/member/pay_tokens.html",
        {
            "form": form,
            "largest": MAX_TOKENS_PER_PAYMENT,
            "unit_price": words.money(price_of(member.circle.token_price)),
        },
    )
