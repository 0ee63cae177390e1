"""The class teacher's view: every subject × every pupil of one class, read-only, and the
parents' consent and acknowledgement status; the paper diary extract for one pupil."""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass

from server.storage import consolidated
from server.storage import web as storage
from server.web.diary import WORK_KINDS
from shared.grades import average_text, weighted_average
from shared.model import ATTENDANCE_LETTERS, AttendanceCode, Directory, Period, PeriodKind


@dataclass
class SubjectGrid:
    subject: str
    dates: list[str]  # column headers dd.mm
    work_kinds: list[str]
    rows: list[tuple[str, list[str], str]]  # (pupil, cells, average)


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


def subject_grids(
    conn: sqlite3.Connection, directory: Directory, class_id: str, starts: dt.date, ends: dt.date
) -> list[SubjectGrid]:
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
        cells.setdefault((m.journal_id, m.lesson_id, m.student_id), []).append(str(m.value))
        weighted.setdefault((m.journal_id, m.student_id), []).append((m.value, m.weight))
    for a in attendance:
        if a.code != AttendanceCode.PRESENT.value:
            letter = ATTENDANCE_LETTERS[AttendanceCode(a.code)]
            cells.setdefault((a.journal_id, a.lesson_id, a.student_id), []).insert(0, letter)
    by_journal: dict[str, list] = {}
    for lesson in lessons:
        by_journal.setdefault(lesson.journal_id, []).append(lesson)
    subject_of = {j.id: j.subject_id for j in directory.journals if j.class_id == class_id}
    grids = []
    for journal_id in sorted(subject_of, key=lambda j: names.get(subject_of[j], "")):
        found = by_journal.get(journal_id, [])
        grids.append(
            SubjectGrid(
                subject=names.get(subject_of[journal_id], subject_of[journal_id]),
                dates=[dt.date.fromisoformat(x.date).strftime("%d.%m") for x in found],
                work_kinds=[WORK_KINDS.get(x.work_kind, "") for x in found],
                rows=[
                    (
                        labels[s.id],
                        [" ".join(cells.get((journal_id, x.lesson_id, s.id), [])) for x in found],
                        average(weighted.get((journal_id, s.id), [])),
                    )
                    for s in roster
                ],
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
        marks.setdefault((m.journal_id, m.lesson_id), []).append(str(m.value))
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
    period_rows = [
        [names.get(p.subject_id, p.subject_id), p.period_id, str(p.value)]
        for p in consolidated.student_period_marks(conn, student_id)
        if p.class_id == class_id
    ]
    period_names = {p.id: p.name for p in directory.periods}
    return {
        "title": "Выписка из электронного дневника",
        "school": directory.school.name,
        "student": student.full_name,
        "class_name": school_class.name,
        "period": f"{period_name}: {starts:%d.%m.%Y} — {ends:%d.%m.%Y}",
        "header": ["Дата", "Предмет", "Тема урока", "Домашнее задание", "Отметки", "Пропуск"],
        "rows": rows,
        "period_marks": [[s, period_names.get(p, p), v] for s, p, v in sorted(period_rows)],
        "printed": dt.date.today().strftime("%d.%m.%Y"),
    }
