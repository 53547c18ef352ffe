"""`GET /api/v1/helpers/{id}/`: the helper themselves and their circle's coordinators see the
profile (DESIGN: "the helper, coordinators"); other people of the circle are refused (403) and
other circles' people cannot find it (404)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from helpers.models import AvailabilitySlot
from tests.conftest import Personas
from tests.factories import HelperFactory, MemberFactory
from tests.helpers.conftest import assert_error, detail_url, vetting_url

pytestmark = pytest.mark.django_db

ClientFor = Callable[[Any], APIClient]


def test_helper_sees_her_own_profile(personas: Personas, client_for: ClientFor) -> None:
    hana = personas.hana_helper
    AvailabilitySlot.objects.create(
        circle=personas.southwark, helper=hana, weekday=2, start="10:00", end="12:30"
    )

    response = client_for(personas.hana).get(detail_url(hana.pk))

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] == hana.pk
    assert body["member_id"] == personas.hana.pk
    assert body["circle"] == "southwark"
    assert body["full_name"] == "Hana Hughes"
    assert body["skills"] == ["gardening", "odd-jobs"]
    assert body["vetting_level"] == "none"
    assert body["vetting"] is None
    assert body["availability"] == [{"weekday": 2, "start": "10:00", "end": "12:30"}]
    assert body["postcode_district"] == "SE15"
    assert "SE15 4AA" not in response.content.decode()


def test_coordinator_sees_helper_with_latest_vetting(
    personas: Personas, client_for: ClientFor
) -> None:
    cora = client_for(personas.cora)
    url = vetting_url(personas.hana_helper.pk)
    check = {
        "identity_checked": True,
        "references_checked": True,
        "dbs_level": "enhanced",
        "dbs_certificate_number": "001234567890",
        "dbs_issue_date": "2023-05-17",
        "original_seen_by": "Cora Coordinator",
    }
    cora.post(url, check, format="json")
    cora.post(url, {**check, "dbs_level": "basic"}, format="json")

    response = cora.get(detail_url(personas.hana_helper.pk))

    assert response.status_code == 200, response.content
    assert response.json()["vetting_level"] == "basic"
    assert response.json()["vetting"]["dbs_level"] == "basic"


def test_helper_sees_her_own_vetting_and_suspension(
    personas: Personas, client_for: ClientFor
) -> None:
    client_for(personas.cora).post(
        vetting_url(personas.hana_helper.pk),
        {"suspended": True, "reason": "Paused while on holiday"},
        format="json",
    )

    response = client_for(personas.hana).get(detail_url(personas.hana_helper.pk))

    assert response.status_code == 200, response.content
    assert response.json()["suspended"] is True
    assert response.json()["suspended_reason"] == "Paused while on holiday"


def test_anonymous_cannot_see_helper(personas: Personas, client_for: ClientFor) -> None:
    response = client_for(None).get(detail_url(personas.hana_helper.pk))

    assert_error(response, 401, "not_authenticated")


@pytest.mark.parametrize("who", ["alice", "bob", "otto"])
def test_members_and_operators_cannot_see_helper_profile(
    personas: Personas, client_for: ClientFor, who: str
) -> None:
    response = client_for(getattr(personas, who)).get(detail_url(personas.hana_helper.pk))

    assert_error(response, 403, "forbidden")


def test_another_helper_cannot_see_hanas_profile(personas: Personas, client_for: ClientFor) -> None:
    other = HelperFactory(member=MemberFactory(circle=personas.southwark, roles=["helper"]))

    response = client_for(other.member).get(detail_url(personas.hana_helper.pk))

    assert_error(response, 403, "forbidden")


@pytest.mark.parametrize("who", ["clara", "sam"])
def test_another_circles_people_cannot_find_helper(
    personas: Personas, client_for: ClientFor, who: str
) -> None:
    response = client_for(getattr(personas, who)).get(detail_url(personas.hana_helper.pk))

    assert_error(response, 404, "helper_not_found")


def test_coordinator_cannot_find_another_circles_helper(
    personas: Personas, client_for: ClientFor
) -> None:
    suffolk_helper = HelperFactory(
        member=MemberFactory(circle=personas.suffolk, roles=["helper"], postcode="IP4 1AA")
    )

    assert_error(
        client_for(personas.cora).get(detail_url(suffolk_helper.pk)), 404, "helper_not_found"
    )
    assert client_for(personas.clara).get(detail_url(suffolk_helper.pk)).status_code == 200


def test_helper_in_two_circles_sees_only_this_circles_profile_by_its_id(
    personas: Personas, client_for: ClientFor
) -> None:
    # Sam helps in Suffolk and, with the same login, in Southwark; each profile is his.
    suffolk_profile = HelperFactory(member=personas.sam)
    southwark_member = MemberFactory(
        circle=personas.southwark, user=personas.sam.user, roles=["helper"]
    )
    southwark_profile = HelperFactory(member=southwark_member)
    client = client_for(personas.sam)

    suffolk = client.get(detail_url(suffolk_profile.pk)).json()
    southwark = client.get(detail_url(southwark_profile.pk)).json()

    assert (suffolk["circle"], suffolk["member_id"]) == ("suffolk", personas.sam.pk)
    assert (southwark["circle"], southwark["member_id"]) == ("southwark", southwark_member.pk)


@pytest.mark.parametrize("helper_id", [999999, 0, 2**63, 10**30])
def test_unknown_helper_is_not_found(
    personas: Personas, client_for: ClientFor, helper_id: int
) -> None:
    response = client_for(personas.cora).get(detail_url(helper_id))

    assert_error(response, 404, "helper_not_found")


def test_non_numeric_helper_id_is_not_found(personas: Personas, client_for: ClientFor) -> None:
    response = client_for(personas.cora).get("/api/v1/helpers/hana/")

    assert_error(response, 404, "not_found")


def test_helper_detail_is_read_only(personas: Personas, client_for: ClientFor) -> None:
    response = client_for(personas.cora).patch(
        detail_url(personas.hana_helper.pk), {"vetting_level": "enhanced"}, format="json"
    )

    assert_error(response, 405, "method_not_allowed")
    personas.hana_helper.refresh_from_db()
    assert personas.hana_helper.vetting_level == "none"
