"""Two years of one school, from its files (2024/25 and 2025/26: both in the past, since the
rules refuse lessons after the entry's own clock) — issue 15's goal (groups and combined classes:
test_groups_and_combined_two_years.py): CSV and XLSX lists in → a teacher works offline and syncs →
a pupil leaves and another arrives in November → the year is closed → the next year is opened
with promotions → its journals reach the laptop → the second year's marks are synced and closed
→ the personal file shows both years, and the leaver's journal rows stop on the day they left.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from litestar.testing import TestClient

from client_tui.services.grid import roster_for_month
from client_tui.services.session import Session
from scripts.school_lists import csv_bytes, school_lists, xlsx_bytes
from server import lists
from server.app import create_app
from server.archive import personal_file
from server.archive.closing import close_year
from server.auth.principal import Principal
from server.auth.service import create_account
from server.config import ServerConfig
from server.importer import add_school
from server.lists import ListKind
from server.lists.movement import Movement, MovementOrder, record
from server.lists.next_year import open_next_year
from server.lists.specs import LOAD_ORDER
from server.storage.db import connect, create_schema
from shared.model import MarkKind, Role

pytestmark = pytest.mark.slow
URL = "http://school.local"
PASSWORD = "пароль-учителя"
XLSX = {ListKind.PARENTS, ListKind.LOAD}


def _person(conn, table: str, last: str, first: str) -> str:
    return conn.execute(
        f"SELECT id FROM {table} WHERE last_name = ? AND first_name = ?", (last, first)
    ).fetchone()[0]


def _admin(conn, login: str, person_id: str, role: Role) -> Principal:
    create_account(conn, login=login, password=PASSWORD, role=role, person_id=person_id)
    return Principal(
        login=login, role=role, roles=(role,), person_id=person_id, device_id="",
        school_id="sch",
    )  # fmt: skip


def _year_marks(laptop: Session, journal_id: str, period_id: str, day: dt.date) -> set[str]:
    """A lesson on `day` with a mark for each pupil present, then everyone's year mark."""
    book = laptop.book
    info = book.info(journal_id)
    lesson = book.record_lesson(journal_id, date=day, topic="Итоговое повторение")
    pupils = [s.id for s in laptop.directory.class_roster(info.class_id, day)]
    for pupil in pupils:
        book.give_mark(journal_id, lesson.lesson_id, pupil, 4)
        book.give_period_mark(journal_id, period_id, pupil, 4, mark_kind=MarkKind.YEAR)
    return set(pupils)


