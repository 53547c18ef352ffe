"""The coordinators' desk's first page: one queue of what needs a coordinator (safeguarding
first, then the longest waiting), with counts by kind, filters by kind and by who has it;
and an item's page, where a coordinator reads who and what it is about, adds notes, gives it
to someone on the staff (or takes it) and resolves it with the outcome in words.

Each action posts to its own address, then comes back to the item's page (or, resolved, to
the queue). The operators' kinds are the console's follow-ups; the desk links to them.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from attention.models import COORDINATOR_KINDS, OPERATOR_KINDS, URGENT_KINDS, Item, ItemKind
from attention.selectors import (
    HOLDERS,
    desk_holder_counts,
    desk_items,
    note_list,
    queue_counts,
    queue_item_get,
)
from attention.services import (
    CONCERN_CAUSE,
    item_assign,
    item_note_add,
    item_resolve,
    staff_choices,
)
from circle import words
from circle.errors import DomainError, NotFound
from circle.models import Circle
from helpers.selectors import helper_id_of
from matching.selectors import tasks_by_id
from members.selectors import Caller
from web.forms_coordinator_queue import AssignForm, ResolveForm
from web.forms_follow_ups import NoteForm
from web.views.base import coordinator_required, form_error, render_page

# The most the list shows at once: those waiting longest (safeguarding always on top).
SHOWN = 100

HOLDER_LABELS = {
    "all": gettext_lazy("Anyone's"),
    "mine": gettext_lazy("Mine"),
    "unassigned": gettext_lazy("Nobody's yet"),
}


def _filters(request: HttpRequest) -> tuple[str, str]:
    kind = request.GET.get("kind", "")
    holder = request.GET.get("who", "all")
    return (
        kind if kind in COORDINATOR_KINDS else "",
        holder if holder in HOLDERS else "all",
    )


def _query(kind: str, holder: str) -> str:
    """The queue's address with these filters (none: the whole queue)."""
    params = {}
    if kind:
        params["kind"] = kind
    if holder != "all":
        params["who"] = holder
    return "?" + urlencode(params) if params else "?"


@require_GET
@coordinator_required
def page(request: HttpRequest, circle: Circle) -> HttpResponse:
    caller: Caller = request.caller  # type: ignore[attr-defined]
    assert caller.user is not None
    kind, holder = _filters(request)
    kinds = [kind] if kind else COORDINATOR_KINDS
    counts = queue_counts(circle=circle, kinds=COORDINATOR_KINDS)
    holders = desk_holder_counts(circle=circle, user_id=caller.user.pk, kinds=kinds)
    items = desk_items(
        circle=circle, user_id=caller.user.pk, kinds=kinds, holder=holder, limit=SHOWN
    )
    operators = sum(queue_counts(circle=circle, kinds=OPERATOR_KINDS).values())
    tasks = tasks_by_id(circle=circle, task_ids=(item.task_id for item in items))
    total = sum(counts.values())
    return render_page(
        request,
        "web/coordinator/queue_list.html",
        {
            "kind": kind,
            "kind_label": ItemKind(kind).label if kind else "",
            "holder": holder,
            "holder_label": HOLDER_LABELS[holder],
            "kinds": [
                {
                    "value": value,
                    "label": ItemKind(value).label,
                    "count": counts[value],
                    "href": _query(value, holder),
                    "urgent": value in URGENT_KINDS,
                }
                for value in COORDINATOR_KINDS
            ],
            "all_kinds_href": _query("", holder),
            "holders": [
                {
                    "value": value,
                    "label": HOLDER_LABELS[value],
                    "count": holders[value],
                    "href": _query(kind, value),
                }
                for value in HOLDERS
            ],
            "total": total,
            "waiting": holders[holder],
            "rows": [
                {
                    "item": item,
                    "task": tasks.get(item.task_id or 0),
                    "ago": words.ago(item.created_at),
                    "urgent": item.kind in URGENT_KINDS,
                }
                for item in items
            ],
            "shown": SHOWN,
            "operators": operators,
        },
    )


def _item(circle: Circle, item_id: int) -> Item:
    try:
        return queue_item_get(circle=circle, item_id=item_id, kinds=COORDINATOR_KINDS)
    except NotFound:
        raise Http404 from None


def _item_page(
    request: HttpRequest,
    circle: Circle,
    item: Item,
    *,
    note_form: NoteForm | None = None,
    assign_form: AssignForm | None = None,
    resolve_form: ResolveForm | None = None,
    status: int = 200,
) -> HttpResponse:
    caller: Caller = request.caller  # type: ignore[attr-defined]
    assert caller.user is not None
    task = tasks_by_id(circle=circle, task_ids=[item.task_id]).get(item.task_id or 0)
    staff = staff_choices(circle_id=circle.pk)
    holder = item.claimed_by
    context: dict[str, Any] = {
        "item": item,
        "kind_label": ItemKind(item.kind).label,
        "urgent": item.kind in URGENT_KINDS,
        "task": task,
        "notes": note_list(item=item),
        "note_form": note_form or NoteForm(),
        "assign_form": assign_form or AssignForm(staff=staff),
        "resolve_form": resolve_form or ResolveForm(),
        "mine": holder is not None and holder.pk == caller.user.pk,
        "holder": holder,
        "ago": words.ago(item.created_at),
        "back": reverse("web:coordinator", args=[circle.slug]),
        "desk_links": _desk_links(circle, item),
        # A concern's item closes with the concern, on its own page.
        "closes_with_concern": concern_of(item) is not None,
    }
    return render_page(request, "web/coordinator/queue_item.html", context, status=status)


