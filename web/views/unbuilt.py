"""Addresses whose pages are being built on other branches: "page not found" until they land.
Registered so that every branch can link to every page by name. Nothing may remain here when
the pages issue lands."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse


def page(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    raise Http404
