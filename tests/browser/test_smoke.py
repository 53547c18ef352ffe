"""The browser foundation works: the system's Chromium opens a page from the live server, with its
static files, at each width.

Until the pages exist this is the API's docs page (Swagger UI, whose scripts and styles are our
own static files, from drf-spectacular-sidecar). It is not checked with axe-core: Swagger UI is a
third party's page, not one of ours.
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, Response, expect
from pytest_django.live_server_helper import LiveServer


def test_chromium_shows_the_api_docs_with_their_static_files(
    page: Page, live_server: LiveServer, tmp_path: Path
) -> None:
    answers: list[Response] = []
    page.on("response", lambda answer: answers.append(answer))

    opened = page.goto(f"{live_server.url}/api/v1/docs/")

    assert opened is not None
    assert opened.status == 200
    # Swagger UI's scripts (static files, allowed by the Content Security Policy) ran, fetched the
    # schema and drew its title.
    expect(page.get_by_role("heading", name="Circle API")).to_be_visible()
    assert [f"{a.status} {a.url}" for a in answers if a.status >= 400] == []
    static = {a.url.rsplit("/", 1)[-1]: a.status for a in answers if "/static/" in a.url}
    assert static.get("swagger-ui.css") == 200
    assert static.get("swagger-ui-bundle.js") == 200
    shot = tmp_path / "docs.png"
    page.screenshot(path=shot, full_page=True)
    assert shot.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


# The pages' tests follow in test_*.py: each takes `page` (or `page_at`), signs in with `sign_in`
# where it must, and checks every page it reaches with `assert_accessible`.
