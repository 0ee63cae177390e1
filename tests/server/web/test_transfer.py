"""The transfer extract (001 §4.7): its figures are the journal's, the PDF is ready to sign
and stamp, the file is signed with the school's key and `journal-server transfer-show` reads
it back; a changed file fails the check."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from server import cli
from server.archive import keys
from server.storage import directory as directory_storage
from server.storage.db import connect
from server.web.class_view import subject_grids
from shared import transfer
from tests.factories import CLASS_5, CLASS_6
from tests.server.web.test_pages import pdf_text

S1_URL = f"/classes/{CLASS_5}/transfer/s-1"


def test_extract_figures_equal_the_journals(browser_as, web_config):
    response = browser_as("math").get(S1_URL + "?format=json")
    assert response.status_code == 200
    _, extract = transfer.decode_file(response.content)
    got = sorted((m.subject, m.date, m.value) for m in extract.marks)
    # tests/reports_school.py, counted by hand: Алексеев's marks of the autumn
    assert got == [
        ("Математика", dt.date(2026, 9, 7), 5),
        ("Математика", dt.date(2026, 9, 14), 4),
        ("Математика", dt.date(2026, 9, 21), 5),
        ("Русский язык", dt.date(2026, 9, 8), 3),
        ("Русский язык", dt.date(2026, 9, 15), 2),
    ]
    # and the same as the class teacher's grid shows them, subject by subject
    conn = connect(web_config.database)
    directory = directory_storage.load_full(conn)
    grids = subject_grids(conn, directory, CLASS_5, directory.year.starts, directory.year.ends)
    conn.close()
    for grid in grids:
        row = next(cells for name, cells, _ in grid.rows if name.startswith("Алексеев"))
        from_grid = sorted(int(c) for cell in row for c in cell.split() if c.isdigit())
        assert from_grid == sorted(v for s, _, v in got if s == grid.subject)
    attestation = [(a.subject, a.period, a.value) for a in extract.attestation]
    assert attestation == [
        ("Математика", "1 четверть", 5),
        ("Математика", "Год", 5),
        ("Русский язык", "1 четверть", 3),
    ]
    assert extract.pupil.last_name == "Алексеев" and extract.class_name == "5"
    assert extract.school == "МБОУ «Тестовая СОШ»" and extract.year == "2026/2027"


def test_extract_pdf_is_ready_for_the_directors_signature_and_the_seal(browser_as):
    response = browser_as("deputy").get(S1_URL + "?format=pdf")
    assert response.headers["content-type"] == "application/pdf"
    text = pdf_text(response.content)
    assert "МБОУ «Тестовая СОШ»" in text
    assert "Выписка текущих отметок и результатов промежуточной аттестации" in text
    assert "Алексеев Артём" in text and "Класс: 5" in text
    assert "07.09 — 5" in text and "21.09 — 5 (контрольная работа)" in text
    assert "Результаты промежуточной аттестации" in text and "1 четверть" in text
    assert "Директор" in text and "Громов О." in text and "М.П." in text


def test_extract_page_shows_the_figures_and_logs_the_view(browser_as, web_config):
    page = browser_as("math").get(S1_URL).text
    assert "Выписка при переводе в другую школу" in page
    assert "14.09 — 4" in page and "без подписи" in page
    conn = connect(web_config.database)
    rows = conn.execute("SELECT login, action, student_id FROM audit_log").fetchall()
    conn.close()
    assert ("math", "transfer_extract", "s-1") in [tuple(r) for r in rows]


def test_extract_of_a_pupil_of_another_class_is_refused(browser_as):
    assert browser_as("rus").get(S1_URL).status_code == 403
    assert browser_as("math").get(f"/classes/{CLASS_5}/transfer/s-5").status_code == 404
    assert browser_as("deputy").get(S1_URL + "?format=docx").status_code == 400


@pytest.fixture
def signed(browser_as, web_config, tmp_path):
    key = keys.generate(web_config.database.with_name("archive-key.pem"), password=b"")
    pub = web_config.database.with_name("archive-key.pem.pub")
    response = browser_as("rus").get(f"/classes/{CLASS_6}/transfer/s-5?format=json")
    path = tmp_path / "transfer.json"
    path.write_bytes(response.content)
    return path, pub, key


def test_signed_file_is_read_back_by_journal_server(signed, capsys):
    path, pub, key = signed
    envelope = json.loads(path.read_text())
    assert envelope["format"] == "zhurnal-transfer-extract" and envelope["version"] == 1
    assert envelope["key_fingerprint"] == keys.fingerprint(key.public_key())
    assert cli.main(["transfer-show", str(path), "--public-key", str(pub)]) == 0
    out = capsys.readouterr().out
    assert "Ученик: Дмитриев Егор" in out and "Класс: 6" in out
    assert "Математика: 07.09 — 5" in out
    assert "Математика, Год: 5" in out
    assert "Подпись верна." in out


def test_changed_file_fails_the_signature_check(signed, capsys):
    path, pub, _ = signed
    path.write_bytes(path.read_bytes().replace(b'"value":5', b'"value":4', 1))
    assert cli.main(["transfer-show", str(path), "--public-key", str(pub)]) == 2
    assert "ПОДПИСЬ НЕВЕРНА" in capsys.readouterr().out


def test_a_file_that_is_not_an_extract_is_refused_in_russian(tmp_path, capsys):
    path = tmp_path / "other.json"
    path.write_text('{"format": "something-else", "version": 1}')
    assert cli.main(["transfer-show", str(path)]) == 1
    assert "Это не файл выписки при переводе" in capsys.readouterr().err
