"""The OpenAPI schema covers every API endpoint, validates, and the docs page works offline."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.urls import URLPattern, URLResolver
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.test import APIClient
from rest_framework.views import APIView

from circle.urls import api_v1

API_PREFIX = "/api/v1/"
# Views that describe the API rather than being part of it.
NOT_IN_SCHEMA = (SpectacularAPIView, SpectacularSwaggerView)
HTTP_METHODS = ("get", "post", "put", "patch", "delete")


def _openapi_path(route: str) -> str:
    """ "circles/<slug:slug>/" -> "circles/{slug}/"; also a regex's (?P<name>...) groups."""
    route = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)
    route = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", route)
    return route.lstrip("^").rstrip("$").replace("\\", "")


def api_views(
    patterns: list[URLPattern | URLResolver], prefix: str = ""
) -> dict[str, type[APIView]]:
    """Every DRF view under api_v1, by its OpenAPI path, read from the URL resolver itself."""
    found: dict[str, type[APIView]] = {}
    for pattern in patterns:
        route = prefix + _openapi_path(str(pattern.pattern))
        if isinstance(pattern, URLResolver):
            found.update(api_views(pattern.url_patterns, route))
            continue
        view = getattr(pattern.callback, "cls", None)
        if (
            isinstance(view, type)
            and issubclass(view, APIView)
            and not issubclass(view, NOT_IN_SCHEMA)
        ):
            found[API_PREFIX + route] = view
    return found


@pytest.fixture
def schema(db: None, api: APIClient) -> dict:
    response = api.get("/api/v1/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def test_url_walk_finds_the_api(schema: dict) -> None:
    # Guards the walk below: if it found nothing, the coverage test would pass vacuously.
    views = api_views(api_v1)
    assert "/api/v1/auth/token/" in views
    assert "/api/v1/circles/{slug}/audit/" in views
    assert len(views) >= 10


def test_schema_lists_every_api_path(schema: dict) -> None:
    missing = sorted(set(api_views(api_v1)) - set(schema["paths"]))

    assert missing == []


def test_schema_lists_every_method_of_every_path(schema: dict) -> None:
    missing = [
        f"{method.upper()} {path}"
        for path, view in api_views(api_v1).items()
        for method in HTTP_METHODS
        if hasattr(view, method) and method not in schema["paths"].get(path, {})
    ]

    assert missing == []


def test_schema_is_openapi_3(schema: dict) -> None:
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "Circle API"


@pytest.mark.django_db
def test_schema_as_json_by_accept_header(api: APIClient) -> None:
    response = api.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    assert "/api/v1/me/" in response.json()["paths"]


@pytest.mark.django_db
def test_schema_is_public(api: APIClient) -> None:
    # The docs page fetches it without credentials.
    assert api.get("/api/v1/schema/", {"format": "json"}).status_code == 200


class _Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in {"src", "href"} and value:
                self.urls.append(value)


@pytest.mark.django_db
def test_docs_page_loads_its_assets_from_our_static_files(api: APIClient) -> None:
    response = api.get("/api/v1/docs/")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    parser = _Assets()
    parser.feed(page)
    static = "/" + settings.STATIC_URL.lstrip("/")
    assert any(url.endswith("swagger-ui-bundle.js") for url in parser.urls)
    # The split view serves its start-up script from the docs address itself, so the page
    # needs no inline script and the Content Security Policy stays strict.
    script = "/api/v1/docs/?script="
    assert script in parser.urls
    assert "<script>" not in page
    for url in parser.urls:
        if url == script:
            continue
        assert url.startswith(static), f"{url} is not served by us"
        assert finders.find(url.removeprefix(static)), f"{url} is not in our static files"
    assert "cdn" not in page.lower()
    assert "unpkg" not in page.lower()


def test_spectacular_validates_without_warnings(db: None, tmp_path: Path) -> None:
    out = tmp_path / "schema.yml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))

    assert "/api/v1/circles/{slug}/:" in out.read_text()
