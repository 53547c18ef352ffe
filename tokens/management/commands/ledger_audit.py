from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from circle.selectors import circle_get
from tokens.selectors import ledger_audit
from tokens.services import audit_run_record


class Command(BaseCommand):
    help = (
        "Check every invariant of the token ledger (zero-sum transactions, balances equal to "
        "entries, nothing negative that must not be, each circle's books closing to zero). "
        "Exits non-zero naming each problem."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--circle", help="only this circle's books (its slug)")
        parser.add_argument(
            "--no-keep",
            action="store_true",
            help="do not store the verdict for the ledger's page (e.g. on a read-only replica)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        circle = circle_get(slug=options["circle"]) if options["circle"] else None
        report = ledger_audit(circle=circle)
        # The verdict is kept, for the ledger's page ("last checked ... : the books hold").
        if not options["no_keep"]:
            audit_run_record(report=report, circle=circle)
        for problem in report.problems:
            self.stderr.write(f"PROBLEM: {problem}")
        if not report.ok:
            raise CommandError(f"the ledger has {len(report.problems)} problem(s)")
        self.stdout.write(
            f"ledger ok: {report.checked_transactions} transactions, "
            f"{report.checked_accounts} accounts"
        )
