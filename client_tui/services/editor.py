"""The teacher's edits in the journal grid, as whole actions that can be undone.

Each action (a mark, an absence, a whole column, a cell's marks) is committed as one batch
through JournalBook, so the shared rules check it before anything is stored. Undo writes new
events that bring the previous values back: nothing is ever deleted, the history keeps both.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable

import msgspec

from client_tui.services.journals import JournalBook
from shared.fold import JournalState, order_key
from shared.model import (
    AttendanceCode,
    JournalEvent,
    LessonRecorded,
    MarkGiven,
    MarkKind,
    MarkSpecial,
    Retracted,
    WorkKind,
)
from shared.rules import RuleViolation
from shared.scales import Typed, mark_text

UNDO_REASON = "Отмена собственной правки"
UNDO_LIMIT = 200


class Edit(msgspec.Struct, frozen=True, kw_only=True):
    """One action as committed: what the undo stack keeps."""

    journal_id: str
    events: tuple[JournalEvent, ...]
    label: str  # in Russian, shown when it is undone


class JournalEditor:
    """Edits made on this laptop in this sitting, newest last, for undo."""

    def __init__(self, book: JournalBook, *, limit: int = UNDO_LIMIT):
        self.book = book
        self.limit = limit
        self.history: list[Edit] = []
        # an undo brings a value back as a new event that stands in for the original, so the
        # next undo finds the original's stand-in live in the cell
        self._stand_ins: dict[str, str] = {}

    # ------------------------------------------------------------------ plumbing
    def _commit(self, journal_id: str, events: list[JournalEvent], label: str) -> Edit:
        if not events:
            return Edit(journal_id=journal_id, events=(), label=label)
        committed = self.book.commit(journal_id, events)
        edit = Edit(journal_id=journal_id, events=tuple(committed), label=label)
        self.history.append(edit)
        del self.history[: -self.limit]
        return edit

    def _mark(
        self,
        journal_id: str,
        lesson: LessonRecorded,
        student_id: str,
        value: int,
        *,
        slot: int = 0,
        work_kind: WorkKind | None = None,
        weight: int | None = None,
        reason: str = "",
        special: MarkSpecial = MarkSpecial.NONE,
        modifier: str = "",
    ) -> MarkGiven:
        return self.book.mark_event(
            journal_id,
            lesson.lesson_id,
            student_id,
            value,
            slot=slot,
            work_kind=work_kind or lesson.work_kind,
            weight=weight,  # None: the school's weight for the kind of work (shared.grades)
            reason=reason,
            special=special,
            modifier=modifier,
        )

    def _lesson(self, journal_id: str, lesson_id: str) -> LessonRecorded:
        lesson = self.book.state(journal_id).lesson(lesson_id)
        if lesson is None:
            raise RuleViolation(
                "entry_belongs_to_lesson", "Урок не найден в журнале: сначала запишите урок."
            )
        return lesson

    # ------------------------------------------------------------------ cell entries
    def set_mark(
        self,
        journal_id: str,
        lesson_id: str,
        student_id: str,
        value: int,
        reason: str = "",
        special: MarkSpecial = MarkSpecial.NONE,
        modifier: str = "",
    ) -> Edit:
        """The cell's (first) mark; the kind of work is the lesson's; зач/незач as `special`,
        «4+» as `modifier` (the journal's scale rule decides whether the school allows it)."""
        lesson = self._lesson(journal_id, lesson_id)
        event = self._mark(
            journal_id, lesson, student_id, value, reason=reason, special=special, modifier=modifier
        )
        shown = mark_text(value, modifier, special)
        return self._commit(journal_id, [event], f"отметка {shown}")

    def set_modifier(
        self, journal_id: str, lesson_id: str, student_id: str, modifier: str, reason: str = ""
    ) -> Edit:
        """«+» or «−» after a mark typed into the cell: its last mark becomes «4+», with the
        same slot, kind of work and weight (a correction of that mark, as on paper)."""
        lesson = self._lesson(journal_id, lesson_id)
        marks = self.book.state(journal_id).marks(lesson_id, student_id)
        if not marks:
            raise RuleViolation(
                "modifier_needs_mark", "«+» и «−» ставятся после отметки: сначала цифра 1–5."
            )
        last = marks[-1]
        event = self._mark(
            journal_id,
            lesson,
            student_id,
            last.value,
            slot=last.slot,
            work_kind=last.work_kind,
            weight=last.weight,
            reason=reason,
            special=last.special,
            modifier=modifier,
        )
        return self._commit(journal_id, [event], f"отметка {mark_text(last.value, modifier)}")

    def set_attendance(
        self,
        journal_id: str,
        lesson_id: str,
        student_id: str,
        code: AttendanceCode,
        reason: str = "",
    ) -> Edit:
        self._lesson(journal_id, lesson_id)
        event = self.book.attendance_event(journal_id, lesson_id, student_id, code, reason)
        return self._commit(journal_id, [event], "посещаемость")

    def fill_column(
        self,
        journal_id: str,
        lesson_id: str,
        student_ids: Iterable[str],
        code: AttendanceCode = AttendanceCode.PRESENT,
    ) -> Edit:
        """The whole column at once («все присутствуют»): only pupils with nothing marked yet,
        so an absence already typed is never overwritten, and only pupils in the class on the
        lesson's day (one who joined later or left earlier keeps an empty cell)."""
        lesson = self._lesson(journal_id, lesson_id)
        state = self.book.state(journal_id)
        context = self.book.context(journal_id)
        events = [
            self.book.attendance_event(journal_id, lesson_id, student_id, code)
            for student_id in student_ids
            if state.attendance(lesson_id, student_id) is None
            and context.is_member(student_id, lesson.date, lesson.date)
        ]
        return self._commit(journal_id, events, "вся колонка")

    def set_cell_marks(
        self,
        journal_id: str,
        lesson_id: str,
        student_id: str,
        values: list[int | Typed],
        *,
        work_kind: WorkKind | None = None,
        weight: int = 1,
        reason: str = "",
    ) -> Edit:
        """Several marks in one cell (slots 0, 1, …), with the kind of work and the weight;
        marks beyond the new list are retracted. A value is a number or a parsed «4+», «зач»
        (shared.scales.parse_typed: the journal's scale rule decides whether it stands)."""
        lesson = self._lesson(journal_id, lesson_id)
        state = self.book.state(journal_id)
        current = {m.slot: m for m in state.marks(lesson_id, student_id)}
        events: list[JournalEvent] = []
        for slot, value in enumerate(values):
            typed = value if isinstance(value, Typed) else Typed(value=value)
            old = current.get(slot)
            kind = work_kind or lesson.work_kind
            wanted = (typed.value, typed.modifier, typed.special, kind, weight)
            if old and (old.value, old.modifier, old.special, old.work_kind, old.weight) == wanted:
                continue
            events.append(
                self._mark(
                    journal_id,
                    lesson,
                    student_id,
                    typed.value,
                    slot=slot,
                    work_kind=kind,
                    weight=weight,
                    reason=reason,
                    special=typed.special,
                    modifier=typed.modifier,
                )
            )
        for slot, old in current.items():
            if slot >= len(values):
                events.append(self._retraction(journal_id, old, reason))
        return self._commit(journal_id, events, "отметки в клетке")

    def _retraction(self, journal_id: str, target: JournalEvent, reason: str) -> Retracted:
        return self.book.retraction_event(journal_id, target.id, reason)

    def clear_cell(
        self, journal_id: str, lesson_id: str, student_id: str, reason: str = ""
    ) -> Edit:
        """Delete: the cell's marks first, then (pressed again) its attendance."""
        state = self.book.state(journal_id)
        marks = state.marks(lesson_id, student_id)
        if marks:
            events = [self._retraction(journal_id, m, reason) for m in marks]
            return self._commit(journal_id, events, "отмена отметки")
        attendance = state.value(("attendance", lesson_id, student_id))
        if attendance is not None:
            event = self._retraction(journal_id, attendance, reason)
            return self._commit(journal_id, [event], "отмена отметки посещаемости")
        raise RuleViolation("nothing_to_retract", "Клетка пуста: отменять нечего.")

    def set_period_mark(
        self,
        journal_id: str,
        period_id: str,
        student_id: str,
        value: int,
        reason: str = "",
        **fields,
    ) -> Edit:
        """The period's, the year's, the exam or the final mark (`mark_kind`), or a special
        value in it (`special`, `na_reason`…, as JournalBook.period_mark_event takes them)."""
        event = self.book.period_mark_event(
            journal_id, period_id, student_id, value, reason=reason, **fields
        )
        shown = mark_text(event.value, special=event.special)
        return self._commit(journal_id, [event], f"отметка за период {shown}")

    def clear_period_mark(
        self,
        journal_id: str,
        period_id: str,
        student_id: str,
        reason: str = "",
        mark_kind: MarkKind = MarkKind.PERIOD,
        topic: str = "",
    ) -> Edit:
        mark = self.book.state(journal_id).period_mark(period_id, student_id, mark_kind, topic)
        if mark is None:
            raise RuleViolation("nothing_to_retract", "Отметки за период нет: отменять нечего.")
        event = self._retraction(journal_id, mark, reason)
        return self._commit(journal_id, [event], "отмена отметки за период")

    # ------------------------------------------------------------------ lessons
    def save_lesson(
        self,
        journal_id: str,
        *,
        date: dt.date,
        topic: str = "",
        homework: str = "",
        work_kind: WorkKind = WorkKind.REGULAR,
        slot: int = 1,
        lesson_id: str | None = None,
        reason: str = "",
    ) -> Edit:
        """A new lesson, or (with lesson_id) the corrected record of an existing one. In a
        класс-комплект it is written into each class's journal (JournalBook.lesson_journals),
        checked in all of them first; each class's copy is an edit of its own for undo."""
        fields = dict(
            date=date,
            topic=topic,
            homework=homework,
            work_kind=work_kind,
            slot=slot,
            lesson_id=lesson_id or f"L{uuid.uuid4().hex[:16]}",
            reason=reason,
        )
        journals = self.book.lesson_journals(journal_id, lesson_id)
        planned = {j: [self.book.lesson_event(j, **fields)] for j in journals}
        for other, events in planned.items():
            self.book.check(other, events)
        for other in journals[1:]:
            self._commit(other, planned[other], "урок")
        return self._commit(journal_id, planned[journal_id], "урок")

    def new_lesson(self, journal_id: str, day: dt.date) -> Edit:
        """A lesson on `day` in one keystroke; a second one that day makes a double lesson."""
        taken = [lsn.slot for lsn in self.book.state(journal_id).lessons() if lsn.date == day]
        slot = max(taken, default=0) + 1
        if slot > 4:
            raise RuleViolation("well_formed", "В один день не больше четырёх уроков предмета.")
        return self.save_lesson(journal_id, date=day, slot=slot)

    # ------------------------------------------------------------------ undo
    def undo(self) -> Edit | None:
        """Bring back what the last own edit replaced; None when there is nothing to undo.

        Refused (RuleViolation) when someone changed the cell since, or the old value no longer
        passes the rules; the edit then stays on the stack.
        """
        if not self.history:
            return None
        edit = self.history[-1]
        state = self.book.state(edit.journal_id)
        inverse: list[JournalEvent] = []
        stand_ins: dict[str, str] = {}
        for event in edit.events:
            current = self._stand_ins.get(event.id, event.id)
            key = state.cell_of.get(current)
            if key is None or current in state.refusals:
                continue  # refused by the server: it already counts for nothing
            cell = state.cells[key]
            if all(e.id != current for e in cell.live):
                raise RuleViolation(
                    "undo_stale", "Эту клетку уже изменили после вашей правки: отмена невозможна."
                )
            previous = [
                state.events[t]
                for t in event.supersedes
                if t in state.events and t not in state.refusals
            ]
            before = max(previous, key=order_key) if previous else None
            stamp = self.book.stamp(cell.live)
            if isinstance(event, LessonRecorded) and before is None:
                entries = lesson_entries(state, event.lesson_id)
                if entries:
                    raise RuleViolation(
                        "undo_lesson_has_entries",
                        f"у урока есть записи ({entries}): сначала удалите их (Delete).",
                    )
            if before is None or isinstance(before, Retracted):
                inverse.append(Retracted(**stamp, supersedes=(current,), reason=UNDO_REASON))
            else:
                inverse.append(
                    msgspec.structs.replace(
                        before, **stamp, supersedes=(current,), reason=UNDO_REASON
                    )
                )
                stand_ins[before.id] = stamp["id"]
        if inverse:
            self.book.commit(edit.journal_id, inverse)
        self._stand_ins.update(stand_ins)
        self.history.pop()
        return edit


def lesson_entries(state: JournalState, lesson_id: str) -> int:
    """How many marks and attendance entries stand in the lesson's column. A lesson is
    undone only when empty: its entries would stand in no column, and the server would
    refuse the ones written after it was gone."""
    return sum(
        1
        for key, cell in state.cells.items()
        if key[0] in ("mark", "attendance") and key[1] == lesson_id and cell.value is not None
    )
