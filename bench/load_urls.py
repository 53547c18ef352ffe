"""The load test's URLconf: Circle's own, plus two reference views under /bench/.

Each endpoint's throughput is read against the throughput of one of these, measured in the same
run at the same concurrency: what Django, DRF and token authentication cost on this machine with
nothing of Circle's own on top.

- `GET /bench/read/`: a DRF view with the API's authentication (a token) that answers a
  constant, the reference for reads;
- `POST /bench/write/`: the same, doing one INSERT into `bench_load_write` (a table the bench
  makes, outside the migrations), the reference for writes.
"""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.urls import URLPattern, URLResolver, path
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from circle import urls as circle_urls

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


urlpatterns: list[Any | URLPattern | URLResolver] = [
    path("bench/read/", ReadReference.as_view()),
    path("bench/write/", WriteReference.as_view()),
    *circle_urls.urlpatterns,
]

handler403 = circle_urls.handler403
handler404 = circle_urls.handler404
handler500 = circle_urls.handler500
