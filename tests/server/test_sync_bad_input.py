"""The sync endpoint against bad input: every case is answered in Russian and changes nothing.

Bodies that are not a sync request at all are 400 (or 413) before any journal is looked at.
Well-formed requests whose update is malformed, carries a malformed event or forges a server
refusal are REFUSED whole and quarantined. In every case the journal tables (update log,
events, consolidated rows, client id bindings) are exactly as they were.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pycrdt
import pytest

from shared import wire
from shared.journal import EVENTS_ROOT, JournalDoc, new_client_id
from shared.model import SERVER_AUTHOR, RefusalWithdrawn, Refused, encode_event
from tests.factories import MATH_5
from tests.server.school_kit import (
    SYNC_TABLES,
    Replica,
    SchoolServer,
    Writer,
    assert_russian_error,
    is_russian,
    template,
)

Outcome = wire.Outcome


@pytest.fixture
def server(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SchoolServer]:
    """The school with one accepted push in MATH_5, so that "unchanged" means something."""
    db, tokens = template(tmp_path_factory.getbasetemp())
    with SchoolServer(db, tokens, tmp_path) as school:
        math = Writer(tokens["math"])
        replica = Replica(MATH_5)
        replica.add(math.lesson("L1"), math.mark("L1", "s-1", 4), math.attendance("L1", "s-2"))
        assert school.push("math", replica.push()).outcome is Outcome.ACCEPTED
        assert school.count("events") == 3
        yield school


@pytest.fixture
def math(server: SchoolServer) -> Writer:
    return Writer(server.tokens["math"], hour=13)


def server_state(server: SchoolServer) -> bytes:
    return server.document("math", MATH_5)


def request_body(*pushes: wire.JournalPush, protocol: int = wire.PROTOCOL_VERSION) -> bytes:
    return wire.encode(wire.SyncRequest(protocol=protocol, journals=pushes))


def raw_push(server: SchoolServer, fill) -> wire.JournalPush:
    """A push made with bare pycrdt on top of the server's state: fill(doc, events_map)."""
    state = server_state(server)
    doc = pycrdt.Doc(client_id=new_client_id())
    events = doc.get(EVENTS_ROOT, type=pycrdt.Map)
    doc.apply_update(state)
    sv = doc.get_state()
    fill(doc, events)
    return wire.JournalPush(
        journal_id=MATH_5, state_vector=doc.get_state(), update=doc.get_update(sv)
    )


def refuse_whole(server: SchoolServer, push: wire.JournalPush, rule: str) -> wire.JournalReply:
    """Send `push` as math; assert REFUSED for `rule`, quarantined, nothing else changed."""
    before = server.snapshot()
    reply = server.push("math", push)
    assert reply.outcome is Outcome.REFUSED, reply
    assert reply.rule == rule, reply
    assert is_russian(reply.message_ru)
    assert server.snapshot() == before
    (row,) = server.quarantine()
    assert (row["rule"], row["login"], row["journal_id"]) == (rule, "math", MATH_5)
    assert is_russian(row["message_ru"])
    assert bytes(row["body"]) == push.update
    # The reply lets the sender rebuild on the server's state.
    assert set(JournalDoc(reply.update).events()) == set(JournalDoc(server_state(server)).events())
    return reply


def rejected_request(server: SchoolServer, body: bytes, status: int = 400) -> dict:
    tables = (*SYNC_TABLES, "quarantine")
    before = server.snapshot(tables)
    answer = assert_russian_error(server.post_sync("math", body), status)
    assert server.snapshot(tables) == before
    return answer


# ----------------------------------------------------------------- not a sync request


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"garbage \x00\xff bytes",
        zlib.compress(b"\xc1 not msgpack"),
        zlib.compress(msgspec.msgpack.encode({"type": "sync", "journals": "nope"})),
        zlib.compress(msgspec.msgpack.encode([1, 2, 3])),
        zlib.compress(b"\x00" * 10) + b"trailing",
        wire.encode(wire.SyncResponse()),  # a reply is not a request
    ],
    ids=[
        "empty",
        "garbage",
        "not_msgpack",
        "wrong_shape",
        "wrong_type",
        "trailing",
        "a_reply",
    ],
)
def test_garbage_is_400_in_russian(server: SchoolServer, body: bytes) -> None:
    answer = rejected_request(server, body)
    assert answer["error"] == "bad_sync_body"


def test_a_body_over_the_limit_is_413(server: SchoolServer) -> None:
    rejected_request(server, b"\x00" * (wire.MAX_REQUEST_BYTES + 1), status=413)


