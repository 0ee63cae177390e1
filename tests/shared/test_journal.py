"""The CRDT journal document: adding events, applying peers' updates, state vectors, diffs."""

from __future__ import annotations

import datetime as dt

import msgspec
import pycrdt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.hlc import format_stamp
from shared.journal import (
    EMPTY_STATE_VECTOR,
    EVENTS_ROOT,
    JournalDoc,
    covers,
    decode_state_vector,
    encode_state_vector,
)
from shared.model import LessonRecorded, MarkGiven, decode_event, encode_event

T0 = 1_791_000_000_000


def lesson(event_id: str = "l1") -> LessonRecorded:
    return LessonRecorded(
        id=event_id,
        author="t-math",
        device="laptop",
        hlc=format_stamp(T0, 0, "laptop"),
        lesson_id="lesson-1",
        date=dt.date(2026, 10, 3),
        topic="Обыкновенные дроби",
    )


def mark(event_id: str, value: int = 5, student: str = "s-1") -> MarkGiven:
    return MarkGiven(
        id=event_id,
        author="t-math",
        device="laptop",
        hlc=format_stamp(T0 + 1000, 0, "laptop"),
        lesson_id="lesson-1",
        student_id=student,
        value=value,
    )


def raw_peer(state: bytes, client_id: int = 999) -> tuple[pycrdt.Doc, pycrdt.Map]:
    """A bare Yjs peer holding `state`, able to do what JournalDoc never does."""
    doc = pycrdt.Doc(client_id=client_id)
    events = doc.get(EVENTS_ROOT, type=pycrdt.Map)
    doc.apply_update(state)
    return doc, events


# ------------------------------------------------------------------ adding and reading


def test_added_events_come_back_decoded() -> None:
    doc = JournalDoc(client_id=1)
    events = [lesson(), mark("m1"), mark("m2", 3, "s-2")]
    doc.add(events)
    assert doc.events() == {e.id: e for e in events}
    assert len(doc) == 3 and "m1" in doc and "m9" not in doc


def test_snapshot_loads_into_a_new_document() -> None:
    doc = JournalDoc(client_id=1)
    doc.add([lesson(), mark("m1")])
    assert JournalDoc(doc.snapshot(), client_id=2).events() == doc.events()


def test_add_refuses_an_existing_id() -> None:
    doc = JournalDoc(client_id=1)
    doc.add([mark("m1", 5)])
    with pytest.raises(ValueError, match="m1"):
        doc.add([mark("m1", 2)])
    assert doc.events()["m1"].value == 5


def test_add_refused_for_one_event_writes_none_of_the_batch() -> None:
    doc = JournalDoc(client_id=1)
    doc.add([mark("m1")])
    before = doc.state_vector()
    with pytest.raises(ValueError):
        doc.add([mark("m2"), mark("m1", 2)])
    with pytest.raises(ValueError):
        doc.add([mark("m3"), mark("m3", 2)])
    assert set(doc.events()) == {"m1"}
    assert doc.state_vector() == before


def test_mark_is_stored_as_json_text_so_five_comes_back_as_int_five() -> None:
    doc = JournalDoc(client_id=1)
    doc.add([mark("m1", 5)])
    _, events = raw_peer(doc.snapshot())
    assert isinstance(events["m1"], str)
    assert doc.raw_events()["m1"] == encode_event(mark("m1", 5))
    value = doc.events()["m1"].value
    assert value == 5 and type(value) is int


def test_entry_that_does_not_decode_is_skipped() -> None:
    doc = JournalDoc(client_id=1)
    doc.add([mark("m1")])
    peer, events = raw_peer(doc.snapshot())
    events["junk"] = '{"kind": "mark", "value": "пять"}'
    doc.apply(peer.get_update(doc.state_vector()))
    assert set(doc.events()) == {"m1"}


# ------------------------------------------------------------------ applying updates


def test_apply_reports_the_added_events() -> None:
    source = JournalDoc(client_id=1)
    update = source.add([lesson(), mark("m1")])
    effect = JournalDoc(client_id=2).apply(update)
    assert {k: decode_event(v) for k, v in effect.added.items()} == source.events()
    assert effect.changed == () and effect.removed == ()
    assert effect.integrated
    assert effect.new_clients == {1: 2}


def test_apply_of_a_duplicate_update_adds_nothing() -> None:
    source = JournalDoc(client_id=1)
    update = source.add([mark("m1")])
    target = JournalDoc(client_id=2)
    target.apply(update)
    effect = target.apply(update)
    assert effect.added == {} and effect.new_clients == {} and effect.integrated


