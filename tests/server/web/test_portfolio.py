"""The portfolio on the pages: the family's view and its PDF, documents, the class overview,
the school's list; a parent never reaches another child's achievements or documents."""

from __future__ import annotations

import csv
import io
import time

from openpyxl import load_workbook

from server.storage import web as web_storage
from server.storage.db import connect, transaction
from tests.factories import CLASS_5
from tests.server.web.portfolio_kit import CERTIFICATE, DIPLOMA
from tests.server.web.test_pages import pdf_text


def audit_rows(config) -> list[tuple]:
    conn = connect(config.database)
    rows = conn.execute(
        "SELECT login, action, student_id, outcome FROM audit_log ORDER BY id"
    ).fetchall()
    conn.close()
    return [tuple(r) for r in rows]


def test_parent_sees_own_childs_achievements_in_russian_without_scores(browser_as):
    page = browser_as("parent").get("/portfolio/s-1").text
    assert "Портфолио: Алексеев Артём, 5 класс" in page
    assert "Региональный этап ВсОШ по математике" in page
    assert "региональный" in page and "победитель" in page
    assert "серебряный знак ГТО" in page and "Нормы ГТО, III ступень" in page
    assert "Диплом победителя.pdf" in page
    assert "Живая классика" not in page  # s-2's
    assert "балл" not in page.replace("не оценивается баллами", "")


def test_parent_with_one_child_is_sent_to_the_portfolio(browser_as):
    response = browser_as("parent").get("/portfolio", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/portfolio/s-1"


def test_parent_asking_for_another_childs_portfolio_is_refused_and_logged(browser_as, web_config):
    response = browser_as("parent").get("/portfolio/s-2")
    assert response.status_code == 403
    assert "только данные своего ребёнка" in response.text
    assert "Живая классика" not in response.text
    assert audit_rows(web_config) == [("parent", "portfolio", "s-2", "refused")]


def test_parent_asking_for_another_childs_document_by_id_is_refused_and_logged(
    browser_as, web_config
):
    client = browser_as("parent")
    for path in ("/portfolio/document/a-3", "/portfolio/s-2/pdf"):
        response = client.get(path)
        assert response.status_code == 403, path
        assert CERTIFICATE not in response.content
    assert audit_rows(web_config) == [
        ("parent", "portfolio_document", "s-2", "refused"),
        ("parent", "portfolio_pdf", "s-2", "refused"),
    ]


def test_pupil_cannot_open_a_classmates_document(browser_as):
    assert browser_as("pupil").get("/portfolio/document/a-3").status_code == 403


def test_document_downloads_with_its_type_and_name(browser_as):
    response = browser_as("parent").get("/portfolio/document/a-1")
    assert response.status_code == 200
    assert response.content == DIPLOMA
    assert response.headers["content-type"] == "application/pdf"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''%D0%94%D0%B8%D0%BF%D0%BB%D0%BE%D0%BC" in disposition
    assert response.headers["x-content-type-options"] == "nosniff"


def test_class_teacher_gets_an_image_document_of_a_pupil_and_the_view_is_logged(
    browser_as, web_config
):
    response = browser_as("math").get("/portfolio/document/a-3")
    assert response.status_code == 200
    assert response.content == CERTIFICATE
    assert response.headers["content-type"] == "image/png"
    assert ("math", "portfolio_document", "s-2", "allowed") in audit_rows(web_config)


def test_unfinished_upload_is_not_served(browser_as):
    response = browser_as("math").get("/portfolio/document/a-4")
    assert response.status_code == 404
    assert "ещё не загружен" in response.text


def test_unknown_achievement_is_not_found(browser_as):
    assert browser_as("deputy").get("/portfolio/document/nope").status_code == 404


def test_class_teacher_of_another_class_cannot_get_a_document(browser_as, web_config):
    assert browser_as("rus").get("/portfolio/document/a-1").status_code == 403
    assert ("rus", "portfolio_document", "s-1", "refused") in audit_rows(web_config)


def test_parent_without_consent_sees_why(browser_as, web_config):
    conn = connect(web_config.database)
    with transaction(conn):
        web_storage.set_consent(conn, "p-1", "refused", "math", time.time(), "")
    conn.close()
    client = browser_as("parent")
    for path in ("/portfolio", "/portfolio/s-1"):
        response = client.get(path)
        assert response.status_code == 403
        assert "Портфолио пока недоступно" in response.text
        assert "152-ФЗ" in response.text
        assert "Региональный этап" not in response.text
    assert client.get("/portfolio/document/a-1").status_code == 403


def test_portfolio_pdf_holds_the_achievements_in_russian(browser_as):
    response = browser_as("parent").get("/portfolio/s-1/pdf")
    assert response.headers["content-type"] == "application/pdf"
    text = pdf_text(response.content)
    assert "Портфолио достижений обучающегося" in text
    assert "Алексеев Артём" in text and "МБОУ «Тестовая СОШ»" in text
    assert "Региональный этап ВсОШ по" in text and "победитель" in text
    assert "серебряный знак ГТО" in text
    assert "Живая классика" not in text


def test_class_overview_lists_every_pupil_and_logs_the_view(browser_as, web_config):
    page = browser_as("math").get(f"/classes/{CLASS_5}/portfolio").text
    for name in ("Алексеев Артём", "Борисова Вера", "Васильев Глеб", "Григорьева Дарья"):
        assert name in page
    assert "Живая классика" in page and "Региональный этап ВсОШ" in page
    assert "Первенство школы" not in page  # s-5 is in class 6
    assert ("math", "class_portfolio", None, "allowed") in audit_rows(web_config)


def test_school_list_orders_by_level_and_filters(browser_as):
    client = browser_as("deputy")
    page = client.get("/gifted").text
    titles = ("Региональный этап", "Живая классика", "Нормы ГТО, III ступень", "Первенство школы")
    order = [page.index(t) for t in titles]
    assert order == sorted(order)  # regional; municipal: prize-winner, then GTO badge; school
    assert "<td>Алексеев Артём</td><td>5</td>" in page
    assert "<td>Дмитриев Егор</td><td>6</td>" in page
    municipal = client.get("/gifted?level=municipal").text
    assert "Живая классика" in municipal and "Нормы ГТО" in municipal
    assert "Региональный этап" not in municipal
    winners = client.get("/gifted?result=winner").text
    assert "Региональный этап" in winners and "Живая классика" not in winners
    assert "Отбор: победитель" in winners
    sixth = client.get("/gifted?class_id=2026-2027-6").text
    assert "Первенство школы" in sixth and "Региональный этап" not in sixth


def test_school_list_downloads_without_any_score_column(browser_as):
    client = browser_as("director")
    raw = client.get("/gifted?level=municipal&format=csv").content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(raw), delimiter=";"))
    assert rows[0][:3] == ["Уровень", "Результат", "Ученик"]
    assert not any("балл" in h.lower() or "рейтинг" in h.lower() for h in rows[0])
    assert sorted(r[2] for r in rows[1:]) == ["Алексеев Артём", "Борисова Вера"]
    book = load_workbook(io.BytesIO(client.get("/gifted?format=xlsx").content))
    values = [c for row in book.active.iter_rows(values_only=True) for c in row]
    assert "Региональный этап ВсОШ по математике" in values
    pdf = pdf_text(client.get("/gifted?format=pdf").content)
    assert "Достижения обучающихся" in pdf


def test_school_list_refuses_a_bad_filter_in_russian(browser_as):
    response = browser_as("deputy").get("/gifted?level=galactic")
    assert response.status_code == 400
    assert "Неверное значение «уровень»" in response.text
