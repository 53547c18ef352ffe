from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from helpers.models import Helper
from members.models import AuditEvent, Member, Role, RoleName
from web.management.commands.seed_demo import PEOPLE

pytestmark = pytest.mark.django_db


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_seed_demo_makes_people_of_every_role_and_prints_working_logins() -> None:
    printed = seed()

    roles = set(Role.objects.filter(circle__slug="southwark-demo").values_list("role", flat=True))
    assert roles == set(RoleName.values)
    assert "grace@demo.circle.test / circle-demo-2026" in printed
    # On a laptop the demo staff sign in with the password alone, and the printout says so.
    assert "Staff two-factor is optional on this laptop" in printed
    # The demo's named people (its year of history adds members of its own).
    named = [person.name for person in PEOPLE]
    demo = Member.objects.filter(circle__slug="southwark-demo", full_name__in=named)
    # Arthur (a landline) and Doris (a mobile: her card offers a link to set a password).
    assert sorted(demo.filter(user__isnull=True).values_list("full_name", flat=True)) == [
        "Arthur Lewis",
        "Doris Pike",
    ]
    assert demo.get(full_name="Doris Pike").phone == "+447900900123"
    levels = dict(
        Helper.objects.filter(member__full_name__in=named).values_list(
            "member__full_name", "vetting_level"
        )
    )
    assert levels == {"Priya Shah": "basic", "Tom Walker": "enhanced", "Jean Clarke": "none"}

    response = APIClient().post(
        "/api/v1/auth/token/",
        {"email": "omar@demo.circle.test", "password": "circle-demo-2026"},
        format="json",
    )
    assert response.status_code == 200
    search = APIClient(HTTP_AUTHORIZATION=f"Token {response.json()['token']}").get(
        "/api/v1/circles/southwark-demo/members/", {"q": "SE17"}
    )
    assert [m["full_name"] for m in search.json()["results"]] == ["Arthur Lewis"]


def test_seed_demo_twice_changes_nothing() -> None:
    seed()
    counts = (Member.objects.count(), Role.objects.count(), AuditEvent.objects.count())

    printed = seed()

    assert (Member.objects.count(), Role.objects.count(), AuditEvent.objects.count()) == counts
    assert "Southwark Demo Circle" in printed


def test_seed_demo_shows_tasks_in_several_states_once() -> None:
    from matching.models import Feedback, Task

    seed()
    states = dict(Task.objects.values_list("title", "status"))
    assert states == {
        "Trim the front hedge": "open",
        "Set up my new tablet": "accepted",
        "Put up a shelf": "settled",
        "Help me with email on my phone": "open",
        "Fix a dripping tap": "settled",
    }
    assert set(Feedback.objects.values_list("rating", flat=True)) == {5}
    counts = (Task.objects.count(), AuditEvent.objects.count())

    seed()

    assert (Task.objects.count(), AuditEvent.objects.count()) == counts


def test_seed_demo_prints_each_persons_start_page_and_the_member_can_use_it(client) -> None:
    printed = seed()

    assert "http://127.0.0.1:8000/my/" in printed
    assert "Start page: http://127.0.0.1:8000/" in printed
    margaret_line = next(line for line in printed.splitlines() if "margaret@" in line)
    assert margaret_line.rstrip().endswith("/my/")
    signed_in = client.post(
        "/sign-in/", {"username": "margaret@demo.circle.test", "password": "circle-demo-2026"}
    )
    assert signed_in.url == "/my/"
    home = client.get("/my/").content.decode()
    assert "Hello, Margaret" in home
    assert "020 7946 0000" in home


@pytest.mark.parametrize(
    ("email", "sees"),
    [
        ("grace@demo.circle.test", "Needs attention"),
        ("omar@demo.circle.test", "Find a caller"),
        ("priya@demo.circle.test", "Help me with email on my phone"),
        ("tom@demo.circle.test", "Tasks"),
        ("jean@demo.circle.test", "Hello, Jean"),
    ],
)
def test_every_demo_login_lands_on_its_printed_start_page(client, email, sees) -> None:
    printed = seed()
    line = next(line for line in printed.splitlines() if email in line)
    start = line.split()[-1].removeprefix("http://127.0.0.1:8000")

    signed_in = client.post("/sign-in/", {"username": email, "password": "circle-demo-2026"})

    assert signed_in.url == start
    page = client.get(start)
    assert page.status_code == 200
    assert sees in page.content.decode()


