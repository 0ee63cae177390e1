"""Сводная ведомость: period and year marks of every pupil of a class in every subject."""

from __future__ import annotations

import sqlite3

import msgspec

from server.storage import directory as directory_storage
from server.storage.attestation import result_cells
from shared.columns import result_column_id, result_columns, result_text
from shared.model import Directory, PeriodKind

YEAR_KINDS = (PeriodKind.QUARTER, PeriodKind.HALF, PeriodKind.YEAR)


class Column(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str


class SummaryRow(msgspec.Struct, frozen=True, kw_only=True):
    number: int  # № in the class list
    student_id: str
    student_name: str
    # subject id -> column id -> mark (absent when not set): a number, or the regulation's
    # word («н/а», «осв.», «зач», «незач»); the exam and final columns are «<year id>:exam»…
    marks: dict[str, dict[str, int | str]]


class SummarySheet(msgspec.Struct, frozen=True, kw_only=True):
    """Сводная ведомость учёта успеваемости of one class for one school year."""

    school: str
    year_id: str
    year_name: str
    class_id: str
    class_name: str
    periods: tuple[Column, ...]  # quarters/halves in use, «Год», «Экз.» and «Итог» if any
    subjects: tuple[Column, ...]
    rows: tuple[SummaryRow, ...]

    def mark(self, student_id: str, subject_id: str, period_id: str) -> int | str | None:
        for row in self.rows:
            if row.student_id == student_id:
                return row.marks.get(subject_id, {}).get(period_id)
        return None

    def table(self) -> tuple[list[str], list[list[object]]]:
        """Flat form for XLSX/CSV: one line per pupil and subject, a column per period."""
        header = ["№", "Ученик", "Предмет", *(p.name for p in self.periods)]
        lines: list[list[object]] = []
        for row in self.rows:
            for subject in self.subjects:
                marks = row.marks.get(subject.id, {})
                lines.append(
                    [
                        row.number,
                        row.student_name,
                        subject.name,
                        *(marks.get(p.id) for p in self.periods),
                    ]
                )
        return header, lines

    def print_data(self) -> dict:
        """What templates/summary_sheet.typ reads: one grid (pupils × subjects) per period."""
        return {
            "title": "Сводная ведомость учёта успеваемости",
            "school": self.school,
            "class_name": self.class_name,
            "year_name": self.year_name,
            "subjects": [s.name for s in self.subjects],
            "grids": [
                {
                    "period": period.name,
                    "rows": [
                        [
                            str(row.number),
                            row.student_name,
                            *(
                                str(row.marks.get(s.id, {}).get(period.id, ""))
                                for s in self.subjects
                            ),
                        ]
                        for row in self.rows
                    ],
                }
                for period in self.periods
            ],
        }


def summary_sheet(
    conn: sqlite3.Connection, class_id: str, *, directory: Directory | None = None
) -> SummarySheet:
    """The summary sheet of a class for its school year, from the consolidated period marks.

    Columns are the quarters or halves the class has marks for (quarters when it has none yet),
    then the year; subjects are those taught in the class; pupils are every pupil who belonged
    to the class during the year, in the order of the class list.
    """
    school_class = None
    if directory is not None:
        school_class = next((c for c in directory.classes if c.id == class_id), None)
    if school_class is None:
        row = conn.execute("SELECT year_id FROM classes WHERE id = ?", (class_id,)).fetchone()
        if row is None:
            raise LookupError(f"нет такого класса: {class_id}")
        directory = directory_storage.load_full(conn, row["year_id"])
        school_class = next(c for c in directory.classes if c.id == class_id)
    assert directory is not None
    cells = result_cells(conn, year_id=directory.year.id, class_id=class_id)
    periods = [p for p in directory.periods if p.year_id == directory.year.id]
    used = {result_column_id(c.period_id, c.column) for c in cells}
    columns = tuple(Column(id=c.id, name=c.title) for c in result_columns(periods, used))
    names = {s.id: s.name for s in directory.subjects}
    taught = {t.subject_id for t in directory.teaching if t.class_id == class_id}
    taught |= {c.subject_id for c in cells}
    subjects = tuple(
        sorted((Column(id=s, name=names.get(s, s)) for s in taught), key=lambda c: c.name)
    )
    by_student: dict[str, dict[str, dict[str, int | str]]] = {}
    for c in cells:
        shown = c.value if not c.special else result_text(c.value, c.special)
        marks = by_student.setdefault(c.student_id, {}).setdefault(c.subject_id, {})
        marks[result_column_id(c.period_id, c.column)] = shown
    rows = tuple(
        SummaryRow(
            number=number,
            student_id=student.id,
            student_name=student.full_name,
            marks=by_student.get(student.id, {}),
        )
        for number, student in enumerate(directory.class_roster(class_id), start=1)
    )
    return SummarySheet(
        school=directory.school.name,
        year_id=directory.year.id,
        year_name=directory.year.name,
        class_id=class_id,
        class_name=school_class.name,
        periods=columns,
        subjects=subjects,
        rows=rows,
    )
