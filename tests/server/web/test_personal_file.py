"""The personal file: the year marks land there when the year is closed, stay readable after
the journals are destroyed, and print one page per year for the class teacher to sign."""

from __future__ import annotations

import datetime as dt

from server.archive.closing import close_year
from server.storage.db import connect, transaction
from tests.factories import YEAR
from tests.server.web.test_pages import pdf_text


def personal_rows(conn) -> list[tuple]:
    rows = conn.execute(
        "SELECT student_id, year_name, class_name, subject_name, value FROM personal_file "
        "ORDER BY student_id, subject_name"
    ).fetchall()
    return [tuple(r) for r in rows]


def test_closing_the_year_writes_the_year_marks_into_the_personal_files(web_config):
    conn = connect(web_config.database)
    with transaction(conn):
        conn.execute("DELETE FROM personal_file")  # the fixture pre-fills it; start from none
    close_year(conn, login="records", year_id=YEAR, on=dt.date(2027, 6, 20))
    expected = conn.execute(
        "SELECT p.student_id, p.value, j.subject_id FROM period_marks p "
        "JOIN journals j ON j.id = p.journal_id WHERE p.period_id = ? ORDER BY p.student_id",
        (f"{YEAR}-y",),
    ).fetchall()
    assert [(r[0], r[1]) for r in expected] == [("s-1", 5), ("s-5", 5), ("s-6", 4)]
    assert personal_rows(conn) == [
        ("s-1", "2026/2027", "5", "Математика", 5),
        ("s-5", "2026/2027", "6", "Математика", 5),
        ("s-6", "2026/2027", "6", "Математика", 4),
    ]
    conn.close()


def test_personal_file_reads_the_same_after_the_journals_are_destroyed(browser_as, web_config):
    client = browser_as("records")
    before = client.get("/personal-files/s-1").text
    assert "Личное дело: Алексеев Артём" in before
    assert '<td>Математика</td><td class="num">5</td>' in before
    conn = connect(web_config.database)
    with transaction(conn):
        for table in ("marks", "attendance", "lessons", "period_marks", "events"):
            conn.execute(f"DELETE FROM {table}")
        conn.execute("DELETE FROM journal_updates")
        conn.execute("DELETE FROM journals")
    conn.close()
    after = client.get("/personal-files/s-1").text
    assert '<td>Математика</td><td class="num">5</td>' in after
    assert "2026/2027" in after


def test_personal_file_views_are_logged_and_others_refused(browser_as, web_config):
    assert browser_as("math").get("/personal-files/s-1").status_code == 200
    assert browser_as("rus").get("/personal-files/s-1").status_code == 403  # not her class
    assert browser_as("parent").get("/personal-files/s-1").status_code == 403
    conn = connect(web_config.database)
    rows = conn.execute("SELECT login, action, student_id, outcome FROM audit_log").fetchall()
    conn.close()
    assert ("math", "personal_file", "s-1", "allowed") in [tuple(r) for r in rows]
    assert ("rus", "personal_file", "s-1", "refused") in [tuple(r) for r in rows]


def test_class_teacher_lists_only_the_pupils_of_her_class(browser_as):
    page = browser_as("rus").get("/personal-files").text
    assert "Дмитриев Егор" in page and "Ершова Жанна" in page
    assert "Алексеев Артём" not in page


def test_year_page_prints_with_the_class_teachers_signature_line(browser_as):
    response = browser_as("director").get(f"/personal-files/s-5/{YEAR}/pdf")
    assert response.headers["content-type"] == "application/pdf"
    text = pdf_text(response.content)
    assert "Личное дело обучающегося: годовые отметки" in text
    assert "Дмитриев Егор" in text and "2026/2027" in text and "Класс: 6" in text
    assert "Математика" in text and "Годовая отметка" in text
    assert "Классный руководитель" in text and "Соколов И. П." in text


def test_a_year_without_marks_is_not_printed(browser_as):
    response = browser_as("director").get("/personal-files/s-2/2025-2026/pdf")
    assert response.status_code == 404
    assert "нет отметок за этот учебный год" in response.text
