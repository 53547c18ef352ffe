"""The form on a gift link's page (`/gift/{token}/`): who gives, where their receipt goes, and
how many tokens. As web/forms.py says, a form checks only the shape of an answer; the service
(payments.services.gifts.gift_checkout_create) holds the rules and its refusals land beside
the field they name."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from payments.services.gifts import GIFT_FROM_MAX, GIFT_MAX_TOKENS
from web.forms import text


class GiftForm(forms.Form):
    giver_name = text(
        _("Your name"),
        hint=_("We show it to them, so they know who the gift is from."),
        autocomplete="name",
        max_length=GIFT_FROM_MAX,
        spellcheck="false",
    )
    giver_email = text(
        _("Your email address (optional)"),
        hint=_("For your receipt. We use it for nothing else."),
        autocomplete="email",
        input_type="email",
        required=False,
        max_length=254,
        spellcheck="false",
    )
    tokens = text(
        _("How many tokens do you want to give?"),
        autocomplete="off",
        inputmode="numeric",
        width="3",
        max_length=6,
        spellcheck="false",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["giver_name"].error_messages["required"] = _("Enter your name.")
        self.fields["giver_name"].error_messages["max_length"] = _(
            "Your name can be %(limit)d characters at most."
        ) % {"limit": GIFT_FROM_MAX}
        self.fields["tokens"].error_messages["required"] = _(
            "Enter how many tokens you want to give, like 2."
        )

    def clean_tokens(self) -> int:
        raw = self.cleaned_data["tokens"].strip()
        if not raw.isdigit():
            raise ValidationError(_("Enter a whole number of tokens, like 2."), code="invalid")
        count = int(raw)
        if not 1 <= count <= GIFT_MAX_TOKENS:
            raise ValidationError(
                _("You can give from 1 to %(largest)d tokens.") % {"largest": GIFT_MAX_TOKENS},
                code="invalid",
            )
        return count
