"""A pupil moves to another school of the same server (issue 15): their place in the old school
ends the day before the order's date and one in the new school's class starts on it, with a
line in each school's book; the pupil keeps their id, so their parents and history follow; the
old school keeps its journals and shows the pupil there for the days they belonged."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from scripts.school_lists import csv_bytes, school_lists
from server import lists
from server.errors import BadRequest
from server.importer import add_school
from server.lists import ListKind
from server.lists.movement import Movement, MovementOrder, book, record
from server.storage import directory as directory_storage
from server.storage.db import connect
from shared.model import Role
from tests.server.lists_kit import deputy, school_from_lists

DAY = dt.date(2026, 11, 16)
OLD_2A = "sch-2026-2027-2a"
NEW_3A = "les-2026-2027-3a"


@pytest.fixture
def conn(tmp_path: Path):
    rows = school_lists(60)
    config = school_from_lists(tmp_path, rows)
    connection = connect(config.database)
    add_school(connection, school_id="les", name="МБОУ «Лесная СОШ»", district="Р", first_year=2026)
    other = school_lists(50, seed=99)  # 1А, 2А; its own people
    other_pupils = [(*r[:3], "3А", *r[4:]) for r in other[ListKind.PUPILS][:10]]
    lists.apply(
        connection,
        ListKind.PUPILS,
        csv_bytes(ListKind.PUPILS, other_pupils),
        school_id="les",
        today=dt.date(2026, 9, 1),
    )
    yield connection
    connection.close()


def _order(student_id: str, **fields) -> MovementOrder:
    given = {"day": DAY, "school_id": "les", "class_id": NEW_3A} | fields
    return MovementOrder(
        kind=Movement.TO_SCHOOL, student_id=student_id, order_no="№ 51-у от 13.11.2026", **given
    )


def test_a_pupil_moves_to_another_school_of_the_server_with_their_record(conn):
    old = directory_storage.load_full(conn, school_id="sch")
    pupil = old.class_roster(OLD_2A, DAY)[0]
    parents = [
        r[0]
        for r in conn.execute(
            "SELECT parent_id FROM parent_links WHERE student_id = ?", (pupil.id,)
        )
    ]
    assert parents
    done = record(conn, deputy(conn), _order(pupil.id))
    assert (done.class_from, done.class_to) == (OLD_2A, NEW_3A)

    # the old school keeps the pupil in its journals for the days they belonged
    old = directory_storage.load_full(conn, school_id="sch")
    assert pupil.id in {s.id for s in old.class_roster(OLD_2A, DAY - dt.timedelta(days=1))}
    assert pupil.id not in {s.id for s in old.class_roster(OLD_2A, DAY)}
    assert any(j.class_id == OLD_2A for j in old.journals)
    # the new school has them from the order's date, under the same id
    new = directory_storage.load_full(conn, school_id="les")
    assert pupil.id in {s.id for s in new.class_roster(NEW_3A, DAY)}
    assert pupil.id not in {s.id for s in new.class_roster(NEW_3A, DAY - dt.timedelta(days=1))}
    # the pupil and their parents now belong to the new school
    assert directory_storage.school_of(conn, Role.STUDENT, pupil.id) == "les"
    assert {directory_storage.school_of(conn, Role.PARENT, p) for p in parents} == {"les"}
    # a line in each school's book
    lines = conn.execute(
        "SELECT school_id, kind, place, class_from, class_to FROM pupil_movements "
        "WHERE student_id = ? ORDER BY school_id",
        (pupil.id,),
    ).fetchall()
    assert [tuple(r) for r in lines] == [
        ("les", "arrived", "МБОУ «Тестовая СОШ»", None, NEW_3A),
        ("sch", "to_school", "МБОУ «Лесная СОШ»", OLD_2A, None),
    ]
    _, shown, places = book(conn, deputy(conn))
    assert [r["title"] for r in shown] == ["выбыл в другую школу"]
    assert ("les", NEW_3A, "МБОУ «Лесная СОШ» — 3А") in places


def test_the_new_school_s_own_list_may_then_name_the_pupil(conn):
    old = directory_storage.load_full(conn, school_id="sch")
    pupil = old.class_roster(OLD_2A, DAY)[0]
    record(conn, deputy(conn), _order(pupil.id, day=dt.date(2026, 11, 2)))
    line = (
        pupil.last_name,
        pupil.first_name,
        pupil.birth_date.strftime("%d.%m.%Y"),
        "4А",
        pupil.patronymic,
        "",
    )
    shown = lists.preview(
        conn, ListKind.PUPILS, csv_bytes(ListKind.PUPILS, [line]), school_id="les",
        on=dt.date(2026, 12, 1), today=dt.date(2026, 12, 1),
    )  # fmt: skip
    assert shown.ok, shown.errors
    assert any("4А" in c for c in shown.changes)  # moved within the new school, not a new pupil


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"school_id": "nowhere"}, "выберите школу этого сервера"),
        ({"class_id": "les-2026-2027-9z"}, "выберите класс школы «МБОУ «Лесная СОШ»»"),
        ({"school_id": "sch", "class_id": OLD_2A}, "это та же школа"),
    ],
)
def test_a_transfer_to_a_wrong_school_or_class_is_refused_and_changes_nothing(conn, fields, reason):
    pupil = directory_storage.load_full(conn, school_id="sch").class_roster(OLD_2A, DAY)[0]
    before = conn.execute("SELECT * FROM memberships ORDER BY 1, 2, 3").fetchall()
    with pytest.raises(BadRequest) as refused:
        record(conn, deputy(conn), _order(pupil.id, **fields))
    assert reason in str(refused.value)
    assert conn.execute("SELECT * FROM memberships ORDER BY 1, 2, 3").fetchall() == before
