"""Reading what the results report and the attendance summary count (issue 16): the SQL only.

Counted in SQL, one row per group: a whole year of a 1,000-pupil school has about a million
attendance rows, most of them «present», which the partial index of absences skips.
"""

from __future__ import annotations

import sqlite3

import msgspec


class ColumnMark(msgspec.Struct, frozen=True):
    """A period or year cell of a pupil: a number, or a special value (value 0)."""

    class_id: str
    subject_id: str
    period_id: str
    student_id: str
    value: int
    special: str  # "", pass, fail, na, exempt


def _in(values: list[str]) -> str:
    return ",".join("?" * len(values))


def column_marks(
    conn: sqlite3.Connection, journal_ids: list[str], period_ids: list[str]
) -> list[ColumnMark]:
    """The period/year cells of the journals for these periods: plain numbers from
    `period_marks`, «н/а», «осв.», зач/незач from `attestation_marks`."""
    if not journal_ids or not period_ids:
        return []
    j, p = _in(journal_ids), _in(period_ids)
    sql = (
        "SELECT j.class_id, j.subject_id, m.period_id, m.student_id, m.value, '' "
        f"FROM period_marks m JOIN journals j ON j.id = m.journal_id "
        f"WHERE m.journal_id IN ({j}) AND m.period_id IN ({p}) "
        "UNION ALL "
        "SELECT j.class_id, j.subject_id, a.period_id, a.student_id, a.value, a.special "
        f"FROM attestation_marks a JOIN journals j ON j.id = a.journal_id "
        f"WHERE a.journal_id IN ({j}) AND a.period_id IN ({p}) AND a.column_kind = ''"
    )
    params = [*journal_ids, *period_ids, *journal_ids, *period_ids]
    return [ColumnMark(*row) for row in conn.execute(sql, params)]


class AbsenceDay(msgspec.Struct, frozen=True):
    """A pupil's attendance entries other than «present» on one day, by code."""

    class_id: str
    student_id: str
    date: str
    code: str
    lessons: int


def absence_days(
    conn: sqlite3.Connection,
    journal_ids: list[str],
    date_from: str | None,
    date_to: str | None,
) -> list[AbsenceDay]:
    if not journal_ids:
        return []
    sql = (
        "SELECT j.class_id, a.student_id, l.date, a.code, count(*) FROM attendance a "
        "JOIN lessons l ON l.journal_id = a.journal_id AND l.lesson_id = a.lesson_id "
        "JOIN journals j ON j.id = a.journal_id "
        f"WHERE a.code != 'present' AND a.journal_id IN ({_in(journal_ids)})"
    )
    dates, params = _dates(date_from, date_to)
    sql += dates + " GROUP BY j.class_id, a.student_id, l.date, a.code"
    return [AbsenceDay(*row) for row in conn.execute(sql, [*journal_ids, *params])]


def _dates(date_from: str | None, date_to: str | None) -> tuple[str, list[str]]:
    """The lessons' date range as SQL (`l` is the lessons table) and its parameters."""
    sql, params = "", []
    if date_from:
        sql += " AND l.date >= ?"
        params.append(date_from)
    if date_to:
        sql += " AND l.date <= ?"
        params.append(date_to)
    return sql, params


def lessons_per_day(
    conn: sqlite3.Connection,
    journal_ids: list[str],
    date_from: str | None,
    date_to: str | None,
) -> dict[tuple[str, str], int]:
    """(journal, date) -> lessons held that day in the journal (a group's lessons are only
    its pupils' lessons: the caller adds up the journals each pupil belongs to)."""
    if not journal_ids:
        return {}
    sql = (
        "SELECT l.journal_id, l.date, count(*) FROM lessons l "
        f"WHERE l.journal_id IN ({_in(journal_ids)})"
    )
    dates, params = _dates(date_from, date_to)
    sql += dates + " GROUP BY l.journal_id, l.date"
    return {(j, d): n for j, d, n in conn.execute(sql, [*journal_ids, *params])}


class ResultCell(msgspec.Struct, frozen=True):
    """A period, year, exam or final cell of a pupil, as printed pages and files show it."""

    class_id: str
    subject_id: str
    period_id: str
    student_id: str
    column: str  # "" (period or year), "exam", "final"
    value: int
    special: str  # "", pass, fail, na, exempt (value 0)


def result_cells(
    conn: sqlite3.Connection,
    *,
    year_id: str | None = None,
    class_id: str | None = None,
    student_id: str | None = None,
) -> list[ResultCell]:
    """Every period, year, exam and final mark of a year, a class or a pupil (thematic marks
    are not results): plain numbers from `period_marks`, the rest from `attestation_marks`."""
    where, params = [], []
    for column, value in (("j.year_id", year_id), ("j.class_id", class_id)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    if student_id is not None:
        where.append("m.student_id = ?")
        params.append(student_id)
    cond = " AND ".join(where) or "1"
    sql = (
        "SELECT j.class_id, j.subject_id, m.period_id, m.student_id, '', m.value, '' "
        f"FROM period_marks m JOIN journals j ON j.id = m.journal_id WHERE {cond} "
        "UNION ALL "
        "SELECT j.class_id, j.subject_id, m.period_id, m.student_id, m.column_kind, m.value, "
        "m.special FROM attestation_marks m JOIN journals j ON j.id = m.journal_id "
        f"WHERE {cond} AND m.column_kind IN ('', 'exam', 'final')"
    )
    return [ResultCell(*row) for row in conn.execute(sql, [*params, *params])]