def test_a_zip_bomb_is_400(server: SchoolServer) -> None:
    bomb = zlib.compress(b"\x00" * (wire.MAX_INFLATED_BYTES + 1024), 9)
    assert len(bomb) < wire.MAX_REQUEST_BYTES // 64
    answer = rejected_request(server, bomb)
    assert answer["error"] == "bad_sync_body"


@pytest.mark.parametrize("protocol", [0, 2, 999])
def test_a_wrong_protocol_version_is_400_in_russian(server: SchoolServer, protocol: int) -> None:
    push = wire.JournalPush(journal_id=MATH_5, state_vector=b"\x00")
    answer = rejected_request(server, request_body(push, protocol=protocol))
    assert answer["error"] == "protocol_version"
    assert str(protocol) in answer["message"]


@pytest.mark.parametrize(
    "state_vector",
    [b"", b"\xff", b"\x01\x05", b"\x00\x00", b"\x01" + b"\xff" * 12],
    ids=["empty", "truncated", "missing_clock", "trailing", "overlong_varint"],
)
def test_a_malformed_state_vector_is_400(server: SchoolServer, state_vector: bytes) -> None:
    push = wire.JournalPush(journal_id=MATH_5, state_vector=state_vector)
    answer = rejected_request(server, request_body(push))
    assert answer["error"] == "bad_sync_body"


def test_a_sync_body_without_a_token_is_401_and_changes_nothing(server: SchoolServer) -> None:
    before = server.snapshot()
    assert_russian_error(server.post_sync(None, request_body()), 401)
    assert server.snapshot() == before


# ----------------------------------------------------------------- malformed updates


@pytest.mark.parametrize(
    "update",
    [b"\x01\x02garbage", b"\xff" * 32, b"\x05"],
    ids=["garbage", "ones", "truncated"],
)
def test_a_malformed_update_is_refused_whole(server: SchoolServer, update: bytes) -> None:
    push = wire.JournalPush(journal_id=MATH_5, state_vector=b"\x00", update=update)
    refuse_whole(server, push, "malformed_update")


def _mark_json(math: Writer, **changes) -> tuple[str, str]:
    """(event id, JSON) of a mark for s-1 in L1, with fields changed or removed (None)."""
    mark = math.mark("L1", "s-1", 5)
    data = json.loads(encode_event(mark))
    for field, value in changes.items():
        if value is None:
            data.pop(field)
        else:
            data[field] = value
    return mark.id, json.dumps(data, ensure_ascii=False)


MALFORMED = {
    "value_is_a_word": lambda m: _mark_json(m, value="пять"),
    "missing_student": lambda m: _mark_json(m, student_id=None),
    "missing_id": lambda m: _mark_json(m, id=None),
    "unknown_kind": lambda m: _mark_json(m, kind="grade"),
    "unknown_field": lambda m: _mark_json(m, comment="лишнее поле"),
    "bad_id_characters": lambda m: ("ключ", _mark_json(m, id="ключ")[1]),
    "key_is_not_its_id": lambda m: ("other-key", _mark_json(m)[1]),
    "not_json": lambda m: ("e1", "пять"),
    "json_list": lambda m: ("e1", "[1, 2]"),
}


@pytest.mark.parametrize("case", MALFORMED)
def test_a_malformed_event_is_refused_whole(server: SchoolServer, math: Writer, case: str) -> None:
    key, raw = MALFORMED[case](math)

    def fill(doc: pycrdt.Doc, events: pycrdt.Map) -> None:
        events[key] = raw

    push = raw_push(server, fill)
    reply = refuse_whole(server, push, "malformed_event")
    assert reply.event_ids == (key,)


def test_a_valid_event_does_not_carry_a_malformed_one_in(
    server: SchoolServer, math: Writer
) -> None:
    good = math.mark("L1", "s-3", 3)
    key, raw = _mark_json(math, value="пять")

    def fill(doc: pycrdt.Doc, events: pycrdt.Map) -> None:
        with doc.transaction():
            events[good.id] = encode_event(good)
            events[key] = raw

    push = raw_push(server, fill)
    refuse_whole(server, push, "malformed_event")


@pytest.mark.parametrize("value", [5, 4.5, True, None, [1, 2]], ids=repr)
def test_a_map_value_that_is_not_text_is_refused_whole(
    server: SchoolServer, math: Writer, value: object
) -> None:
    def fill(doc: pycrdt.Doc, events: pycrdt.Map) -> None:
        events["e1"] = value

    push = raw_push(server, fill)
    refuse_whole(server, push, "malformed_event")


