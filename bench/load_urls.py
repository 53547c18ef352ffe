"""The load test's URLconf: Circle's own, plus two reference views under /bench/.

Each endpoint's throughput is read against the throughput of one of these, measured in the same
run at the same concurrency: what Django, DRF and token authentication cost on this machine with
nothing of Circle's own on top.

- `GET /bench/read/`: a DRF view with the API's authentication (a token) that answers a
  constant, the reference for reads;
- `POST /bench/write/`: the same, doing one INSERT into `bench_load_write` (a table the bench
  makes, outside the migrations), the reference for writes.

And two floors, run beside the two heaviest writes and read against the same reference: the
least that booking and accepting a task could do and still be what DESIGN.md calls them, with
none of Circle's code between the request and the database. What the target asks of an
endpoint is out of reach where its floor misses it.

- `POST /bench/floor/book/`: the member's wallet, the circle's escrow and the category in one
  SELECT; the minutes moved into escrow by the ledger's own prepared statement (with its audit
  row); the hold, the task and the booking's audit row in one more; the offers' job queued after
  commit. Booking also validates the request, checks the member may book, looks for a repeated
  idempotency key and answers the whole task; and its job ranks the circle's helpers and texts
  and emails three of them, where the floor's (`send_notice` of no notice) finds nothing to do.
- `POST /bench/floor/accept/{id}/`: one statement, the task moved to accepted if it is still
  open and in the helper's circle, with its audit row and the member's notice; the notice's job
  queued after commit. Accepting also checks the helper may take the task (vetting, skill,
  distance, the member's preferences) and answers the whole task; and its job texts and emails
  the member, where the floor's finds nothing to do.
"""

from __future__ import annotations

from typing import Any

from django.db import connection, transaction
from django.urls import URLPattern, URLResolver, path
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from circle import urls as circle_urls
from circle.queueing import enqueue_after_commit
from matching import tasks
from tokens.models import TransactionKind
from tokens.services.posting import _post

WRITE_TABLE = "bench_load_write"


class ReadReference(APIView):
    permission_classes = [IsAuthenticated]

    def get(self, request: Request) -> Response:
        return Response({"ok": True})


class WriteReference(APIView):
    permission_classes = [IsAuthenticated]

    def post(self, request: Request) -> Response:
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {WRITE_TABLE} (user_id, created_at) VALUES (%s, now())",
                [request.user.pk],
            )
        return Response({"ok": True}, status=201)


_BOOK_FLOOR_FIND = """
SELECT m.id, m.circle_id, w.id, e.id, c.id, m.latitude, m.longitude,
       split_part(m.postcode, ' ', 1)
  FROM members_member m
  JOIN tokens_account w ON w.member_id = m.id AND w.kind = 'wallet'
  JOIN tokens_account e ON e.circle_id = m.circle_id AND e.kind = 'escrow'
  JOIN circle_category c ON c.circle_id = m.circle_id AND c.slug = %s
 WHERE m.user_id = %s
"""
_BOOK_FLOOR_WRITE = """
WITH hold AS (
    INSERT INTO tokens_hold (circle_id, member_id, reference, minutes, status,
                             hold_transaction_id, created_at)
    VALUES (%(circle)s, %(member)s, %(reference)s, %(minutes)s, 'open', %(tx)s, now())
    RETURNING id
), task AS (
    INSERT INTO matching_task (circle_id, member_id, category_id, title, details, window_start,
                               window_end, estimated_minutes, status, latitude, longitude,
                               postcode_district, cancel_reason, offer_wave, next_offer_at,
                               hold_id, created_at)
    SELECT %(circle)s, %(member)s, %(category)s, %(title)s, %(details)s, %(start)s, %(end)s,
           %(minutes)s, 'open', %(latitude)s, %(longitude)s, %(district)s, '', 0, NULL,
           hold.id, now()
      FROM hold
    RETURNING id
), audit AS (
    INSERT INTO members_auditevent (circle_id, actor_id, actor_member_id, member_id, action,
                                    reason, call_reference, data, created_at)
    SELECT %(circle)s, %(user)s, %(member)s, %(member)s, 'task.booked', '', '',
           jsonb_build_object('task_id', task.id), now()
      FROM task
)
SELECT id FROM task
"""
_ACCEPT_FLOOR = """
WITH helper AS (
    SELECT h.id, h.circle_id FROM helpers_helper h JOIN members_member m ON m.id = h.member_id
     WHERE m.user_id = %(user)s
), task AS (
    UPDATE matching_task t
       SET status = 'accepted', helper_id = helper.id, accepted_at = now(), next_offer_at = NULL
      FROM helper
     WHERE t.id = %(task)s AND t.status = 'open' AND t.circle_id = helper.circle_id
    RETURNING t.id, t.circle_id, t.member_id, helper.id AS helper_id
), audit AS (
    INSERT INTO members_auditevent (circle_id, actor_id, actor_member_id, member_id, action,
                                    reason, call_reference, data, created_at)
    SELECT task.circle_id, %(user)s, NULL, task.member_id, 'task.accepted', '', '',
           jsonb_build_object('task_id', task.id, 'helper_id', task.helper_id), now()
      FROM task
), notice AS (
    INSERT INTO matching_notice (circle_id, kind, key, task_id, recipient_id, wave, channels,
                                 created_at)
    SELECT task.circle_id, 'task_accepted', 'floor:' || task.id, task.id, task.member_id, 0,
           '[]', now()
      FROM task
)
SELECT id FROM task
"""


