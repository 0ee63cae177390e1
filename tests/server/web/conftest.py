from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from litestar.testing import TestClient

from server.app import create_app
from server.config import ServerConfig
from server.storage import web as web_storage
from server.storage.db import connect, transaction
from tests.factories import PASSWORD, copy_database
from tests.reports_school import database_copy
from tests.server.web.portfolio_kit import add_portfolio

BASE_URL = "http://testserver.local"


@pytest.fixture(scope="session")
def web_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The page tests' school, written once per session (web_config copies it)."""
    folder = tmp_path_factory.mktemp("web-template")
    config = database_copy(folder, folder / "web.sqlite")
    conn = connect(config.database)
    try:
        with transaction(conn):
            web_storage.set_consent(conn, "p-1", "given", "math", time.time(), "")
            conn.execute(  # a finished archive build, for the archive pages of the role matrix
                "INSERT INTO archive_jobs (id, year_id, login, state, started_at, heartbeat) "
                "VALUES (1, '2026-2027', 'records', 'failed', 0, 0)"
            )
        add_portfolio(conn)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    return config.database


@pytest.fixture
def web_config(web_template: Path, tmp_path: Path) -> ServerConfig:
    """The fixture school with its autumn; the parent p-1 has signed the consent; achievements
    and personal files from tests/server/web/portfolio_kit.py. A copy, this test's alone."""
    config = ServerConfig(database=tmp_path / "web.sqlite")
    copy_database(web_template, config.database)
    return config


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def log_in(client: TestClient, login: str, password: str = PASSWORD):
    form = client.get("/login")
    return client.post(
        "/login",
        data={"login": login, "password": password, "csrf": csrf_of(form.text), "next": "/"},
        follow_redirects=False,
    )


@contextmanager
def browsers(config: ServerConfig) -> Iterator[Callable[[str | None], TestClient]]:
    """make("parent") -> a TestClient logged in as that account (None: logged out)."""
    clients: list[TestClient] = []

    def make(login: str | None) -> TestClient:
        client = TestClient(create_app(config), base_url=BASE_URL)  # one app per browser
        client.__enter__()
        clients.append(client)
        if login:
            response = log_in(client, login)
            assert response.status_code == 303, response.text
        return client

    try:
        yield make
    finally:
        for client in clients:
            client.__exit__(None, None, None)


@pytest.fixture
def browser_as(web_config: ServerConfig) -> Iterator[Callable[[str | None], TestClient]]:
    """browser_as("parent") -> a TestClient logged in as that account (None: logged out)."""
    with browsers(web_config) as make:
        yield make
