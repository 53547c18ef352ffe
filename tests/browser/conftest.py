"""Browser tests: the pages in real Chromium, checked by axe-core, at a phone's and a desk's width.

Chromium is the system's (Debian's `chromium` package), never one Playwright downloads: set
`CIRCLE_CHROMIUM` to use another executable. Without it a laptop skips these tests, saying why;
with `CI` set they fail instead, since CI must never skip them.

Every test here is marked `browser` (so `-m "not browser"` leaves them out) and runs with
`django_db(transaction=True)`, which the live server needs: the server answers in its own thread,
so it only sees what the test has committed. The flush after a transactional test deletes rows,
and on SQLite the ledger's append-only triggers refuse to delete ledger entries and
transactions: a test that writes ledger rows (buying tokens, holding them for a request) marks
itself `@pytest.mark.postgres` and is then skipped on SQLite. CI runs this folder on PostgreSQL
only. The ledger audit in tests/conftest.py runs after each test here too, on committed data.

    def test_alice_sees_her_home(personas, live_server, page, ...):
        sign_in(page, live_server, personas.alice.user.email, PASSWORD)
        page.goto(f"{live_server.url}/my/")
        assert_accessible(page, "home")
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.db import connection
from playwright.sync_api import Browser, BrowserContext, Page, Playwright
from playwright.sync_api import sync_playwright as start_playwright
from pytest_django.live_server_helper import LiveServer

HERE = Path(__file__).resolve().parent

CHROMIUM = Path(os.environ.get("CIRCLE_CHROMIUM", "/usr/bin/chromium"))
# No sandbox (CI runs as root in a container); no GPU; and none of Chromium's own connections
# (updates, sync, field trials, QUIC), which this closed network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]

Width = Literal[320, 360, 1280]
# The narrowest phone a page must work at, and a desk (360 x 640: the phone helpers' pages are
# designed for first, asked for with page_at(360)).
WIDTHS: tuple[Width, ...] = (320, 1280)
HEIGHTS: dict[int, int] = {320: 800, 360: 640, 1280: 900}

# WCAG 2.0, 2.1 and 2.2 at A and AA, and axe's best practices. (axe-core has no rule tagged
# wcag22a yet; it is listed so that one added later runs without a change here.)
AXE_TAGS = [
    "wcag2a",
    "wcag2aa",
    "wcag21a",
    "wcag21aa",
    "wcag22a",
    "wcag22aa",
    "best-practice",
]
AXE = Axe()


# --- Marks ------------------------------------------------------------------------------------


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by mark
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # This hook sees every test of the run, so it picks out this folder's.
    for item in items:
        if HERE not in item.path.resolve().parents:
            continue
        item.add_marker(pytest.mark.browser)
        db_marker = item.get_closest_marker("django_db")
        if db_marker is None:
            item.add_marker(pytest.mark.django_db(transaction=True))
        elif not db_marker.kwargs.get("transaction"):
            raise pytest.UsageError(
                f"{item.nodeid}: browser tests need django_db(transaction=True), "
                "since the live server only sees committed data"
            )
        if item.get_closest_marker("postgres") and connection.vendor != "postgresql":
            item.add_marker(
                pytest.mark.skip(
                    reason="marked postgres: PostgreSQL only (on SQLite the ledger's append-only "
                    "triggers refuse the flush after a transactional test that wrote to it)"
                )
            )


# --- Chromium ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    """Playwright's sync API, started once for the run."""
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        message = f"Chromium not found at {CHROMIUM}: apt-get install chromium"
        if os.environ.get("CI"):  # as tests/api/test_health.py does for Redis
            pytest.fail(f"CI is set, so the browser tests must run. {message}", pytrace=False)
        pytest.skip(message)
    # Playwright's sync API runs an event loop in this thread, and Django refuses database
    # queries from a thread with a running loop unless told otherwise (as pytest-playwright
    # advises); set from here to the end of the run, which only browser tests share.
    before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with start_playwright() as started:
            yield started
    finally:
        if before is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = before


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """The system's Chromium, headless, launched once for the run."""
    chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()


class PageAt(Protocol):
    def __call__(self, width: Width, *, javascript: bool = True) -> Page: ...


@pytest.fixture
def page_at(browser: Browser, live_server: LiveServer) -> Iterator[PageAt]:
    """`page_at(320)` or `page_at(1280, javascript=False)`: a page in a fresh browser context (its
    own cookies and storage) at that width, at 1 device pixel a CSS pixel, in London's time and
    British English. Relative addresses go to the live server: `page.goto("/sign-in/")`."""
    contexts: list[BrowserContext] = []

    def make(width: Width, *, javascript: bool = True) -> Page:
        context = browser.new_context(
            viewport={"width": width, "height": HEIGHTS[width]},
            device_scale_factor=1,
            java_script_enabled=javascript,
            base_url=live_server.url,
            locale="en-GB",
            timezone_id="Europe/London",
        )
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture(params=WIDTHS, ids=[f"{width}px" for width in WIDTHS])
def page(request: pytest.FixtureRequest, page_at: PageAt) -> Page:
    """A page with JavaScript on; the test runs twice, at 320 px and at 1280 px."""
    width: Width = request.param
    return page_at(width)


