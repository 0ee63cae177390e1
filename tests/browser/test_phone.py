"""The family pages and the class teacher's view on a phone (Chromium at 360×640 and 390×844):
nothing wider than the screen, the lesson's mark in sight without scrolling sideways, and no
serious accessibility violation (axe-core, vendored in tests/browser/vendor/).

Screenshots: test-artifacts/browser/phone-<size>-<page>.png."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.conftest import ARTIFACTS, CHROMIUM, PHONES, log_in
from tests.factories import CLASS_5

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="chromium missing: ./scripts/install.sh --dev"),
]

WEEK = "/diary/s-1?week=2026-09-14"  # Математика on 14.09: «Сложение», mark 4
FAMILY = {
    "diary": WEEK,
    "portfolio": "/portfolio/s-1",
    "home": "/",
    "password": "/password",
}
CLASS_VIEW = {
    "class-view": f"/classes/{CLASS_5}?period=2026-2027-q1",
    "class-portfolio": f"/classes/{CLASS_5}/portfolio",
    "personal-file": "/personal-files/s-1",
}
AXE = Path(__file__).parent / "vendor" / "axe.min.js"

# elements that stick out of the screen, for the failure message (not inside a scroll box)
WIDE = """() => [...document.querySelectorAll('body *')].filter(e => {
  const r = e.getBoundingClientRect();
  return r.right > innerWidth + 0.5 && !e.closest('.scroll');
}).slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' + e.textContent.slice(0, 40))"""


def fits_the_screen(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    inner = page.evaluate("innerWidth")
    assert width <= inner, f"{page.url}: {width} px wide on {inner}: {page.evaluate(WIDE)}"


def in_sight_horizontally(page, locator) -> None:
    assert locator.is_visible()
    box = locator.bounding_box()
    inner = page.evaluate("innerWidth")
    assert box["x"] >= 0 and box["x"] + box["width"] <= inner, (box, inner)


@pytest.mark.parametrize("size", PHONES)
def test_family_pages_fit_a_phone_and_show_the_mark_first(browser, base_url, size):
    for login in ("parent", "pupil"):
        page = log_in(browser, base_url, login, PHONES[size])
        for name, path in FAMILY.items():
            response = page.goto(base_url + path)
            assert response.status == 200, (login, path)
            fits_the_screen(page)
            shot = ARTIFACTS / f"phone-{size}-{login}-{name}.png"
            page.screenshot(path=str(shot), full_page=True)
        page.goto(base_url + WEEK)
        card = page.locator("table.lessons tr", has=page.locator("td.lead", has_text="Математика"))
        assert card.count() == 1
        mark = card.locator("td.marks")
        assert mark.inner_text() == "4"
        in_sight_horizontally(page, mark)
        in_sight_horizontally(page, card.locator("td", has_text="Сложение"))
        # the mark sits above the topic in the card: what a parent opens the diary for comes first
        topic = card.locator("td", has_text="Сложение")
        assert mark.bounding_box()["y"] < topic.bounding_box()["y"]
        # the year: a legend and the marks as text, nothing drawn wider than the screen
        assert page.locator(".legend").is_visible()
        row = page.locator("#year-marks tr", has=page.locator("th", has_text="Математика"))
        assert "14.09: 4" in row.inner_text()
        in_sight_horizontally(page, page.locator(".subject-year svg").first)
        page.context.close()
    width, height = PHONES[size]
    login_page = browser.new_page(viewport={"width": width, "height": height})
    login_page.goto(base_url + "/login")
    fits_the_screen(login_page)
    login_page.screenshot(path=str(ARTIFACTS / f"phone-{size}-login.png"), full_page=True)


@pytest.mark.parametrize("size", PHONES)
def test_class_teacher_view_fits_a_phone(browser, base_url, size):
    page = log_in(browser, base_url, "math", PHONES[size])
    for name, path in CLASS_VIEW.items():
        response = page.goto(base_url + path)
        assert response.status == 200, path
        fits_the_screen(page)
        page.screenshot(path=str(ARTIFACTS / f"phone-{size}-{name}.png"), full_page=True)
    page.goto(base_url + CLASS_VIEW["class-view"])
    grid = page.locator("h2:has-text('Математика') + div table")
    first_pupil = grid.locator("tr", has=page.locator("td", has_text="Алексеев"))
    in_sight_horizontally(page, first_pupil.locator("td").first)
    in_sight_horizontally(page, first_pupil.locator("td").nth(1))  # the first lesson's cell
    # scrolled sideways inside its box, the grid keeps the pupil's name in sight
    page.evaluate("document.querySelector('h2 + div.scroll').scrollLeft = 10000")
    in_sight_horizontally(page, first_pupil.locator("td").first)
    fits_the_screen(page)


def serious_violations(page) -> list:
    """axe-core on the open page: its serious and critical findings (rule, impact, where)."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => (await axe.run(document)).violations")
    return [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in result
        if v["impact"] in ("serious", "critical")
    ]


def test_family_pages_and_class_view_have_no_serious_accessibility_violations(browser, base_url):
    # axe is injected by the test, not served by the app: let it past the page's CSP
    found = {}
    for login, pages in (("parent", FAMILY), ("math", CLASS_VIEW)):
        context = browser.new_context(viewport={"width": 390, "height": 844}, bypass_csp=True)
        page = log_in(context, base_url, login)
        for name, path in pages.items():
            page.goto(base_url + path)
            found[name] = serious_violations(page)
        context.clear_cookies()
        page.goto(base_url + "/login")
        found["login"] = serious_violations(page)
        context.close()
    assert found == {name: [] for name in found}
