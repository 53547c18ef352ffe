"""Forms of the helpers' pages: the minutes a job took, and why a helper hands a task back."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core.validators import MaxValueValidator
from django.utils.translation import gettext_lazy as _


class DoneForm(forms.Form):
    """How long the job took, in minutes. `confirmed` is the second step's hidden answer: the
    first step shows what will be billed and asks again, and only then is anything written."""

    minutes = forms.IntegerField(
        label=_("How many minutes did it take?"),
        help_text=_("Count the time you spent on the job, in minutes: 1 hour is 60 minutes."),
        min_value=1,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "width": "3"}),
    )
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        most = settings.MATCHING_MAX_REPORTED_MINUTES
        field = self.fields["minutes"]
        assert isinstance(field, forms.IntegerField)
        field.max_value = most
        field.validators.append(MaxValueValidator(most))
        field.error_messages.update(
            {
                "required": _("Enter how many minutes the job took."),
                "invalid": _("Enter the minutes as a number, like 45."),
                "min_value": _("Enter at least 1 minute."),
                "max_value": _("Enter %(most)s minutes or fewer. If it took longer, call us.")
                % {"most": most},
            }
        )


class HandBackForm(forms.Form):
    reason = forms.CharField(
        label=_("Why can you not do it?"),
        help_text=_(
            "Your circle's coordinator reads this. We will offer the job to other helpers."
        ),
        max_length=500,
        widget=forms.Textarea,
        error_messages={
            "required": _("Say why you cannot do it."),
            "max_length": _("Use 500 characters or fewer."),
        },
    )
