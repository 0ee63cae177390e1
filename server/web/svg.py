"""A pupil's marks over the school year: one small SVG chart per subject (no JavaScript), sized
to stay legible on a 360 px phone, with the same marks as text for the page's table."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

WIDTH, HEIGHT, LEFT, BOTTOM = 320, 86, 18, 16
MONTHS = ("янв", "фев", "мар", "апр", "май", "июн", "июл", "авг", "сен", "окт", "ноя", "дек")
# the mark's colour also names it in the legend (CSS classes m1..m5 in static/zhurnal.css)
COLOURS = {5: "#1b7f3b", 4: "#2f62a3", 3: "#a86400", 2: "#c0392b", 1: "#c0392b"}
AVERAGE_COLOUR = "#888"


@dataclass(frozen=True)
class SubjectYear:
    """One subject's marks of the year: the chart, and the marks and average as text."""

    subject: str
    marks: list[tuple[dt.date, int]]  # in date order
    average: str  # «4,25», Russian decimal comma
    svg: str


def _average(values: Sequence[int]) -> str:
    return f"{sum(values) / len(values):.2f}".replace(".", ",") if values else ""


def _months(starts: dt.date, ends: dt.date) -> list[dt.date]:
    firsts, day = [], dt.date(starts.year, starts.month, 1)
    while day <= ends:
        firsts.append(day)
        day = dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return firsts


def _x(day: dt.date, starts: dt.date, ends: dt.date) -> float:
    span = max((ends - starts).days, 1)
    return LEFT + (WIDTH - LEFT - 4) * min(max((day - starts).days, 0), span) / span


def _y(value: float) -> float:
    plot_h = HEIGHT - BOTTOM - 8
    return 4 + plot_h - (value - 1) * plot_h / 4


def year_grid(starts: dt.date, ends: dt.date) -> str:
    """The axes every subject's chart shares (marks 2–5, months), drawn once per page and
    referenced by each chart with <use>: a dozen subjects would otherwise repeat them."""
    parts = [
        '<svg xmlns="http://www.w3.org/2000/svg" class="chart-defs" aria-hidden="true" '
        'focusable="false"><defs><g id="year-grid">'
    ]
    for value in (2, 3, 4, 5):
        parts.append(
            f'<line x1="{LEFT}" y1="{_y(value):.1f}" x2="{WIDTH - 4}" y2="{_y(value):.1f}" '
            f'stroke="#e4e4e4"/><text x="2" y="{_y(value) + 4:.1f}" font-size="11" '
            f'fill="#555">{value}</text>'
        )
    for first in _months(starts, ends):
        left = _x(max(first, starts), starts, ends)
        parts.append(
            f'<line x1="{left:.0f}" y1="4" x2="{left:.0f}" y2="{HEIGHT - BOTTOM + 2}" '
            f'stroke="#eee"/><text x="{left + 2:.0f}" y="{HEIGHT - 3}" font-size="10" '
            f'fill="#555">{MONTHS[first.month - 1]}</text>'
        )
    parts.append("</g></defs></svg>")
    return "".join(parts)


def subject_chart(points: Sequence[tuple[dt.date, int]], starts: dt.date, ends: dt.date) -> str:
    """Dots at each mark's date and height 1–5, a grey line for the running average, over the
    page's shared grid (`year_grid`). Hidden from screen readers: the page's table carries the
    same marks as text."""
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'class="chart" aria-hidden="true" focusable="false"><use href="#year-grid"/>'
    ]
    total, running = 0, []
    for n, (day, value) in enumerate(points, start=1):
        total += value
        running.append(f"{_x(day, starts, ends):.0f},{_y(total / n):.1f}")
    if len(running) > 1:
        parts.append(
            f'<polyline points="{" ".join(running)}" fill="none" stroke="{AVERAGE_COLOUR}" '
            f'stroke-width="1.5"/>'
        )
    for day, value in points:
        parts.append(
            f'<circle cx="{_x(day, starts, ends):.0f}" cy="{_y(value):.1f}" r="4" '
            f'fill="{COLOURS.get(value, "#777")}"/>'
        )
    parts.append("</svg>")
    return "".join(parts)


def marks_of_year(
    series: Sequence[tuple[str, Sequence[tuple[dt.date, int]]]], starts: dt.date, ends: dt.date
) -> list[SubjectYear]:
    """`series`: (subject, [(date, mark)]) -> a chart and text line per subject."""
    result = []
    for subject, points in series:
        ordered = sorted(points)
        result.append(
            SubjectYear(
                subject=subject,
                marks=ordered,
                average=_average([v for _, v in ordered]),
                svg=subject_chart(ordered, starts, ends),
            )
        )
    return result
