"""The coordinators' reports page: six charts, each with its table and CSV, for a chosen
period, in a fixed number of queries whatever the circle's history."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.conftest import Personas
from tests.factories import HelperFactory, MemberFactory
from tests.matching.conftest import give_tokens, make_active, world  # noqa: F401 (a fixture)
from tests.report_history import task_lived

pytestmark = pytest.mark.django_db

URL = "/coordinator/southwark/reports/"
CHARTS = ("members", "tokens", "tasks", "waits", "help", "helpers")


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode())))


def history(world: Personas, tasks: int) -> None:  # noqa: F811
    give_tokens(world.alice, minutes=200 * tasks + 600)
    asked = timezone.now() - timedelta(days=20)
    for i in range(tasks):
        task_lived(
            member=world.alice,
            helper=world.hana_helper,
            asked=asked + timedelta(minutes=i),
            wait=timedelta(hours=1 + i),
            minutes=60,
        )


def test_the_page_shows_every_chart_with_its_title_description_and_table(
    client,
    world: Personas,  # noqa: F811
) -> None:
    history(world, 2)
    client.force_login(world.cora.user)

    response = client.get(URL)

    assert response.status_code == 200
    page = response.content.decode()
    for chart in CHARTS:
        assert f'id="{chart}"' in page
        assert f"/coordinator/southwark/reports/{chart}.csv?months=12" in page
    assert page.count('role="img"') == 6
    assert 'aria-labelledby="chart-waits-title chart-waits-desc"' in page
    assert '<desc id="chart-tasks-desc">Asked for: ' in page
    # The wait table: two gardening tasks, waits of 1 and 2 hours.
    assert '<th scope="row" class="govuk-table__header">Gardening</th>' in page
    assert ">1.5</td>" in page  # the median
    assert "<script" not in page.split("<main", 1)[1].split("</main>", 1)[0]


def test_each_csv_holds_its_tables_figures(client, world: Personas) -> None:  # noqa: F811
    history(world, 2)
    client.force_login(world.cora.user)

    waits = client.get("/coordinator/southwark/reports/waits.csv")
    helpers = client.get("/coordinator/southwark/reports/helpers.csv?months=3")
    tokens = client.get("/coordinator/southwark/reports/tokens.csv")

    assert waits["Content-Type"] == "text/csv; charset=utf-8"
    assert "southwark-waits-12-months.csv" in waits["Content-Disposition"]
    assert csv_rows(waits) == [
        ["Kind of help", "Tasks accepted", "Median (hours)", "90th percentile (hours)"],
        ["Gardening", "2", "1.5", "1.9"],
    ]
    assert len(csv_rows(helpers)) == 1 + 3
    rows = csv_rows(tokens)
    assert rows[0] == ["Month", "Bought", "Earned", "Spent", "Given"]
    # This month: Alice's 5 and Bob's 2 tokens (the world), then Alice's 1,000 minutes more
    # (16.67 tokens); two tasks of an hour earned by Hana.
    assert rows[-1][1:] == ["23.67", "2.00", "2.00", "0.00"]
    assert len(rows) == 1 + 12


def test_a_csv_of_no_such_report_is_not_found(client, personas: Personas) -> None:
    client.force_login(personas.cora.user)

    assert client.get("/coordinator/southwark/reports/secrets.csv").status_code == 404


def test_a_name_that_looks_like_a_formula_is_quoted_in_the_csv(client, personas) -> None:
    category = personas.southwark.categories.get(slug="diy")
    category.name = "=HYPERLINK(1)"
    category.save()
    client.force_login(personas.cora.user)

    rows = csv_rows(client.get("/coordinator/southwark/reports/help.csv"))

    assert ["'=HYPERLINK(1)", "0", "0.0"] in rows


@pytest.mark.parametrize("asked", ["3", "24"])
def test_the_period_can_be_chosen(client, personas, asked: str) -> None:
    client.force_login(personas.cora.user)

    response = client.get(URL, {"months": asked})

    page = response.content.decode()
    assert f'<option value="{asked}" selected>' in page
    assert f"reports/members.csv?months={asked}" in page
    weeks = csv_rows(client.get("/coordinator/southwark/reports/tasks.csv", {"months": asked}))
    # Whole months back to the first, this one so far: (n - 1) to n months of weeks.
    assert (int(asked) - 1) * 4 <= len(weeks) - 1 <= int(asked) * 5


@pytest.mark.parametrize("asked", ["7", "x", ""])
def test_a_period_not_offered_shows_the_last_year(client, personas, asked: str) -> None:
    client.force_login(personas.cora.user)

    page = client.get(URL, {"months": asked}).content.decode()

    assert '<option value="12" selected>' in page


def test_an_empty_circle_says_so_where_nothing_can_be_drawn(client, personas) -> None:
    client.force_login(personas.cora.user)

    page = client.get(URL).content.decode()

    assert "No task was accepted in this period." in page
    assert page.count('role="img"') == 5


def test_the_page_costs_the_same_queries_with_a_little_or_a_lot_of_history(
    client,
    world: Personas,  # noqa: F811
    django_assert_num_queries,
) -> None:
    client.force_login(world.cora.user)
    history(world, 1)
    with django_assert_num_queries(QUERIES):
        client.get(URL)

    history(world, 6)
    for _ in range(5):
        member = MemberFactory(circle=world.southwark, roles=["member"])
        make_active(member, by=world.otto)
        HelperFactory(member=member)
    with django_assert_num_queries(QUERIES):
        response = client.get(URL)
    assert response.status_code == 200


# Session and user (2), the caller (1), then members (2), tokens (1), tasks (3), waits (1),
# help (2), helpers (1).
QUERIES = 13
