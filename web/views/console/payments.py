"""The console's money pages, for an operator with a caller on the line: recording cash, a
cheque or a bank transfer (a check step, then recorded once), and sending a card payment link by
text or email. Each takes the call's reference, lands in the audit log as done for the member,
and goes back to the caller's card.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from circle import words
from circle.errors import Conflict, DomainError
from circle.models import Circle
from members.models import Member
from members.selectors import Caller, member_get, member_paid_until, own_record_refuse
from payments.selectors import membership_year_next, offline_payment_same
from payments.services import offline_payment_record
from payments.services.links import PayLinkChannel, pay_link_channels, pay_link_send
from payments.services.offline import price_of
from web.forms_console_pay import OfflinePaymentForm, PayLinkForm
from web.templatetags.circle_web import phone_display
from web.views.base import form_error, render_page, staff_required

# "Record a cheque of £10.00 for ...?"
METHOD_WORDS = {
    "cash": gettext_lazy("cash"),
    "cheque": gettext_lazy("a cheque"),
    "bank_transfer": gettext_lazy("a bank transfer"),
}
# "Recorded £10.00 by cheque from ..."
RECORDED_WORDS = {
    "cash": gettext_lazy("cash"),
    "cheque": gettext_lazy("by cheque"),
    "bank_transfer": gettext_lazy("by bank transfer"),
}


def _card(circle: Circle, member: Member) -> str:
    return reverse("web:console-member", args=[circle.slug, member.pk])


def _possessive(name: str) -> str:
    return f"{name}'" if name.endswith("s") else f"{name}'s"


def _what(member: Member, purpose: str, tokens: int | None) -> str:
    """ "membership until Tuesday 30 November 2027", "3 tokens (3 hours of help)"."""
    circle = member.circle
    if purpose == "membership":
        _start, end = membership_year_next(member=member, today=timezone.localdate())
        return _("membership until %(day)s") % {"day": words.day(end, with_year=True)}
    assert tokens is not None
    count = ngettext("%(n)d token", "%(n)d tokens", tokens) % {"n": tokens}
    return _("%(count)s (%(time)s of help)") % {
        "count": count,
        "time": words.duration(tokens * circle.token_minutes),
    }


def _price(member: Member, purpose: str, tokens: int | None) -> Any:
    circle = member.circle
    if purpose == "tokens" and tokens:
        return price_of(circle.token_price) * tokens
    return price_of(circle.membership_fee)


def _prices_hint(circle: Circle) -> str:
    return _("The circle's price: %(fee)s for a year's membership, %(price)s a token.") % {
        "fee": words.money(price_of(circle.membership_fee)),
        "price": words.money(price_of(circle.token_price)),
    }


def _member_context(member: Member) -> dict[str, Any]:
    return {
        "member": member,
        "card_href": _card(member.circle, member),
        "paid_until": member_paid_until(member),
        "fee": price_of(member.circle.membership_fee),
        "token_price": price_of(member.circle.token_price),
    }


def _initial(request: HttpRequest, member: Member) -> dict[str, Any]:
    """The form as first shown: membership (or `?purpose=tokens&tokens=N`, as a card may link
    it) in cash, with the amount filled in at the circle's price."""
    purpose = "tokens" if request.GET.get("purpose") == "tokens" else "membership"
    raw = request.GET.get("tokens", "")
    tokens = int(raw) if raw.isdigit() and 0 < int(raw) <= 100 else None
    amount = _price(member, purpose, tokens) if purpose == "membership" or tokens else None
    return {
        "purpose": purpose,
        "method": "cash",  # what callers mostly pay with
        "tokens": tokens or "",
        "amount": f"{amount.amount:.2f}" if amount is not None else "",
    }


@staff_required
def record(request: HttpRequest, circle: Circle, member_id: int) -> HttpResponse:
    """Record a payment: the form, then (valid) the check step, then (confirmed) the service;
    a refusal comes back to the form with nothing written."""
    member = member_get(circle=circle, member_id=member_id)
    caller: Caller = request.caller  # type: ignore[attr-defined]
    hint = _prices_hint(circle)
    if request.method != "POST":
        form = OfflinePaymentForm(initial=_initial(request, member), prices_hint=hint)
        return _form_page(request, member, form)
    form = OfflinePaymentForm(request.POST, prices_hint=hint)
    if not form.is_valid() or "change" in request.POST:
        return _form_page(request, member, form)
    values = form.cleaned_data
    try:
        # The service's own rule, asked before the check step so the operator hears it first.
        own_record_refuse(actor=caller.user, member=member, what="record payments")
        if request.POST.get("confirm") != "1":
            return _check_page(request, member, form)
        payment = offline_payment_record(
            member=member,
            caller=caller,
            purpose=values["purpose"],
            method=values["method"],
            reference=values["reference"],
            tokens=values["tokens"],
            amount=values["amount"],
            call_reference=values["call_reference"],
        )
    except Conflict as error:
        # Sent twice (a double press, a reload of the check step): the first one stands.
        same = error.code == "duplicate_reference" and offline_payment_same(
            member=member,
            caller=caller,
            purpose=values["purpose"],
            method=values["method"],
            reference=values["reference"],
            tokens=values["tokens"],
        )
        if not same:
            form_error(form, error)
            return _form_page(request, member, form)
        messages.success(
            request,
            _("This payment was already recorded (reference %(ref)s). Nothing more was recorded.")
            % {"ref": same.reference},
        )
        return redirect(_card(circle, member))
    except DomainError as error:
        form_error(form, error)
        return _form_page(request, member, form)
    period = getattr(payment, "period", None)
    what = (
        _("membership until %(day)s") % {"day": words.day(period.end, with_year=True)}
        if period is not None
        else _what(member, "tokens", payment.tokens)
    )
    messages.success(
        request,
        _("Recorded %(amount)s %(method)s from %(name)s for %(what)s.")
        % {
            "amount": words.money(payment.amount),
            "method": RECORDED_WORDS[payment.method],
            "name": member.full_name,
            "what": what,
        },
    )
    return redirect(_card(circle, member))


