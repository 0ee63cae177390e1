"""Typing in the journal grid: what lands in the local store, what the grid shows, and
what the rules refuse at the keyboard."""

import datetime as dt
import time

from textual.widgets import Input, Static

from client_tui.app.screens.forms import LessonDateForm, MarksForm, ReasonForm
from client_tui.app.screens.grid import GridScreen
from shared.hlc import Clock
from shared.model import AttendanceCode, LessonRecorded, WorkKind
from tests.client_tui.app.conftest import LESSON_DAY, journals_listed, open_journal
from tests.factories import MATH_5, RUSSIAN_5, stamp_today


def message(app) -> str:
    return str(app.screen.query_one("#message", Static).render())


def column_texts(app, lesson_id: str) -> list[str]:
    grid = app.screen.grid
    return [grid.cell(r.student_id, lesson_id).text for r in grid.rows]


async def test_a_lessons_worth_of_entries_reaches_the_store_and_the_grid(math_laptop, make_app):
    app = make_app(math_laptop)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_journal(pilot)
        assert isinstance(app.screen, GridScreen)
        await pilot.press("f3", "enter")  # a new lesson, today; cursor on its column, first pupil
        await pilot.press("=")  # everyone present
        await pilot.press("5", "enter", "н", "enter", "4", "enter", "о", "3")
        await pilot.press("f2")  # the lesson panel: topic, homework, kind of work
        await pilot.pause()
        await pilot.press(*"Дроби", "tab", *"упр 12", "enter")
        await pilot.pause()
        grid = app.screen.grid
        (lesson,) = grid.columns
        assert (lesson.date, lesson.topic, lesson.homework) == (LESSON_DAY, "Дроби", "упр 12")
        assert column_texts(app, lesson.lesson_id) == ["5", "н", "4", "о3"]
        panel = str(app.screen.query_one("#lesson-panel", Static).render())
        assert "Тема: Дроби" in panel and "ДЗ: упр 12" in panel
        assert "ждут отправки: 11" in str(app.screen.query_one("#status", Static).render())

    state = math_laptop.book.state(MATH_5)
    lid = lesson.lesson_id
    assert [m.value for m in state.marks(lid, "s-1")] == [5]
    assert state.attendance(lid, "s-1") is AttendanceCode.PRESENT
    assert state.attendance(lid, "s-2") is AttendanceCode.ABSENT
    assert state.attendance(lid, "s-4") is AttendanceCode.LATE
    assert [m.value for m in state.marks(lid, "s-4")] == [3]
    # lesson, its record corrected, 4 present, н (supersedes present), 5, 4, о, 3
    assert math_laptop.status().pending == 11


async def test_latin_look_alikes_mean_the_attendance_letters(math_laptop, make_app):
    app = make_app(math_laptop)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_journal(pilot)
        await pilot.press("f3", "enter", "h", "enter", "6", "enter", "Y", "enter", "o")
        await pilot.pause()
        (lesson,) = app.screen.grid.columns
        assert column_texts(app, lesson.lesson_id) == ["н", "б", "у", "о"]


async def test_mark_for_absent_pupil_is_refused_with_the_rule_message(math_laptop, make_app):
    app = make_app(math_laptop)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_journal(pilot)
        await pilot.press("f3", "enter", "н", "5")
        await pilot.pause()
        assert "Отметка отсутствующему не ставится" in message(app)
        (lesson,) = app.screen.grid.columns
        assert column_texts(app, lesson.lesson_id)[0] == "н"
    assert math_laptop.book.state(MATH_5).marks(lesson.lesson_id, "s-1") == []
    assert math_laptop.status().pending == 2  # the lesson and the absence only


async def test_period_mark_before_the_periods_last_lesson_is_refused(math_laptop, make_app):
    tomorrow = stamp_today() + dt.timedelta(days=1)
    app = make_app(math_laptop, day=tomorrow)
    async with app.run_test(size=(120, 30)) as pilot:
        await open_journal(pilot)
        await pilot.press("f3", "enter")
        app.screen.table.move_cursor(row=0, column=len(app.screen.table.columns) - 1)
        await pilot.press("5")
        await pilot.pause()
        assert "ставится после последнего урока периода" in message(app)
        assert app.screen.grid.period_cells["s-1"].mark is None
    assert math_laptop.status().pending == 1


