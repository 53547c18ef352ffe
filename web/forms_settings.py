"""The coordinators' settings forms. Shape only: the limits (no negative prices, no zero
increments) are circle.services', whose refusals the views put on these forms."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from circle.models import VettingLevel

LEVEL_CHOICES = [
    (VettingLevel.NONE, _("None: anyone may help")),
    (VettingLevel.BASIC, _("Basic: identity, references and a basic DBS check")),
    (VettingLevel.ENHANCED, _("Enhanced: an enhanced DBS check")),
]


class RulesForm(forms.Form):
    membership_fee = forms.DecimalField(
        label=_("Membership fee a year, in pounds"), help_text=_("For example, 10.00")
    )
    token_price = forms.DecimalField(
        label=_("Price of one token, in pounds"), help_text=_("For example, 10.00")
    )
    billing_increment_minutes = forms.IntegerField(
        label=_("Billing increment, in minutes"),
        help_text=_("Tasks are billed in steps of this many minutes, rounded up."),
    )
    offer_wave_minutes = forms.IntegerField(
        label=_("Wait between offers, in minutes"),
        help_text=_(
            "How long the helpers told of a new task have to accept it before the next few "
            "are told."
        ),
    )
    approval_threshold_minutes = forms.IntegerField(
        label=_("Approval threshold, in minutes"),
        help_text=_(
            "Adjustments and grants larger than this wait for a second coordinator. 0 means "
            "every one does."
        ),
    )
    no_helper_warning_hours = forms.IntegerField(
        label=_("Warn about a task with no helper, in hours before it"),
        help_text=_("A task still without a helper this close to its time needs a person."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            # Text with a number keyboard, as GOV.UK advises, not type="number".
            money = isinstance(field, forms.DecimalField)
            field.widget = forms.TextInput(
                attrs={"width": "5", "inputmode": "decimal" if money else "numeric"}
            )
            label = str(field.label).split(",")[0].lower()
            field.error_messages.update(
                {
                    "required": _("Enter the %(label)s.") % {"label": label},
                    "invalid": _("Enter the %(label)s as a number.") % {"label": label},
                }
            )


class CategoryForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    vetting_level = forms.ChoiceField(
        label=_("Vetting a helper needs"), choices=LEVEL_CHOICES, widget=forms.RadioSelect
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name"].error_messages["required"] = _("Enter a name for the kind of help.")
        self.fields["vetting_level"].error_messages["required"] = _(
            "Choose the vetting a helper needs."
        )
