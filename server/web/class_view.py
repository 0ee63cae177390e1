"""The class teacher's view: every subject × every pupil of one class, read-only, and the
parents' consent and acknowledgement status; the paper diary extract for one pupil."""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass, field

from server.storage import consolidated
from server.storage import web as storage
from server.storage.attestation import result_cells
from server.web.diary import WORK_KINDS
from shared import groups
from shared.columns import KIND_TITLES, result_column_id, result_columns, result_text
from shared.grades import average_text, weighted_average
from shared.model import ATTENDANCE_LETTERS, AttendanceCode, Directory, MarkKind, Period, PeriodKind


@dataclass
class SubjectGrid:
    subject: str
    dates: list[str]  # column headers dd.mm
    work_kinds: list[str]
    rows: list[tuple[str, list[str], str]]  # (pupil, cells, average)
    # the chosen period's mark per row («5», «н/а», «осв.», «зач»), under the period's name
    result_title: str = ""
    results: list[str] = field(default_factory=list)


@dataclass
class ParentStatus:
    parent_id: str
    parent_name: str
    student_id: str
    student_name: str
    consent: str  # "given" | "refused" | ""
    consent_at: float | None
    acknowledged_at: float | None
    period_acknowledged_at: float | None = None  # the period's marks seen (004 §2.2.2)


def current_period(directory: Directory, today: dt.date) -> Period | None:
    quarters = [p for p in directory.periods if p.kind in (PeriodKind.QUARTER, PeriodKind.HALF)]
    for p in quarters:
        if p.starts <= today <= p.ends:
            return p
    started = [p for p in quarters if p.starts <= today]
    return started[-1] if started else (quarters[0] if quarters else None)


def membership_note(directory: Directory, class_id: str, student_id: str) -> str:
    """« (с 20.09)» for a pupil who joined after the year began, « (выбыл 30.09)» for one
    who left the class; "" for a pupil of the whole year. Their records stay either way."""
    spans = sorted(
        (m for m in directory.memberships if m.class_id == class_id and m.student_id == student_id),
        key=lambda m: m.starts,
    )
    if not spans:
        return ""
    notes = []
    if spans[0].starts > directory.year.starts:
        notes.append(f"с {spans[0].starts:%d.%m}")
    if spans[-1].ends is not None and spans[-1].ends < directory.year.ends:
        notes.append(f"выбыл {spans[-1].ends:%d.%m}")
    return f" ({', '.join(notes)})" if notes else ""


def average(values: list[tuple[int, int]]) -> str:
    """Weighted average of (mark, weight), two decimals with a comma; '' when there are none
    (shared.grades: the grid, the class view and the reports average alike)."""
    return average_text(weighted_average(values))


def result_title(period: Period | None) -> str:
    """The chosen period's mark column: «1 четверть», «2 полугодие» or «Год»."""
    if period is None:
        return ""
    return KIND_TITLES[MarkKind.YEAR] if period.kind is PeriodKind.YEAR else period.name


def subject_grids(
    conn: sqlite3.Connection,
    directory: Directory,
    class_id: str,
    starts: dt.date,
    ends: dt.date,
    period: Period | None = None,
) -> list[SubjectGrid]:
    """Each subject's lessons of the span with marks and absences, the average, and the
    `period`'s mark when one is given."""
    year = directory.year.id
    span = {"date_from": starts.isoformat(), "date_to": ends.isoformat(), "class_ids": [class_id]}
    lessons = consolidated.lessons(conn, year_id=year, **span)
    marks = consolidated.marks(conn, year_id=year, **span)
    attendance = consolidated.attendance(conn, year_id=year, **span)
    roster = directory.class_roster(class_id)
    labels = {s.id: s.short_name + membership_note(directory, class_id, s.id) for s in roster}
    names = {s.id: s.name for s in directory.subjects}
    cells: dict[tuple[str, str, str], list[str]] = {}
    weighted: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for m in marks:
        cells.setdefault((m.journal_id, m.lesson_id, m.student_id), []).append(m.text)
        if 1 <= m.value <= 5:  # зач/незач (value 0) are no number to average
            weighted.setdefault((m.journal_id, m.student_id), []).append((m.value, m.weight))
    for a in attendance:
        if a.code != AttendanceCode.PRESENT.value:
            letter = ATTENDANCE_LETTERS[AttendanceCode(a.code)]
            cells.setdefault((a.journal_id, a.lesson_id, a.student_id), []).insert(0, letter)
    by_journal: dict[str, list] = {}
    for lesson in lessons:
        by_journal.setdefault(lesson.journal_id, []).append(lesson)
    subject_of = {j.id: j.subject_id for j in directory.journals if j.class_id == class_id}
    infos = {j.id: j for j in directory.journals if j.class_id == class_id}
    results = {
        (c.subject_id, c.student_id): result_text(c.value, c.special)
        for c in result_cells(conn, year_id=year, class_id=class_id)
        if period is not None and c.period_id == period.id and not c.column
    }
    grids = []
    for journal_id in sorted(subject_of, key=lambda j: (names.get(subject_of[j], ""), j)):
        found = by_journal.get(journal_id, [])
        info = infos[journal_id]
        pupils = groups.roster(directory, info) if info.group else roster  # a group: its own
        grids.append(
            SubjectGrid(
                subject=groups.section_title(directory, info),
                dates=[dt.date.fromisoformat(x.date).strftime("%d.%m") for x in found],
                work_kinds=[WORK_KINDS.get(x.work_kind, "") for x in found],
                rows=[
                    (
                        labels[s.id],
                        [" ".join(cells.get((journal_id, x.lesson_id, s.id), [])) for x in found],
                        average(weighted.get((journal_id, s.id), [])),
                    )
                    for s in pupils
                ],
                result_title=result_title(period),
                results=[results.get((subject_of[journal_id], s.id), "") for s in pupils],
            )
        )
    return grids


