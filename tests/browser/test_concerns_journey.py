"""Safeguarding concerns in Chromium, at 1280 px and 320 px, with axe-core checking every
state: Hana (a helper) raises a concern about Alice's bruising (nobody in danger now); Otto
(an operator) cannot read it; Cora opens it from the top of her queue, then suspends Harry,
the helper named in Bob's concern, and the request Harry had taken is open again for other
helpers. The "danger now: yes" page, which says to call 999 before anything else, is
checked too.

Requests hold tokens (ledger rows), so this runs on PostgreSQL.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Locator, Page, expect
from pytest_django.live_server_helper import LiveServer

from attention.models import Concern, ConcernReading
from attention.services import concern_raise
from helpers.models import Helper
from matching.models import Task, TaskStatus
from matching.selectors import helper_feed_naive
from members.models import RoleName
from members.selectors import caller_for
from tests.browser.conftest import WIDTHS, PageAt, Width, assert_accessible, sign_in
from tests.browser.test_join_journey import path_of, screenshot
from tests.conftest import Personas
from tests.factories import PASSWORD, HelperFactory, MemberFactory, UserFactory
from tests.matching.conftest import vet
from tests.matching.tasks_factory import make_task

pytestmark = [pytest.mark.browser, pytest.mark.postgres]


def check(page: Page, label: str, *, error_page: bool = False) -> None:
    assert_accessible(page, label, error_page=error_page)
    screenshot(page, f"concerns-{label}")


def click_and_wait(page: Page, locator: Locator) -> None:
    with page.expect_navigation():
        locator.click()


@pytest.mark.parametrize("width", WIDTHS, ids=[f"{w}px" for w in WIDTHS])
def test_a_concern_is_raised_kept_from_operators_and_acted_on(
    page_at: PageAt, live_server: LiveServer, personas: Personas, width: Width
) -> None:
    # Hana has been helping Alice; Harry has taken a request of Bob's.
    vet(personas.hana_helper, by=personas.cora)
    make_task(member=personas.alice, status=TaskStatus.ACCEPTED, helper=personas.hana_helper)
    harry_user = UserFactory(email="harry@example.org", full_name="Harry Hall")
    harry = HelperFactory(
        member=MemberFactory(circle=personas.southwark, user=harry_user, roles=[RoleName.HELPER])
    )
    harrys_task = make_task(member=personas.bob, status=TaskStatus.ACCEPTED, helper=harry)

    # Hana raises a concern, from the link every signed-in page has.
    hana = page_at(width)
    sign_in(hana, live_server, "hana@example.org", PASSWORD)
    click_and_wait(hana, hana.get_by_role("link", name="Raise a safeguarding concern"))
    assert path_of(hana) == "/concerns/new/"
    check(hana, "danger-question")
    click_and_wait(hana, hana.get_by_role("button", name="Continue"))
    expect(hana.locator(".govuk-error-summary")).to_contain_text("Say whether someone")
    check(hana, "danger-question-error")
    hana.goto("/concerns/new/?danger=yes")
    expect(hana.locator("main")).to_contain_text("Call 999 now, before anything else.")
    check(hana, "danger-yes")
    hana.goto("/concerns/new/")
    hana.get_by_label("No").check()
    click_and_wait(hana, hana.get_by_role("button", name="Continue"))
    expect(hana.locator("main")).not_to_contain_text("Call 999")
    click_and_wait(hana, hana.get_by_role("button", name="Send to the coordinators"))
    expect(hana.locator(".govuk-error-summary")).to_contain_text("Choose who you are worried")
    check(hana, "form-errors")
    hana.get_by_label("Who are you worried about?").select_option(label="Alice Archer")
    hana.get_by_label("What happened, or what worries you?").fill(
        "Alice had fresh bruising on both arms and would not say how."
    )
    click_and_wait(hana, hana.get_by_role("button", name="Send to the coordinators"))
    assert path_of(hana) == "/concerns/"
    expect(hana.locator("main")).to_contain_text("Not yet: a coordinator is looking at it")
    expect(hana.locator("main")).not_to_contain_text("bruising")
    check(hana, "mine")
    alices = Concern.objects.get(about_member=personas.alice)
    assert not alices.danger_now

    # Bob has told the office about Harry (raised after Hana's, so hers is oldest).
    bobs = concern_raise(
        circle=personas.southwark,
        caller=caller_for(user=personas.bob.user, circle=personas.southwark),
        about_helper_id=harry.member_id,
        what_happened="Harry asked for my bank card.",
        danger_now=False,
    )

    # Otto, an operator, cannot read either concern.
    otto = page_at(width)
    sign_in(otto, live_server, "otto@example.org", PASSWORD)
    refused = otto.goto(f"/coordinator/southwark/concerns/{alices.pk}/")
    assert refused is not None
    assert refused.status == 403
    expect(otto.locator("main")).not_to_contain_text("bruising")
    check(otto, "operator-refused", error_page=True)
    assert not ConcernReading.objects.exists()

    # Cora opens Hana's concern from the top of her queue.
    cora = page_at(width)
    sign_in(cora, live_server, "cora@example.org", PASSWORD)
    cora.goto("/coordinator/southwark/")
    first = cora.locator("main table tbody tr").first
    expect(first).to_contain_text("Safeguarding concern")
    expect(first).to_contain_text("Alice Archer")
    expect(cora.locator("main")).not_to_contain_text("bruising")
    check(cora, "queue")
    click_and_wait(cora, first.get_by_role("link", name="Safeguarding concern about Alice Archer"))
    check(cora, "item")
    click_and_wait(cora, cora.get_by_role("link", name="Open the concern"))
    assert path_of(cora) == f"/coordinator/southwark/concerns/{alices.pk}/"
    expect(cora.locator("main")).to_contain_text("fresh bruising on both arms")
    check(cora, "concern")
    assert ConcernReading.objects.filter(concern=alices, reader=personas.cora.user).count() == 1

    # Then Bob's, from the Concerns list, and suspends Harry.
    cora.goto("/coordinator/southwark/concerns/")
    check(cora, "list")
    cora.goto(f"/coordinator/southwark/concerns/{bobs.pk}/")
    click_and_wait(cora, cora.get_by_role("button", name="Suspend the helper"))
    expect(cora.locator(".govuk-error-summary")).to_contain_text("Say why.")
    check(cora, "suspend-error")
    cora.get_by_label("Why are you suspending the helper?").fill("Asked a member for her card")
    click_and_wait(cora, cora.get_by_role("button", name="Suspend the helper"))
    expect(cora.locator("main")).to_contain_text(
        "Harry Hall is suspended. 1 request(s) they had taken are offered to other helpers again."
    )
    check(cora, "suspended")
    assert Helper.objects.get(pk=harry.pk).suspended
    task = Task.objects.get(pk=harrys_task.pk)
    assert task.status == TaskStatus.OPEN
    assert task.helper_id is None
    # Back in the feed: Hana, vetted and nearby, is offered it.
    feed = helper_feed_naive(helper=Helper.objects.get(pk=personas.hana_helper.pk))
    assert harrys_task.pk in [row.task.pk for row in feed]
