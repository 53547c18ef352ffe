"""What Circle holds about a caller (UK GDPR right of access), for staff on the phone: the
member's own /my/data/ page and file (web/views/member/data.py), reached from the caller's
card. Each reading is audited as the member's own is."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from circle.models import Circle
from members.selectors import Caller
from members.services import member_data_export
from web.views.base import render_page, staff_required
from web.views.console.card import caller_member
from web.views.member.data import data_context, data_file


@staff_required
def console_page(request: HttpRequest, circle: Circle, member_id: int) -> HttpResponse:
    member = caller_member(circle, member_id)
    caller: Caller = request.caller  # type: ignore[attr-defined]
    body = member_data_export(caller=caller, member=member, how="page")
    return render_page(request, "web/console/data.html", data_context(body) | {"member": member})


@staff_required
def console_download(request: HttpRequest, circle: Circle, member_id: int) -> HttpResponse:
    member = caller_member(circle, member_id)
    caller: Caller = request.caller  # type: ignore[attr-defined]
    return data_file(member_data_export(caller=caller, member=member, how="file"), member)
