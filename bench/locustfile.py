"""The people of `bench/load.py`, for locust (headless, FastHttpUser). Run by bench/load.py, which
seeds the database, writes the logins and Stripe events this file reads (`LOAD_DATA`, a JSON
file) and starts locust with the user classes of each run:

- the mix: `MemberUser HelperUser OperatorUser CoordinatorUser StripeUser`, by their weights;
- one endpoint alone: `AloneUser`, which calls the endpoint named by `LOAD_ENDPOINT` (a key of
  `ENDPOINTS`) and nothing else.

No Django here: locust's gevent and Django's database connections stay in separate processes.
Every request is named by its route (ids as `{id}`), so the figures are per endpoint. An answer
counts as an error unless its status is the endpoint's success, or a 409 where a 409 is the
expected answer (a helper accepting a task another helper took first).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import sys
import uuid
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from locust import FastHttpUser, constant, task

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.load_endpoints import ENDPOINT_KINDS, FLOORS  # noqa: E402
from payments.stripe_local import sign  # noqa: E402  (no Django: HMAC with stripe's own code)

DATA: dict[str, Any] = json.loads(Path(os.environ["LOAD_DATA"]).read_text())
CIRCLES: list[dict[str, Any]] = DATA["circles"]
LONDON = ZoneInfo("Europe/London")
# Stripe's events, each delivered once (then, if the run outlasts them, delivered again: a
# replay, which the webhook answers 200 without doing anything twice).
EVENTS: deque[dict[str, Any]] = deque(DATA["events"])
SENT: list[dict[str, Any]] = []
# Open tasks for the accept-alone run, per circle, each handed to one helper.
OPEN_TASKS: list[deque[int]] = [deque(ids) for ids in DATA.get("open_tasks", [])]
_numbers = itertools.count()


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Token {token}", "Accept": "application/json"}


def call(
    user: FastHttpUser,
    method: str,
    path: str,
    *,
    name: str,
    token: str | None,
    ok: tuple[int, ...],
    body: Any = None,
    raw: str | None = None,
    headers: dict[str, str] | None = None,
    parsed: bool = False,
) -> Any:
    """One request; a status outside `ok` is an error (its first bytes say why). With `parsed`,
    a GET's 200 answer is returned decoded; otherwise it is not decoded at all: locust runs on
    the same cores as the server, and decoding answers nobody reads took CPU from it."""
    sent = auth(token) if token else {"Accept": "application/json"}
    sent.update(headers or {})
    kwargs: dict[str, Any] = {"headers": sent, "name": name, "catch_response": True}
    if body is not None:
        kwargs["json"] = body
    if raw is not None:
        kwargs["data"] = raw
    with user.client.request(method, path, **kwargs) as response:
        if response.status_code in ok:
            response.success()
            if parsed and response.status_code == 200 and method == "GET":
                try:
                    return response.json()
                except ValueError:
                    return None
        else:
            text = (response.text or "")[:200] if response.text else ""
            response.failure(f"{response.status_code} {text}")
    return None


def some_circle() -> tuple[int, dict[str, Any]]:
    index = random.randrange(len(CIRCLES))
    return index, CIRCLES[index]


# --- The endpoints --------------------------------------------------------------------------


def me(user: FastHttpUser) -> None:
    _, circle = some_circle()
    _, token = random.choice(circle["members"])
    call(user, "GET", "/api/v1/me/", name="GET /api/v1/me/", token=token, ok=(200,))


def tokens(user: FastHttpUser) -> None:
    _, circle = some_circle()
    member_id, token = random.choice(circle["members"])
    call(
        user,
        "GET",
        f"/api/v1/members/{member_id}/tokens/",
        name="GET /api/v1/members/{id}/tokens/",
        token=token,
        ok=(200,),
    )


def statement(user: FastHttpUser) -> None:
    _, circle = some_circle()
    member_id, token = random.choice(circle["members"])
    call(
        user,
        "GET",
        f"/api/v1/members/{member_id}/statement/?limit=25",
        name="GET /api/v1/members/{id}/statement/",
        token=token,
        ok=(200,),
    )


def _book(user: FastHttpUser, path: str) -> None:
    _, circle = some_circle()
    _, token = random.choice(circle["members"])
    day = datetime.now(LONDON).date() + timedelta(days=random.randint(1, 6))
    start = datetime(day.year, day.month, day.day, random.choice((9, 10, 13, 14)), tzinfo=LONDON)
    call(
        user,
        "POST",
        path,
        name=f"POST {path}",
        token=token,
        ok=(201,),
        body={
            "category": random.choice(circle["categories"]),
            "title": "Help with the garden",
            "details": "Booked by the load test.",
            "window_start": start.isoformat(),
            "window_end": (start + timedelta(hours=3)).isoformat(),
            "estimated_minutes": random.choice((60, 90, 120)),
            "idempotency_key": uuid.uuid4().hex,
        },
    )


def book(user: FastHttpUser) -> None:
    _book(user, "/api/v1/tasks/")


def book_floor(user: FastHttpUser) -> None:
    _book(user, "/bench/floor/book/")


def feed(user: FastHttpUser) -> None:
    _, circle = some_circle()
    _, token = random.choice(circle["helpers"])
    call(
        user,
        "GET",
        "/api/v1/helpers/me/tasks/",
        name="GET /api/v1/helpers/me/tasks/",
        token=token,
        ok=(200,),
    )


def _accept(user: FastHttpUser, task_id: int, token: str, *, floor: bool = False) -> None:
    path, name = "/api/v1/tasks/{}/accept/", "POST /api/v1/tasks/{id}/accept/"
    if floor:
        path, name = "/bench/floor/accept/{}/", "POST /bench/floor/accept/{id}/"
    call(
        user,
        "POST",
        path.format(task_id),
        name=name,
        token=token,
        ok=(200, 409),  # 409: another helper was first, as DESIGN.md promises
        body={},
    )


def feed_and_accept(user: FastHttpUser) -> None:
    """A helper polls the feed and takes one of the first few tasks (others race for them)."""
    _, circle = some_circle()
    _, token = random.choice(circle["helpers"])
    found = call(
        user,
        "GET",
        "/api/v1/helpers/me/tasks/",
        name="GET /api/v1/helpers/me/tasks/",
        token=token,
        ok=(200,),
        parsed=True,
    )
    items = (found or {}).get("results") or []
    if items:
        _accept(user, random.choice(items[:5])["id"], token)


def accept(user: FastHttpUser, *, floor: bool = False) -> None:
    """Alone: accept the next open task of a circle (handed out once each, from the bench's
    list); once a circle's list is used up, tasks are taken again (409s)."""
    index, circle = some_circle()
    _, token = random.choice(circle["helpers"])
    queue = OPEN_TASKS[index]
    if not queue:
        return
    task_id = queue.popleft()
    _accept(user, task_id, token, floor=floor)


