"""Keys that arrive together (a fast typist on a slow laptop, tmux send-keys, a paste) land
each in the cell the cursor was on when it arrived, and dialog fields get exactly theirs."""

from __future__ import annotations

import datetime as dt
import unicodedata

from textual import events
from textual.widgets import Input, Static

from client_tui.app.screens.forms import LessonForm
from client_tui.app.screens.grid import GridScreen
from tests.client_tui.app.conftest import open_journal
from tests.client_tui.app.test_app_sync import wait_for
from tests.factories import MATH_5

DAYS = [dt.date(2026, 10, 5), dt.date(2026, 10, 6), dt.date(2026, 10, 7)]

# Starting on the last lesson's first pupil: three columns, right to left, 30 keys in all.
BURST_30 = [
    *["5", "enter", "н", "enter", "4", "enter", "о", "3"],
    *["left", "up", "up", "up"],
    *["3", "enter", "2", "enter", "у", "enter", "5"],
    *["left", "up", "up", "up"],
    *["б", "enter", "4", "enter", "5", "enter", "н"],
]
EXPECTED = {
    DAYS[2]: ["5", "н", "4", "о3"],
    DAYS[1]: ["3", "2", "у", "5"],
    DAYS[0]: ["б", "4", "5", "н"],
}


def burst(app, keys: list[str]) -> None:
    """Hand every key to the app at once, as a terminal delivers a burst: no pause between."""
    for key in keys:
        try:
            char = unicodedata.lookup(key.upper()) if len(key) > 1 else key
        except KeyError:
            char = None
        if key == "tab":
            char = "\t"
        elif key == "enter":
            char = "\r"
        elif key == "space":
            char = " "
        event = events.Key(key, char)
        event.set_sender(app)
        app._driver.send_message(event)


async def until(pilot, condition) -> None:
    """A burst on a loaded machine may take a while: wait long, but only as long as needed."""
    await wait_for(pilot, condition, timeout=90.0)


async def new_lesson(pilot) -> None:
    """F3, Enter (the date asked, today) and wait for the lesson's column."""
    await pilot.press("f3", "enter")
    await until(pilot, lambda: len(pilot.app.screen.grid.columns) == 1)


def column_texts(app, day: dt.date) -> list[str]:
    grid = app.screen.grid
    column = next(c for c in grid.columns if c.date == day)
    return [grid.cell(r.student_id, column.lesson_id).text for r in grid.rows]


async def test_a_30_key_burst_lands_every_value_in_its_own_cell(math_laptop, make_app):
    lessons = [
        math_laptop.book.record_lesson(MATH_5, date=day, topic=f"Тема {day:%d}") for day in DAYS
    ]
    app = make_app(math_laptop, day=DAYS[2])
    async with app.run_test(size=(100, 30)) as pilot:
        await open_journal(pilot)
        assert isinstance(app.screen, GridScreen)
        assert app.screen.cursor_keys() == ("s-1", lessons[2].lesson_id)
        before = math_laptop.status().pending
        burst(app, BURST_30)
        await until(pilot, lambda: math_laptop.status().pending >= before + 13)
        await until(pilot, lambda: app.screen.cursor_keys() == ("s-4", lessons[0].lesson_id))
        await pilot.pause()
        for day, texts in EXPECTED.items():
            assert column_texts(app, day) == texts, day
        assert math_laptop.status().pending == before + 13  # nothing more, nothing less

    state = math_laptop.book.state(MATH_5)
    assert [m.value for m in state.marks(lessons[2].lesson_id, "s-4")] == [3]
    assert [m.value for m in state.marks(lessons[1].lesson_id, "s-4")] == [5]
    assert state.marks(lessons[2].lesson_id, "s-2") == []


async def test_f2_text_tab_text_fill_topic_and_homework(math_laptop, make_app):
    app = make_app(math_laptop)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_journal(pilot)
        await new_lesson(pilot)
        pending = math_laptop.status().pending
        burst(app, ["f2", *"Дроби 5н", "tab", *"упр 12", "enter"])
        await until(
            pilot,
            lambda: isinstance(app.screen, GridScreen) and app.screen.grid.columns[0].homework,
        )
        (lesson,) = app.screen.grid.columns
        assert (lesson.topic, lesson.homework) == ("Дроби 5н", "упр 12")
        assert isinstance(app.screen, GridScreen)
        # the «5» and «н» of the topic went to the dialog, not into a pupil's cell
        assert column_texts(app, lesson.date) == ["", "", "", ""]
        assert math_laptop.status().pending == pending + 1


async def test_keys_typed_into_a_dialog_before_it_opens_wait_for_it(math_laptop, make_app):
    app = make_app(math_laptop)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_journal(pilot)
        await new_lesson(pilot)
        burst(app, ["f2", *"Тема"])
        await until(pilot, lambda: isinstance(app.screen, LessonForm))
        topic = app.screen.query_one("#topic", Input)
        await until(pilot, lambda: topic.value == "Тема")
        await pilot.press("escape")
        assert "Тема: — (F2" in str(app.screen.query_one("#lesson-panel", Static).render())


def paste(app, text: str) -> None:
    event = events.Paste(text)
    event.set_sender(app)
    app._driver.send_message(event)


async def test_a_pasted_column_goes_cell_by_cell_down_from_the_cursor(math_laptop, make_app):
    app = make_app(math_laptop)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_journal(pilot)
        await pilot.press("f3", "enter", "down")
        await until(pilot, lambda: app.screen.cursor_keys()[0] == "s-2")
        paste(app, "5\nн\r\n4\n")
        await until(pilot, lambda: "Вставлено клеток: 3" in message(app))
        (lesson,) = app.screen.grid.columns
        assert column_texts(app, lesson.date) == ["", "5", "н", "4"]
        assert app.screen.cursor_keys()[0] == "__topics__"  # after the last pasted row


async def test_a_paste_that_does_not_fit_the_column_is_refused_whole(math_laptop, make_app):
    app = make_app(math_laptop)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_journal(pilot)
        await pilot.press("f3", "enter", "down", "down")
        pending = math_laptop.status().pending
        paste(app, "5 4 3")  # three values, two pupils below the cursor
        await until(pilot, lambda: "Вставка не принята" in message(app))
        assert "учеников ниже курсора 2" in message(app)
        paste(app, "Дроби и проценты")  # text meant for the topic
        await until(pilot, lambda: "только отметки 1–5" in message(app))
        (lesson,) = app.screen.grid.columns
        assert column_texts(app, lesson.date) == ["", "", "", ""]
        assert math_laptop.status().pending == pending


def message(app) -> str:
    return str(app.screen.query_one("#message", Static).render())


async def test_a_widget_that_never_goes_quiet_does_not_freeze_the_keyboard():
    from textual.app import ComposeResult
    from textual.widget import Widget

    from client_tui.app.keys import InOrderKeys

    class Busy(Widget):
        def on_mount(self) -> None:
            self.set_interval(0.001, self.refresh)  # an animation: its queue is rarely empty

    class Small(InOrderKeys):
        def compose(self) -> ComposeResult:
            yield Input(id="field")
            yield Busy()

    app = Small()
    async with app.run_test() as pilot:
        app.query_one("#field", Input).focus()
        await pilot.pause()
        burst(app, list("абв"))
        await until(pilot, lambda: app.query_one("#field", Input).value == "абв")
