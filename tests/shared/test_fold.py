"""Folding events into the current state: corrections, retractions, refusals, conflicts."""

from __future__ import annotations

import datetime as dt
import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from shared.fold import JournalState, fold
from shared.hlc import format_stamp
from shared.journal import JournalDoc
from shared.model import (
    AttendanceCode,
    AttendanceMarked,
    JournalEvent,
    LessonRecorded,
    MarkGiven,
    RefusalWithdrawn,
    Refused,
    Retracted,
)

T0 = 1_791_000_000_000  # 2026-10-03, ms
LESSON = "lesson-1"
CELL_S1 = ("mark", LESSON, "s-1", "0")
CELL_S2 = ("mark", LESSON, "s-2", "0")


def at(second: int, node: str = "laptop") -> str:
    return format_stamp(T0 + second * 1000, 0, node)


def mark(
    event_id: str, value: int, second: int, *supersedes: str, student: str = "s-1"
) -> MarkGiven:
    return MarkGiven(
        id=event_id,
        author="t-math",
        device="laptop",
        hlc=at(second),
        supersedes=supersedes,
        lesson_id=LESSON,
        student_id=student,
        value=value,
    )


def retraction(event_id: str, second: int, *supersedes: str) -> Retracted:
    return Retracted(
        id=event_id, author="t-math", device="laptop", hlc=at(second), supersedes=supersedes
    )


def refusal(event_id: str, second: int, target: str) -> Refused:
    return Refused(
        id=event_id,
        author="server",
        device="server",
        hlc=at(second, "server"),
        supersedes=(target,),
        rule="no_mark_for_absent_pupil",
    )


def withdrawal(event_id: str, second: int, *refusals: str) -> RefusalWithdrawn:
    return RefusalWithdrawn(
        id=event_id,
        author="server",
        device="server",
        hlc=at(second, "server"),
        supersedes=refusals,
        reason="Год открыт заново: закрыт по ошибке",
    )


def folded(*events: JournalEvent) -> JournalState:
    return fold({e.id: e for e in events})


def value_id(state: JournalState, key: tuple[str, ...]) -> str | None:
    value = state.value(key)
    return value.id if value else None


# ------------------------------------------------------------------ current value


def test_current_value_is_the_entry_nothing_supersedes() -> None:
    state = folded(mark("m1", 3, 1), mark("m2", 5, 2, student="s-2"))
    assert value_id(state, CELL_S1) == "m1"
    assert value_id(state, CELL_S2) == "m2"
    assert not state.conflicts()


def test_correction_supersedes_the_entry_and_keeps_its_history() -> None:
    state = folded(mark("m1", 3, 1), mark("m2", 4, 2, "m1"))
    cell = state.cells[CELL_S1]
    assert value_id(state, CELL_S1) == "m2"
    assert [e.id for e in cell.history] == ["m1", "m2"]
    assert not cell.in_conflict


def test_correction_wins_even_when_it_arrives_before_what_it_corrects() -> None:
    correction = mark("m2", 4, 2, "m1")
    assert value_id(folded(correction), CELL_S1) == "m2"
    assert value_id(fold({"m2": correction, "m1": mark("m1", 3, 1)}), CELL_S1) == "m2"


def test_correction_wins_over_an_entry_with_a_later_clock() -> None:
    # a device whose clock runs fast wrote m1; m2 corrects it all the same
    state = folded(mark("m1", 3, 100), mark("m2", 4, 2, "m1"))
    assert value_id(state, CELL_S1) == "m2"


def test_retraction_empties_the_cell() -> None:
    state = folded(mark("m1", 3, 1), retraction("r1", 2, "m1"))
    assert state.value(CELL_S1) is None
    assert state.marks(LESSON, "s-1") == []
    assert state.cell_of["r1"] == CELL_S1
    assert [e.id for e in state.cells[CELL_S1].history] == ["m1", "r1"]