class BookFloor(APIView):
    """The least a booking could do (see the module's docstring)."""

    permission_classes = [IsAuthenticated]

    def post(self, request: Request) -> Response:
        body: Any = request.data
        minutes = int(body["estimated_minutes"])
        reference = f"floor:{body['idempotency_key']}"
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(_BOOK_FLOOR_FIND, [body["category"], request.user.pk])
            member, circle, wallet, escrow, category, latitude, longitude, district = (
                cursor.fetchone()
            )
            posted = _post(
                circle_id=circle,
                kind=TransactionKind.HOLD,
                key=f"hold:{reference}",
                legs=[(wallet, -minutes), (escrow, minutes)],
                member_id=member,
                actor=request.user,
                memo=f"Held for {reference}",
                action="tokens.held",
                data={"minutes": minutes, "reference": reference},
            )
            cursor.execute(
                _BOOK_FLOOR_WRITE,
                {
                    "circle": circle,
                    "member": member,
                    "user": request.user.pk,
                    "reference": reference,
                    "minutes": minutes,
                    "tx": posted.transaction_id,
                    "category": category,
                    "title": body["title"],
                    "details": body["details"],
                    "start": body["window_start"],
                    "end": body["window_end"],
                    "latitude": latitude,
                    "longitude": longitude,
                    "district": district,
                },
            )
            task_id = cursor.fetchone()[0]
            enqueue_after_commit(tasks.send_notice, 0)
        return Response({"id": task_id, "status": "open"}, status=201)


class AcceptFloor(APIView):
    """The least accepting a task could do (see the module's docstring)."""

    permission_classes = [IsAuthenticated]

    def post(self, request: Request, task_id: int) -> Response:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(_ACCEPT_FLOOR, {"user": request.user.pk, "task": task_id})
            row = cursor.fetchone()
            if row is None:
                return Response({"code": "task_taken"}, status=409)
            enqueue_after_commit(tasks.send_notice, 0)
        return Response({"id": row[0], "status": "accepted"})


urlpatterns: list[Any | URLPattern | URLResolver] = [
    path("bench/read/", ReadReference.as_view()),
    path("bench/write/", WriteReference.as_view()),
    path("bench/floor/book/", BookFloor.as_view()),
    path("bench/floor/accept/<int:task_id>/", AcceptFloor.as_view()),
    *circle_urls.urlpatterns,
]

handler403 = circle_urls.handler403
handler404 = circle_urls.handler404
handler500 = circle_urls.handler500
