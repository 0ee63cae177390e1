"""The sync endpoint end to end: real Yjs documents in, consolidated SQLite rows out.

Raw tests speak the wire format (shared.wire) with documents built by shared.journal, the way
any client would; session tests drive the teacher's client service layer against the same
server. Every refusal is checked for what it must leave behind: nothing stored (or, for a
broken rule, a server-authored refusal), a quarantine row with its reason, and the entries
still visible on the teacher's laptop.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import msgspec
import pycrdt
import pytest
from litestar.testing import TestClient

from client_tui.services.session import Session
from client_tui.services.store import REFUSED
from server.app import create_app
from server.storage import directory as directory_storage
from server.storage.db import transaction
from shared import wire
from shared.journal import EVENTS_ROOT, JournalDoc, decode_state_vector, encode_state_vector
from shared.model import (
    SERVER_AUTHOR,
    AttendanceCode,
    Refused,
    TeachingAssignment,
    decode_event,
    encode_event,
)
from tests.factories import CLASS_6, MATH_5, MATH_6, PASSWORD, RUSSIAN_5
from tests.server.school_kit import (
    BASE_URL,
    LESSON_DAY,
    Replica,
    SchoolServer,
    Writer,
    is_russian,
    template,
)

Outcome = wire.Outcome


@pytest.fixture
def server(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SchoolServer]:
    db, tokens = template(tmp_path_factory.getbasetemp())
    with SchoolServer(db, tokens, tmp_path) as school:
        yield school


@pytest.fixture
def laptop(server: SchoolServer, tmp_path: Path) -> Iterator[Callable[..., Session]]:
    """laptop("math") -> a logged-in teacher's Session talking to `server`."""
    sessions: list[Session] = []

    def make(
        login: str, *, name: str | None = None, http: TestClient | None = None, transport=None
    ) -> Session:
        session = Session(
            tmp_path / "laptops" / (name or login),
            http=http or server.client,
            transport=transport,
        )
        session.login(BASE_URL, login, PASSWORD, device_name=f"ноутбук {name or login}")
        sessions.append(session)
        return session

    yield make
    for session in sessions:
        session.close()


def writer(server: SchoolServer, device: str) -> Writer:
    return Writer(server.tokens[device])


def events_of(server: SchoolServer, journal_id: str) -> dict[str, dict]:
    rows = server.rows("SELECT * FROM events WHERE journal_id = ?", [journal_id])
    return {r["id"]: r for r in rows}


def assert_quarantined(
    server: SchoolServer,
    *,
    rule: str,
    device: str,
    journal_id: str,
    body: bytes,
    event_ids: list[str] | None = None,
) -> dict:
    """The one quarantine row: who sent what, why it was refused, the update kept verbatim."""
    (row,) = server.quarantine()
    token = server.tokens[device]
    assert (row["rule"], row["journal_id"]) == (rule, journal_id)
    assert (row["login"], row["device_id"]) == (token["login"], token["device_id"])
    assert is_russian(row["message_ru"])
    assert bytes(row["body"]) == body
    if event_ids is not None:
        assert sorted(json.loads(row["event_ids"])) == sorted(event_ids)
    return row


def assert_refused_whole(
    server: SchoolServer, reply: wire.JournalReply, rule: str, before: dict
) -> None:
    """REFUSED for `rule`, in Russian, with the server's state to rebuild on; nothing stored."""
    assert reply.outcome is Outcome.REFUSED, reply
    assert reply.rule == rule
    assert is_russian(reply.message_ru)
    assert server.snapshot() == before


# ----------------------------------------------------------------- accepted pushes


