"""Reading the consolidated rows for diaries and reports: the SQL, and nothing decided here."""

from __future__ import annotations

import sqlite3

import msgspec


class PeriodMarkRow(msgspec.Struct, frozen=True):
    """Fields in the order of the SELECT that reads them."""

    class_id: str
    subject_id: str
    period_id: str
    student_id: str
    value: int
    mark_kind: str
    author: str


def period_marks(
    conn: sqlite3.Connection, *, year_id: str, class_id: str | None = None
) -> list[PeriodMarkRow]:
    """Period and year marks of a school year, of one class or all."""
    sql = (
        "SELECT j.class_id, j.subject_id, p.period_id, p.student_id, p.value, p.mark_kind, "
        "p.author FROM period_marks p JOIN journals j ON j.id = p.journal_id "
        "WHERE j.year_id = ?"
    )
    params: list[object] = [year_id]
    if class_id is not None:
        sql += " AND j.class_id = ?"
        params.append(class_id)
    return [PeriodMarkRow(*row) for row in conn.execute(sql, params).fetchall()]


class LessonRow(msgspec.Struct, frozen=True):
    """Fields in the order of the SELECT that reads them."""

    journal_id: str
    class_id: str
    subject_id: str
    lesson_id: str
    date: str  # ISO
    slot: int
    topic: str
    homework: str
    work_kind: str
    author: str
    hlc: str


class MarkRow(msgspec.Struct, frozen=True):
    """Fields in the order of the SELECT that reads them."""

    journal_id: str
    class_id: str
    subject_id: str
    lesson_id: str
    date: str
    topic: str
    student_id: str
    slot: int
    value: int
    work_kind: str
    weight: int
    author: str
    hlc: str


class AttendanceRow(msgspec.Struct, frozen=True):
    """Fields in the order of the SELECT that reads them."""

    journal_id: str
    class_id: str
    subject_id: str
    lesson_id: str
    date: str
    topic: str
    student_id: str
    code: str
    author: str
    hlc: str


def _where(
    year_id: str,
    date_from: str | None,
    date_to: str | None,
    class_ids: list[str] | None,
    student_id: str | None = None,
    alias: str = "x",
) -> tuple[str, list[object]]:
    clauses, params = ["j.year_id = ?"], [year_id]
    if date_from:
        clauses.append("l.date >= ?")
        params.append(date_from)
    if date_to:
        clauses.append("l.date <= ?")
        params.append(date_to)
    if class_ids is not None:
        clauses.append(f"j.class_id IN ({','.join('?' * len(class_ids))})")
        params.extend(class_ids)
    if student_id is not None:
        clauses.append(f"{alias}.student_id = ?")
        params.append(student_id)
    return " AND ".join(clauses), params


def lessons(
    conn: sqlite3.Connection,
    *,
    year_id: str,
    date_from: str | None = None,
    date_to: str | None = None,
    class_ids: list[str] | None = None,
) -> list[LessonRow]:
    where, params = _where(year_id, date_from, date_to, class_ids)
    rows = conn.execute(
        "SELECT l.journal_id, j.class_id, j.subject_id, l.lesson_id, l.date, l.slot, l.topic, "
        "l.homework, l.work_kind, l.author, l.hlc FROM lessons l "
        f"JOIN journals j ON j.id = l.journal_id WHERE {where} ORDER BY l.date, l.slot",
        params,
    )
    return [LessonRow(*r) for r in rows.fetchall()]


def marks(
    conn: sqlite3.Connection,
    *,
    year_id: str,
    date_from: str | None = None,
    date_to: str | None = None,
    class_ids: list[str] | None = None,
    student_id: str | None = None,
) -> list[MarkRow]:
    where, params = _where(year_id, date_from, date_to, class_ids, student_id, "m")
    rows = conn.execute(
        "SELECT m.journal_id, j.class_id, j.subject_id, m.lesson_id, l.date, l.topic, "
        "m.student_id, m.slot, m.value, m.work_kind, m.weight, m.author, m.hlc FROM marks m "
        "JOIN lessons l ON l.journal_id = m.journal_id AND l.lesson_id = m.lesson_id "
        f"JOIN journals j ON j.id = m.journal_id WHERE {where} ORDER BY l.date, l.slot, m.slot",
        params,
    )
    return [MarkRow(*r) for r in rows.fetchall()]


def attendance(
    conn: sqlite3.Connection,
    *,
    year_id: str,
    date_from: str | None = None,
    date_to: str | None = None,
    class_ids: list[str] | None = None,
    student_id: str | None = None,
    absences_only: bool = False,
) -> list[AttendanceRow]:
    """Attendance rows; `absences_only` skips «present» (most rows of a school year)."""
    where, params = _where(year_id, date_from, date_to, class_ids, student_id, "a")
    if absences_only:
        where += " AND a.code != 'present'"
    rows = conn.execute(
        "SELECT a.journal_id, j.class_id, j.subject_id, a.lesson_id, l.date, l.topic, "
        "a.student_id, a.code, a.author, a.hlc FROM attendance a "
        "JOIN lessons l ON l.journal_id = a.journal_id AND l.lesson_id = a.lesson_id "
        f"JOIN journals j ON j.id = a.journal_id WHERE {where} ORDER BY l.date, l.slot",
        params,
    )
    return [AttendanceRow(*r) for r in rows.fetchall()]