@pytest.fixture(params=WIDTHS, ids=[f"{width}px-nojs" for width in WIDTHS])
def page_without_javascript(request: pytest.FixtureRequest, page_at: PageAt) -> Page:
    """A page with JavaScript off (every page must work without it), at 320 px and 1280 px."""
    width: Width = request.param
    return page_at(width, javascript=False)


# --- Checks -----------------------------------------------------------------------------------


def _where(page: Page, label: str) -> str:
    width = page.viewport_size["width"] if page.viewport_size else "?"
    return f"{label} at {width}px ({page.url})"


def assert_no_browser_errors(page: Page, label: str, *, error_page: bool = False) -> None:
    """Since the last navigation the browser reported no error: no script error, nothing the
    Content Security Policy blocked (an inline script or style without the nonce), no failed
    load. (`assert_accessible` runs this too.)"""
    errors = [
        f"- console: {message.text} ({message.location['url']})"
        for message in page.console_messages(filter="since-navigation")
        if message.type == "error"
        # An error page (404, 403, 429) answers its own address with that status, which the
        # browser reports; nothing else may fail on it.
        and not (
            error_page
            and message.location["url"] == page.url
            and message.text.startswith("Failed to load resource")
        )
    ] + [f"- script: {error}" for error in page.page_errors()]
    if errors:
        pytest.fail(f"the browser reported errors on {_where(page, label)}:\n" + "\n".join(errors))


def assert_accessible(page: Page, label: str, *, error_page: bool = False) -> None:
    """axe-core's WCAG 2.0/2.1/2.2 A and AA rules and best practices on the page as it is now,
    failing with every violation whatever its impact; nothing may scroll sideways; and the browser
    reported no errors (`assert_no_browser_errors`). `label` names the page in the failure.

    axe-core is JavaScript and cannot run in a page with JavaScript off (its promise never
    settles), so such a page (GOV.UK's snippet never marked its body `js-enabled`) is checked
    as a twin: its HTML as the browser has it, scripts taken out, served at the same address
    into a page of the same width that runs JavaScript only for axe. `error_page`: the page is
    an error page, whose own status the browser reports as an error."""
    assert_no_browser_errors(page, label, error_page=error_page)
    classes = (page.locator("body").get_attribute("class") or "").split()
    if "js-enabled" in classes:
        _axe_and_width(page, _where(page, label))
        return
    html = re.sub(r"<script\b.*?</script>", "", page.content(), flags=re.S)
    browser = page.context.browser
    assert browser is not None
    context = browser.new_context(viewport=page.viewport_size, device_scale_factor=1)
    try:
        twin = context.new_page()
        twin.route(
            page.url,
            lambda route: route.fulfill(
                status=200, content_type="text/html; charset=utf-8", body=html
            ),
        )
        twin.goto(page.url)
        _axe_and_width(twin, _where(page, f"{label}, without JavaScript"))
    finally:
        context.close()


def _axe_and_width(page: Page, where: str) -> None:
    results = AXE.run(
        page,
        options={"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]},
    )
    violations: list[dict[str, Any]] = results.response["violations"]
    if violations:
        pytest.fail(
            f"axe-core found {len(violations)} problem(s) on {where}:\n"
            + "\n".join(_describe(violation) for violation in violations)
        )
    scroll_width, inner_width = page.evaluate(
        "() => [document.documentElement.scrollWidth, window.innerWidth]"
    )
    if scroll_width > inner_width:
        pytest.fail(f"{where} scrolls sideways: {scroll_width}px of content in {inner_width}px")


def _describe(violation: dict[str, Any]) -> str:
    lines = [
        f"- {violation['id']} ({violation['impact']}): {violation['help']} <{violation['helpUrl']}>"
    ]
    for node in violation["nodes"]:
        lines.append(f"    at {' '.join(map(str, node['target']))}")
        lines += [f"      {line}" for line in node.get("failureSummary", "").splitlines()]
    return "\n".join(lines)


# --- Signing in -------------------------------------------------------------------------------


def sign_in(page: Page, live_server: LiveServer, email: str, password: str) -> None:
    """Signs in through the sign-in page, as a person would, and fails the test if the page
    refuses (saying what its error summary said). Personas' password is tests.factories.PASSWORD.
    """
    page.goto(f"{live_server.url}/sign-in/")
    page.get_by_label("Email address or mobile number", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    if urlsplit(page.url).path == "/sign-in/":
        summary = page.locator(".govuk-error-summary")
        said = summary.inner_text() if summary.count() else page.locator("main").inner_text()
        pytest.fail(f"signing in as {email} was refused: {said}", pytrace=False)
