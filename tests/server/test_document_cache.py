"""What the server keeps between sync requests: journal documents in memory
(server/sync/documents.py), and large replies for a cut link to resume.

What must hold: a cached document is never stale (another server process, or a restored
database file, wrote since) and never holds what a refused or failed request left in it.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.testing import TestClient

from server.app import create_app
from shared import wire
from tests.factories import MATH_5
from tests.server.school_kit import (
    BASE_URL,
    Replica,
    SchoolServer,
    Writer,
    assert_russian_error,
    copy_database,
    template,
)

Outcome = wire.Outcome


@pytest.fixture
def server(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SchoolServer]:
    db, tokens = template(tmp_path_factory.getbasetemp())
    with SchoolServer(db, tokens, tmp_path) as school:
        yield school


def loads(server: SchoolServer) -> int:
    return server.client.app.state.documents.loads


def test_a_journal_is_read_from_the_database_once_and_kept(server: SchoolServer) -> None:
    math = Writer(server.tokens["math"])
    replica = Replica(MATH_5)
    replica.add(math.lesson("L1"))
    assert server.push("math", replica.push()).outcome is Outcome.ACCEPTED
    after_first = loads(server)

    for student in ("s-1", "s-2", "s-3"):
        since = replica.doc.state_vector()
        replica.add(math.mark("L1", student, 4))
        reply = server.push("math", replica.push(since=since))
        assert reply.outcome is Outcome.ACCEPTED

    assert loads(server) == after_first
    assert server.count("marks", MATH_5) == 3
    assert server.count("events", MATH_5) == 4


def test_a_write_by_another_server_process_is_seen(server: SchoolServer) -> None:
    math, later = Writer(server.tokens["math"]), Writer(server.tokens["math"], hour=13)
    first = Replica(MATH_5)
    first.add(math.lesson("L1"))
    assert server.push("math", first.push()).outcome is Outcome.ACCEPTED

    # a second worker process on the same database takes the next push
    with TestClient(create_app(server.config), base_url=BASE_URL) as other:
        second = Replica(MATH_5, state=first.doc.snapshot())
        mark = second.add(later.mark("L1", "s-1", 5))
        response = other.post(
            "/api/v1/sync",
            content=wire.encode(wire.SyncRequest(journals=(second.push(mark),))),
            headers={"Content-Type": wire.CONTENT_TYPE} | server.headers("math"),
        )
        assert wire.decode(response.content).journals[0].outcome is Outcome.ACCEPTED

    # the first process answers from the database, not from what it remembered
    since = first.doc.state_vector()
    absence = math.attendance("L1", "s-2")
    first.add(absence)
    reply = server.push("math", first.push(since=since))
    assert reply.outcome is Outcome.ACCEPTED
    first.take(reply)
    assert set(first.doc.events()) == set(second.doc.events()) | {absence.id}
    assert server.count("events", MATH_5) == 3
    assert server.count("marks", MATH_5) == 1


def test_a_restored_database_file_is_seen(server: SchoolServer, tmp_path: Path) -> None:
    math = Writer(server.tokens["math"])
    replica = Replica(MATH_5)
    replica.add(math.lesson("L1"))
    assert server.push("math", replica.push()).outcome is Outcome.ACCEPTED
    backup = tmp_path / "backup.sqlite"
    copy_database(server.config.database, backup)
    lost = Replica(MATH_5, state=replica.doc.snapshot())
    lost.add(math.mark("L1", "s-1", 3))
    assert server.push("math", lost.push()).outcome is Outcome.ACCEPTED

    copy_database(backup, server.config.database)  # the administrator restores last night's copy

    fresh = Replica(MATH_5)
    reply = server.push("math", fresh.push())
    fresh.take(reply)
    assert set(fresh.doc.events()) == set(replica.doc.events())


def test_a_refused_push_leaves_nothing_in_the_kept_document(server: SchoolServer) -> None:
    math = Writer(server.tokens["math"])
    replica = Replica(MATH_5)
    replica.add(math.lesson("L1"))
    assert server.push("math", replica.push()).outcome is Outcome.ACCEPTED

    forger = Replica(MATH_5, state=replica.doc.snapshot())
    since = forger.doc.state_vector()
    forger.add(math.lesson("L2"), math.mark("L1", "s-1", 2, author="t-rus"))
    assert server.push("math", forger.push(since=since)).outcome is Outcome.REFUSED

    # an honest device of the same teacher still gets only what the server accepted
    honest = Replica(MATH_5)
    mark = math.mark("L1", "s-2", 5)
    honest.add(mark)
    reply = server.push("math", honest.push())
    assert reply.outcome is Outcome.ACCEPTED
    honest.take(reply)
    assert set(honest.doc.events()) == set(replica.doc.events()) | {mark.id}
    assert server.count("events", MATH_5) == 2


# ----------------------------------------------------------------- resumable replies


def big_reply(server: SchoolServer) -> tuple[bytes, str]:
    """A sync reply over the resumable size: math's journal, fetched by a fresh replica."""
    math = Writer(server.tokens["math"])
    replica = Replica(MATH_5)
    replica.add(*(math.lesson(f"L{n}", topic=secrets.token_hex(100)) for n in range(60)))
    assert server.push("math", replica.push()).outcome is Outcome.ACCEPTED
    response = server.post_sync(
        "math", wire.encode(wire.SyncRequest(journals=(Replica(MATH_5).push(),)))
    )
    assert response.status_code == 200
    assert len(response.content) > wire.RESUMABLE_REPLY_BYTES
    return response.content, response.headers[wire.REPLY_ID_HEADER]


