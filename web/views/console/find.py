"""Finding a caller (`/console/{slug}/`): one box, with the focus in it on arrival, that takes
what the caller says (a name, a phone number in any spacing, a postcode, district or sector) and
lists who matches, each linking to their card.

`members.selectors.member_search` does the finding, as it does for the API's
`GET /api/v1/circles/{slug}/members/?q=`. With JavaScript, web/static/web/console-search.js asks
this same view for only the results (`?q=...&part=results`) as the operator types; without it
the form submits and the whole page comes back with them.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from circle import words
from circle.errors import DomainError
from circle.models import Circle
from members.models import Member, MembershipStatus
from members.selectors import member_paid_until, member_search
from members.services import age_on
from web.forms_console import FindForm
from web.templatetags.circle_web import phone_display
from web.views.base import form_error, render_page, staff_required

# An operator reads a short list to the caller; a longer one means "ask for more".
SHOWN = 25
# The fragment the search-as-you-type script asks for.
PART = "results"
# The card's address is reversed once a list, with this id standing for each member's.
CARD_ID = "2147483647"

STATUS: dict[str, tuple[Any, str]] = {
    MembershipStatus.PENDING: (_("Not paid yet"), "grey"),
    MembershipStatus.ACTIVE: (_("Active"), "green"),
    MembershipStatus.GRACE: (_("Grace period"), "yellow"),
    MembershipStatus.LAPSED: (_("Lapsed"), "red"),
}


def _row(member: Member, today: Any, card: str, not_known: str, none_given: str) -> dict[str, Any]:
    """What one line of the list shows, worked out here rather than in the template (which
    would resolve each through several lookups and filters, 25 times as the operator types)."""
    text, colour = STATUS.get(member.membership_status, (member.membership_status, "grey"))
    paid_until = member_paid_until(member)
    note: Any = ""
    if paid_until is not None:
        when = words.day(paid_until, with_year=True)
        if member.membership_status == MembershipStatus.ACTIVE:
            note = _("until %(day)s") % {"day": when}
        elif member.membership_status in (MembershipStatus.GRACE, MembershipStatus.LAPSED):
            note = _("ended %(day)s") % {"day": when}
    return {
        "name": member.full_name,
        "href": card.replace(CARD_ID, str(member.pk)),
        "age": age_on(born=member.date_of_birth, today=today)
        if member.date_of_birth
        else not_known,
        "postcode": member.postcode or none_given,
        "phone": phone_display(member.phone) or none_given,
        "status": text,
        "colour": colour,
        "note": note,
    }


def register_href(circle: Circle, query: str) -> str:
    """Registering a caller, with what was searched for already in its box: digits are a phone
    number, letters a name (a postcode is left to be typed)."""
    href = reverse("web:console-register", args=[circle.slug])
    query = query.strip()
    letters = any(ch.isalpha() for ch in query)
    digits = sum(ch.isdigit() for ch in query)
    if query and not letters and digits >= 6:
        return f"{href}?{urlencode({'phone': query})}"
    if query and letters and not digits:
        return f"{href}?{urlencode({'full_name': query})}"
    return href


@staff_required
def find(request: HttpRequest, circle: Circle) -> HttpResponse:
    form = FindForm(request.GET or None)
    query = ""
    rows: list[dict[str, Any]] = []
    total = 0
    if form.is_bound and form.is_valid():
        query = form.cleaned_data["q"].strip()
        if query:
            try:
                found = member_search(circle=circle, query=query, listing=True)
                page = list(found[: SHOWN + 1])
            except DomainError as error:
                form_error(form, error)
            else:
                # Each row carries the number found in all (counted in the same statement).
                total = page[0].matches if page else 0  # type: ignore[attr-defined]
                today = timezone.localdate()
                card = reverse("web:console-member", args=[circle.slug, int(CARD_ID)])
                # Translated once a list, not once a row.
                blanks = (gettext("Not known"), gettext("None given"))
                rows = [_row(member, today, card, *blanks) for member in page[:SHOWN]]
    context = {
        "form": form,
        "query": query if not form.errors else "",
        "rows": rows,
        "total": total,
        "shown": SHOWN,
        "register_href": register_href(circle, query),
        "part": PART,
    }
    if request.GET.get("part") == PART:
        # Only the results, for the script; the same words the page shows.
        return render_page(request, "web/console/_results.html", context)
    return render_page(request, "web/console/find.html", context)
