"""Route by route: every page refuses every role that must not see it."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from litestar.testing import TestClient

from server.config import ServerConfig
from server.storage.db import connect
from tests.factories import CLASS_5, CLASS_6, copy_database
from tests.server.web.conftest import browsers, csrf_of

# login -> what a person is: parent (p-1, child s-1), pupil (s-1), math (class teacher of 5),
# rus (class teacher of 6), deputy, director, records officer, system administrator
EVERYONE = ("parent", "pupil", "math", "rus", "deputy", "director", "records", "admin")
PAGES: dict[str, set[str]] = {
    "/diary": {"parent", "pupil"},
    "/diary/s-1?week=2026-09-07": {"parent", "pupil"},
    f"/classes/{CLASS_5}": {"math", "deputy", "director"},
    f"/classes/{CLASS_6}": {"rus", "deputy", "director"},
    f"/classes/{CLASS_5}/extract/s-1?period=2026-2027-q1": {"math", "deputy", "director"},
    "/classes": {"math", "rus", "deputy", "director"},
    "/reports": {"deputy", "director"},
    "/reports/results": {"deputy", "director"},
    "/reports/corrections?format=csv": {"deputy", "director"},
    "/reports/summary?class_id=2026-2027-5&format=pdf": {"deputy", "director"},
    "/periods": {"deputy"},
    "/scales": {"deputy", "director"},
    "/reports/attestation?format=xlsx": {"deputy", "director"},
    "/reports/attendance": {"deputy", "director"},
    "/district": {"deputy", "director"},
    "/audit": {"director", "records"},
    "/archive": {"deputy", "director", "records"},
    "/archive/jobs/1": {"deputy", "director", "records"},
    "/archive/june": {"deputy", "director", "records"},
    "/": set(EVERYONE),
    "/password": set(EVERYONE),
    # portfolio (issue 7): the family beside the diary; the class teacher and the administration
    "/portfolio": {"parent", "pupil"},
    "/portfolio/s-1": {"parent", "pupil"},
    "/portfolio/s-1/pdf": {"parent", "pupil", "math", "deputy", "director"},
    "/portfolio/document/a-1": {"parent", "pupil", "math", "deputy", "director"},
    f"/classes/{CLASS_5}/portfolio": {"math", "deputy", "director"},
    f"/classes/{CLASS_6}/portfolio": {"rus", "deputy", "director"},
    "/gifted": {"deputy", "director"},
    "/gifted?level=regional&format=xlsx": {"deputy", "director"},
    # personal files: class teachers (of their pupils), the administration, the records officer
    "/personal-files": {"math", "rus", "deputy", "director", "records"},
    "/personal-files/s-1": {"math", "deputy", "director", "records"},
    "/personal-files/s-5/2026-2027/pdf": {"rus", "deputy", "director", "records"},
    # the transfer extract: the class teacher of the pupil's class and the administration
    f"/classes/{CLASS_5}/transfer/s-1": {"math", "deputy", "director"},
    f"/classes/{CLASS_5}/transfer/s-1?format=pdf": {"math", "deputy", "director"},
    f"/classes/{CLASS_6}/transfer/s-5?format=json": {"rus", "deputy", "director"},
    # school lists (issue 15): the system administrator and the administration
    "/school": {"deputy", "director", "admin"},
    "/school/templates/parents.xlsx": {"deputy", "director", "admin"},
    f"/classes/{CLASS_5}/accounts": {"math", "deputy", "director", "admin"},
    "/school/movement": {"deputy", "director", "admin"},
    "/school/next-year": {"deputy", "director", "admin"},
}
# POST routes: (path, form, allowed logins); the form is completed with the session's token
POSTS: dict[str, tuple[dict, set[str]]] = {
    "/diary/s-1/read?week=2026-09-07": ({}, {"parent"}),
    "/diary/s-1/read-period?period=2026-2027-q1": ({}, {"parent"}),
    f"/classes/{CLASS_5}/consent": (
        {"parent_id": "p-1", "student_id": "s-1", "status": "given"},
        {"math", "deputy", "director"},
    ),
    f"/classes/{CLASS_5}/read": (
        {"parent_id": "p-1", "student_id": "s-1"},
        {"math", "deputy", "director"},
    ),
    "/periods/close": ({"class_id": CLASS_5, "period_id": "2026-2027-q1"}, {"deputy"}),
    "/scales": ({"scale": "pass_fail", "subject_id": "math"}, {"deputy", "director"}),
    "/scales/weight": ({"work_kind": "control", "weight": "3"}, {"deputy", "director"}),
    # an empty form: the allowed are told what to choose (400), nothing is built
    "/archive/build": ({}, {"deputy", "director", "records"}),
    "/archive/act": ({}, {"director", "records"}),
    "/archive/june/signed": ({}, {"deputy", "director", "records"}),
    "/archive/schedule": ({}, {"deputy", "director", "records"}),
    "/password": ({"old": "x", "new": "y", "again": "y"}, set(EVERYONE)),
    "/logout": ({}, set(EVERYONE)),
    # no file / a draft that is not theirs: the allowed are told why (400), nothing is written
    "/school/preview": ({"kind": "pupils"}, {"deputy", "director", "admin"}),
    "/school/apply": ({"draft": "forged"}, {"deputy", "director", "admin"}),
    # logins of a class: its class teacher, the administration, the system administrator
    f"/classes/{CLASS_6}/accounts": ({}, {"rus", "deputy", "director", "admin"}),
    "/school/movement": ({"kind": "left"}, {"deputy", "director", "admin"}),
    "/school/next-year": ({"o:s-1": "nonsense"}, {"deputy", "director", "admin"}),
    f"/classes/{CLASS_5}/accounts/reset": (
        {"login": "nobody"},
        {"math", "deputy", "director", "admin"},
    ),
}
PUBLIC = {
    ("GET", "/login"),
    ("POST", "/login"),
    # nothing personal: style sheet, scripts, icons, the service worker and the app manifest
    ("GET", "/static/{name:str}"),
    ("GET", "/sw.js"),
    ("GET", "/manifest.webmanifest"),
    # the laptop app for anyone on the LAN: tests/bundle/test_install_page.py
    ("GET", "/install"),
    ("GET", "/install/{name:str}"),
}
CASES = [(path, login, login in allowed) for path, allowed in PAGES.items() for login in EVERYONE]


@pytest.fixture(scope="module")
def browser_once(
    web_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[str | None], TestClient]]:
    """For the GET cases, which change nothing a page's access depends on: one copy of the
    school for the module and each login's browser logged in once (an app and a login for
    each of ~360 cases was most of this suite's time)."""
    config = ServerConfig(database=tmp_path_factory.mktemp("web-matrix") / "web.sqlite")
    copy_database(web_template, config.database)
    with browsers(config) as make:
        yield functools.cache(make)


