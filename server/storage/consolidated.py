"""Reading the consolidated rows for diaries and reports: the SQL, and nothing decided here."""

from __future__ import annotations

import sqlite3

import msgspec


class PeriodMarkRow(msgspec.Struct, frozen=True, kw_only=True):
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
    return [PeriodMarkRow(**dict(row)) for row in conn.execute(sql, params).fetchall()]