def test_the_demo_operator_has_follow_ups_and_priya_has_earned_tokens(client) -> None:
    printed = seed()
    client.post("/sign-in/", {"username": "omar@demo.circle.test", "password": "circle-demo-2026"})
    queue = client.get("/console/southwark-demo/follow-ups/").content.decode()
    assert "Arthur Lewis" in queue
    assert "Margaret Bell" in queue

    link = next(word for word in printed.split() if word.startswith("http") and "/pay/" in word)
    assert client.get(link.removeprefix("http://127.0.0.1:8000")).status_code == 200

    client.logout()
    client.post("/sign-in/", {"username": "priya@demo.circle.test", "password": "circle-demo-2026"})
    mine = client.get("/helper/mine/").content.decode()
    assert "Fix a dripping tap" in mine
    assert "Set up my new tablet" in mine


def test_the_demo_coordinator_has_several_kinds_waiting_at_her_desk(client) -> None:
    from attention.models import COORDINATOR_KINDS, Item

    seed()
    client.post("/sign-in/", {"username": "grace@demo.circle.test", "password": "circle-demo-2026"})
    desk = client.get("/coordinator/southwark-demo/")
    assert desk.status_code == 200
    page = desk.content.decode()
    assert "4 things wait for a coordinator" in page
    for words in (
        "Safeguarding concern (1)",
        "Request soon, no helper yet (1)",
        "Helper&#x27;s DBS check due for renewal (1)",
        "Low rating (1 or 2) (1)",
    ):
        assert words in page
    # Safeguarding first, a real concern whose words only its own page shows; the rating is
    # Grace's, with her note.
    assert page.index("A safeguarding concern was raised") < page.index("Trim the front hedge")
    assert "seemed confused" not in page
    mine = client.get("/coordinator/southwark-demo/", {"who": "mine"}).content.decode()
    assert "Came an hour late" in mine
    assert "A safeguarding concern was raised" not in mine
    rating = Item.objects.get(cause="demo:rating:priya")
    shown = client.get(f"/coordinator/southwark-demo/items/{rating.pk}/").content.decode()
    assert "Left Priya a message to talk it over." in shown
    open_kinds = set(
        Item.objects.filter(circle__slug="southwark-demo", kind__in=COORDINATOR_KINDS).values_list(
            "kind", flat=True
        )
    )
    assert len(open_kinds) == 4

    seed()
    assert (
        Item.objects.filter(circle__slug="southwark-demo", kind__in=COORDINATOR_KINDS).count() == 4
    )


def test_the_demo_coordinators_ledger_shows_the_books_checked_and_a_year_of_reports(
    client,
) -> None:
    from tokens.models import AuditRun

    seed()
    client.post("/sign-in/", {"username": "grace@demo.circle.test", "password": "circle-demo-2026"})
    ledger = client.get("/coordinator/southwark-demo/ledger/").content.decode()
    assert "the books balance" in ledger
    assert "not been checked yet" not in ledger
    reports = client.get("/coordinator/southwark-demo/reports/")
    assert reports.status_code == 200
    # Members joined month by month over the year: active members grow every month.
    csv = client.get("/coordinator/southwark-demo/reports/members.csv").content.decode()
    months = [line.split(",") for line in csv.strip().splitlines()[1:]]
    assert len(months) == 12
    active = [int(row[2]) for row in months]
    assert active[0] >= 1
    assert active == sorted(active)
    assert active[-1] > active[0]

    seed()
    assert AuditRun.objects.filter(circle__slug="southwark-demo").count() == 1


def test_seed_demo_names_margarets_daughter_her_trusted_person() -> None:
    from members.models import TrustedPerson

    printed = seed()

    link = TrustedPerson.objects.get(member__full_name="Margaret Bell")
    assert (link.full_name, link.scopes) == ("Susan Bell", ["ask", "confirm", "statement"])
    assert link.user.check_password("circle-demo-2026")
    assert not link.user.members.exists()
    assert "susan@demo.circle.test / circle-demo-2026" in printed
    assert "/trusted/" in printed