@pytest.mark.parametrize(("path", "login", "allowed"), CASES)
def test_page_admits_exactly_its_roles(browser_once, path, login, allowed):
    response = browser_once(login).get(path)
    if allowed:
        assert response.status_code == 200, response.text
    else:
        assert response.status_code in (403, 404), response.text
        assert "Не получилось" in response.text  # a Russian page, not a stack trace


@pytest.mark.parametrize("path", sorted(PAGES))
def test_every_page_sends_strangers_to_the_login_form(browser_once, path):
    response = browser_once(None).get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")


def test_parent_asking_for_another_childs_diary_is_refused_and_logged(browser_as, web_config):
    response = browser_as("parent").get("/diary/s-2")
    assert response.status_code == 403
    assert "только дневник своего ребёнка" in response.text
    conn = connect(web_config.database)
    rows = conn.execute("SELECT login, action, student_id, outcome FROM audit_log").fetchall()
    conn.close()
    assert [tuple(r) for r in rows] == [("parent", "diary", "s-2", "refused")]


def test_pupil_cannot_read_a_classmates_diary(browser_as):
    assert browser_as("pupil").get("/diary/s-2").status_code == 403


def test_class_teacher_of_another_class_cannot_print_an_extract(browser_as):
    assert browser_as("rus").get(f"/classes/{CLASS_5}/extract/s-1").status_code == 403


def test_class_teacher_cannot_print_a_pupil_of_another_class_through_own_class(browser_as):
    assert browser_as("math").get(f"/classes/{CLASS_5}/extract/s-5").status_code == 404


def test_post_without_the_session_csrf_token_is_refused(browser_as, web_config):
    client = browser_as("parent")
    response = client.post("/diary/s-1/read?week=2026-09-07", data={"csrf": "forged"})
    assert response.status_code == 403
    conn = connect(web_config.database)
    assert conn.execute("SELECT count(*) FROM acknowledgements").fetchone()[0] == 0
    conn.close()


def test_device_token_api_still_needs_its_token(browser_as):
    assert browser_as("deputy").get("/api/v1/me").status_code == 401


def test_every_page_route_has_a_row(browser_as):
    app = browser_as(None).app
    served = {
        (method, route.path)
        for route in app.routes
        for method in getattr(route, "methods", ())
        if method not in ("OPTIONS", "HEAD") and not route.path.startswith(("/api", "/schema"))
    }
    covered = set(PUBLIC)
    rows = [("GET", p) for p in PAGES] + [("POST", p) for p in POSTS]
    for method, path in rows:
        bare = path.split("?")[0]
        for route_method, route_path in served:
            pattern = "^" + re.sub(r"\{[^}]+\}", "[^/]+", route_path) + "$"
            if re.match(pattern, bare) and route_method == method:
                covered.add((route_method, route_path))
    assert served - covered == set(), "page routes without a row in the web role matrix"


POST_CASES = [
    (p, login, login in allowed) for p, (_, allowed) in POSTS.items() for login in EVERYONE
]


@pytest.mark.parametrize(("path", "login", "allowed"), POST_CASES)
def test_form_admits_exactly_its_roles(browser_as, path, login, allowed):
    client = browser_as(login)
    form = POSTS[path][0] | {"csrf": csrf_of(client.get("/").text)}
    response = client.post(path, data=form, follow_redirects=False)
    if allowed:
        # 401: wrong old password; 400: a form that asks for a choice
        assert response.status_code in (200, 303, 400, 401), response.text
    else:
        assert response.status_code == 403, response.text