def test_update_overwriting_an_event_is_reported_as_changed() -> None:
    doc = JournalDoc(client_id=1)
    doc.add([mark("m1", 2)])
    peer, events = raw_peer(doc.snapshot())
    events["m1"] = encode_event(mark("m1", 5))
    effect = doc.apply(peer.get_update(doc.state_vector()))
    assert effect.changed == ("m1",)
    assert effect.added == {} and effect.removed == ()


def test_update_deleting_an_event_is_reported_as_removed() -> None:
    doc = JournalDoc(client_id=1)
    doc.add([mark("m1"), mark("m2")])
    peer, events = raw_peer(doc.snapshot())
    del events["m2"]
    effect = doc.apply(peer.get_update(doc.state_vector()))
    assert effect.removed == ("m2",)
    assert effect.added == {} and effect.changed == ()


def test_update_missing_its_dependency_is_not_integrated() -> None:
    source = JournalDoc(client_id=1)
    first = source.add([mark("m1")])
    second = source.add([mark("m2")])
    target = JournalDoc(client_id=2)
    assert not target.apply(second).integrated
    assert target.apply(first).integrated
    assert set(target.events()) == {"m1", "m2"}


# ------------------------------------------------------------------ state vectors and diffs


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.integers(0, 2**53 - 1), st.integers(0, 2**32), max_size=20))
def test_state_vector_encoding_round_trips(vector: dict[int, int]) -> None:
    assert decode_state_vector(encode_state_vector(vector)) == vector


def test_state_vector_of_a_document_decodes_to_its_clients_clocks() -> None:
    doc = JournalDoc(client_id=77)
    doc.add([mark("m1"), mark("m2")])
    assert decode_state_vector(doc.state_vector()) == {77: 2}
    assert decode_state_vector(EMPTY_STATE_VECTOR) == {}


@pytest.mark.parametrize("bad", [b"", b"\x01\x05", b"\x01\x05\x01\xff", b"\x00\x00"])
def test_malformed_state_vector_is_rejected(bad: bytes) -> None:
    with pytest.raises(ValueError):
        decode_state_vector(bad)


def test_covers_compares_state_vectors_client_by_client() -> None:
    small = encode_state_vector({1: 3, 2: 5})
    assert covers(encode_state_vector({1: 3, 2: 7, 9: 1}), small)
    assert covers(small, small)
    assert covers(small, EMPTY_STATE_VECTOR)
    assert not covers(encode_state_vector({1: 2, 2: 9}), small)
    assert not covers(encode_state_vector({2: 5}), small)
    assert not covers(EMPTY_STATE_VECTOR, small)


def test_diff_against_a_state_vector_carries_exactly_the_missing_events() -> None:
    source = JournalDoc(client_id=1)
    source.add([lesson(), mark("m1")])
    peer = JournalDoc(source.snapshot(), client_id=2)
    source.add([mark("m2"), mark("m3")])
    effect = peer.apply(source.diff(peer.state_vector()))
    assert set(effect.added) == {"m2", "m3"}
    assert peer.events() == source.events()
    assert covers(peer.state_vector(), source.state_vector())


def test_diff_against_no_state_vector_is_the_whole_document() -> None:
    source = JournalDoc(client_id=1)
    source.add([lesson(), mark("m1")])
    assert set(JournalDoc(client_id=2).apply(source.diff(None)).added) == {"l1", "m1"}


# ------------------------------------------------------------------ whose entries a client holds


def test_client_devices_names_the_device_that_wrote_under_each_client_id():
    ours = JournalDoc(client_id=11)
    ours.add([lesson("l1")])
    theirs = JournalDoc(ours.snapshot(), client_id=22)
    theirs.add([msgspec.structs.replace(mark("m1"), device="home-pc")])
    ours.apply(theirs.diff(ours.state_vector()))
    ours.add([mark("m2", student="s-2")])
    assert ours.client_devices(11) == {"laptop"}
    assert ours.client_devices(22) == {"home-pc"}
    assert ours.client_devices(33) == frozenset()  # a client the document never saw
    theirs.add([msgspec.structs.replace(mark("m3", student="s-3"), device="home-pc")])
    ours.apply(theirs.diff(ours.state_vector()))
    assert ours.client_devices(22) == {"home-pc"}  # asked again after it wrote more
