"""The grid for every kind of mark (issue 16): a pass/fail subject, a grade-1 journal without
marks, a 10th grade attested by half-years with its year column, «н/а» and «осв.», «4+».

The fixture school gains a grade 10 and a grade 1 taught by t-math, half-years and the year
period, and a pass/fail scale for maths in grade 6, before the laptop first syncs."""

from __future__ import annotations

import datetime as dt

import pytest
from textual import events
from textual.widgets import Input, Static

from client_tui.app.screens.forms import ExemptionForm, MarksForm
from client_tui.app.screens.grid import PERIOD, GridScreen, year_key
from server.storage import directory as directory_storage
from server.storage.db import connect, transaction
from shared.model import (
    AttendanceCode,
    MarkKind,
    MarkSpecial,
    Membership,
    Period,
    PeriodKind,
    Scale,
    ScaleSetting,
    SchoolClass,
    Student,
    TeachingAssignment,
    journal_id,
)
from tests.client_tui.app.conftest import LESSON_DAY, open_journal
from tests.factories import MATH_5, MATH_6, YEAR

D = dt.date
CLASS_10, CLASS_1, CLASS_9 = f"{YEAR}-10", f"{YEAR}-1", f"{YEAR}-9"
MATH_10, MATH_1 = journal_id(YEAR, CLASS_10, "math"), journal_id(YEAR, CLASS_1, "math")
MATH_9 = journal_id(YEAR, CLASS_9, "math")


def add_grades(server_config) -> None:
    rows = [
        SchoolClass(id=CLASS_10, year_id=YEAR, grade=10),
        SchoolClass(id=CLASS_1, year_id=YEAR, grade=1),
        SchoolClass(id=CLASS_9, year_id=YEAR, grade=9),
        Period(id=f"{YEAR}-h1", year_id=YEAR, kind=PeriodKind.HALF, number=1,
               name="1 полугодие", starts=D(2026, 9, 1), ends=D(2026, 12, 28)),
        Period(id=f"{YEAR}-h2", year_id=YEAR, kind=PeriodKind.HALF, number=2,
               name="2 полугодие", starts=D(2027, 1, 12), ends=D(2027, 5, 31)),
        Period(id=f"{YEAR}-y", year_id=YEAR, kind=PeriodKind.YEAR, number=1,
               name="Учебный год", starts=D(2026, 9, 1), ends=D(2027, 5, 31)),
        Student(id="s-10a", last_name="Иванова", first_name="Ирина"),
        Student(id="s-10b", last_name="Козлов", first_name="Кирилл"),
        Student(id="s-1a", last_name="Лаптева", first_name="Лиза"),
        Student(id="s-9a", last_name="Морозов", first_name="Максим"),
        Membership(student_id="s-10a", class_id=CLASS_10, starts=D(2026, 9, 1)),
        Membership(student_id="s-10b", class_id=CLASS_10, starts=D(2026, 9, 1)),
        Membership(student_id="s-1a", class_id=CLASS_1, starts=D(2026, 9, 1)),
        Membership(student_id="s-9a", class_id=CLASS_9, starts=D(2026, 9, 1)),
        TeachingAssignment(teacher_id="t-math", class_id=CLASS_10, subject_id="math"),
        TeachingAssignment(teacher_id="t-math", class_id=CLASS_1, subject_id="math"),
        TeachingAssignment(teacher_id="t-math", class_id=CLASS_9, subject_id="math"),
    ]  # fmt: skip
    conn = connect(server_config.database)
    with transaction(conn):
        directory_storage.upsert(conn, rows, school_id="sch")
        directory_storage.set_scale(
            conn, "sch", ScaleSetting(scale=Scale.PASS_FAIL, grade=6, subject_id="math")
        )
    conn.close()


@pytest.fixture
def kinds_laptop(server_config, laptop):
    add_grades(server_config)
    return laptop("math", first_sync=False)  # «синхр.: никогда», not today's clock


def message(app) -> str:
    return str(app.screen.query_one("#message", Static).render())


def title(app) -> str:
    return str(app.screen.query_one("#grid-title", Static).render())


def column_texts(app, lesson_id: str) -> list[str]:
    grid = app.screen.grid
    return [grid.cell(r.student_id, lesson_id).text for r in grid.rows]


def column(app, key: str) -> int:
    return [k for k, _, _ in app.screen.table.columns].index(key)


