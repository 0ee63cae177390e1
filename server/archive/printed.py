"""The printable forms of the archive, made with the printing layer (server/printing):
the class journal, the summary sheet and the pupil's personal-file extract.

Every function takes what it prints as arguments (the directory at closing, a journal's folded
state, a connection to consolidated rows) and a fixed timestamp, so the same archive read back
years later prints byte for byte the same PDFs. Each PDF is also available as a job
(`*_job`, `*_parts`) for the process pool of server/printing/pool.py; `archival` PDFs are
PDF/A-2b (server/printing/pdf.py), what packages of format 2 hold.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections import defaultdict
from typing import Any

import msgspec

from server.printing import table_csv, table_xlsx
from server.printing.pdf import PdfJob, compile_job, pdf_job, table_job
from server.reports.summary_sheet import YEAR_KINDS, SummarySheet, summary_sheet
from server.storage import consolidated
from shared import groups
from shared.fold import JournalState
from shared.model import (
    ATTENDANCE_LETTERS,
    Directory,
    JournalInfo,
    PeriodKind,
    Role,
    Student,
    WorkKind,
    parse_journal_id,
)
from shared.scales import mark_text

MONTHS = (
    "Январь",
    "Февраль",
    "Март",
    "Апрель",
    "Май",
    "Июнь",
    "Июль",
    "Август",
    "Сентябрь",
    "Октябрь",
    "Ноябрь",
    "Декабрь",
)
WORK_KINDS = {
    WorkKind.REGULAR: "урок",
    WorkKind.CONTROL: "контрольная работа",
    WorkKind.PRACTICAL: "практическая работа",
    WorkKind.LABORATORY: "лабораторная работа",
    WorkKind.INDEPENDENT: "самостоятельная работа",
}
LEGEND = (
    "Обозначения: н — отсутствовал, б — болел (есть медицинский документ), "
    "у — отсутствовал по уважительной причине, о — опоздал."
)


def _date(day: dt.date) -> str:
    return f"{day:%d.%m.%Y}"


def class_name(directory: Directory, class_id: str) -> str:
    return next((c.name for c in directory.classes if c.id == class_id), class_id)


def subject_name(directory: Directory, subject_id: str) -> str:
    return next((s.name for s in directory.subjects if s.id == subject_id), subject_id)


def staff_name(directory: Directory, person_id: str) -> str:
    person = next((s for s in directory.staff if s.id == person_id), None)
    return person.short_name if person else person_id


def director_name(directory: Directory) -> str:
    director = next((s for s in directory.staff if Role.DIRECTOR in s.roles), None)
    return director.short_name if director else ""


def teachers_of(directory: Directory, journal: JournalInfo) -> list[str]:
    """The journal's teachers: the class's of the subject, or the group's (shared.groups)."""
    return [staff_name(directory, t) for t in sorted(groups.teachers_of(directory)(journal))]


def journal_folder(journal: JournalInfo) -> str:
    """A journal's folder in a package: `journals/<class>/<subject>`, and `<subject>+<group>`
    for a group's journal (a folder per group: two groups must not share one)."""
    return f"journals/{journal.class_id}/{parse_journal_id(journal.id)[2]}"


def pupils_of_year(directory: Directory) -> list[Student]:
    """Every pupil who belonged to one of the year's classes, in class-list order."""
    ids = {m.student_id for m in directory.memberships}
    return [s for s in directory.students if s.id in ids]


def _periods_in_order(directory: Directory, used: set[str]):
    periods = [p for p in directory.periods if p.id in used]
    return sorted(periods, key=lambda p: (YEAR_KINDS.index(p.kind), p.starts))


# ----------------------------------------------------------------- the class journal


def journal_print_data(
    directory: Directory,
    journal: JournalInfo,
    state: JournalState,
    printed: dt.datetime,
    corrections: list[dict] = (),
) -> dict:
    roster = groups.roster(directory, journal)
    lessons = state.lessons()
    months: dict[tuple[int, int], list] = defaultdict(list)
    for lesson in lessons:
        months[(lesson.date.year, lesson.date.month)].append(lesson)
    month_pages = []
    for (year, month), held in sorted(months.items()):
        rows = []
        for number, pupil in enumerate(roster, start=1):
            cells = []
            for lesson in held:
                code = state.attendance(lesson.lesson_id, pupil.id)
                letter = ATTENDANCE_LETTERS.get(code, "") if code else ""
                marks = "/".join(
                    mark_text(m.value, m.modifier, m.special)
                    for m in state.marks(lesson.lesson_id, pupil.id)
                )
                cells.append(" ".join(x for x in (letter, marks) if x))
            rows.append([str(number), pupil.short_name, *cells])
        month_pages.append(
            {
                "name": f"{MONTHS[month - 1]} {year}",
                "dates": [f"{lesson.date:%d}" for lesson in held],
                "rows": rows,
            }
        )
    used = {key[1] for key in state.cells if key[0] == "period_mark"}
    periods = _periods_in_order(directory, used)
    period_rows = []
    for number, pupil in enumerate(roster, start=1):
        marks = [state.period_mark(p.id, pupil.id) for p in periods]
        period_rows.append(
            [
                str(number),
                pupil.full_name,
                *(mark_text(m.value, "", m.special) if m else "" for m in marks),
            ]
        )
    return {
        "title": "Классный журнал",
        "school": directory.school.name,
        "district": directory.school.district,
        "year_name": directory.year.name,
        "class_name": class_name(directory, journal.class_id),
        "subject": groups.section_title(directory, journal),
        "teachers": teachers_of(directory, journal) or ["—"],
        "director": director_name(directory),
        "legend": LEGEND,
        "printed": _date(printed.date()),
        "months": month_pages,
        "lessons": [
            [_date(x.date), x.topic, x.homework, WORK_KINDS.get(x.work_kind, "")] for x in lessons
        ],
        "period_header": ["№", "Ученик", *(p.name for p in periods)],
        "period_rows": period_rows,
        "corrections": [
            [
                dt.datetime.fromtimestamp(c["logged_at"], dt.UTC).strftime("%d.%m.%Y"),
                staff_name(directory, c["author"]),
                ", ".join(c["supersedes"]),
                c["reason"],
            ]
            for c in corrections
        ],
    }


