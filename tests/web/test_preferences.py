"""A member's preferred and blocked helpers on the pages."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from helpers.models import Helper
from matching.models import HelperPreference, PreferenceKind, TaskStatus
from members.models import AuditEvent
from tests.conftest import Personas
from tests.matching.conftest import make_active, new_helper, vet
from tests.matching.tasks_factory import helper_near, make_task
from tests.web.pages import text_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(personas: Personas) -> Personas:
    make_active(personas.alice, by=personas.otto, tokens=2)
    vet(personas.hana_helper, by=personas.cora)
    personas.alice.refresh_from_db()
    return personas


def helped(world: Personas, helper: Helper, times: int = 1) -> None:
    for _ in range(times):
        make_task(
            member=world.alice,
            status=TaskStatus.SETTLED,
            helper=helper,
            start=timezone.now() - timedelta(days=3),
        )


@pytest.fixture
def alice(client: Client, world: Personas) -> Client:
    client.force_login(world.alice.user)
    return client


def words_written() -> dict[str, int]:
    return {
        "preferences": HelperPreference.objects.count(),
        "audit": AuditEvent.objects.count(),
    }


def test_with_no_helpers_yet_the_page_says_so(alice: Client) -> None:
    response = alice.get("/my/helpers/")
    assert response.status_code == 200
    words = text_of(response)
    assert "Your helpers" in words
    assert "You have not chosen one." in words
    assert "Nobody yet. Once a helper has done a job for you" in words


def test_helpers_who_helped_her_are_listed_by_first_name_with_buttons(
    alice: Client, world: Personas
) -> None:
    helped(world, world.hana_helper, times=2)
    response = alice.get("/my/helpers/")
    words = text_of(response)
    page = response.content.decode()
    assert "Helpers who have helped you Hana Helped you 2 times." in words
    assert "Hughes" not in words
    assert "Prefer Hana" in words
    assert "Do not send Hana again" in words
    assert f'name="helper" value="{world.hana_helper.pk}"' in page
    assert 'name="action" value="preferred"' in page
    assert 'name="action" value="blocked"' in page


def test_prefer_makes_her_the_preferred_helper(alice: Client, world: Personas) -> None:
    helped(world, world.hana_helper)
    response = alice.post("/my/helpers/", {"helper": world.hana_helper.pk, "action": "preferred"})
    assert response["Location"] == "/my/helpers/"
    word = HelperPreference.objects.get(member=world.alice)
    assert (word.helper, word.kind) == (world.hana_helper, PreferenceKind.PREFERRED)
    words = text_of(alice.get("/my/helpers/"))
    assert "Hana is now your preferred helper. We will ask Hana first." in words
    assert "We ask Hana first when you ask for help." in words
    assert "Remove Hana" in words


def test_preferring_another_moves_the_word(alice: Client, world: Personas) -> None:
    gita = new_helper(world, "Gita")
    helped(world, world.hana_helper)
    helped(world, gita)
    alice.post("/my/helpers/", {"helper": world.hana_helper.pk, "action": "preferred"})
    alice.post("/my/helpers/", {"helper": gita.pk, "action": "preferred"})
    assert list(
        HelperPreference.objects.filter(member=world.alice).values_list("helper", "kind")
    ) == [(gita.pk, "preferred")]


def test_do_not_send_again_blocks_her(alice: Client, world: Personas) -> None:
    helped(world, world.hana_helper)
    alice.post("/my/helpers/", {"helper": world.hana_helper.pk, "action": "blocked"})
    word = HelperPreference.objects.get(member=world.alice)
    assert word.kind == PreferenceKind.BLOCKED
    words = text_of(alice.get("/my/helpers/"))
    assert "We will not send Hana to you again." in words
    assert "Helpers you do not want sent Hana Remove Hana" in words


def test_remove_takes_the_word_back(alice: Client, world: Personas) -> None:
    helped(world, world.hana_helper)
    alice.post("/my/helpers/", {"helper": world.hana_helper.pk, "action": "blocked"})
    alice.post("/my/helpers/", {"helper": world.hana_helper.pk, "action": "remove"})
    assert not HelperPreference.objects.filter(member=world.alice).exists()
    words = text_of(alice.get("/my/helpers/"))
    assert "Hana can be sent to you again." in words
    assert "Prefer Hana" in words


def test_another_circles_helper_in_a_forged_post_is_page_not_found(
    alice: Client, world: Personas
) -> None:
    suffolk_helper = helper_near(world.sam, name="Sid Suffolk")
    before = words_written()
    response = alice.post("/my/helpers/", {"helper": suffolk_helper.pk, "action": "preferred"})
    assert response.status_code == 404
    assert words_written() == before


def test_a_helper_she_does_not_know_cannot_be_named(alice: Client, world: Personas) -> None:
    before = words_written()
    response = alice.post("/my/helpers/", {"helper": world.hana_helper.pk, "action": "blocked"})
    assert response.status_code == 404
    assert words_written() == before


def test_a_forged_action_changes_nothing(alice: Client, world: Personas) -> None:
    helped(world, world.hana_helper)
    before = words_written()
    response = alice.post("/my/helpers/", {"helper": world.hana_helper.pk, "action": "adore"})
    assert response["Location"] == "/my/helpers/"
    assert words_written() == before


def test_bob_sees_nothing_of_alices_helpers(client: Client, world: Personas) -> None:
    helped(world, world.hana_helper)
    HelperPreference.objects.create(
        circle=world.southwark, member=world.alice, helper=world.hana_helper, kind="preferred"
    )
    client.force_login(world.bob.user)
    words = text_of(client.get("/my/helpers/"))
    assert "Hana" not in words
    response = client.post("/my/helpers/", {"helper": world.hana_helper.pk, "action": "remove"})
    assert response.status_code == 404
    assert HelperPreference.objects.filter(member=world.alice).exists()


def test_suffolks_sam_sees_nothing_of_southwark(client: Client, world: Personas) -> None:
    helped(world, world.hana_helper)
    client.force_login(world.sam.user)
    words = text_of(client.get("/my/helpers/"))
    assert "Hana" not in words
    assert "Southwark" not in words


def test_signed_out_person_is_sent_to_sign_in(client: Client, world: Personas) -> None:
    assert client.get("/my/helpers/")["Location"].startswith("/sign-in/")
    assert client.post("/my/helpers/", {"helper": 1, "action": "remove"}).status_code == 302


@pytest.mark.parametrize("helpers", [1, 20])
def test_the_helpers_page_reads_a_fixed_number_of_queries(
    alice: Client, world: Personas, helpers: int, django_assert_max_num_queries: Any
) -> None:
    for n in range(helpers):
        helper = helper_near(world.alice, name=f"Helper{n} Person")
        helped(world, helper, times=2)
        if n == 0:
            HelperPreference.objects.create(
                circle=world.southwark, member=world.alice, helper=helper, kind="preferred"
            )
        elif n == 1:
            HelperPreference.objects.create(
                circle=world.southwark, member=world.alice, helper=helper, kind="blocked"
            )
    with django_assert_max_num_queries(10):
        assert alice.get("/my/helpers/").status_code == 200
