"""Numbered migrations of the laptop's store: `PRAGMA user_version` is the store's schema
version; migration N brings a store from version N-1 to N in one transaction, after a copy of
the file is kept beside it (`store.sqlite.before-vN`, encrypted as the store is). A store
written by a newer program is refused whole: an older program must not guess at its tables.

Add a migration by appending to MIGRATIONS; never edit one that has shipped.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path

import apsw

from client_tui.services.store_crypto import StoreError

# 1: the store as the releases before numbered migrations made it (IF NOT EXISTS: those
# stores carry these tables at user_version 0).
V1 = """
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value BLOB);
CREATE TABLE IF NOT EXISTS journals (
    id TEXT PRIMARY KEY, client_id INTEGER NOT NULL, server_sv BLOB NOT NULL DEFAULT x'00',
    updated_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS doc_updates (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, journal_id TEXT NOT NULL, body BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS doc_updates_journal ON doc_updates(journal_id, seq);
CREATE TABLE IF NOT EXISTS outbox (
    event_id TEXT PRIMARY KEY, journal_id TEXT NOT NULL, body TEXT NOT NULL,
    state TEXT NOT NULL, rule TEXT NOT NULL DEFAULT '', message TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL, updated_at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS outbox_state ON outbox(journal_id, state);
CREATE TABLE IF NOT EXISTS attachments (
    sha256 TEXT PRIMARY KEY, event_id TEXT NOT NULL, journal_id TEXT NOT NULL,
    name TEXT NOT NULL, media_type TEXT NOT NULL, size INTEGER NOT NULL, body BLOB,
    sent INTEGER NOT NULL DEFAULT 0, state TEXT NOT NULL DEFAULT 'waiting',
    message TEXT NOT NULL DEFAULT '', created_at REAL NOT NULL, updated_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS sync_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, ok INTEGER NOT NULL,
    message TEXT NOT NULL);
"""

MIGRATIONS: tuple[str, ...] = (V1,)


class StoreTooNew(StoreError):
    def __init__(self, found: int, known: int):
        super().__init__(
            f"Журнал на этом компьютере записан более новой версией программы (схема {found}, "
            f"эта программа знает до {known}). Записи не тронуты: обновите программу со "
            "страницы сервера школы /install или с флешки."
        )


def backup_path(store: Path, version: int) -> Path:
    return store.with_name(f"{store.name}.before-v{version}")


def upgrade(conn: apsw.Connection, path: Path, migrations: Sequence[str] = MIGRATIONS) -> list[int]:
    """Bring the store to the newest version; returns the versions applied."""
    found = conn.pragma("user_version")
    if found > len(migrations):
        raise StoreTooNew(found, len(migrations))
    applied = []
    for version in range(found + 1, len(migrations) + 1):
        if _has_tables(conn):
            _keep_copy(conn, path, backup_path(path, version))
        with conn:  # one transaction: the version moves with the tables
            conn.execute(migrations[version - 1])
            conn.pragma("user_version", version)
        applied.append(version)
    return applied


def _has_tables(conn: apsw.Connection) -> bool:
    return conn.execute("SELECT count(*) FROM sqlite_schema").fetchone()[0] > 0


def _keep_copy(conn: apsw.Connection, path: Path, target: Path) -> None:
    """The file as it is before a migration: the WAL folded in first, then a byte copy (so an
    encrypted store's copy stays encrypted under the same key)."""
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    tmp = target.with_name(target.name + ".tmp")
    shutil.copyfile(path, tmp)
    with open(tmp, "rb+") as f:
        os.fsync(f.fileno())
    os.replace(tmp, target)
