"""A laptop whose token the server revoked (the teacher changed the password on the web
page): the app asks to log in again, keeps every entry typed meanwhile, sends them after the
login as the same device, and the store is re-keyed with the new password."""

from __future__ import annotations

import sqlite3

import pytest
from textual.widgets import Input

from client_tui.app.screens.journals import JournalsScreen
from client_tui.app.screens.login import LoginScreen
from client_tui.services.session import Session
from client_tui.services.store_crypto import WrongPassword
from tests.client_tui.app.conftest import LESSON_DAY, journals_listed
from tests.client_tui.app.test_app_sync import status_text, wait_for
from tests.factories import MATH_5, PASSWORD, change_password_on_server, devices

NEW_PASSWORD = "новый-пароль-2"


def server_marks(database) -> list[tuple[str, int]]:
    with sqlite3.connect(database) as conn:
        return conn.execute(
            "SELECT student_id, value FROM marks WHERE journal_id = ? ORDER BY student_id",
            (MATH_5,),
        ).fetchall()


async def test_a_revoked_laptop_logs_in_again_and_loses_nothing(
    math_laptop, make_app, server_config
):
    session = math_laptop
    device = session.store.get("device_id")
    change_password_on_server(server_config.database, "math", NEW_PASSWORD)
    lesson = session.book.record_lesson(MATH_5, date=LESSON_DAY, topic="Дроби")
    session.book.give_mark(MATH_5, lesson.lesson_id, "s-1", 5)
    session.book.give_mark(MATH_5, lesson.lesson_id, "s-3", 4)
    assert len(session.pending()) == 3

    app = make_app(session, background_sync=True, sync_interval=0.2)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, LoginScreen))
        screen = app.screen
        assert "войдите заново" in str(screen.query_one("#login-title").render())
        assert screen.query_one("#login", Input).value == "math"
        await wait_for(pilot, lambda: screen.query_one("#password", Input).has_focus)
        await pilot.press("escape")  # later: back to work offline, entries kept
        await journals_listed(pilot)
        assert "ждут отправки: 3" in status_text(app)

        await pilot.press("f5")  # a manual sync asks again
        await wait_for(pilot, lambda: isinstance(app.screen, LoginScreen))
        await pilot.press(*PASSWORD, "enter")  # the old password: refused, in Russian
        error = app.screen.query_one("#login-error")
        await wait_for(pilot, lambda: "Не удалось войти" in str(error.render()))
        app.screen.query_one("#password", Input).value = ""
        await pilot.press(*NEW_PASSWORD, "enter")
        await journals_listed(pilot)
        assert isinstance(app.screen, JournalsScreen)
        await wait_for(pilot, lambda: "ждут отправки: 0" in status_text(app))

    assert server_marks(server_config.database) == [("s-1", 5), ("s-3", 4)]
    assert session.store.get("device_id") == device
    assert devices(server_config.database) == [(device, None)]  # the same record, live again
    assert session.rejected() == []
    home = session.home
    session.close()
    with pytest.raises(WrongPassword):
        Session(home, password=PASSWORD)
    again = Session(home, password=NEW_PASSWORD)
    try:
        assert again.logged_in and again.pending() == []
    finally:
        again.close()