def _form_page(request: HttpRequest, member: Member, form: OfflinePaymentForm) -> HttpResponse:
    return render_page(
        request,
        "web/console/payment_new.html",
        {**_member_context(member), "form": form},
    )


def _check_page(request: HttpRequest, member: Member, form: OfflinePaymentForm) -> HttpResponse:
    values = form.cleaned_data
    amount = words.money(values["amount"])
    what = _what(member, values["purpose"], values["tokens"])
    method = str(METHOD_WORDS[values["method"]])
    if values["method"] == "cash":
        question = _("Record %(amount)s cash for %(whose)s %(what)s?")
    else:
        question = _("Record %(method)s of %(amount)s for %(whose)s %(what)s?")
    question = question % {
        "amount": amount,
        "method": method,
        "whose": _possessive(member.first_name or member.full_name),
        "what": what,
    }
    rows = [
        {"key": _("Member"), "value": member.full_name},
        {"key": _("For"), "value": what[0].upper() + what[1:]},
        {"key": _("Paid by"), "value": method[0].upper() + method[1:]},
        {"key": _("Amount"), "value": amount},
        {"key": _("Reference"), "value": values["reference"]},
        {"key": _("Call reference"), "value": values["call_reference"]},
    ]
    hidden = {
        "purpose": values["purpose"],
        "tokens": values["tokens"] or "",
        "method": values["method"],
        "amount": f"{values['amount']:.2f}",
        "reference": values["reference"],
        "call_reference": values["call_reference"],
    }
    return render_page(
        request,
        "web/console/payment_check.html",
        {**_member_context(member), "question": question, "rows": rows, "hidden": hidden},
    )


@staff_required
def pay_link(request: HttpRequest, circle: Circle, member_id: int) -> HttpResponse:
    """Send a card payment link by text or email: only the ways the member can be reached are
    offered."""
    member = member_get(circle=circle, member_id=member_id)
    caller: Caller = request.caller  # type: ignore[attr-defined]
    available = pay_link_channels(member)
    channels = [
        (channel, label)
        for channel, label in (
            (
                PayLinkChannel.SMS.value,
                _("Text message to %(to)s") % {"to": phone_display(member.phone)},
            ),
            (PayLinkChannel.EMAIL.value, _("Email to %(to)s") % {"to": member.email or ""}),
        )
        if channel in available
    ]
    if request.method == "POST":
        form = PayLinkForm(request.POST, channels=channels)
        if form.is_valid():
            values = form.cleaned_data
            try:
                sent = pay_link_send(
                    member=member,
                    caller=caller,
                    purpose=values["purpose"],
                    tokens=values["tokens"],
                    channel=values["channel"],
                    call_reference=values["call_reference"],
                )
            except DomainError as error:
                form_error(form, error)
            else:
                how = _("a text message") if sent.channel == "sms" else _("an email")
                messages.success(
                    request,
                    _(
                        "Sent %(name)s %(how)s with a link to pay %(amount)s by card. "
                        "It works until %(day)s."
                    )
                    % {
                        "name": member.full_name,
                        "how": how,
                        "amount": words.money(sent.amount),
                        "day": words.day(timezone.localtime(sent.expires_at), with_year=False),
                    },
                )
                return redirect(_card(circle, member))
    else:
        purpose = "tokens" if request.GET.get("purpose") == "tokens" else "membership"
        initial: dict[str, Any] = {"purpose": purpose}
        if len(channels) == 1:
            initial["channel"] = channels[0][0]
        form = PayLinkForm(initial=initial, channels=channels)
    return render_page(
        request,
        "web/console/pay_link.html",
        {
            **_member_context(member),
            "form": form,
            "channels": channels,
            "max_age_days": settings.PAY_LINK_MAX_AGE_DAYS,
        },
    )
