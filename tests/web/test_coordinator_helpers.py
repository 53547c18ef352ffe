"""The coordinators' helpers (/coordinator/{slug}/helpers/): the list, those waiting for checks
first; a helper's record; recording checks; suspending and reinstating with a reason."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from helpers.models import Helper, VettingCheck
from helpers.services import helper_suspension_set
from matching.models import Feedback, TaskStatus
from members.models import AuditEvent, RoleName
from members.selectors import caller_for
from tests.conftest import Personas
from tests.factories import HelperFactory, MemberFactory, UserFactory
from tests.matching.tasks_factory import make_task
from tests.web.pages import text_of

pytestmark = pytest.mark.django_db

LIST = "/coordinator/southwark/helpers/"


def record_url(helper: Helper, action: str = "") -> str:
    return f"{LIST}{helper.pk}/" + (f"{action}/" if action else "")


@pytest.fixture
def cora(client: Client, personas: Personas) -> Client:
    client.force_login(personas.cora.user)
    return client


def helper_named(personas: Personas, name: str, **extra: Any) -> Helper:
    user = UserFactory(email=f"{name.lower().replace(' ', '.')}@example.org", full_name=name)
    member = MemberFactory(circle=personas.southwark, user=user, roles=[RoleName.HELPER])
    return HelperFactory(member=member, **extra)


def vetted_on(helper: Helper, personas: Personas, issued: date, level: str = "basic") -> Helper:
    from helpers.services import helper_vetting_record

    return helper_vetting_record(
        helper=helper,
        caller=caller_for(user=personas.cora.user, circle=personas.southwark),
        identity_checked=True,
        references_checked=True,
        dbs_level=level,
        dbs_certificate_number="001234567890",
        dbs_issue_date=issued,
        original_seen_by="Cora Coordinator",
    )


def years_before(day: date, years: int) -> date:
    return day.replace(year=day.year - years)


def checks_body(**changes: str) -> dict[str, str]:
    today = timezone.localdate() - timedelta(days=30)
    body = {
        "identity_checked": "on",
        "references_checked": "on",
        "dbs_level": "enhanced",
        "dbs_certificate_number": "0012 3456 7890",
        "dbs_issue_date_day": str(today.day),
        "dbs_issue_date_month": str(today.month),
        "dbs_issue_date_year": str(today.year),
        "original_seen_by": "Cora Coordinator",
    }
    body.update(changes)
    return {name: value for name, value in body.items() if value != "-"}


def written() -> dict[str, int]:
    return {
        "checks": VettingCheck.objects.count(),
        "audit": AuditEvent.objects.count(),
        "suspended": Helper.objects.filter(suspended=True).count(),
    }


# --- The list ---------------------------------------------------------------------------------


def test_the_list_puts_helpers_waiting_for_checks_first_oldest_first(
    cora: Client, personas: Personas
) -> None:
    with time_machine.travel(timezone.now() - timedelta(days=3)):
        walt = helper_named(personas, "Walt Waiting")
    vetted_on(helper_named(personas, "Aaron Able"), personas, timezone.localdate())
    # Hana (made today) waits too, but less long than Walt.

    text = text_of(cora.get(LIST))

    assert "3 helpers. Those waiting for their checks come first" in text
    assert text.index("Walt Waiting") < text.index("Hana Hughes") < text.index("Aaron Able")
    assert "Waiting for checks (2)" in text
    assert "Level: Basic" in text
    assert "Gardening, Odd jobs" in text
    assert walt.member.full_name in text
    assert "Suffolk" not in text.split("Southwark Circle Helpers")[-1]


def test_each_filter_shows_its_helpers(cora: Client, personas: Personas) -> None:
    today = timezone.localdate()
    vetted = vetted_on(helper_named(personas, "Vera Vetted"), personas, today)
    due = vetted_on(helper_named(personas, "Dora Due"), personas, years_before(today, 3))
    suspended = helper_named(personas, "Sid Suspended")
    helper_suspension_set(
        helper=suspended,
        caller=caller_for(user=personas.cora.user, circle=personas.southwark),
        suspended=True,
        reason="A complaint",
    )
    paused = helper_named(personas, "Pat Paused", paused=True, paused_at=timezone.now())

    def names(show: str) -> set[str]:
        text = text_of(cora.get(f"{LIST}?show={show}"))
        return {
            name
            for name in ("Hana Hughes", "Vera Vetted", "Dora Due", "Sid Suspended", "Pat Paused")
            if name in text
        }

    assert names("waiting") == {"Hana Hughes", paused.member.full_name}
    assert names("vetted") == {vetted.member.full_name, due.member.full_name}
    assert names("due") == {due.member.full_name}
    assert names("suspended") == {suspended.member.full_name}
    assert names("paused") == {paused.member.full_name}
    text = text_of(cora.get(f"{LIST}?show=due"))
    assert "Checks due soon: 1 helper" in text
    assert "Checks due soon" in text.split("Dora Due")[1]


def test_checks_falling_due_within_three_months_are_flagged(
    cora: Client, personas: Personas
) -> None:
    today = timezone.localdate()
    soon = years_before(today, 3) + timedelta(days=80)
    later = years_before(today, 3) + timedelta(days=120)
    vetted_on(helper_named(personas, "Sally Soon"), personas, soon)
    vetted_on(helper_named(personas, "Larry Later"), personas, later)

    text = text_of(cora.get(LIST))

    # Larry's name sorts first; his row ends where Sally's begins.
    larry, sally = text.split("Larry Later")[1].split("Sally Soon")
    assert "Checks due soon" not in larry
    assert "Checks due soon" in sally
    assert "Checks due soon (1)" in text


def test_an_unknown_filter_shows_everyone(cora: Client, personas: Personas) -> None:
    text = text_of(cora.get(f"{LIST}?show=nonsense"))
    assert "All helpers (1)" in text
    assert "Hana Hughes" in text


def test_the_list_costs_the_same_queries_however_many_helpers(
    cora: Client, personas: Personas, django_assert_num_queries: Any
) -> None:
    for n in range(2):
        vetted_on(helper_named(personas, f"Few {n}"), personas, timezone.localdate())
    cora.get(LIST)  # the session is warm
    with django_assert_num_queries(6) as few:
        cora.get(LIST)
    for n in range(20):
        helper = helper_named(personas, f"Many {n}", skills=["gardening", "shopping"])
        if n % 2:
            vetted_on(helper, personas, timezone.localdate())
    with django_assert_num_queries(len(few.captured_queries)):
        response = cora.get(LIST)
    assert "23 helpers" in text_of(response)
    with django_assert_num_queries(len(few.captured_queries)):
        cora.get(f"{LIST}?show=vetted")


def test_a_long_list_pages(cora: Client, personas: Personas) -> None:
    for n in range(55):
        helper_named(personas, f"Person {n:02d}")

    first = text_of(cora.get(LIST))
    second = text_of(cora.get(f"{LIST}?page=2"))

    assert "Page 1 of 2" in first
    assert "Next page" in first
    assert "Page 2 of 2" in second
    assert "Previous page" in second
    assert first.count("Waiting for checks") > second.count("Waiting for checks")


# --- A helper's record ------------------------------------------------------------------------


def test_the_record_shows_work_ratings_feedback_checks_and_when_they_fall_due(
    cora: Client, personas: Personas
) -> None:
    hana = vetted_on(personas.hana_helper, personas, date(2024, 6, 10))
    for n, (rating, words) in enumerate([(5, "Lovely"), (2, "Late and rushed"), (None, "")]):
        task = make_task(
            member=personas.alice, status=TaskStatus.SETTLED, helper=hana, minutes=60 + n * 30
        )
        if rating is not None:
            Feedback.objects.create(
                circle=personas.southwark, task=task, helper=hana, rating=rating, comment=words
            )
    make_task(member=personas.alice, status=TaskStatus.ACCEPTED, helper=hana)

    text = text_of(cora.get(record_url(hana)))

    assert "Tasks done 3" in text
    assert "Time helping 4 hours 30 minutes" in text
    assert "3.5 out of 5 on average, from 2 ratings" in text
    assert "Low rating Rating: 2 out of 5" in text
    assert "Late and rushed" in text
    assert "Lovely" in text
    assert "Vetting level Basic" in text
    assert "Certificate 001234567890" in text
    assert "Issued Monday 10 June 2024" in text
    assert "Due again Thursday 10 June 2027" in text
    assert "Never suspended." in text


def test_the_record_warns_when_the_checks_are_due_and_when_overdue(
    cora: Client, personas: Personas
) -> None:
    today = timezone.localdate()
    hana = vetted_on(personas.hana_helper, personas, years_before(today, 3) + timedelta(days=30))
    assert "Their checks fall due again on" in text_of(cora.get(record_url(hana)))

    vetted_on(hana, personas, years_before(today, 3) - timedelta(days=1))
    text = text_of(cora.get(record_url(hana)))
    assert "Their checks were due again on" in text
    assert "Earlier checks" in text


def test_the_record_shows_the_suspension_history_from_the_audit_log(
    cora: Client, personas: Personas
) -> None:
    hana = personas.hana_helper
    caller = caller_for(user=personas.cora.user, circle=personas.southwark)
    helper_suspension_set(helper=hana, caller=caller, suspended=True, reason="Missed three visits")
    helper_suspension_set(helper=hana, caller=caller, suspended=False, reason="Talked it through")

    text = text_of(cora.get(record_url(hana)))

    assert "Why: Talked it through" in text
    assert "Why: Missed three visits" in text
    assert text.index("Reinstated") < text.index("Missed three visits")
    assert "by Cora Coordinator" in text


def test_another_circles_helper_is_not_found(cora: Client, personas: Personas) -> None:
    suffolk_helper = HelperFactory(
        member=MemberFactory(circle=personas.suffolk, roles=[RoleName.HELPER])
    )
    for action in ("", "checks", "suspend", "reinstate"):
        assert cora.get(record_url(suffolk_helper, action)).status_code == 404
    assert cora.get(f"{LIST}999999/").status_code == 404


def test_an_operator_cannot_open_a_record(client: Client, personas: Personas) -> None:
    client.force_login(personas.otto.user)
    for action in ("", "checks", "suspend"):
        assert client.get(record_url(personas.hana_helper, action)).status_code == 403


def test_the_record_costs_the_same_queries_however_much_was_done(
    cora: Client, personas: Personas, django_assert_num_queries: Any
) -> None:
    hana = vetted_on(personas.hana_helper, personas, date(2024, 6, 10))
    caller = caller_for(user=personas.cora.user, circle=personas.southwark)

    def work(n: int) -> None:
        for _ in range(n):
            task = make_task(member=personas.alice, status=TaskStatus.SETTLED, helper=hana)
            Feedback.objects.create(circle=personas.southwark, task=task, helper=hana, rating=4)
            vetted_on(hana, personas, date(2024, 6, 10))
            for suspended in (True, False):
                helper_suspension_set(helper=hana, caller=caller, suspended=suspended, reason="x")

    work(1)
    cora.get(record_url(hana))
    with django_assert_num_queries(10) as few:
        cora.get(record_url(hana))
    work(8)
    with django_assert_num_queries(len(few.captured_queries)):
        response = cora.get(record_url(hana))
    assert "Tasks done 9" in text_of(response)


# --- Recording checks ---------------------------------------------------------------------------


def test_the_checks_form_asks_for_designs_fields(cora: Client, personas: Personas) -> None:
    text = text_of(cora.get(record_url(personas.hana_helper, "checks")))

    for words in (
        "Identity checked",
        "References checked",
        "DBS check",
        "None",
        "Basic DBS",
        "Enhanced DBS",
        "DBS certificate number",
        "Date the certificate was issued",
        "Day Month Year",
        "Who saw the original certificate",
    ):
        assert words in text


def test_recording_checks_sets_the_level_and_says_so(cora: Client, personas: Personas) -> None:
    hana = personas.hana_helper

    response = cora.post(record_url(hana, "checks"), checks_body(), follow=True)

    assert response.redirect_chain == [(record_url(hana), 302)]
    text = text_of(response)
    assert "Checks recorded. Hana Hughes's vetting level is now Enhanced." in text
    assert "Vetting level Enhanced" in text
    check = VettingCheck.objects.get(helper=hana)
    assert (check.dbs_certificate_number, check.recorded_by) == ("001234567890", personas.cora.user)
    hana.refresh_from_db()
    assert hana.vetting_level == "enhanced"
    assert AuditEvent.objects.filter(action="helper.vetted", member=personas.hana).count() == 1


def test_checks_without_references_leave_the_level_none_and_say_why(
    cora: Client, personas: Personas
) -> None:
    response = cora.post(
        record_url(personas.hana_helper, "checks"),
        checks_body(references_checked="-"),
        follow=True,
    )

    assert "vetting level is None: they cannot take tasks until" in text_of(response)
    assert VettingCheck.objects.get().resulting_level == "none"


def test_no_dbs_needs_no_certificate(cora: Client, personas: Personas) -> None:
    body = checks_body(
        dbs_level="none",
        dbs_certificate_number="",
        dbs_issue_date_day="",
        dbs_issue_date_month="",
        dbs_issue_date_year="",
        original_seen_by="",
    )
    response = cora.post(record_url(personas.hana_helper, "checks"), body)

    assert response.status_code == 302
    assert VettingCheck.objects.get().dbs_level == "none"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"dbs_certificate_number": "12345"}, "A DBS certificate number has 12 digits."),
        (
            {"dbs_issue_date_day": "", "dbs_issue_date_month": "", "dbs_issue_date_year": ""},
            "Give the certificate's issue date.",
        ),
        (
            {"dbs_issue_date_year": str(timezone.localdate().year + 1)},
            "The issue date is in the future.",
        ),
        ({"original_seen_by": "  "}, "Say who saw the original."),
        ({"dbs_level": "-"}, "Choose the level of their DBS check, or None."),
        ({"dbs_level": "platinum"}, "Select a valid choice."),
        ({"dbs_issue_date_month": "13"}, "Enter a real date, like 27 3 1948."),
        ({"dbs_issue_date_day": ""}, "Enter the day, month and year."),
    ],
)
def test_a_refused_check_is_shown_beside_its_field_and_writes_nothing(
    cora: Client, personas: Personas, changes: dict[str, str], message: str
) -> None:
    before = written()

    response = cora.post(record_url(personas.hana_helper, "checks"), checks_body(**changes))

    assert response.status_code == 200
    text = text_of(response)
    assert text.startswith("Error:")
    assert f"There is a problem {message}" in text
    assert f"Error: {message}" in text
    assert written() == before


def test_a_coordinator_who_helps_cannot_record_their_own_checks(
    cora: Client, personas: Personas
) -> None:
    own = HelperFactory(member=personas.cora)
    before = written()

    response = cora.post(record_url(own, "checks"), checks_body())

    assert "Another coordinator must record your own vetting or suspension." in text_of(response)
    assert written() == before


# --- Suspending and reinstating -----------------------------------------------------------------


def test_suspending_asks_for_a_reason_on_a_confirmation_page(
    cora: Client, personas: Personas
) -> None:
    text = text_of(cora.get(record_url(personas.hana_helper, "suspend")))

    assert "Suspend Hana Hughes?" in text
    assert "While suspended they are offered no tasks" in text
    assert "Why?" in text
    assert Helper.objects.get(pk=personas.hana_helper.pk).suspended is False


def test_suspending_with_a_reason_suspends_and_audits(cora: Client, personas: Personas) -> None:
    hana = personas.hana_helper

    response = cora.post(
        record_url(hana, "suspend"), {"reason": "A member's complaint"}, follow=True
    )

    assert response.redirect_chain == [(record_url(hana), 302)]
    text = text_of(response)
    assert "Hana Hughes is suspended: they are offered no tasks and can take none." in text
    assert "Why: A member's complaint" in text
    hana.refresh_from_db()
    assert (hana.suspended, hana.suspended_reason) == (True, "A member's complaint")
    event = AuditEvent.objects.get(action="helper.suspended")
    assert (event.member, event.actor, event.reason) == (
        personas.hana,
        personas.cora.user,
        "A member's complaint",
    )


@pytest.mark.parametrize("action", ["suspend", "reinstate"])
def test_a_suspension_or_reinstatement_without_a_reason_is_refused(
    cora: Client, personas: Personas, action: str
) -> None:
    if action == "reinstate":
        helper_suspension_set(
            helper=personas.hana_helper,
            caller=caller_for(user=personas.cora.user, circle=personas.southwark),
            suspended=True,
            reason="x",
        )
    before = written()

    response = cora.post(record_url(personas.hana_helper, action), {"reason": "   "})

    text = text_of(response)
    assert "There is a problem Say why." in text
    assert written() == before


def test_suspending_a_suspended_helper_says_so(cora: Client, personas: Personas) -> None:
    # Another coordinator suspended her while this page was open.
    helper_suspension_set(
        helper=personas.hana_helper,
        caller=caller_for(user=personas.cora.user, circle=personas.southwark),
        suspended=True,
        reason="First",
    )
    before = written()

    response = cora.post(record_url(personas.hana_helper, "suspend"), {"reason": "Second"})

    assert "There is a problem The helper is already suspended." in text_of(response)
    assert written() == before


def test_reinstating_a_helper_who_is_not_suspended_says_so(
    cora: Client, personas: Personas
) -> None:
    response = cora.post(record_url(personas.hana_helper, "reinstate"), {"reason": "Fine now"})

    assert "There is a problem The helper is not suspended." in text_of(response)
    assert not AuditEvent.objects.filter(action="helper.reinstated").exists()


def test_reinstating_with_a_reason_reinstates_and_audits(cora: Client, personas: Personas) -> None:
    hana = personas.hana_helper
    helper_suspension_set(
        helper=hana,
        caller=caller_for(user=personas.cora.user, circle=personas.southwark),
        suspended=True,
        reason="A complaint",
    )
    page = text_of(cora.get(record_url(hana, "reinstate")))
    assert "Reinstate Hana Hughes?" in page
    assert "They were suspended because: A complaint" in page

    response = cora.post(record_url(hana, "reinstate"), {"reason": "Looked into it"}, follow=True)

    assert "Hana Hughes is reinstated: they can take tasks again." in text_of(response)
    hana.refresh_from_db()
    assert (hana.suspended, hana.suspended_reason) == (False, "")
    assert AuditEvent.objects.get(action="helper.reinstated").reason == "Looked into it"


def test_a_coordinator_who_helps_cannot_suspend_themselves(
    cora: Client, personas: Personas
) -> None:
    own = HelperFactory(member=personas.cora)

    response = cora.post(record_url(own, "suspend"), {"reason": "Testing"})

    assert "Another coordinator must record your own vetting or suspension." in text_of(response)
    assert not Helper.objects.get(pk=own.pk).suspended
