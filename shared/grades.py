"""Weights, averages and rounding: one place for the grid, the diary, reports and transfers.

The teacher sets the period mark (000 §5.4); the average only advises. Rounding is half up
(3.5 → 4), the usual convention of Russian schools' local acts; a school whose act says
otherwise changes `round_mark`, nothing else. A mark's default weight comes from the school's
table by kind of work (Directory.weights, 002 §3.2), so the TUI and the CLI give the same
entry the same weight.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

from shared.model import MarkGiven, MarkSpecial, WorkKind, WorkWeight

DEFAULT_WEIGHTS: dict[WorkKind, int] = {
    WorkKind.REGULAR: 1,
    WorkKind.INDEPENDENT: 1,
    WorkKind.PRACTICAL: 1,
    WorkKind.LABORATORY: 1,
    WorkKind.CONTROL: 2,
}


def weight_for(kind: WorkKind, table: Iterable[WorkWeight] = ()) -> int:
    """The school's weight of a mark for this kind of work, else the default (control: 2)."""
    kind = WorkKind(kind)
    for row in table:
        if row.work_kind == kind.value:
            return row.weight
    return DEFAULT_WEIGHTS[kind]


def weighted_average(marks: Iterable[tuple[int, int]]) -> float | None:
    """Σ value·weight / Σ weight over (value, weight) pairs; None when there is no mark."""
    total = weights = 0
    for value, weight in marks:
        total += value * weight
        weights += weight
    return total / weights if weights else None


def round_mark(average: float) -> int:
    """The school's rounding rule: half up (4.5 → 5, 4.49 → 4), kept within 1–5."""
    rounded = Decimal(str(round(average, 6))).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return max(1, min(5, int(rounded)))


def suggested_mark(average: float | None) -> int | None:
    """The mark the average rounds to; None without marks."""
    return None if average is None else round_mark(average)


def average_text(average: float | None) -> str:
    """Two decimals with a comma, as Russian pages print it; '' without marks."""
    return f"{average:.2f}".replace(".", ",") if average is not None else ""


def counts(mark: MarkGiven) -> bool:
    """A numeric mark counts in an average; зач/незач do not."""
    return mark.special is MarkSpecial.NONE and 1 <= mark.value <= 5


def average_of(marks: Iterable[MarkGiven]) -> float | None:
    return weighted_average((m.value, m.weight) for m in marks if counts(m))


def suggested_final(year: int | None, exam: int | None) -> int | None:
    """Итоговая отметка the school's rule suggests (the teacher confirms it): the mean of the
    year and exam marks rounded by `round_mark`; the year mark alone without an exam."""
    if year is None:
        return None
    return year if exam is None else round_mark((year + exam) / 2)
