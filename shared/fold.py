"""Folding a journal's events into its current state.

The current value of a cell is the entry nothing supersedes. Events refused by the server count
for nothing (neither as values nor as supersedes). Two live entries in one cell are a conflict:
the one with the later HLC stamp (then the larger id) wins on every replica, the others stay
visible as losers until someone supersedes them all.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from shared.model import (
    AttendanceCode,
    AttendanceMarked,
    JournalEvent,
    LessonRecorded,
    MarkGiven,
    PeriodMarkGiven,
    Refused,
    Retracted,
)

CellKey = tuple[str, ...]


def own_cell(event: JournalEvent) -> CellKey | None:
    """The cell an event writes; None for retractions and refusals (they act on others)."""
    match event:
        case LessonRecorded():
            return ("lesson", event.lesson_id)
        case AttendanceMarked():
            return ("attendance", event.lesson_id, event.student_id)
        case MarkGiven():
            return ("mark", event.lesson_id, event.student_id, str(event.slot))
        case PeriodMarkGiven():
            return ("period_mark", event.period_id, event.student_id)
    return None


def order_key(event: JournalEvent) -> tuple[str, str]:
    return (event.hlc, event.id)


@dataclass
class Cell:
    key: CellKey
    history: list[JournalEvent] = field(default_factory=list)  # every valid entry, oldest first
    live: list[JournalEvent] = field(default_factory=list)  # not superseded; >1 is a conflict

    @property
    def winner(self) -> JournalEvent | None:
        return max(self.live, key=order_key) if self.live else None

    @property
    def value(self) -> JournalEvent | None:
        """The current entry, or None when the cell is empty or retracted."""
        winner = self.winner
        return None if isinstance(winner, Retracted) else winner

    @property
    def in_conflict(self) -> bool:
        return len(self.live) > 1

    @property
    def losers(self) -> list[JournalEvent]:
        winner = self.winner
        return [e for e in self.live if e is not winner]


@dataclass
class JournalState:
    events: dict[str, JournalEvent]
    refusals: dict[str, Refused]  # refused event id -> the server's refusal
    cells: dict[CellKey, Cell]
    cell_of: dict[str, CellKey]  # event id -> its cell (retractions: the cell they empty)
    superseded: frozenset[str] = frozenset()  # ids some valid event supersedes

    # ------------------------------------------------------------------ lookups
    def value(self, key: CellKey) -> JournalEvent | None:
        cell = self.cells.get(key)
        return cell.value if cell else None

    def lessons(self) -> list[LessonRecorded]:
        found = [
            c.value
            for k, c in self.cells.items()
            if k[0] == "lesson" and isinstance(c.value, LessonRecorded)
        ]
        return sorted(found, key=lambda e: (e.date, e.slot, e.lesson_id))

    def lesson(self, lesson_id: str) -> LessonRecorded | None:
        value = self.value(("lesson", lesson_id))
        return value if isinstance(value, LessonRecorded) else None

    def attendance(self, lesson_id: str, student_id: str) -> AttendanceCode | None:
        value = self.value(("attendance", lesson_id, student_id))
        return value.code if isinstance(value, AttendanceMarked) else None

    def marks(self, lesson_id: str, student_id: str) -> list[MarkGiven]:
        found = [
            c.value
            for k, c in self.cells.items()
            if k[0] == "mark"
            and k[1] == lesson_id
            and k[2] == student_id
            and isinstance(c.value, MarkGiven)
        ]
        return sorted(found, key=lambda m: m.slot)

    def all_marks(self) -> list[MarkGiven]:
        return [
            c.value
            for k, c in self.cells.items()
            if k[0] == "mark" and isinstance(c.value, MarkGiven)
        ]

    def period_mark(self, period_id: str, student_id: str) -> PeriodMarkGiven | None:
        value = self.value(("period_mark", period_id, student_id))
        return value if isinstance(value, PeriodMarkGiven) else None

    def conflicts(self) -> list[Cell]:
        return [c for c in self.cells.values() if c.in_conflict]


def fold(events: Mapping[str, JournalEvent]) -> JournalState:
    """Fold events (in any order, any subset delivered so far) into the current state."""
    refusals = {
        target: e for e in events.values() if isinstance(e, Refused) for target in e.supersedes
    }
    valid = {i: e for i, e in events.items() if i not in refusals and not isinstance(e, Refused)}
    superseded = {target for e in valid.values() for target in e.supersedes}

    cell_of: dict[str, CellKey] = {}
    for event_id, event in valid.items():
        key = own_cell(event)
        if key is not None:
            cell_of[event_id] = key
    # Retractions take the cell of what they retract (once that has arrived), through chains of
    # retractions too: repeat to a fixed point, in clock order so that arrival order is irrelevant.
    retractions = sorted(
        (i for i, e in valid.items() if isinstance(e, Retracted)), key=lambda i: order_key(valid[i])
    )
    placed = True
    while placed:
        placed = False
        for event_id in retractions:
            target = next((t for t in valid[event_id].supersedes if t in cell_of), None)
            if event_id not in cell_of and target is not None:
                cell_of[event_id] = cell_of[target]
                placed = True

    cells: dict[CellKey, Cell] = {}
    for event_id in sorted(cell_of, key=lambda i: order_key(valid[i])):
        event = valid[event_id]
        cell = cells.setdefault(cell_of[event_id], Cell(cell_of[event_id]))
        cell.history.append(event)
        if event_id not in superseded:
            cell.live.append(event)
    return JournalState(
        events=dict(events),
        refusals=refusals,
        cells=cells,
        cell_of=cell_of,
        superseded=frozenset(superseded),
    )


def fold_more(state: JournalState, new: Iterable[JournalEvent]) -> JournalState:
    """fold(state.events | new), without refolding everything, for the usual case: new events
    typed on this device (fresh ids, no refusals) that supersede events already placed.

    Anything else (a refusal, an id seen before, a retraction of something not yet placed)
    takes the full fold, so the result is always exactly fold()'s. `state` is not modified.
    """
    new = sorted(new, key=order_key)
    everything = {**state.events, **{e.id: e for e in new}}
    ids = {e.id for e in new}
    if (
        len(ids) != len(new)
        or any(isinstance(e, Refused) for e in new)
        or ids & (state.events.keys() | state.superseded | state.refusals.keys())
    ):
        return fold(everything)
    cells = dict(state.cells)
    cell_of = dict(state.cell_of)
    superseded = set(state.superseded)
    copied: set[CellKey] = set()

    def writable(key: CellKey) -> Cell:
        if key not in copied:
            old = cells.get(key)
            cells[key] = Cell(key, list(old.history), list(old.live)) if old else Cell(key)
            copied.add(key)
        return cells[key]

    # as fold() does: retractions are placed after the entries they may retract
    for event in sorted(new, key=lambda e: isinstance(e, Retracted)):
        key = own_cell(event)
        if isinstance(event, Retracted):
            key = next((cell_of[t] for t in event.supersedes if t in cell_of), None)
            if key is None:
                return fold(everything)
        for target in event.supersedes:
            superseded.add(target)
            if target in cell_of:
                cell = writable(cell_of[target])
                cell.live = [e for e in cell.live if e.id != target]
        if key is None:
            continue
        cell_of[event.id] = key
        cell = writable(key)
        bisect.insort(cell.history, event, key=order_key)
        if event.id not in superseded:
            bisect.insort(cell.live, event, key=order_key)
    return JournalState(
        events=everything,
        refusals=state.refusals,
        cells=cells,
        cell_of=cell_of,
        superseded=frozenset(superseded),
    )
