"""The directory a sync uses, kept in memory (server/sync/directory_cache.py), and the one
transaction a sync request writes in.

What must hold: the cached directory is never stale, whoever changed the database (another
server process, a tool, a restored file), and a day passing changes the correction grants in
force; a journal refused inside a request is undone alone while the others are kept.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from server.config import ServerConfig
from server.storage import archive as archive_storage
from server.storage import directory as directory_storage
from server.storage.db import (
    DIRECTORY_TABLES,
    DIRECTORY_VERSION_KEY,
    connect,
    get_meta,
    transaction,
)
from server.sync.directory_cache import DirectoryCache
from shared import wire
from shared.model import Student, TeachingAssignment
from tests.factories import CLASS_5, MATH_5, MATH_6, YEAR
from tests.server.school_kit import Replica, SchoolServer, Writer, template

Outcome = wire.Outcome


@pytest.fixture
def conn(db: Path) -> Iterator[sqlite3.Connection]:
    conn = connect(db)
    yield conn
    conn.close()


def other_process(db: Path, sql: str, params: tuple = ()) -> None:
    """A write through a connection of its own, as another process or a tool would make it."""
    other = connect(db)
    try:
        with transaction(other):
            other.execute(sql, params)
    finally:
        other.close()


def test_the_directory_is_read_once_while_nothing_changes(conn: sqlite3.Connection) -> None:
    cache = DirectoryCache()
    first = cache.load(conn)
    assert cache.load(conn) is first and cache.load(conn) is first
    assert cache.loads == 1
    assert first == directory_storage.load_full(conn)


def test_a_write_through_another_connection_is_seen(db: Path, conn: sqlite3.Connection) -> None:
    cache = DirectoryCache()
    before = cache.load(conn)
    other_process(
        db,
        "INSERT INTO students (id, last_name, first_name) VALUES ('s-new', 'Новикова', 'Ольга')",
    )
    other_process(  # a school's pupils are those of its classes
        db,
        "INSERT INTO memberships (student_id, class_id, starts) VALUES (?, ?, '2026-09-01')",
        ("s-new", CLASS_5),
    )
    after = cache.load(conn)
    assert cache.loads == 2
    assert "s-new" in {s.id for s in after.students}
    assert "s-new" not in {s.id for s in before.students}


def test_every_table_load_full_reads_renews_the_version(conn: sqlite3.Connection) -> None:
    triggers = {
        row["name"] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
    }
    for table in DIRECTORY_TABLES:
        for op in ("insert", "update", "delete"):
            assert f"directory_version_{table}_{op}" in triggers
    seen = {get_meta(conn, DIRECTORY_VERSION_KEY)}
    for sql in (
        "UPDATE staff SET last_name = 'Петрова' WHERE id = 't-rus'",
        "DELETE FROM memberships WHERE student_id = 's-1'",
        "UPDATE subjects SET name = 'Математика (углублённо)' WHERE id = 'math'",
    ):
        with transaction(conn):
            conn.execute(sql)
        version = get_meta(conn, DIRECTORY_VERSION_KEY)
        assert version not in seen, sql
        seen.add(version)


def test_correction_grants_are_seen_when_given_revoked_and_when_the_day_passes(
    conn: sqlite3.Connection,
) -> None:
    today = [dt.date(2026, 11, 23)]
    cache = DirectoryCache(today=lambda: today[0])
    assert cache.load(conn, today=today[0]).corrections == ()
    with transaction(conn):
        grant = archive_storage.grant_correction(
            conn,
            year_id=YEAR,
            journal_id=MATH_5,
            person_id="t-math",
            reason="служебная записка № 5",
            granted_by="deputy",
            now=0.0,
            expires_on=dt.date(2026, 11, 25),
        )
    assert [g.person_id for g in cache.load(conn, today=today[0]).corrections] == ["t-math"]
    today[0] = dt.date(2026, 11, 26)  # the grant has expired: the key is another day
    assert cache.load(conn, today=today[0]).corrections == ()
    today[0] = dt.date(2026, 11, 24)
    with transaction(conn):
        archive_storage.revoke_grant(conn, grant, 1.0)
    assert cache.load(conn, today=today[0]).corrections == ()


def test_a_restored_database_file_is_seen(db: Path, tmp_path: Path) -> None:
    backup = tmp_path / "backup.sqlite"
    source, target = connect(db), sqlite3.connect(backup)
    source.backup(target)
    source.close()
    target.close()
    cache = DirectoryCache()
    other_process(db, "DELETE FROM teaching WHERE class_id = ?", (CLASS_5,))
    conn = connect(db)
    try:
        assert not any(t.class_id == CLASS_5 for t in cache.load(conn).teaching)
        restored = sqlite3.connect(backup)
        restored.backup(conn)  # the file as it was before the delete
        restored.close()
        assert any(t.class_id == CLASS_5 for t in cache.load(conn).teaching)
        assert cache.loads == 2
    finally:
        conn.close()


def test_the_arguments_pass_through_and_key_the_cache(conn: sqlite3.Connection) -> None:
    calls = []

    def loader(conn, *args, **kwargs):
        calls.append((args, kwargs))
        return directory_storage.load_full(conn)

    cache = DirectoryCache(loader=loader)
    cache.load(conn, YEAR, school_id="sch")
    cache.load(conn, YEAR, school_id="sch")
    cache.load(conn, YEAR, school_id="other")
    cache.load(conn)
    assert calls == [((YEAR,), {"school_id": "sch"}), ((YEAR,), {"school_id": "other"}), ((), {})]


def test_journal_contexts_match_the_rules_own(conn: sqlite3.Connection) -> None:
    from shared.rules import JournalContext

    cache = DirectoryCache()
    directory = cache.load(conn)
    for journal in directory.journals:
        context = cache.context(directory, journal)
        assert context == JournalContext.from_directory(directory, journal)
        assert cache.context(directory, journal) is context


# ------------------------------------------------------------------ through the server


@pytest.fixture
def server(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SchoolServer]:
    db, tokens = template(tmp_path_factory.getbasetemp())
    with SchoolServer(db, tokens, tmp_path) as school:
        yield school


def test_a_new_teaching_assignment_takes_effect_on_the_next_sync(server: SchoolServer) -> None:
    rus = Writer(server.tokens["rus"])
    replica = Replica(MATH_5)
    replica.add(rus.lesson("L1"))
    refused = server.push("rus", replica.push())
    assert refused.outcome is Outcome.REFUSED and refused.rule == "no_access"
    # the deputy gives her math in the 5th grade through another process
    other = connect(server.config.database)
    try:
        with transaction(other):
            directory_storage.upsert(
                other, [TeachingAssignment(teacher_id="t-rus", class_id=CLASS_5, subject_id="math")]
            )
    finally:
        other.close()
    assert server.push("rus", replica.push()).outcome is Outcome.ACCEPTED
    assert server.count("events", MATH_5) == 1


def test_a_pupil_added_elsewhere_can_be_marked_at_once(server: SchoolServer) -> None:
    math = Writer(server.tokens["math"])
    replica = Replica(MATH_5)
    replica.add(math.lesson("L1"))
    assert server.push("math", replica.push()).outcome is Outcome.ACCEPTED
    server.sync("math")  # the directory is now in the server's memory
    other = connect(server.config.database)
    try:
        with transaction(other):
            directory_storage.upsert(
                other, [Student(id="s-new", last_name="Новикова", first_name="Ольга")]
            )
            other.execute(
                "INSERT INTO memberships (student_id, class_id, starts) VALUES (?, ?, ?)",
                ("s-new", CLASS_5, "2026-09-01"),
            )
    finally:
        other.close()
    since = replica.doc.state_vector()
    replica.add(math.mark("L1", "s-new", 5))
    reply = server.push("math", replica.push(since=since))
    assert reply.outcome is Outcome.ACCEPTED and reply.event_ids == ()


def test_one_refused_journal_is_undone_alone_in_a_request(server: SchoolServer) -> None:
    math = Writer(server.tokens["math"])
    good = Replica(MATH_5)
    good.add(math.lesson("L1"))
    garbage = wire.JournalPush(journal_id=MATH_6, state_vector=b"\x00", update=b"\x01\x02junk")
    response = server.sync("math", good.push(), garbage)
    by = {r.journal_id: r for r in response.journals}
    assert by[MATH_5].outcome is Outcome.ACCEPTED
    assert by[MATH_6].outcome is Outcome.REFUSED and by[MATH_6].rule == "malformed_update"
    assert server.count("events", MATH_5) == 1
    assert server.count("events", MATH_6) == 0
    assert server.count("journal_updates", MATH_6) == 0
    assert [q["rule"] for q in server.quarantine()] == ["malformed_update"]


def test_a_nested_transaction_is_a_savepoint(conn: sqlite3.Connection) -> None:
    with transaction(conn):
        conn.execute("INSERT INTO meta (key, value) VALUES ('outer', '1')")
        with pytest.raises(RuntimeError), transaction(conn):
            conn.execute("INSERT INTO meta (key, value) VALUES ('inner', '1')")
            raise RuntimeError("undo the inner part")
        with transaction(conn):
            conn.execute("INSERT INTO meta (key, value) VALUES ('kept', '1')")
    assert get_meta(conn, "outer") == get_meta(conn, "kept") == "1"
    assert get_meta(conn, "inner") is None
    assert not conn.in_transaction


def test_the_document_cache_size_comes_from_the_environment(monkeypatch, tmp_path: Path) -> None:
    from server.app import create_app

    monkeypatch.setenv("ZHURNAL_DOCUMENT_CACHE", "4096")
    config = ServerConfig.from_env(database=tmp_path / "big.sqlite")
    assert config.document_cache_journals == 4096
    assert create_app(config).state.documents.capacity == 4096
    assert (
        create_app(ServerConfig(database=tmp_path / "small.sqlite")).state.documents.capacity == 256
    )


def test_the_server_reads_the_directory_at_startup(db: Path, tmp_path: Path) -> None:
    from litestar.testing import TestClient

    from server.app import create_app

    with TestClient(create_app(ServerConfig(database=db))) as client:
        assert client.app.state.directories.loads == 1  # before any request
    # a database without a school year yet starts too
    with TestClient(create_app(ServerConfig(database=tmp_path / "empty.sqlite"))) as client:
        assert client.get("/api/v1/health").status_code == 200
        assert client.app.state.directories.loads == 0
