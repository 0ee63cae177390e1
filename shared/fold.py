"""Folding a journal's events into its current state.

The current value of a cell is the entry nothing supersedes. Events refused by the server count
for nothing (neither as values nor as supersedes), unless a server-authored withdrawal
supersedes the refusal (a year closed by mistake and reopened): then the entry counts again.
Two live entries in one cell are a conflict:
the one with the later HLC stamp (then the larger id) wins on every replica, the others stay
visible as losers until someone supersedes them all.
"""

from __future__ import annotations

from bisect import insort
from collections import ChainMap
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from shared.hlc import stamp_key
from shared.model import (
    AchievementRecorded,
    AttendanceCode,
    AttendanceMarked,
    JournalEvent,
    LessonRecorded,
    MarkGiven,
    MarkKind,
    PeriodMarkGiven,
    RefusalWithdrawn,
    Refused,
    Retracted,
)

SERVER_EVENTS = (Refused, RefusalWithdrawn)  # they act on other events, never on a cell

CellKey = tuple[str, ...]
MARK_SLOTS = range(10)  # MarkGiven.slot is 0..9 (shared/model.py)


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
            return period_cell(event.period_id, event.student_id, event.mark_kind, event.topic)
        case AchievementRecorded():
            return ("achievement", event.achievement_id)
    return None


def period_cell(
    period_id: str, student_id: str, kind: MarkKind = MarkKind.PERIOD, topic: str = ""
) -> CellKey:
    """The cell of a mark beside the lessons. A period's or the year's mark keeps the key it
    always had; an exam and a final mark have a column each beside the year's (issue 16), a
    thematic mark one column per topic of the period."""
    if kind is MarkKind.THEMATIC:
        return ("period_mark", period_id, student_id, kind.value, topic)
    if kind in (MarkKind.EXAM, MarkKind.FINAL):
        return ("period_mark", period_id, student_id, kind.value)
    return ("period_mark", period_id, student_id)


