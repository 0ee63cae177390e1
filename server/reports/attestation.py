"""Results as the district asks for them, and the per-pupil attendance summary (issue 16).

The district counts pupils, not marks: отличники, хорошисты, with one «3», неуспевающие, н/а,
освобождены, for a period (quarter or half-year, as the class is attested) or the year, per
class, per grade and for the school. Успеваемость and качество are given both ways, labelled:
as shares of pupils (the district's figure) and as shares of marks (what the other reports
show). `classify` is the one rule; the district's anonymous figures call it too.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from server.reports.dataset import Dataset
from server.storage import attestation as storage
from shared import groups
from shared.columns import term_kind
from shared.model import Directory, Period, PeriodKind

EXCELLENT, GOOD, ONE_THREE, FAILING, NOT_ATTESTED, OTHER, UNMARKED = (
    "отличник",
    "хорошист",
    "с одной «3»",
    "неуспевающий",
    "н/а",
    "успевает с «3»",
    "без отметок",
)


def classify(cells: Iterable[tuple[int, str]]) -> str:
    """A pupil's category from their (value, special) cells of one period across subjects.

    н/а in any subject: not attested; a «2»/«1» or «незач»: failing; else by the numbers:
    all «5» — отличник; «4» and «5» — хорошист; exactly one «3» — with one «3». «зач» and
    «осв.» pass without changing the category; a pupil with no mark at all is not counted."""
    values: list[int] = []
    specials: set[str] = set()
    for value, special in cells:
        if special:
            specials.add(special)
        else:
            values.append(value)
    if "na" in specials:
        return NOT_ATTESTED
    if "fail" in specials or any(v <= 2 for v in values):
        return FAILING
    if not values:
        return OTHER if "pass" in specials else UNMARKED
    threes = values.count(3)
    if threes == 0:
        return EXCELLENT if all(v == 5 for v in values) else GOOD
    return ONE_THREE if threes == 1 else OTHER


@dataclass
class Tally:
    """Pupils by category and the marks behind them, for a class, a grade or the school."""

    pupils: int = 0
    categories: Counter[str] = field(default_factory=Counter)
    exempt: int = 0
    marks: Counter[int] = field(default_factory=Counter)

    def add(self, other: Tally) -> None:
        self.pupils += other.pupils
        self.categories.update(other.categories)
        self.exempt += other.exempt
        self.marks.update(other.marks)

    @property
    def attested(self) -> int:
        """Pupils the period's attestation concerns: everyone with a mark, and the н/а."""
        return self.pupils - self.categories[UNMARKED]

    def shares(self) -> tuple[float | None, ...]:
        """Успеваемость and качество by pupils, then by marks, in per cent."""
        c, whole = self.categories, self.attested
        passed = whole - c[FAILING] - c[NOT_ATTESTED]
        marks = sum(self.marks.values())
        low = self.marks[1] + self.marks[2]
        return (
            _pct(passed, whole),
            _pct(c[EXCELLENT] + c[GOOD], whole),
            _pct(marks - low, marks),
            _pct(self.marks[4] + self.marks[5], marks),
        )

    def row(self, *head: object) -> tuple[object, ...]:
        c = self.categories
        return (
            *head,
            self.pupils,
            self.attested,
            c[EXCELLENT],
            c[GOOD],
            c[ONE_THREE],
            c[FAILING],
            c[NOT_ATTESTED],
            self.exempt,
            *self.shares(),
        )


