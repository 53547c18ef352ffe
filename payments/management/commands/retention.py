"""Run retention by hand (the daily job payments.tasks.retention_sweep does the same): members
lapsed for more than RETENTION_YEARS are put on their coordinators' desk, and those whose
notice has run are erased. `--report-only` reports (and raises the desk's items) but erases
nobody. Safe to run again."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from payments.services.retention import retention_due, retention_run


class Command(BaseCommand):
    help = "Report members lapsed for more than RETENTION_YEARS, and erase them after notice."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--report-only",
            action="store_true",
            help="list who is due and tell their coordinators; erase nobody",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        due = retention_due(today=timezone.localdate())
        self.stdout.write(
            f"{len(due)} member(s) lapsed for more than {settings.RETENTION_YEARS} years:"
        )
        for found in due:
            self.stdout.write(
                f"  member {found.member.pk} of {found.member.circle.slug}, "
                f"lapsed on {found.lapsed_on.isoformat()}"
            )
        counts = retention_run(report_only=options["report_only"])
        self.stdout.write(
            f"told coordinators of {counts['reported']}; {counts['waiting']} waiting for their "
            f"notice to run; {counts['held_back']} held back; erased {counts['erased']}; "
            f"closed {counts['closed']} no longer due"
        )