def test_two_years_of_one_school_from_its_files(tmp_path: Path):
    rows = school_lists(60, year=2024)  # classes 1А, 2А, 3А; English in two groups from grade 2
    config = ServerConfig(database=tmp_path / "server.sqlite")
    conn = connect(config.database)
    create_schema(conn)
    add_school(conn, school_id="sch", name="МБОУ «Тестовая СОШ»", district="Р", first_year=2024)
    for kind in LOAD_ORDER:
        data = xlsx_bytes(kind, rows[kind]) if kind in XLSX else csv_bytes(kind, rows[kind])
        lists.apply(conn, kind, data, today=dt.date(2024, 9, 1))
    year1 = "sch-2024-2025"
    class_2a = f"{year1}-2a"
    deputy = _admin(conn, "deputy", _person(conn, "staff", "Орлова", "Вера"), Role.DEPUTY)
    # the teacher of mathematics in 2А
    teacher_id = conn.execute(
        "SELECT teacher_id FROM teaching WHERE class_id = ? AND subject_id = 'matematika'",
        (class_2a,),
    ).fetchone()[0]
    create_account(
        conn, login="teacher", password=PASSWORD, role=Role.TEACHER, person_id=teacher_id
    )
    math1 = f"{year1}~{class_2a}~matematika"

    with TestClient(create_app(config), base_url=URL) as client:
        laptop = Session(tmp_path / "laptop", http=client)
        laptop.login(URL, "teacher", PASSWORD, device_name="ноутбук")
        assert laptop.book.info(math1).writable

        # offline: lessons and marks go to the local store first, then one sync
        pupils = [s.id for s in laptop.directory.class_roster(class_2a, dt.date(2024, 11, 2))]
        leaver, stayer = pupils[0], pupils[1]
        lesson = laptop.book.record_lesson(math1, date=dt.date(2024, 11, 2), topic="Сложение")
        laptop.book.give_mark(math1, lesson.lesson_id, leaver, 5)
        report = laptop.sync()
        assert report.complete and report.accepted >= 2

        # November: the leaver goes, a newcomer arrives (listed first, then by order)
        record(conn, deputy, MovementOrder(
            kind=Movement.LEFT, student_id=leaver, day=dt.date(2024, 11, 16),
            order_no="№ 45-у от 13.11.2024", place="МБОУ «Лесная СОШ»",
        ))  # fmt: skip
        newcomer_row = ("Новиков", "Егор", "03.03.2016", "2А", "Ильич", "")
        gone = conn.execute(
            "SELECT last_name, first_name, birth_date FROM students WHERE id = ?", (leaver,)
        ).fetchone()
        remaining = [  # the secretary's list no longer has the leaver
            r for r in rows[ListKind.PUPILS]
            if (r[0], r[1], dt.datetime.strptime(r[2], "%d.%m.%Y").date().isoformat())
            != tuple(gone)
        ]  # fmt: skip
        assert len(remaining) == len(rows[ListKind.PUPILS]) - 1
        pupils_file = csv_bytes(ListKind.PUPILS, [*remaining, newcomer_row])
        shown = lists.preview(conn, ListKind.PUPILS, pupils_file, today=dt.date(2024, 11, 20))
        assert shown.additions == ("Новиков Егор Ильич, 03.03.2016 — 2А",)
        lists.apply(conn, ListKind.PUPILS, pupils_file, today=dt.date(2024, 11, 20))
        newcomer = _person(conn, "students", "Новиков", "Егор")
        record(conn, deputy, MovementOrder(
            kind=Movement.ARRIVED, student_id=newcomer, day=dt.date(2024, 11, 20),
            order_no="№ 47-у от 19.11.2024", place="МБОУ «Речная СОШ»", class_id=class_2a,
        ))  # fmt: skip

        laptop.refresh_directory()
        november = {
            r.student_id for r in roster_for_month(laptop.directory, class_2a, dt.date(2024, 11, 1))
        }
        december = {
            r.student_id for r in roster_for_month(laptop.directory, class_2a, dt.date(2024, 12, 1))
        }
        assert {leaver, newcomer} <= november  # both belonged to 2А for part of November
        assert leaver not in december and newcomer in december
        on = laptop.directory.class_roster
        assert leaver in {s.id for s in on(class_2a, dt.date(2024, 11, 15))}
        assert leaver not in {s.id for s in on(class_2a, dt.date(2024, 11, 16))}
        assert newcomer not in {s.id for s in on(class_2a, dt.date(2024, 11, 19))}
        # the leaver's mark stays where it was given
        assert (
            conn.execute(
                "SELECT value FROM marks WHERE journal_id = ? AND student_id = ?", (math1, leaver)
            ).fetchone()[0]
            == 5
        )

        # May: year marks, sync, close the year, open the next one with promotions
        marked = _year_marks(laptop, math1, f"{year1}-y", dt.date(2025, 5, 20))
        assert leaver not in marked and {stayer, newcomer} <= marked
        assert laptop.sync().complete
        close_year(conn, login="deputy", year_id=year1, on=dt.date(2025, 6, 1))
        opened = open_next_year(conn, deputy, today=dt.date(2025, 6, 1))
        year2 = opened.year.id
        assert year2 == "sch-2025-2026"

        # the laptop gets the next year's journals: the class it taught, one grade up
        laptop.refresh_directory()
        math2 = f"{year2}~{year2}-3a~matematika"
        assert laptop.directory.year.id == year2
        assert laptop.book.info(math2).writable
        assert laptop.sync().complete
        assert stayer in {s.id for s in laptop.directory.class_roster(f"{year2}-3a")}

        # the second year: marks, sync, close; the personal file has both years
        _year_marks(laptop, math2, f"{year2}-y", dt.date(2026, 5, 20))
        assert laptop.sync().complete
        laptop.close()
    close_year(conn, login="deputy", year_id=year2, on=dt.date(2026, 6, 1))
    file = personal_file.pages(conn, stayer)
    assert [(p.year_name, p.class_names, dict(p.marks).get("Математика")) for p in file] == [
        ("2024/2025", ("2А",), 4),
        ("2025/2026", ("3А",), 4),
    ]
    assert [p.year_name for p in personal_file.pages(conn, newcomer)] == ["2024/2025", "2025/2026"]
    assert personal_file.pages(conn, leaver) == []  # left before the year marks
    conn.close()
