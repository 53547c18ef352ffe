"""What Circle holds about a person (UK GDPR right of access): the member's /my/data/, and
the same for staff on the phone, from the caller's card. Both read members.services.
member_data_export, which gathers every app's part and audits each reading; the page shows
it in plain words, printable, and offers it as a JSON file to keep."""

from __future__ import annotations

import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from members.models import Member
from members.selectors import Caller
from members.services import member_data_export
from web.views.base import member_required, render_page
from web.views.console.card import ACTION_WORDS

# What the card does not name (it lists only what staff did): the rest a member may read here.
MORE_WORDS = {
    "member.joined": _("Joined the circle"),
    "followup.queued": _("Put on the staff's list to follow up"),
    "followup.claimed": _("A member of staff took the follow-up"),
    "followup.done": _("Follow-up finished"),
    "data.exported": _("Took a copy of this data"),
    "helper.vetted": _("Recorded a helper's checks"),
}


def data_context(body: dict[str, Any]) -> dict[str, Any]:
    """The export, with each audit row's action in words where the console has them."""
    words = {**MORE_WORDS, **ACTION_WORDS}
    audit = [row | {"what": words.get(row["action"], row["action"])} for row in body["audit"]]
    return {"data": body, "audit": audit}


def data_file(body: dict[str, Any], member: Member) -> HttpResponse:
    response = HttpResponse(
        json.dumps(body, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="circle-data-{member.pk}.json"'
    return response


@member_required
def page(request: HttpRequest) -> HttpResponse:
    member: Member = request.member  # type: ignore[attr-defined]
    caller: Caller = request.caller  # type: ignore[attr-defined]
    body = member_data_export(caller=caller, member=member, how="page")
    return render_page(request, "web/member/data.html", data_context(body) | {"member": member})


@member_required
def download(request: HttpRequest) -> HttpResponse:
    member: Member = request.member  # type: ignore[attr-defined]
    caller: Caller = request.caller  # type: ignore[attr-defined]
    return data_file(member_data_export(caller=caller, member=member, how="file"), member)
