"""Three faults of the school lists (issue 15 follow-ups): the СНИЛС match key is keyed by a
secret of the server's own (an unsalted SHA-256 of 11 digits gives them back by trying every
number), and keys written before it are still matched after the upgrade; the load's hours are
0,5 to 40 as the message says, with a decimal comma; a workbook longer than the limit is
refused whole, never cut short, and blank rows do not count toward the limit."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import random
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from openpyxl.cell import WriteOnlyCell

from scripts.school_lists import csv_bytes, school_lists, snils
from server import lists
from server.importer import add_school
from server.lists import ListKind, ListRefused
from server.lists.reading import (
    MAX_LINES,
    MAX_SHEET_ROWS,
    SHEET_TOO_LONG,
    TOO_LONG,
    FileRefused,
    read_table,
)
from server.lists.specs import LOAD_ORDER
from server.storage import db, migrations
from server.storage import lists as lists_storage
from server.storage.db import connect, create_schema

TODAY = dt.date(2026, 12, 4)
PUPIL = ("Иванов", "Пётр", "14.03.2015", "5А", "Сергеевич")
CHILD = ("Иванов", "Пётр", "14.03.2015")


def new_server(path: Path) -> sqlite3.Connection:
    conn = connect(path)
    create_schema(conn)
    add_school(conn, school_id="sch", name="МБОУ «Тестовая СОШ»", district="Р", first_year=2026)
    return conn


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    connection = new_server(tmp_path / "lists.sqlite")
    yield connection
    connection.close()


def bring(conn: sqlite3.Connection, kind: ListKind, lines: list[tuple[str, ...]]):
    return lists.apply(conn, kind, csv_bytes(kind, lines), today=TODAY)


def mother(last: str, code: str) -> tuple[str, ...]:
    """A parents' line: the mother with her СНИЛС, of the one pupil."""
    return (last, "Мария", *CHILD, "Петровна", "", code, "Сергеевич")


def snils_keys(conn: sqlite3.Connection) -> dict[tuple[str, str], str]:
    rows = conn.execute("SELECT kind, person_id, key FROM person_keys WHERE key LIKE 'snils%'")
    return {(kind, pid): key for kind, pid, key in rows}


def digits(code: str) -> str:
    return "".join(ch for ch in code if ch.isdigit())


# ---------------------------------------------------------------------- the СНИЛС key


def test_the_snils_key_is_not_the_plain_hash_and_differs_between_servers(tmp_path):
    code_pupil, code_mother = snils(random.Random(1)), snils(random.Random(2))
    keys = []
    for name in ("a", "b"):
        conn = new_server(tmp_path / f"{name}.sqlite")
        bring(conn, ListKind.PUPILS, [(*PUPIL, code_pupil)])
        bring(conn, ListKind.PARENTS, [mother("Иванова", code_mother)])
        keys.append(snils_keys(conn))
        secret = db.get_meta(conn, db.SNILS_SECRET_KEY)
        assert secret and len(bytes.fromhex(secret)) == 32
        # the secret is never shown, not even where the comparison's state is printed
        now = lists_storage.current(conn, "sch", "sch-2026-2027", TODAY.isoformat())
        assert secret not in repr(now) and secret not in repr(now.snils)
        conn.close()
    first, second = keys
    assert set(first) == set(second) and len(first) == 2  # the pupil and the mother
    assert all(key.startswith("snils:") for key in (*first.values(), *second.values()))
    plain = {"snils:" + hashlib.sha256(digits(c).encode()).hexdigest()[:32] for c in
             (code_pupil, code_mother)}  # fmt: skip
    for found in (first, second):
        assert not plain & set(found.values())
        assert not any(digits(code_pupil) in k or digits(code_mother) in k for k in found.values())
    assert all(first[who] != second[who] for who in first)  # two servers, two keys