def test_mark_after_retraction_fills_the_cell_again() -> None:
    state = folded(mark("m1", 3, 1), retraction("r1", 2, "m1"), mark("m2", 5, 3, "r1"))
    assert value_id(state, CELL_S1) == "m2"


def test_retracted_lesson_is_no_longer_a_lesson() -> None:
    lesson = LessonRecorded(
        id="l1",
        author="t-math",
        device="laptop",
        hlc=at(1),
        lesson_id=LESSON,
        date=dt.date(2026, 10, 3),
    )
    assert folded(lesson).lesson(LESSON) == lesson
    assert folded(lesson, retraction("r1", 2, "l1")).lesson(LESSON) is None


def test_retraction_of_a_retraction_lands_in_the_same_cell_whatever_the_arrival_order() -> None:
    events = [mark("m3", 2, 1), retraction("r1", 2, "m3"), retraction("r2", 3, "r1")]
    for ordered in (events, events[::-1]):
        state = fold({e.id: e for e in ordered})
        assert state.cell_of["r2"] == CELL_S1
        assert [e.id for e in state.cells[CELL_S1].live] == ["r2"]


# ------------------------------------------------------------------ server refusals


def test_refused_entry_counts_for_nothing() -> None:
    state = folded(mark("m1", 3, 1), refusal("x1", 2, "m1"))
    assert state.value(CELL_S1) is None
    assert state.cells.get(CELL_S1) is None
    assert set(state.refusals) == {"m1"}


def test_refused_correction_brings_the_older_value_back() -> None:
    state = folded(mark("m1", 3, 1), mark("m2", 4, 2, "m1"), refusal("x1", 3, "m2"))
    assert value_id(state, CELL_S1) == "m1"
    assert [e.id for e in state.cells[CELL_S1].history] == ["m1"]


def test_refused_retraction_brings_the_value_back() -> None:
    state = folded(mark("m1", 3, 1), retraction("r1", 2, "m1"), refusal("x1", 3, "r1"))
    assert value_id(state, CELL_S1) == "m1"


# ------------------------------------------------------------------ conflicts


def test_concurrent_corrections_conflict_and_the_later_clock_wins() -> None:
    state = folded(mark("m1", 3, 1), mark("b", 4, 5, "m1"), mark("a", 5, 6, "m1"))
    (cell,) = state.conflicts()
    assert cell.key == CELL_S1
    assert value_id(state, CELL_S1) == "a"
    assert [e.id for e in cell.losers] == ["b"]


def test_concurrent_corrections_with_equal_clocks_the_larger_id_wins() -> None:
    state = folded(mark("m1", 3, 1), mark("b", 4, 5, "m1"), mark("a", 5, 5, "m1"))
    (cell,) = state.conflicts()
    assert value_id(state, CELL_S1) == "b"
    assert [e.id for e in cell.losers] == ["a"]


def test_two_first_entries_in_one_cell_conflict() -> None:
    state = folded(mark("m1", 3, 1), mark("m2", 4, 2))
    (cell,) = state.conflicts()
    assert cell.winner.id == "m2"
    assert [e.id for e in cell.losers] == ["m1"]


def test_retraction_concurrent_with_correction_is_a_conflict() -> None:
    state = folded(mark("m1", 3, 1), mark("m2", 4, 2, "m1"), retraction("r1", 3, "m1"))
    (cell,) = state.conflicts()
    assert state.value(CELL_S1) is None  # the retraction is later, the cell shows empty
    assert [e.id for e in cell.losers] == ["m2"]


def test_later_entry_superseding_both_live_entries_resolves_the_conflict() -> None:
    state = folded(
        mark("m1", 3, 1),
        mark("b", 4, 5, "m1"),
        mark("a", 5, 6, "m1"),
        mark("m9", 4, 7, "a", "b"),
    )
    assert not state.conflicts()
    assert value_id(state, CELL_S1) == "m9"


# ------------------------------------------------------------------ any order, same state