def order_key(event: JournalEvent) -> tuple[tuple[int, int, str], str]:
    """Clock order; a malformed stamp sorts first, so it never wins a conflict."""
    return (stamp_key(event.hlc), event.id)


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
    """A folded journal. `extend` returns a new state, unless asked to work in place."""

    events: dict[str, JournalEvent]
    refusals: dict[str, Refused]  # refused event id -> the server's refusal
    cells: dict[CellKey, Cell]
    cell_of: dict[str, CellKey]  # event id -> its cell (retractions: the cell they empty)
    superseded: set[str] = field(default_factory=set)  # ids some valid event supersedes
    unplaced: int = 0  # valid retractions whose target has not arrived

    def extend(self, new: Iterable[JournalEvent], *, in_place: bool = False) -> JournalState:
        """The state with `new` events folded in: equal to `fold` of all events, at a cost
        that grows with the new events, not with the journal (a typed entry, a day's delta).
        `in_place` changes this state instead of copying it (for its only owner: a copy is
        as long as the journal); the result must then be used instead of this state.

        Falls back to a full fold when an arrival can reshape what is already folded: a
        refusal, an event something already supersedes (it arrived after its correction), a
        retraction whose target is missing.
        """
        new = sorted({e.id: e for e in new if e.id not in self.events}.values(), key=order_key)
        if not new:
            return self
        keys = self._cells_for(new)
        if keys is None:
            return fold(self.events | {e.id: e for e in new})
        copied: set[CellKey] | None
        if in_place:
            state, copied = self, None
        else:
            # Layers over this state's maps, not copies: a copy is as long as the journal, and
            # the rules check every pushed batch on such a state (issue 6: the day's delta
            # must not cost more in a larger journal). Writes go to the new top layer; cells
            # are copied before they change (`writable`).
            state = JournalState(
                events=ChainMap({}, self.events),  # type: ignore[arg-type]
                refusals=self.refusals,
                cells=ChainMap({}, self.cells),  # type: ignore[arg-type]
                cell_of=ChainMap({}, self.cell_of),  # type: ignore[arg-type]
                superseded=set(self.superseded),
            )
            copied = set()

        def writable(key: CellKey) -> Cell:
            cell = state.cells.get(key)
            if cell is None:
                cell = state.cells[key] = Cell(key)
            elif copied is not None and key not in copied:
                cell = state.cells[key] = Cell(key, list(cell.history), list(cell.live))
            if copied is not None:
                copied.add(key)
            return cell

        for event, key in zip(new, keys, strict=True):
            state.events[event.id] = event
            state.cell_of[event.id] = key
            for target in event.supersedes:
                state.superseded.add(target)
                if target in state.cell_of:
                    target_cell = writable(state.cell_of[target])
                    target_cell.live = [e for e in target_cell.live if e.id != target]
            cell = writable(key)
            insort(cell.history, event, key=order_key)
            if event.id not in state.superseded:  # an earlier entry of this batch may supersede it
                insort(cell.live, event, key=order_key)
        return state

    def _cells_for(self, new: list[JournalEvent]) -> list[CellKey] | None:
        """The cell of each new event (in clock order), or None if only a full fold is right."""
        if self.unplaced:
            return None
        keys: list[CellKey] = []
        placed: dict[str, CellKey] = {}
        for event in new:
            if isinstance(event, SERVER_EVENTS) or event.id in self.refusals:
                return None
            if event.id in self.superseded:
                return None
            if isinstance(event, Retracted):
                targets = [self.cell_of.get(t) or placed.get(t) for t in event.supersedes]
                if not targets or None in targets:
                    return None
                key = targets[0]
            else:
                key = own_cell(event)
            if key is None:
                return None
            placed[event.id] = key
            keys.append(key)
        return keys

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
        # looked up by key, slot by slot: a rule asks this for every new mark, and a scan of
        # every cell made a day's delta cost grow with the journal
        found = []
        for slot in MARK_SLOTS:
            cell = self.cells.get(("mark", lesson_id, student_id, str(slot)))
            if cell is not None and isinstance(cell.value, MarkGiven):
                found.append(cell.value)
        return found

    def all_marks(self) -> list[MarkGiven]:
        return [
            c.value
            for k, c in self.cells.items()
            if k[0] == "mark" and isinstance(c.value, MarkGiven)
        ]

    def period_mark(
        self,
        period_id: str,
        student_id: str,
        kind: MarkKind = MarkKind.PERIOD,
        topic: str = "",
    ) -> PeriodMarkGiven | None:
        value = self.value(period_cell(period_id, student_id, kind, topic))
        return value if isinstance(value, PeriodMarkGiven) else None

    def period_marks(self) -> list[PeriodMarkGiven]:
        """Every live mark beside the lessons: period, year, exam, final and thematic."""
        return [
            c.value
            for k, c in self.cells.items()
            if k[0] == "period_mark" and isinstance(c.value, PeriodMarkGiven)
        ]

    def achievements(self) -> list[AchievementRecorded]:
        """The portfolio's current achievements (a portfolio document), newest first."""
        found = [
            c.value
            for k, c in self.cells.items()
            if k[0] == "achievement" and isinstance(c.value, AchievementRecorded)
        ]
        return sorted(found, key=lambda e: (e.date, e.achievement_id), reverse=True)

    def conflicts(self) -> list[Cell]:
        return [c for c in self.cells.values() if c.in_conflict]


def fold(events: Mapping[str, JournalEvent]) -> JournalState:
    """Fold events (in any order, any subset delivered so far) into the current state."""
    withdrawn = {
        target
        for e in events.values()
        if isinstance(e, RefusalWithdrawn)
        for target in e.supersedes
    }
    refusals: dict[str, Refused] = {}
    for refusal in sorted(
        (e for e in events.values() if isinstance(e, Refused) and e.id not in withdrawn),
        key=order_key,
    ):
        for target in refusal.supersedes:
            refusals.setdefault(target, refusal)  # the first, whatever the arrival order
    valid = {
        i: e for i, e in events.items() if i not in refusals and not isinstance(e, SERVER_EVENTS)
    }
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
            retracted = next((t for t in valid[event_id].supersedes if t in cell_of), None)
            if event_id not in cell_of and retracted is not None:
                cell_of[event_id] = cell_of[retracted]
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
        superseded=superseded,
        unplaced=sum(1 for i in retractions if i not in cell_of),
    )
