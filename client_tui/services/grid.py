"""The month of a journal as the paper journal shows it: a pure model the screens render.

Rows are the class's pupils of that month, numbered alphabetically; columns are the month's
lessons by date (a double lesson is two columns); below, the topics. Beside them, the period
the month belongs to: each pupil's weighted average, the mark it suggests and the period mark.
No Textual and no SQL here: built from a folded JournalState and the directory.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable

import msgspec

from shared import groups
from shared.columns import class_columns, term_kind
from shared.fold import Cell, JournalState
from shared.grades import average_of, average_text, suggested_mark
from shared.model import (
    ATTENDANCE_LETTERS,
    MARK_SPECIAL_RU,
    AttendanceCode,
    AttendanceMarked,
    Directory,
    JournalInfo,
    LessonRecorded,
    MarkGiven,
    MarkKind,
    MarkSpecial,
    Membership,
    Period,
    PeriodKind,
    PeriodMarkGiven,
    WorkKind,
)
from shared.scales import journal_scale, mark_text

MONTHS_RU = (
    "январь",
    "февраль",
    "март",
    "апрель",
    "май",
    "июнь",
    "июль",
    "август",
    "сентябрь",
    "октябрь",
    "ноябрь",
    "декабрь",
)
WORK_KINDS_RU: dict[WorkKind, str] = {
    WorkKind.REGULAR: "обычный урок",
    WorkKind.CONTROL: "контрольная работа",
    WorkKind.PRACTICAL: "практическая работа",
    WorkKind.LABORATORY: "лабораторная работа",
    WorkKind.INDEPENDENT: "самостоятельная работа",
}
ATTENDANCE_RU: dict[AttendanceCode, str] = {
    AttendanceCode.PRESENT: "присутствовал",
    AttendanceCode.ABSENT: "отсутствовал (н)",
    AttendanceCode.ILL: "болел, есть справка (б)",
    AttendanceCode.EXCUSED: "уважительная причина (у)",
    AttendanceCode.LATE: "опоздал (о)",
}
SUPERSCRIPT = {2: "²", 3: "³", 4: "⁴"}
MAX_SLOTS = 10  # MarkGiven.slot is 0–9


class GridColumn(msgspec.Struct, frozen=True, kw_only=True):
    lesson_id: str
    date: dt.date
    slot: int
    label: str  # "05", and "05²" for the second half of a double lesson
    topic: str
    homework: str
    work_kind: WorkKind


class GridRow(msgspec.Struct, frozen=True, kw_only=True):
    number: int
    student_id: str
    name: str  # Фамилия И.О.


class GridCell(msgspec.Struct, frozen=True, kw_only=True):
    marks: tuple[int, ...] = ()
    attendance: AttendanceCode | None = None
    conflict: bool = False
    outside: bool = False  # the pupil was not in the class on that lesson's day (joined/left)
    shown: tuple[str, ...] = ()  # the marks as printed: «4+», «зач» (issue 16)

    @property
    def text(self) -> str:
        """As on paper: «н», «5», «5/4», «о5», «зач»; «!» marks a cell two devices changed at
        once; «—» a lesson before the pupil joined the class or after they left it."""
        letter = ATTENDANCE_LETTERS.get(self.attendance, "") if self.attendance else ""
        text = letter + "/".join(self.shown or [str(m) for m in self.marks])
        if not text and self.outside:
            return "—"
        return text + ("!" if self.conflict else "")


class PeriodCell(msgspec.Struct, frozen=True, kw_only=True):
    """Средний балл (weighted), the suggested mark and the period mark set by the teacher."""

    average: float | None = None
    suggested: int | None = None
    mark: int | None = None
    conflict: bool = False
    special: str = ""  # «н/а», «осв.», «зач» in the period's column (issue 16)

    @property
    def average_text(self) -> str:
        return average_text(self.average)

    @property
    def mark_text(self) -> str:
        text = self.special or ("" if self.mark is None else str(self.mark))
        return text + ("!" if text and self.conflict else "")


class MonthGrid(msgspec.Struct, frozen=True, kw_only=True):
    journal_id: str
    month: dt.date  # the first day
    writable: bool
    columns: tuple[GridColumn, ...]
    rows: tuple[GridRow, ...]
    cells: dict[tuple[str, str], GridCell]  # (student id, lesson id) -> cell
    period: Period | None
    period_cells: dict[str, PeriodCell]  # student id -> its period figures
    period_lessons: frozenset[str] = frozenset()  # lesson ids of the whole period
    # issue 16: the year's columns the class has («Год»; «Экз.», «Итог» ending a level), their
    # cells as printed, and the journal's scale in words
    # (column, title, period id); column is a mark kind («year», «exam», «final») or
    # «thematic|<topic>» for a thematic mark of the month's period (`column_kind`)
    year_columns: tuple[tuple[str, str, str], ...] = ()
    year_cells: dict[tuple[str, str], str] = {}  # (student id, mark kind) -> «4», «н/а»
    scale: str = ""
    modifiers: bool = False  # the school allows «4+», «3−» in this journal (004 §1.5)

    @property
    def title(self) -> str:
        return f"{MONTHS_RU[self.month.month - 1]} {self.month.year}"

    def cell(self, student_id: str, lesson_id: str) -> GridCell:
        return self.cells.get((student_id, lesson_id), GridCell())

    def column(self, lesson_id: str) -> GridColumn | None:
        return next((c for c in self.columns if c.lesson_id == lesson_id), None)

    def updated(self, state: JournalState, touched: Iterable[tuple[str, str]]) -> MonthGrid:
        """The grid after an edit of the (student id, lesson id) cells in `touched` (lesson id
        "" for a period mark): only those cells and those pupils' period figures are read
        again, by direct lookups, so a keypress costs the same in May as in September."""
        cells = dict(self.cells)
        students = set()
        for student_id, lesson_id in touched:
            students.add(student_id)
            if (student_id, lesson_id) in cells:
                outside = cells[(student_id, lesson_id)].outside
                cell = grid_cell(state, lesson_id, student_id)
                cells[(student_id, lesson_id)] = (
                    msgspec.structs.replace(cell, outside=True) if outside else cell
                )
        period_cells = dict(self.period_cells)
        if self.period is not None:
            for student_id in students & period_cells.keys():
                period_cells[student_id] = _period_lookup(
                    state, self.period, student_id, self.period_lessons
                )
        return msgspec.structs.replace(self, cells=cells, period_cells=period_cells)


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def month_end(month: dt.date) -> dt.date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def shift_month(month: dt.date, months: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def period_for_month(
    periods: tuple[Period, ...], month: dt.date, prefer: PeriodKind = PeriodKind.QUARTER
) -> Period | None:
    """The quarter (or half, `prefer`red for grades 10–11) holding most school days of the
    month: its marks go beside it."""
    first, last = month_start(month), month_end(month)
    best: tuple[int, Period] | None = None
    other = PeriodKind.HALF if prefer is PeriodKind.QUARTER else PeriodKind.QUARTER
    for kind in (prefer, other):
        for period in periods:
            if period.kind is not kind:
                continue
            overlap = (min(last, period.ends) - max(first, period.starts)).days + 1
            if overlap > 0 and (best is None or overlap > best[0]):
                best = (overlap, period)
        if best is not None:
            return best[1]
    return None


class _Index:
    """One pass over the folded cells, so a month is built in O(cells), not O(cells²)."""

    def __init__(self, state: JournalState):
        self.marks: dict[tuple[str, str], list[MarkGiven]] = {}
        self.attendance: dict[tuple[str, str], AttendanceCode] = {}
        self.conflicts: set[tuple[str, str]] = set()
        self.period_marks: dict[tuple[str, str], tuple[PeriodMarkGiven, bool]] = {}
        for key, cell in state.cells.items():
            value = cell.value
            if key[0] == "mark":
                if isinstance(value, MarkGiven):
                    self.marks.setdefault((key[1], key[2]), []).append(value)
                if cell.in_conflict:
                    self.conflicts.add((key[1], key[2]))
            elif key[0] == "attendance":
                if isinstance(value, AttendanceMarked):
                    self.attendance[(key[1], key[2])] = value.code
                if cell.in_conflict:
                    self.conflicts.add((key[1], key[2]))
            elif key[0] == "period_mark" and isinstance(value, PeriodMarkGiven) and len(key) == 3:
                self.period_marks[(key[1], key[2])] = (value, cell.in_conflict)

    def cell(self, lesson_id: str, student_id: str) -> GridCell:
        key = (lesson_id, student_id)
        marks = sorted(self.marks.get(key, ()), key=lambda m: m.slot)
        attendance = self.attendance.get(key)
        return GridCell(
            marks=tuple(m.value for m in marks),
            attendance=attendance if attendance is not AttendanceCode.PRESENT else None,
            conflict=key in self.conflicts,
            shown=_shown(marks),
        )

    def period(self, period: Period, student_id: str, lessons: set[str]) -> PeriodCell:
        marks = [m for lesson in lessons for m in self.marks.get((lesson, student_id), ())]
        value, conflict = self.period_marks.get((period.id, student_id), (None, False))
        return _period_figures(marks, value, conflict)


def _shown(marks: Iterable[MarkGiven]) -> tuple[str, ...]:
    return tuple(mark_text(m.value, m.modifier, m.special) for m in marks)


def _period_figures(marks: list[MarkGiven], value: object, conflict: bool) -> PeriodCell:
    """The average of the period's marks, its suggestion and the mark set (or «н/а», «осв.»)."""
    average = average_of(marks)
    mark = value if isinstance(value, PeriodMarkGiven) else None
    return PeriodCell(
        average=average,
        suggested=suggested_mark(average),
        mark=mark.value if mark is not None and mark.special is MarkSpecial.NONE else None,
        special=MARK_SPECIAL_RU[mark.special] if mark is not None else "",
        conflict=conflict,
    )