async def test_period_mark_beside_average_and_suggestion(math_laptop, make_app):
    book = math_laptop.book
    for day, value in ((dt.date(2026, 10, 5), 5), (dt.date(2026, 10, 6), 4)):
        lesson = book.record_lesson(MATH_5, date=day)
        book.give_mark(MATH_5, lesson.lesson_id, "s-1", value)
    app = make_app(math_laptop)
    async with app.run_test(size=(120, 30)) as pilot:
        await open_journal(pilot)
        table = app.screen.table
        table.move_cursor(row=0, column=len(table.columns) - 1)
        await pilot.press("4")
        await pilot.pause()
        row = table.get_row("s-1")
        assert row[-3:] == ["4,50", "5", "4"]
        assert "Сохранено" in message(app)
        await pilot.press("=")  # take the suggested mark instead
        await pilot.pause()
        assert table.get_row("s-1")[-1] == "5"
        await pilot.press("down", "=")  # pupil 2 has no marks: nothing to suggest
        assert "Рекомендуемой отметки нет" in message(app)
    period_mark = book.state(MATH_5).period_mark("2026-2027-q1", "s-1")
    assert period_mark.value == 5


async def test_read_only_journal_is_marked_and_refuses_edits(math_laptop, make_app):
    app = make_app(math_laptop)
    async with app.run_test(size=(100, 30)) as pilot:
        await journals_listed(pilot)
        journals = app.screen.query_one("#journals")
        assert "только чтение" in journals.get_row(RUSSIAN_5)
        await open_journal(pilot, RUSSIAN_5)
        title = str(app.screen.query_one("#grid-title", Static).render())
        assert "ТОЛЬКО ЧТЕНИЕ" in title
        await pilot.press("f3", "enter")
        await pilot.pause()
        assert "только для чтения" in message(app)
        await pilot.press("5", "ctrl+z")
        await pilot.pause()
        assert "только для чтения" in message(app)
    assert math_laptop.status().pending == 0
    assert len(math_laptop.book.doc(RUSSIAN_5)) == 0


async def test_delete_retracts_and_undo_brings_it_back(math_laptop, make_app):
    app = make_app(math_laptop)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_journal(pilot)
        await pilot.press("f3", "enter", "4", "delete")
        await pilot.pause()
        (lesson,) = app.screen.grid.columns
        assert column_texts(app, lesson.lesson_id)[0] == ""
        await pilot.press("ctrl+z")
        await pilot.pause()
        assert column_texts(app, lesson.lesson_id)[0] == "4"
        assert "Отменено" in message(app)
    assert [m.value for m in math_laptop.book.state(MATH_5).marks(lesson.lesson_id, "s-1")] == [4]


async def test_entry_form_puts_several_marks_with_kind_and_weight(math_laptop, make_app):
    app = make_app(math_laptop)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_journal(pilot)
        await pilot.press("f3", "enter", "down", "f4")
        await pilot.pause()
        assert isinstance(app.screen, MarksForm)
        await pilot.press(*"5 4", "tab", "tab", "backspace", "2", "enter")
        await pilot.pause()
        (lesson,) = app.screen.grid.columns
        assert column_texts(app, lesson.lesson_id)[1] == "5/4"
    marks = math_laptop.book.state(MATH_5).marks(lesson.lesson_id, "s-2")
    assert [(m.value, m.weight, m.work_kind) for m in marks] == [
        (5, 2, WorkKind.REGULAR),
        (4, 2, WorkKind.REGULAR),
    ]


