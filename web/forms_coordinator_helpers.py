"""The coordinators' forms for helpers: the checks recorded (DESIGN.md's fields), a suspension or
reinstatement with its reason, and the feedback page's filter. Shape only: which checks need a
certificate's details, and whether a helper may be suspended now, are the services' rules, and
their refusals land beside these fields (the field names are the services' argument names)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from helpers.models import DbsLevel
from web.forms import DateField, text


class ChecksForm(forms.Form):
    identity_checked = forms.BooleanField(
        label=_("Identity checked"),
        help_text=_("You saw proof of who they are, such as a passport or driving licence."),
        required=False,
    )
    references_checked = forms.BooleanField(
        label=_("References checked"),
        help_text=_("You took up their references and they were satisfactory."),
        required=False,
    )
    dbs_level = forms.ChoiceField(
        label=_("DBS check"),
        choices=DbsLevel.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose the level of their DBS check, or None.")},
    )
    dbs_certificate_number = text(
        _("DBS certificate number"),
        hint=_("12 digits, on the certificate. Only with a basic or enhanced check."),
        required=False,
        width="20",
        max_length=20,
        inputmode="numeric",
        spellcheck="false",
        autocomplete="off",
    )
    dbs_issue_date = DateField(
        label=_("Date the certificate was issued"),
        hint=_("For example, 27 3 2025. Only with a basic or enhanced check."),
    )
    original_seen_by = text(
        _("Who saw the original certificate"),
        hint=_("Their full name. Only with a basic or enhanced check."),
        required=False,
        max_length=150,
        autocomplete="off",
        spellcheck="false",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The date is needed only with a certificate, which the service decides.
        self.fields["dbs_issue_date"].required = False
        self.fields["dbs_level"].choice_hints = {  # type: ignore[attr-defined]
            DbsLevel.NONE.value: _("No DBS certificate seen: they can do no task that needs one."),
            DbsLevel.BASIC.value: _("A basic DBS certificate."),
            DbsLevel.ENHANCED.value: _("An enhanced DBS certificate."),
        }


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Why?"),
        help_text=_("This is kept in the helper's record, with your name and the time."),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"].error_messages.update(
            {"required": _("Say why."), "max_length": _("Use 500 characters or fewer.")}
        )


class FeedbackFilterForm(forms.Form):
    helper = forms.TypedChoiceField(label=_("Helper"), coerce=int, required=False, empty_value=None)
    low = forms.BooleanField(label=_("Only low ratings (1 or 2)"), required=False)
    after = forms.CharField(required=False, max_length=80, widget=forms.HiddenInput)

    def __init__(self, *args: Any, helpers: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["helper"].choices = [("", _("All helpers")), *helpers]  # type: ignore[attr-defined]