async def test_pass_fail_subject_takes_plus_and_minus_and_refuses_a_number(kinds_laptop, make_app):
    """001 §3.4: «+» is зач, «−» незач; «5» is refused with the clause."""
    app = make_app(kinds_laptop)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_journal(pilot, MATH_6)
        assert isinstance(app.screen, GridScreen)
        assert "зачёт / незачёт" in title(app)
        await pilot.press("f3", "enter", "+", "enter", "-")
        await pilot.pause()
        (lesson,) = app.screen.grid.columns
        assert column_texts(app, lesson.lesson_id) == ["зач", "незач"]
        await pilot.press("up", "5")
        await pilot.pause()
        assert "001 §3.4" in message(app)
    marks = kinds_laptop.book.state(MATH_6).marks(lesson.lesson_id, "s-5")
    assert [(m.value, m.special) for m in marks] == [(0, MarkSpecial.PASS)]


async def test_grade_one_journal_takes_attendance_but_no_marks(kinds_laptop, make_app):
    """004 §1.5: безотметочное обучение in grade 1."""
    app = make_app(kinds_laptop)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_journal(pilot, MATH_1)
        assert "без отметок" in title(app)
        await pilot.press("f3", "enter", "5")
        await pilot.pause()
        assert "без отметок" in message(app) and "004 §1.5" in message(app)
        await pilot.press("н")
        await pilot.pause()
        (lesson,) = app.screen.grid.columns
        assert column_texts(app, lesson.lesson_id) == ["н"]
    assert kinds_laptop.book.state(MATH_1).all_marks() == []


async def test_tenth_grade_has_half_years_and_a_year_column(kinds_laptop, make_app):
    """004 §1.4: grades 10–11 are attested by half-years; «Год» beside; «н» there is «н/а»."""
    app = make_app(kinds_laptop)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_journal(pilot, MATH_10)
        grid = app.screen.grid
        assert grid.period.kind is PeriodKind.HALF
        assert [t for _, t, _ in grid.year_columns] == ["Год"]
        await pilot.press("f3", "enter", "4", "enter", "5")
        await pilot.pause()
        app.screen.table.move_cursor(row=0, column=column(app, PERIOD))
        await pilot.press("н")
        await pilot.pause()
        assert "н/а" in message(app)
        app.screen.table.move_cursor(row=1, column=column(app, year_key("year")))
        await pilot.press("5")
        await pilot.pause()
        grid = app.screen.grid
        assert grid.period_cells["s-10a"].mark_text == "н/а"
        assert grid.year_cells[("s-10b", "year")] == "5"
        # and the screen shows it, not only the model
        assert app.screen.table.get_row("s-10b")[column(app, year_key("year"))] == "5"
        header = app.screen.table.render_line(0).text
        assert "Пол." in header and "Год" in header and "Итог" not in header
    state = kinds_laptop.book.state(MATH_10)
    assert state.period_mark(f"{YEAR}-h1", "s-10a").special is MarkSpecial.NOT_ATTESTED


async def test_exempt_pupil_shows_osv_and_refuses_a_mark_on_those_days(kinds_laptop, make_app):
    """004 §1.4: «осв.» in the quarter's column; a mark on an exempt day is refused."""
    kinds_laptop.book.give_period_mark(
        MATH_5,
        f"{YEAR}-q1",
        "s-1",
        0,
        special=MarkSpecial.EXEMPT,
        document="Справка ВК № 12",
        exempt_from=D(2026, 10, 1),
        exempt_to=D(2026, 10, 20),
    )
    app = make_app(kinds_laptop)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_journal(pilot, MATH_5)
        await pilot.press("f3", "enter", "5")
        await pilot.pause()
        assert "освобождён" in message(app)
        assert app.screen.grid.period_cells["s-1"].mark_text == "осв."
        await pilot.press("enter", "4")  # the next pupil is not exempt
        await pilot.pause()
        (lesson,) = app.screen.grid.columns
        assert column_texts(app, lesson.lesson_id)[:2] == ["", "4"]


@pytest.fixture
def kinds_app(kinds_laptop, make_app):
    return make_app(kinds_laptop, day=LESSON_DAY)


async def _tenth_grade_typed(pilot) -> None:
    await open_journal(pilot, MATH_10)
    await pilot.press("f3", "enter", "4", "enter", "5")
    await pilot.pause()


async def _pass_fail_typed(pilot) -> None:
    await open_journal(pilot, MATH_6)
    await pilot.press("f3", "enter", "+", "enter", "-")
    await pilot.pause()


def test_snapshot_tenth_grade_half_year_and_year_columns(snap_compare, kinds_app):
    assert snap_compare(kinds_app, terminal_size=(80, 24), run_before=_tenth_grade_typed)


def test_snapshot_pass_fail_subject(snap_compare, kinds_app):
    assert snap_compare(kinds_app, terminal_size=(80, 24), run_before=_pass_fail_typed)


