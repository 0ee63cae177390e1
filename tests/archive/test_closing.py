"""Closing a school year: later entries are refused with a reason the late teacher sees on the
laptop; only a correction authorised by the deputy director is taken, and it is logged."""

from __future__ import annotations

import datetime as dt

import pytest

from server.archive.closing import close_year, grant_correction
from server.errors import AccessDenied, BadRequest
from server.storage import archive as archive_storage
from server.storage.db import connect
from shared.model import AttendanceCode
from shared.rules import RuleViolation
from tests.factories import MATH_5, YEAR

YEAR_END = dt.date(2027, 5, 31)
CLOSING_DAY = dt.date(2027, 6, 20)


def _close(server_config, login: str = "records", on: dt.date = CLOSING_DAY):
    conn = connect(server_config.database)
    try:
        return close_year(conn, login=login, year_id=YEAR, on=on)
    finally:
        conn.close()


def _rows(server_config, sql: str, params=()) -> list[dict]:
    conn = connect(server_config.database)
    try:
        return [dict(r) for r in conn.execute(sql, params).fetchall()]
    finally:
        conn.close()


def test_late_teacher_entries_are_refused_and_stay_visible_on_the_laptop(laptop, server_config):
    math = laptop("math")
    lesson = math.book.record_lesson(MATH_5, date=dt.date(2026, 10, 5), topic="Дроби")
    math.sync()
    # offline for weeks: the teacher goes on typing, the records officer closes the year
    late = math.book.give_mark(MATH_5, lesson.lesson_id, "s-1", 4)
    absent = math.book.mark_attendance(MATH_5, lesson.lesson_id, ["s-2"], AttendanceCode.ABSENT)
    _close(server_config)

    report = math.sync()

    assert report.complete and report.refused == 2
    rejected = {e.event_id: e for e in math.rejected()}
    assert set(rejected) == {late.id, absent[0].id}
    for entry in rejected.values():
        assert entry.rule == "year_not_closed"
        assert "2026/2027 закрыт 20.06.2027" in entry.message
        assert "разрешения заместителя директора" in entry.message
    # still on the laptop, shown as refused, the lesson itself untouched
    state = math.book.state(MATH_5)
    assert late.id in state.events and late.id in state.refusals
    assert state.marks(lesson.lesson_id, "s-1") == []
    assert state.lesson(lesson.lesson_id) is not None
    # and on the server as refused events, never as consolidated rows
    statuses = {
        r["id"]: r["status"]
        for r in _rows(
            server_config, "SELECT id, status FROM events WHERE journal_id = ?", (MATH_5,)
        )
    }
    assert statuses[late.id] == statuses[absent[0].id] == "refused"
    assert _rows(server_config, "SELECT * FROM marks") == []


def test_a_fresh_directory_refuses_at_the_keyboard(laptop, server_config):
    math = laptop("math")
    lesson = math.book.record_lesson(MATH_5, date=dt.date(2026, 10, 5), topic="Дроби")
    math.sync()
    _close(server_config)
    math.refresh_directory()
    with pytest.raises(RuleViolation) as refused:
        math.book.give_mark(MATH_5, lesson.lesson_id, "s-1", 5)
    assert refused.value.rule == "year_not_closed"
    assert math.status().pending == 0