def accept_floor(user: FastHttpUser) -> None:
    accept(user, floor=True)


def search(user: FastHttpUser) -> None:
    _, circle = some_circle()
    token = random.choice(circle["operators"])
    what = random.choice(
        (
            random.choice(circle["surnames"]),
            random.choice(circle["first_names"]) + " " + random.choice(circle["surnames"]),
            circle["postcode"][:-2],  # the sector, as a caller reads out the start of it
            random.choice(circle["phones"]),
        )
    )
    call(
        user,
        "GET",
        f"/api/v1/circles/{circle['slug']}/members/?q={what.replace(' ', '+')}",
        name="GET /api/v1/circles/{slug}/members/?q=",
        token=token,
        ok=(200,),
    )


def cash(user: FastHttpUser) -> None:
    _, circle = some_circle()
    token = random.choice(circle["operators"])
    member_id, _ = random.choice(circle["members"])
    call(
        user,
        "POST",
        f"/api/v1/members/{member_id}/payments/offline/",
        name="POST /api/v1/members/{id}/payments/offline/",
        token=token,
        ok=(201,),
        body={
            "purpose": "tokens",
            "tokens": random.randint(1, 5),
            "method": "cash",
            "reference": f"load-{os.getpid()}-{next(_numbers)}",
        },
    )


def ledger_transactions(user: FastHttpUser) -> None:
    _, circle = some_circle()
    call(
        user,
        "GET",
        f"/api/v1/circles/{circle['slug']}/ledger/transactions/",
        name="GET /api/v1/circles/{slug}/ledger/transactions/",
        token=random.choice(circle["coordinators"]),
        ok=(200,),
    )


