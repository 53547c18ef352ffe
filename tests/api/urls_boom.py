"""A test-only URLconf: the real site plus an API view and a page that fail, to see what a 500
looks like."""

from __future__ import annotations

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


urlpatterns = [
    path("api/v1/boom/", BoomApi.as_view()),
    path("boom/", boom_page),
    *site_urlpatterns,
]
