"""Safeguarding concern pages: /concerns/new/ (danger first; yes says call 999 before anything
else), "your concerns" (received and closed only), and the coordinators' list and concern
page (the reading logged, notes, referral, suspending the helper, closing)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from attention.models import Concern, ConcernReading, Item, ItemKind
from attention.services import concern_raise
from helpers.models import Helper
from matching.models import Task, TaskStatus
from members.models import Member
from members.selectors import caller_for
from members.trusted_persons import trusted_person_add, trusted_person_end
from tests.conftest import Personas
from tests.matching.tasks_factory import make_task
from tests.web.pages import text_of

pytestmark = pytest.mark.django_db

NEW = "/concerns/new/"
# The concern page: session, user, caller, the concern, its reading written, the concern
# whole with its people, its notes, its readings (with their authors and readers).
PAGE_QUERIES = 8
# The list: session, user, caller, the concerns with their people.
LIST_QUERIES = 4
LIST = "/coordinator/southwark/concerns/"


def concern_url(concern: Concern, action: str = "") -> str:
    return f"{LIST}{concern.pk}/" + (f"{action}/" if action else "")


def raised(personas: Personas, by: Member, **about: Any) -> Concern:
    return concern_raise(
        circle=personas.southwark,
        caller=caller_for(user=by.user, circle=personas.southwark),
        what_happened=about.pop("what", "Bruises on her arms she would not explain."),
        danger_now=about.pop("danger", False),
        **about,
    )


@pytest.fixture
def as_(client: Client) -> Any:
    def sign_in(who: Member) -> Client:
        client.force_login(who.user)
        return client

    return sign_in


def test_the_danger_question_comes_first(personas: Personas, as_: Any) -> None:
    page = as_(personas.hana).get(NEW)
    assert page.status_code == 200
    assert "Is someone in danger right now?" in text_of(page)
    assert "Call 999" not in text_of(page)
    unanswered = as_(personas.hana).get(NEW + "?asked=1")
    assert "Say whether someone is in danger right now." in text_of(unanswered)
    missing = as_(personas.hana).get(NEW + "?danger=maybe")
    assert "Say whether someone is in danger right now." in text_of(missing)


def test_yes_says_call_999_before_anything_else(personas: Personas, as_: Any) -> None:
    page = as_(personas.hana).get(NEW + "?danger=yes")
    words = text_of(page)
    assert "Call 999 now, before anything else." in words
    assert words.index("Call 999 now") < words.index("Tell us what worries you")
    assert 'href="tel:999"' in page.content.decode()


def test_a_helper_raises_a_concern_about_a_member_they_helped(personas: Personas, as_: Any) -> None:
    make_task(member=personas.alice, status=TaskStatus.ACCEPTED, helper=personas.hana_helper)
    client = as_(personas.hana)
    form = client.get(NEW + "?danger=no")
    assert "Alice Archer" in text_of(form)
    # Only the people she has helped: not everyone in the circle.
    assert "Bob Baker" not in text_of(form)
    sent = client.post(
        NEW,
        {
            "danger": "no",
            "about": f"member:{personas.alice.pk}",
            "what_happened": "Bruises on both arms.",
            "happened_on_day": "1",
            "happened_on_month": "11",
            "happened_on_year": "2026",
        },
    )
    assert sent.status_code == 302
    assert sent["Location"] == "/concerns/"
    concern = Concern.objects.get()
    assert concern.about_member == personas.alice
    assert concern.happened_on is not None
    assert not concern.danger_now
    mine = client.get("/concerns/")
    assert "Your concern has reached the coordinators" in text_of(mine)
    assert "Not yet: a coordinator is looking at it" in text_of(mine)
    assert "Bruises" not in text_of(mine)


def test_a_trusted_person_raises_a_concern_about_the_member_they_act_for(
    personas: Personas, client: Client
) -> None:
    """A daughter acting for her mother is worried about her: she names her mother, or a
    helper who came to her, and nobody else in the circle."""
    make_task(member=personas.alice, status=TaskStatus.ACCEPTED, helper=personas.hana_helper)
    dee = trusted_person_add(
        caller=caller_for(user=personas.alice.user, circle=personas.southwark),
        member=personas.alice,
        full_name="Dee Archer",
        email="dee@example.net",
        scopes=["statement"],
    )
    client.force_login(dee.user)
    form = text_of(client.get(NEW + "?danger=no"))
    assert "Alice Archer" in form
    assert "Hana Hughes (helper)" in form
    assert "Bob Baker" not in form
    sent = client.post(
        NEW,
        {
            "danger": "no",
            "about": f"member:{personas.alice.pk}",
            "what_happened": "Mum says a man came to the door asking for her bank card.",
        },
    )
    assert sent.status_code == 302, text_of(sent)
    concern = Concern.objects.get()
    assert (concern.about_member, concern.raised_by) == (personas.alice, dee.user)
    assert Item.objects.filter(kind=ItemKind.SAFEGUARDING, member=personas.alice).exists()
    assert "Not yet: a coordinator is looking at it" in text_of(client.get("/concerns/"))
    # And through the API, naming the circle.
    api = APIClient()
    api.force_authenticate(dee.user)
    response = api.post(
        "/api/v1/circles/southwark/concerns/",
        {"about_member_id": personas.alice.pk, "what_happened": "Again.", "danger_now": False},
        format="json",
    )
    assert response.status_code == 201, response.json()
    # Once the link ends, they have no standing in the circle.
    trusted_person_end(
        caller=caller_for(user=personas.alice.user, circle=personas.southwark), trusted=dee
    )
    again = api.post(
        "/api/v1/circles/southwark/concerns/",
        {"about_member_id": personas.alice.pk, "what_happened": "Again.", "danger_now": False},
        format="json",
    )
    assert again.status_code == 403


def test_raising_refusals_show_on_the_form(personas: Personas, as_: Any) -> None:
    client = as_(personas.otto)
    empty = client.post(NEW, {"danger": "no", "about": "", "what_happened": ""})
    assert empty.status_code == 200
    assert "Choose who you are worried about." in text_of(empty)
    assert "Say what happened or what worries you." in text_of(empty)
    stranger = client.post(NEW, {"danger": "no", "about": "member:999999", "what_happened": "x"})
    assert "Choose who you are worried about." in text_of(stranger)
    assert not Concern.objects.exists()


def test_staff_raise_for_a_caller_about_anyone(personas: Personas, as_: Any) -> None:
    client = as_(personas.otto)
    form = client.get(NEW + "?danger=yes")
    assert "Bob Baker" in text_of(form)
    assert "Hana Hughes (helper)" in text_of(form)
    sent = client.post(
        NEW,
        {"danger": "yes", "about": f"helper:{personas.hana.pk}", "what_happened": "Rang in."},
    )
    assert sent.status_code == 302
    concern = Concern.objects.get()
    assert concern.danger_now
    assert concern.about_helper == personas.hana


def test_signed_out_goes_to_sign_in(client: Client) -> None:
    assert client.get(NEW).status_code == 302


def test_the_coordinator_lists_and_reads_and_each_reading_is_logged(
    personas: Personas, as_: Any
) -> None:
    concern = raised(personas, personas.hana, about_member_id=personas.alice.pk)
    client = as_(personas.cora)
    listed = client.get(LIST)
    assert listed.status_code == 200
    assert "Alice Archer" in text_of(listed)
    assert "Bruises" not in text_of(listed)
    page = client.get(concern_url(concern))
    assert page.status_code == 200
    assert "Bruises on her arms" in text_of(page)
    assert "Hana Hughes" in text_of(page)
    assert ConcernReading.objects.filter(concern=concern, reader=personas.cora.user).count() == 1
    assert "Cora Coordinator" in text_of(page).split("Who has read it")[1]


def test_the_desk_item_links_to_the_concern_without_its_words(personas: Personas, as_: Any) -> None:
    concern = raised(personas, personas.hana, about_member_id=personas.alice.pk)
    item = Item.objects.get(kind=ItemKind.SAFEGUARDING)
    client = as_(personas.cora)
    queue = client.get("/coordinator/southwark/")
    assert "Bruises" not in text_of(queue)
    page = client.get(f"/coordinator/southwark/items/{item.pk}/")
    assert page.status_code == 200
    assert concern_url(concern) in page.content.decode()
    assert "Bruises" not in text_of(page)


def test_a_concerns_item_closes_only_with_the_concern(personas: Personas, as_: Any) -> None:
    concern = raised(personas, personas.hana, about_member_id=personas.alice.pk)
    item = Item.objects.get(kind=ItemKind.SAFEGUARDING)
    client = as_(personas.cora)

    page = client.get(f"/coordinator/southwark/items/{item.pk}/")
    assert "This closes when the concern itself is closed" in text_of(page)
    assert f"/coordinator/southwark/items/{item.pk}/resolve/" not in page.content.decode()
    refused = client.post(f"/coordinator/southwark/items/{item.pk}/resolve/", {"outcome": "Done"})
    assert refused.status_code == 200
    assert "This closes when the concern itself is closed" in text_of(refused)
    item.refresh_from_db()
    assert item.done_at is None

    client.post(concern_url(concern, "close"), {"outcome": "Spoke to Alice's daughter."})
    item.refresh_from_db()
    assert item.done_at is not None


def test_operator_other_circle_and_members_are_kept_out(personas: Personas, as_: Any) -> None:
    concern = raised(personas, personas.hana, about_member_id=personas.alice.pk)
    assert as_(personas.otto).get(LIST).status_code == 403
    assert as_(personas.otto).get(concern_url(concern)).status_code == 403
    assert as_(personas.alice).get(concern_url(concern)).status_code == 403
    assert as_(personas.clara).get(concern_url(concern)).status_code == 404
    assert not ConcernReading.objects.exists()


def test_note_referral_and_close(personas: Personas, as_: Any) -> None:
    concern = raised(personas, personas.hana, about_member_id=personas.alice.pk)
    client = as_(personas.cora)
    blank = client.post(concern_url(concern, "note"), {"text": ""})
    assert "Write the note." in text_of(blank)
    noted = client.post(concern_url(concern, "note"), {"text": "Rang her daughter."})
    assert noted.status_code == 302
    today = timezone.localdate()
    future = client.post(
        concern_url(concern, "referral"),
        {
            "referred_on_day": "1",
            "referred_on_month": "1",
            "referred_on_year": str(today.year + 1),
            "reference": "SW-1",
        },
    )
    assert "The date cannot be in the future." in text_of(future)
    referred = client.post(
        concern_url(concern, "referral"),
        {
            "referred_on_day": str(today.day),
            "referred_on_month": str(today.month),
            "referred_on_year": str(today.year),
            "reference": "SW-2026-114",
        },
    )
    assert referred.status_code == 302
    page = client.get(concern_url(concern))
    assert "reference SW-2026-114" in text_of(page)
    assert "Rang her daughter." in text_of(page)
    missing = client.post(concern_url(concern, "close"), {"outcome": ""})
    assert "Say what the outcome was." in text_of(missing)
    closed = client.post(concern_url(concern, "close"), {"outcome": "A fall; GP aware."})
    assert closed.status_code == 302
    assert Concern.objects.get(pk=concern.pk).closed_at is not None
    assert Item.objects.get(kind=ItemKind.SAFEGUARDING).done_at is not None
    closed_list = client.get(LIST + "?show=closed")
    assert concern_url(concern) in closed_list.content.decode()
    assert concern_url(concern) not in client.get(LIST).content.decode()
    again = client.post(concern_url(concern, "note"), {"text": "late"})
    assert "This concern is closed." in text_of(again)


def test_suspend_hands_back_the_helpers_accepted_task(personas: Personas, as_: Any) -> None:
    task = make_task(member=personas.bob, status=TaskStatus.ACCEPTED, helper=personas.hana_helper)
    concern = raised(personas, personas.alice, about_helper_id=personas.hana.pk)
    client = as_(personas.cora)
    blank = client.post(concern_url(concern, "suspend"), {"reason": ""})
    assert "Say why." in text_of(blank)
    done = client.post(concern_url(concern, "suspend"), {"reason": "Allegation of theft"})
    assert done.status_code == 302
    page = client.get(concern_url(concern))
    assert "Hana Hughes is suspended. 1 request(s)" in text_of(page)
    assert Helper.objects.get(pk=personas.hana_helper.pk).suspended
    assert Task.objects.get(pk=task.pk).status == TaskStatus.OPEN
    about_member = raised(personas, personas.hana, about_member_id=personas.alice.pk)
    assert "Suspend the helper" not in text_of(client.get(concern_url(about_member)))


def test_query_counts_do_not_grow_with_rows(
    personas: Personas, as_: Any, django_assert_num_queries: Any
) -> None:
    client = as_(personas.cora)
    concern = raised(personas, personas.hana, about_member_id=personas.alice.pk)
    client.get(LIST)
    with django_assert_num_queries(LIST_QUERIES):
        client.get(LIST)
    with django_assert_num_queries(PAGE_QUERIES):
        client.get(concern_url(concern))
    for _ in range(6):
        extra = raised(personas, personas.otto, about_helper_id=personas.hana.pk)
        client.post(concern_url(extra, "note"), {"text": "n"})
        client.post(concern_url(concern, "note"), {"text": f"note {_}"})
        client.get(concern_url(concern))
    with django_assert_num_queries(LIST_QUERIES):
        client.get(LIST)
    with django_assert_num_queries(PAGE_QUERIES):
        client.get(concern_url(concern))


def test_the_person_a_concern_is_about_never_learns_of_it_from_what_staff_did(
    personas: Personas, as_: Any
) -> None:
    # Otto raises it for a caller; Cora takes the item, notes it and refers it: each an
    # audit row about Alice by staff, which her "done for you" page and the card must not show.
    concern = raised(personas, personas.otto, about_member_id=personas.alice.pk)
    item = Item.objects.get(kind=ItemKind.SAFEGUARDING)
    cora = as_(personas.cora)
    cora.post(f"/coordinator/southwark/items/{item.pk}/assign/", {"take": "1"})
    cora.post(concern_url(concern, "note"), {"text": "Rang her daughter."})
    from members.selectors import on_behalf_list

    shown = list(on_behalf_list(member=personas.alice).values_list("action", flat=True))
    assert shown == []
    # (Every page's footer offers "Raise a safeguarding concern": look past it.)
    card = text_of(cora.get(f"/console/southwark/members/{personas.alice.pk}/"))
    behalf = text_of(as_(personas.alice).get("/my/on-my-behalf/"))
    for text in (card, behalf):
        assert "Safeguarding" not in text
        assert "concern." not in text
        assert "Rang her daughter" not in text
