"""SVG snapshots of the main screens at 80×24 (an old laptop's terminal) and 120×36.

Update after an intended change of the screens: pytest tests/client_tui/app/test_snapshots.py
--snapshot-update, then look at the SVGs in the diff before committing them.
"""

import datetime as dt

import pytest

from client_tui.app import JournalApp
from client_tui.services.session import Session
from shared.model import AttendanceCode, WorkKind
from tests.client_tui.app.conftest import LESSON_DAY, journals_listed
from tests.factories import MATH_5

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 36), id="120x36")]


def fill_october(session: Session) -> None:
    """A fortnight of lessons with topics, a double lesson, marks, absences, a period mark."""
    book = session.book
    plan = [
        (dt.date(2026, 10, 1), 1, "Обыкновенные дроби", WorkKind.REGULAR),
        (dt.date(2026, 10, 2), 1, "Сравнение дробей", WorkKind.REGULAR),
        (dt.date(2026, 10, 5), 1, "Сложение дробей", WorkKind.REGULAR),
        (dt.date(2026, 10, 5), 2, "Вычитание дробей", WorkKind.PRACTICAL),
        (dt.date(2026, 10, 8), 1, "Контрольная работа №1", WorkKind.CONTROL),
        (dt.date(2026, 10, 9), 1, "", WorkKind.REGULAR),
    ]
    marks = {0: {"s-1": [5], "s-3": [4]}, 2: {"s-2": [3]}, 3: {"s-1": [4, 5]}, 4: {"s-4": [2]}}
    absent = {1: {"s-2": AttendanceCode.ABSENT}, 4: {"s-3": AttendanceCode.ILL}}
    for index, (day, slot, topic, kind) in enumerate(plan):
        lesson = book.record_lesson(
            MATH_5, date=day, slot=slot, topic=topic, homework="упр. 12", work_kind=kind
        )
        roster = ["s-1", "s-2", "s-3", "s-4"]
        book.mark_attendance(MATH_5, lesson.lesson_id, roster, AttendanceCode.PRESENT)
        for student, code in absent.get(index, {}).items():
            book.mark_attendance(MATH_5, lesson.lesson_id, [student], code)
        for student, values in marks.get(index, {}).items():
            for slot_no, value in enumerate(values):
                weight = 2 if kind is WorkKind.CONTROL else 1
                book.give_mark(
                    MATH_5, lesson.lesson_id, student, value, slot=slot_no, weight=weight
                )
    book.give_period_mark(MATH_5, "2026-2027-q1", "s-1", 5)


@pytest.fixture
def snap_app(laptop):
    def make() -> JournalApp:
        session = laptop("math", first_sync=False)  # «синхр.: никогда», not today's clock
        fill_october(session)
        return JournalApp(session, background_sync=False, today=lambda: LESSON_DAY)

    return make


@pytest.mark.parametrize("size", SIZES)
def test_journals_screen(snap_compare, snap_app, size):
    assert snap_compare(snap_app(), terminal_size=size, run_before=journals_listed)


@pytest.mark.parametrize("size", SIZES)
def test_grid_screen(snap_compare, snap_app, size):
    assert snap_compare(
        snap_app(), press=["enter", "up", "left"], terminal_size=size, run_before=journals_listed
    )


@pytest.mark.parametrize("size", SIZES)
def test_help_screen(snap_compare, snap_app, size):
    assert snap_compare(
        snap_app(), press=["enter", "f1"], terminal_size=size, run_before=journals_listed
    )


def test_refused_mark_message(snap_compare, snap_app):
    """The rule's message at the keyboard, in a monochrome-safe form (reverse video)."""
    assert snap_compare(
        snap_app(),
        press=["enter", "up", "up", "н", "5"],
        terminal_size=(80, 24),
        run_before=journals_listed,
    )


@pytest.mark.parametrize("size", SIZES)
def test_first_run_screen(snap_compare, tmp_path, size):
    app = JournalApp(Session(tmp_path / "new-laptop"), background_sync=False)
    assert snap_compare(app, terminal_size=size)