def concern_of(item: Item) -> int | None:
    """The id of the concern a safeguarding item was raised for, if it was."""
    if item.kind == ItemKind.SAFEGUARDING and item.cause.startswith(CONCERN_CAUSE):
        return int(item.cause.removeprefix(CONCERN_CAUSE))
    return None


def _desk_links(circle: Circle, item: Item) -> list[tuple[str, str]]:
    """The other desk pages an item's kind leads to: a helper's kinds to the helper's record
    (the item is about their member record), a rating to that helper's feedback."""
    links: list[tuple[str, str]] = []
    concern_id = concern_of(item)
    if concern_id is not None:
        # The concern's own page, where its words are (and the reading is logged).
        links.append(
            (
                reverse("web:coordinator-concern", args=[circle.slug, concern_id]),
                _("Open the concern"),
            )
        )
        return links
    if item.kind not in (ItemKind.CHECKS_DUE, ItemKind.LOW_RATING):
        return links
    helper_id = helper_id_of(circle=circle, member_id=item.member_id)
    if helper_id is None:
        links.append((reverse("web:coordinator-helpers", args=[circle.slug]), _("Helpers")))
        return links
    links.append(
        (reverse("web:coordinator-helper", args=[circle.slug, helper_id]), _("Their record"))
    )
    if item.kind == ItemKind.LOW_RATING:
        feedback = reverse("web:coordinator-feedback", args=[circle.slug])
        links.append((f"{feedback}?helper={helper_id}", _("Their feedback")))
    return links


@require_GET
@coordinator_required
def item(request: HttpRequest, circle: Circle, item_id: int) -> HttpResponse:
    return _item_page(request, circle, _item(circle, item_id))


def _back_to(circle: Circle, item: Item, anchor: str = "") -> HttpResponse:
    return redirect(reverse("web:coordinator-item", args=[circle.slug, item.pk]) + anchor)


@require_POST
@coordinator_required
def note(request: HttpRequest, circle: Circle, item_id: int) -> HttpResponse:
    found = _item(circle, item_id)
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            item_note_add(
                item=found,
                caller=request.caller,  # type: ignore[attr-defined]
                text=form.cleaned_data["text"],
            )
        except DomainError as error:
            form_error(form, error)
        else:
            messages.success(request, _("Your note is added."))
            return _back_to(circle, found, "#notes")
    return _item_page(request, circle, found, note_form=form)


@require_POST
@coordinator_required
def assign(request: HttpRequest, circle: Circle, item_id: int) -> HttpResponse:
    found = _item(circle, item_id)
    caller: Caller = request.caller  # type: ignore[attr-defined]
    assert caller.user is not None
    staff = staff_choices(circle_id=circle.pk)
    data = request.POST.copy()
    if "take" in data:
        # "I'll take it": the same as giving it to oneself.
        data["assignee"] = str(caller.user.pk)
    form = AssignForm(data, staff=staff)
    if form.is_valid():
        try:
            found = item_assign(item=found, caller=caller, to_user_id=form.cleaned_data["assignee"])
        except DomainError as error:
            form_error(form, error)
        else:
            holder = found.claimed_by
            assert holder is not None
            if holder.pk == caller.user.pk:
                messages.success(request, _("You have this one now."))
            else:
                messages.success(
                    request,
                    _("Given to %(name)s.") % {"name": holder.full_name or holder.email},
                )
            return _back_to(circle, found)
    return _item_page(request, circle, _item(circle, item_id), assign_form=form)


def _resolved_just_so(item: Item, caller: Caller, outcome: str) -> bool:
    """The resolve was this person's own, with these words: the form sent twice."""
    return (
        item.done_by_id is not None
        and caller.user is not None
        and item.done_by_id == caller.user.pk
        and item.done_note == outcome.strip()[:500]
    )


@require_POST
@coordinator_required
def resolve(request: HttpRequest, circle: Circle, item_id: int) -> HttpResponse:
    found = _item(circle, item_id)
    caller: Caller = request.caller  # type: ignore[attr-defined]
    form = ResolveForm(request.POST)
    if form.is_valid():
        outcome = form.cleaned_data["outcome"]
        try:
            item_resolve(item=found, caller=caller, outcome=outcome)
        except DomainError as error:
            found = _item(circle, item_id)
            if not _resolved_just_so(found, caller, outcome):
                form_error(form, error)
                return _item_page(request, circle, found, resolve_form=form)
        messages.success(
            request,
            _("Resolved: %(kind)s for %(name)s.")
            % {"kind": ItemKind(found.kind).label, "name": found.member.full_name},
        )
        return redirect("web:coordinator", circle.slug)
    return _item_page(request, circle, found, resolve_form=form)