def test_a_parent_is_found_by_snils_after_the_upgrade_from_unsalted_keys(conn):
    """A database of the release before the secret: its keys are the SHA-256 of the СНИЛС,
    which is not kept, so they cannot be recomputed. Migration 3 marks them; a list naming the
    mother under a new surname with the same СНИЛС still finds her (a change, not a new
    parent), and her key becomes the keyed one."""
    code = snils(random.Random(3))
    bring(conn, ListKind.PUPILS, [(*PUPIL, "")])
    bring(conn, ListKind.PARENTS, [mother("Иванова", code)])
    ((who, _key),) = snils_keys(conn).items()
    # as the release before wrote it: no secret, unsalted keys, migration 3 not applied
    unsalted = "snils:" + hashlib.sha256(digits(code).encode()).hexdigest()[:32]
    conn.execute("UPDATE person_keys SET key = ? WHERE key LIKE 'snils:%'", (unsalted,))
    for key in (db.SNILS_SECRET_KEY, db.LEGACY_SNILS_KEYS_KEY):
        conn.execute("DELETE FROM meta WHERE key = ?", (key,))
    conn.execute("DELETE FROM schema_migrations WHERE version >= 3")

    assert [m.version for m in migrations.upgrade(conn)] == [3]
    assert snils_keys(conn) == {who: db.LEGACY_SNILS_PREFIX + unsalted.removeprefix("snils:")}
    assert db.get_meta(conn, db.SNILS_SECRET_KEY)
    assert migrations.upgrade(conn) == []  # applied once; the marking is not redone

    renamed = lists.preview(conn, ListKind.PARENTS, csv_bytes(ListKind.PARENTS,
                            [mother("Петрова", code)]), today=TODAY)  # fmt: skip
    assert renamed.additions == () and renamed.leavers == () and not renamed.errors
    assert renamed.changes == ("Петрова Мария Петровна: фамилия Иванова → Петрова",)
    bring(conn, ListKind.PARENTS, [mother("Петрова", code)])
    assert conn.execute("SELECT count(*) FROM parents").fetchone()[0] == 1
    assert conn.execute("SELECT last_name FROM parents").fetchone()[0] == "Петрова"
    # the unsalted key is gone, replaced by the keyed one, which finds her from now on
    ((again, key),) = snils_keys(conn).items()
    assert again == who and key.startswith("snils:") and key != unsalted
    assert bring(conn, ListKind.PARENTS, [mother("Петрова", code)]).unchanged


def test_a_snils_given_twice_in_one_file_is_still_one_person(conn):
    code = snils(random.Random(4))
    twins = [(*PUPIL, code), ("Иванова", "Анна", "14.03.2015", "5А", "Сергеевна", code)]
    shown = lists.preview(conn, ListKind.PUPILS, csv_bytes(ListKind.PUPILS, twins), today=TODAY)
    assert [str(e) for e in shown.errors] == [
        "Строка 3: тот же СНИЛС, что в строке 2 (Иванов Пётр Сергеевич, 14.03.2015): человек "
        "дважды."
    ]


# ---------------------------------------------------------------------- the load's hours


@pytest.fixture
def school(conn) -> tuple[str, str]:
    """A school whose pupils and staff are in: (a teacher, a class) of its load."""
    rows = school_lists(30)
    for kind in LOAD_ORDER[: LOAD_ORDER.index(ListKind.LOAD)]:
        bring(conn, kind, rows[kind])
    teacher, class_name = rows[ListKind.LOAD][0][:2]
    return teacher, class_name


WRONG_HOURS = "нужно число от 0,5 до 40 (дробное — через запятую, например 1,5)."


@pytest.mark.parametrize(
    ("text", "hours"),
    [("0.1", None), ("0,5", 0.5), ("0.5", 0.5), ("40", 40.0), ("40.5", None), ("40,5", None),
     ("полтора", None), ("1,5", 1.5), ("1.5", 1.5), ("-1", None), ("nan", None), ("inf", None),
     ("1,5,5", None), ("0", None)],
)  # fmt: skip
def test_load_hours_are_half_an_hour_to_forty_with_a_decimal_comma(conn, school, text, hours):
    teacher, class_name = school
    line = (teacher, class_name, "Черчение", "", text)
    shown = lists.preview(conn, ListKind.LOAD, csv_bytes(ListKind.LOAD, [line]), today=TODAY)
    if hours is None:
        assert [str(e) for e in shown.errors] == [
            f"Строка 2: часов в неделю «{text}»: {WRONG_HOURS}"
        ]
        with pytest.raises(ListRefused):
            bring(conn, ListKind.LOAD, [line])
        assert not conn.execute("SELECT 1 FROM subjects WHERE name = 'Черчение'").fetchall()
        return
    assert not shown.errors
    bring(conn, ListKind.LOAD, [line])
    stored = conn.execute(
        "SELECT hours FROM teaching_load l JOIN subjects s ON s.id = l.subject_id "
        "WHERE s.name = 'Черчение'"
    ).fetchall()
    assert [r[0] for r in stored] == [hours]


