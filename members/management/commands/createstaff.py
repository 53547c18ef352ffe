from __future__ import annotations

import os
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from circle.errors import DomainError
from circle.selectors import circle_get
from members.models import RoleName, User
from members.services import staff_grant


class Command(BaseCommand):
    help = (
        "Make someone an operator or coordinator of a circle. The password comes from --password "
        "or the CIRCLE_STAFF_PASSWORD environment variable (needed only for a new login)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")
        parser.add_argument("--circle", required=True, help="the circle's slug")
        parser.add_argument(
            "--role", required=True, choices=[RoleName.OPERATOR.value, RoleName.COORDINATOR.value]
        )
        parser.add_argument("--name", default="", help="full name, for a new person")
        parser.add_argument("--phone", default="")
        parser.add_argument(
            "--password", default=None, help="sets (or, for an existing login, resets) the password"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        password = options["password"] or None
        if (
            password is None
            and not User.objects.filter(email__iexact=options["email"].strip()).exists()
        ):
            # The environment's password is for making a new login: granting a role to someone
            # who already signs in must not silently reset their password to it.
            password = os.environ.get("CIRCLE_STAFF_PASSWORD") or None
        try:
            circle = circle_get(slug=options["circle"])
            member = staff_grant(
                circle=circle,
                email=options["email"],
                role=options["role"],
                password=password,
                full_name=options["name"],
                phone=options["phone"],
            )
        except DomainError as exc:
            raise CommandError(f"{exc.code}: {exc.detail}") from exc
        self.stdout.write(
            f"{options['email']} is now {options['role']} of {circle.slug} (member {member.pk})."
        )