def column_kind(column: str) -> tuple[MarkKind, str]:
    """A year column's kind of mark and, for a thematic column, its topic."""
    kind, _, topic = column.partition("|")
    return MarkKind(kind), topic


def lessons_in(state: JournalState, first: dt.date, last: dt.date) -> list[LessonRecorded]:
    return [lesson for lesson in state.lessons() if first <= lesson.date <= last]


def _cell_marks(state: JournalState, lesson_id: str, student_id: str) -> list[Cell]:
    found = []
    for slot in range(MAX_SLOTS):
        cell = state.cells.get(("mark", lesson_id, student_id, str(slot)))
        if cell is not None:
            found.append(cell)
    return found


def grid_cell(state: JournalState, lesson_id: str, student_id: str) -> GridCell:
    """One cell, for redrawing after an edit: direct lookups, no pass over the journal."""
    marks = _cell_marks(state, lesson_id, student_id)
    attendance = state.cells.get(("attendance", lesson_id, student_id))
    code = attendance.value.code if attendance and attendance.value else None
    given = [c.value for c in marks if isinstance(c.value, MarkGiven)]
    return GridCell(
        marks=tuple(m.value for m in given),
        attendance=code if code is not AttendanceCode.PRESENT else None,
        conflict=any(c.in_conflict for c in [*marks, attendance] if c is not None),
        shown=_shown(given),
    )


