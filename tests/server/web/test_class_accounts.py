"""Accounts for a class in one go (000 §5.5, 002 §2.8.5): the class teacher prints a sheet of
logins and one-time passwords; the password is never stored in the clear nor shown twice; the
first login must change it; a forgotten one is reset on a new slip by the class teacher or the
system administrator, and nobody else."""

from __future__ import annotations

import re

from litestar.testing import TestClient

from server.app import create_app
from server.storage.db import connect
from tests.factories import CLASS_5, CLASS_6, PASSWORD
from tests.server.web.conftest import BASE_URL, csrf_of, log_in
from tests.server.web.test_pages import pdf_text

SLIP = re.compile(r"Логин:\s*(\S+)\s+Пароль:\s*([a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4})")


def _issue(client, class_id: str = CLASS_5):
    page = client.get(f"/classes/{class_id}/accounts")
    return client.post(f"/classes/{class_id}/accounts", data={"csrf": csrf_of(page.text)})


def _slips(response) -> dict[str, str]:
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf", response.text[:300]
    return dict(SLIP.findall(pdf_text(response.content)))


def _fresh(web_config) -> TestClient:
    client = TestClient(create_app(web_config), base_url=BASE_URL)
    client.__enter__()
    return client


def test_class_teacher_prints_logins_for_everyone_without_one_once(browser_as, web_config):
    teacher = browser_as("math")
    response = _issue(teacher)
    slips = _slips(response)
    conn = connect(web_config.database)
    rows = {
        r["login"]: r
        for r in conn.execute("SELECT login, password_hash, role, person_id FROM accounts")
    }
    # the pupils of 5th grade without an account (s-1 has «pupil» already), nobody twice
    assert {rows[login]["person_id"] for login in slips} == {"s-2", "s-3", "s-4"}
    assert all(rows[login]["password_hash"].startswith("$argon2") for login in slips)
    everything = "\n".join(
        str(tuple(r)) for t in ("accounts", "password_change_required", "audit_log")
        for r in conn.execute(f"SELECT * FROM {t}")
    )  # fmt: skip
    assert not any(password in everything for password in slips.values())
    conn.close()
    again = _issue(teacher)
    assert again.headers["content-type"].startswith("text/html")
    assert "уже есть учётные записи" in again.text
    assert not SLIP.search(again.text)


def test_first_login_with_a_slip_must_change_the_password(browser_as, web_config):
    slips = _slips(_issue(browser_as("math")))
    login, password = next(iter(slips.items()))
    pupil = _fresh(web_config)
    assert log_in(pupil, login, password).status_code == 303
    blocked = pupil.get("/", follow_redirects=False)
    assert blocked.status_code == 303 and blocked.headers["location"] == "/password"
    form = pupil.get("/password").text
    assert 'id="first-login"' in form
    changed = pupil.post(
        "/password",
        data={
            "csrf": csrf_of(form),
            "old": password,
            "new": "мой-пароль-1",
            "again": "мой-пароль-1",
        },
    )
    assert "Пароль изменён." in changed.text
    assert pupil.get("/", follow_redirects=False).status_code == 200
    pupil.__exit__(None, None, None)


def test_reset_prints_a_new_slip_and_the_old_password_stops(browser_as, web_config):
    pupil = browser_as("pupil")  # s-1, logged in with the fixture password
    teacher = browser_as("math")
    page = teacher.get(f"/classes/{CLASS_5}/accounts").text
    assert 'value="pupil"' in page
    response = teacher.post(
        f"/classes/{CLASS_5}/accounts/reset", data={"csrf": csrf_of(page), "login": "pupil"}
    )
    slips = _slips(response)
    assert list(slips) == ["pupil"]
    assert pupil.get("/", follow_redirects=False).status_code == 303  # the old session ended
    stranger = _fresh(web_config)
    assert log_in(stranger, "pupil").status_code != 303  # the old password no longer works
    assert log_in(stranger, "pupil", slips["pupil"]).status_code == 303
    assert stranger.get("/", follow_redirects=False).headers["location"] == "/password"
    stranger.__exit__(None, None, None)


def test_reset_also_ends_the_device_tokens_taken_with_the_old_password(browser_as, web_config):
    """Whoever read the old password off a lost slip may have logged in through the API too:
    a reset cuts that device off as well as the web sessions."""
    api = _fresh(web_config)
    login = api.post(
        "/api/v1/auth/login",
        json={"login": "pupil", "password": PASSWORD, "device_name": "чужой телефон"},
    )
    assert login.status_code == 200, login.text
    bearer = {"Authorization": f"Bearer {login.json()['token']}"}
    assert api.get("/api/v1/me", headers=bearer).status_code == 200
    teacher = browser_as("math")
    page = teacher.get(f"/classes/{CLASS_5}/accounts").text
    teacher.post(
        f"/classes/{CLASS_5}/accounts/reset", data={"csrf": csrf_of(page), "login": "pupil"}
    )
    assert api.get("/api/v1/me", headers=bearer).status_code == 401
    api.__exit__(None, None, None)


def test_system_administrator_may_issue_and_reset(browser_as):
    admin = browser_as("admin")
    assert set(_slips(_issue(admin, CLASS_6))) != set()


def test_only_the_class_teacher_or_administrator_may_reset(browser_as, web_config):
    for login, status in (("rus", 403), ("parent", 403), ("pupil", 403)):
        client = browser_as(login)
        csrf = csrf_of(client.get("/").text)
        response = client.post(
            f"/classes/{CLASS_5}/accounts/reset", data={"csrf": csrf, "login": "parent"}
        )
        assert response.status_code == status, (login, response.text[:200])
    conn = connect(web_config.database)
    assert conn.execute("SELECT count(*) FROM password_change_required").fetchone()[0] == 0
    conn.close()


def test_a_login_of_another_class_or_a_forged_one_is_refused(browser_as, web_config):
    teacher = browser_as("rus")  # class teacher of 6th grade
    csrf = csrf_of(teacher.get(f"/classes/{CLASS_6}/accounts").text)
    for forged in ("pupil", "math", "deputy", "../x", "a" * 300):
        response = teacher.post(
            f"/classes/{CLASS_6}/accounts/reset", data={"csrf": csrf, "login": forged}
        )
        assert response.status_code == 400, forged
    conn = connect(web_config.database)
    assert conn.execute("SELECT count(*) FROM password_change_required").fetchone()[0] == 0
    conn.close()
