"""JournalEditor: the grid's actions through the shared rules, and undo of own edits."""

import datetime as dt
import time

import pytest

from client_tui.services.editor import UNDO_REASON, JournalEditor
from client_tui.services.grid import build_month_grid, period_for_month
from shared.hlc import Clock
from shared.model import AttendanceCode, MarkGiven, Retracted, WorkKind
from shared.rules import RuleViolation
from tests.factories import MATH_5, RUSSIAN_5, stamp_today

DAY = dt.date(2026, 10, 5)


@pytest.fixture
def math(laptop):
    return laptop("math")


@pytest.fixture
def editor(math):
    return JournalEditor(math.book)


def new_lesson(editor, day=DAY):
    return editor.new_lesson(MATH_5, day).events[0]


def test_whole_column_present_keeps_an_absence_already_typed(math, editor):
    lesson = new_lesson(editor)
    editor.set_attendance(MATH_5, lesson.lesson_id, "s-2", AttendanceCode.ABSENT)
    edit = editor.fill_column(MATH_5, lesson.lesson_id, ["s-1", "s-2", "s-3", "s-4"])
    assert len(edit.events) == 3
    state = math.book.state(MATH_5)
    assert state.attendance(lesson.lesson_id, "s-2") is AttendanceCode.ABSENT
    assert state.attendance(lesson.lesson_id, "s-1") is AttendanceCode.PRESENT


def test_second_lesson_on_a_day_is_a_double_lesson(math, editor):
    first, second = new_lesson(editor), new_lesson(editor)
    assert (first.slot, second.slot) == (1, 2)
    info = math.book.info(MATH_5)
    grid = build_month_grid(math.book.state(MATH_5), math.directory, info, DAY)
    assert [c.label for c in grid.columns] == ["05", "05²"]


def test_mark_for_absent_pupil_is_refused_and_nothing_is_stored(math, editor):
    lesson = new_lesson(editor)
    editor.set_attendance(MATH_5, lesson.lesson_id, "s-1", AttendanceCode.ABSENT)
    pending = math.status().pending
    with pytest.raises(RuleViolation) as refused:
        editor.set_mark(MATH_5, lesson.lesson_id, "s-1", 5)
    assert refused.value.rule == "no_mark_for_absent_pupil"
    assert math.status().pending == pending
    assert math.book.state(MATH_5).marks(lesson.lesson_id, "s-1") == []


def test_class_teacher_cannot_edit_other_subjects(math):
    editor = JournalEditor(math.book)
    with pytest.raises(RuleViolation) as refused:
        editor.new_lesson(RUSSIAN_5, DAY)
    assert "только для чтения" in refused.value.message_ru
    assert math.status().pending == 0


def test_several_marks_in_a_cell_with_kind_and_weight(math, editor):
    lesson = new_lesson(editor)
    editor.set_cell_marks(
        MATH_5, lesson.lesson_id, "s-1", [5, 4], work_kind=WorkKind.CONTROL, weight=2
    )
    marks = math.book.state(MATH_5).marks(lesson.lesson_id, "s-1")
    assert [(m.value, m.slot, m.work_kind, m.weight) for m in marks] == [
        (5, 0, WorkKind.CONTROL, 2),
        (4, 1, WorkKind.CONTROL, 2),
    ]
    editor.set_cell_marks(MATH_5, lesson.lesson_id, "s-1", [3], weight=1)
    assert [m.value for m in math.book.state(MATH_5).marks(lesson.lesson_id, "s-1")] == [3]


def test_delete_takes_marks_first_then_attendance(math, editor):
    lesson = new_lesson(editor)
    editor.set_attendance(MATH_5, lesson.lesson_id, "s-1", AttendanceCode.LATE)
    editor.set_mark(MATH_5, lesson.lesson_id, "s-1", 4)
    editor.clear_cell(MATH_5, lesson.lesson_id, "s-1")
    state = math.book.state(MATH_5)
    assert state.marks(lesson.lesson_id, "s-1") == []
    assert state.attendance(lesson.lesson_id, "s-1") is AttendanceCode.LATE
    editor.clear_cell(MATH_5, lesson.lesson_id, "s-1")
    assert math.book.state(MATH_5).attendance(lesson.lesson_id, "s-1") is None
    with pytest.raises(RuleViolation):
        editor.clear_cell(MATH_5, lesson.lesson_id, "s-1")


def test_undo_brings_back_the_previous_mark_and_keeps_history(math, editor):
    lesson = new_lesson(editor)
    editor.set_mark(MATH_5, lesson.lesson_id, "s-1", 3)
    editor.set_mark(MATH_5, lesson.lesson_id, "s-1", 5)
    undone = editor.undo()
    assert undone.label == "отметка 5"
    state = math.book.state(MATH_5)
    (mark,) = state.marks(lesson.lesson_id, "s-1")
    assert (mark.value, mark.reason) == (3, UNDO_REASON)
    cell = state.cells[("mark", lesson.lesson_id, "s-1", "0")]
    assert [e.value for e in cell.history if isinstance(e, MarkGiven)] == [3, 5, 3]
    editor.undo()  # the first mark: the cell is empty again, by a retraction
    assert math.book.state(MATH_5).marks(lesson.lesson_id, "s-1") == []
    assert isinstance(math.book.state(MATH_5).cells[cell.key].winner, Retracted)


