"""The coordinators' ledger forms: the transaction list's filters, the export's dates, a
reversal's reason, an adjustment or grant, and a decision on an approval. Shape only: the
services check the rest (a transaction reversed already, the pot too small, four eyes), and
their refusals land on the field they name.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from tokens.books import TransactionFilters
from tokens.models import ApprovalKind, TransactionKind
from tokens.services import MAX_MINUTES

# The export's longest range: a year and a day, enough for any year end.
EXPORT_DAYS = 366


class DateBox(forms.DateInput):
    """The browser's own date box (a calendar where there is one; typed where there is not)."""

    input_type = "date"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%d")


def _date(label: Any, hint: Any = "", *, required: bool = False) -> forms.DateField:
    return forms.DateField(
        label=label,
        help_text=hint,
        required=required,
        widget=DateBox(),
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
        error_messages={
            "invalid": _("Enter a real date, for example 27/03/2026."),
            "required": _("Enter a date."),
        },
    )


def _minutes(label: Any, hint: Any = "", *, required: bool = False) -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        help_text=hint,
        required=required,
        min_value=-MAX_MINUTES,
        max_value=MAX_MINUTES,
        widget=forms.TextInput(attrs={"width": "5", "inputmode": "numeric", "spellcheck": "false"}),
        error_messages={
            "invalid": _("Enter minutes as a whole number, like 90."),
            "required": _("Enter the minutes."),
            "min_value": _("That is more than a year of help: check the number."),
            "max_value": _("That is more than a year of help: check the number."),
        },
    )


class FilterForm(forms.Form):
    """The transaction list's filters, all optional, sent in the address (GET)."""

    since = _date(_("From"), _("The first day, included."))
    until = _date(_("To"), _("The last day, included."))
    kind = forms.ChoiceField(
        label=_("Kind"),
        help_text=_("What moved the minutes."),
        required=False,
        choices=[("", _("Any kind")), *TransactionKind.choices],
    )
    member = forms.IntegerField(
        label=_("Member number"),
        help_text=_("As on the member's card. Shows every movement in or out of their tokens."),
        required=False,
        min_value=1,
        widget=forms.TextInput(attrs={"width": "5", "inputmode": "numeric", "spellcheck": "false"}),
        error_messages={
            "invalid": _("A member number is a whole number."),
            "min_value": _("A member number is a whole number."),
        },
    )
    min_minutes = _minutes(_("At least (minutes)"))
    max_minutes = _minutes(_("At most (minutes)"))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", _("The last day must be on or after the first."))
        low, high = data.get("min_minutes"), data.get("max_minutes")
        if low is not None and high is not None and low > high:
            self.add_error("max_minutes", _("'At most' must be at least 'at least'."))
        return data

    def filters(self) -> TransactionFilters:
        data = self.cleaned_data if self.is_valid() else {}
        return TransactionFilters(
            since=data.get("since"),
            until=data.get("until"),
            kind=data.get("kind") or "",
            member_id=data.get("member"),
            min_minutes=data.get("min_minutes"),
            max_minutes=data.get("max_minutes"),
        )


class ExportForm(forms.Form):
    since = _date(_("From"), _("The first day, included."), required=True)
    until = _date(_("To"), _("The last day, included."), required=True)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until:
            if since > until:
                self.add_error("until", _("The last day must be on or after the first."))
            elif until - since >= timedelta(days=EXPORT_DAYS):
                self.add_error("until", _("Export at most a year at a time."))
        return data

    @staticmethod
    def last_month(today: date) -> dict[str, date]:
        """The form's first answer: the whole of last month."""
        end = today.replace(day=1) - timedelta(days=1)
        return {"since": end.replace(day=1), "until": end}


def _reason(label: Any, hint: Any) -> forms.CharField:
    field = forms.CharField(
        label=label,
        help_text=hint,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    field.error_messages.update(
        {"required": _("Say why."), "max_length": _("Use 500 characters or fewer.")}
    )
    return field


class ReverseForm(forms.Form):
    reason = _reason(
        _("Why are you reversing it?"),
        _("The member and the accountant will see this. For example: paid twice by mistake."),
    )
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=200)


class CorrectionForm(forms.Form):
    """An adjustment or a grant from the pot, for one member."""

    kind = forms.ChoiceField(
        label=_("What do you want to do?"),
        choices=[
            (ApprovalKind.ADJUSTMENT, _("Adjust a member's tokens")),
            (ApprovalKind.GRANT, _("Grant tokens from the pot")),
        ],
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose an adjustment or a grant."),
            "invalid_choice": _("Choose an adjustment or a grant."),
        },
    )
    kind.choice_hints = {  # type: ignore[attr-defined]
        ApprovalKind.ADJUSTMENT: _(
            "A correction: minutes in, or out with a minus sign (-60). From the adjustments "
            "account."
        ),
        ApprovalKind.GRANT: _("Donated tokens, for a member in hardship. From the pot."),
    }
    member = forms.IntegerField(
        label=_("Member number"),
        help_text=_("As on the member's card."),
        min_value=1,
        widget=forms.TextInput(attrs={"width": "5", "inputmode": "numeric", "spellcheck": "false"}),
        error_messages={
            "required": _("Enter the member number."),
            "invalid": _("A member number is a whole number."),
            "min_value": _("A member number is a whole number."),
        },
    )
    minutes = _minutes(_("Minutes"), required=True)
    reason = _reason(
        _("Why?"), _("The member will see this on their statement, and so will the accountant.")
    )
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=200)

    def __init__(self, *args: Any, token_minutes: int = 60, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["minutes"].help_text = _(
            "In minutes of help: %(n)d minutes is 1 token. For an adjustment that takes tokens "
            "away, put a minus sign first."
        ) % {"n": token_minutes}

    def clean_minutes(self) -> int:
        minutes: int = self.cleaned_data["minutes"]
        if minutes == 0:
            raise ValidationError(_("Enter a number of minutes other than 0."))
        return minutes


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", "approve"), ("refuse", "refuse")])
    reason = forms.CharField(
        label=_("Your reason (optional)"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"max_length": _("Use 500 characters or fewer.")},
    )
