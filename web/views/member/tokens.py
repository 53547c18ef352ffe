"""A member's tokens in plain words, and their statement, newest first, 25 lines a page.

The statement reads one page of the ledger (tokens.selectors.member_statement: a count and
the page's rows), so it stays as quick for a member with ten thousand lines as with ten.
"""

from __future__ import annotations

from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse

from members.models import Member
from tokens.selectors import member_statement, member_tokens
from web.views.base import member_required, render_page, trusted_scope

PER_PAGE = 25


def _page_number(raw: str | None) -> int:
    try:
        return max(1, int(raw or 1))
    except ValueError:
        return 1


@member_required
@trusted_scope("statement")
def statement(request: HttpRequest) -> HttpResponse:
    member: Member = request.member  # type: ignore[attr-defined]
    number = _page_number(request.GET.get("page"))
    count, lines = member_statement(member=member, limit=PER_PAGE, offset=(number - 1) * PER_PAGE)
    # Paginator counts a range without building it: the count is the selector's.
    paginator = Paginator(range(count), PER_PAGE)
    if number > paginator.num_pages:
        # An address past the end (an old bookmark): the last page instead.
        number = paginator.num_pages
        count, lines = member_statement(
            member=member, limit=PER_PAGE, offset=(number - 1) * PER_PAGE
        )
    return render_page(
        request,
        "web/member/tokens.html",
        {
            "tokens": member_tokens(member=member),
            "lines": lines,
            "page": Page(lines, number, paginator),
            "member": member,
        },
    )