def test_a_teachers_valid_push_is_accepted_and_consolidated(server: SchoolServer) -> None:
    math = writer(server, "math")
    lesson = math.lesson("L1", topic="Сложение дробей", homework="№ 12")
    absent = math.attendance("L1", "s-2")
    mark = math.mark("L1", "s-1", 5)
    replica = Replica(MATH_5)
    replica.add(lesson, absent, mark)

    reply = server.push("math", replica.push())

    assert reply.outcome is Outcome.ACCEPTED, reply
    assert reply.event_ids == ()
    assert decode_state_vector(reply.state_vector) == decode_state_vector(
        replica.doc.state_vector()
    )
    (row,) = server.rows("SELECT * FROM lessons")
    assert (row["journal_id"], row["lesson_id"], row["date"]) == (MATH_5, "L1", "2026-10-05")
    assert (row["topic"], row["homework"], row["event_id"]) == (
        "Сложение дробей",
        "№ 12",
        lesson.id,
    )
    (row,) = server.rows("SELECT * FROM marks")
    assert (row["student_id"], row["value"], row["event_id"], row["author"]) == (
        "s-1",
        5,
        mark.id,
        "t-math",
    )
    (row,) = server.rows("SELECT * FROM attendance")
    assert (row["student_id"], row["code"], row["event_id"]) == ("s-2", "absent", absent.id)
    stored = events_of(server, MATH_5)
    assert set(stored) == {lesson.id, absent.id, mark.id}
    assert {r["status"] for r in stored.values()} == {"current"}
    assert decode_event(stored[mark.id]["body"]) == mark
    assert server.count("journal_updates", MATH_5) == 1
    assert server.quarantine() == []
    # The client id is now bound to the device that first used it.
    (bound,) = server.rows("SELECT * FROM client_ids WHERE client_id = ?", [replica.client_id])
    assert bound["device_id"] == server.tokens["math"]["device_id"]


def test_the_same_request_twice_changes_nothing(server: SchoolServer) -> None:
    math = writer(server, "math")
    replica = Replica(MATH_5)
    replica.add(math.lesson("L1"), math.mark("L1", "s-1", 4), math.attendance("L1", "s-3"))
    body = wire.encode(wire.SyncRequest(journals=(replica.push(),)))

    first = server.post_sync("math", body)
    after_first = server.snapshot()
    second = server.post_sync("math", body)

    assert wire.decode(first.content).journals[0].outcome is Outcome.ACCEPTED
    (reply,) = wire.decode(second.content).journals
    assert reply.outcome is Outcome.UNCHANGED
    assert server.snapshot() == after_first
    assert server.count("events") == 3
    assert server.count("marks") == 1


def test_a_stale_or_reordered_repeat_changes_nothing(server: SchoolServer) -> None:
    """A retried old request arriving after a newer one is a duplicate, not a change."""
    math = writer(server, "math")
    replica = Replica(MATH_5)
    first = replica.add(math.lesson("L1"))
    old_push = replica.push(first)
    replica.add(math.mark("L1", "s-1", 3))
    assert server.push("math", replica.push()).outcome is Outcome.ACCEPTED
    before = server.snapshot()

    reply = server.push("math", old_push)

    assert reply.outcome is Outcome.UNCHANGED
    assert server.snapshot() == before
    # The reply still carries what that old request's sender lacks: the mark.
    stale = JournalDoc(first)
    stale.apply(reply.update)
    assert set(stale.events()) == set(replica.doc.events())


# ----------------------------------------------------------------- events that break a rule


def test_a_mark_for_an_absent_pupil_is_stored_but_refused_by_the_server(
    server: SchoolServer,
) -> None:
    math = writer(server, "math")
    lesson, absent = math.lesson("L1"), math.attendance("L1", "s-2", AttendanceCode.ABSENT)
    bad = math.mark("L1", "s-2", 5)  # later than the absence: this one breaks 002 §3.5
    good = math.mark("L1", "s-1", 4)
    replica = Replica(MATH_5)
    replica.add(lesson, absent, bad, good)

    reply = server.push("math", replica.push())

    assert reply.outcome is Outcome.ACCEPTED, reply
    assert reply.event_ids == (bad.id,)
    # Stored (nothing a teacher typed is lost) but superseded by the server's refusal ...
    stored = events_of(server, MATH_5)
    assert stored[bad.id]["status"] == "refused"
    assert decode_event(stored[bad.id]["body"]) == bad
    (refusal_row,) = [r for r in stored.values() if r["kind"] == "refusal"]
    refusal = decode_event(refusal_row["body"])
    assert isinstance(refusal, Refused)
    assert (refusal.author, refusal.supersedes, refusal.rule) == (
        SERVER_AUTHOR,
        (bad.id,),
        "no_mark_for_absent_pupil",
    )
    assert is_russian(refusal.reason)
    # ... and never in the consolidated rows.
    marks = server.rows("SELECT student_id, event_id FROM marks")
    assert marks == [{"student_id": "s-1", "event_id": good.id}]
    assert server.quarantine() == []
    # The reply carries the refusal, so the sender's replica converges on it.
    replica.take(reply)
    assert replica.doc.events()[refusal.id] == refusal
    assert replica.doc.state_vector() == reply.state_vector


