from client_tui.app.screens.grid import GridScreen
from shared.model import AttendanceCode
from tests.client_tui.app.conftest import LESSON_DAY, open_journal
from tests.factories import MATH_5


async def test_teacher_types_a_lesson_and_it_is_in_the_local_store(math_laptop, make_app):
    app = make_app(math_laptop)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_journal(pilot)
        assert isinstance(app.screen, GridScreen)
        await pilot.press("f3")  # a new lesson for today
        await pilot.press("5", "enter", "н", "enter", "4", "enter", "о")
        await pilot.pause()
        grid = app.screen.grid
        lesson = grid.columns[0]
        assert lesson.date == LESSON_DAY
        texts = [grid.cell(r.student_id, lesson.lesson_id).text for r in grid.rows]
        assert texts == ["5", "н", "4", "о"]
    state = math_laptop.book.state(MATH_5)
    assert [m.value for m in state.marks(lesson.lesson_id, "s-1")] == [5]
    assert state.attendance(lesson.lesson_id, "s-2") is AttendanceCode.ABSENT
    assert math_laptop.status().pending == 5
