"""A second school goes into the same database beside the first and leaves it as it was; an
import whose ids belong to another school is refused whole, in Russian."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from server.cli import main
from server.storage import directory as directory_storage
from server.storage.db import connect

TABLES = ("schools", "years", "periods", "classes", "students", "memberships", "staff", "teaching")
STAFF = "Фамилия;Имя;Отчество;Должность;Предметы и классы\r\n"
STUDENTS = "Фамилия;Имя;Отчество;Дата рождения;Класс\r\n"


@pytest.fixture
def conn(db: Path) -> Iterator[sqlite3.Connection]:
    connection = connect(db)
    yield connection
    connection.close()


def run(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def csv_file(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8-sig")
    return path


def snapshot(conn: sqlite3.Connection) -> dict[str, list[tuple]]:
    return {t: sorted(tuple(r) for r in conn.execute(f"SELECT * FROM {t}")) for t in TABLES}


def rows_of_school(conn: sqlite3.Connection, school_id: str) -> dict[str, set]:
    directory = directory_storage.load_full(conn, school_id=school_id)
    return {
        "students": {s.id for s in directory.students},
        "staff": {s.id for s in directory.staff},
        "classes": {c.id for c in directory.classes},
        "teaching": set(directory.teaching),
        "memberships": set(directory.memberships),
    }


def add_ozernoe(db: Path, capsys) -> None:
    code, out, err = run(
        capsys,
        "--db",
        db,
        "add-school",
        "ozernoe",
        "--name",
        "МБОУ «Озёрная ООШ»",
        "--district",
        "Тестовый район",
        "--year",
        2026,
    )
    assert (code, err) == (0, ""), err
    assert "ozernoe-2026-2027" in out


def test_a_second_school_is_added_beside_the_first_without_touching_it(db, conn, tmp_path, capsys):
    first = rows_of_school(conn, "sch")
    first_rows = snapshot(conn)
    add_ozernoe(db, capsys)
    staff = csv_file(
        tmp_path, "staff.csv", STAFF + "Озёрова;Нина;Петровна;учитель;Математика: 5\r\n"
    )
    pupils = csv_file(tmp_path, "pupils.csv", STUDENTS + "Рыбкин;Олег;;01.02.2015;5\r\n")
    assert run(capsys, "--db", db, "import", "staff", staff, "--school", "ozernoe")[0] == 0
    assert run(capsys, "--db", db, "import", "students", pupils, "--school", "ozernoe")[0] == 0

    assert rows_of_school(conn, "sch") == first
    after = snapshot(conn)
    for table, rows in first_rows.items():
        assert set(rows) <= set(after[table]), table  # nothing of the first school changed
    second = directory_storage.load_full(conn, school_id="ozernoe")
    assert second.school.name == "МБОУ «Озёрная ООШ»" and second.school.district == "Тестовый район"
    assert [s.last_name for s in second.students] == ["Рыбкин"]
    assert [s.last_name for s in second.staff] == ["Озёрова"]
    assert [c.id for c in second.classes] == ["ozernoe-2026-2027-5"]
    assert [p.name for p in second.periods if p.kind == "quarter"] == [
        f"{n} четверть" for n in range(1, 5)
    ]
    assert [j.id for j in second.journals] == ["ozernoe-2026-2027~ozernoe-2026-2027-5~matematika"]


def test_import_must_name_the_school_when_there_are_several(db, conn, tmp_path, capsys):
    add_ozernoe(db, capsys)
    before = snapshot(conn)
    pupils = csv_file(tmp_path, "pupils.csv", STUDENTS + "Рыбкин;Олег;;01.02.2015;5\r\n")
    code, out, err = run(capsys, "--db", db, "import", "students", pupils)
    assert (code, out) == (2, "")
    assert "несколько школ" in err and "--school" in err
    assert snapshot(conn) == before


@pytest.mark.parametrize(
    ("what", "header", "line"),
    [
        ("staff", STAFF, "Иванова;Мария;Ивановна;учитель;Математика: 5\r\n"),
        ("students", STUDENTS, "Котов;Илья;;03.04.2015;5\r\n"),
    ],
)
def test_an_import_whose_ids_belong_to_another_school_is_refused(
    db, conn, tmp_path, capsys, what, header, line
):
    path = csv_file(tmp_path, f"{what}.csv", header + line)
    assert run(capsys, "--db", db, "import", what, path, "--school", "sch")[0] == 0
    add_ozernoe(db, capsys)
    before = snapshot(conn)

    code, out, err = run(capsys, "--db", db, "import", what, path, "--school", "ozernoe")

    assert (code, out) == (2, "")
    assert err.startswith("Импорт отменён, ничего не изменено:\n")
    assert "уже есть в другой школе (sch)" in err
    assert snapshot(conn) == before


def test_adding_a_school_twice_or_with_a_bad_code_is_refused(db, conn, capsys):
    add_ozernoe(db, capsys)
    before = snapshot(conn)
    code, _, err = run(
        capsys, "--db", db, "add-school", "ozernoe", "--name", "Другая", "--year", 2026
    )
    assert code == 2 and "Школа «ozernoe» уже есть в базе." in err
    code, _, err = run(capsys, "--db", db, "add-school", "Озёрная", "--name", "X", "--year", 2026)
    assert code == 2 and "Код школы" in err
    assert snapshot(conn) == before
