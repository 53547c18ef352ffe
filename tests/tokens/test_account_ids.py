"""Account ids are remembered for the life of the process once their rows are committed, and
never from a transaction that rolled back."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from tests.conftest import Personas
from tokens.models import AccountKind
from tokens.services import system_account_id, wallet_id

pytestmark = pytest.mark.django_db


class Undone(Exception):
    pass


def reads(call: Any) -> int:
    with CaptureQueriesContext(connection) as seen:
        call()
    return len(seen.captured_queries)


def test_an_id_read_in_a_transaction_is_remembered_once_it_commits(
    personas: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    escrow = lambda: system_account_id(personas.southwark.pk, AccountKind.ESCROW)  # noqa: E731
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            first = escrow()
        # Not yet committed: read again.
        assert reads(escrow) >= 1
    assert reads(escrow) == 0
    assert escrow() == first


def test_an_id_from_a_transaction_that_rolled_back_is_not_remembered(
    personas: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    wallet = lambda: wallet_id(personas.bob)  # noqa: E731

    def read_then_undo() -> None:
        with transaction.atomic():
            wallet()
            raise Undone

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(Undone):
        read_then_undo()
    assert reads(wallet) >= 1
