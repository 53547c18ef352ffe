"""The coordinators' ledger (DESIGN.md, "Web pages"; issue 13): the trial balance with the last
audit's verdict and a button to check again; the transactions, filtered and paged by keyset,
with each day's totals; one transaction's page and its reversal, on a confirmation page;
adjustments and grants, and the approvals waiting for a second coordinator; a member's
statement; and the accountant's CSV, streamed.

Each view validates, resolves scoped objects, calls one service or selector, and renders;
each action posts to its own address and comes back with a message.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from circle.errors import DomainError, NotFound
from circle.messages import message_for_staff
from circle.models import Circle
from circle.words import token_count_text
from members.models import Member
from members.selectors import member_get
from tokens.books import (
    DAYS_SHOWN,
    LONDON,
    Cursor,
    audit_run_latest,
    books_summary,
    day_totals,
    export_rows,
    statement_page,
    transaction_detail,
    transaction_lines,
    transaction_page,
)
from tokens.models import Approval, ApprovalStatus, LedgerTransaction, TransactionKind
from tokens.selectors import approval_list
from tokens.services import (
    REVERSIBLE_KINDS,
    Posted,
    approval_approve,
    approval_refuse,
    audit_run_create,
    correction_ask,
    new_key,
    reversal_create,
)
from web.forms_ledger import CorrectionForm, DecisionForm, ExportForm, FilterForm, ReverseForm
from web.templatetags.ledger_words import account_label
from web.views.base import coordinator_required, render_page

PAGE_SIZE = 50


def _error(error: DomainError) -> str:
    return message_for_staff(error)


# --- The trial balance ------------------------------------------------------------------------


@require_GET
@coordinator_required
def page(request: HttpRequest, circle: Circle) -> HttpResponse:
    books = books_summary(circle=circle)
    return render_page(
        request,
        "web/coordinator/ledger.html",
        {
            "books": books,
            "accounts": [
                ("issuance", _("Issuance (tokens sold)"), books.of("issuance")),
                ("pot", _("Pot (donated tokens)"), books.of("pot")),
                ("escrow", _("Escrow (held for booked tasks)"), books.of("escrow")),
                ("paid_help", _("Paid help"), books.of("paid_help")),
                ("adjustments", _("Adjustments"), books.of("adjustments")),
                ("wallet", _("Members' wallets"), books.of("wallet")),
            ],
            "audit": audit_run_latest(circle=circle),
            "waiting": approval_list(circle=circle).count(),
        },
    )


@require_POST
@coordinator_required
def audit(request: HttpRequest, circle: Circle) -> HttpResponse:
    run = audit_run_create(circle=circle, caller=request.caller)  # type: ignore[attr-defined]
    if run.ok:
        messages.success(request, _("Checked just now: the books hold."))
    else:
        messages.error(
            request, _("Checked just now: the check found problems. They are listed below.")
        )
    return redirect("web:coordinator-ledger", circle.slug)


# --- Transactions -----------------------------------------------------------------------------


def _kind_label(kind: str) -> str:
    return str(TransactionKind(kind).label) if kind in TransactionKind.values else kind


def _kept(request: HttpRequest, form: FilterForm) -> dict[str, str]:
    """The valid filters, to carry into the page's links."""
    return {
        key: request.GET.get(key, "")
        for key in form.fields
        if request.GET.get(key) and not form.errors.get(key)
    }


def _day_rows(days: list[Any], kinds: list[str], kept: dict[str, str], slug: str) -> list[Any]:
    href = reverse("web:coordinator-ledger-transactions", args=[slug])
    return [
        {
            "day": day,
            "kinds": [(_kind_label(kind), day.by_kind.get(kind, 0)) for kind in kinds],
            "href": f"{href}?"
            + urlencode({**kept, "since": day.day.isoformat(), "until": day.day.isoformat()}),
        }
        for day in days
    ]


