"""Retention: the schedule, what is due, the act, the logged removal that keeps summary sheets."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from pypdf import PdfReader

from server.archive import keys, retention
from server.archive.readback import compare, open_package
from server.archive.verify import verify_folder
from server.errors import AccessDenied, BadRequest
from server.storage import archive as archive_storage
from server.storage.db import connect, transaction
from tests.factories import CLASS_5, CLASS_6, MATH_5

JOURNALS_DUE = dt.date(2033, 1, 1)  # closed 2027: 5 years from 1 January 2028


@pytest.fixture
def conn(archived):
    connection = connect(archived.config.database)
    yield connection
    connection.close()


def test_default_schedule_is_the_one_of_the_requirements(conn):
    years = {c.id: c.years for c in retention.schedule(conn)}
    assert years == {
        "journals": 5,
        "summary_sheets": 25,
        "certificate_books": 50,
        "personal_files": 3,
        "exam_protocols": 5,
        "attestation_protocols": 3,
        "monitoring_results": 3,
    }


def test_schedule_is_configurable_by_the_records_officer_only(conn):
    assert retention.set_years(conn, "certificate_books", 75, "records").years == 75
    assert {c.id: c.years for c in retention.schedule(conn, "sch")}["certificate_books"] == 75
    with pytest.raises(AccessDenied):
        retention.set_years(conn, "journals", 1, "math")
    with pytest.raises(BadRequest, match="Нет такой категории"):
        retention.set_years(conn, "diaries", 1, "records")
    with pytest.raises(BadRequest):
        retention.set_years(conn, "journals", 0, "records")
    assert {c.id: c.years for c in retention.schedule(conn, "sch")}["journals"] == 5


def test_each_school_of_a_server_keeps_its_own_schedule(archived, conn):
    retention.set_years(conn, "journals", 6, "records")  # the records officer of school sch
    with transaction(conn):  # another school of the same server keeps journals 1 year
        archive_storage.set_retention(conn, "journals", 1, "b-records", 0.0, "sch-b")
    assert {c.id: c.years for c in retention.schedule(conn, "sch")}["journals"] == 6
    assert {c.id: c.years for c in retention.schedule(conn, "sch-b")}["journals"] == 1
    assert {c.id: c.years for c in retention.schedule(conn, "sch-c")}["journals"] == 5
    # school sch's package falls due by sch's own schedule, not by the other school's
    assert retention.due(conn, archived.folder, JOURNALS_DUE) == []
    later = retention.due(conn, archived.folder, JOURNALS_DUE.replace(year=JOURNALS_DUE.year + 1))
    assert {i.category for i in later} == {"journals"}
    # a server-wide change of an earlier release still holds where a school set nothing
    with transaction(conn):
        archive_storage.set_retention(conn, "summary_sheets", 30, "admin", 0.0)
    assert {c.id: c.years for c in retention.schedule(conn, "sch-c")}["summary_sheets"] == 30


def test_journals_fall_due_five_years_after_the_closing_year(archived, conn):
    assert retention.due(conn, archived.folder, JOURNALS_DUE - dt.timedelta(days=1)) == []
    items = retention.due(conn, archived.folder, JOURNALS_DUE)
    assert {(i.category, i.item) for i in items} == {
        ("journals", f"{CLASS_5}/math"),
        ("journals", f"{CLASS_5}/russian"),
        ("journals", f"{CLASS_6}/math"),
    }
    assert all(i.due_on == JOURNALS_DUE and len(i.files) == 3 for i in items)
    # pupils still at school: their personal files are not due, however late
    assert not [
        i
        for i in retention.due(conn, archived.folder, dt.date(2090, 1, 1))
        if i.category == "personal_files"
    ]
    retention.set_years(conn, "journals", 6, "records")
    assert retention.due(conn, archived.folder, JOURNALS_DUE) == []


def test_personal_file_falls_due_three_years_after_the_pupil_left(archived, conn):
    conn.execute("UPDATE memberships SET ends = '2027-05-31' WHERE student_id = 's-6'")
    items = retention.due(conn, archived.folder, dt.date(2031, 1, 1))
    assert [(i.category, i.item, i.due_on) for i in items] == [
        ("personal_files", "s-6", dt.date(2031, 1, 1))
    ]
    assert "Ершова Жанна" in items[0].title


def test_act_destroys_journals_logs_it_and_keeps_summary_sheets(archived, conn):
    with pytest.raises(AccessDenied):
        retention.draft_act(conn, archived.folder, number="1", login="math", on=JOURNALS_DUE)
    _, pdf, _items = retention.draft_act(
        conn, archived.folder, number="1", login="records", on=JOURNALS_DUE
    )
    text = "\n".join(p.extract_text() for p in PdfReader(__import__("io").BytesIO(pdf)).pages)
    assert "Акт № 1 о выделении к уничтожению документов" in text
    assert "Классный журнал: Математика, 5 класс" in text
    assert "Сводные ведомости успеваемости хранятся отдельно" in text
    assert "УТВЕРЖДАЮ: Директор" in text
    period_marks = conn.execute("SELECT count(*) FROM period_marks").fetchone()[0]
    assert period_marks > 0

    log = retention.record_act(
        conn,
        archived.folder,
        number="1",
        login="records",
        key=keys.load_private(archived.private_key, password=b""),
    )

    assert len(log) == 3
    data = archived.bag / "data"
    assert not (data / "journals" / CLASS_5 / "math" / "journal.pdf").exists()
    for class_id in (CLASS_5, CLASS_6):
        for ext in ("pdf", "xlsx", "csv"):
            assert (data / "summary" / class_id / f"summary.{ext}").is_file()
    assert (data / "personal" / "s-1" / "year-marks.pdf").is_file()
    # the database: the journals' rows are gone, the summary sheet's marks are not
    for table in ("lessons", "attendance", "marks", "events", "journal_updates"):
        assert conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0, table
    for table in ("archive_pdf_cache", "archive_journal_parts"):  # the archive's own copies
        assert conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0, table
    assert conn.execute("SELECT count(*) FROM period_marks").fetchone()[0] == period_marks
    logged = archive_storage.removal_log(conn)
    assert {(r["number"], r["category"], r["item"]) for r in logged} == {
        ("1", "journals", f"{CLASS_5}/math"),
        ("1", "journals", f"{CLASS_5}/russian"),
        ("1", "journals", f"{CLASS_6}/math"),
    }
    assert all(r["removed_by"] == "records" and "lessons" in r["detail"] for r in logged)
    with pytest.raises(BadRequest, match="уже исполнен"):
        retention.record_act(
            conn, archived.folder, number="1", login="records",
            key=keys.load_private(archived.private_key, password=b""),
        )  # fmt: skip

    # the archive still verifies: exactly the files of the signed act may be missing
    public = [keys.load_public(archived.public_key)]
    report = verify_folder(archived.folder, public)
    assert report.ok, report
    assert len(report.packages[0].destroyed) == 9
    # and reads back: the summary sheets are kept, though no longer re-printable
    read = open_package(archived.bag)
    try:
        result = compare(read)
    finally:
        read.close()
    assert result.ok and result.same == []
    assert f"summary/{CLASS_5}/summary.csv" in result.not_reproducible
    assert retention.due(conn, archived.folder, JOURNALS_DUE) == []


def test_forged_destruction_record_does_not_excuse_a_removed_file(archived, conn):
    retention.draft_act(conn, archived.folder, number="7", login="records", on=JOURNALS_DUE)
    retention.record_act(
        conn, archived.folder, number="7", login="records",
        key=keys.load_private(archived.private_key, password=b""),
    )  # fmt: skip
    record = archived.folder / "destruction-acts" / "act-7.json"
    act = json.loads(record.read_text(encoding="utf-8"))
    summary = f"data/summary/{CLASS_5}/summary.csv"
    act["packages"][archived.package.name][summary] = "0" * 64
    record.write_text(json.dumps(act), encoding="utf-8")
    (archived.bag / summary).unlink()
    report = verify_folder(archived.folder, [keys.load_public(archived.public_key)])
    assert not report.ok
    assert report.problems == [
        "подпись записи акта уничтожения act-7.json не сходится: запись изменена или "
        "подписана чужим ключом"
    ]
    found = report.packages[0].problems
    assert f"файл удалён: {summary} (есть в описи пакета, нет на диске)" in found
    assert any(p.startswith("файл удалён: data/journals/") for p in found)


def test_summary_sheets_fall_due_only_after_twenty_five_years(archived, conn):
    items = retention.due(conn, archived.folder, dt.date(2052, 12, 31))
    assert {i.category for i in items} == {"journals"}
    key = keys.load_private(archived.private_key, password=b"")
    retention.draft_act(conn, archived.folder, number="1", login="records", on=JOURNALS_DUE)
    retention.record_act(conn, archived.folder, number="1", login="records", key=key)
    assert retention.due(conn, archived.folder, dt.date(2052, 12, 31)) == []
    (item,) = retention.due(conn, archived.folder, dt.date(2053, 1, 1))
    assert item.category == "summary_sheets" and item.package == archived.package.name
    assert set(item.files) == {
        f"data/summary/{c}/summary.{ext}"
        for c in (CLASS_5, CLASS_6)
        for ext in ("pdf", "xlsx", "csv")
    }  # the personal files are still kept, and the package's description with them
    assert MATH_5 not in json.dumps(item.files)