def ledger_balances(user: FastHttpUser) -> None:
    _, circle = some_circle()
    call(
        user,
        "GET",
        f"/api/v1/circles/{circle['slug']}/ledger/balances/",
        name="GET /api/v1/circles/{slug}/ledger/balances/",
        token=random.choice(circle["coordinators"]),
        ok=(200,),
    )


def webhook(user: FastHttpUser) -> None:
    """Stripe delivers a `checkout.session.completed` for a card purchase of tokens, signed now."""
    if EVENTS:
        event = EVENTS.popleft()
        SENT.append(event)
    else:
        event = random.choice(SENT)
    payload = json.dumps(event)
    call(
        user,
        "POST",
        "/api/v1/payments/stripe/webhook/",
        name="POST /api/v1/payments/stripe/webhook/",
        token=None,
        ok=(200,),
        raw=payload,
        headers={
            "Content-Type": "application/json",
            "Stripe-Signature": sign(payload, DATA["webhook_secret"]),
        },
    )


def read_reference(user: FastHttpUser) -> None:
    _, circle = some_circle()
    _, token = random.choice(circle["members"])
    call(user, "GET", "/bench/read/", name="GET /bench/read/", token=token, ok=(200,))


def write_reference(user: FastHttpUser) -> None:
    _, circle = some_circle()
    _, token = random.choice(circle["members"])
    call(user, "POST", "/bench/write/", name="POST /bench/write/", token=token, ok=(201,), body={})


# Each endpoint alone (bench/load_endpoints.py names them and their references).
CALLS: dict[str, Callable[[FastHttpUser], None]] = {
    "GET /api/v1/me/": me,
    "GET /api/v1/members/{id}/tokens/": tokens,
    "GET /api/v1/members/{id}/statement/": statement,
    "GET /api/v1/helpers/me/tasks/": feed,
    "GET /api/v1/circles/{slug}/members/?q=": search,
    "GET /api/v1/circles/{slug}/ledger/transactions/": ledger_transactions,
    "GET /api/v1/circles/{slug}/ledger/balances/": ledger_balances,
    "POST /api/v1/tasks/": book,
    "POST /api/v1/tasks/{id}/accept/": accept,
    "POST /api/v1/members/{id}/payments/offline/": cash,
    "POST /api/v1/payments/stripe/webhook/": webhook,
    "POST /bench/floor/book/": book_floor,
    "POST /bench/floor/accept/{id}/": accept_floor,
    "ref:read": read_reference,
    "ref:write": write_reference,
}
assert set(CALLS) - {"ref:read", "ref:write"} == set(ENDPOINT_KINDS) | set(FLOORS)


# --- The people -------------------------------------------------------------------------------


class Person(FastHttpUser):
    abstract = True
    wait_time = constant(0)  # as fast as answers come: the run measures throughput


class MemberUser(Person):
    """Reads their home (who they are, their tokens) and statement; now and then books."""

    weight = 12

    @task(3)
    def home(self) -> None:
        me(self)
        tokens(self)

    @task(2)
    def read_statement(self) -> None:
        statement(self)

    @task(1)
    def book_task(self) -> None:
        book(self)


class HelperUser(Person):
    weight = 4

    @task(3)
    def poll(self) -> None:
        feed(self)

    @task(1)
    def take(self) -> None:
        feed_and_accept(self)


class OperatorUser(Person):
    weight = 2

    @task(3)
    def find_caller(self) -> None:
        search(self)

    @task(1)
    def record_cash(self) -> None:
        cash(self)


class CoordinatorUser(Person):
    weight = 1

    @task
    def read_ledger(self) -> None:
        ledger_transactions(self)
        ledger_balances(self)


class StripeUser(Person):
    weight = 1

    @task
    def deliver(self) -> None:
        webhook(self)


class AloneUser(Person):
    """Calls the one endpoint named by LOAD_ENDPOINT (or a reference: `ref:read`, `ref:write`)."""

    @task
    def the_one(self) -> None:
        CALLS[os.environ["LOAD_ENDPOINT"]](self)
