"""A journal screen moves its objects out of the collector's sight while open (no pauses while
typing); closing it must give them back, or a day of opening journals keeps every one alive."""

from __future__ import annotations

import gc
import weakref

from client_tui.app.screens.grid import GridScreen
from tests.client_tui.app.conftest import journals_listed, open_journal


async def test_closed_journal_screens_are_collected(laptop, make_app):
    app = make_app(laptop("math"))
    async with app.run_test(size=(100, 30)) as pilot:
        screens = []
        for _ in range(3):
            await open_journal(pilot)
            assert isinstance(app.screen, GridScreen)
            assert gc.get_freeze_count() > 0  # frozen while the journal is open
            screens.append(weakref.ref(app.screen))
            await pilot.press("escape")
            await journals_listed(pilot)
        gc.collect()
        assert [ref for ref in screens if ref() is not None] == []
