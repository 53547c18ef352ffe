"""Naming and ending trusted persons through the API (`/api/v1/members/{id}/trusted-persons/`,
`/api/v1/trusted-persons/{id}/`): the member and their circle's staff (with the consent's call
reference) may; a trusted person never may; another circle's are not found."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from rest_framework.test import APIClient

from members.models import AuditEvent, TrustedPerson, User
from members.selectors import TRUSTED_PERSON_ADDED, TRUSTED_PERSON_ENDED, on_behalf_list
from tests.conftest import Personas
from tests.factories import UserFactory

Client = Callable[[Any], APIClient]

pytestmark = pytest.mark.django_db


def url(member_id: int) -> str:
    return f"/api/v1/members/{member_id}/trusted-persons/"


def end_url(trusted_id: int) -> str:
    return f"/api/v1/trusted-persons/{trusted_id}/"


DAUGHTER = {"full_name": "Dee Archer", "email": "dee@example.net", "scopes": ["ask", "statement"]}


def test_a_member_names_a_new_person_who_is_emailed_a_link_to_set_a_password(
    personas: Personas, client_for: Client, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(personas.alice).post(url(personas.alice.pk), DAUGHTER, "json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["full_name"] == "Dee Archer"
    assert body["email"] == "dee@example.net"
    assert body["scopes"] == ["ask", "statement"]
    assert body["ended_at"] is None
    dee = User.objects.get(email="dee@example.net")
    assert not dee.has_usable_password()
    assert not dee.members.exists()  # a login, and no member record
    (sent,) = mail.outbox
    assert sent.to == ["dee@example.net"]
    assert "Alice Archer has named you" in sent.body
    assert "/password-reset/" in sent.body
    event = AuditEvent.objects.get(action=TRUSTED_PERSON_ADDED)
    assert (event.actor_id, event.member_id) == (personas.alice.user_id, personas.alice.pk)

    listed = client_for(personas.alice).get(url(personas.alice.pk)).json()
    assert [row["full_name"] for row in listed] == ["Dee Archer"]


def test_an_existing_login_is_used_and_not_given_a_new_password(
    personas: Personas, client_for: Client
) -> None:
    dee = UserFactory(email="dee@example.net", full_name="Dee")
    response = client_for(personas.alice).post(url(personas.alice.pk), DAUGHTER, "json")

    assert response.status_code == 201
    assert TrustedPerson.objects.get().user == dee
    assert User.objects.filter(email__iexact="dee@example.net").count() == 1


def test_staff_record_one_only_with_the_consent_calls_reference(
    personas: Personas, client_for: Client
) -> None:
    otto = client_for(personas.otto)
    refused = otto.post(url(personas.alice.pk), DAUGHTER, "json")
    assert refused.status_code == 400
    assert refused.json()["code"] == "consent_reference_required"
    assert refused.json()["field"] == "consent_reference"
    assert not TrustedPerson.objects.exists()

    made = otto.post(url(personas.alice.pk), {**DAUGHTER, "consent_reference": "CALL-7"}, "json")
    assert made.status_code == 201, made.content
    assert made.json()["consent_reference"] == "CALL-7"
    event = AuditEvent.objects.get(action=TRUSTED_PERSON_ADDED)
    assert (event.actor_id, event.call_reference) == (personas.otto.user_id, "CALL-7")


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"scopes": []}, "scopes_required", "scopes"),
        ({"scopes": ["everything"]}, "invalid_choice", "scopes.0"),
        ({"email": "not an email"}, "email_invalid", "email"),
        ({"email": "alice@example.org"}, "trusted_person_self", "email"),
        ({"full_name": "   "}, "blank", "full_name"),
        ({"nickname": "Dee"}, "unknown_field", "nickname"),
    ],
)
def test_bad_input_is_a_clean_400_and_writes_nothing(
    personas: Personas, client_for: Client, changes: dict[str, Any], code: str, field: str
) -> None:
    response = client_for(personas.alice).post(
        url(personas.alice.pk), {**DAUGHTER, **changes}, "json"
    )

    assert response.status_code == 400, response.content
    assert response.json()["field"] == field
    assert response.json()["code"] == code
    assert not TrustedPerson.objects.exists()


def test_the_same_person_twice_is_a_conflict(personas: Personas, client_for: Client) -> None:
    alice = client_for(personas.alice)
    assert alice.post(url(personas.alice.pk), DAUGHTER, "json").status_code == 201

    again = alice.post(url(personas.alice.pk), DAUGHTER, "json")
    assert again.status_code == 409
    assert again.json()["code"] == "trusted_person_exists"


def test_staff_never_record_themselves(personas: Personas, client_for: Client) -> None:
    body = {**DAUGHTER, "email": "otto@example.org", "consent_reference": "C1"}
    response = client_for(personas.otto).post(url(personas.alice.pk), body, "json")

    assert response.status_code == 403
    assert response.json()["code"] == "own_record"


@pytest.mark.parametrize("who", ["bob", "hana"])
def test_another_member_or_a_helper_is_refused(
    personas: Personas, client_for: Client, who: str
) -> None:
    client = client_for(getattr(personas, who))
    assert client.get(url(personas.alice.pk)).status_code == 403
    assert client.post(url(personas.alice.pk), DAUGHTER, "json").status_code == 403


def test_another_circle_finds_no_such_member_nor_link(
    personas: Personas, client_for: Client
) -> None:
    made = client_for(personas.alice).post(url(personas.alice.pk), DAUGHTER, "json").json()
    clara = client_for(personas.clara)

    assert clara.get(url(personas.alice.pk)).status_code == 404
    assert clara.post(url(personas.alice.pk), DAUGHTER, "json").status_code == 404
    gone = clara.delete(end_url(made["id"]))
    assert gone.status_code == 404
    assert gone.json()["code"] == "trusted_person_not_found"


def test_a_trusted_person_can_never_change_who_the_trusted_persons_are(
    personas: Personas, client_for: Client
) -> None:
    body = {**DAUGHTER, "scopes": ["ask", "confirm", "pay", "statement"]}
    made = client_for(personas.alice).post(url(personas.alice.pk), body, "json").json()
    dee = client_for(User.objects.get(email="dee@example.net"))

    for response in (
        dee.get(url(personas.alice.pk)),
        dee.post(url(personas.alice.pk), {**DAUGHTER, "email": "son@example.net"}, "json"),
        dee.delete(end_url(made["id"])),
    ):
        assert response.status_code == 403
        assert response.json()["code"] == "trusted_person_not_allowed"
    assert TrustedPerson.objects.filter(ended_at__isnull=True).count() == 1


@pytest.mark.parametrize("who", ["alice", "cora"])
def test_the_member_or_staff_end_it_at_once(
    personas: Personas, client_for: Client, who: str
) -> None:
    made = client_for(personas.alice).post(url(personas.alice.pk), DAUGHTER, "json").json()
    dee = client_for(User.objects.get(email="dee@example.net"))
    statement = f"/api/v1/members/{personas.alice.pk}/statement/"
    assert dee.get(statement).status_code == 200

    ended = client_for(getattr(personas, who)).delete(end_url(made["id"]))

    assert ended.status_code == 204
    # At once: the very next request is refused, as for someone with no link at all.
    assert dee.get(statement).status_code == 404
    assert client_for(personas.alice).get(url(personas.alice.pk)).json() == []
    event = AuditEvent.objects.get(action=TRUSTED_PERSON_ENDED)
    assert event.actor_id == getattr(personas, who).user_id
    # Ending again changes nothing.
    assert client_for(personas.alice).delete(end_url(made["id"])).status_code == 204
    assert AuditEvent.objects.filter(action=TRUSTED_PERSON_ENDED).count() == 1
    # Named again afterwards: a new link.
    again = client_for(personas.alice).post(url(personas.alice.pk), DAUGHTER, "json")
    assert again.status_code == 201


def test_adding_and_ending_show_on_the_members_list_only_when_staff_did_it(
    personas: Personas, client_for: Client
) -> None:
    client_for(personas.alice).post(url(personas.alice.pk), DAUGHTER, "json")
    body = {**DAUGHTER, "email": "son@example.net", "consent_reference": "C2"}
    client_for(personas.otto).post(url(personas.alice.pk), body, "json")

    actions = [(e.action, e.actor_id) for e in on_behalf_list(member=personas.alice)]
    assert actions == [(TRUSTED_PERSON_ADDED, personas.otto.user_id)]


def test_me_lists_the_members_a_login_acts_for(personas: Personas, client_for: Client) -> None:
    client_for(personas.alice).post(url(personas.alice.pk), DAUGHTER, "json")
    dee = client_for(User.objects.get(email="dee@example.net"))

    body = dee.get("/api/v1/me/").json()

    assert body["circles"] == []
    assert body["trusted_for"] == [
        {
            "member_id": personas.alice.pk,
            "full_name": "Alice Archer",
            "circle": "southwark",
            "scopes": ["ask", "statement"],
        }
    ]
    assert client_for(personas.alice).get("/api/v1/me/").json()["trusted_for"] == []


def test_the_members_copy_of_their_data_names_their_trusted_persons(
    personas: Personas, client_for: Client
) -> None:
    client_for(personas.alice).post(url(personas.alice.pk), DAUGHTER, "json")

    body = client_for(personas.alice).get(f"/api/v1/members/{personas.alice.pk}/export/").json()

    (named,) = body["member"]["trusted_persons"]
    assert (named["full_name"], named["email"], named["scopes"]) == (
        "Dee Archer",
        "dee@example.net",
        ["ask", "statement"],
    )
    assert named["ended_at"] is None