@require_GET
@coordinator_required
def transactions(request: HttpRequest, circle: Circle) -> HttpResponse:
    form = FilterForm(request.GET or None)
    filters = form.filters()
    before = Cursor.parse(request.GET.get("before", ""))
    after = None if before else Cursor.parse(request.GET.get("after", ""))
    found = transaction_page(
        circle=circle, filters=filters, before=before, after=after, limit=PAGE_SIZE
    )
    lines = transaction_lines(transaction_ids=[row["id"] for row in found.rows])
    kept = _kept(request, form)
    # Each row's links from one reverse() apiece (a reverse per row was a third of the page).
    tx_href = reverse("web:coordinator-ledger-transaction", args=[circle.slug, 0])[:-2]
    member_href = reverse("web:coordinator-ledger-statement", args=[circle.slug, 0])[:-2]
    for row in found.rows:
        # Each entry as one line of text: "Alice Archer: -30", "Pot (donated tokens): +60".
        row["lines"] = [
            f"{line.member_name or account_label(line.account_kind)}: {line.minutes:+d}"
            for line in lines[row["id"]]
        ]
        row["kind_label"] = _kind_label(row["kind"])
        row["href"] = f"{tx_href}{row['id']}/"
        row["member_href"] = f"{member_href}{row['member_id']}/"
    # One day chosen (from the day-by-day page): that day's totals above its movements.
    one_day = filters.since is not None and filters.since == filters.until
    days = day_totals(circle=circle, filters=filters) if one_day else []
    kinds = sorted({kind for day in days for kind in day.by_kind})
    return render_page(
        request,
        "web/coordinator/ledger_transactions.html",
        {
            "form": form,
            "filtered": filters.any,
            "rows": found.rows,
            "older": f"?{urlencode({**kept, 'before': found.older.token()})}"
            if found.older
            else "",
            "newer": f"?{urlencode({**kept, 'after': found.newer.token()})}" if found.newer else "",
            "first": f"?{urlencode(kept)}" if (before or after) else "",
            "days": _day_rows(days, kinds, kept, circle.slug),
            "day_kinds": [_kind_label(kind) for kind in kinds],
            "one_day": one_day,
        },
    )


@require_GET
@coordinator_required
def days(request: HttpRequest, circle: Circle) -> HttpResponse:
    """Day by day: each day's movements by kind, to spot one that looks wrong and open it."""
    form = FilterForm(request.GET or None)
    filters = form.filters()
    found = day_totals(circle=circle, filters=filters)
    kinds = sorted({kind for day in found for kind in day.by_kind})
    return render_page(
        request,
        "web/coordinator/ledger_days.html",
        {
            "form": form,
            "filtered": filters.any,
            "days": _day_rows(found, kinds, _kept(request, form), circle.slug),
            "day_kinds": [_kind_label(kind) for kind in kinds],
            "most": DAYS_SHOWN,
        },
    )


def _detail(circle: Circle, transaction_id: int) -> Any:
    found = transaction_detail(circle=circle, transaction_id=transaction_id)
    if found is None:
        raise Http404
    return found


@require_GET
@coordinator_required
def transaction(request: HttpRequest, circle: Circle, transaction_id: int) -> HttpResponse:
    detail = _detail(circle, transaction_id)
    tx = detail.transaction
    return render_page(
        request,
        "web/coordinator/ledger_transaction.html",
        {
            "detail": detail,
            "tx": tx,
            "kind_label": _kind_label(tx.kind),
            "reversible": tx.kind in REVERSIBLE_KINDS and detail.reversed_by is None,
        },
    )


@require_http_methods(["GET", "POST"])
@coordinator_required
def reverse_transaction(request: HttpRequest, circle: Circle, transaction_id: int) -> HttpResponse:
    detail = _detail(circle, transaction_id)
    tx: LedgerTransaction = detail.transaction
    if request.method == "POST":
        form = ReverseForm(request.POST)
        if form.is_valid():
            try:
                posted = reversal_create(
                    original=tx,
                    reason=form.cleaned_data["reason"],
                    actor=request.user,  # type: ignore[arg-type]
                    idempotency_key=form.cleaned_data["idempotency_key"],
                )
            except DomainError as error:
                if error.field in form.fields and error.field != "idempotency_key":
                    form.add_error(error.field, _error(error))
                else:
                    form.add_error(None, _error(error))
            else:
                messages.success(
                    request,
                    _(
                        "Reversed: transaction %(new)d undoes %(old)d. The trial balance still "
                        "totals 0."
                    )
                    % {"new": posted.transaction_id, "old": tx.pk},
                )
                return redirect("web:coordinator-ledger-transaction", circle.slug, tx.pk)
    else:
        form = ReverseForm(initial={"idempotency_key": new_key()})
    return render_page(
        request,
        "web/coordinator/ledger_reverse.html",
        {"detail": detail, "tx": tx, "kind_label": _kind_label(tx.kind), "form": form},
    )


# --- Adjustments, grants and approvals --------------------------------------------------------


@require_http_methods(["GET", "POST"])
@coordinator_required
def correction(request: HttpRequest, circle: Circle) -> HttpResponse:
    if request.method == "POST":
        form = CorrectionForm(request.POST, token_minutes=circle.token_minutes)
        if form.is_valid():
            data = form.cleaned_data
            try:
                member = member_get(circle=circle, member_id=data["member"])
            except NotFound:
                form.add_error("member", _("There is no member with that number in this circle."))
            else:
                try:
                    outcome = correction_ask(
                        kind=data["kind"],
                        member=member,
                        minutes=data["minutes"],
                        reason=data["reason"],
                        caller=request.caller,  # type: ignore[attr-defined]
                        idempotency_key=data["idempotency_key"],
                    )
                except DomainError as error:
                    field = error.field if error.field in ("minutes", "reason") else None
                    form.add_error(field, _error(error))
                else:
                    return _corrected(request, circle, member, outcome)
    else:
        initial: dict[str, Any] = {"idempotency_key": new_key()}
        if request.GET.get("member", "").isdigit():
            initial["member"] = int(request.GET["member"])
        if request.GET.get("kind") in ("adjustment", "grant"):
            initial["kind"] = request.GET["kind"]
        form = CorrectionForm(initial=initial, token_minutes=circle.token_minutes)
    return render_page(
        request,
        "web/coordinator/ledger_correction.html",
        {"form": form, "threshold": circle.approval_threshold_minutes},
    )


