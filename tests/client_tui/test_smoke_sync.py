import datetime as dt

from shared.model import AttendanceCode
from tests.factories import MATH_5


def test_teacher_records_offline_and_the_entries_reach_the_server(laptop):
    math = laptop("math")
    lesson = math.book.record_lesson(MATH_5, date=dt.date(2026, 10, 5), topic="Дроби")
    math.book.mark_attendance(MATH_5, lesson.lesson_id, ["s-2"], AttendanceCode.ABSENT)
    math.book.give_mark(MATH_5, lesson.lesson_id, "s-1", 5)
    assert math.status().pending == 3
    report = math.sync()
    assert report.complete
    assert math.status().pending == 0
    other = laptop("math", name="second")
    other.sync()
    state = other.book.state(MATH_5)
    assert [m.value for m in state.marks(lesson.lesson_id, "s-1")] == [5]
    assert state.attendance(lesson.lesson_id, "s-2") is AttendanceCode.ABSENT


def test_entry_outside_format_limits_is_refused_at_the_keyboard(laptop):
    import pytest

    from shared.rules import RuleViolation

    math = laptop("math")
    lesson = math.book.record_lesson(MATH_5, date=dt.date(2026, 10, 5), topic="Дроби")
    with pytest.raises(RuleViolation) as refused:
        math.book.give_mark(MATH_5, lesson.lesson_id, "s-1", 5, slot=15)
    assert refused.value.rule == "well_formed"
    assert math.status().pending == 1  # only the lesson; the bad mark was never stored
