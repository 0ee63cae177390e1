"""The diary of one pupil: a week of lessons, period marks and the year's marks as a chart."""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass, field

from server.storage import consolidated
from server.storage.attestation import result_cells
from server.web.people import student_classes, week_start
from server.web.pupil_access import class_name_of
from server.web.svg import SubjectYear, marks_of_year, year_grid
from shared import groups
from shared.columns import result_column_id, result_columns, result_text
from shared.model import (
    ATTENDANCE_LETTERS,
    AttendanceCode,
    Directory,
    MarkKind,
    Period,
    Student,
)

WEEKDAYS = ("Понедельник", "Вторник", "Среда", "Четверг", "Пятница", "Суббота", "Воскресенье")
WORK_KINDS = {
    "regular": "",
    "control": "контрольная работа",
    "practical": "практическая работа",
    "laboratory": "лабораторная работа",
    "independent": "самостоятельная работа",
}
ABSENCES = {
    "absent": "н — отсутствовал",
    "ill": "б — болел (есть справка)",
    "excused": "у — уважительная причина",
    "late": "о — опоздал",
}


@dataclass
class DiaryLesson:
    subject: str
    slot: int
    topic: str
    homework: str
    work_kind: str
    marks: list[str] = field(default_factory=list)
    absence: str = ""


@dataclass
class DiaryDay:
    date: dt.date
    weekday: str
    lessons: list[DiaryLesson]


@dataclass
class Diary:
    student: Student
    class_name: str
    week: dt.date
    days: list[DiaryDay]
    periods: list[str]  # column names of the period marks table
    period_marks: list[tuple[str, list[str]]]  # (subject, marks per period column)
    year: list[SubjectYear]  # the year's marks per subject: chart and text
    year_grid: str  # the axes the subjects' charts share (svg.year_grid)
    # the latest quarter or half-year with marks: what the parent acknowledges (004 §2.2.2)
    marked_period: Period | None = None

    @property
    def previous_week(self) -> dt.date:
        return self.week - dt.timedelta(days=7)

    @property
    def next_week(self) -> dt.date:
        return self.week + dt.timedelta(days=7)


def build_diary(
    conn: sqlite3.Connection, directory: Directory, student: Student, week: dt.date
) -> Diary:
    week = week_start(week)
    sunday = week + dt.timedelta(days=6)
    class_ids = student_classes(directory, student.id)
    subjects = {s.id: s.name for s in directory.subjects}
    year = directory.year.id
    lessons = consolidated.lessons(
        conn,
        year_id=year,
        date_from=week.isoformat(),
        date_to=sunday.isoformat(),
        class_ids=class_ids,
    )
    attends = groups.attends(directory, student.id)  # the class's lessons and their group's
    lessons = [
        lesson
        for lesson in lessons
        if attends(lesson.journal_id, dt.date.fromisoformat(lesson.date))
    ]
    year_marks = consolidated.marks(conn, year_id=year, student_id=student.id)
    absences = consolidated.attendance(
        conn,
        year_id=year,
        date_from=week.isoformat(),
        date_to=sunday.isoformat(),
        student_id=student.id,
    )
    by_lesson: dict[tuple[str, str], DiaryLesson] = {}
    days: dict[dt.date, list[DiaryLesson]] = {}
    for lesson in lessons:
        item = DiaryLesson(
            subject=subjects.get(lesson.subject_id, lesson.subject_id),
            slot=lesson.slot,
            topic=lesson.topic,
            homework=lesson.homework,
            work_kind=WORK_KINDS.get(lesson.work_kind, ""),
        )
        by_lesson[(lesson.journal_id, lesson.lesson_id)] = item
        days.setdefault(dt.date.fromisoformat(lesson.date), []).append(item)
    for mark in year_marks:
        item = by_lesson.get((mark.journal_id, mark.lesson_id))
        if item is not None:
            kind = WORK_KINDS.get(mark.work_kind, "")
            item.marks.append(f"{mark.text} ({kind})" if kind else mark.text)
    for row in absences:
        item = by_lesson.get((row.journal_id, row.lesson_id))
        if item is not None and row.code != AttendanceCode.PRESENT.value:
            item.absence = ABSENCES.get(row.code, ATTENDANCE_LETTERS.get(row.code, row.code))
    week_days = [
        DiaryDay(date=day, weekday=WEEKDAYS[day.weekday()], lessons=days[day])
        for day in sorted(days)
    ]
    # period marks: quarters/halves the pupil has, «Год», «Экз.», «Итог», in the regulation's words
    own = result_cells(conn, year_id=year, student_id=student.id)
    periods = [p for p in directory.periods if p.year_id == year]
    used = {result_column_id(c.period_id, c.column) for c in own}
    columns = result_columns(periods, used)
    table: dict[str, dict[str, str]] = {}
    for c in own:
        table.setdefault(c.subject_id, {})[result_column_id(c.period_id, c.column)] = result_text(
            c.value, c.special
        )
    chart_points: dict[str, list[tuple[dt.date, int]]] = {}
    for mark in year_marks:
        if 1 <= mark.value <= 5:  # зач/незач (value 0) have no place on a chart of numbers
            chart_points.setdefault(mark.subject_id, []).append(
                (dt.date.fromisoformat(mark.date), mark.value)
            )
    subject_ids = sorted(set(table) | set(chart_points), key=lambda s: subjects.get(s, s))
    class_name = class_name_of(directory, student.id)  # the class now, not the first one
    return Diary(
        student=student,
        class_name=class_name,
        week=week,
        days=week_days,
        periods=[c.title for c in columns],
        period_marks=[
            (subjects.get(s, s), [table.get(s, {}).get(c.id, "") for c in columns])
            for s in subject_ids
            if s in table
        ],
        marked_period=max(
            (c.period for c in columns if c.kind is MarkKind.PERIOD and c.id in used),
            key=lambda p: p.ends,
            default=None,
        ),
        year_grid=year_grid(directory.year.starts, directory.year.ends),
        year=marks_of_year(
            [(subjects.get(s, s), chart_points[s]) for s in subject_ids if s in chart_points],
            directory.year.starts,
            directory.year.ends,
        ),
    )
