"""The archive page: the monthly setting, period packages listed, a failed scheduled build shown
to the records officer."""

from __future__ import annotations

import datetime as dt

from server.archive import keys, schedule
from server.storage import web as web_storage
from server.storage.db import connect, transaction
from tests.factories import CLASS_5, CLASS_6
from tests.server.web.conftest import csrf_of

NOV_1 = dt.datetime(2026, 11, 1, 3, 0, tzinfo=dt.UTC).timestamp()


def _monthly(config) -> list[tuple]:
    conn = connect(config.database)
    try:
        return [tuple(r) for r in conn.execute("SELECT school_id, monthly FROM archive_schedule")]
    finally:
        conn.close()


def _post(client, monthly: str):
    csrf = csrf_of(client.get("/archive").text)
    return client.post(
        "/archive/schedule", data={"monthly": monthly, "csrf": csrf}, follow_redirects=False
    )


def test_records_officer_turns_monthly_packages_on_and_off(browser_as, web_config):
    records = browser_as("records")
    assert "Включить ежемесячные пакеты" in records.get("/archive").text
    assert _post(records, "on").status_code == 303
    assert _monthly(web_config) == [("sch", 1)]
    assert "Ежемесячные пакеты <strong>включены</strong>" in records.get("/archive").text
    assert _post(records, "off").status_code == 303
    assert _monthly(web_config) == [("sch", 0)]


def test_forged_setting_is_refused_and_changes_nothing(browser_as, web_config):
    records = browser_as("records")
    for value in ("", "yes", "on; DROP TABLE", "x" * 5000):
        response = _post(records, value)
        assert response.status_code == 400
        assert "Выберите: ежемесячные пакеты включены или выключены." in response.text
    assert _monthly(web_config) == []


def test_a_teacher_cannot_change_the_schedule(browser_as, web_config):
    teacher = browser_as("math")
    csrf = csrf_of(teacher.get("/").text)
    response = teacher.post(
        "/archive/schedule", data={"monthly": "on", "csrf": csrf}, follow_redirects=False
    )
    assert response.status_code == 403
    assert _monthly(web_config) == []


def test_a_flood_of_settings_keeps_one_row(browser_as, web_config):
    records = browser_as("records")
    csrf = csrf_of(records.get("/archive").text)
    for n in range(80):
        response = records.post(
            "/archive/schedule",
            data={"monthly": "on" if n % 2 else "off", "csrf": csrf},
            follow_redirects=False,
        )
        assert response.status_code == 303
    assert _monthly(web_config) == [("sch", 1)]


def test_a_failed_scheduled_build_is_shown_and_a_built_one_listed(browser_as, web_config, tmp_path):
    conn = connect(web_config.database)
    key_path = tmp_path / "keys" / "archive-key.pem"
    try:
        with transaction(conn):
            for class_id in (CLASS_5, CLASS_6):
                web_storage.close_period(conn, class_id, "2026-2027-q1", "deputy", NOV_1)

        def run(now: float):
            return schedule.run_due(
                conn,
                folder_of=lambda s: tmp_path / "archive" / s,
                key_of=lambda s: key_path,
                now=now,
            )

        ((_, reason),) = run(NOV_1)  # no key yet
    finally:
        conn.close()
    page = browser_as("records").get("/archive").text
    assert "Пакеты, которые сервер не смог сформировать" in page
    assert "1 четверть (2026-2027-q1)" in page and reason in page
    keys.generate(key_path, password=b"")
    conn = connect(web_config.database)
    try:
        ((_, outcome),) = run(NOV_1 + 25 * 3600)
    finally:
        conn.close()
    assert outcome == "done"
    page = browser_as("records").get("/archive").text
    assert "не смог сформировать" not in page
    assert "sch-2026-2027-2026-2027-q1</td><td>период</td>" in page
