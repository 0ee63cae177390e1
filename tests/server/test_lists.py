"""A school's own lists in, from CSV and XLSX: pupils, parents with their children, staff,
class teachers and the load. Every wrong line is refused with its number and a Russian reason
and nothing is written; re-importing the same file changes nothing; an edited file changes
exactly the edited people."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from scripts.school_lists import csv_bytes, school_lists, xlsx_bytes
from server import lists
from server.cli import main
from server.importer import add_school
from server.lists import ListKind, ListRefused
from server.lists.plan import snils_digits
from server.lists.reading import read_table
from server.lists.specs import LOAD_ORDER as ORDER
from server.storage import lists as lists_storage
from server.storage.db import connect, create_schema

TODAY = dt.date(2026, 12, 4)
TABLES = (
    "classes",
    "subjects",
    "students",
    "memberships",
    "staff",
    "parents",
    "parent_links",
    "teaching",
    "class_teachers",
    "teaching_load",
    "person_keys",
)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    path = tmp_path / "lists.sqlite"
    conn = connect(path)
    create_schema(conn)
    add_school(conn, school_id="sch", name="МБОУ «Тестовая СОШ»", district="Р", first_year=2026)
    conn.close()
    return path


@pytest.fixture
def conn(db_path: Path) -> Iterator[sqlite3.Connection]:
    connection = connect(db_path)
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def rows() -> dict[ListKind, list[tuple[str, ...]]]:
    return school_lists(60)


def snapshot(conn: sqlite3.Connection) -> dict[str, list[tuple]]:
    return {t: sorted(tuple(r) for r in conn.execute(f"SELECT * FROM {t}")) for t in TABLES}


def body(kind: ListKind, rows, *, xlsx: bool = False) -> bytes:
    return xlsx_bytes(kind, rows) if xlsx else csv_bytes(kind, rows)


def load_all(conn, rows, xlsx=frozenset({ListKind.PARENTS, ListKind.LOAD})) -> None:
    for kind in ORDER:
        lists.apply(conn, kind, body(kind, rows[kind], xlsx=kind in xlsx), today=TODAY)


# ---------------------------------------------------------------------- a whole school in


def test_a_school_comes_in_from_csv_and_xlsx(conn, rows):
    load_all(conn, rows)
    now = lists_storage.current(conn, "sch", "sch-2026-2027", TODAY.isoformat())
    assert len(now.pupils) == len(rows[ListKind.PUPILS])
    assert len(now.memberships) == len(rows[ListKind.PUPILS])
    # the first lists of a year start the pupils on its first day, not on the import's day
    assert {m["starts"] for m in now.memberships.values()} == {"2026-09-01"}
    assert len(now.staff) == len(rows[ListKind.STAFF])
    assert len(now.class_teachers) == len(rows[ListKind.CLASS_TEACHERS])
    # two parents per child, and one parent with children in two classes
    per_child: dict[str, set[str]] = {}
    for parent, kids in now.links.items():
        for kid in kids:
            per_child.setdefault(kid, set()).add(parent)
    assert max(len(p) for p in per_child.values()) == 2
    two_classes = [
        p for p, kids in now.links.items()
        if len({now.memberships[k]["class_id"] for k in kids}) == 2
    ]  # fmt: skip
    assert two_classes
    # English in two groups of a class, each with its teacher and hours
    groups = {k for k in now.load if k[2] == "angliyskiy-yazyk" and k[1] == "sch-2026-2027-2a"}
    assert {g[3] for g in groups} == {"1", "2"}
    assert len({g[0] for g in groups}) == 2
    assert all(now.load[g] == 3.0 for g in groups)


def test_reimporting_the_same_files_changes_nothing(conn, rows):
    load_all(conn, rows)
    before = snapshot(conn)
    for kind in ORDER:
        for xlsx in (False, True):  # the same list saved either way is the same list
            result = lists.apply(conn, kind, body(kind, rows[kind], xlsx=xlsx), today=TODAY)
            assert result.unchanged, (kind, xlsx, result)
    assert snapshot(conn) == before


def test_an_edited_pupil_list_changes_exactly_the_edited_pupils(conn, rows):
    load_all(conn, rows)
    before = snapshot(conn)
    pupils = list(rows[ListKind.PUPILS])
    with_snils = next(i for i, r in enumerate(pupils) if r[5])
    renamed = pupils[with_snils]
    pupils[with_snils] = ("Новикова", *renamed[1:])  # a new surname, the same СНИЛС
    moved = next(i for i, r in enumerate(pupils) if r[3] == "1А" and i != with_snils)
    pupils[moved] = (*pupils[moved][:3], "1Б", *pupils[moved][4:])
    result = lists.apply(conn, ListKind.PUPILS, csv_bytes(ListKind.PUPILS, pupils), today=TODAY)
    assert result.additions == () and result.leavers == ()
    assert len(result.changes) == 2
    assert f"фамилия {renamed[0]} → Новикова" in result.changes[0] + result.changes[1]
    after = snapshot(conn)
    changed = {t for t in TABLES if after[t] != before[t]}
    assert changed == {"students", "memberships", "person_keys", "classes"}
    assert set(after["classes"]) - set(before["classes"]) == {
        ("sch-2026-2027-1b", "sch-2026-2027", 1, "Б")
    }
    students_diff = set(after["students"]) ^ set(before["students"])
    assert len(students_diff) == 2  # the renamed pupil's old and new row, nobody else
    assert len({r[0] for r in students_diff}) == 1  # one pupil, same id
    # the moved pupil left 1А the day before and is in 1Б from the import's day
    moved_ids = {m[0] for m in set(after["memberships"]) ^ set(before["memberships"])}
    assert len(moved_ids) == 1
    moved_rows = [r for r in after["memberships"] if r[0] in moved_ids]
    assert sorted((r[1][-2:], r[2], r[3]) for r in moved_rows) == [
        ("1a", "2026-09-01", "2026-12-03"),
        ("1b", "2026-12-04", None),
    ]


def test_a_pupil_missing_from_the_class_list_is_shown_leaving_then_leaves(conn, rows):
    load_all(conn, rows)
    pupils = list(rows[ListKind.PUPILS])
    gone = pupils.pop(0)
    data = csv_bytes(ListKind.PUPILS, pupils)
    shown = lists.preview(conn, ListKind.PUPILS, data, today=TODAY)
    assert len(shown.leavers) == 1 and gone[0] in shown.leavers[0]
    assert "выбывает с 04.12.2026" in shown.leavers[0]
    lists.apply(conn, ListKind.PUPILS, data, today=TODAY)
    ends = conn.execute(
        "SELECT m.ends FROM memberships m JOIN students s ON s.id = m.student_id "
        "WHERE s.last_name = ? AND s.first_name = ? AND s.birth_date = ?",
        (gone[0], gone[1], dt.datetime.strptime(gone[2], "%d.%m.%Y").date().isoformat()),
    ).fetchone()
    assert ends[0] == "2026-12-03"


def test_windows_1251_csv_reads_like_utf8(conn, rows):
    utf8 = csv_bytes(ListKind.PUPILS, rows[ListKind.PUPILS])
    cp1251 = csv_bytes(ListKind.PUPILS, rows[ListKind.PUPILS], encoding="cp1251")
    a = lists.preview(conn, ListKind.PUPILS, utf8, today=TODAY)
    b = lists.preview(conn, ListKind.PUPILS, cp1251, today=TODAY)
    assert (a.encoding, b.encoding) == ("utf-8", "windows-1251")
    assert a.additions == b.additions and not b.errors


# ---------------------------------------------------------------------- bad files


def _broken(kind: ListKind, rows, line: int, column: str, value: str) -> list[tuple[str, ...]]:
    out = list(rows[kind])
    index = lists.SPECS[kind].columns.index(column)
    row = list(out[line - 2])
    row[index] = value
    out[line - 2] = tuple(row)
    return out


BAD = {
    "date in the wrong format": (
        ListKind.PUPILS,
        lambda r: csv_bytes(
            ListKind.PUPILS, _broken(ListKind.PUPILS, r, 5, "Дата рождения", "2015-03-14")
        ),
        "Строка 5: дата рождения «2015-03-14» не в формате ДД.ММ.ГГГГ.",
    ),
    "duplicate person": (
        ListKind.PUPILS,
        lambda r: csv_bytes(ListKind.PUPILS, [*r[ListKind.PUPILS], r[ListKind.PUPILS][2]]),
        "Строка 62: тот же",
    ),
    "a parent linked to a pupil who does not exist": (
        ListKind.PARENTS,
        lambda r: xlsx_bytes(
            ListKind.PARENTS, _broken(ListKind.PARENTS, r, 4, "Имя ребёнка", "Несуществующий")
        ),
        "Строка 4: ученика ",
    ),
    "a teacher assigned to a group of a class that does not exist": (
        ListKind.LOAD,
        lambda r: csv_bytes(
            ListKind.LOAD,
            [*r[ListKind.LOAD], (r[ListKind.LOAD][0][0], "9Ж", "Английский язык", "2", "3")],
        ),
        "класса «9Ж» нет в этом учебном году",
    ),
    "a wrong СНИЛС": (
        ListKind.PUPILS,
        lambda r: csv_bytes(
            ListKind.PUPILS, _broken(ListKind.PUPILS, r, 3, "СНИЛС", "112-233-445 96")
        ),
        "Строка 3: СНИЛС «112-233-445 96»: не 11 цифр или неверное контрольное число.",
    ),
    "an unknown position": (
        ListKind.STAFF,
        lambda r: csv_bytes(ListKind.STAFF, _broken(ListKind.STAFF, r, 4, "Должность", "завхоз")),
        "Строка 4: должность «завхоз» не распознана.",
    ),
    "a missing column": (
        ListKind.PARENTS,
        lambda r: csv_bytes(ListKind.PARENTS, r[ListKind.PARENTS]).replace(
            "Имя ребёнка".encode(), b"X", 1
        ),
        "В файле нет столбца «Имя ребёнка».",
    ),
    "undecodable bytes": (
        ListKind.PUPILS,
        lambda r: csv_bytes(ListKind.PUPILS, r[ListKind.PUPILS]) + b"\x98\xd0\x81\xff\xfe;x\r\n",
        "не читается ни как UTF-8, ни как Windows-1251",
    ),
    "a broken workbook": (
        ListKind.STAFF,
        lambda r: xlsx_bytes(ListKind.STAFF, r[ListKind.STAFF])[:500],
        "Файл не открывается как книга Excel (.xlsx): сохраните его заново в Excel.",
    ),
}


@pytest.mark.parametrize("case", BAD, ids=list(BAD))
def test_a_bad_file_is_refused_with_its_line_and_nothing_is_written(conn, rows, case):
    kind, make, reason = BAD[case]
    for first in ORDER[: ORDER.index(kind)]:  # the lists it depends on are in
        lists.apply(conn, first, csv_bytes(first, rows[first]), today=TODAY)
    before = snapshot(conn)
    data = make(rows)
    shown = lists.preview(conn, kind, data, today=TODAY)
    assert any(reason in str(e) for e in shown.errors), shown.errors
    with pytest.raises(ListRefused) as refused:
        lists.apply(conn, kind, data, today=TODAY)
    assert refused.value.preview.errors == shown.errors
    assert snapshot(conn) == before


def test_a_fault_halfway_through_writing_leaves_nothing_written(conn, rows, monkeypatch):
    """The disk fills or the process dies mid-write: the transaction takes it all back."""
    lists.apply(
        conn, ListKind.PUPILS, csv_bytes(ListKind.PUPILS, rows[ListKind.PUPILS]), today=TODAY
    )
    before = snapshot(conn)
    real = lists_storage.directory_storage.upsert

    def upsert_then_fail(connection, items, **kwargs):
        real(connection, list(items)[:3], **kwargs)
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(lists_storage.directory_storage, "upsert", upsert_then_fail)
    with pytest.raises(sqlite3.OperationalError):
        lists.apply(
            conn, ListKind.STAFF, csv_bytes(ListKind.STAFF, rows[ListKind.STAFF]), today=TODAY
        )
    assert snapshot(conn) == before


# ---------------------------------------------------------------------- templates, keys, CLI


@pytest.mark.parametrize("kind", list(ListKind))
def test_every_template_has_russian_headers_and_one_example_line(kind):
    spec = lists.SPECS[kind]
    for data in (lists.template_csv(kind), lists.template_xlsx(kind)):
        table = read_table(data, spec.required, spec.optional)
        assert table.header == spec.columns
        assert [line for _, line in table.lines] == [
            dict(zip(spec.columns, spec.example, strict=True))
        ]


def test_the_pupils_template_itself_imports_as_one_pupil(conn):
    result = lists.preview(conn, ListKind.PUPILS, lists.template_xlsx(ListKind.PUPILS), today=TODAY)
    assert not result.errors
    pupil = "Иванов Пётр Сергеевич, 14.03.2015"
    assert result.additions == (
        "предмет «Английский язык»",
        "предмет «Технология»",
        f"{pupil} — 5А",
        f"{pupil}: Английский язык, группа 1",
        f"{pupil}: Технология, группа мальчики",
    )


@pytest.mark.parametrize(
    ("text", "ok"),
    [("112-233-445 95", True), ("11223344595", True), ("112-233-445 96", False), ("123", False)],
)
def test_snils_check_number(text, ok):
    assert (snils_digits(text) is not None) is ok


def test_command_line_dry_run_writes_nothing_then_import_writes(db_path, tmp_path, rows, capsys):
    path = tmp_path / "pupils.csv"
    path.write_bytes(csv_bytes(ListKind.PUPILS, rows[ListKind.PUPILS]))
    conn = connect(db_path)
    before = snapshot(conn)
    assert main(["--db", str(db_path), "import", "pupils", str(path), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert f"Добавится: {len(rows[ListKind.PUPILS])}" in out
    assert "Ничего не записано (--dry-run)." in out
    assert snapshot(conn) == before
    assert main(["--db", str(db_path), "import", "pupils", str(path)]) == 0
    assert "Записано." in capsys.readouterr().out
    assert len(snapshot(conn)["students"]) == len(rows[ListKind.PUPILS])
    bad = tmp_path / "load.csv"
    bad.write_bytes(csv_bytes(ListKind.LOAD, [("Никто Никак", "5А", "Математика", "", "5")]))
    assert main(["--db", str(db_path), "import", "load", str(bad)]) == 2
    out, err = capsys.readouterr()
    assert "Строка 2: учителя «Никто Никак» нет в списке сотрудников школы." in out
    assert "ничего не изменено" in err
    conn.close()


def test_a_list_that_would_empty_its_classes_is_flagged_before_applying(conn, rows):
    load_all(conn, rows)
    one_class = [r for r in rows[ListKind.PUPILS] if r[3] == "1А"][:2]
    shown = lists.preview(conn, ListKind.PUPILS, csv_bytes(ListKind.PUPILS, one_class), today=TODAY)
    assert len(shown.leavers) == len([r for r in rows[ListKind.PUPILS] if r[3] == "1А"]) - 2
    assert any(n.startswith("Внимание: выбывает") for n in shown.notes)
    quiet = lists.preview(
        conn, ListKind.PUPILS, csv_bytes(ListKind.PUPILS, rows[ListKind.PUPILS][1:]), today=TODAY
    )
    assert len(quiet.leavers) == 1 and not any(n.startswith("Внимание") for n in quiet.notes)


def test_a_namesake_parent_in_another_school_of_the_server_is_another_person(conn):
    """Two schools of one server, a parent «Иванова Мария Петровна» in each with a child of her
    own: without a СНИЛС the second school's list must not take over the first one's parent
    (her login, her children), only make a parent of its own."""
    add_school(conn, school_id="other", name="МБОУ «Другая СОШ»", district="Р", first_year=2026)

    def bring(school: str, kind: ListKind, lines: list[tuple[str, ...]]) -> None:
        lists.apply(conn, kind, csv_bytes(kind, lines), school_id=school, today=TODAY)

    mother = ("Иванова", "Мария")
    bring("sch", ListKind.PUPILS, [("Иванов", "Пётр", "14.03.2015", "5А", "Сергеевич", "")])
    bring(
        "sch",
        ListKind.PARENTS,
        [(*mother, "Иванов", "Пётр", "14.03.2015", "Петровна", "", "", "Сергеевич")],
    )
    bring("other", ListKind.PUPILS, [("Смирнов", "Олег", "01.02.2015", "5А", "Ильич", "")])
    preview = lists.preview(
        conn,
        ListKind.PARENTS,
        csv_bytes(
            ListKind.PARENTS,
            [(*mother, "Смирнов", "Олег", "01.02.2015", "Петровна", "", "", "Ильич")],
        ),
        school_id="other",
        today=TODAY,
    )
    assert preview.changes == () and len(preview.additions) == 1
    bring(
        "other",
        ListKind.PARENTS,
        [(*mother, "Смирнов", "Олег", "01.02.2015", "Петровна", "", "", "Ильич")],
    )

    children = {}
    for parent_id, student_id in conn.execute("SELECT parent_id, student_id FROM parent_links"):
        children.setdefault(parent_id, set()).add(student_id)
    assert sorted(len(kids) for kids in children.values()) == [1, 1]
    assert conn.execute("SELECT count(*) FROM parents").fetchone()[0] == 2
