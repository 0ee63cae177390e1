"""Helpers for the server tests: the fixture school's server, built once and copied per test.

Password hashing is Argon2id (about 0.15 s a hash on this machine), so the fixture school is
written and every login logged in once per session, into a template database; each test gets
a copy of that file (SQLite backup API) with every device token already valid. The helpers
also build journal events and Yjs updates the way a client would, and snapshot the tables a
sync may write, so a test can assert that a refused request changed nothing.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import sqlite3
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from litestar.testing import TestClient

from server.app import create_app
from server.auth.service import hash_token
from server.config import ServerConfig
from server.storage import accounts
from server.storage.db import connect, transaction
from shared import wire
from shared.hlc import Clock
from shared.journal import JournalDoc, new_client_id
from shared.model import (
    AttendanceCode,
    AttendanceMarked,
    JournalEvent,
    LessonRecorded,
    MarkGiven,
)
from tests.factories import ACCOUNTS, PASSWORD, copy_database, write_school_database

BASE_URL = "http://testserver.local"
LESSON_DAY = dt.date(2026, 10, 5)
MSK = dt.timezone(dt.timedelta(hours=3))
# Every login in the fixture school, plus a second laptop of the math teacher.
DEVICES = (*ACCOUNTS, "math-2")
# Tables a sync may write; a refused request must leave all of them as they were.
SYNC_TABLES = (
    "journals",
    "journal_updates",
    "events",
    "lessons",
    "marks",
    "attendance",
    "period_marks",
    "client_ids",
)
_CYRILLIC_WORD = re.compile(r"[А-Яа-яЁё]{3,}")


def is_russian(text: object) -> bool:
    return isinstance(text, str) and bool(_CYRILLIC_WORD.search(text))


def assert_russian_error(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert is_russian(body.get("message")), body
    return body


# ----------------------------------------------------------------- the template database

_templates: dict[Path, dict[str, dict]] = {}


def template(folder: Path) -> tuple[Path, dict[str, dict]]:
    """The fixture school with every login logged in once: (database file, tokens by device).

    Built once per pytest session (callers pass the same session temp folder)."""
    path = folder / "template.sqlite"
    if path not in _templates:
        config = ServerConfig(database=write_school_database(path))
        tokens: dict[str, dict] = {}
        with TestClient(create_app(config), base_url=BASE_URL) as client:
            for name in DEVICES:
                login = name.split("-")[0]
                response = client.post(
                    "/api/v1/auth/login",
                    json={"login": login, "password": PASSWORD, "device_name": f"ноутбук {name}"},
                )
                assert response.status_code == 200, response.text
                tokens[name] = response.json()
            # The first sync makes the server's own Yjs client id (for refusals); make it now,
            # so that a test's before/after snapshots see only what the test itself caused.
            response = client.post(
                "/api/v1/sync",
                content=wire.encode(wire.SyncRequest()),
                headers={
                    "Content-Type": wire.CONTENT_TYPE,
                    "Authorization": f"Bearer {tokens['math']['token']}",
                },
            )
            assert response.status_code == 200, response.text
        conn = connect(path)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()
        _templates[path] = tokens
    return path, _templates[path]


class SchoolServer:
    """A copy of the template school behind the real app, with a TestClient and helpers."""

    def __init__(self, template_db: Path, tokens: dict[str, dict], folder: Path, **settings):
        database = folder / "server" / "zhurnal.sqlite"
        copy_database(template_db, database)
        self.config = ServerConfig(database=database, **settings)
        self.tokens = tokens
        self.client = TestClient(create_app(self.config), base_url=BASE_URL)

    def __enter__(self) -> SchoolServer:
        self.client.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.client.__exit__(*exc)

    # ---------------------------------------------------------------- HTTP
    def headers(self, device: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[device]['token']}"}

    def post_sync(self, device: str | None, body: bytes) -> httpx.Response:
        headers = {"Content-Type": wire.CONTENT_TYPE}
        if device is not None:
            headers |= self.headers(device)
        return self.client.post("/api/v1/sync", content=body, headers=headers)

    def sync(self, device: str, *pushes: wire.JournalPush) -> wire.SyncResponse:
        response = self.post_sync(device, wire.encode(wire.SyncRequest(journals=pushes)))
        assert response.status_code == 200, response.text
        reply = wire.decode(response.content)
        assert isinstance(reply, wire.SyncResponse)
        return reply

    def push(self, device: str, push: wire.JournalPush) -> wire.JournalReply:
        (reply,) = self.sync(device, push).journals
        assert reply.journal_id == push.journal_id
        return reply

    def document(self, device: str, journal_id: str) -> bytes:
        response = self.client.get(
            f"/api/v1/journals/{journal_id}/document", headers=self.headers(device)
        )
        assert response.status_code == 200, response.text
        return response.content

    # ---------------------------------------------------------------- the database
    @contextmanager
    def db(self) -> Iterator[sqlite3.Connection]:
        conn = connect(self.config.database)
        try:
            yield conn
        finally:
            conn.close()

    def rows(self, sql: str, params: Iterable = ()) -> list[dict]:
        with self.db() as conn:
            return [dict(r) for r in conn.execute(sql, tuple(params)).fetchall()]

    def count(self, table: str, journal_id: str | None = None) -> int:
        where = " WHERE journal_id = ?" if journal_id else ""
        return self.rows(f"SELECT count(*) AS n FROM {table}{where}", [journal_id] * bool(where))[
            0
        ]["n"]

    def snapshot(self, tables: Iterable[str] = SYNC_TABLES) -> dict[str, list[tuple]]:
        """Every row of the given tables, ordered: equal snapshots mean nothing changed."""
        with self.db() as conn:
            return {
                table: sorted(
                    tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)
                    for row in conn.execute(f"SELECT * FROM {table}").fetchall()
                )
                for table in tables
            }

    def quarantine(self) -> list[dict]:
        return self.rows("SELECT * FROM quarantine ORDER BY id")

    def add_device(self, login: str, name: str = "запасной ноутбук") -> tuple[str, str]:
        """Register one more device for `login` straight in storage: (device id, token)."""
        token = secrets.token_urlsafe(32)
        device_id = f"d-{secrets.token_hex(6)}"
        with self.db() as conn, transaction(conn):
            accounts.add_device(
                conn,
                device_id=device_id,
                login=login,
                name=name,
                token_hash=hash_token(token),
                now=0.0,
            )
        return device_id, token


# ----------------------------------------------------------------- writing like a client


class Writer:
    """Makes events as one device of one person would, stamped on a fixed school day."""

    def __init__(self, token: dict, *, day: dt.date = LESSON_DAY, hour: int = 12):
        self.person = token["person_id"]
        self.device = token["device_id"]
        moment = dt.datetime.combine(day, dt.time(hour), tzinfo=MSK).timestamp()
        self.clock = Clock(self.device, now=lambda: moment)

    def stamp(self, fields: dict) -> dict:
        """The common event fields; `fields` may override id, author, device or hlc."""
        return {
            "id": uuid.uuid4().hex,
            "author": self.person,
            "device": self.device,
            "hlc": self.clock.tick(),
        } | fields

    def lesson(self, lesson_id: str = "L1", topic: str = "Дроби", **fields) -> LessonRecorded:
        fields.setdefault("date", LESSON_DAY)
        return LessonRecorded(**self.stamp(fields), lesson_id=lesson_id, topic=topic)

    def mark(self, lesson_id: str, student_id: str, value: int = 5, **fields) -> MarkGiven:
        return MarkGiven(
            **self.stamp(fields), lesson_id=lesson_id, student_id=student_id, value=value
        )

    def attendance(
        self,
        lesson_id: str,
        student_id: str,
        code: AttendanceCode = AttendanceCode.ABSENT,
        **fields,
    ) -> AttendanceMarked:
        return AttendanceMarked(
            **self.stamp(fields), lesson_id=lesson_id, student_id=student_id, code=code
        )


class Replica:
    """One client's copy of one journal: a Yjs document under its own client id."""

    def __init__(self, journal_id: str, *, client_id: int | None = None, state: bytes = b""):
        self.journal_id = journal_id
        self.doc = JournalDoc(state or None, client_id=client_id or new_client_id())

    @property
    def client_id(self) -> int:
        return self.doc.client_id

    def add(self, *events: JournalEvent) -> bytes:
        return self.doc.add(events)

    def push(self, update: bytes | None = None, *, since: bytes | None = None) -> wire.JournalPush:
        """A push carrying `update`, or everything after state vector `since` (default: all)."""
        if update is None:
            update = self.doc.diff(since)
        return wire.JournalPush(
            journal_id=self.journal_id, state_vector=self.doc.state_vector(), update=update
        )

    def take(self, reply: wire.JournalReply) -> None:
        if reply.update:
            self.doc.apply(reply.update)
