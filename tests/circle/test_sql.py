"""circle.sql: statements prepared once per connection, as the ledger's pages and its postings
use them, across the things that happen to a connection: a rolled-back transaction, a new
connection."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection, transaction

from circle.sql import numbered, prepared_execute
from tests.factories import CircleFactory, MemberFactory
from tokens.selectors import transaction_list
from tokens.services import purchase_credit

# Closing the connection mid-test needs a test outside a transaction, and only PostgreSQL
# prepares (and empties a database holding ledger rows between such tests).
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL prepares"),
    pytest.mark.django_db(transaction=True),
]


def test_placeholders_are_numbered_in_order_and_a_doubled_percent_is_one() -> None:
    sql = "SELECT %s WHERE name LIKE 'x%%' AND id = %s"
    assert numbered(sql) == "SELECT $1 WHERE name LIKE 'x%' AND id = $2"
    assert numbered("SELECT $1") == "SELECT $1"


def prepared_names() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements")
        return {name for (name,) in cursor.fetchall()}


def page_of(circle: Any) -> list[int]:
    return [row["id"] for row in transaction_list(circle=circle)[0:10]]


def test_a_ledger_page_reads_the_same_on_a_new_connection_and_after_a_rollback() -> None:
    circle = CircleFactory()
    member = MemberFactory(circle=circle)
    purchase_credit(member=member, minutes=60, payment_key="p-1", actor=None)
    first = page_of(circle)
    assert len(first) == 1

    # Prepared inside a transaction that then rolls back: the statement stays prepared.
    connection.close()
    with transaction.atomic():
        assert page_of(circle) == first
        transaction.set_rollback(True)
    assert page_of(circle) == first

    # A new connection prepares it again.
    connection.close()
    assert page_of(circle) == first
    assert "circle_ledger_page_" in prepared_names()


def test_each_statement_is_prepared_under_its_own_name_once() -> None:
    connection.close()
    with connection.cursor() as cursor:
        for value in (1, 2):
            prepared_execute(cursor, name="circle_test_twice", sql="SELECT %s * 2", params=[value])
            assert cursor.fetchone() == (value * 2,)
    assert "circle_test_twice" in prepared_names()