def _period_lookup(
    state: JournalState, period: Period, student_id: str, lessons: frozenset[str]
) -> PeriodCell:
    marks = [
        c.value
        for lesson_id in lessons
        for c in _cell_marks(state, lesson_id, student_id)
        if isinstance(c.value, MarkGiven)
    ]
    cell = state.cells.get(("period_mark", period.id, student_id))
    return _period_figures(marks, cell.value if cell else None, bool(cell and cell.in_conflict))


def period_cell(state: JournalState, period: Period, student_id: str) -> PeriodCell:
    lessons = frozenset(lsn.lesson_id for lsn in lessons_in(state, period.starts, period.ends))
    return _period_lookup(state, period, student_id, lessons)


def roster_for_month(
    directory: Directory, journal: JournalInfo | str, month: dt.date
) -> list[GridRow]:
    """The journal's pupils in the month: the class's (a class id is the whole class's
    journal), or a group's (shared.groups)."""
    if isinstance(journal, str):
        journal = JournalInfo(id="", year_id=directory.year.id, class_id=journal, subject_id="x")
    first, last = month_start(month), month_end(month)
    members = {
        m.student_id
        for m in groups.memberships_of(directory)(journal)
        if m.starts <= last and (m.ends is None or m.ends >= first)
    }
    students = [s for s in directory.class_roster(journal.class_id) if s.id in members]
    return [
        GridRow(number=n, student_id=s.id, name=s.short_name)
        for n, s in enumerate(students, start=1)
    ]


