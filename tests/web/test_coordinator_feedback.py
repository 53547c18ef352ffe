"""The coordinators' feedback (/coordinator/{slug}/feedback/): newest first, low ratings
marked in words, filtered by helper and to the low ones, paged by keyset."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from helpers.models import Helper
from matching.models import Feedback, TaskStatus
from members.models import RoleName
from tests.conftest import Personas
from tests.factories import HelperFactory, MemberFactory, UserFactory
from tests.matching.tasks_factory import make_task
from tests.web.pages import text_of

pytestmark = pytest.mark.django_db

PAGE = "/coordinator/southwark/feedback/"


@pytest.fixture
def cora(client: Client, personas: Personas) -> Client:
    client.force_login(personas.cora.user)
    return client


def other_helper(personas: Personas, name: str = "Gus Gardener") -> Helper:
    user = UserFactory(email=f"{name.lower().replace(' ', '.')}@example.org", full_name=name)
    return HelperFactory(
        member=MemberFactory(circle=personas.southwark, user=user, roles=[RoleName.HELPER])
    )


def said(
    personas: Personas,
    helper: Helper,
    rating: int | None,
    comment: str = "",
    *,
    hours_ago: float = 1,
) -> Feedback:
    member = personas.alice if helper.circle_id == personas.southwark.pk else personas.sam
    task = make_task(member=member, status=TaskStatus.SETTLED, helper=helper)
    return Feedback.objects.create(
        circle_id=helper.circle_id,
        task=task,
        helper=helper,
        rating=rating,
        comment=comment,
        given_by=member.user,
        created_at=timezone.now() - timedelta(hours=hours_ago),
    )


def test_feedback_is_listed_newest_first_with_its_helper_member_and_task(
    cora: Client, personas: Personas
) -> None:
    hana = personas.hana_helper
    said(personas, hana, 5, "Lovely, and on time", hours_ago=30)
    latest = said(personas, hana, 4, "Good job", hours_ago=2)

    text = text_of(cora.get(PAGE))

    assert text.index("Good job") < text.index("Lovely, and on time")
    assert "Rating: 4 out of 5" in text
    assert "Helper: Hana Hughes" in text
    assert f"From Alice Archer, on “{latest.task.title}”" in text
    assert "Low rating" not in text.split("All feedback")[1]


def test_a_low_rating_is_marked_in_words(cora: Client, personas: Personas) -> None:
    said(personas, personas.hana_helper, 2, "Late and rushed")
    said(personas, personas.hana_helper, 1, "Did not come")
    said(personas, personas.hana_helper, 3, "All right")
    said(personas, personas.hana_helper, None, "No stars, only words")

    text = text_of(cora.get(PAGE))

    assert "Low rating Rating: 2 out of 5" in text
    assert "Low rating Rating: 1 out of 5" in text
    assert "Low rating Rating: 3" not in text
    assert "No rating given" in text
    assert text.count("Low rating Rating") == 2


def test_each_feedback_links_to_its_helpers_record(cora: Client, personas: Personas) -> None:
    said(personas, personas.hana_helper, 4)

    body = cora.get(PAGE).content.decode()

    assert f'href="/coordinator/southwark/helpers/{personas.hana_helper.pk}/"' in body


def test_filtered_by_helper(cora: Client, personas: Personas) -> None:
    gus = other_helper(personas)
    said(personas, personas.hana_helper, 4, "Hana was kind")
    said(personas, gus, 2, "Gus was late")

    text = text_of(cora.get(f"{PAGE}?helper={gus.pk}"))

    assert "Feedback on Gus Gardener" in text
    assert "Gus was late" in text
    assert "Hana was kind" not in text


def test_only_low_ratings(cora: Client, personas: Personas) -> None:
    gus = other_helper(personas)
    said(personas, personas.hana_helper, 4, "Hana was kind")
    said(personas, personas.hana_helper, 1, "Hana forgot")
    said(personas, gus, 2, "Gus was late")

    text = text_of(cora.get(f"{PAGE}?low=on"))
    assert "Low ratings" in text
    assert "Hana forgot" in text
    assert "Gus was late" in text
    assert "Hana was kind" not in text

    text = text_of(cora.get(f"{PAGE}?low=on&helper={gus.pk}"))
    assert "Low ratings for Gus Gardener" in text
    assert "Gus was late" in text
    assert "Hana forgot" not in text


def test_nothing_to_show_says_so(cora: Client, personas: Personas) -> None:
    assert "No feedback yet." in text_of(cora.get(PAGE))
    said(personas, personas.hana_helper, 5)
    assert "No low ratings. Good." in text_of(cora.get(f"{PAGE}?low=on"))


def test_another_circles_feedback_and_helpers_are_not_shown(
    cora: Client, personas: Personas
) -> None:
    suffolk = HelperFactory(member=MemberFactory(circle=personas.suffolk, roles=[RoleName.HELPER]))
    said(personas, suffolk, 1, "Suffolk words")

    text = text_of(cora.get(PAGE))
    assert "Suffolk words" not in text
    assert suffolk.member.full_name not in text
    # Naming Suffolk's helper in the filter is refused as any unknown choice is.
    text = text_of(cora.get(f"{PAGE}?helper={suffolk.pk}"))
    assert "Select a valid choice." in text
    assert "Suffolk words" not in text


def test_older_feedback_is_a_page_away_and_keeps_the_filter(
    cora: Client, personas: Personas
) -> None:
    for n in range(30):
        said(personas, personas.hana_helper, 1 + n % 5, f"Visit number {n:02d}", hours_ago=n + 1)

    first = cora.get(PAGE)
    text = text_of(first)
    assert "Visit number 00" in text
    assert "Visit number 24" in text
    assert "Visit number 25" not in text
    after = first.context["next_after"]
    assert after

    older = text_of(cora.get(PAGE, {"after": after}))
    assert "All feedback (older)" in older
    assert "Visit number 25" in older
    assert "Visit number 29" in older
    assert "Visit number 24" not in older
    assert "Older feedback" not in older
    assert "Back to the newest" in older

    low = cora.get(PAGE, {"low": "on"})
    assert low.context["next_after"] == ""  # 12 low ratings of 30: one page
    assert "low=on&amp;after=" not in low.content.decode()


def test_a_cursor_that_does_not_read_starts_at_the_newest(cora: Client, personas: Personas) -> None:
    said(personas, personas.hana_helper, 4, "Newest words")
    for cursor in ("nonsense", "2026-01-01T00:00:00~x", "2026-01-01T00:00:00~1"):
        assert "Newest words" in text_of(cora.get(PAGE, {"after": cursor}))


def test_the_page_costs_the_same_queries_however_much_feedback(
    cora: Client, personas: Personas, django_assert_num_queries: Any
) -> None:
    gus = other_helper(personas)
    for n in range(2):
        said(personas, personas.hana_helper, 2, hours_ago=n + 1)
    cora.get(PAGE)
    with django_assert_num_queries(5) as few:
        cora.get(PAGE)
    for n in range(30):
        said(personas, gus if n % 2 else personas.hana_helper, 1 + n % 5, hours_ago=n + 3)
    with django_assert_num_queries(len(few.captured_queries)):
        first = cora.get(PAGE)
    with django_assert_num_queries(len(few.captured_queries)):
        cora.get(PAGE, {"after": first.context["next_after"], "helper": gus.pk, "low": "on"})
