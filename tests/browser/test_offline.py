"""The diary without a link: a service worker (server/web/static/sw.js) keeps the weeks a parent
opened, read-only, with the time their data is from; logging out, or someone else logging in on
the same phone, leaves nothing of the child behind. The server is really stopped, not mocked."""

from __future__ import annotations

import re
import time

import pytest

from server.storage.db import connect, transaction
from server.storage.web import set_consent
from tests.browser.conftest import ARTIFACTS, CHROMIUM, LiveServer, log_in
from tests.factories import CLASS_5, PASSWORD

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="chromium missing: ./scripts/install.sh --dev"),
]

WEEK = "/diary/s-1?week=2026-09-14"

SAVED = """async (url) => {
  for (const name of await caches.keys()) {
    if (name.startsWith('zh-pages-') && await (await caches.open(name)).match(url)) return true;
  }
  return false;
}"""
GONE = "async (url) => !(await (" + SAVED + ")(url))"
SAVED_PAGES = """async () => {
  const urls = [];
  for (const name of await caches.keys()) {
    if (!name.startsWith('zh-pages-')) continue;
    for (const r of await (await caches.open(name)).keys()) urls.push(r.url);
  }
  return urls;
}"""


def phone(browser):
    return browser.new_context(viewport={"width": 390, "height": 844})


def kept(page, url: str) -> None:
    """Wait (for a condition, not a time) until the worker has the page in its cache."""
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    page.wait_for_function(SAVED, arg=url)


def parent_with_week_kept(browser, url: str):
    """A phone on which the parent opened WEEK once and the worker has kept it."""
    context = phone(browser)
    page = log_in(context, url, "parent")
    page.goto(url + WEEK)
    kept(page, url + WEEK)
    return context, page


def test_week_opens_offline_after_one_visit_and_says_when_its_data_is_from(browser, live_server):
    context, page = parent_with_week_kept(browser, live_server.url)
    assert page.locator("#offline-note").is_hidden()
    live_server.stop()
    with pytest.raises(Exception):  # noqa: B017 - any network error: nothing listens
        page.request.get(live_server.url + "/api/v1/health")
    page.goto(live_server.url + WEEK)
    note = page.locator("#offline-note")
    assert note.is_visible()
    assert re.search(r"данные на \d\d\.\d\d, \d\d:\d\d", note.inner_text()), note.inner_text()
    assert "Дневник: Алексеев Артём" in page.content()
    card = page.locator("table.lessons tr", has=page.locator("td.lead", has_text="Математика"))
    assert card.locator("td.marks").inner_text() == "4"
    assert page.locator("text=С дневником за неделю ознакомлен(а)").is_hidden()  # read-only
    assert page.locator("#year-marks").is_visible()
    assert page.evaluate("getComputedStyle(document.body).fontFamily").startswith("system-ui")
    page.screenshot(path=str(ARTIFACTS / "offline-diary.png"), full_page=True)
    # a week never opened: a page that says so and lists what is kept
    page.goto(live_server.url + "/diary/s-1?week=2026-10-05")
    assert "Нет связи с сервером" in page.content()
    assert page.locator("a[href$='week=2026-09-14']").count() == 1
    page.screenshot(path=str(ARTIFACTS / "offline-not-kept.png"), full_page=True)
    context.close()


def test_after_logout_nothing_of_the_child_opens_offline(browser, live_server):
    context, page = parent_with_week_kept(browser, live_server.url)
    page.goto(live_server.url + "/portfolio/s-1")  # a controlled visit: kept on the way
    page.wait_for_function(SAVED, arg=live_server.url + "/portfolio/s-1")
    page.click("text=Выйти")
    page.wait_for_url("**/login")
    assert page.evaluate(SAVED_PAGES) == []
    live_server.stop()
    for path in (WEEK, "/portfolio/s-1", "/diary"):
        page.goto(live_server.url + path)
        html = page.content()
        assert "Алексеев" not in html and "Сложение" not in html, path
        assert "нет сохранённых страниц" in html
    page.screenshot(path=str(ARTIFACTS / "offline-after-logout.png"), full_page=True)
    context.close()


