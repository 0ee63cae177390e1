"""Undo made offline and then synced: whatever the teacher typed and undid, the server refuses
nothing the laptop showed as saved (the bug: Ctrl+Z of a lesson with its marks left
«отклонено: 14» in the status line for good)."""

from __future__ import annotations

import datetime as dt
import itertools
import os
import shutil

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from client_tui.services.editor import JournalEditor
from client_tui.services.session import Session
from shared.model import AttendanceCode, WorkKind
from shared.rules import RuleViolation
from tests.conftest import BASE_URL
from tests.factories import MATH_5, PASSWORD

PUPILS = ["s-1", "s-2", "s-3", "s-4"]
FIRST_DAY = dt.date(2026, 9, 1)
CODES = [AttendanceCode.PRESENT, AttendanceCode.ABSENT, AttendanceCode.ILL, AttendanceCode.LATE]

lesson_ix = st.integers(0, 3)
pupil = st.sampled_from(PUPILS)
value = st.integers(1, 5)
steps = st.one_of(
    st.tuples(st.just("lesson")),
    st.tuples(st.just("mark"), lesson_ix, pupil, value),
    st.tuples(st.just("attend"), lesson_ix, pupil, st.sampled_from(CODES)),
    st.tuples(st.just("fill"), lesson_ix),
    st.tuples(st.just("clear"), lesson_ix, pupil),
    st.tuples(st.just("marks"), lesson_ix, pupil, st.lists(value, max_size=3)),
    st.tuples(st.just("topic"), lesson_ix, st.sampled_from(["Дроби", "Проценты", ""])),
    st.tuples(st.just("undo"), st.integers(1, 8)),  # Ctrl+Z held down: chains are the point
    st.tuples(st.just("undo"), st.integers(1, 2)),
)


def run(editor: JournalEditor, day: dt.date, lessons: list, step: tuple) -> str:
    """One edit as the grid makes it; a RuleViolation is the laptop refusing at the keyboard
    (nothing shown as saved)."""
    kind, *args = step
    if kind == "lesson":
        lessons.append(editor.new_lesson(MATH_5, day).events[0])
        return "урок"
    if kind == "undo":
        done = 0
        while done < args[0] and editor.undo() is not None:
            done += 1
        return f"undone {done}"
    if not lessons:
        return "нет урока"
    lesson = lessons[args[0] % len(lessons)]
    lid = lesson.lesson_id
    match kind:
        case "mark":
            editor.set_mark(MATH_5, lid, args[1], args[2])
        case "attend":
            editor.set_attendance(MATH_5, lid, args[1], args[2])
        case "fill":
            editor.fill_column(MATH_5, lid, PUPILS)
        case "clear":
            editor.clear_cell(MATH_5, lid, args[1])
        case "marks":
            editor.set_cell_marks(MATH_5, lid, args[1], args[2], work_kind=WorkKind.REGULAR)
        case "topic":
            editor.save_lesson(
                MATH_5, date=lesson.date, slot=lesson.slot, lesson_id=lid, topic=args[1]
            )
    return "ok"


@pytest.fixture
def offline_math(laptop) -> Session:
    return laptop("math")


@pytest.fixture
def fresh_laptops(tmp_path, client):
    """A new laptop per example without a login each (Argon2 is slow): copies of one
    logged-in profile, each with its own CRDT client ids once it opens a journal."""
    pristine = tmp_path / "pristine"
    first = Session(pristine, http=client)
    first.login(BASE_URL, "math", PASSWORD, device_name="ноутбук")
    first.close()
    opened: list[Session] = []

    def make() -> Session:
        home = tmp_path / f"example-{len(opened)}"
        shutil.copytree(pristine, home)
        opened.append(Session(home, password=PASSWORD, http=client))
        return opened[-1]

    yield make
    for session in opened:
        session.close()


@settings(
    max_examples=int(os.environ.get("UNDO_SYNC_EXAMPLES", "30")),
    derandomize=not os.environ.get("UNDO_SYNC_RANDOM"),
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(program=st.lists(steps, min_size=1, max_size=30))
def test_offline_edits_and_undos_sync_without_a_single_refusal(fresh_laptops, program):
    math = fresh_laptops()
    math.sync()  # the journal as the server has it, the earlier examples' lessons included
    day = FIRST_DAY + dt.timedelta(days=next(DAYS) % 60)  # spread over September and October
    editor = JournalEditor(math.book)
    lessons: list = []
    for step in program:
        try:
            outcome = run(editor, day, lessons, step)
        except RuleViolation as refused:
            outcome = f"refused at the keyboard: {refused.rule}"
        note(f"{step} -> {outcome}")
    report = math.sync()
    problems = math.problems()
    note(f"{report}")
    assert [(p.what, p.why) for p in problems] == []
    assert report.refused == 0
    assert report.complete
    assert math.status().pending == 0


DAYS = itertools.count()


def test_undoing_a_lesson_that_still_has_entries_is_refused_with_the_reason(offline_math):
    editor = JournalEditor(offline_math.book)
    lesson = editor.new_lesson(MATH_5, FIRST_DAY).events[0]
    offline_math.book.give_mark(MATH_5, lesson.lesson_id, "s-1", 5)  # not in this editor's undo
    with pytest.raises(RuleViolation) as refused:
        editor.undo()
    assert refused.value.rule == "undo_lesson_has_entries"
    assert "у урока есть записи (1)" in refused.value.message_ru
    assert offline_math.book.state(MATH_5).lesson(lesson.lesson_id) is not None
    assert offline_math.sync().refused == 0