def student_period_marks(conn: sqlite3.Connection, student_id: str) -> list[PeriodMarkRow]:
    rows = conn.execute(
        "SELECT j.class_id, j.subject_id, p.period_id, p.student_id, p.value, p.mark_kind, "
        "p.author FROM period_marks p JOIN journals j ON j.id = p.journal_id "
        "WHERE p.student_id = ?",
        (student_id,),
    )
    return [PeriodMarkRow(*r) for r in rows.fetchall()]


class CorrectionRow(msgspec.Struct, frozen=True, kw_only=True):
    journal_id: str
    event_id: str
    kind: str
    author: str
    hlc: str
    reason: str
    body: str
    supersedes: str  # JSON list of ids
    old_bodies: str  # JSON list of the superseded events' bodies


def corrections(conn: sqlite3.Connection, journal_ids: list[str]) -> list[CorrectionRow]:
    """Events by people that supersede earlier ones: the history the correction log shows."""
    if not journal_ids:
        return []
    marks_ = ",".join("?" * len(journal_ids))
    rows = conn.execute(
        "SELECT e.journal_id, e.id AS event_id, e.kind, e.author, e.hlc, e.reason, e.body, "
        "e.supersedes, (SELECT json_group_array(o.body) FROM json_each(e.supersedes) s "
        "JOIN events o ON o.id = s.value) AS old_bodies FROM events e "
        f"WHERE e.journal_id IN ({marks_}) AND (e.supersedes != '[]' OR e.reason != '') "
        "AND e.kind != 'refusal' "
        "AND e.status != 'refused' ORDER BY e.hlc",
        journal_ids,
    )
    return [CorrectionRow(**dict(r)) for r in rows.fetchall()]


def conflicts(conn: sqlite3.Connection, journal_ids: list[str]) -> list[dict]:
    """Cells where concurrent corrections disagree (the winner is shown, the losers listed)."""
    if not journal_ids:
        return []
    marks_ = ",".join("?" * len(journal_ids))
    rows = conn.execute(
        "SELECT journal_id, kind, author, hlc, body FROM events "
        f"WHERE journal_id IN ({marks_}) AND status = 'conflict' ORDER BY hlc",
        journal_ids,
    )
    return [dict(r) for r in rows.fetchall()]


def refused_events(conn: sqlite3.Connection, journal_ids: list[str]) -> list[dict]:
    if not journal_ids:
        return []
    marks_ = ",".join("?" * len(journal_ids))
    rows = conn.execute(
        "SELECT e.journal_id, e.kind, e.author, e.hlc, e.body, r.reason FROM events e "
        "JOIN events r ON r.id = 'refusal-' || e.id "
        f"WHERE e.journal_id IN ({marks_}) AND e.status = 'refused' ORDER BY e.hlc",
        journal_ids,
    )
    return [dict(r) for r in rows.fetchall()]


# an HLC stamp starts with 13 digits of wall milliseconds; its day in UTC+3, as days since 1970
_STAMP_DAY = "CAST((CAST(substr({0}.hlc, 1, 13) AS INTEGER) / 1000 + 10800) / 86400 AS INTEGER)"
_LESSON_DAY = "CAST(julianday(l.date) - 2440587.5 AS INTEGER)"


class DelayRow(msgspec.Struct, frozen=True):
    journal_id: str
    author: str
    entries: int
    total_days: int
    max_days: int
    late: int  # entries made more than `late_after` days after the lesson


def entry_delays(
    conn: sqlite3.Connection,
    *,
    year_id: str,
    late_after: int,
    date_from: str | None = None,
    date_to: str | None = None,
    class_ids: list[str] | None = None,
) -> list[DelayRow]:
    """Per journal and author: how many days after the lesson its entries were made."""
    where, params = _where(year_id, date_from, date_to, class_ids)
    parts = []
    for table, alias in (("lessons", "l"), ("marks", "m"), ("attendance", "a")):
        join = (
            ""
            if table == "lessons"
            else f"JOIN lessons l ON l.journal_id = {alias}.journal_id "
            f"AND l.lesson_id = {alias}.lesson_id "
        )
        parts.append(
            f"SELECT {alias}.journal_id AS journal_id, {alias}.author AS author, "
            f"{_STAMP_DAY.format(alias)} - {_LESSON_DAY} AS delay FROM {table} {alias} {join}"
            f"JOIN journals j ON j.id = {alias}.journal_id WHERE {where}"
        )
    rows = conn.execute(
        "SELECT journal_id, author, count(*), sum(delay), max(delay), "
        f"sum(delay > {int(late_after)}) FROM ({' UNION ALL '.join(parts)}) "
        "GROUP BY journal_id, author",
        params * 3,
    )
    return [DelayRow(*r) for r in rows.fetchall()]


def attended_lessons(
    conn: sqlite3.Connection,
    *,
    year_id: str,
    date_from: str | None = None,
    date_to: str | None = None,
    class_ids: list[str] | None = None,
) -> set[tuple[str, str]]:
    """Lessons with at least one attendance entry (journal id, lesson id)."""
    where, params = _where(year_id, date_from, date_to, class_ids)
    rows = conn.execute(
        "SELECT DISTINCT a.journal_id, a.lesson_id FROM attendance a "
        "JOIN lessons l ON l.journal_id = a.journal_id AND l.lesson_id = a.lesson_id "
        f"JOIN journals j ON j.id = a.journal_id WHERE {where}",
        params,
    )
    return {(r[0], r[1]) for r in rows.fetchall()}
