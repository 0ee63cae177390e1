"""Round trip: archive → read back from the package alone → the same reports."""

from __future__ import annotations

import sqlite3

import pytest

from server.archive.printed import summary_files
from server.archive.readback import compare, open_package, xlsx_values
from server.reports.summary_sheet import summary_sheet
from server.storage import directory as directory_storage
from server.storage.db import connect
from tests.archive.conftest import PRINTED_AT
from tests.factories import CLASS_5, CLASS_6, YEAR

TABLES = {
    "lessons": "journal_id, lesson_id, date, slot, topic, homework, work_kind, event_id, author",
    "attendance": "journal_id, lesson_id, student_id, code, event_id, author",
    "marks": "journal_id, lesson_id, student_id, slot, value, work_kind, weight, event_id, author",
    "period_marks": "journal_id, period_id, student_id, value, mark_kind, event_id, author",
    "events": "id, journal_id, kind, author, device, hlc, supersedes, reason, body, status",
}


def rows(conn: sqlite3.Connection, table: str) -> list[tuple]:
    columns = TABLES[table]
    return [tuple(r) for r in conn.execute(f"SELECT {columns} FROM {table} ORDER BY {columns}")]


def test_every_printed_file_comes_out_the_same(archived_once):
    archived = open_package(archived_once.bag)
    try:
        result = compare(archived)
    finally:
        archived.close()
    assert result.ok, result.different
    assert result.missing == []
    # 3 journals, 2 classes × 3 summary formats, 6 pupils × 2 personal-file formats
    assert len(result.same) == 3 + 2 * 3 + 6 * 2


def test_read_back_rows_and_summary_sheets_equal_the_originals(archived_once):
    original = connect(archived_once.config.database)
    archived = open_package(archived_once.bag)
    try:
        for table in TABLES:
            assert rows(archived.conn, table) == rows(original, table), table
        directory = directory_storage.load_full(original, YEAR)
        for class_id in (CLASS_5, CLASS_6):
            assert summary_sheet(archived.conn, class_id) == summary_sheet(original, class_id)
            _, again = summary_files(archived.conn, archived.directory, class_id, PRINTED_AT)
            _, first = summary_files(original, directory, class_id, PRINTED_AT)
            assert again["summary.csv"] == first["summary.csv"]
            assert again["summary.pdf"] == first["summary.pdf"]
            assert xlsx_values(again["summary.xlsx"]) == xlsx_values(first["summary.xlsx"])
        assert archived.directory.closure is not None
        assert archived.directory.closure.closed_by == "t-records"
    finally:
        archived.close()
        original.close()


def test_the_read_back_year_is_read_only(archived_once):
    archived = open_package(archived_once.bag)
    try:
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            archived.conn.execute("UPDATE marks SET value = 5")
    finally:
        archived.close()


def test_a_changed_file_shows_in_the_comparison(archived):
    csv = archived.bag / "data" / "summary" / CLASS_5 / "summary.csv"
    csv.write_bytes(csv.read_bytes().replace(b";2;", b";5;"))
    read = open_package(archived.bag)
    try:
        result = compare(read)
    finally:
        read.close()
    assert result.different == [f"summary/{CLASS_5}/summary.csv"]