def test_authorised_correction_is_taken_and_logged(laptop, server_config):
    math = laptop("math")
    lesson = math.book.record_lesson(MATH_5, date=dt.date(2026, 10, 5), topic="Дроби")
    mark = math.book.give_mark(MATH_5, lesson.lesson_id, "s-1", 3)
    math.sync()
    _close(server_config)
    conn = connect(server_config.database)
    try:
        grant = grant_correction(
            conn,
            login="deputy",
            journal_id=MATH_5,
            person_id="t-math",
            reason="служебная записка № 12: ошибка при выставлении",
            today=CLOSING_DAY,
            days=30,
        )
    finally:
        conn.close()
    assert [g.id for g in math.refresh_directory().corrections] == [grant.id]
    assert laptop("rus").directory.corrections == ()  # only those who open the journal

    with pytest.raises(RuleViolation):  # a correction still needs its reason
        math.book.give_mark(MATH_5, lesson.lesson_id, "s-1", 4)
    with pytest.raises(RuleViolation):  # a grant allows corrections, not new entries
        math.book.give_mark(MATH_5, lesson.lesson_id, "s-2", 5)
    fixed = math.book.give_mark(MATH_5, lesson.lesson_id, "s-1", 4, reason="описка, см. записку 12")
    assert fixed.supersedes == (mark.id,)
    report = math.sync()

    assert report.complete and report.refused == 0
    assert [r["value"] for r in _rows(server_config, "SELECT value FROM marks")] == [4]
    conn = connect(server_config.database)
    try:
        (logged,) = archive_storage.correction_log(conn, YEAR)
    finally:
        conn.close()
    assert logged["event_id"] == fixed.id and logged["grant_id"] == grant.id
    assert logged["author"] == "t-math" and logged["supersedes"] == [mark.id]
    assert logged["reason"] == "описка, см. записку 12"
    assert logged["granted_by"] == "t-deputy"


def test_a_teacher_without_a_grant_cannot_correct(laptop, server_config):
    math = laptop("math")
    lesson = math.book.record_lesson(MATH_5, date=dt.date(2026, 10, 5), topic="Дроби")
    math.book.give_mark(MATH_5, lesson.lesson_id, "s-1", 3)
    math.sync()
    _close(server_config)
    fixed = math.book.give_mark(MATH_5, lesson.lesson_id, "s-1", 5, reason="пересдача")
    math.sync()
    assert [e.event_id for e in math.rejected()] == [fixed.id]
    assert [r["value"] for r in _rows(server_config, "SELECT value FROM marks")] == [3]
    assert _rows(server_config, "SELECT * FROM correction_log") == []


def test_closing_refuses_wrong_role_early_date_and_twice(server_config):
    with pytest.raises(AccessDenied) as denied:
        _close(server_config, login="math")
    assert "Недостаточно прав" in denied.value.message_ru
    with pytest.raises(BadRequest) as early:
        _close(server_config, on=YEAR_END - dt.timedelta(days=1))
    assert "идёт до 31.05.2027" in early.value.message_ru
    assert _rows(server_config, "SELECT * FROM year_closures") == []
    closure = _close(server_config, login="deputy", on=YEAR_END)
    assert closure.closed_on == YEAR_END and closure.closed_by == "t-deputy"
    with pytest.raises(BadRequest) as twice:
        _close(server_config)
    assert "уже закрыт" in twice.value.message_ru


def test_only_the_administration_grants_corrections(server_config):
    _close(server_config)
    conn = connect(server_config.database)
    try:
        for login in ("records", "math", "admin"):
            with pytest.raises(AccessDenied):
                grant_correction(
                    conn, login=login, journal_id=MATH_5, person_id="t-math", reason="x"
                )
        with pytest.raises(BadRequest):
            grant_correction(
                conn, login="deputy", journal_id=MATH_5, person_id="t-math", reason=" "
            )
        assert conn.execute("SELECT count(*) FROM correction_grants").fetchone()[0] == 0
    finally:
        conn.close()


def test_closing_over_http_refuses_an_early_date_in_russian_and_changes_nothing(
    client, server_config
):
    from tests.factories import PASSWORD

    login = client.post(
        "/api/v1/auth/login",
        json={"login": "deputy", "password": PASSWORD, "device_name": "кабинет завуча"},
    )
    headers = {"Authorization": f"Bearer {login.json()['token']}"}
    early = client.post(f"/api/v1/years/{YEAR}/close", json={"date": "2027-05-30"}, headers=headers)
    assert early.status_code == 400
    assert "идёт до 31.05.2027" in early.json()["message"]
    assert _rows(server_config, "SELECT * FROM year_closures") == []
    # the day is the server's, never the caller's (issue 12): a later date changes nothing
    later = client.post(f"/api/v1/years/{YEAR}/close", json={"date": "2027-06-01"}, headers=headers)
    assert later.status_code == 400
    assert _rows(server_config, "SELECT * FROM year_closures") == []
    unknown = client.post("/api/v1/years/1999/close", json={}, headers=headers)
    assert unknown.status_code == 404 and "не найден" in unknown.json()["message"]