JOURNAL_TEMPLATE = "archive_journal"


def journal_job(
    directory: Directory,
    journal: JournalInfo,
    state: JournalState,
    printed: dt.datetime,
    corrections: list[dict] = (),
    *,
    archival: bool = True,
) -> PdfJob:
    data = journal_print_data(directory, journal, state, printed, corrections)
    return pdf_job(JOURNAL_TEMPLATE, data, timestamp=printed, archival=archival)


# ----------------------------------------------------------------- the summary sheet


def summary_files(*args: Any, **kwargs: Any) -> tuple[SummarySheet, dict[str, bytes]]:
    """The sheet and its files, the PDF compiled; arguments as for `summary_parts`."""
    sheet, job, files = summary_parts(*args, **kwargs)
    return sheet, {"summary.pdf": compile_job(job), **files}


def summary_parts(
    conn: sqlite3.Connection,
    directory: Directory,
    class_id: str,
    printed: dt.datetime,
    subject_id: str | None = None,
    *,
    archival: bool = True,
) -> tuple[SummarySheet, PdfJob, dict[str, bytes]]:
    """The class's summary sheet as PDF, XLSX and CSV (printing layer of issue 4); with
    `subject_id`, that one journal's columns only (000 §7.3: sent as soon as it is complete).
    Returns (sheet, its PDF still to compile, XLSX and CSV)."""
    sheet = summary_sheet(conn, class_id, directory=directory)
    if not archival:
        # format 1 titled every column with its period's name («Учебный год», not «Год»):
        # printed again the way it was made
        names = {p.id: p.name for p in directory.periods}
        periods = tuple(
            msgspec.structs.replace(c, name=names.get(c.id, c.name)) for c in sheet.periods
        )
        sheet = msgspec.structs.replace(sheet, periods=periods)
    if subject_id is not None:
        sheet = msgspec.structs.replace(
            sheet,
            subjects=tuple(s for s in sheet.subjects if s.id == subject_id),
            rows=tuple(
                msgspec.structs.replace(
                    row, marks={k: v for k, v in row.marks.items() if k == subject_id}
                )
                for row in sheet.rows
            ),
        )
    header, rows = sheet.table()
    title = f"Сводная ведомость {sheet.class_name} {sheet.year_name}"
    data = sheet.print_data()
    if archival:  # the archived copy is signed and sealed (000 §7.3); format 1 was not
        data |= {"director": director_name(directory), "printed": _date(printed.date())}
    job = pdf_job("summary_sheet", data, timestamp=printed, archival=archival)
    return (
        sheet,
        job,
        {"summary.xlsx": table_xlsx(title, header, rows), "summary.csv": table_csv(header, rows)},
    )


# ----------------------------------------------------------------- personal files


def personal_marks(conn: sqlite3.Connection, directory: Directory) -> dict[str, list]:
    """student id -> [(subject name, {period id: mark})] for the year, subjects by name."""
    by_student: dict[str, dict[str, dict[str, int]]] = defaultdict(dict)
    for m in consolidated.period_marks(conn, year_id=directory.year.id):
        by_student[m.student_id].setdefault(m.subject_id, {})[m.period_id] = m.value
    return {
        student: sorted(
            ((subject_name(directory, s), marks) for s, marks in subjects.items()),
            key=lambda item: item[0],
        )
        for student, subjects in by_student.items()
    }


def personal_parts(
    directory: Directory,
    pupil: Student,
    marks: list,
    printed: dt.datetime,
    *,
    archival: bool = True,
) -> tuple[PdfJob, dict[str, bytes]]:
    """Отметки за год для личного дела (000 §4.2.3, 002 §2.9.4), one page per pupil: (its PDF
    job, the CSV); the PDF is compiled by the caller (the pool)."""
    used = {p for _, by_period in marks for p in by_period}
    periods = _periods_in_order(directory, used) or [
        p for p in directory.periods if p.kind == PeriodKind.YEAR
    ]
    header = ["Предмет", *(p.name for p in periods)]
    rows = [[name, *(by_period.get(p.id) for p in periods)] for name, by_period in marks]
    classes = sorted(
        {
            class_name(directory, m.class_id)
            for m in directory.memberships
            if m.student_id == pupil.id
        }
    )
    born = f", дата рождения {_date(pupil.birth_date)}" if pupil.birth_date else ""
    subtitle = (
        f"{pupil.full_name}{born}; {', '.join(classes)} класс; {directory.school.name}; "
        f"{directory.year.name} учебный год"
    )
    job = table_job(
        "Отметки за учебный год для личного дела обучающегося",
        header,
        rows,
        subtitle=subtitle,
        notes=[f"Распечатано из электронного журнала {_date(printed.date())}."],
        timestamp=printed,
        archival=archival,
    )
    return job, {"year-marks.csv": table_csv(header, rows)}