def test_the_sender_sees_a_refused_mark_after_sync(
    server: SchoolServer, laptop: Callable[..., Session]
) -> None:
    """Two laptops of one teacher: one marks a pupil absent, the other (offline) gives the
    pupil a mark later. The mark is refused by the server, and its author sees why."""
    first = laptop("math")
    lesson = first.book.record_lesson(MATH_5, date=LESSON_DAY, topic="Дроби")
    assert first.sync().complete
    second = laptop("math", name="second")
    second.sync()
    second.book.mark_attendance(MATH_5, lesson.lesson_id, ["s-2"], AttendanceCode.ABSENT)
    assert second.sync().complete
    time.sleep(0.005)  # the mark is stamped after the absence
    mark = first.book.give_mark(MATH_5, lesson.lesson_id, "s-2", 4)

    report = first.sync()

    assert report.complete
    assert report.refused == 1
    (entry,) = first.rejected()
    assert (entry.event_id, entry.state, entry.rule) == (
        mark.id,
        REFUSED,
        "no_mark_for_absent_pupil",
    )
    assert is_russian(entry.message)
    assert decode_event(entry.body) == mark
    status = first.status()
    assert (status.pending, status.refused) == (0, 1)
    # Nothing lost: the mark stays in the journal, superseded by the server's refusal.
    state = first.book.state(MATH_5)
    assert state.events[mark.id] == mark
    assert state.refusals[mark.id].author == SERVER_AUTHOR
    assert state.marks(lesson.lesson_id, "s-2") == []
    assert server.rows("SELECT * FROM marks") == []
    assert events_of(server, MATH_5)[mark.id]["status"] == "refused"
    # Every replica converges on the refusal.
    second.sync()
    assert mark.id in second.book.state(MATH_5).refusals


# ----------------------------------------------------------------- refused whole


def test_a_class_teacher_cannot_write_the_subjects_of_their_class(server: SchoolServer) -> None:
    """rus is class teacher of 6: reads MATH_6 (000 §5.5) but may not write it (000 §4.5)."""
    rus = writer(server, "rus")
    replica = Replica(MATH_6)
    replica.add(lesson := rus.lesson("L1"), mark := rus.mark("L1", "s-5", 5))
    push = replica.push()
    before = server.snapshot()

    reply = server.push("rus", push)

    assert_refused_whole(server, reply, "no_write_access", before)
    assert set(reply.event_ids) == {lesson.id, mark.id}
    assert JournalDoc(reply.update).events() == {}  # the server's state, to rebuild on
    assert_quarantined(
        server,
        rule="no_write_access",
        device="rus",
        journal_id=MATH_6,
        body=push.update,
        event_ids=[lesson.id, mark.id],
    )


