"""Class lists and staff from the secretary's CSV files: the demo school's own exports go in
whole; a bad line refuses the whole file, with Russian line-numbered messages, and writes
nothing."""

from __future__ import annotations

import csv
import datetime as dt
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from scripts.seed_demo import DemoSchool, build_demo_school, write_csv_exports
from server.importer import ImportFailed, import_staff, import_students
from server.storage import directory as directory_storage
from server.storage.db import connect, create_schema, transaction

TABLES = ("students", "memberships", "staff", "teaching", "classes", "subjects")
STUDENT_HEADER = ["Фамилия", "Имя", "Отчество", "Дата рождения", "Класс"]
STAFF_HEADER = ["Фамилия", "Имя", "Отчество", "Должность", "Предметы и классы"]


@pytest.fixture(scope="module")
def demo() -> DemoSchool:
    return build_demo_school()


@pytest.fixture(scope="module")
def exports(demo: DemoSchool, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_csv_exports(demo, tmp_path_factory.mktemp("exports"))


@pytest.fixture
def conn(tmp_path: Path, demo: DemoSchool) -> Iterator[sqlite3.Connection]:
    """A fresh database holding only the demo school, its year and its periods."""
    db = connect(tmp_path / "import.sqlite")
    create_schema(db)
    directory = demo.directory
    with transaction(db):
        directory_storage.upsert(db, [directory.school, directory.year, *directory.periods])
    yield db
    db.close()


def counts(conn: sqlite3.Connection) -> dict[str, int]:
    return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}


def write(path: Path, rows: list[list[str]], *, delimiter: str = ";", bom: bool = True) -> Path:
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as f:
        csv.writer(f, delimiter=delimiter).writerows(rows)
    return path


def read_rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f, delimiter=";"))


# ---------------------------------------------------------------------- the demo's exports


def test_demo_exports_land_with_memberships_and_teaching(conn, demo, exports):
    directory = demo.directory
    year = directory.year
    classes = {c.id: c for c in directory.classes}
    subject_names = {s.id: s.name for s in directory.subjects}
    staff_by_id = {s.id: s for s in directory.staff}

    students = import_students(conn, exports["students"], year.id)
    staff = import_staff(conn, exports["staff"], year.id, directory.school.id)

    current = [m for m in directory.memberships if m.ends is None]
    assert students == len(current) > 0
    assert staff == len(directory.staff) > 0
    assert counts(conn) == {
        "students": len(current),
        "memberships": len(current),
        "staff": len(directory.staff),
        "teaching": len(directory.teaching),
        "classes": len(directory.classes),
        "subjects": len({t.subject_id for t in directory.teaching}),
    }

    # every pupil who has not left is in their class from the first day of the year
    by_id = {s.id: s for s in directory.students}
    expected_pupils = {
        (
            by_id[m.student_id].last_name,
            by_id[m.student_id].first_name,
            by_id[m.student_id].patronymic,
            by_id[m.student_id].birth_date.isoformat(),
            m.class_id,
        )
        for m in current
    }
    imported_pupils = {
        (r["last_name"], r["first_name"], r["patronymic"], r["birth_date"], r["class_id"])
        for r in conn.execute(
            "SELECT s.*, m.class_id, m.starts FROM students s "
            "JOIN memberships m ON m.student_id = s.id"
        )
    }
    assert imported_pupils == expected_pupils
    assert {r[0] for r in conn.execute("SELECT DISTINCT starts FROM memberships")} == {
        year.starts.isoformat()
    }

    # staff with their positions turned into roles, and what each of them teaches where
    expected_roles = {s.last_name: sorted(r.value for r in s.roles) for s in directory.staff}
    imported_roles = {
        r["last_name"]: sorted(json.loads(r["roles"]))
        for r in conn.execute("SELECT last_name, roles, school_id FROM staff")
    }
    assert imported_roles == expected_roles
    assert {r[0] for r in conn.execute("SELECT DISTINCT school_id FROM staff")} == {
        directory.school.id
    }
    expected_teaching = {
        (staff_by_id[t.teacher_id].last_name, t.class_id, subject_names[t.subject_id])
        for t in directory.teaching
    }
    imported_teaching = {
        (r["last_name"], r["class_id"], r["name"])
        for r in conn.execute(
            "SELECT st.last_name, t.class_id, su.name FROM teaching t "
            "JOIN staff st ON st.id = t.teacher_id JOIN subjects su ON su.id = t.subject_id"
        )
    }
    assert imported_teaching == expected_teaching
    assert {r["id"]: r["grade"] for r in conn.execute("SELECT id, grade FROM classes")} == {
        c.id: c.grade for c in classes.values()
    }

    # the imported school reads back as a directory the server can serve
    loaded = directory_storage.load_full(conn, year.id)
    assert len(loaded.students) == len(current)
    assert len(loaded.journals) == len(directory.teaching)


