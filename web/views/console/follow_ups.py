"""The operators' follow-ups: the attention queue's items that operators handle (people to
ring), oldest first, with counts by kind; and one item's page, where an operator claims it
("I'll ring them"), adds notes and closes it with the outcome.

An item's page holds everything for it at once (staff do this all day: DESIGN.md), and each
action posts to its own address, then comes back to the page it was sent from.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from attention.models import OPERATOR_KINDS, Item, ItemKind
from attention.selectors import note_list, queue_counts, queue_item_get, queue_items
from attention.services import item_claim, item_done, item_note_add
from circle import words
from circle.errors import DomainError, NotFound
from circle.models import Circle
from matching.selectors import tasks_by_id
from members.selectors import Caller
from web.forms_follow_ups import CloseForm, NoteForm, TakeOverForm
from web.templatetags.circle_web import phone_display
from web.views.base import form_error, render_page, staff_required

# The most the list shows at once: those waiting longest. A queue longer than this is worked
# from the top (the counts say how many more); paging through it would only invite skipping.
SHOWN = 100


def _kind_filter(request: HttpRequest) -> str:
    kind = request.GET.get("kind", "")
    return kind if kind in OPERATOR_KINDS else ""


@require_GET
@staff_required
def queue(request: HttpRequest, circle: Circle) -> HttpResponse:
    kind = _kind_filter(request)
    counts = queue_counts(circle=circle)
    items = queue_items(circle=circle, kinds=[kind] if kind else OPERATOR_KINDS, limit=SHOWN)
    tasks = tasks_by_id(circle=circle, task_ids=(item.task_id for item in items))
    total = sum(counts.values())
    return render_page(
        request,
        "web/console/follow_ups.html",
        {
            "kind": kind,
            "kind_label": ItemKind(kind).label if kind else "",
            "kinds": [
                {"value": value, "label": ItemKind(value).label, "count": counts[value]}
                for value in OPERATOR_KINDS
            ],
            "total": total,
            "waiting": counts[kind] if kind else total,
            "rows": [
                {
                    "item": item,
                    "task": tasks.get(item.task_id or 0),
                    "ago": words.ago(item.created_at),
                }
                for item in items
            ],
            "shown": SHOWN,
        },
    )


def _item(circle: Circle, item_id: int) -> Item:
    try:
        return queue_item_get(circle=circle, item_id=item_id)
    except NotFound:
        raise Http404 from None


def _item_page(
    request: HttpRequest,
    circle: Circle,
    item: Item,
    *,
    note_form: NoteForm | None = None,
    close_form: CloseForm | None = None,
    claim_form: TakeOverForm | None = None,
) -> HttpResponse:
    caller: Caller = request.caller  # type: ignore[attr-defined]
    assert caller.user is not None
    task = tasks_by_id(circle=circle, task_ids=[item.task_id or 0]).get(item.task_id or 0)
    holder = item.claimed_by
    context: dict[str, Any] = {
        "item": item,
        "kind_label": ItemKind(item.kind).label,
        "task": task,
        "notes": note_list(item=item),
        "note_form": note_form or NoteForm(),
        "close_form": close_form or CloseForm(),
        "mine": holder is not None and holder.pk == caller.user.pk,
        "holder": holder,
        "claim_form": claim_form,
        "ago": words.ago(item.created_at),
        "back": reverse("web:console-follow-ups", args=[circle.slug]),
    }
    return render_page(request, "web/console/follow_up.html", context)


@require_GET
@staff_required
def detail(request: HttpRequest, circle: Circle, item_id: int) -> HttpResponse:
    return _item_page(request, circle, _item(circle, item_id))


@require_POST
@staff_required
def claim(request: HttpRequest, circle: Circle, item_id: int) -> HttpResponse:
    item = _item(circle, item_id)
    form = TakeOverForm(request.POST)
    take_over_from = form.cleaned_data["take_over_from"] if form.is_valid() else None
    try:
        item = item_claim(
            item=item,
            caller=request.caller,  # type: ignore[attr-defined]
            take_over_from=take_over_from,
        )
    except DomainError as error:
        # Someone else has it, or it was closed meanwhile: say so on the item's page, which
        # shows who holds it now (and the button to take it over, having asked them).
        form_error(form, error)
        return _item_page(request, circle, _item(circle, item_id), claim_form=form)
    messages.success(
        request,
        _("You have this one now. Ring %(name)s on %(phone)s.")
        % {"name": item.member.full_name, "phone": _phone(item)},
    )
    return redirect("web:console-follow-up", circle.slug, item.pk)


def _phone(item: Item) -> str:
    return phone_display(item.phone or item.member.phone) or _("no number on record")


@require_POST
@staff_required
def note(request: HttpRequest, circle: Circle, item_id: int) -> HttpResponse:
    item = _item(circle, item_id)
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            item_note_add(
                item=item,
                caller=request.caller,  # type: ignore[attr-defined]
                text=form.cleaned_data["text"],
            )
        except DomainError as error:
            form_error(form, error)
        else:
            messages.success(request, _("Your note is added."))
            return redirect(
                reverse("web:console-follow-up", args=[circle.slug, item.pk]) + "#notes"
            )
    return _item_page(request, circle, item, note_form=form)


def _closed_just_so(item: Item, caller: Caller, outcome: str) -> bool:
    """The close was this person's own, with these words: the form sent twice, which is
    answered as the first was, not as a refusal."""
    return (
        item.done_by_id is not None
        and caller.user is not None
        and item.done_by_id == caller.user.pk
        and item.done_note == outcome.strip()[:500]
    )


@require_POST
@staff_required
def close(request: HttpRequest, circle: Circle, item_id: int) -> HttpResponse:
    item = _item(circle, item_id)
    form = CloseForm(request.POST)
    if form.is_valid():
        try:
            item_done(
                item=item,
                caller=request.caller,  # type: ignore[attr-defined]
                note=form.cleaned_data["outcome"],
            )
        except DomainError as error:
            item = _item(circle, item_id)
            if not _closed_just_so(item, request.caller, form.cleaned_data["outcome"]):  # type: ignore[attr-defined]
                form_error(form, error)
                return _item_page(request, circle, item, close_form=form)
        messages.success(
            request,
            _("Closed: %(kind)s for %(name)s.")
            % {"kind": ItemKind(item.kind).label, "name": item.member.full_name},
        )
        return redirect("web:console-follow-ups", circle.slug)
    return _item_page(request, circle, item, close_form=form)
