"""The coordinators' queue's forms: who an item goes to, and the outcome that resolves it.
Shape only; the rules (staff of this circle, an item already resolved) are the services'.
Notes use the follow-ups' NoteForm."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from attention.services import OUTCOME_MAX
from members.models import User


class AssignForm(forms.Form):
    assignee = forms.TypedChoiceField(label=_("Give it to"), coerce=int, choices=())

    def __init__(self, *args: Any, staff: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["assignee"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [("", _("Choose someone"))] + [
            (user.pk, user.full_name or str(user)) for user in staff
        ]
        field.error_messages.update(
            {
                "required": _("Choose who to give it to."),
                "invalid_choice": _("Choose someone on the circle's staff."),
            }
        )


class ResolveForm(forms.Form):
    outcome = forms.CharField(
        label=_("What was the outcome?"),
        help_text=_(
            "In words, for whoever reads this later. For example: found Dan to help instead; "
            "or spoke to the helper, who apologised."
        ),
        max_length=OUTCOME_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["outcome"].error_messages.update(
            {
                "required": _("Say what the outcome was."),
                "max_length": _("Use 500 characters or fewer."),
            }
        )
