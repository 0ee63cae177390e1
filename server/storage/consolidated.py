"""Reading the consolidated rows for diaries and reports: the SQL, and nothing decided here."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

import msgspec

from shared.model import MarkSpecial
from shared.scales import mark_text


class PeriodMarkRow(msgspec.Struct, frozen=True):
    """Fields in the order of the SELECT that reads them."""

    class_id: str
    subject_id: str
    period_id: str
    student_id: str
    value: int
    mark_kind: str
    author: str


_PERIOD_MARKS = (
    "SELECT j.class_id, j.subject_id, p.period_id, p.student_id, p.value, p.mark_kind, "
    "p.author FROM period_marks p JOIN journals j ON j.id = p.journal_id WHERE "
)


def period_marks(
    conn: sqlite3.Connection, *, year_id: str, class_id: str | None = None
) -> list[PeriodMarkRow]:
    """Period and year marks of a school year, of one class or all."""
    sql, params = _PERIOD_MARKS + "j.year_id = ?", [year_id]
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
    modifier: str = ""  # «+» or «-» of a «4+» (issue 16)
    special: str = ""  # MarkSpecial of зач/незач (value 0); '' for a number

    @property
    def text(self) -> str:
        """As the journal prints it: «5», «4+», «зач»."""
        return mark_text(self.value, self.modifier, MarkSpecial(self.special))


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
    journal_ids: list[str] | None = None,
) -> tuple[str, list[object]]:
    clauses, params = ["j.year_id = ?"], [year_id]
    if journal_ids is not None:
        clauses.append(f"{alias}.journal_id IN ({','.join('?' * len(journal_ids))})")
        params.extend(journal_ids)
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


def _join_lesson(table: str, alias: str) -> str:
    """`table` joined with its lesson (as `l`), for the lesson's date; lessons need no join."""
    if table == "lessons":
        return f"lessons {alias}"
    return (
        f"{table} {alias} JOIN lessons l ON l.journal_id = {alias}.journal_id "
        f"AND l.lesson_id = {alias}.lesson_id"
    )


def _lesson_rows(
    conn: sqlite3.Connection,
    select: str,
    table: str,
    scope: dict,
    *,
    alias: str,
    extra: str = "",
    extra_params: tuple = (),
    tail: str = "ORDER BY l.date, l.slot",
) -> list[tuple]:
    """Rows of `table` with their lesson and journal, in the scope a diary or report asks for.

    `scope` holds the keyword arguments of `_where` (year, dates, classes, journals, student)."""
    where, params = _where(alias=alias, **scope)
    return conn.execute(
        f"SELECT {select} FROM {_join_lesson(table, alias)} "
        f"JOIN journals j ON j.id = {alias}.journal_id WHERE {where}{extra} {tail}",
        [*params, *extra_params],
    ).fetchall()


def lessons(
    conn: sqlite3.Connection,
    *,
    year_id: str,
    date_from: str | None = None,
    date_to: str | None = None,
    class_ids: list[str] | None = None,
    journal_ids: list[str] | None = None,
    work_kind: str | None = None,
) -> list[LessonRow]:
    """Lessons in date order; `work_kind` keeps only lessons of that kind (control works)."""
    rows = _lesson_rows(
        conn,
        "l.journal_id, j.class_id, j.subject_id, l.lesson_id, l.date, l.slot, l.topic, "
        "l.homework, l.work_kind, l.author, l.hlc",
        "lessons",
        _scope(year_id, date_from, date_to, class_ids, journal_ids),
        alias="l",
        extra=" AND l.work_kind = ?" if work_kind else "",
        extra_params=(work_kind,) if work_kind else (),
    )
    return [LessonRow(*r) for r in rows]


def _scope(year_id, date_from, date_to, class_ids, journal_ids, student_id=None) -> dict:
    return {
        "year_id": year_id,
        "date_from": date_from,
        "date_to": date_to,
        "class_ids": class_ids,
        "journal_ids": journal_ids,
        "student_id": student_id,
    }


def marks(
    conn: sqlite3.Connection,
    *,
    year_id: str,
    date_from: str | None = None,
    date_to: str | None = None,
    class_ids: list[str] | None = None,
    student_id: str | None = None,
    journal_ids: list[str] | None = None,
    failing: bool = False,
) -> list[MarkRow]:
    """Marks in lesson order; `failing` keeps only unsatisfactory ones («2», «1», «незач»)."""
    rows = _lesson_rows(
        conn,
        "m.journal_id, j.class_id, j.subject_id, m.lesson_id, l.date, l.topic, "
        "m.student_id, m.slot, m.value, m.work_kind, m.weight, m.author, m.hlc, m.modifier, "
        "m.special",
        "marks",
        _scope(year_id, date_from, date_to, class_ids, journal_ids, student_id),
        alias="m",
        extra=f" AND ({NUMERIC} AND m.value <= 2 OR m.special = 'fail')" if failing else "",
        tail="ORDER BY l.date, l.slot, m.slot",
    )
    return [MarkRow(*r) for r in rows]