def test_load_hours_typed_as_numbers_in_a_workbook(conn, school):
    teacher, class_name = school
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(list(lists.SPECS[ListKind.LOAD].columns))
    sheet.append([teacher, class_name, "Черчение", "", 1.5])
    sheet.append([teacher, class_name, "Музыка", "", 0.1])
    out = io.BytesIO()
    book.save(out)
    shown = lists.preview(conn, ListKind.LOAD, out.getvalue(), today=TODAY)
    assert [str(e) for e in shown.errors] == [f"Строка 3: часов в неделю «0.1»: {WRONG_HOURS}"]


# ---------------------------------------------------------------------- the row limit


PUPIL_COLUMNS = ("Фамилия", "Имя", "Дата рождения", "Класс")


def surname(n: int) -> str:
    """A surname of letters only, a different one for every n."""
    letters = "абвгдежзиклмнопрстуфхцчшэюя"
    tail = ""
    while True:
        n, rest = divmod(n, len(letters))
        tail += letters[rest]
        if not n:
            return "Иванов" + tail


def workbook(data_rows: int, *, blank_before: int = 0, formatted: bool = True) -> bytes:
    """A pupils' workbook (write-only: fast) with `blank_before` empty rows between the header
    and `data_rows` lines: rows of formatted empty cells, as Excel keeps them, or bare rows."""
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(list(PUPIL_COLUMNS))
    blank = WriteOnlyCell(sheet, value=None)
    blank.number_format = "0.00"
    for _ in range(blank_before):
        sheet.append([blank] * len(PUPIL_COLUMNS) if formatted else [])
    for n in range(data_rows):
        sheet.append([surname(n), "Имя", "01.09.2015", "5А"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_workbook_over_the_limit_is_refused_whole_naming_the_limit(conn):
    assert "20\u00a0000 строк" in TOO_LONG and MAX_LINES == 20_000
    too_long = workbook(MAX_LINES + 1)
    shown = lists.preview(conn, ListKind.PUPILS, too_long, today=TODAY)
    assert [str(e) for e in shown.errors] == [TOO_LONG]
    with pytest.raises(ListRefused):
        lists.apply(conn, ListKind.PUPILS, too_long, today=TODAY)
    assert conn.execute("SELECT count(*) FROM students").fetchone()[0] == 0


def test_blank_rows_do_not_count_toward_the_limit(conn):
    """25,000 formatted empty rows then data: the data is read, every line with the number the
    secretary sees in Excel (the old reader stopped after 20,000 rows and read nothing)."""
    data = workbook(3, blank_before=25_000)
    table = read_table(data, PUPIL_COLUMNS)
    assert [n for n, _ in table.lines] == [25_002, 25_003, 25_004]
    assert [line["Фамилия"] for _, line in table.lines] == [surname(n) for n in range(3)]
    shown = lists.preview(conn, ListKind.PUPILS, data, today=TODAY)
    assert not shown.errors and len(shown.additions) == 3


def test_a_sheet_of_endless_blank_rows_is_refused_not_read_for_minutes(conn):
    """Reading blank rows takes time, so a sheet is read up to MAX_SHEET_ROWS rows, blank ones
    included, and a longer one refused whole with what to do."""
    assert "100\u00a0000 строк" in SHEET_TOO_LONG
    data = workbook(3, blank_before=MAX_SHEET_ROWS, formatted=False)
    shown = lists.preview(conn, ListKind.PUPILS, data, today=TODAY)
    assert [str(e) for e in shown.errors] == [SHEET_TOO_LONG]
    assert conn.execute("SELECT count(*) FROM students").fetchone()[0] == 0


def test_exactly_the_limit_is_read_whatever_blank_lines_follow():
    rows = [(surname(n), "Имя", "01.09.2015", "5А") for n in range(MAX_LINES)]
    text = ";".join(PUPIL_COLUMNS) + "\r\n" + "".join(";".join(r) + "\r\n" for r in rows)
    table = read_table((text + ";;;\r\n" * 5).encode(), PUPIL_COLUMNS)
    assert len(table.lines) == MAX_LINES
    with pytest.raises(FileRefused) as refused:
        read_table((text + "Ещё;Один;01.09.2015;5А\r\n").encode(), PUPIL_COLUMNS)
    assert refused.value.reasons == [TOO_LONG]
