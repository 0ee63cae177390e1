"""The archive package of a closed year: what is in it, and that its PDFs say the right things."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import re

import bagit
import pytest
from pypdf import PdfReader

from server.archive import keys
from server.archive.package import build_package
from server.archive.readback import compare, open_package
from server.archive.verify import package_hash, verify_folder
from server.storage import journals as journal_storage
from server.storage.db import connect
from shared.hlc import parse_stamp
from shared.journal import JournalDoc
from tests.archive.conftest import PRINTED_AT
from tests.factories import CLASS_5, CLASS_6, MATH_5, RUSSIAN_5

PUPILS_5 = ("Алексеев Артём", "Борисова Вера", "Васильев Глеб", "Григорьева Дарья")


def pdf_text(path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


def test_the_package_is_a_valid_signed_bag(archived_once):
    bag = bagit.Bag(str(archived_once.bag))
    bag.validate()  # the reference implementation agrees
    assert bag.info["Zhurnal-Package-Kind"] == "year"
    assert bag.info["Zhurnal-Chain-Sequence"] == "1"
    assert bag.info["Zhurnal-Previous-Sha256"] == "none"
    assert bag.info["Zhurnal-Closed-On"] == "2027-06-20"
    public = keys.load_public(archived_once.public_key)
    assert bag.info["Zhurnal-Key-Fingerprint"] == keys.fingerprint(public)
    assert archived_once.package.sha256 == package_hash(archived_once.bag)
    report = verify_folder(archived_once.folder, [public])
    assert report.ok, report
    assert report.packages[0].files_checked == len(bag.entries)


def test_contents_describe_every_payload_file_with_its_retention_category(archived_once):
    data = archived_once.bag / "data"
    listing = json.loads((data / "contents.json").read_text(encoding="utf-8"))
    listed = {f["path"]: f for f in listing["files"]}
    on_disk = {p.relative_to(data).as_posix() for p in data.rglob("*") if p.is_file()} - {
        "contents.json"
    }
    assert set(listed) == on_disk
    assert listed["journals/2026-2027-5/math/journal.pdf"]["category"] == "journals"
    assert listed["summary/2026-2027-5/summary.xlsx"]["category"] == "summary_sheets"
    assert listed["personal/s-1/year-marks.pdf"]["category"] == "personal_files"
    for path in (
        f"summary/{c}/summary.{ext}" for c in (CLASS_5, CLASS_6) for ext in ["pdf", "xlsx", "csv"]
    ):
        assert path in listed
    assert {f"personal/s-{i}/year-marks.csv" for i in range(1, 7)} <= set(listed)


def test_event_history_has_every_event_with_author_and_times(archived_once):
    conn = connect(archived_once.config.database)
    try:
        stored = {
            r["id"]: dict(r)
            for r in conn.execute("SELECT * FROM events WHERE journal_id = ?", (RUSSIAN_5,))
        }
        state, _ = journal_storage.load_document(conn, RUSSIAN_5)
    finally:
        conn.close()
    data = archived_once.bag / "data"
    folder = data / "journals" / CLASS_5 / "russian"
    history = json.loads((folder / "events.json").read_text(encoding="utf-8"))
    assert history["format"] == "zhurnal-events/2"
    assert history["journal_id"] == RUSSIAN_5 and history["count"] == len(stored)
    by_id = {e["event"]["id"]: e for e in history["events"]}
    assert set(by_id) == set(stored)
    for event_id, row in stored.items():
        entry = by_id[event_id]
        assert entry["event"] == json.loads(row["body"])  # author, device, hlc, all fields
        assert entry.get("status", "current") == row["status"]
        wall = dt.datetime.fromtimestamp(parse_stamp(row["hlc"])[0] / 1000, dt.UTC)
        assert dt.datetime.fromisoformat(entry["entered_at"]) == wall
        assert dt.datetime.fromisoformat(entry["received_at"]).timestamp() == pytest.approx(
            row["received_at"], abs=0.001
        )
    # authors by id, named once for the package in people.json
    people = json.loads((data / "people.json").read_text(encoding="utf-8"))["people"]
    assert {people[e["event"]["author"]] for e in history["events"]} == {"Соколов Иван Петрович"}
    assert "author_name" not in history["events"][0]
    # empty fields are left out of saved events (issue 16)
    corrected = [
        e for e in history["events"] if e["event"].get("reason") == "Ошибка при выставлении"
    ]
    assert len(corrected) == 1 and "status" not in corrected[0]  # current, left out
    assert by_id[corrected[0]["event"]["supersedes"][0]]["status"] == "superseded"
    # the CRDT document is the server's, gzip-compressed, readable by any Yjs client
    archived_doc = JournalDoc(gzip.decompress((folder / "document.yjs.gz").read_bytes()))
    assert archived_doc.raw_events() == JournalDoc(state).raw_events()


def test_journal_pdf_has_headings_every_pupil_marks_attendance_and_signatures(archived_once):
    text = pdf_text(archived_once.bag / "data" / "journals" / CLASS_5 / "math" / "journal.pdf")
    for heading in (
        "Классный журнал",
        "Предмет: Математика",
        "Успеваемость и посещаемость: Сентябрь 2026",
        "Проведённые уроки: темы и домашние задания",
        "Отметки за учебные периоды",
    ):
        assert heading in text
    # the month grid: lessons of 07, 14, 21, 28 September, hand-counted in tests/reports_school.py
    assert re.search(r"1 Алексеев А\. 5 4 5\n", text)
    assert re.search(r"2 Борисова В\. 4 3 3\n", text)
    assert re.search(r"3 Васильев Г\. н 2 2\n", text)
    assert re.search(r"4 Григорьева Д\. б 4 5\n", text)
    assert "07.09.2026 Натуральные числа № 1, 2" in text
    assert "21.09.2026 Контрольная работа № 1 контрольная работа" in text
    assert "1 Алексеев Артём 5 5" in text  # first quarter and year
    assert "4 Григорьева Дарья 4" in text
    assert "Учитель: " in text and "Петрова А.С." in text
    assert "Директор: " in text and "Громов О." in text


def test_summary_sheet_and_personal_file_pdfs(archived_once):
    data = archived_once.bag / "data"
    sheet = pdf_text(data / "summary" / CLASS_5 / "summary.pdf")
    assert "Сводная ведомость учёта успеваемости" in sheet
    for number, (pupil, marks) in enumerate(
        zip(PUPILS_5, ("5 3", "3 4", "2 4", "4 4"), strict=True), start=1
    ):
        assert f"{number} {pupil} {marks}" in sheet  # 1 четверть: математика, русский
    # signed by the director and sealed on paper (000 §7.3)
    assert "Директор:" in sheet and "Громов О." in sheet
    assert "М. П." in sheet and "Дата:" in sheet
    assert "Распечатано из электронного журнала 21.06.2027" in sheet
    personal = pdf_text(data / "personal" / "s-1" / "year-marks.pdf")
    assert "Отметки за учебный год для личного дела обучающегося" in personal
    assert "Алексеев Артём; 5 класс" in personal
    assert "Математика 5 5" in personal and "Русский язык 3" in personal
    csv = (data / "summary" / CLASS_6 / "summary.csv").read_text(encoding="utf-8-sig")
    assert "1;Дмитриев Егор;Математика;5;5" in csv


def test_a_year_that_is_not_closed_is_not_archived(archived, tmp_path):
    from server.errors import BadRequest

    conn = connect(archived.config.database)
    try:
        conn.execute("DELETE FROM year_closures")
        with pytest.raises(BadRequest) as refused:
            build_package(
                conn,
                out_dir=tmp_path / "other",
                key=keys.load_private(archived.private_key, password=b""),
                login="records",
            )
    finally:
        conn.close()
    assert "не закрыт" in refused.value.message_ru
    assert not (tmp_path / "other").exists() or not any((tmp_path / "other").iterdir())


def test_a_teacher_cannot_build_the_archive(archived, tmp_path):
    from server.errors import AccessDenied

    conn = connect(archived.config.database)
    try:
        with pytest.raises(AccessDenied):
            build_package(
                conn,
                out_dir=tmp_path / "other",
                key=keys.load_private(archived.private_key, password=b""),
                login="math",
            )
    finally:
        conn.close()


def test_single_journal_package_on_demand_stays_out_of_the_year_chain(archived):
    conn = connect(archived.config.database)
    try:
        result = build_package(
            conn,
            out_dir=archived.folder,
            key=keys.load_private(archived.private_key, password=b""),
            login="deputy",
            journal_id=MATH_5,
            now=PRINTED_AT,
        )
    finally:
        conn.close()
    bag = bagit.Bag(str(result.path))
    assert bag.info["Zhurnal-Package-Kind"] == "journal"
    assert bag.info["Zhurnal-Journal-Id"] == MATH_5
    assert result.sequence is None
    files = {
        p.relative_to(result.path / "data").as_posix() for p in (result.path / "data").rglob("*.*")
    }
    assert "journals/2026-2027-5/math/journal.pdf" in files
    assert "summary/2026-2027-5/summary.csv" in files
    assert not any(f.startswith(("personal/", "journals/2026-2027-6")) for f in files)
    report = verify_folder(archived.folder, [keys.load_public(archived.public_key)])
    assert report.ok, report
    # its summary sheet carries this journal's columns only, and reads back the same
    csv = (result.path / "data" / "summary" / CLASS_5 / "summary.csv").read_text("utf-8-sig")
    assert "1;Алексеев Артём;Математика;5;5" in csv and "Русский язык" not in csv
    read = open_package(result.path)
    try:
        comparison = compare(read)
    finally:
        read.close()
    assert comparison.ok and comparison.different == []
    assert sorted(comparison.same) == [
        "journals/2026-2027-5/math/journal.pdf",
        "summary/2026-2027-5/summary.csv",
        "summary/2026-2027-5/summary.pdf",
        "summary/2026-2027-5/summary.xlsx",
    ]
