"""Who is acting for whom: `members.selectors.signed_in` and `acting_member`, which the API's
views and the pages both call with the signed-in user."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from circle.errors import Forbidden, InvalidInput, NotFound, NotSignedIn, api_exception_handler
from members.models import JoinedVia, Member
from members.selectors import acting_member, signed_in
from tests.conftest import Personas


def test_signed_in_refuses_the_anonymous() -> None:
    with pytest.raises(NotSignedIn):
        signed_in(AnonymousUser())


def test_not_signed_in_is_answered_as_drf_answers_not_authenticated() -> None:
    view = APIView()
    request = view.initialize_request(APIRequestFactory().get("/"))

    response = api_exception_handler(NotSignedIn(), {"view": view, "request": request})

    assert response is not None
    assert response.status_code == 401
    assert response.data == {
        "code": "not_authenticated",
        "detail": "Authentication credentials were not provided.",
    }
    assert response["WWW-Authenticate"] == "Token"


def test_a_member_of_one_circle_acts_for_themselves(personas: Personas) -> None:
    member, caller = acting_member(user=personas.alice.user, member_id=None)

    assert member == personas.alice
    assert caller.member == personas.alice


def test_staff_act_for_the_member_they_name(personas: Personas) -> None:
    member, caller = acting_member(user=personas.otto.user, member_id=personas.alice.pk)

    assert member == personas.alice
    assert caller.is_staff


def test_a_member_may_not_act_for_another(personas: Personas) -> None:
    with pytest.raises(Forbidden):
        acting_member(user=personas.bob.user, member_id=personas.alice.pk)


def test_another_circles_member_is_not_found(personas: Personas) -> None:
    with pytest.raises(NotFound):
        acting_member(user=personas.clara.user, member_id=personas.alice.pk)


def test_the_anonymous_must_name_someone_and_sign_in(personas: Personas) -> None:
    with pytest.raises(NotSignedIn):
        acting_member(user=AnonymousUser(), member_id=None)


def test_without_a_single_circle_the_member_must_be_named(personas: Personas) -> None:
    Member.objects.create(
        circle=personas.suffolk,
        user=personas.alice.user,
        full_name="Alice in Suffolk",
        joined_via=JoinedVia.ONLINE,
    )
    with pytest.raises(InvalidInput) as refused:
        acting_member(user=personas.alice.user, member_id=None)
    assert refused.value.code == "member_id_required"


def _member_reads(queries: list[dict[str, str]]) -> int:
    """Statements that read the members table itself (quoted by the ORM, plain in our SQL)."""
    return sum(1 for q in queries if re.search(r'FROM "?members_member"?[\s,]', q["sql"]))


@pytest.mark.parametrize("what", ["tokens", "statement"])
def test_a_member_reading_their_own_records_is_read_once(
    personas: Personas, client_for: Any, what: str
) -> None:
    """The member named in the address is the caller: their record, read to check access, is
    the caller's too, and is not read a second time."""
    client = client_for(personas.alice)
    with CaptureQueriesContext(connection) as seen:
        response = client.get(f"/api/v1/members/{personas.alice.pk}/{what}/")

    assert response.status_code == 200
    assert _member_reads(seen.captured_queries) == 1


def test_acting_for_themselves_reads_the_member_once(personas: Personas) -> None:
    with CaptureQueriesContext(connection) as seen:
        member, caller = acting_member(user=personas.alice.user, member_id=None)

    assert member == caller.member == personas.alice
    assert caller.roles == {"member"}
    assert _member_reads(seen.captured_queries) == 1


@pytest.mark.parametrize(("what", "statements"), [("tokens", 4), ("statement", 5)])
def test_a_member_s_own_tokens_and_statement_take_few_statements(
    personas: Personas, client_for: Any, what: str, statements: int
) -> None:
    """The token lookup, the member with their roles (one statement), then the wallet: tokens
    reads its balance and its holds, the statement the wallet, its entry count and the page.
    The member's home screen asks for these on every visit."""
    client = client_for(personas.alice)
    client.get(f"/api/v1/members/{personas.alice.pk}/{what}/")  # the token's first use
    with CaptureQueriesContext(connection) as seen:
        response = client.get(f"/api/v1/members/{personas.alice.pk}/{what}/")

    assert response.status_code == 200
    # At most: alice's wallet may not exist yet, and then no page is read.
    assert len(seen.captured_queries) <= statements, [q["sql"] for q in seen.captured_queries]
