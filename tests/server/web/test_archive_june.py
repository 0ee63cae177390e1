"""The deputy's June page: each journal complete, printed, signed on paper, archived, against
30 June (000 §7.1–7.3)."""

from __future__ import annotations

import datetime as dt
import re

from server.archive import june, keys, pdf_cache
from server.archive.closing import close_year
from server.archive.package import build_package
from server.storage import directory as directory_storage
from server.storage.db import connect
from tests.factories import MATH_5, MATH_6, RUSSIAN_5, YEAR
from tests.server.web.conftest import csrf_of

PRINTED = dt.datetime(2027, 6, 1, 9, 0, tzinfo=dt.UTC)


def _signoffs(config) -> list[tuple]:
    conn = connect(config.database)
    try:
        return [
            tuple(r) for r in conn.execute("SELECT journal_id, signed_on FROM journal_signoffs")
        ]
    finally:
        conn.close()


def _standing(config) -> dict[str, june.JournalStanding]:
    conn = connect(config.database)
    try:
        directory = directory_storage.load_full(conn, YEAR)
        return {s.journal_id: s for s in june.standings(conn, directory)}
    finally:
        conn.close()


def _sign(client, journal_id: str, day: str):
    csrf = csrf_of(client.get("/archive/june").text)
    return client.post(
        "/archive/june/signed",
        data={"journal_id": journal_id, "signed_on": day, "csrf": csrf},
        follow_redirects=False,
    )


def test_each_journal_goes_complete_printed_signed_archived(browser_as, web_config, tmp_path):
    deputy = browser_as("deputy")
    before = _standing(web_config)
    # class 6 math: both pupils have a year mark; class 5 math: only s-1 of four
    assert before[MATH_6].complete and not before[MATH_5].complete
    assert (before[MATH_5].with_year_mark, before[MATH_5].pupils) == (1, 4)
    assert not any(s.printed_at or s.signed_on or s.archived_in for s in before.values())
    page = deputy.get("/archive/june?on=2027-06-01").text
    assert "До 30.06.2027" in page and "Осталось журналов: <strong>3</strong>" in page
    assert "годовые отметки: 1 из 4" in page

    conn = connect(web_config.database)
    try:
        pdf_cache.prerender(conn, YEAR, class_id="2026-2027-6", now=PRINTED)
    finally:
        conn.close()
    assert _sign(deputy, MATH_6, "2026-11-30").status_code == 303
    conn = connect(web_config.database)
    try:
        close_year(conn, login="records", year_id=YEAR, on=dt.date(2027, 6, 20))
        key = keys.generate(tmp_path / "keys" / "archive-key.pem", password=b"")
        package = build_package(conn, out_dir=tmp_path / "archive", key=key, login="records")
    finally:
        conn.close()
    after = _standing(web_config)
    assert after[MATH_6].printed_at is not None
    assert after[MATH_6].signed_on == dt.date(2026, 11, 30)
    assert after[MATH_6].archived_in == package.name
    assert after[MATH_6].done and not after[MATH_5].done and not after[RUSSIAN_5].done
    late = deputy.get("/archive/june?on=2027-07-01").text
    assert "Срок прошёл: не сдано журналов — 2." in late
    assert "30.11.2026" in late


def test_a_forged_or_future_signature_is_refused_and_changes_nothing(browser_as, web_config):
    deputy = browser_as("deputy")
    future = (dt.date.today() + dt.timedelta(days=3)).isoformat()
    for journal_id, day, message in (
        (MATH_6, future, "Дата подписи не может быть позже сегодняшней."),
        (MATH_6, "2020-01-01", "Дата подписи раньше начала учебного года 2026/2027."),
        (MATH_6, "вчера", "Дата — в формате ГГГГ-ММ-ДД."),
        ("2026-2027~9~math", "2027-06-10", "Журнал «2026-2027~9~math» не найден."),
        ("../../etc", "2027-06-10", "Журнал «../../etc» не найден."),
        ("x" * 500, "2027-06-10", "Выберите журнал."),
    ):
        response = _sign(deputy, journal_id, day)
        assert response.status_code in (400, 404), (journal_id, day)
        assert message in response.text
    assert _signoffs(web_config) == []


def test_a_teacher_cannot_record_a_signature(browser_as, web_config):
    teacher = browser_as("math")
    csrf = csrf_of(teacher.get("/").text)
    response = teacher.post(
        "/archive/june/signed",
        data={"journal_id": MATH_6, "signed_on": "2027-06-10", "csrf": csrf},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert _signoffs(web_config) == []


def test_a_flood_of_signatures_keeps_one_row_per_journal(browser_as, web_config):
    deputy = browser_as("deputy")
    csrf = csrf_of(deputy.get("/archive/june").text)
    for n in range(60):
        response = deputy.post(
            "/archive/june/signed",
            data={"journal_id": MATH_6, "signed_on": f"2026-11-{1 + n % 20:02d}", "csrf": csrf},
            follow_redirects=False,
        )
        assert response.status_code == 303
    rows = _signoffs(web_config)
    assert len(rows) == 1 and rows[0][0] == MATH_6
    assert re.fullmatch(r"2026-11-\d\d", rows[0][1])
