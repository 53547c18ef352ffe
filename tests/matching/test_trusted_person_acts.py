"""A trusted person acting for a member through the API, within the scopes the member gave:
ask (book and cancel), confirm, pay (renew, buy tokens, a gift link), statement (tokens and
statement). Everything else stays the member's and staff's (403). Each act is audited as the
trusted person's, for the member, and shows on the member's on-behalf list."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from matching.models import Task, TaskStatus
from members.models import AuditEvent, Member, User
from members.selectors import Caller, caller_for, on_behalf_list
from members.trusted_persons import trusted_person_add, trusted_person_end
from tests.conftest import Personas
from tests.matching.conftest import TASKS_URL, book, row_counts, task_url

Client = Callable[[Any], APIClient]

pytestmark = pytest.mark.django_db


def actor_email(event: AuditEvent) -> str:
    assert event.actor is not None
    return event.actor.email


def name_dee(member: Member, *scopes: str) -> User:
    link = trusted_person_add(
        caller=caller_for(user=member.user, circle=member.circle),
        member=member,
        full_name="Dee Archer",
        email="dee@example.net",
        scopes=scopes,
    )
    return link.user


def test_with_ask_she_books_for_the_member_and_it_is_audited_as_hers(
    world: Personas, client_for: Client, task_body: Callable[..., dict[str, Any]]
) -> None:
    dee = client_for(name_dee(world.alice, "ask"))

    task = book(dee, task_body(member_id=world.alice.pk))

    assert Task.objects.get(pk=task["id"]).member_id == world.alice.pk
    event = AuditEvent.objects.get(action="task.booked")
    assert actor_email(event) == "dee@example.net"
    assert event.actor_member_id is None
    assert event.member_id == world.alice.pk
    (row,) = [e for e in on_behalf_list(member=world.alice) if e.action == "task.booked"]
    assert row.trusted_name == "Dee Archer"
    # She sees it, and cancels it.
    assert dee.get(task_url(task["id"])).status_code == 200
    listed = dee.get(TASKS_URL, {"member_id": world.alice.pk})
    assert [t["id"] for t in listed.json()["results"]] == [task["id"]]
    cancelled = dee.post(task_url(task["id"], "cancel"), {"reason": "Mum is away"}, "json")
    assert cancelled.status_code == 200, cancelled.content
    assert cancelled.json()["status"] == "cancelled"
    # Confirming is not hers without "confirm".
    refused = dee.post(task_url(task["id"], "confirm"), {}, "json")
    assert refused.status_code == 403
    assert refused.json()["code"] == "scope_not_given"


def test_without_ask_she_cannot_book_and_nothing_is_written(
    world: Personas, client_for: Client, task_body: Callable[..., dict[str, Any]]
) -> None:
    dee = client_for(name_dee(world.alice, "statement"))
    before = row_counts()

    response = dee.post(TASKS_URL, task_body(member_id=world.alice.pk), "json")

    assert response.status_code == 403
    assert response.json()["code"] == "scope_not_given"
    assert row_counts() == before


def test_with_confirm_she_confirms_the_work(
    world: Personas, client_for: Client, task_body: Callable[..., dict[str, Any]]
) -> None:
    dee = client_for(name_dee(world.alice, "confirm"))
    task = book(client_for(world.alice), task_body())
    hana = client_for(world.hana)
    assert hana.post(task_url(task["id"], "accept")).status_code == 200
    assert hana.post(task_url(task["id"], "complete"), {"minutes": 60}, "json").status_code == 200

    # Reading it is hers (confirm), cancelling is not (ask).
    assert dee.get(task_url(task["id"])).status_code == 200
    cancel = dee.post(task_url(task["id"], "cancel"), {"reason": "x"}, "json")
    assert cancel.status_code == 403
    confirmed = dee.post(task_url(task["id"], "confirm"), {}, "json")

    assert confirmed.status_code == 200, confirmed.content
    assert Task.objects.get(pk=task["id"]).status == TaskStatus.SETTLED
    event = AuditEvent.objects.get(action="task.settled")
    assert (actor_email(event), event.member_id) == ("dee@example.net", world.alice.pk)


def test_with_statement_she_reads_tokens_and_statement_only(
    world: Personas, client_for: Client
) -> None:
    dee = client_for(name_dee(world.alice, "statement"))
    base = f"/api/v1/members/{world.alice.pk}"

    assert dee.get(f"{base}/tokens/").json()["balance"]["minutes"] == 300
    assert dee.get(f"{base}/statement/").status_code == 200
    for response in (
        dee.post(f"{base}/tokens/checkout/", {"tokens": 1}, "json"),
        dee.post(f"{base}/gift-link/", {}, "json"),
        dee.get(f"{base}/payments/"),
    ):
        assert response.status_code == 403
        assert response.json()["code"] == "scope_not_given"


def test_no_scope_reaches_details_export_audit_preferences_or_transfers(
    world: Personas, client_for: Client
) -> None:
    dee = client_for(name_dee(world.alice, "ask", "confirm", "pay", "statement"))
    base = f"/api/v1/members/{world.alice.pk}"
    transfer = {
        "member_id": world.alice.pk,
        "to": "pot",
        "minutes": 30,
        "memo": "",
        "idempotency_key": "k1",
    }

    for response in (
        dee.get(f"{base}/"),
        dee.get(f"{base}/export/"),
        dee.get(f"{base}/audit/"),
        dee.get(f"{base}/preferences/"),
        dee.post("/api/v1/transfers/", transfer, "json"),
    ):
        assert response.status_code == 403, response.content
        assert response.json()["code"] == "trusted_person_not_allowed"
    assert not AuditEvent.objects.filter(action="data.exported").exists()


def test_with_pay_she_makes_a_gift_link(world: Personas, client_for: Client) -> None:
    dee = client_for(name_dee(world.alice, "pay"))

    response = dee.post(f"/api/v1/members/{world.alice.pk}/gift-link/", {}, "json")

    assert response.status_code == 201, response.content
    event = AuditEvent.objects.get(action="payment.gift_link_made")
    assert (actor_email(event), event.actor_member_id) == ("dee@example.net", None)


def test_another_members_things_are_not_hers(
    world: Personas, client_for: Client, task_body: Callable[..., dict[str, Any]]
) -> None:
    dee = client_for(name_dee(world.alice, "ask", "confirm", "pay", "statement"))
    bobs = book(client_for(world.bob), task_body(estimated_minutes=60))

    assert dee.get(f"/api/v1/members/{world.bob.pk}/tokens/").status_code == 404
    assert dee.get(task_url(bobs["id"])).status_code == 404
    assert dee.get(f"/api/v1/members/{world.sam.pk}/tokens/").status_code == 404


def test_ending_takes_effect_at_once(
    world: Personas, client_for: Client, task_body: Callable[..., dict[str, Any]]
) -> None:
    user = name_dee(world.alice, "ask", "statement")
    dee = client_for(user)
    task = book(dee, task_body(member_id=world.alice.pk))
    link = user.trusted_for.get()
    alice: Caller = caller_for(user=world.alice.user, circle=world.alice.circle)

    trusted_person_end(caller=alice, trusted=link)

    assert dee.get(task_url(task["id"])).status_code == 404
    assert dee.post(TASKS_URL, task_body(member_id=world.alice.pk), "json").status_code == 404
    # What she did while trusted still shows on the member's list.
    assert any(e.trusted_name == "Dee Archer" for e in on_behalf_list(member=world.alice))
