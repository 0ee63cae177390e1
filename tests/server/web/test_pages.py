"""What people do on the pages: the diary, acknowledgement, consent, class view, downloads."""

from __future__ import annotations

import csv
import io
import re

from openpyxl import load_workbook
from pypdf import PdfReader

from server.storage import web as web_storage
from server.storage.db import connect, transaction
from tests.factories import CLASS_5
from tests.server.web.conftest import csrf_of, log_in


def pdf_text(data: bytes) -> str:
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)


def test_parent_sees_the_week_with_topics_homework_marks_and_absences(browser_as):
    page = browser_as("parent").get("/diary/s-1?week=2026-09-14").text
    assert "Дневник: Алексеев Артём" in page
    assert "Сложение" in page and "№ 5" in page and "Орфография" in page and "упр. 7" in page
    # the mark and absence come right after the subject: a phone shows them first
    lesson = re.search(r"<tr><td class=\"lead\">Математика</td>(.*?)</tr>", page).group(1)
    assert re.match(r'<td class="num marks" data-label="Отметка">4</td>', lesson), lesson
    assert "Сложение" in lesson and "№ 5" in lesson
    assert "Отметки за периоды" in page and "<svg" in page


def test_parent_acknowledges_the_week_with_a_timestamp(browser_as, web_config):
    client = browser_as("parent")
    page = client.get("/diary/s-1?week=2026-09-07")
    response = client.post(
        "/diary/s-1/read?week=2026-09-07", data={"csrf": csrf_of(page.text)}, follow_redirects=True
    )
    assert "Вы ознакомились с дневником за эту неделю" in response.text
    conn = connect(web_config.database)
    rows = conn.execute("SELECT parent_id, student_id, week FROM acknowledgements").fetchall()
    conn.close()
    assert [tuple(r) for r in rows] == [("p-1", "s-1", "2026-09-07")]


def test_parent_without_recorded_consent_sees_why(browser_as, web_config):
    conn = connect(web_config.database)
    with transaction(conn):
        conn.execute("DELETE FROM child_consents")
    conn.close()
    response = browser_as("parent").get("/diary/s-1")
    assert response.status_code == 403
    assert "согласие" in response.text and "152-ФЗ" in response.text


def test_parent_with_two_children_switches_between_them(browser_as, web_config):
    conn = connect(web_config.database)
    with transaction(conn):
        conn.execute("INSERT INTO parent_links VALUES ('p-1', 's-5')")
        web_storage.set_consent(conn, "p-1", "given", "rus", 0.0, "", student_id="s-5")
    conn.close()
    client = browser_as("parent")
    assert "Чей дневник открыть?" in client.get("/diary").text
    page = client.get("/diary/s-1?week=2026-09-07").text
    assert 'href="/diary/s-5?week=2026-09-07"' in page
    assert "Дроби" in client.get("/diary/s-5?week=2026-09-07").text


def test_class_teacher_sees_every_subject_and_no_edit_control(browser_as):
    page = browser_as("math").get(f"/classes/{CLASS_5}?period=2026-2027-q1").text
    assert "<h2>Математика</h2>" in page and "<h2>Русский язык</h2>" in page
    assert "Только просмотр" in page
    forms = re.findall(r'<form method="post" action="([^"]+)"', page)
    assert all(a.endswith(("/consent", "/read", "/logout")) for a in forms), forms


def test_class_teacher_records_a_refusal_and_the_parent_loses_access(browser_as):
    teacher = browser_as("math")
    page = teacher.get(f"/classes/{CLASS_5}").text
    teacher.post(
        f"/classes/{CLASS_5}/consent",
        data={"csrf": csrf_of(page), "parent_id": "p-1", "student_id": "s-1", "status": "refused"},
    )
    assert "отказ" in teacher.get(f"/classes/{CLASS_5}").text
    assert browser_as("parent").get("/diary/s-1").status_code == 403


def test_diary_extract_pdf_has_the_pupils_lessons_and_is_audited(browser_as, web_config):
    response = browser_as("math").get(f"/classes/{CLASS_5}/extract/s-1?period=2026-2027-q1")
    assert response.headers["content-type"] == "application/pdf"
    text = pdf_text(response.content)
    assert "Выписка из электронного дневника" in text and "Алексеев Артём" in text
    assert "Натуральные числа" in text and "Орфография" in text
    conn = connect(web_config.database)
    rows = conn.execute("SELECT login, action, student_id FROM audit_log").fetchall()
    conn.close()
    assert ("math", "diary_extract", "s-1") in [tuple(r) for r in rows]


def test_deputy_downloads_a_report_as_pdf_xlsx_and_csv(browser_as):
    client = browser_as("deputy")
    query = "/reports/unsatisfactory?date_from=2026-09-01&date_to=2026-10-24&class_id=" + CLASS_5
    assert "Неудовлетворительные отметки" in client.get(query).text
    text = pdf_text(client.get(query + "&format=pdf").content)
    assert "Неудовлетворительные отметки и темы по ученикам" in text and "Орфография" in text
    rows = list(
        csv.reader(
            io.StringIO(client.get(query + "&format=csv").content.decode("utf-8-sig")),
            delimiter=";",
        )
    )
    assert rows[1] == ["5", "Алексеев Артём", "15.09.2026", "Русский язык", "Орфография", "2"]
    book = load_workbook(io.BytesIO(client.get(query + "&format=xlsx").content))
    assert book.active.max_row == 2 + 3  # title, header, three unsatisfactory marks


def test_summary_sheet_pdf_from_the_report_page(browser_as):
    data = browser_as("deputy").get(f"/reports/summary?class_id={CLASS_5}&format=pdf").content
    assert "Сводная ведомость учёта успеваемости" in pdf_text(data)


def test_bad_report_date_is_a_russian_error_and_changes_nothing(browser_as):
    response = browser_as("deputy").get("/reports/results?date_from=31.12.2026")
    assert response.status_code == 400 and "ГГГГ-ММ-ДД" in response.text


def test_district_sees_figures_without_names(browser_as):
    page = browser_as("director").get("/district").text
    assert "Тестовая СОШ" in page
    assert "Алексеев" not in page and "Борисова" not in page


def test_wrong_password_five_times_locks_the_account(browser_as):
    client = browser_as(None)
    for _ in range(5):
        assert log_in(client, "deputy", "wrong-password").status_code == 401
    response = log_in(client, "deputy")
    assert response.status_code == 429 and "Слишком много" in response.text


def test_logout_ends_the_session(browser_as):
    client = browser_as("parent")
    page = client.get("/").text
    client.post("/logout", data={"csrf": csrf_of(page)})
    assert client.get("/diary/s-1", follow_redirects=False).status_code == 303


def test_change_password_then_log_in_with_the_new_one(browser_as):
    client = browser_as("pupil")
    page = client.get("/password").text
    response = client.post(
        "/password",
        data={
            "csrf": csrf_of(page),
            "old": "password-123",
            "new": "new-pass-456",
            "again": "new-pass-456",
        },
    )
    assert "Пароль изменён" in response.text
    assert log_in(browser_as(None), "pupil", "new-pass-456").status_code == 303
    assert log_in(browser_as(None), "pupil", "password-123").status_code == 401
