"""Route by route: every page refuses every role that must not see it."""

from __future__ import annotations

import pytest

from server.storage.db import connect
from tests.factories import CLASS_5, CLASS_6

# login -> what a person is: parent (p-1, child s-1), pupil (s-1), math (class teacher of 5),
# rus (class teacher of 6), deputy, director, records officer, system administrator
EVERYONE = ("parent", "pupil", "math", "rus", "deputy", "director", "records", "admin")
PAGES: dict[str, set[str]] = {
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
    "/district": {"deputy", "director"},
    "/audit": {"director", "records"},
    "/": set(EVERYONE),
    "/password": set(EVERYONE),
}
CASES = [(path, login, login in allowed) for path, allowed in PAGES.items() for login in EVERYONE]


@pytest.mark.parametrize(("path", "login", "allowed"), CASES)
def test_page_admits_exactly_its_roles(browser_as, path, login, allowed):
    response = browser_as(login).get(path)
    if allowed:
        assert response.status_code == 200, response.text
    else:
        assert response.status_code in (403, 404), response.text
        assert "Не получилось" in response.text  # a Russian page, not a stack trace


@pytest.mark.parametrize("path", sorted(PAGES))
def test_every_page_sends_strangers_to_the_login_form(browser_as, path):
    response = browser_as(None).get(path, follow_redirects=False)
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
