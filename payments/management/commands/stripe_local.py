"""Run the local stand-in for Stripe (payments/stripe_local.py), for the demo: Checkout pages
that "pay" without a card and deliver signed webhooks to Circle."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from payments.stripe_local import make_server


class Command(BaseCommand):
    help = "Serve a local stand-in for Stripe's API and Checkout pages (demo and tests only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=12111)
        parser.add_argument(
            "--webhook-url",
            default="http://127.0.0.1:8000/api/v1/payments/stripe/webhook/",
            help="where to deliver the signed events",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        server = make_server(
            options["host"],
            options["port"],
            webhook_secret=settings.STRIPE_WEBHOOK_SECRET,
            webhook_url=options["webhook_url"],
        )
        self.stdout.write(
            f"local Stripe on {server.state.base_url}, webhooks to {options['webhook_url']}"
        )
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