def _label(lesson: LessonRecorded, doubled: bool) -> str:
    return f"{lesson.date:%d}" + (SUPERSCRIPT.get(lesson.slot, "") if doubled else "")


def build_month_grid(
    state: JournalState, directory: Directory, journal: JournalInfo, month: dt.date
) -> MonthGrid:
    month = month_start(month)
    last = month_end(month)
    lessons = lessons_in(state, month, last)
    per_day: dict[dt.date, int] = {}
    for lesson in lessons:
        per_day[lesson.date] = per_day.get(lesson.date, 0) + 1
    columns = tuple(
        GridColumn(
            lesson_id=lesson.lesson_id,
            date=lesson.date,
            slot=lesson.slot,
            label=_label(lesson, per_day[lesson.date] > 1),
            topic=lesson.topic,
            homework=lesson.homework,
            work_kind=lesson.work_kind,
        )
        for lesson in lessons
    )
    rows = tuple(roster_for_month(directory, journal, month))
    index = _Index(state)
    cells = {
        (row.student_id, column.lesson_id): index.cell(column.lesson_id, row.student_id)
        for row in rows
        for column in columns
    }
    spans: dict[str, list[Membership]] = {}
    for m in groups.memberships_of(directory)(journal):
        spans.setdefault(m.student_id, []).append(m)
    for row in rows:
        for column in columns:
            if not any(m.covers(column.date) for m in spans.get(row.student_id, ())):
                key = (row.student_id, column.lesson_id)
                cells[key] = msgspec.structs.replace(cells[key], outside=True)
    grade = next((c.grade for c in directory.classes if c.id == journal.class_id), 0)
    period = period_for_month(directory.periods, month, term_kind(directory, grade))
    period_cells: dict[str, PeriodCell] = {}
    in_period: frozenset[str] = frozenset()
    if period is not None:
        in_period = frozenset(
            lsn.lesson_id for lsn in lessons_in(state, period.starts, period.ends)
        )
        period_cells = {
            row.student_id: index.period(period, row.student_id, in_period) for row in rows
        }
    topics = sorted(
        {
            key[4]
            for key in state.cells
            if period is not None
            and key[0] == "period_mark"
            and len(key) == 5
            and key[1] == period.id
            and key[3] == MarkKind.THEMATIC.value
        }
    )
    year_columns = tuple(
        (f"{MarkKind.THEMATIC.value}|{topic}", f"Т.{topic[:2]}", period.id)
        for topic in topics
        if period is not None
    ) + tuple(
        (c.kind.value, c.title, c.period.id)
        for c in class_columns(directory, journal.class_id)
        if c.kind is not MarkKind.PERIOD
    )
    scale = journal_scale(directory, journal.class_id, journal.subject_id)
    year_cells = {}
    for column, _title, period_id in year_columns:
        kind, topic = column_kind(column)
        for row in rows:
            mark = state.period_mark(period_id, row.student_id, kind, topic)
            if mark is not None:
                year_cells[(row.student_id, column)] = mark_text(mark.value, special=mark.special)
    return MonthGrid(
        journal_id=journal.id,
        month=month,
        writable=journal.writable,
        columns=columns,
        rows=rows,
        cells=cells,
        period=period,
        period_cells=period_cells,
        period_lessons=in_period,
        year_columns=year_columns,
        year_cells=year_cells,
        scale=scale.name_ru,
        modifiers=scale.modifiers,
    )