def attendance(
    conn: sqlite3.Connection,
    *,
    year_id: str,
    date_from: str | None = None,
    date_to: str | None = None,
    class_ids: list[str] | None = None,
    student_id: str | None = None,
    absences_only: bool = False,
    journal_ids: list[str] | None = None,
    codes: tuple[str, ...] | None = None,
) -> list[AttendanceRow]:
    """Attendance rows; `absences_only` skips «present» (most rows of a school year), through
    the partial index of the rows that are not «present»; `codes` keeps only those codes."""
    extra, extra_params = "", ()
    if absences_only or codes:
        extra = " AND a.code != 'present'"
    if codes:
        extra += f" AND a.code IN ({','.join('?' * len(codes))})"
        extra_params = tuple(codes)
    rows = _lesson_rows(
        conn,
        "a.journal_id, j.class_id, j.subject_id, a.lesson_id, l.date, l.topic, "
        "a.student_id, a.code, a.author, a.hlc",
        "attendance",
        _scope(year_id, date_from, date_to, class_ids, journal_ids, student_id),
        alias="a",
        extra=extra,
        extra_params=extra_params,
    )
    return [AttendanceRow(*r) for r in rows]


class MarkTally(msgspec.Struct, frozen=True):
    """Marks of one group counted in SQL: how many of each value, and the weighted sums."""

    key: tuple[str, ...]
    count: int
    fives: int
    fours: int
    threes: int
    twos: int
    ones: int
    total: int  # sum of values
    weighted: int  # sum of value × weight
    weight: int  # sum of weights
    first: str  # "subject" tallies: date and slot of the first mark (YYYY-MM-DD1), else ""


# A mark that counts in tallies and averages (shared.grades.counts): a number 1-5. Зач/незач
# are kept with value 0 (the scale rule refuses a special with a number), so the value alone
# tells, and the tallies stay on the covering index `marks_values`.
NUMERIC = "m.value BETWEEN 1 AND 5"

# what a tally can be grouped by: the columns of its key
TALLY_KEYS = {
    "student": ("j.class_id", "m.student_id"),
    "subject": ("j.class_id", "m.student_id", "j.subject_id"),
    "lesson": ("m.journal_id", "m.lesson_id"),
}


def mark_tallies(
    conn: sqlite3.Connection,
    by: str,
    *,
    year_id: str,
    date_from: str | None = None,
    date_to: str | None = None,
    journal_ids: list[str] | None = None,
    class_ids: list[str] | None = None,
    work_kind: str | None = None,
) -> list[MarkTally]:
    """The numeric marks of a scope counted per group (`TALLY_KEYS`): one row per group, not
    per mark; `work_kind` counts only the marks of lessons of that kind. Зач/незач are not
    numbers and count in no tally or average."""
    keys = TALLY_KEYS[by]
    # a lesson's slot is one digit (1-4, LessonRecorded), so date || slot sorts as (date, slot)
    first = "min(l.date || l.slot)" if by == "subject" else "''"
    rows = _lesson_rows(
        conn,
        f"{', '.join(keys)}, count(*), sum(m.value = 5), sum(m.value = 4), sum(m.value = 3), "
        "sum(m.value = 2), sum(m.value = 1), sum(m.value), sum(m.value * m.weight), "
        f"sum(m.weight), {first}",
        "marks",
        _scope(year_id, date_from, date_to, class_ids, journal_ids),
        alias="m",
        extra=f" AND {NUMERIC}" + (" AND l.work_kind = ?" if work_kind else ""),
        extra_params=(work_kind,) if work_kind else (),
        tail=f"GROUP BY {', '.join(keys)}",
    )
    n = len(keys)
    return [MarkTally(tuple(r[:n]), *r[n:]) for r in rows]


def student_period_marks(conn: sqlite3.Connection, student_id: str) -> list[PeriodMarkRow]:
    rows = conn.execute(_PERIOD_MARKS + "p.student_id = ?", (student_id,))
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


def _events(
    conn: sqlite3.Connection, select: str, where: str, journal_ids: list[str], join: str = ""
) -> list:
    """Events of the given journals (`e`) that match `where`, oldest first."""
    if not journal_ids:
        return []
    return conn.execute(
        f"SELECT {select} FROM events e {join} WHERE e.journal_id IN "
        f"({','.join('?' * len(journal_ids))}) AND {where} ORDER BY e.hlc",
        journal_ids,
    ).fetchall()


