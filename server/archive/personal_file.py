"""The personal file (личное дело, 000 §4.2.3, 002 §2.9.4): every year mark of every subject,
per pupil, accumulated across years and classes.

The year marks land here when the year is closed (closing.close_year, in the same
transaction), copied with the names of the year, class and subject as they were, so the file
reads the same after the journals are destroyed by retention and after classes are renamed
in later years. Its own retention category is «personal_files» (3 years after leaving).
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass

from shared.columns import result_text
from shared.model import PeriodKind


def record_year(conn: sqlite3.Connection, year_id: str, now: float | None = None) -> int:
    """Copy the year's year marks into the personal files (the caller holds the transaction);
    returns how many marks were written. Running it again refreshes them."""
    return _copy(conn, "j.year_id = ?", (year_id,), now)


def refresh_journal(conn: sqlite3.Connection, journal_id: str, now: float | None = None) -> int:
    """After an authorised correction to a closed year's journal: that journal's year marks
    again, a retracted one removed; never for a pupil whose personal file was destroyed."""
    destroyed = {
        r[0]
        for r in conn.execute(
            "SELECT item FROM destruction_log WHERE category = 'personal_files'"
        ).fetchall()
    }
    row = conn.execute(
        "SELECT year_id, class_id, subject_id FROM journals WHERE id = ?", (journal_id,)
    ).fetchone()
    if row is None:
        return 0
    kept = conn.execute(
        "SELECT student_id FROM personal_file WHERE year_id = ? AND class_id = ? "
        "AND subject_id = ?",
        tuple(row),
    ).fetchall()
    for (student,) in kept:
        if student not in destroyed:
            conn.execute(
                "DELETE FROM personal_file WHERE student_id = ? AND year_id = ? "
                "AND class_id = ? AND subject_id = ?",
                (student, *tuple(row)),
            )
    marks = ",".join("?" * len(destroyed))
    spared = f" AND p.student_id NOT IN ({marks})" if destroyed else ""
    return _copy(conn, "j.id = ?" + spared, (journal_id, *destroyed), now)


def _copy(conn: sqlite3.Connection, where: str, params: tuple, now: float | None) -> int:
    """The year cells of the journals `where` selects: numbers from `period_marks`, «зач»,
    «незач», «н/а», «осв.» (value 0) from `attestation_marks` (issue 16)."""
    joins = (
        "JOIN periods pr ON pr.id = p.period_id "
        "JOIN journals j ON j.id = p.journal_id JOIN years y ON y.id = j.year_id "
        "JOIN classes c ON c.id = j.class_id JOIN subjects s ON s.id = j.subject_id"
    )
    head = "SELECT p.student_id, y.id, y.name, c.id, c.grade, c.letter, s.id, s.name, p.value"
    rows = conn.execute(
        f"{head}, '' FROM period_marks p {joins} WHERE pr.kind = ? AND {where} UNION ALL "
        f"{head}, p.special FROM attestation_marks p {joins} WHERE pr.kind = ? AND {where} "
        "AND p.column_kind = '' AND p.topic = ''",
        (PeriodKind.YEAR.value, *params, PeriodKind.YEAR.value, *params),
    ).fetchall()
    stamp = now or time.time()
    for student, year, year_name, class_id, grade, letter, subject, name, value, special in rows:
        conn.execute(
            "INSERT OR REPLACE INTO personal_file (student_id, year_id, year_name, class_id, "
            "class_name, subject_id, subject_name, value, recorded_at, special) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                student,
                year,
                year_name,
                class_id,
                f"{grade}{letter}",
                subject,
                name,
                value,
                stamp,
                special,
            ),
        )
    return len(rows)


def remove(conn: sqlite3.Connection, student_id: str, year_id: str) -> int:
    """Destroy one year of a pupil's personal file (retention, the act's transaction)."""
    cursor = conn.execute(
        "DELETE FROM personal_file WHERE student_id = ? AND year_id = ?", (student_id, year_id)
    )
    return cursor.rowcount


@dataclass(frozen=True)
class YearPage:
    """One year of a pupil's personal file: the class(es) and the year mark per subject."""

    year_id: str
    year_name: str
    class_ids: tuple[str, ...]
    class_names: tuple[str, ...]
    marks: tuple[tuple[str, int | str], ...]  # (subject, year mark): 5, or «зач», «н/а»


def pages(conn: sqlite3.Connection, student_id: str) -> list[YearPage]:
    """The pupil's personal file, year by year (oldest first)."""
    rows = conn.execute(
        "SELECT year_id, year_name, class_id, class_name, subject_name, value, special "
        "FROM personal_file WHERE student_id = ? ORDER BY year_id, subject_name, class_name",
        (student_id,),
    ).fetchall()
    years: dict[str, list[sqlite3.Row]] = {}
    for row in rows:
        years.setdefault(row["year_id"], []).append(row)
    result = []
    for year_id, found in years.items():
        classes = dict.fromkeys((r["class_id"], r["class_name"]) for r in found)
        result.append(
            YearPage(
                year_id=year_id,
                year_name=found[0]["year_name"],
                class_ids=tuple(c for c, _ in classes),
                class_names=tuple(n for _, n in classes),
                marks=tuple(
                    (
                        r["subject_name"],
                        result_text(r["value"], r["special"]) if r["special"] else r["value"],
                    )
                    for r in found
                ),
            )
        )
    return result


def students_with_files(conn: sqlite3.Connection) -> set[str]:
    rows = conn.execute("SELECT DISTINCT student_id FROM personal_file").fetchall()
    return {r[0] for r in rows}


def class_teacher_names(conn: sqlite3.Connection, class_ids: tuple[str, ...]) -> list[str]:
    """The class teachers of those classes, «Фамилия И. О.», for the signature line."""
    if not class_ids:
        return []
    marks = ",".join("?" * len(class_ids))
    rows = conn.execute(
        "SELECT s.last_name, s.first_name, s.patronymic FROM class_teachers t "
        f"JOIN staff s ON s.id = t.teacher_id WHERE t.class_id IN ({marks}) "
        "ORDER BY s.last_name",
        class_ids,
    ).fetchall()
    return [
        f"{r['last_name']} {r['first_name'][:1]}."
        + (f" {r['patronymic'][:1]}." if r["patronymic"] else "")
        for r in rows
    ]
