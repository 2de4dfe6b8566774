from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
# Debian's Chromium (.ci/run installs it), driven by Playwright; the flags keep
# it off the network this machine does not have.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
CORPUS = ROOT / "tests" / "corpus" / "months"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="Rewrite the golden files instead of comparing; review with git diff.",
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture
def root() -> Path:
    return ROOT


@pytest.fixture
def seeds() -> Path:
    return SEEDS


@pytest.fixture
def write(tmp_path: Path):
    """write("name.txt", "text") -> Path, under tmp_path."""

    def _write(name: str, text: str | bytes) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        return path

    return _write


class _Handler(BaseHTTPRequestHandler):
    """Serves ``server.routes``: path -> (status, headers, body), or a callable
    taking the handler (for servers that stall or misbehave)."""

    def do_GET(self) -> None:
        server: Any = self.server
        server.requests.append((self.path, dict(self.headers)))
        route = server.routes.get(self.path)
        if route is None:
            route = (404, {"Content-Type": "text/plain"}, b"not found")
        if callable(route):
            route(self)
            return
        status, headers, body = route
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass


@pytest.fixture
def http_server():
    """A real HTTP server on 127.0.0.1 (a free port), stopped after the test.

    ``server.routes`` maps paths to responses, ``server.url(path)`` gives the
    address, ``server.requests`` records (path, headers), and
    ``server.release`` is set on teardown so stalling handlers return.
    """
    server: Any = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    server.routes = {}
    server.requests = []
    server.release = threading.Event()
    server.url = lambda path: f"http://127.0.0.1:{server.server_port}{path}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.release.set()
        server.shutdown()
        server.server_close()
        thread.join(5)


def stall(handler: Any) -> None:
    """A route that accepts the request and never answers (until teardown)."""
    handler.server.release.wait(30)


def trickle(handler: Any) -> None:
    """A route that answers, then sends one byte every 0.1 s (until teardown)."""
    handler.send_response(200)
    handler.send_header("Content-Type", "application/rss+xml")
    handler.end_headers()
    handler.wfile.write(b"<?xml version='1.0'?><rss version='2.0'><channel>")
    while not handler.server.release.wait(0.1):
        try:
            handler.wfile.write(b" ")
            handler.wfile.flush()
        except OSError:
            return


@pytest.fixture(scope="module")
def browser():
    """A real headless Chromium, one per test module."""
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "install Debian's chromium (.ci/run does)"
    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()