def test_refused_entries_stay_visible_after_the_rebuild(
    server: SchoolServer, laptop: Callable[..., Session]
) -> None:
    """rus was assigned math in 6 when the laptop fetched its directory, then the assignment
    was withdrawn; what rus typed offline is refused whole but never silently lost."""
    assignment = TeachingAssignment(teacher_id="t-rus", class_id=CLASS_6, subject_id="math")
    with server.db() as conn, transaction(conn):
        directory_storage.upsert(conn, [assignment])
    rus = laptop("rus")
    assert rus.book.info(MATH_6).writable
    with server.db() as conn, transaction(conn):
        conn.execute(
            "DELETE FROM teaching WHERE teacher_id = 't-rus' AND class_id = ? "
            "AND subject_id = 'math'",
            (CLASS_6,),
        )
    lesson = rus.book.record_lesson(MATH_6, date=LESSON_DAY, topic="Уравнения")
    mark = rus.book.give_mark(MATH_6, lesson.lesson_id, "s-5", 5)
    before = server.snapshot()

    report = rus.sync()

    assert report.complete
    assert report.rebuilt == [MATH_6]
    assert server.snapshot() == before
    (row,) = server.quarantine()
    assert (row["rule"], row["login"], row["journal_id"]) == ("no_write_access", "rus", MATH_6)
    assert sorted(json.loads(row["event_ids"])) == sorted([lesson.id, mark.id])
    rejected = {e.event_id: e for e in rus.rejected()}
    assert set(rejected) == {lesson.id, mark.id}
    for entry in rejected.values():
        assert (entry.state, entry.rule) == (REFUSED, "no_write_access")
        assert is_russian(entry.message)
    assert decode_event(rejected[mark.id].body) == mark
    # The rebuilt journal holds the server's state; the next sync sends nothing refused again.
    assert rus.book.state(MATH_6).events == {}
    assert rus.sync().complete
    assert len(server.quarantine()) == 1
    assert {e.event_id for e in rus.rejected()} == {lesson.id, mark.id}
    assert rus.status().pending == 0


@pytest.mark.parametrize("journal_id", [MATH_5, "2026-2027~2026-2027-5~chemistry"])
def test_a_journal_the_teacher_cannot_read_is_refused_and_quarantined(
    server: SchoolServer, journal_id: str
) -> None:
    rus = writer(server, "rus")  # teaches russian in 5: no access to math in 5
    replica = Replica(journal_id)
    replica.add(lesson := rus.lesson("L1"))
    push = replica.push()
    before = server.snapshot()

    reply = server.push("rus", push)

    assert_refused_whole(server, reply, "no_access", before)
    assert reply.update == b""  # nothing of a journal one may not read
    assert_quarantined(
        server, rule="no_access", device="rus", journal_id=journal_id, body=push.update
    )
    assert lesson.id not in events_of(server, journal_id)


def test_a_forged_client_id_is_refused(server: SchoolServer) -> None:
    """Device B (the same teacher's second laptop) reuses the Yjs client id of device A."""
    first = writer(server, "math")
    a = Replica(MATH_5)
    a.add(first.lesson("L1"))
    assert server.push("math", a.push()).outcome is Outcome.ACCEPTED
    state = server.document("math-2", MATH_5)
    b = Replica(MATH_5, client_id=a.client_id, state=state)
    b.add(writer(server, "math-2").mark("L1", "s-1", 5))
    push = b.push(since=JournalDoc(state).state_vector())
    before = server.snapshot()

    reply = server.push("math-2", push)

    assert_refused_whole(server, reply, "forged_client_id", before)
    assert_quarantined(
        server, rule="forged_client_id", device="math-2", journal_id=MATH_5, body=push.update
    )
    # Under its own client id the same entry is welcome.
    honest = Replica(MATH_5, state=state)
    honest.add(writer(server, "math-2").mark("L1", "s-1", 5))
    assert server.push("math-2", honest.push()).outcome is Outcome.ACCEPTED


def test_the_servers_own_client_id_cannot_be_borrowed(server: SchoolServer) -> None:
    math = writer(server, "math")
    replica = Replica(MATH_5)
    replica.add(math.lesson("L1"), math.attendance("L1", "s-2"), math.mark("L1", "s-2", 5))
    reply = server.push("math", replica.push())  # the server writes a refusal ...
    replica.take(reply)
    (row,) = server.rows("SELECT value FROM meta WHERE key = 'server_client_id'")
    server_client = int(row["value"])
    assert server_client in decode_state_vector(reply.state_vector)  # ... under its own id
    forger = Replica(MATH_5, client_id=server_client, state=replica.doc.snapshot())
    forger.add(math.mark("L1", "s-1", 5))
    before = server.snapshot()

    reply = server.push("math", forger.push(since=replica.doc.state_vector()))

    assert_refused_whole(server, reply, "forged_client_id", before)


