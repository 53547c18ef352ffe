from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from djmoney.money import Money

from circle.errors import DomainError
from circle.services import circle_create


def _decimal(value: str) -> Decimal:
    try:
        return Decimal(value)
    except InvalidOperation as exc:
        raise CommandError(f"{value!r} is not a number") from exc


class Command(BaseCommand):
    help = "Create a circle with the default task categories."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--name", required=True)
        parser.add_argument("--postcode", required=True, help="the centre of the service area")
        parser.add_argument("--radius-km", required=True, type=_decimal)
        parser.add_argument("--min-age", type=int, default=50)
        parser.add_argument(
            "--fee", type=_decimal, default=Decimal("10.00"), help="annual membership fee in pounds"
        )
        parser.add_argument("--token-price", type=_decimal, default=Decimal("10.00"))
        parser.add_argument("--token-minutes", type=int, default=60)
        parser.add_argument(
            "--billing-increment",
            type=int,
            default=30,
            help="minutes; tasks are billed in steps of this",
        )
        parser.add_argument(
            "--offer-wave-minutes",
            type=int,
            default=60,
            help="minutes the helpers told of a task have to accept it before the next are told",
        )

        parser.add_argument(
            "--phone", default="", help="the number members call, e.g. 020 7946 0000"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            circle = circle_create(
                slug=options["slug"],
                name=options["name"],
                postcode=options["postcode"],
                radius_km=options["radius_km"],
                min_age=options["min_age"],
                membership_fee=Money(options["fee"], "GBP"),
                token_price=Money(options["token_price"], "GBP"),
                token_minutes=options["token_minutes"],
                billing_increment_minutes=options["billing_increment"],
                offer_wave_minutes=options["offer_wave_minutes"],
                phone=options["phone"],
            )
        except DomainError as exc:
            raise CommandError(f"{exc.code}: {exc.detail}") from exc
        self.stdout.write(
            f"Created circle {circle.slug} ({circle.name}) around "
            f"{circle.centre_postcode}, {circle.radius_km} km."
        )
