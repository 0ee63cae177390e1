"""A school secretary (here the deputy) in a real Chromium: downloads nothing by hand, uploads
the pupils' list saved from Excel, reads the preview with one bad line, fixes the file, reads
the preview again and applies it. Screenshots go to test-artifacts/browser/."""

from __future__ import annotations

from pathlib import Path

from scripts.school_lists import csv_bytes, xlsx_bytes
from server.lists import ListKind
from server.storage.db import connect
from tests.browser.conftest import ARTIFACTS
from tests.browser.test_browser import pytestmark  # noqa: F401
from tests.factories import PASSWORD

GOOD = [
    # a class the school did not have yet: nobody of the existing classes leaves
    ("Петров", "Илья", "11.05.2014", "7", "Андреевич", ""),
    ("Сидорова", "Анна", "02.02.2014", "7", "Олеговна", "112-233-445 95"),
]


def test_secretary_uploads_reads_the_preview_and_applies(browser, base_url, web_config, tmp_path):
    bad_file = tmp_path / "ученики-с-ошибкой.csv"
    bad_file.write_bytes(
        csv_bytes(ListKind.PUPILS, [*GOOD, ("Кузнецов", "Олег", "31.02.2014", "7", "", "")])
    )
    good_file = tmp_path / "ученики.xlsx"
    good_file.write_bytes(xlsx_bytes(ListKind.PUPILS, GOOD))

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{base_url}/login")
    page.fill("input[name=login]", "deputy")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    page.click("text=Списки школы")
    page.wait_for_load_state()
    assert page.locator("a[href='/school/templates/pupils.xlsx']").count() == 1
    page.screenshot(path=str(ARTIFACTS / "school-lists.png"), full_page=True)

    _upload(page, bad_file)
    assert "Файл не принят" in page.locator("#outcome").inner_text()
    assert "«31.02.2014» такой даты нет" in page.locator("#errors + table").inner_text()
    assert page.locator("text=Применить").count() == 0
    page.screenshot(path=str(ARTIFACTS / "school-lists-refused.png"), full_page=True)

    page.click("text=Загрузить другой файл")
    page.wait_for_load_state()
    _upload(page, good_file)
    assert "Пока ничего не записано" in page.locator("#outcome").inner_text()
    assert "Добавится: 2" in page.content()
    assert "Сидорова Анна Олеговна, 02.02.2014 — 7" in page.content()
    assert "Выбывает / снимается: 0" in page.content()
    page.screenshot(path=str(ARTIFACTS / "school-lists-preview.png"), full_page=True)
    assert _pupils(web_config) == 0

    page.click("button:has-text('Применить')")
    page.wait_for_load_state()
    assert "Записано." in page.locator("#outcome").inner_text()
    page.screenshot(path=str(ARTIFACTS / "school-lists-applied.png"), full_page=True)
    assert _pupils(web_config) == 2


def _upload(page, path: Path) -> None:
    page.select_option("select[name=kind]", "pupils")
    page.set_input_files("input[name=file]", str(path))
    page.click("button:has-text('Показать, что изменится')")
    page.wait_for_load_state()


def _pupils(web_config) -> int:
    conn = connect(web_config.database)
    try:
        return conn.execute(
            "SELECT count(*) FROM students WHERE last_name IN ('Петров', 'Сидорова')"
        ).fetchone()[0]
    finally:
        conn.close()
