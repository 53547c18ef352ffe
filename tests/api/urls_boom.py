"""A test-only URLconf: the real site plus an API view and a page that fail, to see what a 500
looks like, and a pair that lose the database (as psycopg2 reports a server that went away), to
see the 503."""

from __future__ import annotations

import psycopg2
from django.db import OperationalError
from django.http import HttpRequest, HttpResponse
from django.urls import path
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from circle.urls import handler500
from circle.urls import urlpatterns as site_urlpatterns

__all__ = ["handler500", "urlpatterns"]


class BoomApi(APIView):
    def get(self, request: Request) -> Response:
        raise RuntimeError("secret internals: boom")


def boom_page(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("secret internals: boom")


def _lost() -> OperationalError:
    # What Django raises when the server closes the connection mid-query: its own
    # OperationalError, caused by psycopg2's (which has no SQLSTATE then).
    try:
        raise psycopg2.OperationalError("server closed the connection unexpectedly")
    except psycopg2.OperationalError as exc:
        lost = OperationalError(*exc.args)
        lost.__cause__ = exc
        return lost


class DatabaseGoneApi(APIView):
    def get(self, request: Request) -> Response:
        raise _lost()


def database_gone_page(request: HttpRequest) -> HttpResponse:
    raise _lost()


class LockedApi(APIView):
    def get(self, request: Request) -> Response:
        raise OperationalError("database is locked")  # SQLite's: not about reaching a server


urlpatterns = [
    path("api/v1/boom/", BoomApi.as_view()),
    path("boom/", boom_page),
    path("api/v1/database-gone/", DatabaseGoneApi.as_view()),
    path("database-gone/", database_gone_page),
    path("api/v1/locked/", LockedApi.as_view()),
    *site_urlpatterns,
]
