"""An SVG chart of a pupil's marks over the school year, one row per subject (no JavaScript)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from html import escape

ROW, LABEL, WIDTH = 34, 130, 560
COLOURS = {5: "#1b7f3b", 4: "#3a6fb0", 3: "#c77c00", 2: "#c0392b", 1: "#c0392b"}


def marks_chart(
    series: Sequence[tuple[str, Sequence[tuple[dt.date, int]]]], starts: dt.date, ends: dt.date
) -> str:
    """`series`: (subject, [(date, mark)]). Each mark is a dot at its date and height 1–5; a line
    joins the running average so the trend is visible at a glance."""
    span = max((ends - starts).days, 1)
    plot = WIDTH - LABEL - 10
    height = ROW * len(series) + 20
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'role="img" aria-label="Отметки по предметам за год" class="chart">'
    ]
    for month in range(12):
        day = dt.date(
            starts.year + (starts.month - 1 + month) // 12, (starts.month - 1 + month) % 12 + 1, 1
        )
        if day > ends:
            break
        x = LABEL + plot * (day - starts).days / span
        parts.append(f'<line x1="{x:.0f}" y1="0" x2="{x:.0f}" y2="{height - 16}" stroke="#eee"/>')
        parts.append(f'<text x="{x + 2:.0f}" y="{height - 4}" font-size="9">{day:%m.%y}</text>')
    for index, (subject, points) in enumerate(series):
        top = index * ROW
        parts.append(
            f'<text x="0" y="{top + ROW / 2 + 4:.0f}" font-size="11">{escape(subject[:20])}</text>'
        )

        def y(value: float, top: int = top) -> float:
            return top + ROW - 4 - (value - 1) * (ROW - 8) / 4

        total, running = 0, []
        for n, (day, value) in enumerate(sorted(points), start=1):
            total += value
            x = LABEL + plot * (day - starts).days / span
            running.append(f"{x:.0f},{y(total / n):.1f}")
            colour = COLOURS.get(value, "#777")
            parts.append(
                f'<circle cx="{x:.0f}" cy="{y(value):.1f}" r="3" fill="{colour}">'
                f"<title>{day:%d.%m}: {value}</title></circle>"
            )
        if len(running) > 1:
            points_attr = " ".join(running)
            parts.append(f'<polyline points="{points_attr}" fill="none" stroke="#999"/>')
    parts.append("</svg>")
    return "".join(parts)
