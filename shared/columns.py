"""The columns a class's journal has beside its lessons, named as the regulation names them.

Grades 10–11 are attested by half-years, the others by quarters (004 §1.4, «четверть /
полугодие»), unless the school defined only one kind of period. Every class has the year
mark («Год»); the classes that end a level (9, 11) also have the exam («Экз.») and the
final mark («Итог», 004 §1.4, 000 §3.2.2). The TUI grid shows these columns and the CLI
finds them by these names, never by raw ids.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from shared.model import Directory, MarkKind, MarkSpecial, Period, PeriodKind
from shared.scales import mark_text

HALF_YEAR_GRADES = frozenset({10, 11})
LEVEL_END_GRADES = frozenset({9, 11})  # основное и среднее общее образование
KIND_TITLES: dict[MarkKind, str] = {
    MarkKind.YEAR: "Год",
    MarkKind.EXAM: "Экз.",
    MarkKind.FINAL: "Итог",
    MarkKind.THEMATIC: "Тема",
}
PERIOD_TITLES: dict[PeriodKind, str] = {PeriodKind.QUARTER: "Чет.", PeriodKind.HALF: "Пол."}


@dataclass(frozen=True)
class Column:
    """One column beside the lessons: its period, kind of mark and title."""

    period: Period
    kind: MarkKind
    title: str  # «1 чет.», «2 пол.», «Год», «Экз.», «Итог»

    @property
    def id(self) -> str:
        """The key of the column in a results table (`result_column_id`)."""
        column = self.kind.value if self.kind in (MarkKind.EXAM, MarkKind.FINAL) else ""
        return result_column_id(self.period.id, column)

    @property
    def name(self) -> str:
        """The long name for messages: «1 четверть», «Год (годовая отметка)»."""
        if self.kind is MarkKind.PERIOD:
            return self.period.name
        return {
            MarkKind.YEAR: "Год (годовая отметка)",
            MarkKind.EXAM: "Экз. (экзаменационная отметка)",
            MarkKind.FINAL: "Итог (итоговая отметка)",
        }.get(self.kind, self.title)


def term_kind(directory: Directory, grade: int) -> PeriodKind:
    """Quarters, or half-years in grades 10–11; whichever the school has if only one."""
    kinds = {p.kind for p in directory.periods}
    wanted = PeriodKind.HALF if grade in HALF_YEAR_GRADES else PeriodKind.QUARTER
    if wanted in kinds:
        return wanted
    return PeriodKind.QUARTER if PeriodKind.QUARTER in kinds else PeriodKind.HALF


def class_columns(directory: Directory, class_id: str) -> list[Column]:
    """The period, year, exam and final columns of a class, in the journal's order."""
    grade = next((c.grade for c in directory.classes if c.id == class_id), 0)
    kind = term_kind(directory, grade)
    columns = [
        Column(p, MarkKind.PERIOD, f"{p.number} {PERIOD_TITLES[kind].lower()}")
        for p in sorted(directory.periods, key=lambda p: p.starts)
        if p.kind is kind
    ]
    year = next((p for p in directory.periods if p.kind is PeriodKind.YEAR), None)
    if year is not None:
        columns.append(Column(year, MarkKind.YEAR, KIND_TITLES[MarkKind.YEAR]))
        if grade in LEVEL_END_GRADES:
            columns += [
                Column(year, MarkKind.EXAM, KIND_TITLES[MarkKind.EXAM]),
                Column(year, MarkKind.FINAL, KIND_TITLES[MarkKind.FINAL]),
            ]
    return columns


def _norm(text: str) -> str:
    return " ".join(text.lower().replace(".", " ").replace("ё", "е").split())


def find_column(directory: Directory, class_id: str, text: str) -> Column | None:
    """The column called `text`: «1 четверть», «1 чет.», «Год», «Экз.», «Итог» (or an id)."""
    wanted = _norm(text)
    for column in class_columns(directory, class_id):
        names = {_norm(column.title), _norm(column.name)}
        if column.kind is MarkKind.PERIOD:
            names |= {_norm(column.period.name), column.period.id.lower()}
        if wanted in names:
            return column
    return None


RESULT_KINDS = {"exam": MarkKind.EXAM, "final": MarkKind.FINAL}


def result_column_id(period_id: str, column: str = "") -> str:
    """The column of a results table a cell goes to: the period's id, or «<year>:exam»."""
    return f"{period_id}:{column}" if column else period_id


def result_columns(periods: Iterable[Period], used: set[str]) -> list[Column]:
    """Сводная ведомость, diary, transfer extract: the quarters or halves with marks (the
    quarters while there are none), «Год», then «Экз.» and «Итог» when any pupil has one.
    `used` holds `result_column_id`s of the cells shown."""
    periods = sorted(periods, key=lambda p: p.starts)
    terms = [p for p in periods if p.kind is not PeriodKind.YEAR and p.id in used]
    terms = terms or [p for p in periods if p.kind is PeriodKind.QUARTER]
    terms.sort(key=lambda p: (p.kind is not PeriodKind.QUARTER, p.starts))
    columns = [Column(p, MarkKind.PERIOD, p.name) for p in terms]
    for year in (p for p in periods if p.kind is PeriodKind.YEAR):
        columns.append(Column(year, MarkKind.YEAR, KIND_TITLES[MarkKind.YEAR]))
        columns += [
            Column(year, kind, KIND_TITLES[kind])
            for column, kind in RESULT_KINDS.items()
            if result_column_id(year.id, column) in used
        ]
    return columns


def result_text(value: int, special: str = "") -> str:
    """A result as the regulation writes it: «5», «зач», «незач», «н/а», «осв.»."""
    return mark_text(value, "", MarkSpecial(special))
