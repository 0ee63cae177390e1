"""The year's chart: one small chart per subject over one shared grid, with the marks and the
average as text for the table."""

from __future__ import annotations

import datetime as dt
import re

from server.web.svg import marks_of_year, year_grid

STARTS, ENDS = dt.date(2026, 9, 1), dt.date(2027, 5, 31)


def test_each_mark_is_a_dot_and_the_average_is_written_with_a_comma():
    (maths,) = marks_of_year(
        [("Математика", [(dt.date(2026, 9, 21), 5), (dt.date(2026, 9, 7), 4), (ENDS, 4)])],
        STARTS,
        ENDS,
    )
    assert maths.marks[0] == (dt.date(2026, 9, 7), 4)  # in date order
    assert maths.average == "4,33"
    assert maths.svg.count("<circle") == 3 and "<polyline" in maths.svg
    assert 'aria-hidden="true"' in maths.svg and '<use href="#year-grid"/>' in maths.svg
    xs = [float(x) for x in re.findall(r'cx="([\d.]+)"', maths.svg)]
    assert xs == sorted(xs) and max(xs) <= 320


def test_a_mark_dated_outside_the_year_stays_on_the_chart():
    (subject,) = marks_of_year([("ИЗО", [(dt.date(2027, 8, 1), 5)])], STARTS, ENDS)
    assert float(re.search(r'cx="([\d.]+)"', subject.svg).group(1)) <= 320
    assert "<polyline" not in subject.svg  # one mark: no average line yet


def test_the_grid_names_every_month_of_the_year_once():
    grid = year_grid(STARTS, ENDS)
    months = re.findall(r">([а-я]{3})</text>", grid)
    assert months == ["сен", "окт", "ноя", "дек", "янв", "фев", "мар", "апр", "май"]
    assert 'id="year-grid"' in grid