@pytest.mark.parametrize(
    "fields",
    [{"author": "t-rus"}, {"device": "d-someoneelse"}, {"author": "server", "device": "server"}],
    ids=["another_author", "another_device", "the_server"],
)
def test_an_event_signed_by_someone_else_is_refused(server: SchoolServer, fields: dict) -> None:
    math = writer(server, "math")
    replica = Replica(MATH_5)
    replica.add(lesson := math.lesson("L1"), forged := math.mark("L1", "s-1", 2, **fields))
    push = replica.push()
    before = server.snapshot()

    reply = server.push("math", push)

    assert_refused_whole(server, reply, "forged_author", before)
    assert reply.event_ids == (forged.id,)
    assert_quarantined(
        server,
        rule="forged_author",
        device="math",
        journal_id=MATH_5,
        body=push.update,
        event_ids=[forged.id],
    )
    assert lesson.id not in events_of(server, MATH_5)


def _raw_events(state: bytes, client_id: int) -> tuple[pycrdt.Doc, pycrdt.Map]:
    """A bare pycrdt document, to do what JournalDoc never does (overwrite, delete)."""
    doc = pycrdt.Doc(client_id=client_id)
    events = doc.get(EVENTS_ROOT, type=pycrdt.Map)
    doc.apply_update(state)
    return doc, events


@pytest.mark.parametrize("change", ["overwrite", "delete"])
def test_changing_an_existing_event_is_refused(server: SchoolServer, change: str) -> None:
    math = writer(server, "math")
    replica = Replica(MATH_5)
    replica.add(math.lesson("L1"), mark := math.mark("L1", "s-1", 2))
    assert server.push("math", replica.push()).outcome is Outcome.ACCEPTED
    server_sv = replica.doc.state_vector()
    doc, events = _raw_events(replica.doc.snapshot(), replica.client_id)  # the same device
    if change == "overwrite":
        events[mark.id] = encode_event(msgspec.structs.replace(mark, value=5))
    else:
        del events[mark.id]
    update = doc.get_update(server_sv)
    push = wire.JournalPush(journal_id=MATH_5, state_vector=doc.get_state(), update=update)
    before = server.snapshot()

    reply = server.push("math", push)

    assert_refused_whole(server, reply, "events_are_immutable", before)
    assert reply.event_ids == (mark.id,)
    assert server.rows("SELECT value FROM marks") == [{"value": 2}]
    assert_quarantined(
        server, rule="events_are_immutable", device="math", journal_id=MATH_5, body=update
    )


# ----------------------------------------------------------------- resend and budget


def test_an_update_with_missing_dependencies_asks_for_a_resend(server: SchoolServer) -> None:
    math = writer(server, "math")
    replica = Replica(MATH_5)
    replica.add(math.lesson("L1"))
    tail = replica.add(math.mark("L1", "s-1", 5))  # depends on the lesson's Yjs item
    before = server.snapshot()

    reply = server.push("math", replica.push(tail))

    assert reply.outcome is Outcome.RESEND
    assert is_russian(reply.message_ru)
    assert server.snapshot() == before
    assert server.quarantine() == []
    # Diffing against the server's state vector from the reply completes it.
    again = server.push("math", replica.push(since=reply.state_vector))
    assert again.outcome is Outcome.ACCEPTED
    assert set(events_of(server, MATH_5)) == set(replica.doc.events())


