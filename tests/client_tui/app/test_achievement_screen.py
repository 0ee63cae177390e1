"""F10 on a class's journal: an achievement of a pupil, with its diploma, entered at the
keyboard (offline: nothing here syncs); refusals shown in Russian in the form."""

from __future__ import annotations

from textual.widgets import Checkbox, Input, Static

from client_tui.app.screens.achievement import AchievementScreen
from client_tui.app.screens.grid import GridScreen
from tests.client_tui.app.conftest import LESSON_DAY, open_journal
from tests.factories import CLASS_5

PDF = b"%PDF-1.4\n" + b"0" * 2000 + b"\n%%EOF\n"


async def fill(pilot, title: str, file: str = "") -> None:
    screen = pilot.app.screen
    assert isinstance(screen, AchievementScreen)
    screen.query_one("#title", Input).value = title
    screen.query_one("#area", Input).value = "математика"
    screen.query_one("#file", Input).value = file
    await pilot.pause()


async def test_an_achievement_is_entered_with_its_diploma(math_laptop, make_app, tmp_path):
    scan = tmp_path / "диплом.pdf"
    scan.write_bytes(PDF)
    app = make_app(math_laptop)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_journal(pilot)
        assert isinstance(app.screen, GridScreen)
        await pilot.press("down")  # the cursor on the second pupil, Борисова
        await pilot.press("f10")
        await pilot.pause()
        await fill(pilot, "Школьный этап ВсОШ", str(scan))
        app.screen.query_one("#title", Input).focus()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, GridScreen)
        shown = str(app.screen.query_one("#message", Static).render())
        assert "Сохранено в портфолио: Борисова В." in shown
    (entry,) = math_laptop.portfolio.achievements(CLASS_5)
    assert (entry.pupil, entry.title, entry.kind) == (
        "Борисова В.",
        "Школьный этап ВсОШ",
        "Олимпиада",
    )
    assert entry.date == LESSON_DAY and "диплом.pdf — ждёт отправки" in entry.document


async def test_a_refusal_is_shown_in_the_form_and_nothing_is_stored(
    math_laptop, make_app, tmp_path
):
    exe = tmp_path / "диплом.pdf"
    exe.write_bytes(b"MZ\x90\x00" + b"\x00" * 100)
    app = make_app(math_laptop)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_journal(pilot)
        await pilot.press("f10")
        await pilot.pause()
        await fill(pilot, "Кросс наций")
        app.screen.query_one("#external", Checkbox).value = True  # no family consent
        app.screen.query_one("#title", Input).focus()
        await pilot.press("enter")
        await pilot.pause()
        error = str(app.screen.query_one("#achievement-error", Static).render())
        assert isinstance(app.screen, AchievementScreen)
        assert "согласия" in error
        app.screen.query_one("#consent", Checkbox).value = True
        app.screen.query_one("#file", Input).value = str(exe)  # a program renamed .pdf
        await pilot.press("enter")
        await pilot.pause()
        error = str(app.screen.query_one("#achievement-error", Static).render())
        assert "не является документом" in error
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, GridScreen)
    assert math_laptop.portfolio.achievements() == []
    assert math_laptop.store.outbox() == [] and math_laptop.store.attachments() == []
