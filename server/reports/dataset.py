"""What every report starts from: the journals a filter selects, the scope of its queries and
the names of people, classes and subjects. The reports read their figures through
server.storage.consolidated, counted in SQL (one row per group, not per entry)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import msgspec

from shared import groups
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
    # the keyword arguments of the consolidated queries; empty when no journal is selected
    span: dict = field(default_factory=dict)

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
    teachers = groups.teachers_of(directory)  # a group's journal: its own teachers only
    return {
        j.id: j
        for j in directory.journals
        if (filters.class_id is None or j.class_id == filters.class_id)
        and (filters.subject_id is None or j.subject_id == filters.subject_id)
        and (not filters.teacher_id or filters.teacher_id in teachers(j))
    }


def load(directory: Directory, filters: Filters) -> Dataset:
    """The selected journals and the query scope: year, date range and the journals' ids."""
    journals = select_journals(directory, filters)
    data = Dataset(directory=directory, filters=filters, journals=journals)
    if journals:
        data.span = {
            "year_id": directory.year.id,
            "date_from": filters.date_from.isoformat() if filters.date_from else None,
            "date_to": filters.date_to.isoformat() if filters.date_to else None,
            "journal_ids": sorted(journals),
        }
    return data
