"""Running `ledger_audit` and keeping its verdict (`AuditRun`), so the ledger's page can say
when the books were last proved and a coordinator can prove them again at once."""

from __future__ import annotations

from django.db import transaction

from circle.models import Circle
from members.selectors import Caller
from members.services import audit_record
from tokens.models import AuditRun
from tokens.selectors import AuditReport, ledger_audit

# A run that finds thousands of problems keeps the first ones: enough to start from, and the
# command prints them all.
PROBLEMS_KEPT = 100


def audit_run_create(*, circle: Circle | None, caller: Caller | None = None) -> AuditRun:
    """Check the books (one circle's, or every circle's when `circle` is None) and store the
    verdict. A coordinator's run is audited as theirs; the command's (no caller) is not, as it
    changes nothing. The check reads only, outside any transaction of ours; the verdict and its
    audit row are written together."""
    return audit_run_record(report=ledger_audit(circle=circle), circle=circle, caller=caller)


def audit_run_record(
    *, report: AuditReport, circle: Circle | None, caller: Caller | None = None
) -> AuditRun:
    """Store a verdict `ledger_audit` has just given (the command prints every problem and
    keeps the first ones)."""
    with transaction.atomic(durable=True):
        run = AuditRun.objects.create(
            circle=circle,
            ok=report.ok,
            checked_transactions=report.checked_transactions,
            checked_accounts=report.checked_accounts,
            problems=report.problems[:PROBLEMS_KEPT],
            actor=caller.user if caller else None,
        )
        if circle is not None and caller is not None:
            audit_record(
                circle=circle,
                action="tokens.audit_run",
                caller=caller,
                data={"audit_run_id": run.pk, "ok": run.ok, "problems": len(report.problems)},
            )
    return run