def test_an_event_held_in_a_shared_text_is_refused_whole(
    server: SchoolServer, math: Writer
) -> None:
    """A Y.Text reads back as the event's JSON, but its characters could be edited later, so
    the event would not be immutable: only plain strings are journal entries."""
    mark = math.mark("L1", "s-3", 2)

    def fill(doc: pycrdt.Doc, events: pycrdt.Map) -> None:
        events[mark.id] = pycrdt.Text(encode_event(mark))

    push = raw_push(server, fill)
    reply = refuse_whole(server, push, "unexpected_content")
    assert reply.event_ids == (mark.id,)


def test_an_event_held_in_a_shared_map_is_refused_whole(server: SchoolServer, math: Writer) -> None:
    lesson = math.lesson("L2", topic="Проценты")

    def fill(doc: pycrdt.Doc, events: pycrdt.Map) -> None:
        events[lesson.id] = pycrdt.Map(json.loads(encode_event(lesson)))

    push = raw_push(server, fill)
    refuse_whole(server, push, "unexpected_content")
    assert server.rows("SELECT lesson_id FROM lessons") == [{"lesson_id": "L1"}]


def test_content_outside_the_events_map_is_refused_whole(server: SchoolServer) -> None:
    def fill(doc: pycrdt.Doc, events: pycrdt.Map) -> None:
        doc.get("notes", type=pycrdt.Map)["x"] = "посторонние данные"

    push = raw_push(server, fill)
    refuse_whole(server, push, "unexpected_content")


def test_content_outside_the_events_map_is_refused_even_with_a_valid_event(
    server: SchoolServer, math: Writer
) -> None:
    good = math.mark("L1", "s-3", 3)

    def fill(doc: pycrdt.Doc, events: pycrdt.Map) -> None:
        with doc.transaction():
            events[good.id] = encode_event(good)
            doc.get("notes", type=pycrdt.Text).insert(0, "посторонние данные " * 100)

    push = raw_push(server, fill)
    refuse_whole(server, push, "unexpected_content")


# ----------------------------------------------------------------- forged refusals


@pytest.mark.parametrize("signed_as", ["math", "server"])
def test_a_refusal_written_by_a_client_is_refused_whole(
    server: SchoolServer, math: Writer, signed_as: str
) -> None:
    """Only the server refuses entries; a client cannot strike out a colleague's mark."""
    (target,) = [r["id"] for r in server.rows("SELECT id FROM events WHERE kind = 'mark'")]
    stamp = math.stamp({})
    if signed_as == "server":
        stamp |= {"author": SERVER_AUTHOR, "device": "server"}
    refusal = Refused(**stamp, supersedes=(target,), rule="no_mark_for_absent_pupil", reason="!")
    replica = Replica(MATH_5, state=server_state(server))
    sv = replica.doc.state_vector()
    replica.add(refusal)
    reply = refuse_whole(server, replica.push(since=sv), "forged_refusal")
    assert reply.event_ids == (refusal.id,)
    assert server.rows("SELECT status FROM events WHERE id = ?", [target]) == [
        {"status": "current"}
    ]
    assert server.count("marks") == 1


@pytest.mark.parametrize("signed_as", ["math", "server"])
def test_a_withdrawal_of_a_refusal_written_by_a_client_is_refused_whole(
    server: SchoolServer, math: Writer, signed_as: str
) -> None:
    """Only reopening a year withdraws a refusal (issue 12): a client cannot bring back its
    own refused mark by writing the withdrawal itself."""
    replica = Replica(MATH_5, state=server_state(server))
    sv = replica.doc.state_vector()
    replica.add(refused := math.mark("L1", "s-2", 5))  # s-2 is absent from L1
    assert server.push("math", replica.push(since=sv)).event_ids == (refused.id,)
    stamp = math.stamp({})
    if signed_as == "server":
        stamp |= {"author": SERVER_AUTHOR, "device": "server"}
    withdrawal = RefusalWithdrawn(**stamp, supersedes=(f"refusal-{refused.id}",), reason="!")
    replica = Replica(MATH_5, state=server_state(server))
    sv = replica.doc.state_vector()
    replica.add(withdrawal)
    reply = refuse_whole(server, replica.push(since=sv), "forged_refusal")
    assert reply.event_ids == (withdrawal.id,)
    assert server.rows("SELECT status FROM events WHERE id = ?", [refused.id]) == [
        {"status": "refused"}
    ]
    assert server.count("marks") == 1
    assert server.rows("SELECT id FROM events WHERE kind = 'refusal-withdrawn'") == []
