"""Apply paid Checkout sessions and invoices that no webhook delivered (and settle refunds whose
answer was lost). Safe to run again: what is applied is applied once."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from payments import stripe_client
from payments.services import stripe_reconcile


class Command(BaseCommand):
    help = "Apply recent paid Stripe Checkout sessions and invoices that no webhook delivered."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=None, help="how far back (default 3)")

    def handle(self, *args: Any, **options: Any) -> None:
        if not stripe_client.configured():
            raise CommandError("STRIPE_SECRET_KEY is not set.")
        counts = stripe_reconcile(days=options["days"])
        self.stdout.write(
            f"checked {counts['sessions']} paid sessions and {counts['invoices']} paid "
            f"invoices; applied {counts['applied']} missed; asked again about "
            f"{counts['refunds']} pending refunds"
        )