def corrections(conn: sqlite3.Connection, journal_ids: list[str]) -> list[CorrectionRow]:
    """Events by people that supersede earlier ones: the history the correction log shows."""
    rows = _events(
        conn,
        "e.journal_id, e.id AS event_id, e.kind, e.author, e.hlc, e.reason, e.body, "
        "e.supersedes, (SELECT json_group_array(o.body) FROM json_each(e.supersedes) s "
        "JOIN events o ON o.id = s.value) AS old_bodies",
        "(e.supersedes != '[]' OR e.reason != '') AND e.kind != 'refusal' "
        "AND e.status != 'refused'",
        journal_ids,
    )
    return [CorrectionRow(**dict(r)) for r in rows]


def conflicts(conn: sqlite3.Connection, journal_ids: list[str]) -> list[dict]:
    """Cells where concurrent corrections disagree (the winner is shown, the losers listed)."""
    rows = _events(
        conn, "e.journal_id, e.kind, e.author, e.hlc, e.body", "e.status = 'conflict'", journal_ids
    )
    return [dict(r) for r in rows]


def refused_events(conn: sqlite3.Connection, journal_ids: list[str]) -> list[dict]:
    rows = _events(
        conn,
        "e.journal_id, e.kind, e.author, e.hlc, e.body, r.reason",
        "e.status = 'refused'",
        journal_ids,
        join=f"JOIN events r ON r.id = ({_LATEST_REFUSAL})",
    )
    return [dict(r) for r in rows]


# The refusal in force of a refused event `e`: `refusal-<id>`, or after a reopened year withdrew
# it and the entry broke another rule, the newest `refusal-<id>.N` (server/sync/consolidate.py).
# The range keeps it on the primary key; the last test drops ids that merely start alike.
_LATEST_REFUSAL = (
    "SELECT x.id FROM events x WHERE x.id >= 'refusal-' || e.id "
    "AND x.id < 'refusal-' || e.id || '/' AND (x.id = 'refusal-' || e.id "
    "OR substr(x.id, length('refusal-' || e.id) + 1, 1) = '.') ORDER BY x.hlc DESC LIMIT 1"
)


def first_lesson_date(
    conn: sqlite3.Connection,
    lesson_id: str,
    *,
    year_id: str,
    date_from: str | None = None,
    date_to: str | None = None,
    journal_ids: list[str] | None = None,
) -> str | None:
    """The date of the first lesson with this id in the scope (ISO), or None."""
    rows = _lesson_rows(
        conn,
        "l.date",
        "lessons",
        _scope(year_id, date_from, date_to, None, journal_ids),
        alias="l",
        extra=" AND l.lesson_id = ?",
        extra_params=(lesson_id,),
        tail="ORDER BY l.date, l.slot LIMIT 1",
    )
    return rows[0][0] if rows else None


# --------------------------------------------------------------------------- report aggregates
#
# The completeness report counts every lesson, mark and attendance entry of its scope: for a
# whole school year that is over a million rows, too slow to read per request. Small tables
# keep what it needs per lesson, rewritten with the lesson's rows in the same transaction
# (`refresh_lesson_aggregates`, called by journals.write_cells):
#   lesson_facts: the lesson's author, whether its topic is blank, whether it has attendance;
#   entry_delays: per author and delay in days, how many of its entries were made that late.
#   absence_facts: the lesson's absences (every code but «present»), for the attendance
#   summary (issue 16).
# All carry the lesson's date so that any date range is a range of their primary keys.
AGGREGATE_TABLES = ("entry_delays", "lesson_facts", "absence_facts")

# an HLC stamp starts with 13 digits of wall milliseconds; its day in UTC+3, as days since 1970
_STAMP_DAY = "CAST((CAST(substr({0}.hlc, 1, 13) AS INTEGER) / 1000 + 10800) / 86400 AS INTEGER)"
_LESSON_DAY = "CAST(julianday(l.date) - 2440587.5 AS INTEGER)"


def _entries(lesson_filter: str) -> str:
    """Every entry (lesson, mark, attendance) of the lessons matching `lesson_filter`, with
    its delay in days; one `?` pair per part when the filter takes (journal, lesson)."""
    parts = []
    for table, alias in (("lessons", "l"), ("marks", "m"), ("attendance", "a")):
        parts.append(
            f"SELECT l.journal_id AS journal_id, l.date AS date, l.lesson_id AS lesson_id, "
            f"{alias}.author AS author, {_STAMP_DAY.format(alias)} - {_LESSON_DAY} AS delay "
            f"FROM {_join_lesson(table, alias)} WHERE {lesson_filter}"
        )
    return " UNION ALL ".join(parts)


