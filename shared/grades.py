"""Weighted average of current marks and the period mark it suggests (pure functions).

The teacher sets the period mark (000 §5.4); the average only advises. Rounding is half up
(3.5 → 4), the usual convention of Russian schools' local acts; a school whose act says
otherwise changes `suggested_mark`'s threshold, nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

from shared.model import MarkGiven


def weighted_average(marks: Iterable[tuple[int, int]]) -> float | None:
    """Σ value·weight / Σ weight over (value, weight) pairs; None when there is no mark."""
    total = weights = 0
    for value, weight in marks:
        total += value * weight
        weights += weight
    return total / weights if weights else None


def suggested_mark(average: float | None) -> int | None:
    """The mark the average rounds to, half up (4.5 → 5, 4.49 → 4)."""
    if average is None:
        return None
    rounded = Decimal(str(round(average, 6))).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return max(1, min(5, int(rounded)))


def average_of(marks: Iterable[MarkGiven]) -> float | None:
    return weighted_average((m.value, m.weight) for m in marks)
