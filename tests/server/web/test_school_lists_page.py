"""/school: a secretary downloads a template, uploads the school's list, reads the preview
(nothing written yet), applies it in one go; a wrong file shows every bad line and writes
nothing; someone else's or a forged draft, and a flood of a file, change nothing."""

from __future__ import annotations

import io

import openpyxl

from scripts.school_lists import csv_bytes, xlsx_bytes
from server.lists import ListKind
from server.lists.drafts import MAX_FILE_BYTES
from server.storage.db import connect
from tests.server.web.conftest import csrf_of

PUPILS = [
    ("Петров", "Илья", "11.05.2015", "5", "Андреевич", ""),
    ("Сидорова", "Анна", "02.02.2014", "6", "", "112-233-445 95"),
]


def _count(web_config, table: str) -> int:
    conn = connect(web_config.database)
    try:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        conn.close()


def _upload(client, kind: str, name: str, body: bytes, on: str = ""):
    csrf = csrf_of(client.get("/school").text)
    return client.post(
        "/school/preview",
        data={"csrf": csrf, "kind": kind, "on": on},
        files={"file": (name, body)},
    )


def test_template_downloads_have_russian_headers_and_an_example(browser_as):
    client = browser_as("director")
    page = client.get("/school").text
    assert 'href="/school/templates/pupils.xlsx"' in page
    response = client.get("/school/templates/pupils.xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("Фамилия", "Имя", "Дата рождения", "Класс") and len(rows) == 2
    csv_text = client.get("/school/templates/load.csv").content.decode("utf-8-sig")
    assert csv_text.splitlines()[0] == "Учитель;Класс;Предмет;Группа;Часов в неделю"
    assert client.get("/school/templates/nothing.csv").status_code == 404


def test_upload_shows_the_preview_and_writes_only_on_apply(browser_as, web_config):
    client = browser_as("deputy")
    before = _count(web_config, "students")
    response = _upload(client, "pupils", "ученики.xlsx", xlsx_bytes(ListKind.PUPILS, PUPILS))
    assert response.status_code == 200
    assert (
        "Добавится: 2" in response.text and "Петров Илья Андреевич, 11.05.2015 — 5" in response.text
    )
    assert "Пока ничего не записано" in response.text
    assert _count(web_config, "students") == before
    applied = client.post(
        "/school/apply",
        data={"csrf": csrf_of(response.text), "draft": _draft(response.text)},
    )
    assert applied.status_code == 200 and "Записано." in applied.text
    assert _count(web_config, "students") == before + 2
    # the same draft cannot be applied twice, and the same file again changes nothing
    again = client.post(
        "/school/apply", data={"csrf": csrf_of(applied.text), "draft": _draft(response.text)}
    )
    assert again.status_code == 400
    same = _upload(client, "pupils", "ученики.csv", csv_bytes(ListKind.PUPILS, PUPILS))
    assert "Изменений нет" in same.text and "Применить" not in same.text


def _draft(html: str) -> str:
    import re

    return re.search(r'name="draft" value="([^"]+)"', html).group(1)


def test_a_wrong_file_shows_every_bad_line_and_offers_no_apply(browser_as, web_config):
    client = browser_as("admin")
    before = _count(web_config, "students")
    bad = [PUPILS[0], ("Кузнецов", "Олег", "2015-01-01", "5", "", ""), PUPILS[0]]
    response = _upload(client, "pupils", "ученики.csv", csv_bytes(ListKind.PUPILS, bad))
    assert "Файл не принят" in response.text and "Применить" not in response.text
    assert "дата рождения «2015-01-01» не в формате ДД.ММ.ГГГГ." in response.text
    assert '<td class="num">3</td>' in response.text and '<td class="num">4</td>' in response.text
    assert _count(web_config, "list_drafts") == 0
    assert _count(web_config, "students") == before


def test_someone_elses_draft_cannot_be_applied(browser_as, web_config):
    deputy = browser_as("deputy")
    before = _count(web_config, "students")
    shown = _upload(deputy, "pupils", "ученики.csv", csv_bytes(ListKind.PUPILS, PUPILS))
    director = browser_as("director")
    response = director.post(
        "/school/apply",
        data={"csrf": csrf_of(director.get("/school").text), "draft": _draft(shown.text)},
    )
    assert response.status_code == 400
    assert _count(web_config, "students") == before


def test_a_flood_of_a_file_is_refused_before_it_is_read(browser_as, web_config):
    client = browser_as("director")
    response = _upload(client, "pupils", "big.csv", b"x" * (MAX_FILE_BYTES + 1))
    assert response.status_code in (400, 413)
    many = csv_bytes(ListKind.PUPILS, [PUPILS[0]] * 20_001)
    response = _upload(client, "pupils", "many.csv", many)
    assert "больше 20\u00a0000 строк с данными" in response.text
    assert _count(web_config, "list_drafts") == 0


def test_a_forged_kind_is_refused_in_russian(browser_as):
    response = _upload(browser_as("director"), "../etc", "x.csv", b"a;b\n")
    assert response.status_code == 400 and "Выберите, какой это список." in response.text
