"""Класс-комплект (issue 15): in a small school one teacher teaches 2А and 4А mathematics in one
lesson. The load file names it once («2А+4А»); each class keeps its own journal; the teacher
enters the lesson once, offline, and it is written into both journals under one lesson id;
each pupil's marks go to their own class's journal; a correction reaches both."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.testing import TestClient

from client_tui.services.editor import JournalEditor
from client_tui.services.session import Session
from scripts.school_lists import csv_bytes, school_lists
from server import lists
from server.app import create_app
from server.auth.service import create_account
from server.config import ServerConfig
from server.lists import ListKind, ListRefused
from server.lists.next_year import open_next_year
from server.lists.specs import LOAD_ORDER
from server.storage.db import connect
from server.storage.directory import load_full
from shared import combined
from shared.model import CombinedClasses, Role, journal_id
from shared.rules import RuleViolation
from tests.server.lists_kit import deputy, school_from_lists

URL = "http://school.local"
PASSWORD = "пароль-учителя"
YEAR = "sch-2026-2027"
CLASS_2A, CLASS_4A = f"{YEAR}-2a", f"{YEAR}-4a"
MATH_2A = journal_id(YEAR, CLASS_2A, "matematika")
MATH_4A = journal_id(YEAR, CLASS_4A, "matematika")
DAY = dt.date(2026, 10, 7)


def _load_rows(rows) -> list[tuple[str, ...]]:
    """The load with 2А and 4А mathematics as one combined line, taught by 2А's teacher."""
    load = rows[ListKind.LOAD]
    teacher = next(r[0] for r in load if r[1] == "2А" and r[2] == "Математика")
    kept = [r for r in load if not (r[1] in ("2А", "4А") and r[2] == "Математика")]
    return [*kept, (teacher, "2А+4А", "Математика", "", "5")]


@pytest.fixture(scope="module")
def rows():
    return school_lists(100)  # 1А, 2А, 3А, 4А


@pytest.fixture
def config(tmp_path: Path, rows) -> ServerConfig:
    return school_from_lists(tmp_path, rows, kinds=LOAD_ORDER[:-1], name="МБОУ «Лесная ООШ»")


@pytest.fixture
def conn(config: ServerConfig) -> Iterator[sqlite3.Connection]:
    connection = connect(config.database)
    yield connection
    connection.close()


def _apply_load(conn, rows) -> None:
    data = csv_bytes(ListKind.LOAD, _load_rows(rows))
    lists.apply(conn, ListKind.LOAD, data, today=dt.date(2026, 9, 1))


def _teacher(conn) -> str:
    return conn.execute(
        "SELECT teacher_id FROM teaching WHERE class_id = ? AND subject_id = 'matematika'",
        (CLASS_4A,),
    ).fetchone()[0]


def test_the_load_names_a_combined_class_once_and_each_class_keeps_its_journal(conn, rows):
    data = csv_bytes(ListKind.LOAD, _load_rows(rows))
    shown = lists.preview(conn, ListKind.LOAD, data, today=dt.date(2026, 9, 1))
    assert shown.ok
    combined_lines = [a for a in shown.additions if "класс-комплект" in a]
    assert len(combined_lines) == 1
    assert combined_lines[0].endswith(
        ": 2А+4А, Математика — класс-комплект (урок записывается один раз в журнал каждого класса)"
    )
    lists.apply(conn, ListKind.LOAD, data, today=dt.date(2026, 9, 1))
    directory = load_full(conn, school_id="sch")
    assert directory.combined == (
        CombinedClasses(subject_id="matematika", class_ids=(CLASS_2A, CLASS_4A)),
    )
    ids = {j.id for j in directory.journals}
    assert {MATH_2A, MATH_4A} <= ids  # one journal per class, as on paper
    math_4a = next(j for j in directory.journals if j.id == MATH_4A)
    assert [j.id for j in combined.partners(directory, math_4a)] == [MATH_4A, MATH_2A]
    # the same file again changes nothing
    again = lists.preview(conn, ListKind.LOAD, data, today=dt.date(2026, 9, 2))
    assert again.ok and again.unchanged, (again.additions, again.changes, again.leavers)


