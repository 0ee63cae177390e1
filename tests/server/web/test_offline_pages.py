"""What the phone may keep: static files anyone may fetch, and the X-Offline-Key that marks a
family page as keepable (server/web/static/sw.js keeps nothing else). Pages carry no inline
script, style or event handler, so the CSP can allow scripts and styles from 'self' only."""

from __future__ import annotations

import json
import re

import pytest

from server.web.static_files import FILES, static_url
from tests.factories import CLASS_5

FAMILY_PAGES = ("/diary/s-1?week=2026-09-14", "/portfolio/s-1")
OTHER_PAGES = {
    "parent": ("/", "/password", "/diary/s-2", "/portfolio/s-2"),
    "pupil": ("/",),
    "math": (f"/classes/{CLASS_5}", "/personal-files/s-1", f"/classes/{CLASS_5}/portfolio"),
    "deputy": (f"/classes/{CLASS_5}",),
}


def test_static_files_are_served_to_anyone_versioned_and_kept(browser_as):
    client = browser_as(None)
    for name in FILES:
        response = client.get(static_url(name))
        assert response.status_code == 200 and response.content == FILES[name]
        assert "immutable" in response.headers["cache-control"]
    assert client.get(static_url("zhurnal.css")).headers["content-type"].startswith("text/css")
    assert (
        client.get(static_url("offline.js")).headers["content-type"].startswith("text/javascript")
    )


@pytest.mark.parametrize(
    "forged", ["/static/../app.py", "/static/%2e%2e%2fapp.py", "/static/sw.js", "/static/x.css"]
)
def test_a_forged_static_name_gets_a_russian_not_found(browser_as, forged):
    response = browser_as(None).get(forged)
    assert response.status_code == 404
    assert "import" not in response.text


def test_a_flood_of_static_requests_is_answered_from_memory(browser_as):
    client = browser_as(None)
    codes = {client.get(static_url("zhurnal.css")).status_code for _ in range(300)}
    assert codes == {200}


def test_the_service_worker_covers_the_site_and_precaches_what_exists(browser_as):
    client = browser_as(None)
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response.headers["service-worker-allowed"] == "/"
    assert response.headers["cache-control"] == "no-cache"
    precached = json.loads(re.search(r"const STATIC = (\[.*?\]);", response.text).group(1))
    assert static_url("zhurnal.css") in precached
    for url in precached:
        assert client.get(url).status_code == 200, url
    assert "__VERSION__" not in response.text


def test_the_manifest_installs_a_russian_diary_with_icons(browser_as):
    client = browser_as(None)
    response = client.get("/manifest.webmanifest")
    assert response.headers["content-type"].startswith("application/manifest+json")
    manifest = response.json()
    assert manifest["lang"] == "ru" and manifest["short_name"] == "Дневник"
    assert manifest["start_url"] == "/diary" and manifest["display"] == "standalone"
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        assert client.get(icon["src"]).status_code == 200, icon["src"]


def test_family_pages_are_marked_keepable_under_a_key_of_their_session(browser_as):
    first, second = browser_as("parent"), browser_as("parent")
    keys = set()
    for client in (first, second):
        for path in FAMILY_PAGES:
            response = client.get(path)
            assert response.status_code == 200
            keys.add((id(client), response.headers["x-offline-key"]))
            assert re.search(
                r'<p id="offline-note" class="offline" hidden>Нет связи с сервером: '
                r"данные на \d\d\.\d\d, \d\d:\d\d\.",
                response.text,
            )
            assert '<html lang="ru" data-offline="1">' in response.text
    by_session = {}
    for owner, key in keys:
        by_session.setdefault(owner, set()).add(key)
    assert all(len(v) == 1 for v in by_session.values())  # one key per session
    assert len({next(iter(v)) for v in by_session.values()}) == 2  # another session, another key
    assert browser_as("pupil").get(FAMILY_PAGES[0]).headers["x-offline-key"] not in {
        k for _, k in keys
    }


@pytest.mark.parametrize("login", sorted(OTHER_PAGES))
def test_no_other_page_is_ever_marked_keepable(browser_as, login):
    client = browser_as(login)
    for path in OTHER_PAGES[login]:
        response = client.get(path)
        assert "x-offline-key" not in response.headers, path
        assert "offline-note" not in response.text, path
    assert "x-offline-key" not in browser_as(None).get("/login").headers


def test_a_refused_family_page_is_not_keepable(browser_as, web_config):
    from server.storage.db import connect, transaction

    conn = connect(web_config.database)
    with transaction(conn):
        conn.execute("DELETE FROM consents")
        conn.execute("DELETE FROM child_consents")  # consent is kept per child (issue 15)
    conn.close()
    response = browser_as("parent").get(FAMILY_PAGES[0])
    assert response.status_code == 403 and "x-offline-key" not in response.headers


INLINE = re.compile(r"<script(?![^>]*\bsrc=)|<style|\sstyle=|\son[a-z]+=", re.IGNORECASE)


@pytest.mark.parametrize("login", ["parent", "pupil", "math", "deputy"])
def test_pages_carry_no_inline_script_style_or_handler(browser_as, login):
    client = browser_as(login)
    paths = [*OTHER_PAGES.get(login, ())] + (list(FAMILY_PAGES) if login == "parent" else [])
    for path in [*paths, "/"]:
        html = client.get(path).text
        assert not INLINE.search(html), (path, INLINE.search(html).group(0))
    assert not INLINE.search(browser_as(None).get("/login").text)