def test_a_client_completes_after_a_resend(
    server: SchoolServer, laptop: Callable[..., Session]
) -> None:
    """The laptop wrongly believes the server has its lesson and sends only the mark."""
    replies: list[wire.SyncResponse] = []
    holder: list[Session] = []

    def transport(body: bytes) -> bytes:
        reply = holder[0].api().sync(body)
        replies.append(wire.decode(reply))
        return reply

    math = laptop("math", transport=transport)
    holder.append(math)
    lesson = math.book.record_lesson(MATH_5, date=LESSON_DAY, topic="Дроби")
    believed = math.book.doc(MATH_5).state_vector()
    mark = math.book.give_mark(MATH_5, lesson.lesson_id, "s-1", 5)
    with math.store.transaction():
        math.store.set_server_sv(MATH_5, believed)

    report = math.sync()

    outcomes = [r.outcome for reply in replies for r in reply.journals if r.journal_id == MATH_5]
    assert outcomes[0] is Outcome.RESEND
    assert Outcome.ACCEPTED in outcomes
    assert report.complete
    assert math.status().pending == 0
    assert math.rejected() == []
    assert {lesson.id, mark.id} <= set(events_of(server, MATH_5))
    assert server.quarantine() == []


def test_a_reply_over_budget_converges_over_several_rounds(
    server: SchoolServer, laptop: Callable[..., Session]
) -> None:
    math, rus = writer(server, "math"), writer(server, "rus")
    for device, author, journal_id in (
        ("math", math, MATH_5),
        ("math", math, MATH_6),
        ("rus", rus, RUSSIAN_5),
    ):
        replica = Replica(journal_id)
        replica.add(
            author.lesson("L1", topic="Тема " * 50),
            *(author.mark("L1", f"s-{n}", 5) for n in ((1, 2) if "5" in journal_id else (5, 6))),
        )
        assert server.push(device, replica.push()).outcome is Outcome.ACCEPTED
    tight = msgspec.structs.replace(server.config, reply_budget_bytes=64)
    replies: list[wire.SyncResponse] = []
    holder: list[Session] = []

    def transport(body: bytes) -> bytes:
        reply = holder[0].api().sync(body)
        replies.append(wire.decode(reply))
        return reply

    with TestClient(create_app(tight), base_url=BASE_URL) as small:
        deputy = laptop("deputy", http=small, transport=transport)
        holder.append(deputy)
        report = deputy.sync()

    assert report.complete
    assert report.rounds >= 3
    assert any(r.outcome is Outcome.DEFERRED for reply in replies for r in reply.journals)
    # each reply stops adding journals once the budget is spent (the first, answering a
    # fresh laptop's digest, carries only state vectors)
    assert [sum(1 for r in reply.journals if r.update) for reply in replies] == [0, 1, 1, 1]
    for journal_id in (MATH_5, MATH_6, RUSSIAN_5):
        assert set(deputy.book.doc(journal_id).events()) == set(events_of(server, journal_id))


def test_the_document_endpoint_returns_the_journal(server: SchoolServer) -> None:
    math = writer(server, "math")
    replica = Replica(MATH_5)
    replica.add(
        math.lesson("L1"), math.attendance("L1", "s-2"), math.mark("L1", "s-2", 5)
    )  # the mark will be refused: the refusal is part of the document too
    reply = server.push("math", replica.push())
    replica.take(reply)
    stored = events_of(server, MATH_5)
    assert len(stored) == 4

    for reader in ("math", "deputy", "records"):
        body = server.document(reader, MATH_5)
        doc = JournalDoc(body)
        assert doc.events() == replica.doc.events()
        assert doc.raw_events() == {i: r["body"] for i, r in stored.items()}
        # as clocks, not bytes: Yjs writes a state vector's clients in its map's order
        assert decode_state_vector(doc.state_vector()) == decode_state_vector(reply.state_vector)
    # An empty journal is an empty document, not an error.
    assert JournalDoc(server.document("math", MATH_6)).events() == {}


def test_state_vectors_are_the_standard_yjs_encoding() -> None:
    """The helpers tests rely on agree with pycrdt about state vectors."""
    doc = JournalDoc(client_id=123456)
    doc.add([Writer({"person_id": "t-math", "device_id": "d-1"}).lesson("L1")])
    sv = doc.state_vector()
    assert encode_state_vector(decode_state_vector(sv)) == sv
    assert decode_state_vector(sv) == {123456: 1}
