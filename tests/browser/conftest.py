"""The browser tests use the same school as the page tests, served by a real uvicorn server
that a test may stop and start again on the same port (the phone's link going and coming)."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from server.app import create_app
from server.config import ServerConfig
from tests.factories import PASSWORD
from tests.server.web.conftest import web_config, web_template

__all__ = ["web_config", "web_template"]

CHROMIUM = shutil.which("chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
PHONES = {"360x640": (360, 640), "390x844": (390, 844)}


def with_headers(app, headers: dict[str, str]):
    """The app, with `headers` set on every response it sends."""
    extra = [(k.lower().encode(), v.encode()) for k, v in headers.items()]

    async def wrapped(scope, receive, send):
        async def send_with(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await app(scope, receive, send_with if scope["type"] == "http" else send)

    return wrapped


class LiveServer:
    """The app under uvicorn in a thread, on a port that stays the same across restarts (a
    service worker belongs to its origin, port included)."""

    def __init__(self, config: ServerConfig, headers: dict[str, str] | None = None) -> None:
        self.config = config
        self.headers = headers or {}  # added to every response (a CSP, for one)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        app = create_app(self.config)
        server = uvicorn.Server(
            uvicorn.Config(
                with_headers(app, self.headers) if self.headers else app,
                host="127.0.0.1",
                port=self.port,
                log_level="warning",
            )
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started and thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.started, "the server did not start"
        self._server, self._thread = server, thread

    def stop(self) -> None:
        """Until it returns: nothing listens on the port any more."""
        assert self._server is not None and self._thread is not None
        self._server.should_exit = True
        self._thread.join(timeout=30)
        assert not self._thread.is_alive(), "the server did not stop"
        self._server = self._thread = None


@pytest.fixture
def live_server(web_config: ServerConfig) -> Iterator[LiveServer]:
    server = LiveServer(web_config)
    server.start()
    yield server
    if server._server is not None:
        server.stop()


@pytest.fixture
def base_url(live_server: LiveServer) -> str:
    return live_server.url


@pytest.fixture
def browser() -> Iterator:
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield instance
        instance.close()


def log_in(browser_or_context, base_url: str, login: str, viewport=(390, 844)):
    """A page logged in as `login` on a phone-sized screen (a new browser context when given
    the browser, so each call is another phone)."""
    width, height = viewport
    if hasattr(browser_or_context, "new_context"):
        page = browser_or_context.new_page(viewport={"width": width, "height": height})
    else:
        page = browser_or_context.new_page()
    page.goto(f"{base_url}/login")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return page