async def test_correcting_an_earlier_days_mark_asks_for_the_reason(math_laptop, make_app):
    book = math_laptop.book
    book.clock = Clock(book.device_id, now=lambda: time.time() - 3 * 86400)
    lesson: LessonRecorded = book.record_lesson(MATH_5, date=LESSON_DAY)
    book.give_mark(MATH_5, lesson.lesson_id, "s-1", 3)
    book.clock = Clock(book.device_id, last=book.clock.last)
    app = make_app(math_laptop)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_journal(pilot)
        await pilot.press("delete")
        await pilot.pause()
        assert isinstance(app.screen, ReasonForm)
        await pilot.press(*"ошибка", "enter")
        await pilot.pause()
        assert column_texts(app, lesson.lesson_id)[0] == ""
    state = book.state(MATH_5)
    assert state.marks(lesson.lesson_id, "s-1") == []
    winner = state.cells[("mark", lesson.lesson_id, "s-1", "0")].winner
    assert winner.reason == "ошибка"


async def test_months_move_with_f7_and_f8(math_laptop, make_app):
    math_laptop.book.record_lesson(MATH_5, date=dt.date(2026, 9, 14), topic="Повторение")
    app = make_app(math_laptop)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_journal(pilot)
        assert app.screen.grid.title == "октябрь 2026" and not app.screen.grid.columns
        await pilot.press("f7")
        assert app.screen.grid.title == "сентябрь 2026"
        assert [c.topic for c in app.screen.grid.columns] == ["Повторение"]
        await pilot.press("f8", "f8")
        assert app.screen.grid.title == "ноябрь 2026"


async def test_a_full_month_scrolls_by_columns_keeping_the_names(math_laptop, make_app):
    book = math_laptop.book
    days = [dt.date(2026, 10, d) for d in range(1, 31) if dt.date(2026, 10, d).weekday() < 5]
    for day in days:
        book.record_lesson(MATH_5, date=day)
    app = make_app(math_laptop)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_journal(pilot)
        table = app.screen.table
        await pilot.press("home")
        assert table.cursor_keys()[1] == app.screen.grid.columns[0].lesson_id
        assert table.render_line(0).text.rstrip().endswith("▶")
        await pilot.press("end")
        header, first_row = table.render_line(0).text, table.render_line(1).text
        assert "◀" in header and "Чет." in header  # the quarter mark (issue 16: not «Итог»)
        assert "Алексеев А." in first_row  # the name column never scrolls away
        await pilot.press("left", "left", "left", "4")  # 30.10: after the 1st quarter ended
        await pilot.press("home", "5")  # 01.10
        await pilot.pause()
        row = table.get_row("s-1")
        assert (row[2], row[2 + len(days) - 1]) == ("5", "4")
        assert row[-3:] == ["5,00", "5", ""]  # the quarter's average counts 01.10 only


async def test_f3_asks_for_the_date_and_takes_another_day(math_laptop, make_app):
    app = make_app(math_laptop)
    earlier = LESSON_DAY - dt.timedelta(days=2)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_journal(pilot)
        await pilot.press("f3")
        await pilot.pause()
        assert isinstance(app.screen, LessonDateForm)
        field = app.screen.query_one("#date", Input)
        assert field.value == f"{LESSON_DAY:%d.%m.%Y}"  # today unless another is typed
        await pilot.press("ctrl+u", *"31.02.2026", "enter")  # no such day
        await pilot.pause()
        assert isinstance(app.screen, LessonDateForm)
        assert "Дата «31.02.2026» не распознана" in str(
            app.screen.query_one(".form-error", Static).render()
        )
        assert math_laptop.book.state(MATH_5).lessons() == []  # nothing stored meanwhile
        await pilot.press("ctrl+u", *f"{earlier:%d.%m.%Y}", "enter")
        await pilot.pause()
        assert isinstance(app.screen, GridScreen)
        await pilot.press("5")
        await pilot.pause()
        (lesson,) = app.screen.grid.columns
        assert lesson.date == earlier and column_texts(app, lesson.lesson_id)[0] == "5"
    (stored,) = math_laptop.book.state(MATH_5).lessons()
    assert stored.date == earlier


async def test_f3_then_escape_records_no_lesson(math_laptop, make_app):
    app = make_app(math_laptop)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_journal(pilot)
        await pilot.press("f3", "escape")
        await pilot.pause()
        assert isinstance(app.screen, GridScreen) and not app.screen.grid.columns
    assert math_laptop.book.state(MATH_5).lessons() == []
