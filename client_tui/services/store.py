"""The teacher's local store: one SQLite file per profile, encrypted at rest
(store_crypto.py), its schema in numbered migrations (store_schema.py); an edit is committed
before it is reported saved (WAL, synchronous=FULL).

Tables: settings (profile, token, clock), journals (client id, what the server is known to
have), doc_updates (each journal's Yjs update log), outbox (every event this device wrote,
with its state: waiting → sent → accepted | refused | conflict), sync_log, attachments (proof
documents of achievements, kept here until the server holds them whole).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import apsw
import msgspec

from client_tui.services import store_crypto, store_schema

WAITING, SENT, ACCEPTED, REFUSED, CONFLICT = "waiting", "sent", "accepted", "refused", "conflict"
PENDING_STATES = (WAITING, SENT)


class OutboxEntry(msgspec.Struct, frozen=True, kw_only=True):
    event_id: str
    journal_id: str
    body: str
    state: str
    rule: str
    message: str
    created_at: float
    updated_at: float


class Row(dict):
    """A result row read by column name, as sqlite3.Row was (and by position)."""

    def __getitem__(self, key):
        if isinstance(key, int):
            return list(self.values())[key]
        return dict.__getitem__(self, key)


def _row(cursor: apsw.Cursor, values: tuple) -> Row:
    return Row(zip((d[0] for d in cursor.get_description()), values, strict=True))


class LocalStore:
    """The store, unlocked: `LocalStore.open(path, password)`; `LocalStore(path, conn, key)`
    wraps a connection `store_crypto.unlock` opened."""

    def __init__(self, path: Path, conn: apsw.Connection, key: bytes):
        self.path = path
        self.conn = conn
        self._key = key
        self.conn.row_trace = _row
        self.conn.set_busy_timeout(30_000)
        self.conn.pragma("journal_mode", "wal")
        self.conn.pragma("synchronous", "full")
        store_schema.upgrade(self.conn, path)
        os.chmod(path, 0o600)

    @classmethod
    def open(
        cls, path: Path, password: str, *, step: store_crypto.Step | None = None
    ) -> LocalStore:
        """Unlock (or make) the encrypted store; a plain one is encrypted first. Raises
        store_crypto.WrongPassword / StoreDamaged, store_schema.StoreTooNew."""
        path.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(path.parent, 0o700)  # a shared laptop: personal data stays with its user
        kwargs = {"step": step} if step is not None else {}
        conn, key = store_crypto.unlock(path, password, **kwargs)
        try:
            return cls(path, conn, key)
        except BaseException:
            conn.close()
            raise

    def close(self) -> None:
        self.conn.close()

    def opens_with(self, password: str) -> bool:
        """Whether `password` is the one this store is keyed with (no disk access)."""
        params = store_crypto.read_params(store_crypto.params_path(self.path))
        return params is not None and store_crypto.derive_key(password, params) == self._key

    def rekey(self, password: str) -> None:
        """Key the store with a new password (the teacher changed it): the new salt and costs
        are written aside first, so a cut at any point leaves a store one of the two opens."""
        params = store_crypto.new_params()
        key = store_crypto.derive_key(password, params)
        pending = store_crypto.pending_params_path(self.path)
        store_crypto.write_params(pending, params)
        store_crypto.rekey(self.conn, key)
        os.replace(pending, store_crypto.params_path(self.path))
        self._key = key

    def twin(self, path: Path) -> apsw.Connection:
        """A connection to another file keyed as this store is: a copy made with SQLite's
        backup API stays encrypted (benchmarks checkpoint the store this way)."""
        params = store_crypto.read_params(store_crypto.params_path(self.path))
        assert params is not None  # an open store has its parameters beside it
        return store_crypto.connect(path, self._key, params)

    @contextmanager
    def transaction(self) -> Iterator[apsw.Connection]:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        else:
            self.conn.execute("COMMIT")

    # ------------------------------------------------------------------ settings
    def get(self, key: str, default: bytes | str | None = None):
        row = self.conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return row["value"] if row else default

    def put(self, key: str, value: bytes | str | None) -> None:
        self.conn.execute(
            "INSERT INTO settings (key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    # ------------------------------------------------------------------ journals
    def journal_row(self, journal_id: str) -> Row | None:
        return self.conn.execute("SELECT * FROM journals WHERE id = ?", (journal_id,)).fetchone()

    def journal_ids(self) -> list[str]:
        return [r["id"] for r in self.conn.execute("SELECT id FROM journals ORDER BY id")]

    def put_journal(self, journal_id: str, client_id: int, server_sv: bytes) -> None:
        self.conn.execute(
            "INSERT INTO journals (id, client_id, server_sv, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET client_id = excluded.client_id, "
            "server_sv = excluded.server_sv, updated_at = excluded.updated_at",
            (journal_id, client_id, server_sv, time.time()),
        )

    def set_server_sv(self, journal_id: str, server_sv: bytes) -> None:
        # unchanged: no write, so an idle sync of many journals costs no disk syncs
        self.conn.execute(
            "UPDATE journals SET server_sv = ?, updated_at = ? WHERE id = ? AND server_sv IS NOT ?",
            (server_sv, time.time(), journal_id, server_sv),
        )

    def doc_updates(self, journal_id: str) -> list[bytes]:
        rows = self.conn.execute(
            "SELECT body FROM doc_updates WHERE journal_id = ? ORDER BY seq", (journal_id,)
        )
        return [bytes(r["body"]) for r in rows]

    def append_doc_update(self, journal_id: str, body: bytes) -> int:
        self.conn.execute(
            "INSERT INTO doc_updates (journal_id, body) VALUES (?, ?)", (journal_id, body)
        )
        return self.doc_update_count(journal_id)

    def doc_update_count(self, journal_id: str) -> int:
        row = self.conn.execute(
            "SELECT count(*) AS n FROM doc_updates WHERE journal_id = ?", (journal_id,)
        ).fetchone()
        return row["n"]

    def replace_doc(self, journal_id: str, snapshot: bytes) -> None:
        self.conn.execute("DELETE FROM doc_updates WHERE journal_id = ?", (journal_id,))
        self.append_doc_update(journal_id, snapshot)

    # ------------------------------------------------------------------ outbox
    def add_outbox(self, event_id: str, journal_id: str, body: str) -> None:
        now = time.time()
        self.conn.execute(
            "INSERT INTO outbox (event_id, journal_id, body, state, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (event_id, journal_id, body, WAITING, now, now),
        )

    def set_outbox_state(
        self, event_ids: Iterable[str], state: str, rule: str = "", message: str = ""
    ) -> None:
        now = time.time()
        self.conn.executemany(
            "UPDATE outbox SET state = ?, rule = ?, message = ?, updated_at = ? WHERE event_id = ?",
            [(state, rule, message, now, event_id) for event_id in event_ids],
        )

    def outbox(
        self, journal_id: str | None = None, states: Iterable[str] | None = None
    ) -> list[OutboxEntry]:
        sql, params = "SELECT * FROM outbox WHERE 1=1", []
        if journal_id is not None:
            sql += " AND journal_id = ?"
            params.append(journal_id)
        if states is not None:
            states = list(states)
            sql += f" AND state IN ({', '.join('?' for _ in states)})"
            params += states
        rows = self.conn.execute(sql + " ORDER BY created_at, event_id", params)
        return [msgspec.convert(dict(r), OutboxEntry) for r in rows]

    def outbox_counts(self) -> dict[str, int]:
        rows = self.conn.execute("SELECT state, count(*) AS n FROM outbox GROUP BY state")
        return {r["state"]: r["n"] for r in rows}

    # ------------------------------------------------------------------ attachments
    # state: waiting (to send) → uploaded (the server holds it whole; the body is dropped)
    # | refused (the server would not take it: kept here, with the reason)
    def add_attachment(
        self,
        sha256: str,
        *,
        event_id: str,
        journal_id: str,
        name: str,
        media_type: str,
        body: bytes,
    ) -> None:
        """Keep a proof document until the server has it (an unchanged file added again for
        a correction keeps its row and progress)."""
        now = time.time()
        self.conn.execute(
            "INSERT INTO attachments (sha256, event_id, journal_id, name, media_type, size, "
            "body, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(sha256) DO NOTHING",
            (sha256, event_id, journal_id, name, media_type, len(body), body, now, now),
        )

    def attachments(self, states: Iterable[str] | None = None) -> list[Row]:
        """Rows without their bodies, oldest first."""
        sql = (
            "SELECT sha256, event_id, journal_id, name, media_type, size, sent, state, message "
            "FROM attachments"
        )
        params: list[str] = []
        if states is not None:
            states = list(states)
            sql += f" WHERE state IN ({', '.join('?' for _ in states)})"
            params = states
        return self.conn.execute(sql + " ORDER BY created_at, sha256", params).fetchall()

    def attachment_body(self, sha256: str, start: int, size: int) -> bytes:
        row = self.conn.execute(
            "SELECT substr(body, ?, ?) AS part FROM attachments WHERE sha256 = ?",
            (start + 1, size, sha256),
        ).fetchone()
        return bytes(row["part"]) if row and row["part"] is not None else b""

    def set_attachment(self, sha256: str, *, sent: int, state: str, message: str = "") -> None:
        """Progress of an upload; once the server holds the file whole its body is dropped."""
        self.conn.execute(
            "UPDATE attachments SET sent = ?, state = ?, message = ?, updated_at = ?, "
            "body = CASE WHEN ? = 'uploaded' THEN NULL ELSE body END WHERE sha256 = ?",
            (sent, state, message, time.time(), state, sha256),
        )

    # ------------------------------------------------------------------ sync log
    def log_sync(self, ok: bool, message: str) -> None:
        self.conn.execute(
            "INSERT INTO sync_log (at, ok, message) VALUES (?, ?, ?)",
            (time.time(), int(ok), message),
        )
        self.conn.execute("DELETE FROM sync_log WHERE id < (SELECT max(id) - 500 FROM sync_log)")

    def last_sync(self, ok: bool | None = None) -> Row | None:
        where = "" if ok is None else f" WHERE ok = {int(ok)}"
        return self.conn.execute(
            f"SELECT * FROM sync_log{where} ORDER BY id DESC LIMIT 1"
        ).fetchone()
