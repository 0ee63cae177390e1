"""The personal file in the database follows the archive's retention: it outlives the
journals and goes, logged, with the pupil's personal-file category 3 years after leaving."""

from __future__ import annotations

import datetime as dt

import pytest

from server.archive import keys, personal_file, retention
from server.storage.db import connect
from tests.factories import YEAR


@pytest.fixture
def conn(archived):
    connection = connect(archived.config.database)
    yield connection
    connection.close()


def marks_of(conn, student_id: str) -> list[tuple[str, int]]:
    return [m for page in personal_file.pages(conn, student_id) for m in page.marks]


def test_closing_filled_the_personal_files(conn):
    assert marks_of(conn, "s-5") == [("Математика", 5)]
    assert marks_of(conn, "s-6") == [("Математика", 4)]


def test_destroying_the_journals_keeps_the_personal_files(archived, conn):
    retention.draft_act(conn, archived.folder, number="1", login="records", on=dt.date(2033, 1, 1))
    key = keys.load_private(archived.private_key, password=b"")
    retention.record_act(conn, archived.folder, number="1", login="records", key=key)
    assert conn.execute("SELECT count(*) FROM marks").fetchone()[0] == 0
    assert marks_of(conn, "s-1") == [("Математика", 5)]
    assert marks_of(conn, "s-6") == [("Математика", 4)]


def test_personal_file_goes_with_its_category_after_the_pupil_left(archived, conn):
    conn.execute("UPDATE memberships SET ends = '2027-05-31' WHERE student_id = 's-6'")
    _, _, items = retention.draft_act(
        conn, archived.folder, number="2", login="records", on=dt.date(2031, 1, 1)
    )
    assert [(i.category, i.item) for i in items] == [("personal_files", "s-6")]
    key = keys.load_private(archived.private_key, password=b"")
    log = retention.record_act(conn, archived.folder, number="2", login="records", key=key)
    assert "personal_file 1" in log[0]["detail"]
    assert marks_of(conn, "s-6") == []
    assert marks_of(conn, "s-5") == [("Математика", 5)]
    assert personal_file.remove(conn, "s-5", YEAR) == 1
