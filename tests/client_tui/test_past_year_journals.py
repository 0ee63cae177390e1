"""After the next school year opens, the laptop keeps last year's journals, listed and readable
but read-only (issue 15): the teacher can still look up what was entered, and nothing typed
there is taken."""

from __future__ import annotations

import datetime as dt

import pytest
from litestar.testing import TestClient

from client_tui.services.grid import build_month_grid
from client_tui.services.session import Session
from scripts.school_lists import school_lists
from server.app import create_app
from server.auth.service import create_account
from server.lists.next_year import open_next_year
from server.storage.db import connect
from shared.model import Role, journal_id
from shared.rules import RuleViolation
from tests.server.lists_kit import deputy, school_from_lists

URL = "http://school.local"
PASSWORD = "пароль-учителя"
OLD = journal_id("sch-2026-2027", "sch-2026-2027-2a", "matematika")
NEW = journal_id("sch-2027-2028", "sch-2027-2028-3a", "matematika")
DAY = dt.date(2026, 10, 5)


def test_last_year_s_journals_stay_on_the_laptop_read_only(tmp_path):
    config = school_from_lists(tmp_path, school_lists(60))
    conn = connect(config.database)
    teacher = conn.execute(
        "SELECT teacher_id FROM teaching WHERE class_id = 'sch-2026-2027-2a' "
        "AND subject_id = 'matematika'"
    ).fetchone()[0]
    create_account(conn, login="math", password=PASSWORD, role=Role.TEACHER, person_id=teacher)
    with TestClient(create_app(config), base_url=URL) as client:
        laptop = Session(tmp_path / "laptop", http=client)
        laptop.login(URL, "math", PASSWORD, device_name="ноутбук")
        lesson = laptop.book.record_lesson(OLD, date=DAY, topic="Сложение")
        pupil = laptop.directory.class_roster("sch-2026-2027-2a", DAY)[0]
        laptop.book.give_mark(OLD, lesson.lesson_id, pupil.id, 5)
        assert laptop.sync().complete

        open_next_year(conn, deputy(conn), today=dt.date(2027, 6, 1))
        laptop.refresh_directory()
        book = laptop.book
        assert book.info(NEW).writable
        old = book.info(OLD)
        assert not old.writable
        listed = {s.info.id: s for s in book.summaries()}
        assert listed[OLD].class_name == "2А (2026/2027)"
        assert not listed[OLD].info.writable
        # readable as it was: the grid of that month, with last year's class list
        grid = build_month_grid(book.state(OLD), book.directory_of(OLD), old, DAY)
        assert [c.lesson_id for c in grid.columns] == [lesson.lesson_id]
        assert pupil.id in {r.student_id for r in grid.rows}
        # and nothing typed there is taken
        with pytest.raises(RuleViolation) as refused:
            book.give_mark(OLD, lesson.lesson_id, pupil.id, 4, reason="исправление")
        assert "2026/2027 учебного года" in refused.value.message_ru
        assert book.state(OLD).marks(lesson.lesson_id, pupil.id)[0].value == 5
        assert laptop.sync().complete
        laptop.close()
        # a restarted app lists them too
        again = Session(tmp_path / "laptop", password=PASSWORD, http=client)
        assert OLD in {s.info.id for s in again.book.summaries()}
        again.close()
    conn.close()
