"""Class lists keep history in the grid: a pupil who joins mid-month has a row from the day
they joined; the lessons before it are not theirs to fill (000 §4.5)."""

import datetime as dt

import msgspec
import pytest

from client_tui.services.editor import JournalEditor
from client_tui.services.grid import build_month_grid
from shared.model import AttendanceCode, Membership
from shared.rules import RuleViolation
from tests.factories import CLASS_5, MATH_5

BEFORE, AFTER = dt.date(2026, 10, 5), dt.date(2026, 10, 19)
JOINED = dt.date(2026, 10, 12)


@pytest.fixture
def math(laptop):
    session = laptop("math")
    joined = Membership(student_id="s-5", class_id=CLASS_5, starts=JOINED)
    directory = session.book.directory
    session.book.directory = msgspec.structs.replace(
        directory, memberships=(*directory.memberships, joined)
    )
    return session


def grid_of(math):
    book = math.book
    return build_month_grid(book.state(MATH_5), book.directory, book.info(MATH_5), BEFORE)


def test_new_pupil_has_a_row_with_the_lessons_before_joining_closed(math):
    editor = JournalEditor(math.book)
    before = editor.new_lesson(MATH_5, BEFORE).events[0]
    after = editor.new_lesson(MATH_5, AFTER).events[0]
    grid = grid_of(math)
    assert [r.student_id for r in grid.rows][-1] == "s-5"
    assert grid.cell("s-5", before.lesson_id).outside
    assert grid.cell("s-5", before.lesson_id).text == "—"
    assert not grid.cell("s-5", after.lesson_id).outside
    assert not grid.cell("s-1", before.lesson_id).outside


def test_whole_column_present_skips_a_pupil_not_yet_in_the_class(math):
    editor = JournalEditor(math.book)
    before = editor.new_lesson(MATH_5, BEFORE).events[0]
    students = [r.student_id for r in grid_of(math).rows]
    edit = editor.fill_column(MATH_5, before.lesson_id, students)
    assert len(edit.events) == 4
    state = math.book.state(MATH_5)
    assert state.attendance(before.lesson_id, "s-1") is AttendanceCode.PRESENT
    assert state.attendance(before.lesson_id, "s-5") is None


def test_a_mark_before_joining_is_refused_in_russian(math):
    editor = JournalEditor(math.book)
    before = editor.new_lesson(MATH_5, BEFORE).events[0]
    with pytest.raises(RuleViolation) as refused:
        editor.set_mark(MATH_5, before.lesson_id, "s-5", 5)
    assert refused.value.rule == "student_in_class"
    assert "не числится в этом классе" in refused.value.message_ru