@pytest.mark.parametrize(
    ("classes", "reason"),
    [
        ("2А+9Б", "нагрузка: класса «9Б» нет в этом учебном году"),
        ("2А+2А", "класс-комплект «2А+2А»: класс назван дважды."),
    ],
)
def test_a_wrong_combined_class_is_refused_with_its_line(conn, rows, classes, reason):
    load = _load_rows(rows)
    load[-1] = (load[-1][0], classes, *load[-1][2:])
    before = conn.execute("SELECT * FROM combined_classes").fetchall()
    with pytest.raises(ListRefused) as refused:
        lists.apply(conn, ListKind.LOAD, csv_bytes(ListKind.LOAD, load), today=dt.date(2026, 9, 1))
    errors = refused.value.preview.errors
    assert [e.line for e in errors] == [len(load) + 1]
    assert reason in errors[0].reason
    assert conn.execute("SELECT * FROM combined_classes").fetchall() == before


def test_a_combined_lesson_entered_once_offline_reaches_both_journals(tmp_path, config, conn, rows):
    _apply_load(conn, rows)
    teacher = _teacher(conn)
    create_account(conn, login="rural", password=PASSWORD, role=Role.TEACHER, person_id=teacher)
    with TestClient(create_app(config), base_url=URL) as client:
        laptop = Session(tmp_path / "laptop", http=client)
        laptop.login(URL, "rural", PASSWORD, device_name="ноутбук")
        book, directory = laptop.book, laptop.directory
        # offline: one lesson typed in 2А's journal, then each pupil in their own class
        lesson = book.record_lesson(MATH_2A, date=DAY, topic="Задачи на движение")
        in_4a = book.state(MATH_4A).lesson(lesson.lesson_id)
        assert in_4a is not None and (in_4a.date, in_4a.topic) == (DAY, "Задачи на движение")
        pupil_2a = directory.class_roster(CLASS_2A, DAY)[0]
        pupil_4a = directory.class_roster(CLASS_4A, DAY)[0]
        book.give_mark(MATH_2A, lesson.lesson_id, pupil_2a.id, 5)
        book.give_mark(MATH_4A, lesson.lesson_id, pupil_4a.id, 4)
        with pytest.raises(RuleViolation):  # a 4А pupil is not in 2А's journal
            book.give_mark(MATH_2A, lesson.lesson_id, pupil_4a.id, 3)
        # the grid's lesson dialog corrects the topic once, for both classes
        JournalEditor(book).save_lesson(
            MATH_4A, date=DAY, topic="Задачи на движение навстречу", lesson_id=lesson.lesson_id
        )
        assert book.state(MATH_2A).lesson(lesson.lesson_id).topic == "Задачи на движение навстречу"
        assert laptop.sync().complete
        laptop.close()
    topics = conn.execute(
        "SELECT journal_id, topic FROM lessons WHERE lesson_id = ? ORDER BY journal_id",
        (lesson.lesson_id,),
    ).fetchall()
    assert [tuple(t) for t in topics] == [
        (MATH_2A, "Задачи на движение навстречу"),
        (MATH_4A, "Задачи на движение навстречу"),
    ]
    marks = conn.execute(
        "SELECT journal_id, student_id, value FROM marks WHERE lesson_id = ? ORDER BY value",
        (lesson.lesson_id,),
    ).fetchall()
    assert [tuple(m) for m in marks] == [(MATH_4A, pupil_4a.id, 4), (MATH_2A, pupil_2a.id, 5)]


def test_a_lesson_refused_in_one_class_is_written_in_neither(tmp_path, config, conn, rows):
    _apply_load(conn, rows)
    create_account(
        conn, login="rural", password=PASSWORD, role=Role.TEACHER, person_id=_teacher(conn)
    )
    with TestClient(create_app(config), base_url=URL) as client:
        laptop = Session(tmp_path / "laptop", http=client)
        laptop.login(URL, "rural", PASSWORD, device_name="ноутбук")
        with pytest.raises(RuleViolation):
            laptop.book.record_lesson(MATH_2A, date=dt.date(2030, 1, 10), topic="Будущее")
        assert laptop.book.state(MATH_2A).lessons() == []
        assert laptop.book.state(MATH_4A).lessons() == []
        laptop.close()


def test_the_combined_classes_stay_combined_one_grade_up_next_year(conn, rows):
    _apply_load(conn, rows)
    opened = open_next_year(conn, deputy(conn), today=dt.date(2027, 6, 1))
    after = load_full(conn, school_id="sch")
    new = opened.year.id
    assert after.combined == (
        CombinedClasses(subject_id="matematika", class_ids=(f"{new}-3a", f"{new}-5a")),
    )
