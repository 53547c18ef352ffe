"""What the local fakes of the SMS gateways share: a JSON HTTP server on a free loopback port,
run in a thread for as long as a `with` block lasts (as `payments.stripe_local` does)."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import urlsplit

logger = logging.getLogger(__name__)


@dataclass
class Recorded:
    """One request as a fake saw it, for tests to inspect."""

    method: str
    path: str
    headers: dict[str, str]
    body: str
    status: int = 0


class FakeState(Protocol):
    base_url: str

    def handle(self, request: Recorded) -> tuple[int, dict[str, Any]]: ...


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("sms fake: " + format, *args)

    def _answer(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        request = Recorded(
            method=method,
            path=self.path,
            headers={k.lower(): v for k, v in self.headers.items()},
            body=self.rfile.read(length).decode() if length else "",
        )
        status, answer = self.server.state.handle(request)
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._answer("GET")

    def do_POST(self) -> None:
        self._answer("POST")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: FakeState


@contextmanager
def running(make_state: Callable[[str], FakeState]) -> Iterator[Any]:
    """Serve `make_state(base_url)` on a free loopback port in a thread; yields the state."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.state = make_state(f"http://127.0.0.1:{server.server_address[1]}")
    # A short poll, so the fake stops at once when its block ends.
    thread = threading.Thread(target=lambda: server.serve_forever(0.05), daemon=True)
    thread.start()
    try:
        yield server.state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def path_of(request: Recorded) -> str:
    return urlsplit(request.path).path