async def test_thematic_mark_has_a_column_of_its_own(kinds_laptop, make_app):
    """004 §1.4: a mark for a topic is its own column beside the quarter's, not a lesson's."""
    book = kinds_laptop.book
    book.record_lesson(MATH_5, date=D(2026, 10, 2), topic="Дроби")
    book.give_period_mark(
        MATH_5, f"{YEAR}-q1", "s-1", 5, mark_kind=MarkKind.THEMATIC, topic="Дроби"
    )
    app = make_app(kinds_laptop)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_journal(pilot, MATH_5)
        key = year_key("thematic|Дроби")
        assert "Т.Др" in app.screen.table.render_line(0).text
        app.screen.table.move_cursor(row=1, column=column(app, key))
        await pilot.press("4")
        await pilot.pause()
        assert "тематическая отметка «Дроби»" in message(app)
        assert app.screen.grid.year_cells[("s-2", "thematic|Дроби")] == "4"
        assert app.screen.grid.period_cells["s-2"].mark is None  # the quarter's cell is apart
    mark = kinds_laptop.book.state(MATH_5).period_mark(
        f"{YEAR}-q1", "s-2", MarkKind.THEMATIC, "Дроби"
    )
    assert mark is not None and mark.value == 4


async def test_final_mark_is_suggested_from_year_and_exam_and_confirmed(kinds_laptop, make_app):
    """004 §1.4, 000 §3.2.2: grade 9 ends a level: «Год», «Экз.», «Итог»; «=» in «Итог»
    takes the school's rule (year 4, exam 5 → 4,5 → 5), which the teacher confirms so."""
    book = kinds_laptop.book
    book.record_lesson(MATH_9, date=D(2026, 10, 2), topic="Функции")
    book.give_period_mark(MATH_9, f"{YEAR}-y", "s-9a", 4, mark_kind=MarkKind.YEAR)
    book.give_period_mark(MATH_9, f"{YEAR}-y", "s-9a", 5, mark_kind=MarkKind.EXAM)
    app = make_app(kinds_laptop)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_journal(pilot, MATH_9)
        assert [t for _, t, _ in app.screen.grid.year_columns] == ["Год", "Экз.", "Итог"]
        app.screen.table.move_cursor(row=0, column=column(app, year_key("final")))
        await pilot.press("=")
        await pilot.pause()
        assert app.screen.grid.year_cells[("s-9a", "final")] == "5"
    final = kinds_laptop.book.state(MATH_9).period_mark(f"{YEAR}-y", "s-9a", MarkKind.FINAL)
    assert final is not None and final.value == 5


@pytest.fixture
def modifiers_laptop(server_config, laptop):
    """The fixture school with «+»/«−» allowed in grade 5 (004 §1.5: only if it says so)."""
    add_grades(server_config)
    conn = connect(server_config.database)
    with transaction(conn):
        directory_storage.set_scale(
            conn, "sch", ScaleSetting(scale=Scale.FIVE_POINT, grade=5, modifiers=True)
        )
    conn.close()
    return laptop("math", first_sync=False)


async def test_plus_and_minus_after_a_digit_make_4_plus_and_3_minus(modifiers_laptop, make_app):
    """004 §1.5: where the school allows them, «4» then «+» is «4+», as the CLI's «4+»;
    «−» before any mark is explained, «+» in an empty cell is still «present»."""
    app = make_app(modifiers_laptop)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_journal(pilot, MATH_5)
        assert app.screen.grid.modifiers
        await pilot.press("f3", "enter", "4", "+", "enter", "3", "-", "enter", "-")
        await pilot.pause()
        assert "после отметки" in message(app)
        await pilot.press("+")
        await pilot.pause()
        (lesson,) = app.screen.grid.columns
        assert column_texts(app, lesson.lesson_id)[:3] == ["4+", "3−", ""]
        assert app.screen.table.get_row("s-1")[2] == "4+"
    state = modifiers_laptop.book.state(MATH_5)
    assert [(m.value, m.modifier) for m in state.marks(lesson.lesson_id, "s-1")] == [(4, "+")]
    assert [(m.value, m.modifier) for m in state.marks(lesson.lesson_id, "s-2")] == [(3, "-")]
    assert state.attendance(lesson.lesson_id, "s-3") == AttendanceCode.PRESENT
    # the CLI's «4+» is the same entry: same value, modifier, kind of work and weight
    cli = modifiers_laptop.book.give_mark(
        MATH_5, lesson.lesson_id, "s-4", 4, modifier="+", reason=""
    )
    typed = state.marks(lesson.lesson_id, "s-1")[0]
    assert (cli.value, cli.modifier, cli.work_kind, cli.weight) == (
        typed.value,
        typed.modifier,
        typed.work_kind,
        typed.weight,
    )


