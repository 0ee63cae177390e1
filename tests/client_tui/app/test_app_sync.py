"""The app with and without a link: first run, offline start, background sync, the
conflicts screen, USB bundles and help."""

import asyncio
import time

from textual.widgets import Static

from client_tui.app import JournalApp
from client_tui.app.screens.bundle import BundleScreen
from client_tui.app.screens.grid import GridScreen
from client_tui.app.screens.help import HelpScreen
from client_tui.app.screens.login import LoginScreen
from client_tui.app.screens.problems import ProblemsScreen
from client_tui.services.api import TemporaryFailure
from client_tui.services.session import Session
from server.cli import main as server_main
from shared.hlc import parse_stamp
from shared.model import AttendanceCode
from tests.client_tui.app.conftest import LESSON_DAY, journals_listed, open_journal
from tests.conftest import BASE_URL
from tests.factories import MATH_5, PASSWORD


def status_text(app) -> str:
    return str(app.screen.query_one("#status", Static).render())


async def wait_for(pilot, condition, timeout: float = 20.0) -> None:
    """Let the app run until `condition()` holds (background threads post their results)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "the condition did not hold in time"
        await pilot.pause(0.05)


def no_link(body: bytes) -> bytes:
    raise TemporaryFailure("Нет связи с сервером.")


async def test_first_run_registers_the_device_and_later_starts_offline(tmp_path, client):
    home = tmp_path / "laptop"
    session = Session(home, http=client)
    app = JournalApp(session, background_sync=False)
    async with app.run_test(size=(80, 24)) as pilot:
        assert isinstance(app.screen, LoginScreen)
        await pilot.press(*"testserver.local", "enter")  # no scheme: http:// is assumed
        await pilot.press(*"math", "enter", *PASSWORD, "enter")
        await journals_listed(pilot)
        assert "Математика" in str(app.screen.query_one("#journals").get_row(MATH_5))
    assert session.logged_in
    session.close()

    # the server is gone: no HTTP client at all
    offline = Session(home, password=PASSWORD, transport=no_link)
    app = JournalApp(offline, sync_interval=0.2, today=lambda: LESSON_DAY)
    async with app.run_test(size=(80, 24)) as pilot:
        await journals_listed(pilot)
        await wait_for(pilot, lambda: "связь: НЕТ" in status_text(app))
        await open_journal(pilot)
        await pilot.press("f3", "enter", "5")
        await pilot.pause()
        assert "ждут отправки: 2" in status_text(app)
    offline.close()


async def test_wrong_password_is_shown_in_russian_and_changes_nothing(tmp_path, client):
    session = Session(tmp_path / "laptop", http=client)
    app = JournalApp(session, background_sync=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(*BASE_URL, "enter", *"math", "enter", *"wrong-one", "enter")
        error = app.screen.query_one("#login-error", Static)
        await wait_for(pilot, lambda: "Не удалось войти" in str(error.render()))
        assert "Неверный логин или пароль" in str(error.render())
        assert isinstance(app.screen, LoginScreen)
    assert not session.logged_in
    session.close()


async def test_server_unreachable_the_app_starts_and_typing_is_saved(laptop, make_app):
    math = laptop("math", transport=no_link)
    app = make_app(math, background_sync=True, sync_interval=0.2)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: "связь: НЕТ" in status_text(app))
        await open_journal(pilot)
        await pilot.press("f3", "enter", "=", "н")
        await pilot.pause()
        assert "связь: НЕТ" in status_text(app)
        assert "ждут отправки: 6" in status_text(app)
    assert math.status().pending == 6  # the lesson, four present, then н over one of them
    assert "Нет связи" in math.status().last_error


async def test_background_sync_sends_entries_and_updates_the_status_bar(laptop, make_app):
    math = laptop("math")
    app = make_app(math, background_sync=True, sync_interval=300)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: "связь: есть" in status_text(app))
        assert "синхр.: никогда" not in status_text(app)
        await open_journal(pilot)
        await pilot.press("f3", "enter", "5", "enter", "н")
        await pilot.pause()
        assert "ждут отправки: 3" in status_text(app)
        await pilot.press("f5")  # sync now
        await wait_for(pilot, lambda: "ждут отправки: 0" in status_text(app))
        assert "связь: есть" in status_text(app)
    other = laptop("math", name="second")
    other.sync()
    state = other.book.state(MATH_5)
    (lesson,) = state.lessons()
    assert [m.value for m in state.marks(lesson.lesson_id, "s-1")] == [5]
    assert state.attendance(lesson.lesson_id, "s-2") is AttendanceCode.ABSENT


async def test_entries_from_another_laptop_appear_in_the_open_grid(laptop, make_app):
    math = laptop("math")
    app = make_app(math, background_sync=True, sync_interval=300)
    other = laptop("math", name="second")
    lesson = other.book.record_lesson(MATH_5, date=LESSON_DAY, topic="Дроби")
    other.book.give_mark(MATH_5, lesson.lesson_id, "s-3", 2)
    other.sync()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_journal(pilot)
        await pilot.press("f5")
        await wait_for(pilot, lambda: bool(app.screen.grid.columns))
        grid = app.screen.grid
        assert grid.cell("s-3", lesson.lesson_id).text == "2"
        assert grid.columns[0].topic == "Дроби"


def clock_passes(events) -> None:
    """Wait until the wall clock has passed these entries' stamps, so that the next entry,
    typed on another laptop, is stamped later and not in the same millisecond (where the
    device ids would decide which of the two counts as later)."""
    stamped = max(parse_stamp(e.hlc)[0] for e in events)
    while time.time() * 1000 <= stamped + 1:
        time.sleep(0.001)


async def test_conflicts_screen_shows_what_collided_and_what_to_do(laptop, make_app):
    first, second = laptop("math", name="first"), laptop("math", name="second")
    lesson = first.book.record_lesson(MATH_5, date=LESSON_DAY)
    first.sync()
    second.sync()
    clock_passes([first.book.give_mark(MATH_5, lesson.lesson_id, "s-1", 3)])
    second.book.give_mark(MATH_5, lesson.lesson_id, "s-1", 4)  # later stamp: it wins
    second.sync()
    first.sync()
    assert first.status().conflicts == 1
    app = make_app(first)
    async with app.run_test(size=(80, 24)) as pilot:
        await journals_listed(pilot)
        assert "конфликтов: 1" in status_text(app)
        row = app.screen.query_one("#journals").get_row(MATH_5)
        assert (row[3], row[4]) == ("", "1")  # «Ждут», «Конфл.» of the journal
        await open_journal(pilot)
        assert isinstance(app.screen, GridScreen)
        assert app.screen.grid.cell("s-1", lesson.lesson_id).text == "4!"
        await pilot.press("f6")
        assert isinstance(app.screen, ProblemsScreen)
        text = " ".join(str(s.render()) for s in app.screen.query(".problem"))
        assert "КОНФЛИКТ" in text
        assert "Алексеев А., урок 05.10: отметка 3" in text
        assert "поставьте его ещё раз" in text


async def test_usb_bundle_export_and_import_from_the_app(laptop, make_app, tmp_path, server_config):
    math = laptop("math", transport=no_link)
    lesson = math.book.record_lesson(MATH_5, date=LESSON_DAY)
    math.book.give_mark(MATH_5, lesson.lesson_id, "s-1", 5)
    bundle = tmp_path / "usb" / "math.bundle"
    bundle.parent.mkdir()
    app = make_app(math)
    async with app.run_test(size=(80, 24)) as pilot:
        await journals_listed(pilot)
        await pilot.press("f9")
        assert isinstance(app.screen, BundleScreen)
        path = app.screen.query_one("#path")
        path.value = str(bundle)
        await pilot.click("#export")
        result = app.screen.query_one("#bundle-result", Static)
        await wait_for(pilot, lambda: "Записан" in str(result.render()))
    assert bundle.stat().st_size > 0

    reply = tmp_path / "usb" / "math.reply"  # the school's server, as its operator would
    command = ["--db", str(server_config.database), "import-bundle", str(bundle)]
    assert server_main([*command, "--reply", str(reply)]) == 0
    app = make_app(math)
    async with app.run_test(size=(80, 24)) as pilot:
        await journals_listed(pilot)
        await pilot.press("f9")
        app.screen.query_one("#path").value = str(reply)
        await pilot.click("#import")
        result = app.screen.query_one("#bundle-result", Static)
        await wait_for(pilot, lambda: "Ответ принят" in str(result.render()))
    assert math.status().pending == 0


async def test_f1_lists_every_key_in_russian(math_laptop, make_app):
    app = make_app(math_laptop)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_journal(pilot)
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        keys = str(app.screen.query_one("#help-keys", Static).render())
        grid_bindings = {b.key for b in GridScreen.BINDINGS}
        for key in ("F2", "F3", "F4", "F5", "F6", "F7", "F8", "F9", "Ctrl+Z", "Delete", "Enter"):
            assert key in keys
        assert {"f2", "f3", "f4", "f7", "f8", "ctrl+z"} <= grid_bindings
        assert "н б у о" in keys and "h, 6, y, o" in keys
        await pilot.press("escape")
        assert isinstance(app.screen, GridScreen)


async def test_typing_goes_on_while_a_sync_hangs_on_a_dead_link(laptop, make_app):
    import threading

    armed, entered, release = threading.Event(), threading.Event(), threading.Event()

    def hanging(body: bytes) -> bytes:
        if not armed.is_set():  # the login's first sync: no link, at once (not a 20 s hang)
            raise TemporaryFailure("Нет связи с сервером.")
        entered.set()
        release.wait(20)  # a link that accepted the connection and then went silent
        raise TemporaryFailure("Сервер не ответил вовремя.")

    math = laptop("math", transport=hanging)
    armed.set()
    app = make_app(math, background_sync=True, sync_interval=300)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_journal(pilot)
        await wait_for(pilot, entered.is_set)  # the sync thread is stuck in the network call
        await pilot.press("f3", "enter", "=", "5", "enter", "н", "enter", "4")
        await pilot.pause()
        (lesson,) = app.screen.grid.columns
        texts = [
            app.screen.grid.cell(r.student_id, lesson.lesson_id).text for r in app.screen.grid.rows
        ]
        assert texts[:3] == ["5", "н", "4"]
        assert math.status().pending == 8  # lesson, 4 present, н, 5, 4: all durable already
        release.set()
        await wait_for(pilot, lambda: "связь: НЕТ" in status_text(app))


async def test_an_entry_the_server_refused_is_listed_with_its_reason(laptop, make_app):
    first, second = laptop("math", name="first"), laptop("math", name="second")
    lesson = first.book.record_lesson(MATH_5, date=LESSON_DAY)
    first.sync()
    second.sync()
    absence = first.book.mark_attendance(MATH_5, lesson.lesson_id, ["s-2"], AttendanceCode.ABSENT)
    clock_passes(absence)
    second.book.give_mark(MATH_5, lesson.lesson_id, "s-2", 5)  # later: the one refused
    first.sync()
    second.sync()
    assert second.status().refused == 1
    app = make_app(second)
    async with app.run_test(size=(80, 24)) as pilot:
        await journals_listed(pilot)
        assert "отклонено: 1" in status_text(app)
        await pilot.press("f6")
        text = " ".join(str(s.render()) for s in app.screen.query(".problem"))
        assert "ОТКЛОНЕНО" in text
        assert "Борисова В., урок 05.10: отметка 5" in text
        assert "Отметка отсутствующему не ставится" in text
        assert "Запись не учтена" in text
        await pilot.press("escape")
        await open_journal(pilot)
        assert app.screen.grid.cell("s-2", lesson.lesson_id).text == "н"
