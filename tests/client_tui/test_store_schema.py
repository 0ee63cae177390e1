"""Numbered migrations of the laptop's store: each one after a copy of the file is kept, in
one transaction with its version; a store from a newer program is refused, untouched."""

from __future__ import annotations

import pytest

from client_tui.services import store_crypto
from client_tui.services.store import LocalStore
from client_tui.services.store_schema import MIGRATIONS, StoreTooNew, backup_path, upgrade

V2 = "ALTER TABLE outbox ADD COLUMN note TEXT NOT NULL DEFAULT ''"
V3_BROKEN = "CREATE TABLE extra (id INTEGER PRIMARY KEY); INSERT INTO no_such_table VALUES (1)"


@pytest.fixture
def store(tmp_path):
    opened = LocalStore.open(tmp_path / "p" / "store.sqlite", "пароль")
    with opened.transaction():
        opened.add_outbox("e-1", "j-1", "{}")
    yield opened
    opened.close()


def test_a_new_store_is_made_at_the_newest_version_without_copies(store):
    assert store.conn.pragma("user_version") == len(MIGRATIONS)
    assert not backup_path(store.path, 1).exists()  # nothing to keep in an empty file


def test_a_migration_keeps_a_copy_of_the_store_before_it(store):
    assert upgrade(store.conn, store.path, [*MIGRATIONS, V2]) == [2]
    assert store.conn.pragma("user_version") == 2
    columns = [r["name"] for r in store.conn.execute("PRAGMA table_info(outbox)")]
    assert "note" in columns and store.outbox()[0].event_id == "e-1"
    kept = backup_path(store.path, 2)
    assert kept.exists() and not store_crypto.is_plain(kept)  # encrypted, as the store is
    params = store_crypto.read_params(store_crypto.params_path(store.path))
    before = store_crypto.connect(kept, store_crypto.derive_key("пароль", params), params)
    try:
        assert before.pragma("user_version") == 1
        assert before.execute("SELECT count(*) FROM outbox").fetchone()[0] == 1
    finally:
        before.close()
    assert upgrade(store.conn, store.path, [*MIGRATIONS, V2]) == []  # done once


def test_a_failed_migration_changes_nothing(store):
    with pytest.raises(Exception, match="no_such_table"):
        upgrade(store.conn, store.path, [*MIGRATIONS, V2, V3_BROKEN])
    assert store.conn.pragma("user_version") == 2  # 2 went through, 3 rolled back whole
    tables = [r["name"] for r in store.conn.execute("SELECT name FROM sqlite_schema")]
    assert "extra" not in tables


def test_a_store_from_a_newer_program_is_refused_untouched(tmp_path):
    path = tmp_path / "p" / "store.sqlite"
    newer = LocalStore.open(path, "пароль")
    upgrade(newer.conn, path, [*MIGRATIONS, V2])
    newer.close()
    before = path.read_bytes()
    with pytest.raises(StoreTooNew) as refused:
        LocalStore.open(path, "пароль")
    assert "более новой версией программы" in refused.value.message_ru
    assert "схема 2" in refused.value.message_ru
    assert path.read_bytes() == before
