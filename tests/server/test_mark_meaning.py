"""The consolidated marks keep what a mark means (issue 16): «4+» keeps its «+» and зач/незач
are not the number 0, in every report, the diary and the transfer extract, and a database
made before the rows kept them gains them from the journal's entries when it is upgraded.

On top of the fixture school (tests/reports_school.py), counted by hand:
  class 5, Математика, L5 12.10 «Уравнения»: s-1 «4+», s-3 «2−» (modifiers allowed, 004 §1.5)
  class 6, Математика learned pass/fail from October (001 §3.4), M2 12.10 «Проценты»:
    s-5 «зач», s-6 «незач»; before it the fixture's M1: s-5 5, s-6 4
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from server.config import ServerConfig
from server.reports.catalog import build
from server.reports.dataset import Filters
from server.reports.district import school_figures
from server.seeding import load_journals
from server.storage import consolidated
from server.storage import directory as directory_storage
from server.storage.db import MARK_MEANING_KEY, connect, create_schema, transaction
from server.web.diary import build_diary
from shared.model import MarkSpecial, Scale, ScaleSetting
from tests.factories import CLASS_5, CLASS_6, MATH_5, MATH_6, YEAR
from tests.reports_school import _Author, database_copy

D = dt.date


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mark-meaning-template")


@pytest.fixture
def school(template: Path, tmp_path: Path) -> Iterator[tuple[sqlite3.Connection, ServerConfig]]:
    config = database_copy(template, tmp_path / "school.sqlite")
    conn = connect(config.database)
    with transaction(conn):
        directory_storage.set_scale(
            conn, "sch", ScaleSetting(scale=Scale.FIVE_POINT, modifiers=True)
        )
        directory_storage.set_scale(
            conn, "sch", ScaleSetting(scale=Scale.PASS_FAIL, grade=6, subject_id="math")
        )
    directory = directory_storage.load_full(conn)
    math = _Author("t-math", "d-meaning").at(D(2026, 10, 12))
    m5 = [
        math.lesson("L5", D(2026, 10, 12), "Уравнения"),
        math.mark("L5", "s-1", 4, modifier="+"),
        math.mark("L5", "s-3", 2, modifier="-"),
    ]
    m6 = [
        math.lesson("M2", D(2026, 10, 12), "Проценты"),
        math.mark("M2", "s-5", 0, special=MarkSpecial.PASS),
        math.mark("M2", "s-6", 0, special=MarkSpecial.FAIL),
    ]
    assert load_journals(conn, config, directory, {MATH_5: m5, MATH_6: m6}) == 0
    yield conn, config
    conn.close()


def _report(conn, name: str, **filters):
    return build(conn, directory_storage.load_full(conn), name, Filters(**filters))


def test_a_pass_fail_mark_counts_in_no_average_and_no_share(school):
    conn, _ = school
    rows = _report(conn, "results", class_id=CLASS_6).rows
    # only the numbers of M1 count: s-5 one «5», s-6 one «4»; M2's зач/незач are not marks 0
    assert rows == (
        ("6", "Дмитриев Егор", 1, 1, 0, 0, 0, 5.0, 100.0, 100.0),
        ("6", "Ершова Жанна", 1, 0, 1, 0, 0, 4.0, 100.0, 100.0),
        ("6", "Итого по классу", 2, 1, 1, 0, 0, 4.5, 100.0, 100.0),
    )
    forecast = _report(conn, "forecast", class_id=CLASS_6).rows
    assert [r[3:] for r in forecast[:2]] == [(5.0, 5), (4.0, 4)]


def test_unsatisfactory_marks_list_a_fail_and_a_two_minus_in_words(school):
    conn, _ = school
    rows = _report(conn, "unsatisfactory", date_from=D(2026, 10, 12)).rows
    assert [(r[1], r[5]) for r in rows] == [("Васильев Глеб", "2−"), ("Ершова Жанна", "незач")]
    # a plain «2» stays a number: spreadsheets sum it
    before = _report(conn, "unsatisfactory", date_to=D(2026, 9, 30)).rows
    assert {r[5] for r in before} == {2}


def test_the_diary_and_the_class_view_show_the_mark_as_typed(school):
    conn, _ = school
    directory = directory_storage.load_full(conn)
    pupil = next(s for s in directory.students if s.id == "s-1")
    diary = build_diary(conn, directory, pupil, D(2026, 10, 12))
    marks = [m for day in diary.days for lesson in day.lessons for m in lesson.marks]
    assert marks == ["4+"]
    rows = consolidated.marks(conn, year_id=YEAR, class_ids=[CLASS_6], date_from="2026-10-12")
    assert [(r.student_id, r.text) for r in rows] == [("s-5", "зач"), ("s-6", "незач")]


def test_district_figures_count_numbers_only(school):
    conn, _ = school
    figures = school_figures(conn, "sch", D(2026, 10, 1), D(2026, 10, 31))
    assert dict(figures[5].marks) == {4: 1, 2: 1}
    assert not figures.get(6) or not sum(figures[6].marks.values())


def test_an_older_database_gains_the_columns_filled_from_the_entries(school):
    conn, _ = school
    kept = consolidated.marks(conn, year_id=YEAR)
    with transaction(conn):  # as a database made before issue 16's columns
        conn.execute("ALTER TABLE marks DROP COLUMN modifier")
        conn.execute("ALTER TABLE marks DROP COLUMN special")
        conn.execute("DELETE FROM meta WHERE key = ?", (MARK_MEANING_KEY,))
        conn.execute("DELETE FROM schema_migrations WHERE version >= 2")  # before issue 16
    create_schema(conn)
    assert consolidated.marks(conn, year_id=YEAR) == kept
    assert {(m.student_id, m.modifier, m.special) for m in kept if m.modifier or m.special} == {
        ("s-1", "+", ""),
        ("s-3", "-", ""),
        ("s-5", "", "pass"),
        ("s-6", "", "fail"),
    }
    assert CLASS_5 in {m.class_id for m in kept}
