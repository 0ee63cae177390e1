"""District office figures: every school's totals, without a single pupil's name.

Per school, then per grade (параллель) of that school, then the district in total: pupils,
marks, average mark, quality (share of «4» and «5»), pass rate (share of marks above «2») and
missed lessons (н, б, у), for the school year or for any date range. A district account sees
the schools of its district; a school's administration sees its own school only.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections import Counter
from dataclasses import dataclass, field

from server.auth.principal import Principal
from server.reports import attestation, dataset
from server.reports.catalog import Report
from server.storage import directory as directory_storage
from shared.model import ADMINISTRATION, Role

MISSED = ("absent", "ill", "excused")


@dataclass
class Figures:
    pupils: int = 0
    marks: Counter[int] = field(default_factory=Counter)
    missed: int = 0
    # issue 16: pupils by category (server.reports.attestation.classify) and the exempt
    categories: Counter[str] = field(default_factory=Counter)
    exempt: int = 0

    def add(self, other: Figures) -> None:
        self.pupils += other.pupils
        self.marks.update(other.marks)
        self.missed += other.missed
        self.categories.update(other.categories)
        self.exempt += other.exempt

    def pupil_columns(self) -> tuple[object, ...]:
        """The district's counts of pupils, and the shares of pupils, exactly as the school's
        results report counts them (attestation.Tally)."""
        tally = attestation.Tally(
            pupils=sum(self.categories.values()), categories=self.categories, exempt=self.exempt
        )
        c = self.categories
        by_pupils = tally.shares()[:2]
        return (
            c[attestation.EXCELLENT],
            c[attestation.GOOD],
            c[attestation.ONE_THREE],
            c[attestation.FAILING],
            c[attestation.NOT_ATTESTED],
            self.exempt,
            *by_pupils,
        )

    def row(self, school: str, grade: str) -> tuple[object, ...]:
        total = sum(self.marks.values())
        low = self.marks[1] + self.marks[2]
        return (
            school,
            grade,
            self.pupils,
            total,
            round(sum(v * n for v, n in self.marks.items()) / total, 2) if total else None,
            round(100 * (self.marks[4] + self.marks[5]) / total, 1) if total else None,
            round(100 * (total - low) / total, 1) if total else None,
            self.missed,
            *self.pupil_columns(),
        )


def visible_schools(conn: sqlite3.Connection, principal: Principal) -> list[sqlite3.Row]:
    """The schools whose figures this person may see: a district account's person id is its
    district, spelled as in `schools.district` (docs/DESIGN.md); the administration sees its
    own school; nobody else sees any."""
    if principal.has(Role.DISTRICT) and not principal.has(*ADMINISTRATION):
        sql, params = "SELECT * FROM schools WHERE district = ?", (principal.person_id,)
    elif principal.has(*ADMINISTRATION) and principal.school_id is not None:
        sql, params = "SELECT * FROM schools WHERE id = ?", (principal.school_id,)
    else:
        return []
    return conn.execute(sql + " ORDER BY name, id", params).fetchall()


def imported_schools(conn: sqlite3.Connection, principal: Principal) -> list[sqlite3.Row]:
    """Schools of the district account's district kept on other servers, from their signed
    figure files (server/reports/district_exchange.py)."""
    if not principal.has(Role.DISTRICT) or principal.has(*ADMINISTRATION):
        return []
    return conn.execute(
        "SELECT * FROM district_imports WHERE district = ? ORDER BY name, school_id",
        (principal.person_id,),
    ).fetchall()


def imported_figures(row: sqlite3.Row) -> dict[int, Figures]:
    """grade -> figures of one imported school."""
    result = {}
    for grade in json.loads(row["grades"]):
        figures = Figures(pupils=grade["pupils"], missed=grade["missed"])
        figures.marks.update({int(v): n for v, n in grade["marks"].items()})
        figures.categories.update(grade.get("categories", {}))  # files before issue 16: none
        figures.exempt = grade.get("exempt", 0)
        result[grade["grade"]] = figures
    return result


def _years(
    conn: sqlite3.Connection, school_id: str, date_from: dt.date | None, date_to: dt.date | None
) -> list[str]:
    """The school's years the range touches; without a range, its newest year."""
    if date_from is None and date_to is None:
        row = conn.execute(
            "SELECT id FROM years WHERE school_id = ? ORDER BY starts DESC LIMIT 1", (school_id,)
        ).fetchone()
        return [row["id"]] if row else []
    rows = conn.execute(
        "SELECT id FROM years WHERE school_id = ? AND starts <= ? AND ends >= ?",
        (school_id, (date_to or dt.date.max).isoformat(), (date_from or dt.date.min).isoformat()),
    )
    return [r["id"] for r in rows]