def _attendance(event_id: str, second: int, *supersedes: str) -> AttendanceMarked:
    return AttendanceMarked(
        id=event_id,
        author="t-math",
        device="laptop",
        hlc=at(second),
        supersedes=supersedes,
        lesson_id=LESSON,
        student_id="s-3",
        code=AttendanceCode.ABSENT,
    )


HISTORY: list[JournalEvent] = [
    # s-1: two devices correct the same mark concurrently
    mark("m1", 3, 1),
    mark("c1", 4, 5, "m1"),
    mark("c2", 5, 5, "m1"),
    # s-2: retracted, then the retraction is both retracted and corrected concurrently
    mark("m3", 2, 1, student="s-2"),
    retraction("r1", 2, "m3"),
    retraction("r2", 3, "r1"),
    mark("m4", 4, 4, "r1", student="s-2"),
    # s-3: an absence corrected, the correction refused by the server
    _attendance("a1", 1),
    _attendance("a2", 2, "a1"),
    refusal("x1", 3, "a2"),
    # s-4: a correction concurrent with a retraction, then both superseded
    mark("m5", 3, 1, student="s-4"),
    mark("m6", 4, 2, "m5", student="s-4"),
    retraction("r3", 2, "m5"),
    mark("m7", 5, 4, "m6", "r3", student="s-4"),
]


def _observable(state: JournalState) -> tuple[dict, list]:
    values = {key: cell.value for key, cell in state.cells.items()}
    conflicts = sorted(
        (cell.key, cell.winner.id, sorted(e.id for e in cell.losers)) for cell in state.conflicts()
    )
    return values, conflicts


EXPECTED = _observable(folded(*HISTORY))


def test_the_reference_history_folds_as_the_regulations_expect() -> None:
    values, conflicts = EXPECTED
    assert {key: value.id if value else None for key, value in values.items()} == {
        CELL_S1: "c2",
        CELL_S2: "m4",
        ("attendance", LESSON, "s-3"): "a1",
        ("mark", LESSON, "s-4", "0"): "m7",
    }
    assert conflicts == [(CELL_S1, "c2", ["c1"]), (CELL_S2, "m4", ["r2"])]


@settings(max_examples=300, deadline=None)
@given(st.permutations(HISTORY))
def test_fold_gives_the_same_state_whatever_order_events_arrive_in(
    events: list[JournalEvent],
) -> None:
    assert _observable(fold({e.id: e for e in events})) == EXPECTED


# ------------------------------------------------------------------ incremental fold


@st.composite
def histories(draw) -> list[JournalEvent]:
    """Random entries in a few cells: corrections of earlier entries (not always the live
    ones), retractions, retractions of retractions, server refusals and withdrawals of
    refusals, equal clocks."""
    events: list[JournalEvent] = []
    for n in range(draw(st.integers(1, 14))):
        second = draw(st.integers(0, 12))
        earlier = [e.id for e in events if not isinstance(e, Refused | RefusalWithdrawn)]
        refusals = [e.id for e in events if isinstance(e, Refused)]
        targets = tuple(
            draw(st.lists(st.sampled_from(earlier), max_size=2, unique=True)) if earlier else []
        )
        kind = draw(st.sampled_from(["mark", "mark", "retract", "refuse", "withdraw"]))
        if kind == "withdraw" and refusals:  # a reopened year (issue 12)
            events.append(withdrawal(f"w{n}", second, draw(st.sampled_from(refusals))))
        elif kind == "retract" and targets:
            events.append(retraction(f"r{n}", second, *targets))
        elif kind == "refuse" and targets:
            events.append(refusal(f"x{n}", second, targets[0]))
        else:
            student = draw(st.sampled_from(["s-1", "s-2"]))
            events.append(mark(f"m{n}", 5, second, *targets, student=student))
    return events