def test_reimport_is_idempotent(conn, demo, exports):
    directory = demo.directory
    first = (
        import_students(conn, exports["students"], directory.year.id),
        import_staff(conn, exports["staff"], directory.year.id, directory.school.id),
    )
    after_first = counts(conn)
    second = (
        import_students(conn, exports["students"], directory.year.id),
        import_staff(conn, exports["staff"], directory.year.id, directory.school.id),
    )
    assert second == first
    assert counts(conn) == after_first
    assert after_first["students"] > 0 and after_first["teaching"] > 0


def test_comma_delimiter_and_no_bom_both_work(conn, demo, exports, tmp_path):
    directory = demo.directory
    students = write(tmp_path / "students-comma.csv", read_rows(exports["students"]), delimiter=",")
    staff = write(tmp_path / "staff-nobom.csv", read_rows(exports["staff"]), bom=False)
    staff_comma = write(tmp_path / "staff-comma.csv", read_rows(exports["staff"]), delimiter=",")
    assert students.read_bytes().startswith(b"\xef\xbb\xbf")  # as Excel saves «CSV UTF-8»
    assert not staff.read_bytes().startswith(b"\xef\xbb\xbf")

    current = sum(m.ends is None for m in directory.memberships)
    assert import_students(conn, students, directory.year.id) == current
    assert import_staff(conn, staff, directory.year.id, directory.school.id) == len(directory.staff)
    before = counts(conn)
    assert import_staff(conn, staff_comma, directory.year.id, directory.school.id) == len(
        directory.staff
    )
    assert counts(conn) == before
    assert before["teaching"] == len(directory.teaching)
    # no stray BOM in the first column: surnames are read as written
    surnames = {r[0] for r in conn.execute("SELECT last_name FROM students")}
    assert {s.last_name for s in directory.students} >= surnames
    assert not any(s.startswith("\ufeff") for s in surnames)


def test_a_letter_class_is_created_on_import(conn, demo, tmp_path):
    year = demo.directory.year
    path = write(
        tmp_path / "letters.csv",
        [STUDENT_HEADER, ["Иванов", "Пётр", "", "01.02.2015", "5б"]],
    )
    assert import_students(conn, path, year.id, joined=dt.date(2026, 10, 1)) == 1
    row = conn.execute("SELECT * FROM classes WHERE grade = 5").fetchone()
    assert (row["id"], row["letter"]) == (f"{year.id}-5b", "Б")
    member = conn.execute("SELECT * FROM memberships").fetchone()
    assert (member["class_id"], member["starts"]) == (row["id"], "2026-10-01")


def test_quotes_inside_a_field_are_read_as_excel_writes_them(conn, demo, tmp_path):
    """Excel doubles a «"» inside a quoted field; the header line alone cannot show that."""
    directory = demo.directory
    path = write(
        tmp_path / "quotes.csv",
        [STAFF_HEADER, ["Иванов", "Пётр", "", "учитель", 'Кружок "Юный физик": 5, 6']],
    )
    assert 'Кружок ""Юный физик"": 5, 6'.encode() in path.read_bytes()

    assert import_staff(conn, path, directory.year.id, directory.school.id) == 1

    assert [tuple(r) for r in conn.execute("SELECT id, name FROM subjects")] == [
        ("kruzhok-yunyy-fizik", 'Кружок "Юный физик"')
    ]
    assert {r[0] for r in conn.execute("SELECT class_id FROM teaching")} == {
        f"{directory.year.id}-5",
        f"{directory.year.id}-6",
    }


# ---------------------------------------------------------------------- refusals


def _students_with(exports: Path, number: int, column: str, value: str) -> list[list[str]]:
    rows = read_rows(exports)
    rows[number - 1][rows[0].index(column)] = value
    return rows


@pytest.mark.parametrize("imported_first", [False, True], ids=["empty-db", "after-import"])
def test_bad_students_file_is_refused_whole(conn, demo, exports, tmp_path, imported_first):
    year = demo.directory.year
    if imported_first:
        import_students(conn, exports["students"], year.id)
    before = counts(conn)
    rows = _students_with(exports["students"], 3, "Дата рождения", "31.02.2015")
    rows[6][rows[0].index("Класс")] = "12"
    rows[9][rows[0].index("Класс")] = "5АБ"
    rows[11][rows[0].index("Дата рождения")] = "2015-03-01"
    rows.append(["Новикова", "Новая", "Ивановна", "01.01.2015", "5"])  # good, but not alone
    path = write(tmp_path / "bad.csv", rows)

    with pytest.raises(ImportFailed) as failed:
        import_students(conn, path, year.id)

    assert failed.value.errors == [
        "Строка 3: дата рождения не в формате ДД.ММ.ГГГГ.",
        "Строка 7: класс «12» не распознан.",
        "Строка 10: класс «5АБ» не распознан.",
        "Строка 12: дата рождения не в формате ДД.ММ.ГГГГ.",
    ]
    assert counts(conn) == before
    assert (
        conn.execute("SELECT count(*) FROM students WHERE last_name = 'Новикова'").fetchone()[0]
        == 0
    )