def test_undo_of_a_whole_column_and_of_a_delete(math, editor):
    lesson = new_lesson(editor)
    editor.fill_column(MATH_5, lesson.lesson_id, ["s-1", "s-2"])
    editor.undo()
    state = math.book.state(MATH_5)
    assert state.attendance(lesson.lesson_id, "s-1") is None
    assert state.attendance(lesson.lesson_id, "s-2") is None
    editor.set_mark(MATH_5, lesson.lesson_id, "s-3", 4)
    editor.clear_cell(MATH_5, lesson.lesson_id, "s-3")
    editor.undo()
    assert [m.value for m in math.book.state(MATH_5).marks(lesson.lesson_id, "s-3")] == [4]


def test_undo_refused_when_the_cell_changed_since(math, editor):
    lesson = new_lesson(editor)
    editor.set_mark(MATH_5, lesson.lesson_id, "s-1", 3)
    math.book.give_mark(MATH_5, lesson.lesson_id, "s-1", 4)  # written outside this editor
    with pytest.raises(RuleViolation) as refused:
        editor.undo()
    assert refused.value.rule == "undo_stale"
    assert len(editor.history) == 2


def test_nothing_to_undo(editor):
    assert editor.undo() is None


def test_changing_an_earlier_days_mark_needs_a_reason(math, editor):
    book = math.book
    book.clock = Clock(book.device_id, now=lambda: time.time() - 3 * 86400)  # three days ago
    lesson = new_lesson(editor)
    editor.set_mark(MATH_5, lesson.lesson_id, "s-1", 3)
    book.clock = Clock(book.device_id, last=book.clock.last)  # today
    with pytest.raises(RuleViolation) as refused:
        editor.set_mark(MATH_5, lesson.lesson_id, "s-1", 4)
    assert refused.value.rule == "late_correction_has_reason"
    editor.set_mark(MATH_5, lesson.lesson_id, "s-1", 4, reason="ошибка при вводе")
    (mark,) = math.book.state(MATH_5).marks(lesson.lesson_id, "s-1")
    assert (mark.value, mark.reason) == (4, "ошибка при вводе")


def test_period_mark_beside_the_weighted_average(math, editor):
    first, second = new_lesson(editor), new_lesson(editor, dt.date(2026, 10, 6))
    editor.set_cell_marks(MATH_5, first.lesson_id, "s-1", [5], weight=2)
    editor.set_mark(MATH_5, second.lesson_id, "s-1", 3)
    info = math.book.info(MATH_5)
    grid = build_month_grid(math.book.state(MATH_5), math.directory, info, DAY)
    assert grid.period.id == "2026-2027-q1"
    cell = grid.period_cells["s-1"]
    assert cell.average == pytest.approx(13 / 3)
    assert (cell.average_text, cell.suggested, cell.mark) == ("4,33", 4, None)
    editor.set_period_mark(MATH_5, "2026-2027-q1", "s-1", 4)
    grid = build_month_grid(math.book.state(MATH_5), math.directory, info, DAY)
    assert grid.period_cells["s-1"].mark == 4


def test_period_mark_before_the_last_lesson_is_refused(math, editor):
    tomorrow = stamp_today() + dt.timedelta(days=1)
    editor.new_lesson(MATH_5, tomorrow)
    period = period_for_month(math.directory.periods, tomorrow)
    with pytest.raises(RuleViolation) as refused:
        editor.set_period_mark(MATH_5, period.id, "s-1", 5)
    assert refused.value.rule == "period_mark_after_last_lesson"


def test_the_state_kept_between_keypresses_is_the_full_fold(math, editor):
    """The book folds only each commit's new events onto its cached state; after a day of
    random typing, corrections, deletions and undos it equals folding the document anew."""
    import random

    from shared.fold import fold

    rng = random.Random(7)
    lessons = [new_lesson(editor, DAY + dt.timedelta(days=d)) for d in range(3)]
    pupils = ["s-1", "s-2", "s-3", "s-4"]
    for _ in range(150):
        lesson, pupil = rng.choice(lessons), rng.choice(pupils)
        action = rng.random()
        try:
            if action < 0.4:
                editor.set_mark(MATH_5, lesson.lesson_id, pupil, rng.randint(1, 5))
            elif action < 0.6:
                code = rng.choice(list(AttendanceCode))
                editor.set_attendance(MATH_5, lesson.lesson_id, pupil, code)
            elif action < 0.75:
                editor.clear_cell(MATH_5, lesson.lesson_id, pupil)
            elif action < 0.85:
                editor.fill_column(MATH_5, lesson.lesson_id, pupils)
            else:
                editor.undo()
        except RuleViolation:
            pass
    kept = math.book.state(MATH_5)
    full = fold(math.book.doc(MATH_5).events())
    assert kept.cell_of == full.cell_of and kept.superseded == full.superseded
    assert {
        k: ([e.id for e in c.history], [e.id for e in c.live]) for k, c in kept.cells.items()
    } == {k: ([e.id for e in c.history], [e.id for e in c.live]) for k, c in full.cells.items()}
