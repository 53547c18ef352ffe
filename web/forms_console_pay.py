"""The console's forms for money: recording a payment by hand, and sending a card payment link.
Staff pages put the whole task on one page (DESIGN.md), so each form asks everything at once.

As web/forms.py says, a form checks only the shape of an answer; the services check the rest
(the amount against the circle's price, staff and their own record) and their refusals land on
the field they name, which is why the field names are the services' argument names.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from payments.services import MAX_TOKENS_PER_PAYMENT
from web.forms import text


def _purpose_field() -> forms.ChoiceField:
    return forms.ChoiceField(
        label=_("What is it for?"),
        choices=[("membership", _("Membership for a year")), ("tokens", _("Tokens"))],
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose membership or tokens."),
            "invalid_choice": _("Choose membership or tokens."),
        },
    )


def _tokens_field() -> forms.CharField:
    return text(
        _("How many tokens?"),
        hint=_("Only for tokens: from 1 to %(largest)d.") % {"largest": MAX_TOKENS_PER_PAYMENT},
        required=False,
        width="3",
        inputmode="numeric",
        autocomplete="off",
        spellcheck="false",
        max_length=6,
    )


def _call_reference_field() -> forms.CharField:
    field = text(
        _("Call reference"),
        hint=_("From your phone system, so the member can see what was done on this call."),
        width="10",
        autocomplete="off",
        spellcheck="false",
        max_length=100,
    )
    field.error_messages["required"] = _("Enter the call reference.")
    return field


class PurposeForm(forms.Form):
    """Membership, or a number of tokens: `tokens` is a whole number when it is for tokens and
    None otherwise."""

    purpose = _purpose_field()
    tokens = _tokens_field()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        raw = (data.get("tokens") or "").strip()
        if data.get("purpose") != "tokens":
            data["tokens"] = None
            return data
        if not raw:
            self.add_error("tokens", _("Enter how many tokens, like 5."))
        elif not raw.isdigit():
            self.add_error("tokens", _("Enter a whole number of tokens, like 5."))
        elif not 1 <= int(raw) <= MAX_TOKENS_PER_PAYMENT:
            self.add_error(
                "tokens",
                _("From 1 to %(largest)d tokens at a time.") % {"largest": MAX_TOKENS_PER_PAYMENT},
            )
        else:
            data["tokens"] = int(raw)
        return data


class OfflinePaymentForm(PurposeForm):
    method = forms.ChoiceField(
        label=_("How was it paid?"),
        choices=[
            ("cash", _("Cash")),
            ("cheque", _("Cheque")),
            ("bank_transfer", _("Bank transfer")),
        ],
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose cash, cheque or bank transfer."),
            "invalid_choice": _("Choose cash, cheque or bank transfer."),
        },
    )
    amount = text(
        _("Amount received, in pounds"),
        width="5",
        inputmode="decimal",
        autocomplete="off",
        spellcheck="false",
        max_length=12,
    )
    reference = text(
        _("Reference"),
        hint=_("The receipt number for cash, the cheque number, or the bank's reference."),
        width="10",
        autocomplete="off",
        spellcheck="false",
        max_length=100,
    )
    call_reference = _call_reference_field()

    field_order = ["purpose", "tokens", "method", "amount", "reference", "call_reference"]

    def __init__(self, *args: Any, prices_hint: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["amount"].help_text = prices_hint
        self.fields["amount"].error_messages["required"] = _("Enter the amount received.")
        self.fields["reference"].error_messages["required"] = _(
            "Enter the receipt number, cheque number or bank reference."
        )

    def clean_amount(self) -> Decimal:
        raw = self.cleaned_data["amount"].strip().lstrip("£").replace(",", "").strip()
        try:
            amount = Decimal(raw)
        except InvalidOperation:
            raise ValidationError(
                _("Enter an amount in pounds, like 10.00."), code="invalid"
            ) from None
        if not amount.is_finite() or amount <= 0 or amount != amount.quantize(Decimal("0.01")):
            raise ValidationError(_("Enter an amount in pounds, like 10.00."), code="invalid")
        return amount


class PayLinkForm(PurposeForm):
    channel = forms.ChoiceField(
        label=_("Send it by"),
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose how to send the link."),
            "invalid_choice": _("Choose how to send the link."),
        },
    )
    call_reference = _call_reference_field()

    field_order = ["purpose", "tokens", "channel", "call_reference"]

    def __init__(self, *args: Any, channels: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["channel"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = channels
