"""Shared fixtures: a small school on a real in-process server, and teachers' laptops.

The school is written once per session into a template database; each test gets a copy."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from litestar.testing import TestClient

from client_tui.services import store_crypto
from client_tui.services.session import Session
from server.app import create_app
from server.auth import passwords
from server.config import ServerConfig
from tests.factories import PASSWORD, copy_database, write_school_database

BASE_URL = "http://testserver.local"

# Tests only: Argon2id at its smallest cost. The product's hasher costs about 0.3 s a hash on this
# machine, and a school fixture makes eight; its parameters travel inside each hash, so a server
# process started by a test (with the product's hasher) still verifies these.
passwords._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
passwords._DUMMY_HASH = passwords._hasher.hash("no such account")
# The laptop's store key: Argon2id at its smallest cost too (a store keeps the costs it was made
# with, so a child process running the product's defaults still opens it).
store_crypto.COST = store_crypto.Cost(time_cost=1, memory_cost=8, parallelism=1)


class _ConnectionWithoutFsync(sqlite3.Connection):
    """Tests only: SQLite that does not wait for the disk. The product commits with
    synchronous=FULL so that an entry reported saved survives a power cut; no in-process test
    can cut the power, and a disk flush per commit was much of the suite's time (the sixty
    offline days of tests/client_tui/test_background_sync.py: 39 s, 9 s without). The crash
    tests kill real server and client processes, which keep FULL."""

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        if sql.startswith("PRAGMA synchronous"):
            sql = "PRAGMA synchronous=OFF"
        return super().execute(sql, *args)


def _connect_without_fsync(*args: Any, **kwargs: Any) -> sqlite3.Connection:
    kwargs.setdefault("factory", _ConnectionWithoutFsync)
    return _sqlite_connect(*args, **kwargs)


_sqlite_connect = sqlite3.connect
sqlite3.connect = _connect_without_fsync


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--bench", action="store_true", help="run benchmarks under tests/bench")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--bench"):
        return
    skip = pytest.mark.skip(reason="benchmark: run with --bench")
    for item in items:
        # the marker, not `"bench" in item.keywords`: keywords also hold every parent node's
        # name, so that skipped all of tests/bench, the benchmark smoke tests included
        if item.get_closest_marker("bench") is not None:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def school_template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture school's database, written once per session; tests work on copies."""
    return write_school_database(tmp_path_factory.mktemp("school-template") / "zhurnal.sqlite")


@pytest.fixture
def server_config(tmp_path: Path, school_template_db: Path) -> ServerConfig:
    """A fresh copy of the fixture school's database, this test's alone."""
    config = ServerConfig(database=tmp_path / "server" / "zhurnal.sqlite")
    copy_database(school_template_db, config.database)
    return config


@pytest.fixture
def client(server_config: ServerConfig) -> Iterator[TestClient]:
    with TestClient(create_app(server_config), base_url=BASE_URL) as test_client:
        yield test_client


@pytest.fixture
def laptop(tmp_path: Path, client: TestClient) -> Iterator[Callable[..., Session]]:
    """Make a logged-in teacher's laptop: laptop("math") -> Session."""
    sessions: list[Session] = []

    def make(
        login: str, *, name: str | None = None, transport=None, first_sync: bool = True
    ) -> Session:
        session = Session(tmp_path / "laptops" / (name or login), http=client, transport=transport)
        session.login(
            BASE_URL, login, PASSWORD, device_name=f"ноутбук {login}", first_sync=first_sync
        )
        sessions.append(session)
        return session

    yield make
    for session in sessions:
        session.close()


@pytest.fixture
def today() -> dt.date:
    return dt.date.today()
