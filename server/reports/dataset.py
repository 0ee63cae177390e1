"""What every report starts from: the consolidated rows a filter selects, loaded once."""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass, field

import msgspec

from server.storage import consolidated
from shared.model import Directory, JournalInfo


class Filters(msgspec.Struct, frozen=True, kw_only=True):
    """Any date range, class, subject or teacher (all optional)."""

    date_from: dt.date | None = None
    date_to: dt.date | None = None
    class_id: str | None = None
    subject_id: str | None = None
    teacher_id: str | None = None

    def describe(self, directory: Directory) -> str:
        parts = []
        if self.date_from or self.date_to:
            a = f"{self.date_from:%d.%m.%Y}" if self.date_from else "начала года"
            b = f"{self.date_to:%d.%m.%Y}" if self.date_to else "сегодня"
            parts.append(f"с {a} по {b}")
        if self.class_id:
            name = next((c.name for c in directory.classes if c.id == self.class_id), "?")
            parts.append(f"класс {name}")
        if self.subject_id:
            parts.append(next((s.name for s in directory.subjects if s.id == self.subject_id), "?"))
        if self.teacher_id:
            parts.append(
                "учитель "
                + next((s.short_name for s in directory.staff if s.id == self.teacher_id), "?")
            )
        return ", ".join(parts) or "весь учебный год, все классы"


@dataclass
class Dataset:
    directory: Directory
    filters: Filters
    journals: dict[str, JournalInfo]
    lessons: list[consolidated.LessonRow] = field(default_factory=list)
    marks: list[consolidated.MarkRow] = field(default_factory=list)
    attendance: list[consolidated.AttendanceRow] = field(default_factory=list)
    span: dict = field(default_factory=dict)  # the query arguments the rows were read with

    def student_name(self, student_id: str) -> str:
        return self._students.get(student_id, student_id)

    def class_name(self, class_id: str) -> str:
        return self._classes.get(class_id, class_id)

    def subject_name(self, subject_id: str) -> str:
        return self._subjects.get(subject_id, subject_id)

    def staff_name(self, staff_id: str) -> str:
        return self._staff.get(staff_id, staff_id)

    def __post_init__(self) -> None:
        d = self.directory
        self._students = {s.id: s.full_name for s in d.students}
        self._classes = {c.id: c.name for c in d.classes}
        self._subjects = {s.id: s.name for s in d.subjects}
        self._staff = {s.id: s.short_name for s in d.staff}
        grade = {c.id: (c.grade, c.letter) for c in d.classes}
        self._class_order = lambda class_id: grade.get(class_id, (99, class_id))

    def class_key(self, class_id: str) -> tuple:
        return self._class_order(class_id)


def select_journals(directory: Directory, filters: Filters) -> dict[str, JournalInfo]:
    taught = None
    if filters.teacher_id:
        taught = {
            (t.class_id, t.subject_id)
            for t in directory.teaching
            if t.teacher_id == filters.teacher_id
        }
    return {
        j.id: j
        for j in directory.journals
        if (filters.class_id is None or j.class_id == filters.class_id)
        and (filters.subject_id is None or j.subject_id == filters.subject_id)
        and (taught is None or (j.class_id, j.subject_id) in taught)
    }


def load(
    conn: sqlite3.Connection,
    directory: Directory,
    filters: Filters,
    *,
    lessons: bool = True,
    marks: bool = True,
    attendance: bool = True,
    absences_only: bool = False,
) -> Dataset:
    """Only the row kinds a report needs: a school year's attendance is most of the rows."""
    journals = select_journals(directory, filters)
    data = Dataset(directory=directory, filters=filters, journals=journals)
    if not journals:
        return data
    data.span = span = {
        "year_id": directory.year.id,
        "date_from": filters.date_from.isoformat() if filters.date_from else None,
        "date_to": filters.date_to.isoformat() if filters.date_to else None,
        "class_ids": sorted({j.class_id for j in journals.values()}),
    }
    if lessons:
        data.lessons = [r for r in consolidated.lessons(conn, **span) if r.journal_id in journals]
    if marks:
        data.marks = [r for r in consolidated.marks(conn, **span) if r.journal_id in journals]
    if attendance:
        data.attendance = [
            r
            for r in consolidated.attendance(conn, **span, absences_only=absences_only)
            if r.journal_id in journals
        ]
    return data
