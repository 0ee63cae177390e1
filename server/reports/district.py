"""District office figures: every school's totals, without a single pupil's name."""

from __future__ import annotations

import sqlite3
from collections import Counter

from server.reports.catalog import Report


def district_report(conn: sqlite3.Connection) -> Report:
    """Per school: pupils, marks, average, quality and pass shares, missed lessons."""
    schools = conn.execute("SELECT id, name FROM schools ORDER BY name").fetchall()
    rows = []
    for school in schools:
        years = [
            r["id"]
            for r in conn.execute("SELECT id FROM years WHERE school_id = ?", (school["id"],))
        ]
        if not years:
            continue
        marks_ = ",".join("?" * len(years))
        pupils = conn.execute(
            "SELECT count(DISTINCT m.student_id) FROM memberships m JOIN classes c "
            f"ON c.id = m.class_id WHERE c.year_id IN ({marks_})",
            years,
        ).fetchone()[0]
        counts = Counter(
            {
                r["value"]: r["n"]
                for r in conn.execute(
                    "SELECT m.value, count(*) AS n FROM marks m JOIN journals j "
                    f"ON j.id = m.journal_id WHERE j.year_id IN ({marks_}) GROUP BY m.value",
                    years,
                )
            }
        )
        missed = conn.execute(
            "SELECT count(*) FROM attendance a JOIN journals j ON j.id = a.journal_id "
            f"WHERE j.year_id IN ({marks_}) AND a.code IN ('absent', 'ill', 'excused')",
            years,
        ).fetchone()[0]
        total = sum(counts.values())
        rows.append(
            (
                school["name"],
                pupils,
                total,
                round(sum(v * n for v, n in counts.items()) / total, 2) if total else None,
                round(100 * (counts[4] + counts[5]) / total, 1) if total else None,
                round(100 * (total - counts[2] - counts[1]) / total, 1) if total else None,
                missed,
            )
        )
    return Report(
        name="district",
        title="Сводные показатели школ района",
        subtitle="Без персональных данных учеников",
        header=(
            "Школа",
            "Учеников",
            "Отметок",
            "Средний балл",
            "Качество, %",
            "Успеваемость, %",
            "Пропущено уроков",
        ),
        rows=tuple(rows),
        landscape=True,
    )
