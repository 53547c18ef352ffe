"""Words for the coordinators' ledger: amounts with their sign, as books show them."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext as _

from circle.words import duration, token_count_text
from tokens.models import AccountKind

register = template.Library()


@register.filter
def signed_time(minutes: int | None) -> str:
    """-90 → "minus 1 hour 30 minutes"; 90 → "1 hour 30 minutes"; 0 → "0". Words, not a dash,
    so a screen reader says the sign."""
    minutes = int(minutes or 0)
    if minutes == 0:
        return "0"
    if minutes < 0:
        return _("minus %(time)s") % {"time": duration(minutes)}
    return duration(minutes)


@register.filter
def signed_tokens(minutes: int | None, token_minutes: int) -> str:
    """-90 at 60 a token → "-1.50"."""
    return token_count_text(int(minutes or 0), token_minutes=int(token_minutes))


@register.filter
def account_label(kind: str) -> str:
    """A system account's name as the page says it: "pot" → "Pot (donated tokens)"."""
    return str(AccountKind(kind).label) if kind in AccountKind.values else kind