def _pct(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def column_for(
    directory: Directory, grade: int, date_from: dt.date | None, date_to: dt.date | None
) -> Period | None:
    """The attestation the range asks about: the year when it reaches the year's end (or has
    no dates), else the class's last quarter or half-year ending within the range."""
    year = next((p for p in directory.periods if p.kind is PeriodKind.YEAR), None)
    last = date_to or directory.year.ends
    first = date_from or directory.year.starts
    if year is not None and last >= year.ends:
        return year
    kind = term_kind(directory, grade)
    ending = [p for p in directory.periods if p.kind is kind and first <= p.ends <= last]
    return max(ending, key=lambda p: p.ends) if ending else None


def class_tallies(conn: sqlite3.Connection, data: Dataset) -> dict[str, tuple[Period, Tally]]:
    """class id -> the period counted and its tally."""
    directory, filters = data.directory, data.filters
    columns: dict[str, Period] = {}
    for c in directory.classes:
        if filters.class_id and c.id != filters.class_id:
            continue
        period = column_for(directory, c.grade, filters.date_from, filters.date_to)
        if period is not None:
            columns[c.id] = period
    journals = [j for j in data.journals if data.journals[j].class_id in columns]
    rows = storage.column_marks(conn, journals, sorted({p.id for p in columns.values()}))
    cells: dict[tuple[str, str], list[tuple[int, str]]] = defaultdict(list)
    for r in rows:
        if columns.get(r.class_id) is not None and columns[r.class_id].id == r.period_id:
            cells[(r.class_id, r.student_id)].append((r.value, r.special))
    result: dict[str, tuple[Period, Tally]] = {}
    for class_id, period in columns.items():
        tally = Tally()
        pupils = {s.id for s in directory.class_roster(class_id, period.ends)}
        pupils |= {s for c, s in cells if c == class_id}
        for student in pupils:
            own = cells.get((class_id, student), [])
            tally.pupils += 1
            tally.categories[classify(own)] += 1
            tally.exempt += any(special == "exempt" for _, special in own)
            tally.marks.update(v for v, special in own if not special)
        result[class_id] = (period, tally)
    return result


PUPIL_HEADER = (  # the district's report shows these columns too (server/reports/district.py)
    "Отличники",
    "Хорошисты",
    "С одной «3»",
    "Неуспевающие",
    "Н/а",
    "Освобождены",
    "Успеваемость (доля учеников), %",
    "Качество (доля учеников), %",
)
HEADER = (
    "Класс",
    "Период",
    "Учеников",
    "Аттестуемых",
    *PUPIL_HEADER,
    "Успеваемость (доля отметок), %",
    "Качество (доля отметок), %",
)
NOTES = (
    "Доля учеников: успеваемость — аттестуемые без «2», «незач» и «н/а»; качество — "
    "отличники и хорошисты, от числа аттестуемых. Доля отметок: успеваемость — отметки "
    "выше «2», качество — «4» и «5», от всех отметок за период.",
    "Освобождены — ученики с «осв.» хотя бы по одному предмету (они есть и в своей "
    "категории по остальным предметам). Без отметок (безотметочное обучение) не аттестуются.",
)


def results_rows(data: Dataset, tallies: dict[str, tuple[Period, Tally]]) -> list[tuple]:
    """Per class, then per grade, then the school."""
    grade = {c.id: c.grade for c in data.directory.classes}
    rows = []
    by_grade: dict[int, Tally] = defaultdict(Tally)
    periods: dict[int, set[str]] = defaultdict(set)
    school = Tally()
    for class_id in sorted(tallies, key=data.class_key):
        period, tally = tallies[class_id]
        rows.append(tally.row(data.class_name(class_id), period.name))
        by_grade[grade[class_id]].add(tally)
        periods[grade[class_id]].add(period.name)
        school.add(tally)
    for g in sorted(by_grade):
        rows.append(by_grade[g].row(f"{g} классы", ", ".join(sorted(periods[g]))))
    if tallies:
        names = sorted({p.name for p, _ in tallies.values()})
        rows.append(school.row("Итого по школе", ", ".join(names)))
    return rows


def pupil_results(conn: sqlite3.Connection, data: Dataset):
    """Итоги успеваемости (отчёт в район): ученики по категориям, доли учеников и отметок."""
    from server.reports.catalog import _report

    rows = results_rows(data, class_tallies(conn, data))
    return _report(
        data,
        "attestation",
        "Итоги успеваемости по ученикам (отчёт в район)",
        HEADER,
        rows,
        notes=NOTES,
        landscape=True,
    )


ATTENDANCE_HEADER = (
    "Класс",
    "Ученик",
    "Пропущено уроков",
    "из них по болезни",
    "по уважительной причине",
    "без уважительной причины",
    "Пропущено дней",
    "из них по болезни",
    "Опозданий",
)


ATTENDANCE_NOTES = (
    "Пропущенный день — день, в который ученик пропустил все уроки класса. "
    "Болезнь — «б» (есть медицинский документ), уважительная причина — «у», "
    "без уважительной причины — «н».",
)


def attendance_summary(conn: sqlite3.Connection, data: Dataset):
    """Сводка посещаемости по ученикам: уроки и дни пропущены, из них по болезни, по
    уважительной причине; опоздания. A day is missed when every lesson the pupil had that day
    is missed (the class's lessons and their own group's, not the other group's, issue 15);
    it is «по болезни» when every one of them is «б»."""
    from server.reports.catalog import _report

    span = data.span
    members = groups.memberships_of(data.directory)
    attends = [
        (j.id, m.student_id, m.starts.isoformat(), m.ends.isoformat() if m.ends else None)
        for j in data.journals.values()
        if j.group
        for m in members(j)
    ]
    pupils = storage.pupil_attendance(
        conn, span.get("journal_ids", []), span.get("date_from"), span.get("date_to"), attends
    )
    pupils.sort(key=lambda p: (data.class_key(p.class_id), data.student_name(p.student_id)))
    rows = [
        (
            data.class_name(p.class_id),
            data.student_name(p.student_id),
            p.missed,
            p.ill,
            p.excused,
            p.absent,
            p.days,
            p.ill_days,
            p.late,
        )
        for p in pupils
    ]
    return _report(
        data,
        "attendance",
        "Сводка посещаемости по ученикам",
        ATTENDANCE_HEADER,
        rows,
        notes=ATTENDANCE_NOTES,
        landscape=True,
    )