def test_missing_name_is_refused_with_its_line(conn, demo, tmp_path):
    path = write(
        tmp_path / "noname.csv",
        [STUDENT_HEADER, ["Иванов", "Пётр", "", "", "5"], ["Петров", "", "", "", "6"]],
    )
    with pytest.raises(ImportFailed) as failed:
        import_students(conn, path, demo.directory.year.id)
    assert failed.value.errors == ["Строка 3: не указаны фамилия или имя."]
    assert counts(conn)["students"] == 0


@pytest.mark.parametrize(
    "column", ["Фамилия", "Имя", "Класс"], ids=["last-name", "first-name", "class"]
)
def test_students_file_without_a_column_is_refused(conn, demo, exports, tmp_path, column):
    rows = read_rows(exports["students"])
    drop = rows[0].index(column)
    path = write(tmp_path / "no-column.csv", [r[:drop] + r[drop + 1 :] for r in rows])
    with pytest.raises(ImportFailed) as failed:
        import_students(conn, path, demo.directory.year.id)
    assert failed.value.errors == [f"В файле нет столбца «{column}»."]
    assert counts(conn) == dict.fromkeys(TABLES, 0)


def test_windows_1251_file_is_refused_in_russian(conn, demo, tmp_path):
    """Russian Excel's plain «CSV» is Windows-1251: say how to save it, do not crash."""
    path = tmp_path / "cp1251.csv"
    path.write_bytes("Фамилия;Имя;Класс\r\nИванов;Пётр;5\r\n".encode("cp1251"))
    with pytest.raises(ImportFailed) as failed:
        import_students(conn, path, demo.directory.year.id)
    assert failed.value.errors == [
        "Файл не в кодировке UTF-8: в Excel сохраните его как «CSV UTF-8»."
    ]
    assert counts(conn)["students"] == 0


def test_file_without_a_header_line_is_refused_in_russian(conn, demo, tmp_path):
    path = tmp_path / "one-column.csv"
    path.write_text("Иванов Пётр\nПетров Иван\n", encoding="utf-8")
    with pytest.raises(ImportFailed) as failed:
        import_students(conn, path, demo.directory.year.id)
    assert failed.value.errors == [
        "В первой строке не найдены названия столбцов через «;» или «,»."
    ]
    assert counts(conn)["students"] == 0


def test_empty_file_imports_nothing(conn, demo, tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"\xef\xbb\xbf")
    assert import_students(conn, path, demo.directory.year.id) == 0
    assert counts(conn) == dict.fromkeys(TABLES, 0)


def test_bad_staff_file_is_refused_whole(conn, demo, exports, tmp_path):
    directory = demo.directory
    rows = read_rows(exports["staff"])
    position = rows[0].index("Должность")
    taught = rows[0].index("Предметы и классы")
    rows[2][position] = "завхоз"
    rows[4][taught] = "Математика: 5, 13"
    path = write(tmp_path / "bad-staff.csv", rows)

    with pytest.raises(ImportFailed) as failed:
        import_staff(conn, path, directory.year.id, directory.school.id)

    assert failed.value.errors == [
        "Строка 3: должность «завхоз» не распознана.",
        "Строка 5: класс «13» не распознан.",
    ]
    assert counts(conn) == dict.fromkeys(TABLES, 0)


@pytest.mark.parametrize("column", ["Должность", "Предметы и классы"], ids=["position", "teaching"])
def test_staff_file_without_a_column_is_refused(conn, demo, exports, tmp_path, column):
    """Without «Должность» the director and deputies would quietly become plain teachers, and
    without «Предметы и классы» nobody would teach anything: the file is refused instead."""
    directory = demo.directory
    rows = read_rows(exports["staff"])
    drop = rows[0].index(column)
    path = write(tmp_path / "no-column.csv", [r[:drop] + r[drop + 1 :] for r in rows])
    with pytest.raises(ImportFailed) as failed:
        import_staff(conn, path, directory.year.id, directory.school.id)
    assert failed.value.errors == [f"В файле нет столбца «{column}»."]
    assert counts(conn) == dict.fromkeys(TABLES, 0)


def test_unknown_year_is_refused_in_russian(conn, exports):
    with pytest.raises(ImportFailed) as failed:
        import_students(conn, exports["students"], "1999-2000")
    assert failed.value.errors == ["Учебный год 1999-2000 не найден: сначала создайте школу."]
    assert counts(conn)["students"] == 0
