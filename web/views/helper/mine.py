"""The helper's own tasks: those coming up, those waiting for the member to confirm, those
finished, and (for a volunteer) the tokens they have earned."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from helpers.models import Helper, HelperKind
from matching.access import helper_finished_tasks, helper_task_list
from matching.models import TaskStatus
from tokens.selectors import wallet_earnings
from web.views.base import helper_required, render_page

# Finished tasks shown: the most recent; the earnings line counts them all.
FINISHED_SHOWN = 20


@helper_required
def mine(request: HttpRequest) -> HttpResponse:
    helper: Helper = request.helper  # type: ignore[attr-defined]
    in_hand = list(helper_task_list(helpers=[helper]))
    volunteer = helper.kind == HelperKind.VOLUNTEER
    return render_page(
        request,
        "web/helper/mine.html",
        {
            "coming": [t for t in in_hand if t.status == TaskStatus.ACCEPTED],
            "waiting": [t for t in in_hand if t.status == TaskStatus.COMPLETED],
            "finished": helper_finished_tasks(helper=helper, limit=FINISHED_SHOWN),
            "volunteer": volunteer,
            "earned": wallet_earnings(member=helper.member) if volunteer else None,
        },
    )
