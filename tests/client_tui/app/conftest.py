"""Fixtures for the Textual app: a logged-in laptop on the real in-process server."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from client_tui.app import JournalApp
from tests.factories import MATH_5

LESSON_DAY = dt.date(2026, 10, 5)  # a Monday of the first quarter, in the past


@pytest.fixture
def math_laptop(laptop):
    return laptop("math")


@pytest.fixture
def make_app():
    def make(session, *, day: dt.date = LESSON_DAY, background_sync: bool = False, **kwargs):
        return JournalApp(session, background_sync=background_sync, today=lambda: day, **kwargs)

    return make


async def journals_listed(pilot, timeout: float = 20.0) -> None:
    """Wait until «Мои журналы» is on screen with its rows (the screen fills them on mount)."""
    from client_tui.app.screens.journals import JournalsScreen

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not (
        isinstance(pilot.app.screen, JournalsScreen)
        and pilot.app.screen.is_mounted
        and pilot.app.screen.query("#journals")
        and pilot.app.screen.query_one("#journals").row_count
    ):
        assert loop.time() < deadline, "«Мои журналы» did not appear"
        await pilot.pause(0.05)


async def open_journal(pilot, journal_id: str = MATH_5) -> None:
    """From «Мои журналы», move to the journal's row and press Enter."""
    await journals_listed(pilot)
    table = pilot.app.screen.query_one("#journals")
    row = table.get_row_index(journal_id)
    table.move_cursor(row=row)
    await pilot.press("enter")
    await pilot.pause()