def _rebuild(conn: sqlite3.Connection, lesson_filter: str, params: tuple) -> None:
    conn.execute(
        "INSERT INTO entry_delays (journal_id, date, lesson_id, author, delay, entries) "
        f"SELECT journal_id, date, lesson_id, author, delay, count(*) FROM "
        f"({_entries(lesson_filter)}) GROUP BY journal_id, date, lesson_id, author, delay",
        params * 3,
    )
    rows = conn.execute(
        "SELECT l.journal_id, l.date, l.lesson_id, l.author, l.topic, EXISTS (SELECT 1 FROM "
        "attendance a WHERE a.journal_id = l.journal_id AND a.lesson_id = l.lesson_id) "
        f"FROM lessons l WHERE {lesson_filter}",
        params,
    ).fetchall()
    conn.executemany(
        "INSERT INTO lesson_facts (journal_id, date, lesson_id, author, blank_topic, attended) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [(r[0], r[1], r[2], r[3], int(not r[4].strip()), r[5]) for r in rows],
    )
    conn.execute(
        "INSERT INTO absence_facts (journal_id, date, lesson_id, student_id, code) "
        "SELECT l.journal_id, l.date, l.lesson_id, a.student_id, a.code FROM "
        f"{_join_lesson('attendance', 'a')} WHERE a.code != 'present' AND {lesson_filter}",
        params,
    )


def refresh_lesson_aggregates(
    conn: sqlite3.Connection, journal_id: str, lesson_ids: Iterable[str]
) -> None:
    """Recount the aggregates of these lessons from their consolidated rows (a lesson that is
    gone leaves none). Call inside the transaction that rewrote the rows."""
    for lesson_id in set(lesson_ids):
        key = (journal_id, lesson_id)
        for table in AGGREGATE_TABLES:
            conn.execute(f"DELETE FROM {table} WHERE journal_id = ? AND lesson_id = ?", key)
        _rebuild(conn, "l.journal_id = ? AND l.lesson_id = ?", key)


def rebuild_lesson_aggregates(conn: sqlite3.Connection) -> None:
    """Recount every lesson's aggregates (a database made before they existed)."""
    for table in AGGREGATE_TABLES:
        conn.execute(f"DELETE FROM {table}")
    _rebuild(conn, "1", ())


def _aggregated(
    conn: sqlite3.Connection,
    select: str,
    table: str,
    group_by: str,
    params: tuple,
    *,
    year_id: str,
    date_from: str | None,
    date_to: str | None,
    journal_ids: list[str] | None,
) -> list[tuple]:
    """`select` over an aggregate table (as `x`) in the scope of a report, grouped."""
    where, scope_params = _where(year_id, None, None, None, alias="x", journal_ids=journal_ids)
    for op, day in ((">=", date_from), ("<=", date_to)):
        if day:
            where += f" AND x.date {op} ?"
            scope_params.append(day)
    return conn.execute(
        f"SELECT {select} FROM {table} x JOIN journals j ON j.id = x.journal_id "
        f"WHERE {where} GROUP BY {group_by}",
        [*params, *scope_params],
    ).fetchall()


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
    journal_ids: list[str] | None = None,
) -> list[DelayRow]:
    """Per journal and author: how many days after the lesson its entries were made."""
    rows = _aggregated(
        conn,
        "x.journal_id, x.author, sum(x.entries), sum(x.delay * x.entries), max(x.delay), "
        "sum(CASE WHEN x.delay > ? THEN x.entries ELSE 0 END)",
        "entry_delays",
        "x.journal_id, x.author",
        (int(late_after),),
        year_id=year_id,
        date_from=date_from,
        date_to=date_to,
        journal_ids=journal_ids,
    )
    return [DelayRow(*r) for r in rows]


class LessonFacts(msgspec.Struct, frozen=True):
    author: str
    lessons: int
    blank_topic: int
    not_attended: int  # lessons without a single attendance entry


def lesson_facts(
    conn: sqlite3.Connection,
    *,
    year_id: str,
    date_from: str | None = None,
    date_to: str | None = None,
    journal_ids: list[str] | None = None,
) -> list[LessonFacts]:
    """Per author of lessons: how many, how many without a topic, how many without attendance."""
    rows = _aggregated(
        conn,
        "x.author, count(*), sum(x.blank_topic), sum(1 - x.attended)",
        "lesson_facts",
        "x.author",
        (),
        year_id=year_id,
        date_from=date_from,
        date_to=date_to,
        journal_ids=journal_ids,
    )
    return [LessonFacts(*r) for r in rows]