def test_pages_of_one_account_never_open_for_the_next_on_the_same_phone(browser, live_server):
    """The session ends without a logout (cookie gone); another parent logs in on the phone."""
    conn = connect(live_server.config.database)
    with transaction(conn):
        conn.execute("INSERT INTO parents VALUES ('p-2', 'Борисова', 'Анна', '')")
        conn.execute("INSERT INTO parent_links VALUES ('p-2', 's-2')")
        set_consent(conn, "p-2", "given", "math", time.time(), "")
    from server.auth.service import create_account
    from shared.model import Role

    create_account(conn, login="parent2", password=PASSWORD, role=Role.PARENT, person_id="p-2")
    conn.close()
    live_server.stop()  # the directory is read at start-up
    live_server.start()
    context, page = parent_with_week_kept(browser, live_server.url)
    context.clear_cookies()
    page.goto(live_server.url + "/login")
    page.fill("input[name=login]", "parent2")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    page.goto(live_server.url + "/diary/s-2?week=2026-09-14")
    page.wait_for_function(SAVED, arg=live_server.url + "/diary/s-2?week=2026-09-14")
    assert page.evaluate(SAVED_PAGES) == [live_server.url + "/diary/s-2?week=2026-09-14"]
    live_server.stop()
    page.goto(live_server.url + WEEK)
    assert "Алексеев" not in page.content()
    context.close()


def test_pages_that_are_not_the_familys_are_never_kept(browser, live_server):
    context = phone(browser)
    page = log_in(context, live_server.url, "math")  # a class teacher: pupils' data
    page.goto(live_server.url + "/classes")
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    for path in ("/classes", "/personal-files/s-1", "/"):
        page.goto(live_server.url + path)
    assert page.evaluate(SAVED_PAGES) == []
    context.close()


def test_a_withdrawn_consent_removes_the_kept_weeks_at_the_next_online_visit(browser, live_server):
    context, page = parent_with_week_kept(browser, live_server.url)
    page.goto(live_server.url + "/diary/s-1?week=2026-09-07")
    page.wait_for_function(SAVED, arg=live_server.url + "/diary/s-1?week=2026-09-07")
    conn = connect(live_server.config.database)
    with transaction(conn):  # the class teacher records the parent's refusal (000 §5.5)
        set_consent(conn, "p-1", "refused", "math", time.time(), "")
    conn.close()
    assert page.goto(live_server.url + WEEK).status == 403
    page.wait_for_function(GONE, arg=live_server.url + WEEK)
    assert page.evaluate(SAVED_PAGES) == []  # the other week too: access is withdrawn
    live_server.stop()
    page.goto(live_server.url + WEEK)
    assert "Алексеев" not in page.content()
    context.close()


def test_the_diary_installs_as_a_russian_web_app(browser, live_server):
    context = phone(browser)
    page = log_in(context, live_server.url, "parent")
    page.goto(live_server.url + WEEK)
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    cdp = context.new_cdp_session(page)
    manifest = cdp.send("Page.getAppManifest")
    assert manifest["errors"] == [], manifest["errors"]
    assert '"short_name": "Дневник"' in manifest["data"]
    errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
    # a Playwright context is an incognito profile, where Chrome never installs: the one
    # error allowed; any other (icons, start_url, worker, display) fails
    assert [e["errorId"] for e in errors if e["errorId"] != "in-incognito"] == []
    context.close()


# the policy issue 12 adds to every response: no inline script, styles from 'self' (and inline)
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; worker-src 'self'; manifest-src 'self'; frame-ancestors 'none'"
)


def test_under_the_content_security_policy_pages_style_and_worker_still_work(browser, web_config):
    server = LiveServer(web_config, headers={"Content-Security-Policy": CSP})
    server.start()
    try:
        context = phone(browser)
        refused: list[str] = []
        context.on(
            "console",
            lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None,
        )
        page = log_in(context, server.url, "parent")
        page.goto(server.url + WEEK)
        kept(page, server.url + WEEK)  # the script ran and registered the worker
        assert page.evaluate("getComputedStyle(document.body).fontFamily").startswith("system-ui")
        page.goto(server.url + "/portfolio/s-1")
        page.goto(server.url + f"/classes/{CLASS_5}")  # 403 for a parent: an error page
        assert refused == []
        server.stop()
        page.goto(server.url + WEEK)
        assert page.locator("#offline-note").is_visible()
        context.close()
    finally:
        if server._server is not None:
            server.stop()


def test_a_link_that_hangs_shows_the_kept_week_after_a_wait(browser, live_server):
    """Evening 3G in a village: the connection opens, then nothing comes. The worker waits
    NETWORK_WAIT_MS (8 s), then shows the kept copy rather than a blank screen."""
    from scripts.badlink.proxy import PERFECT, FaultProxy, LinkProfile

    with FaultProxy(live_server.port, PERFECT, seed=1) as link:
        context, page = parent_with_week_kept(browser, link.url)
        link.set_profile(LinkProfile(stall_probability=1.0, stall_ms=120_000))
        started = time.monotonic()
        page.goto(link.url + WEEK, timeout=60_000)
        waited = time.monotonic() - started
        assert page.locator("#offline-note").is_visible()
        assert "Дневник: Алексеев Артём" in page.content()
        assert 7 < waited < 60, waited
        context.close()
