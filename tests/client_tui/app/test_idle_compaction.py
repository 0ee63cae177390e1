"""The app squashes a journal's update log when the teacher pauses, not inside a key."""

from __future__ import annotations

from client_tui.services import journals
from tests.client_tui.app.conftest import open_journal
from tests.client_tui.app.test_app_sync import wait_for
from tests.factories import MATH_5


async def test_the_app_squashes_the_log_once_the_teacher_pauses(laptop, make_app, monkeypatch):
    monkeypatch.setattr(journals, "SQUASH_AFTER", 3)
    math = laptop("math")
    app = make_app(math)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_journal(pilot)
        await pilot.press("f3", "enter", "5", "enter", "4", "enter", "3")
        assert math.store.doc_update_count(MATH_5) > 3  # the keys themselves wrote no snapshot
        await wait_for(pilot, lambda: math.store.doc_update_count(MATH_5) == 1)
        (lesson,) = app.screen.grid.columns
        marks = [
            [m.value for m in math.book.state(MATH_5).marks(lesson.lesson_id, s)]
            for s in ("s-1", "s-2", "s-3")
        ]
        assert marks == [[5], [4], [3]]
