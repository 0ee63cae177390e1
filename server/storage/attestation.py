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


class PupilAttendance(msgspec.Struct, frozen=True):
    """One pupil's attendance in a class over a range: lessons missed (н, б, у), of them for
    illness (б), excused (у), without reason (н); whole days missed (every lesson the class
    had that day), of them for illness (every one «б»); lateness (о)."""

    class_id: str
    student_id: str
    missed: int
    ill: int
    excused: int
    absent: int
    days: int
    ill_days: int
    late: int


def pupil_attendance(
    conn: sqlite3.Connection,
    journal_ids: list[str],
    date_from: str | None,
    date_to: str | None,
    attends: list[tuple[str, str, str, str | None]] = (),
) -> list[PupilAttendance]:
    """Counted in SQL from the absences kept with their lesson's date (`absence_facts`) and
    the lessons held per class and day (`lesson_facts`): per pupil and day, then per pupil.
    Neither is joined to the 130k lessons of a year nor to their 900k attendance rows.

    `attends` lists, for group journals (issue 15), who attends them and when: (journal,
    pupil, starts, ends). A group journal's lessons count only in its own pupils' day, so a
    day is missed when the pupil missed every lesson *they* had; without group journals the
    query is the class-wide one."""
    if not journal_ids:
        return []
    grouped = sorted({a[0] for a in attends})
    whole = [j for j in journal_ids if j not in set(grouped)]
    absences, params = _dates(date_from, date_to, alias="x")
    lessons, _ = _dates(date_from, date_to, alias="f")
    sql = f"""
        WITH per_day AS (
            SELECT j.class_id, x.student_id, x.date,
                   sum(x.code IN ('absent', 'ill', 'excused')) AS missed,
                   sum(x.code = 'ill') AS ill, sum(x.code = 'excused') AS excused,
                   sum(x.code = 'absent') AS absent, sum(x.code = 'late') AS late
            FROM absence_facts x JOIN journals j ON j.id = x.journal_id
            WHERE x.journal_id IN ({_in(journal_ids)}){absences}
            GROUP BY j.class_id, x.student_id, x.date),
        held AS (
            SELECT j.class_id, f.date, count(*) AS lessons
            FROM lesson_facts f JOIN journals j ON j.id = f.journal_id
            WHERE f.journal_id IN ({_in(whole) if whole else "NULL"}){lessons}
            GROUP BY j.class_id, f.date),
        attends AS (
            SELECT json_extract(value, '$[0]') AS journal_id,
                   json_extract(value, '$[1]') AS student_id,
                   json_extract(value, '$[2]') AS starts, json_extract(value, '$[3]') AS ends
            FROM json_each(?)),
        held_in_group AS (
            SELECT j.class_id, a.student_id, f.date, count(*) AS lessons
            FROM lesson_facts f JOIN journals j ON j.id = f.journal_id
            JOIN attends a ON a.journal_id = f.journal_id AND a.starts <= f.date
                 AND (a.ends IS NULL OR a.ends >= f.date)
            WHERE f.journal_id IN ({_in(grouped) if grouped else "NULL"}){lessons}
            GROUP BY j.class_id, a.student_id, f.date),
        had AS (
            SELECT p.*, coalesce(h.lessons, 0) + coalesce(g.lessons, 0) AS lessons
            FROM per_day p
            LEFT JOIN held h ON h.class_id = p.class_id AND h.date = p.date
            LEFT JOIN held_in_group g ON g.class_id = p.class_id
                 AND g.student_id = p.student_id AND g.date = p.date)
        SELECT class_id, student_id, sum(missed), sum(ill), sum(excused), sum(absent),
               sum(missed > 0 AND missed >= lessons),
               sum(missed > 0 AND missed >= lessons AND ill = missed), sum(late)
        FROM had WHERE lessons > 0
        GROUP BY class_id, student_id"""
    rows = conn.execute(
        sql,
        [
            *journal_ids,
            *params,
            *whole,
            *params,
            msgspec.json.encode([list(a) for a in attends]).decode(),
            *grouped,
            *params,
        ],
    )
    return [PupilAttendance(*row) for row in rows]


def _dates(date_from: str | None, date_to: str | None, alias: str = "l") -> tuple[str, list[str]]:
    """The lessons' date range as SQL (on `alias`.date: `l` is the lessons table) and its
    parameters."""
    sql, params = "", []
    if date_from:
        sql += f" AND {alias}.date >= ?"
        params.append(date_from)
    if date_to:
        sql += f" AND {alias}.date <= ?"
        params.append(date_to)
    return sql, params


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
