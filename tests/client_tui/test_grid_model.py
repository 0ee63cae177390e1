"""The month grid model: rows, columns and cells as on the paper journal."""

import datetime as dt

from client_tui.services.grid import (
    GridCell,
    build_month_grid,
    period_for_month,
    roster_for_month,
    shift_month,
)
from shared.model import AttendanceCode, Membership
from tests.factories import CLASS_5, MATH_5, fixture_directory


def test_cell_text_as_on_paper():
    assert GridCell().text == ""
    assert GridCell(marks=(5, 4)).text == "5/4"
    assert GridCell(attendance=AttendanceCode.ABSENT).text == "н"
    assert GridCell(attendance=AttendanceCode.LATE, marks=(5,), conflict=True).text == "о5!"


def test_months_roll_over_the_new_year():
    assert shift_month(dt.date(2026, 12, 1), 1) == dt.date(2027, 1, 1)
    assert shift_month(dt.date(2027, 1, 1), -1) == dt.date(2026, 12, 1)


def test_period_of_a_month_is_the_quarter_holding_most_of_it():
    periods = fixture_directory().periods
    assert period_for_month(periods, dt.date(2026, 10, 1)).number == 1
    assert period_for_month(periods, dt.date(2026, 11, 1)).number == 2
    assert period_for_month(periods, dt.date(2027, 3, 1)).number == 3
    assert period_for_month(periods, dt.date(2027, 7, 1)) is None


def test_rows_are_numbered_alphabetically_and_follow_membership_dates():
    directory = fixture_directory()
    rows = roster_for_month(directory, CLASS_5, dt.date(2026, 10, 1))
    assert [(r.number, r.name) for r in rows] == [
        (1, "Алексеев А."),
        (2, "Борисова В."),
        (3, "Васильев Г."),
        (4, "Григорьева Д."),
    ]
    moved = Membership(student_id="s-5", class_id=CLASS_5, starts=dt.date(2026, 11, 10), ends=None)
    import msgspec

    directory = msgspec.structs.replace(directory, memberships=(*directory.memberships, moved))
    assert len(roster_for_month(directory, CLASS_5, dt.date(2026, 10, 1))) == 4
    assert [r.name for r in roster_for_month(directory, CLASS_5, dt.date(2026, 11, 1))][-1] == (
        "Дмитриев Е."
    )


def test_month_grid_holds_only_that_months_lessons(laptop):
    math = laptop("math")
    book = math.book
    october = book.record_lesson(MATH_5, date=dt.date(2026, 10, 30), topic="Дроби")
    book.record_lesson(MATH_5, date=dt.date(2026, 11, 2), topic="Проценты")
    book.give_mark(MATH_5, october.lesson_id, "s-1", 5)
    grid = build_month_grid(
        book.state(MATH_5), math.directory, book.info(MATH_5), dt.date(2026, 10, 15)
    )
    assert grid.title == "октябрь 2026"
    assert [(c.label, c.topic) for c in grid.columns] == [("30", "Дроби")]
    assert grid.cell("s-1", october.lesson_id).text == "5"
    assert grid.cell("s-2", october.lesson_id).text == ""