def parent_statuses(
    conn: sqlite3.Connection,
    directory: Directory,
    class_id: str,
    week: dt.date,
    period_id: str | None = None,
) -> list[ParentStatus]:
    roster = directory.class_roster(class_id)
    names = {s.id: s.full_name for s in roster}
    links = storage.parents_of(conn, list(names))
    consents = storage.consents(conn, [p["id"] for p in links])
    acks = storage.acknowledgements(conn, list(names), week.isoformat())
    seen = (
        storage.acknowledgements(conn, list(names), storage.period_key(period_id))
        if period_id
        else {}
    )
    result = []
    for link in sorted(links, key=lambda p: (names[p["student_id"]], p["last_name"])):
        consent = consents.get((link["id"], link["student_id"]))
        result.append(
            ParentStatus(
                parent_id=link["id"],
                parent_name=" ".join(
                    x for x in (link["last_name"], link["first_name"], link["patronymic"]) if x
                ),
                student_id=link["student_id"],
                student_name=names[link["student_id"]],
                consent=consent.status if consent else "",
                consent_at=consent.recorded_at if consent else None,
                acknowledged_at=acks.get((link["id"], link["student_id"])),
                period_acknowledged_at=seen.get((link["id"], link["student_id"])),
            )
        )
    return result


def extract_data(
    conn: sqlite3.Connection,
    directory: Directory,
    student_id: str,
    class_id: str,
    starts: dt.date,
    ends: dt.date,
    period_name: str,
) -> dict:
    """What templates/diary_extract.typ prints: a pupil's lessons, marks and absences."""
    student = next(s for s in directory.students if s.id == student_id)
    school_class = next(c for c in directory.classes if c.id == class_id)
    names = {s.id: s.name for s in directory.subjects}
    year = directory.year.id
    span = {"date_from": starts.isoformat(), "date_to": ends.isoformat(), "class_ids": [class_id]}
    lessons = consolidated.lessons(conn, year_id=year, **span)
    marks: dict[tuple[str, str], list[str]] = {}
    for m in consolidated.marks(conn, year_id=year, student_id=student_id, **span):
        marks.setdefault((m.journal_id, m.lesson_id), []).append(m.text)
    absent: dict[tuple[str, str], str] = {}
    for a in consolidated.attendance(conn, year_id=year, student_id=student_id, **span):
        if a.code != AttendanceCode.PRESENT.value:
            absent[(a.journal_id, a.lesson_id)] = ATTENDANCE_LETTERS[AttendanceCode(a.code)]
    rows = [
        [
            dt.date.fromisoformat(x.date).strftime("%d.%m.%Y"),
            names.get(x.subject_id, x.subject_id),
            x.topic,
            x.homework,
            " ".join(marks.get((x.journal_id, x.lesson_id), [])),
            absent.get((x.journal_id, x.lesson_id), ""),
        ]
        for x in lessons
    ]
    cells = result_cells(conn, year_id=year, class_id=class_id, student_id=student_id)
    titles = {
        c.id: c.title
        for c in result_columns(
            directory.periods, {result_column_id(x.period_id, x.column) for x in cells}
        )
    }
    order = list(titles)
    period_rows = sorted(
        (
            names.get(c.subject_id, c.subject_id),
            order.index(result_column_id(c.period_id, c.column)),
            titles[result_column_id(c.period_id, c.column)],
            result_text(c.value, c.special),
        )
        for c in cells
        if result_column_id(c.period_id, c.column) in titles
    )
    return {
        "title": "Выписка из электронного дневника",
        "school": directory.school.name,
        "student": student.full_name,
        "class_name": school_class.name,
        "period": f"{period_name}: {starts:%d.%m.%Y} — {ends:%d.%m.%Y}",
        "header": ["Дата", "Предмет", "Тема урока", "Домашнее задание", "Отметки", "Пропуск"],
        "rows": rows,
        "period_marks": [[s, title, text] for s, _, title, text in period_rows],
        "printed": dt.date.today().strftime("%d.%m.%Y"),
    }