def test_a_kept_reply_is_served_from_any_byte(server: SchoolServer) -> None:
    body, reply_id = big_reply(server)
    url = f"/api/v1/sync/replies/{reply_id}"
    whole = server.client.get(url, headers=server.headers("math"))
    assert (whole.status_code, whole.content) == (200, body)
    rest = server.client.get(url, headers=server.headers("math") | {"Range": "bytes=1000-"})
    assert rest.status_code == 206
    assert rest.content == body[1000:]
    assert rest.headers["Content-Range"] == f"bytes 1000-{len(body) - 1}/{len(body)}"


@pytest.mark.parametrize(("value", "status"), [("bytes=0-10", 400), ("lines=5-", 400)])
def test_an_odd_range_is_refused_in_russian(server: SchoolServer, value: str, status: int) -> None:
    _, reply_id = big_reply(server)
    response = server.client.get(
        f"/api/v1/sync/replies/{reply_id}", headers=server.headers("math") | {"Range": value}
    )
    assert_russian_error(response, status)


def test_a_range_past_the_end_is_416(server: SchoolServer) -> None:
    body, reply_id = big_reply(server)
    response = server.client.get(
        f"/api/v1/sync/replies/{reply_id}",
        headers=server.headers("math") | {"Range": f"bytes={len(body)}-"},
    )
    assert_russian_error(response, 416)


def test_only_the_device_that_asked_gets_the_reply(server: SchoolServer) -> None:
    _, reply_id = big_reply(server)
    url = f"/api/v1/sync/replies/{reply_id}"
    _, spare_token = server.add_device("math")  # the same teacher's other laptop
    for headers in (server.headers("deputy"), {"Authorization": f"Bearer {spare_token}"}):
        assert_russian_error(server.client.get(url, headers=headers), 404)


def test_a_small_reply_is_not_kept(server: SchoolServer) -> None:
    response = server.post_sync("math", wire.encode(wire.SyncRequest()))
    assert response.status_code == 200
    assert wire.REPLY_ID_HEADER not in response.headers
    assert server.count("sync_replies") == 0


def test_a_readers_deletions_of_unseen_items_leave_no_trace(server: SchoolServer) -> None:
    """Hole 6 of issue 12: a read-only class teacher pushed only deletions of items the
    server had not seen yet (the journal's teacher's next entries); the server answered
    `unchanged` but kept the pending deletion in its cached document, and the teacher's next
    valid push was refused whole and quarantined under the teacher's name."""
    math = Writer(server.tokens["math"])
    base = Replica(MATH_5.replace("-5~", "-6~"))
    base.add(math.lesson("L1"))
    assert server.push("math", base.push()).outcome is Outcome.ACCEPTED

    teacher = Replica(base.journal_id, state=base.doc.snapshot())
    since = teacher.doc.state_vector()
    teacher.add(math.lesson("L2"))  # not yet sent: the server has not seen it
    entries = teacher.doc.diff(since)
    # the attacker holds a copy of it (a shared laptop, a USB bundle) and deletes the entry
    copy = Replica(base.journal_id, state=teacher.doc.snapshot())
    sv_with_entry = copy.doc.state_vector()
    with copy.doc._doc.transaction():
        del copy.doc._events[next(k for k in copy.doc.events() if k not in base.doc.events())]
    deletion_only = copy.doc.diff(sv_with_entry)
    reply = server.push("rus", copy.push(deletion_only))  # rus is class 6's class teacher
    assert reply.outcome in (Outcome.UNCHANGED, Outcome.REFUSED)
    before = server.snapshot()

    reply = server.push("math", teacher.push(entries))
    assert reply.outcome is Outcome.ACCEPTED
    assert server.count("events", base.journal_id) == 2
    assert not [q for q in server.quarantine() if q["login"] == "math"]
    assert server.snapshot() != before
