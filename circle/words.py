"""Numbers, times and amounts as people say them: "£10.00", "1 hour 30 minutes (1.5 tokens)",
"Tuesday 8 December, 10am to 12pm".

Pages, emails and text messages all speak through these, so a member reads the same words
everywhere. Times are London wall-clock time, whatever the server's zone; the API keeps ISO 8601.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from djmoney.money import Money

LONDON = ZoneInfo("Europe/London")
_SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$"}


def money(value: Money | Decimal | int | None, currency: str = "GBP") -> str:
    """£10.00: always two decimal places, since a price without pence reads as a guess."""
    if value is None:
        return ""
    if isinstance(value, Money):
        amount, currency = value.amount, str(value.currency)
    else:
        amount = Decimal(value)
    amount = Decimal(amount).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    sign = "-" if amount < 0 else ""
    symbol = _SYMBOLS.get(currency, f"{currency} ")
    return f"{sign}{symbol}{abs(amount):,.2f}"


def duration(minutes: int) -> str:
    """90 → "1 hour 30 minutes"; 0 → "no time"; negative amounts read as their size."""
    minutes = abs(int(minutes))
    if minutes == 0:
        return _("no time")
    hours, rest = divmod(minutes, 60)
    parts = []
    if hours:
        parts.append(ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours})
    if rest:
        parts.append(ngettext("%(n)d minute", "%(n)d minutes", rest) % {"n": rest})
    return " ".join(parts)


def token_count(minutes: int, *, token_minutes: int) -> Decimal:
    """How many tokens `minutes` make at the circle's `token_minutes` a token: to two places,
    half up. The one rule for the API's token quantities and the pages' words."""
    return (Decimal(int(minutes)) / Decimal(token_minutes)).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP
    )


def token_count_text(minutes: int, *, token_minutes: int) -> str:
    """`str(token_count(...))` in integer arithmetic: the same text ("1.50", "-0.02", and
    "-0.00" for a debit too small to show), at a tenth of the cost, for lists of thousands of
    quantities (the trial balance) where building a Decimal for each was most of the time."""
    magnitude = abs(int(minutes)) * 100
    # Half up (away from zero) to a hundredth: floor(x + 1/2) with x = magnitude / token_minutes.
    cents = (2 * magnitude + token_minutes) // (2 * token_minutes)
    sign = "-" if minutes < 0 else ""
    return f"{sign}{cents // 100}.{cents % 100:02d}"


def tokens(minutes: int, *, token_minutes: int) -> str:
    """90 minutes at 60 a token → "1.5 tokens"; whole numbers without a decimal point."""
    count = token_count(abs(int(minutes)), token_minutes=token_minutes)
    text = f"{count.normalize():f}"
    return ngettext("%(n)s token", "%(n)s tokens", 1 if count == 1 else 2) % {"n": text}


def time_and_tokens(minutes: int, *, token_minutes: int) -> str:
    """The way a member reads an amount of help: "1 hour 30 minutes (1.5 tokens)"."""
    return f"{duration(minutes)} ({tokens(minutes, token_minutes=token_minutes)})"


def clock(moment: datetime) -> str:
    """10am, 10:30am, 12pm (noon), 12am (midnight), in London."""
    local = timezone.localtime(moment, LONDON)
    hour = local.hour % 12 or 12
    suffix = "am" if local.hour < 12 else "pm"
    if local.minute:
        return f"{hour}:{local.minute:02d}{suffix}"
    return f"{hour}{suffix}"


def day(value: date | datetime, *, with_year: bool = False) -> str:
    """Tuesday 8 December (the year only where it is not obvious)."""
    if isinstance(value, datetime):
        value = timezone.localtime(value, LONDON).date()
    text = f"{value:%A} {value.day} {value:%B}"
    return f"{text} {value.year}" if with_year else text


def window(start: datetime, end: datetime, *, today: date | None = None) -> str:
    """Tuesday 8 December, 10am to 12pm. A window that runs past midnight names both days; a
    window in another year than this one says the year."""
    today = today or timezone.localdate(timezone=LONDON)
    local_start = timezone.localtime(start, LONDON)
    local_end = timezone.localtime(end, LONDON)
    with_year = local_start.year != today.year
    first = day(local_start, with_year=with_year)
    if local_start.date() == local_end.date():
        return _("%(day)s, %(start)s to %(end)s") % {
            "day": first,
            "start": clock(start),
            "end": clock(end),
        }
    return _("%(day)s, %(start)s to %(end_day)s, %(end)s") % {
        "day": first,
        "start": clock(start),
        "end_day": day(local_end, with_year=local_end.year != today.year),
        "end": clock(end),
    }


def moment(value: datetime, *, today: date | None = None) -> str:
    """Tuesday 8 December at 10:30am."""
    today = today or timezone.localdate(timezone=LONDON)
    local = timezone.localtime(value, LONDON)
    return _("%(day)s at %(time)s") % {
        "day": day(local, with_year=local.year != today.year),
        "time": clock(value),
    }


def ago(value: datetime, *, now: datetime | None = None) -> str:
    """How long since `value`, as people say it: "just now", "20 minutes ago", "3 hours ago",
    "yesterday", "3 days ago" (the follow-ups show how long someone has waited)."""
    now = now or timezone.now()
    seconds = max(0, int((now - value).total_seconds()))
    if seconds < 60:
        return _("just now")
    if seconds < 3600:
        n = seconds // 60
        return ngettext("%(n)d minute ago", "%(n)d minutes ago", n) % {"n": n}
    if seconds < 86400:
        n = seconds // 3600
        return ngettext("%(n)d hour ago", "%(n)d hours ago", n) % {"n": n}
    days = (timezone.localtime(now, LONDON).date() - timezone.localtime(value, LONDON).date()).days
    if days <= 1:
        return _("yesterday")
    return ngettext("%(n)d day ago", "%(n)d days ago", days) % {"n": days}