def school_figures(
    conn: sqlite3.Connection,
    school_id: str,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> dict[int, Figures]:
    """grade -> figures of one school; lessons dated within the range count."""
    years = _years(conn, school_id, date_from, date_to)
    if not years:
        return {}
    marks_ = ",".join("?" * len(years))
    first, last = (date_from or dt.date.min).isoformat(), (date_to or dt.date.max).isoformat()
    result: dict[int, Figures] = {}

    def of(grade: int) -> Figures:
        return result.setdefault(grade, Figures())

    for row in conn.execute(
        "SELECT c.grade, count(DISTINCT m.student_id) AS n FROM memberships m "
        f"JOIN classes c ON c.id = m.class_id WHERE c.year_id IN ({marks_}) "
        "AND m.starts <= ? AND (m.ends IS NULL OR m.ends >= ?) GROUP BY c.grade",
        (*years, last, first),
    ):
        of(row["grade"]).pupils = row["n"]
    dated = (
        "JOIN journals j ON j.id = x.journal_id JOIN classes c ON c.id = j.class_id "
        "JOIN lessons l ON l.journal_id = x.journal_id AND l.lesson_id = x.lesson_id "
        f"WHERE j.year_id IN ({marks_}) AND l.date BETWEEN ? AND ?"
    )
    for row in conn.execute(
        f"SELECT c.grade, x.value, count(*) AS n FROM marks x {dated} "
        "AND x.value BETWEEN 1 AND 5 GROUP BY c.grade, x.value",  # зач/незач: value 0
        (*years, first, last),
    ):
        of(row["grade"]).marks[row["value"]] += row["n"]
    for row in conn.execute(
        f"SELECT c.grade, count(*) AS n FROM attendance x {dated} "
        f"AND x.code IN ({','.join('?' * len(MISSED))}) GROUP BY c.grade",
        (*years, first, last, *MISSED),
    ):
        of(row["grade"]).missed = row["n"]
    for year_id in years:  # a range across two school years counts each year's classes
        _pupil_categories(conn, year_id, date_from, date_to, of)
    return result


def _pupil_categories(conn, year_id, date_from, date_to, of) -> None:
    """Pupils by category per grade, by the school's own results report (one rule, one
    count): the district's figures and the school's report cannot disagree."""
    directory = directory_storage.load_full(conn, year_id)
    data = dataset.load(directory, dataset.Filters(date_from=date_from, date_to=date_to))
    grades = {c.id: c.grade for c in directory.classes}
    for class_id, (_period, tally) in attestation.class_tallies(conn, data).items():
        figures = of(grades[class_id])
        figures.categories.update(tally.categories)
        figures.exempt += tally.exempt


def _describe(date_from: dt.date | None, date_to: dt.date | None) -> str:
    if date_from is None and date_to is None:
        return "текущий учебный год каждой школы"
    parts = []
    if date_from:
        parts.append(f"с {date_from:%d.%m.%Y}")
    if date_to:
        parts.append(f"по {date_to:%d.%m.%Y}")
    return " ".join(parts)


def district_report(
    conn: sqlite3.Connection,
    schools: list[sqlite3.Row],
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    imported: list[sqlite3.Row] | tuple[()] = (),
) -> Report:
    """Per school and per grade: pupils, marks, average, quality and pass shares, missed
    lessons; the district's total last when there are several schools. `imported` schools
    (kept on other servers) count with the figures of their signed files."""
    rows = []
    district = Figures()
    notes = []
    sources = [(s["name"], s["district"], s["id"], None) for s in schools]
    sources += [(f"{r['name']} (из файла)", r["district"], None, r) for r in imported]
    for name, _, school_id, row in sources:
        if row is None:
            grades = school_figures(conn, school_id, date_from, date_to)
        else:
            grades = imported_figures(row)
            period = _describe(
                dt.date.fromisoformat(row["date_from"]) if row["date_from"] else None,
                dt.date.fromisoformat(row["date_to"]) if row["date_to"] else None,
            )
            notes.append(
                f"{row['name']}: показатели из подписанного файла школы за период «{period}», "
                f"сформирован {row['created'][:10]}, ключ {row['fingerprint']}."
            )
        total = Figures()
        for figures in grades.values():
            total.add(figures)
        district.add(total)
        rows.append(total.row(name, "все"))
        rows += [grades[g].row(name, f"{g} кл.") for g in sorted(grades)]
    if len(sources) > 1:
        rows.append(district.row("Итого по району", "все"))
    names = sorted({d for _, d, _, _ in sources if d})
    return Report(
        name="district",
        title="Сводные показатели школ района",
        subtitle=" · ".join(
            [*names, _describe(date_from, date_to), "без персональных данных учеников"]
        ),
        header=(
            "Школа",
            "Классы",
            "Учеников",
            "Отметок",
            "Средний балл",
            "Качество (доля отметок), %",
            "Успеваемость (доля отметок), %",
            "Пропущено уроков",
            *attestation.PUPIL_HEADER,
        ),
        rows=tuple(rows),
        notes=(
            "Качество — доля отметок «4» и «5»; успеваемость — доля отметок выше «2»; "
            "пропущенные уроки — отметки «н», «б» и «у».",
            "Ученики по категориям — по отметкам за период (четверть, полугодие) или за год, "
            "как в отчёте школы «Итоги успеваемости»; доли учеников — от аттестуемых.",
            *notes,
        ),
        landscape=True,
    )