@settings(max_examples=400, deadline=None)
@given(
    history=st.one_of(st.permutations(HISTORY), histories()).flatmap(st.permutations),
    cuts=st.sets(st.integers(1, 13), max_size=5),
    in_place=st.booleans(),
)
def test_folding_batch_by_batch_equals_folding_everything(
    history: list[JournalEvent], cuts: set[int], in_place: bool
) -> None:
    bounds = [0, *sorted(c for c in cuts if c < len(history)), len(history)]
    state = fold({})
    for start, end in itertools.pairwise(bounds):
        before = fold(dict(state.events))
        kept = state
        state = state.extend(history[start:end], in_place=in_place)
        assert state == fold({e.id: e for e in history[:end]})
        if not in_place:
            assert kept == before, "extend changed the state it was given"


def test_extending_with_known_events_changes_nothing() -> None:
    state = folded(*HISTORY)
    assert state.extend(HISTORY[:3]) is state


def test_a_document_keeps_its_fold_current_through_adds_and_updates() -> None:
    source, replica = JournalDoc(), JournalDoc()
    for start in range(0, len(HISTORY), 4):
        before = replica.state_vector()
        source.add(HISTORY[start : start + 4])
        replica.apply(source.diff(before))
        assert replica.state() == fold(dict(replica.events()))
        assert source.state() == fold(dict(source.events()))
    assert _observable(replica.state()) == EXPECTED


# ------------------------------------------------------------------ withdrawn refusals (issue 12)


def test_a_withdrawn_refusal_counts_for_nothing_and_the_entry_counts_again() -> None:
    state = folded(mark("m1", 3, 1), mark("m2", 5, 2, "m1"), refusal("x", 3, "m2"))
    assert value_id(state, CELL_S1) == "m1" and "m2" in state.refusals
    state = folded(*state.events.values(), withdrawal("w", 4, "x"))
    assert value_id(state, CELL_S1) == "m2" and state.refusals == {}
    assert [e.id for e in state.cells[CELL_S1].history] == ["m1", "m2"]


def test_a_new_refusal_beside_the_withdrawal_keeps_the_entry_refused_with_its_reason() -> None:
    first = refusal("refusal-m1", 2, "m1")
    again = Refused(
        id="refusal-m1.2",
        author="server",
        device="server",
        hlc=at(3, "server"),
        supersedes=("m1",),
        rule="no_mark_for_absent_pupil",
        reason="Ученик отсутствовал",
    )
    state = folded(mark("m1", 4, 1), first, withdrawal("w", 3, "refusal-m1"), again)
    assert state.refusals["m1"] is again and value_id(state, CELL_S1) is None


@settings(max_examples=200, deadline=None)
@given(
    order=st.permutations(range(4)),
    withdrawn=st.booleans(),
)
def test_refusal_and_withdrawal_converge_whatever_order_they_arrive_in(
    order: list[int], withdrawn: bool
) -> None:
    """A laptop may hear of the entry, its refusal and the withdrawal in any order and in
    several syncs (the server adds the withdrawal long after the refusal): at every step the
    document's fold equals the fold of what arrived, and the entry counts exactly when it
    arrived and its refusal did not, or the refusal's withdrawal did too."""
    events = [
        mark("m1", 4, 1),
        refusal("x", 2, "m1"),
        withdrawal("w" if withdrawn else "w-other", 3, "x" if withdrawn else "y"),
        mark("m2", 5, 4, student="s-2"),
    ]
    doc = JournalDoc(client_id=7)
    arrived: list[JournalEvent] = []
    for step, index in enumerate(order):
        other = JournalDoc(client_id=100 + step)
        other.add([events[index]])
        doc.apply(other.snapshot())
        arrived.append(events[index])
        assert doc.state() == fold({e.id: e for e in arrived})
        refused = events[1] in arrived and not (withdrawn and events[2] in arrived)
        counts = events[0] in arrived and not refused
        assert value_id(doc.state(), CELL_S1) == ("m1" if counts else None)
    assert value_id(doc.state(), CELL_S1) == ("m1" if withdrawn else None)
