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


# --- What the schema says the answers are -------------------------------------------------------

PAGINATED = [
    "/api/v1/circles/{slug}/members/",
    "/api/v1/circles/{slug}/audit/",
    "/api/v1/members/{member_id}/audit/",
    "/api/v1/circles/{slug}/followups/",
    "/api/v1/members/{member_id}/statement/",
    "/api/v1/circles/{slug}/ledger/transactions/",
    "/api/v1/tasks/",
    "/api/v1/tasks/{task_id}/matches/",
    "/api/v1/helpers/me/tasks/",
    "/api/v1/helpers/me/tasks/accepted/",
    "/api/v1/task-series/",
    "/api/v1/circles/{slug}/feedback/",
    "/api/v1/members/{member_id}/payments/",
    "/api/v1/circles/{slug}/ledger/approvals/",
    "/api/v1/circles/{slug}/concerns/",
    "/api/v1/circles/{slug}/ledger/balances/",
]
# Pages that carry more than the list: the trial balance's total over every account.
PAGE_EXTRAS = {"/api/v1/circles/{slug}/ledger/balances/": {"total_minutes"}}


def _resolve(schema: dict, node: dict) -> dict:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def _answer(schema: dict, path: str, method: str, status: str) -> dict:
    response = schema["paths"][path][method]["responses"][status]
    return _resolve(schema, response["content"]["application/json"]["schema"])


@pytest.mark.parametrize("path", PAGINATED)
def test_paginated_lists_are_described_as_pages(schema: dict, path: str) -> None:
    page = _answer(schema, path, "get", "200")

    extras = PAGE_EXTRAS.get(path, set())
    assert set(page["properties"]) == {"count", "next", "previous", "results"} | extras
    assert extras <= set(page["required"])
    assert page["properties"]["results"]["type"] == "array"
    parameters = {p["name"] for p in schema["paths"][path]["get"].get("parameters", [])}
    assert {"limit", "offset"} <= parameters


def test_every_paginated_list_is_named_above(schema: dict) -> None:
    # A new paginated list is described by being a PaginatedApi; this keeps the list honest.
    pages = {
        path
        for path, operations in schema["paths"].items()
        if "get" in operations
        and "200" in operations["get"]["responses"]
        and "count" in _answer(schema, path, "get", "200").get("properties", {})
    }

    assert pages == set(PAGINATED)


@pytest.mark.parametrize(
    ("path", "component"),
    [("/api/v1/helpers/{helper_id}/", "HelperOutput"), ("/api/v1/task-series/", None)],
)
def test_times_of_day_are_hh_mm_strings(schema: dict, path: str, component: str | None) -> None:
    if component:
        slot = _resolve(schema, schema["components"]["schemas"][component])
        slot = _resolve(schema, slot["properties"]["availability"]["items"])
    else:
        slot = _resolve(schema, _answer(schema, path, "get", "200")["properties"]["results"])
        slot = _resolve(schema, slot["items"])

    for name in ("start", "end"):
        assert slot["properties"][name]["type"] == "string"
        assert slot["properties"][name]["pattern"] == "^([01][0-9]|2[0-3]):[0-5][0-9]$"


@pytest.mark.parametrize(
    ("method", "path", "statuses"),
    [
        ("get", "/api/v1/members/{member_id}/", {"401", "403", "404"}),
        ("post", "/api/v1/transfers/", {"400", "401", "403", "404", "409"}),
        ("post", "/api/v1/auth/token/", {"400", "401", "429"}),
        ("post", "/api/v1/circles/{slug}/members/", {"400", "429"}),
        ("post", "/api/v1/members/{member_id}/tokens/checkout/", {"503"}),
        ("post", "/api/v1/payments/stripe/webhook/", {"400"}),
    ],
)
def test_errors_are_described_in_the_error_format(
    schema: dict, method: str, path: str, statuses: set[str]
) -> None:
    for status in statuses:
        error = _answer(schema, path, method, status)
        assert {"code", "detail", "field"} <= set(error["properties"]), status
        assert set(error["required"]) == {"code", "detail"}


def test_a_public_read_is_not_described_as_forbidden(schema: dict) -> None:
    assert "403" not in schema["paths"]["/api/v1/circles/"]["get"]["responses"]
