"""The product's databases sync every commit to disk (synchronous=FULL): an entry reported
saved survives a power cut. tests/conftest.py turns that off for the in-process tests; these
check what the product itself does, with SQLite's own connect."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from client_tui.services.store import LocalStore
from server.storage.db import connect
from tests import conftest

FULL = 2  # PRAGMA synchronous


@pytest.fixture
def product_sqlite(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sqlite3, "connect", conftest._sqlite_connect)


def test_the_servers_database_syncs_every_commit(product_sqlite, tmp_path: Path) -> None:
    conn = connect(tmp_path / "server.sqlite")
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == FULL
    conn.close()


def test_the_laptops_store_syncs_every_commit(product_sqlite, tmp_path: Path) -> None:
    store = LocalStore.open(tmp_path / "laptop" / "store.sqlite", "пароль учителя")
    assert store.conn.pragma("synchronous") == FULL
    store.close()


def test_the_tests_own_connections_do_not_wait_for_the_disk(tmp_path: Path) -> None:
    conn = connect(tmp_path / "server.sqlite")
    assert conn.execute("SELECT * FROM pragma_synchronous").fetchone()[0] == 0
    conn.close()
