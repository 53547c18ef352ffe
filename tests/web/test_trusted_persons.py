"""The trusted persons' pages: `/my/trusted-persons/` (the member names, lists and ends them),
`/trusted/` (a trusted person's own home) and acting for a member on the member's pages within
the scopes given; the console card's section, where staff record one with the call's
reference and end one."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.test import Client

from members.models import AuditEvent, Member, TrustedPerson, User
from members.selectors import TRUSTED_PERSON_ADDED, TRUSTED_PERSON_ENDED, caller_for
from members.trusted_persons import trusted_person_add
from tests.conftest import Personas
from tests.matching.conftest import make_active
from tests.web.pages import text_of
from web.views.base import landing_for

pytestmark = pytest.mark.django_db


def signed_in(who: Member | User) -> Client:
    client = Client()
    client.force_login(who.user if isinstance(who, Member) else who)
    return client


def name_dee(member: Member, *scopes: str) -> TrustedPerson:
    return trusted_person_add(
        caller=caller_for(user=member.user, circle=member.circle),
        member=member,
        full_name="Dee Archer",
        email="dee@example.net",
        scopes=scopes,
    )


GOOD = {"full_name": "Dee Archer", "email": "dee@example.net", "scopes": ["ask", "statement"]}


# --- The member's page --------------------------------------------------------------------------


def test_the_member_names_someone_and_sees_them_listed(
    personas: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    alice = signed_in(personas.alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = alice.post("/my/trusted-persons/", GOOD)

    assert response.status_code == 302
    assert response["Location"] == "/my/trusted-persons/"
    words = text_of(alice.get("/my/trusted-persons/"))
    assert "Dee Archer can now act for you." in words
    assert "dee@example.net" in words
    assert "Ask for help (and cancel a request)" in words
    assert "Read the tokens statement" in words
    assert len(mail.outbox) == 1


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"scopes": []}, "Choose at least one thing they may do."),
        ({"full_name": ""}, "Enter their full name."),
        ({"email": "alice@example.org"}, "cannot be their own trusted person"),
    ],
)
def test_errors_show_the_summary_and_write_nothing(
    personas: Personas, changes: dict[str, Any], error: str
) -> None:
    response = signed_in(personas.alice).post("/my/trusted-persons/", {**GOOD, **changes})

    assert response.status_code == 200
    words = text_of(response)
    assert words.startswith("Error:") or "There is a problem" in words
    assert error in words
    assert not TrustedPerson.objects.exists()
    assert not User.objects.filter(email="dee@example.net").exists()


def test_the_member_ends_one_after_confirming(personas: Personas) -> None:
    link = name_dee(personas.alice, "ask")
    alice = signed_in(personas.alice)

    asked = alice.get(f"/my/trusted-persons/{link.pk}/end/")
    assert "Stop Dee Archer acting for you?" in text_of(asked)
    assert TrustedPerson.objects.get().ended_at is None

    done = alice.post(f"/my/trusted-persons/{link.pk}/end/")
    assert done.status_code == 302
    assert TrustedPerson.objects.get().ended_at is not None
    assert AuditEvent.objects.filter(action=TRUSTED_PERSON_ENDED).count() == 1
    assert "You have not named anyone yet." in text_of(alice.get("/my/trusted-persons/"))


def test_another_members_link_cannot_be_ended(personas: Personas) -> None:
    link = name_dee(personas.alice, "ask")

    assert signed_in(personas.bob).post(f"/my/trusted-persons/{link.pk}/end/").status_code == 404
    assert TrustedPerson.objects.get().ended_at is None


# --- The trusted person's pages -----------------------------------------------------------------


def test_a_trusted_person_lands_on_their_home_and_sees_who_they_help(personas: Personas) -> None:
    link = name_dee(personas.alice, "ask", "statement")
    dee = signed_in(link.user)

    assert landing_for(link.user) == "/trusted/"
    words = text_of(dee.get("/trusted/"))
    assert "Alice Archer, Southwark Circle" in words
    assert "Act for Alice Archer" in words


def test_acting_shows_the_banner_and_only_the_pages_in_scope(personas: Personas) -> None:
    make_active(personas.alice, by=personas.otto, tokens=2)
    link = name_dee(personas.alice, "ask", "statement")
    dee = signed_in(link.user)

    hub = dee.get(f"/trusted/{personas.alice.pk}/")
    words = text_of(hub)
    assert "You are acting for Alice Archer" in words
    assert "Ask for help for them" in words
    tokens = dee.get("/my/tokens/")
    assert tokens.status_code == 200
    assert "You are acting for Alice Archer" in text_of(tokens)
    assert dee.get("/my/ask/").status_code in (200, 302)
    # Outside her scopes, and the member's own pages: refused.
    for path in ("/my/pay/", "/my/details/", "/my/data/", "/my/trusted-persons/", "/my/helpers/"):
        refused = dee.get(path)
        assert refused.status_code == 403, path
        assert "Alice Archer has not asked you to do this." in text_of(refused)
    assert not AuditEvent.objects.filter(action="data.exported").exists()
    # The member's home sends her to what she may do.
    assert dee.get("/my/")["Location"] == f"/trusted/{personas.alice.pk}/"
    # Going back to /trusted/ ends acting.
    dee.get("/trusted/")
    assert dee.get("/my/tokens/").status_code == 403  # she is no member herself


def test_someone_elses_member_is_not_found(personas: Personas) -> None:
    link = name_dee(personas.alice, "ask")

    assert signed_in(link.user).get(f"/trusted/{personas.bob.pk}/").status_code == 404
    assert signed_in(personas.bob).get(f"/trusted/{personas.alice.pk}/").status_code == 404


def test_ending_stops_her_at_her_next_page(personas: Personas) -> None:
    link = name_dee(personas.alice, "statement")
    dee = signed_in(link.user)
    dee.get(f"/trusted/{personas.alice.pk}/")
    assert dee.get("/my/tokens/").status_code == 200

    signed_in(personas.alice).post(f"/my/trusted-persons/{link.pk}/end/")

    assert dee.get("/my/tokens/")["Location"] == "/trusted/"
    assert "Nobody has named you" in text_of(dee.get("/trusted/"))


def test_her_acts_show_as_done_by_her_for_the_member(personas: Personas) -> None:
    link = name_dee(personas.alice, "pay")
    dee = signed_in(link.user)
    dee.get(f"/trusted/{personas.alice.pk}/")

    assert dee.post("/my/pay/gift-link/").status_code == 200

    words = text_of(signed_in(personas.alice).get("/my/on-my-behalf/"))
    assert "Made a gift link for you" in words
    assert "Done by Dee Archer (trusted person) for Alice Archer" in words
    card = text_of(signed_in(personas.otto).get(f"/console/southwark/members/{personas.alice.pk}/"))
    assert "Done by Dee Archer (trusted person) for Alice Archer" in card


# --- The console --------------------------------------------------------------------------------


def test_staff_record_one_with_the_call_reference_and_end_it(personas: Personas) -> None:
    otto = signed_in(personas.otto)
    base = f"/console/southwark/members/{personas.alice.pk}"

    missing = otto.post(f"{base}/trusted-persons/new/", GOOD)
    assert missing.status_code == 200
    assert not TrustedPerson.objects.exists()

    made = otto.post(f"{base}/trusted-persons/new/", {**GOOD, "call_reference": "CALL-9"})
    assert made.status_code == 302, text_of(made)
    link = TrustedPerson.objects.get()
    assert link.consent_reference == "CALL-9"
    event = AuditEvent.objects.get(action=TRUSTED_PERSON_ADDED)
    assert (event.actor_id, event.call_reference) == (personas.otto.user_id, "CALL-9")
    card = text_of(otto.get(f"{base}/"))
    assert "Dee Archer (dee@example.net)" in card
    assert "Consent on call CALL-9" in card

    ended = otto.post(f"{base}/trusted-persons/{link.pk}/end/", {"call_reference": "CALL-10"})
    assert ended.status_code == 302
    assert TrustedPerson.objects.get().ended_at is not None
    assert "Nobody acts for this member." in text_of(otto.get(f"{base}/"))


def test_another_circles_staff_find_no_such_page(personas: Personas) -> None:
    link = name_dee(personas.alice, "ask")
    clara = signed_in(personas.clara)
    base = f"/console/suffolk/members/{personas.alice.pk}"

    assert clara.get(f"{base}/trusted-persons/new/").status_code == 404
    assert (
        clara.post(f"{base}/trusted-persons/{link.pk}/end/", {"call_reference": "X"}).status_code
        == 404
    )
