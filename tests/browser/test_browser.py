"""Real browser (headless Debian chromium via Playwright) against a real uvicorn server.

Screenshots of every page go to test-artifacts/browser/ (gitignored)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.conftest import ARTIFACTS, CHROMIUM, log_in
from tests.factories import CLASS_5

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="chromium missing: ./scripts/install.sh --dev"),
]


def test_parent_sees_the_diary_acknowledges_and_cannot_open_another_child(browser, base_url):
    page = log_in(browser, base_url, "parent")
    page.goto(f"{base_url}/diary/s-1?week=2026-09-14")
    assert "Дневник: Алексеев Артём" in page.content()
    assert page.locator("text=Сложение").count() == 1
    page.screenshot(path=str(ARTIFACTS / "diary.png"), full_page=True)
    page.click("text=С дневником за неделю ознакомлен(а)")
    page.wait_for_load_state()
    assert "Вы ознакомились с дневником за эту неделю" in page.content()
    page.screenshot(path=str(ARTIFACTS / "diary-acknowledged.png"), full_page=True)
    response = page.goto(f"{base_url}/diary/s-2")
    assert response.status == 403
    assert "только дневник своего ребёнка" in page.content()
    page.screenshot(path=str(ARTIFACTS / "other-child-refused.png"), full_page=True)


def test_class_teacher_finds_no_edit_control(browser, base_url):
    page = log_in(browser, base_url, "math")
    page.goto(f"{base_url}/classes/{CLASS_5}?period=2026-2027-q1")
    assert "Только просмотр" in page.content()
    page.screenshot(path=str(ARTIFACTS / "class-view.png"), full_page=True)
    # the marks grid holds text only: no input, select or button inside any journal table
    grids = page.locator("h2:has-text('Математика') + div table")
    assert grids.count() == 1
    assert grids.locator("input, select, textarea, button").count() == 0
    assert page.locator("[contenteditable]").count() == 0


def test_deputy_downloads_a_report_pdf(browser, base_url):
    from io import BytesIO

    from pypdf import PdfReader

    page = log_in(browser, base_url, "deputy")
    page.goto(f"{base_url}/reports/control?date_from=2026-09-01&date_to=2026-10-24")
    page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
    href = page.locator("#download-pdf").get_attribute("href")
    assert href.endswith("format=pdf")
    response = page.request.get(page.url.split("?")[0] + href)
    assert response.headers["content-type"] == "application/pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(BytesIO(response.body())).pages)
    assert "Результаты контрольных работ" in text and "Контрольная работа № 1" in text
    (ARTIFACTS / "control.pdf").write_bytes(response.body())


def test_parent_opens_the_portfolio_downloads_a_diploma_and_cannot_open_anothers(browser, base_url):
    page = log_in(browser, base_url, "parent")
    page.click("text=Портфолио достижений")  # on the home page, beside «Дневник»
    page.wait_for_load_state()
    assert page.url.endswith("/portfolio/s-1")
    assert "Портфолио: Алексеев Артём" in page.content()
    table = page.locator("#achievements")
    assert table.locator("text=Региональный этап ВсОШ по математике").count() == 1
    assert table.locator("text=победитель").count() == 1
    page.screenshot(path=str(ARTIFACTS / "portfolio.png"), full_page=True)
    with page.expect_download() as caught:
        page.click("text=Диплом победителя.pdf")
    download = caught.value
    assert download.suggested_filename == "Диплом победителя.pdf"
    assert Path(download.path()).read_bytes().startswith(b"%PDF")
    response = page.goto(f"{base_url}/portfolio/document/a-3")  # another child's, by id
    assert response.status == 403
    assert "только данные своего ребёнка" in page.content()
    page.screenshot(path=str(ARTIFACTS / "portfolio-other-child-refused.png"), full_page=True)