def _corrected(
    request: HttpRequest, circle: Circle, member: Member, outcome: Posted | Approval
) -> HttpResponse:
    if isinstance(outcome, Approval):
        messages.info(
            request,
            _(
                "This is waiting for a second coordinator: %(what)s for %(name)s is more than "
                "one person may do alone. Nothing has moved yet."
            )
            % {"what": outcome.get_kind_display(), "name": member.full_name},
        )
        return redirect("web:coordinator-ledger-approvals", circle.slug)
    messages.success(request, _("Done. The trial balance still totals 0."))
    return redirect("web:coordinator-ledger-transaction", circle.slug, outcome.transaction_id)


@require_GET
@coordinator_required
def approvals(request: HttpRequest, circle: Circle) -> HttpResponse:
    return render_page(
        request,
        "web/coordinator/ledger_approvals.html",
        {"approvals": list(approval_list(circle=circle)), "form": DecisionForm()},
    )


@require_POST
@coordinator_required
def decide(request: HttpRequest, circle: Circle, approval_id: int) -> HttpResponse:
    approval = (
        Approval.objects.select_related("member").filter(circle=circle, pk=approval_id).first()
    )
    if approval is None:
        raise Http404
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return render_page(
            request,
            "web/coordinator/ledger_approvals.html",
            {"approvals": list(approval_list(circle=circle)), "form": form},
            status=400,
        )
    act = approval_approve if form.cleaned_data["decision"] == "approve" else approval_refuse
    try:
        decided = act(
            approval=approval,
            caller=request.caller,  # type: ignore[attr-defined]
            reason=form.cleaned_data["reason"],
        )
    except DomainError as error:
        messages.error(request, _error(error))
        return redirect("web:coordinator-ledger-approvals", circle.slug)
    if decided.status == ApprovalStatus.APPROVED:
        messages.success(
            request,
            _("Approved: %(what)s for %(name)s is done.")
            % {"what": decided.get_kind_display(), "name": decided.member.full_name},
        )
    else:
        messages.success(
            request,
            _("Refused: nothing moved for %(name)s.") % {"name": decided.member.full_name},
        )
    return redirect("web:coordinator-ledger-approvals", circle.slug)


# --- A member's statement ---------------------------------------------------------------------


@require_GET
@coordinator_required
def statement(request: HttpRequest, circle: Circle, member_id: int) -> HttpResponse:
    try:
        member = member_get(circle=circle, member_id=member_id)
    except NotFound:
        raise Http404 from None
    before = request.GET.get("before", "")
    found = statement_page(
        member=member, before=int(before) if before.isdigit() else None, limit=PAGE_SIZE
    )
    return render_page(
        request,
        "web/coordinator/ledger_statement.html",
        {
            "member": member,
            "found": found,
            "older": f"?before={found.older}" if found.older else "",
            "first": "?" if before else "",
        },
    )


# --- The accountant's export ------------------------------------------------------------------


class _Echo:
    """A file that hands back what is written to it, so csv.writer makes lines to stream."""

    def write(self, value: str) -> str:
        return value


@require_GET
@coordinator_required
def export(request: HttpRequest, circle: Circle) -> HttpResponse:
    if "since" not in request.GET:
        form = ExportForm(initial=ExportForm.last_month(datetime.now(LONDON).date()))
        return render_page(request, "web/coordinator/ledger_export.html", {"form": form})
    form = ExportForm(request.GET)
    if not form.is_valid():
        return render_page(request, "web/coordinator/ledger_export.html", {"form": form})
    since, until = form.cleaned_data["since"], form.cleaned_data["until"]
    response = StreamingHttpResponse(
        _csv_lines(circle, since, until), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="{circle.slug}-ledger-{since:%Y-%m-%d}-to-{until:%Y-%m-%d}.csv"'
    )
    # (The decorators' type says HttpResponse; a streamed one is what this view answers.)
    return response  # type: ignore[return-value]


def _csv_lines(circle: Circle, since: Any, until: Any) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(
        [
            "date",
            "time",
            "transaction",
            "kind",
            "memo",
            "reverses",
            "for_member",
            "account_id",
            "account",
            "account_member",
            "account_member_name",
            "minutes",
            "tokens",
        ]
    )
    per = circle.token_minutes
    for row in export_rows(circle=circle, since=since, until=until):
        yield writer.writerow(
            [
                *("" if value is None else value for value in row),
                token_count_text(row[-1], token_minutes=per),
            ]
        )