async def test_minus_after_a_digit_is_refused_where_the_school_did_not_allow_it(
    kinds_laptop, make_app
):
    app = make_app(kinds_laptop)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_journal(pilot, MATH_5)
        await pilot.press("f3", "enter", "4", "-")
        await pilot.pause()
        assert "не разрешила" in message(app) and "004 §1.5" in message(app)
        (lesson,) = app.screen.grid.columns
        assert column_texts(app, lesson.lesson_id)[0] == "4"


async def test_pasted_4_plus_is_one_mark_with_its_modifier(modifiers_laptop, make_app):
    app = make_app(modifiers_laptop)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_journal(pilot, MATH_5)
        await pilot.press("f3", "enter")
        await pilot.pause()
        app.screen.post_message(events.Paste("4+\n5\n3−"))
        await pilot.pause()
        (lesson,) = app.screen.grid.columns
        assert column_texts(app, lesson.lesson_id)[:3] == ["4+", "5", "3−"]
    state = modifiers_laptop.book.state(MATH_5)
    assert len(state.cells[("mark", lesson.lesson_id, "s-1", "0")].history) == 1


async def test_o_in_the_quarter_column_asks_for_the_document_and_dates(kinds_laptop, make_app):
    """004 §1.4: «осв.» with its document and the days it covers, typed in the grid as the
    CLI's `period-mark --value осв. --document … --from … --to …`; marks on those days are
    then refused, other pupils' are not."""
    app = make_app(kinds_laptop)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_journal(pilot, MATH_5)
        await pilot.press("f3", "enter")
        await pilot.pause()
        app.screen.table.move_cursor(row=0, column=column(app, PERIOD))
        await pilot.press("о")
        await pilot.pause()
        assert isinstance(app.screen, ExemptionForm)
        await pilot.press("enter")  # no document: refused, the form stays
        await pilot.pause()
        assert "документ" in str(app.screen.query_one(".form-error", Static).render())
        app.screen.query_one("#document", Input).value = "Справка ВК № 12"
        app.screen.query_one("#ends", Input).value = "20.10.2026"
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, GridScreen)
        assert app.screen.grid.period_cells["s-1"].mark_text == "осв."
        (lesson,) = app.screen.grid.columns
        app.screen.table.move_cursor(row=0, column=column(app, lesson.lesson_id))
        await pilot.press("5")
        await pilot.pause()
        assert "освобождён" in message(app)
    exempt = kinds_laptop.book.state(MATH_5).period_mark(f"{YEAR}-q1", "s-1")
    assert (exempt.special, exempt.document) == (MarkSpecial.EXEMPT, "Справка ВК № 12")
    assert (exempt.exempt_from, exempt.exempt_to) == (D(2026, 9, 1), D(2026, 10, 20))


@pytest.fixture
def modifiers_app(modifiers_laptop, make_app):
    return make_app(modifiers_laptop, day=LESSON_DAY)


async def _modifiers_typed(pilot) -> None:
    await open_journal(pilot, MATH_5)
    await pilot.press("f3", "enter", "4", "+", "enter", "3", "-")
    await pilot.pause()


def test_snapshot_marks_with_plus_and_minus(snap_compare, modifiers_app):
    assert snap_compare(modifiers_app, terminal_size=(80, 24), run_before=_modifiers_typed)


async def test_f4_form_takes_4_plus_and_refuses_what_the_scale_does_not(modifiers_laptop, make_app):
    """The form for several marks in a cell reads «5 4+» like the CLI; «зач» on a
    five-point journal is the scale rule's refusal, with its clause (001 §3.4)."""
    app = make_app(modifiers_laptop)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_journal(pilot, MATH_5)
        await pilot.press("f3", "enter", "f4")
        await pilot.pause()
        assert isinstance(app.screen, MarksForm)
        await pilot.press(*"5 4+", "enter")
        await pilot.pause()
        (lesson,) = app.screen.grid.columns
        assert column_texts(app, lesson.lesson_id)[0] == "5/4+"
        await pilot.press("f4")
        await pilot.pause()
        assert app.screen.query_one("#values", Input).value == "5 4+"
        app.screen.query_one("#values", Input).value = "зач"
        await pilot.press("enter")
        await pilot.pause()
        assert "зачётных предметах" in message(app)
        assert column_texts(app, lesson.lesson_id)[0] == "5/4+"
    marks = modifiers_laptop.book.state(MATH_5).marks(lesson.lesson_id, "s-1")
    assert [(m.value, m.modifier) for m in marks] == [(5, ""), (4, "+")]
