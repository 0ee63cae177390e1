"""End-to-end fixtures: a REAL server process on 127.0.0.1 and teachers' laptops talking to it.

`live_server` writes the fixture school into a fresh SQLite file, starts
`python -m server.cli --db … serve --port …` on a free loopback port, waits for
GET /api/v1/health and stops the process at teardown (SIGTERM, then SIGKILL). `restart()`
brings it back on the same database and port; `kill()` is a SIGKILL, as a power cut would be.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from client_tui.services.session import Session
from scripts.badlink.live import LiveServer, free_port
from tests.factories import PASSWORD, write_school_database


@pytest.fixture(scope="session")
def school_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture school, written once per session and copied per test."""
    return write_school_database(tmp_path_factory.mktemp("school") / "school.sqlite")


@pytest.fixture
def live_server(tmp_path: Path, school_db: Path) -> Iterator[LiveServer]:
    db = tmp_path / "server" / "server.sqlite"
    db.parent.mkdir(parents=True)
    shutil.copyfile(school_db, db)
    server = LiveServer(db, free_port(), tmp_path / "server" / "server.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()


LaptopFactory = Callable[..., Session]


@pytest.fixture
def laptops(tmp_path: Path) -> Iterator[LaptopFactory]:
    """Make a teacher's laptop logged in at `url`:

    laptops("math", url, name="a", timeout=10, on_request=hook) -> Session

    `first_sync=False` logs in without the first sync that login otherwise ends with, for the
    tests whose subject is that first sync over a bad link.

    Each laptop has its own httpx client with short timeouts (a bad link must fail fast, not
    hang a test); `on_request` is an httpx request hook (to capture the bodies sent).
    """
    made: list[tuple[Session, httpx.Client]] = []

    def make(
        login: str,
        url: str,
        *,
        name: str | None = None,
        timeout: float = 10.0,
        on_request: Callable[[httpx.Request], None] | None = None,
        on_response: Callable[[httpx.Response], None] | None = None,
        first_sync: bool = True,
    ) -> Session:
        http = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=5.0),
            event_hooks={
                "request": [on_request] if on_request else [],
                "response": [on_response] if on_response else [],
            },
        )
        session = Session(tmp_path / "laptops" / (name or login), http=http)
        made.append((session, http))
        session.login(
            url, login, PASSWORD, device_name=f"ноутбук {name or login}", first_sync=first_sync
        )
        return session

    yield make
    for session, http in made:
        session.close()
        http.close()
