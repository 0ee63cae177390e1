"""A year mark corrected with a grant after the year was closed reaches the personal file;
a year's «зач» and «н/а» reach it too, in words (issue 16)."""

from __future__ import annotations

import datetime as dt

from server.archive import personal_file
from server.archive.closing import close_year, grant_correction
from server.storage import directory as directory_storage
from server.storage.db import SPECIAL_YEAR_MARKS_KEY, connect, create_schema, transaction
from shared.model import MarkSpecial, NotAttestedReason, Scale, ScaleSetting
from tests.factories import MATH_5, YEAR
from tests.reports_school import YEAR_PERIOD, YEAR_ROW

CLOSING_DAY = dt.date(2027, 6, 20)


def year_marks(server_config, student_id: str) -> list[tuple[str, int | str]]:
    conn = connect(server_config.database)
    try:
        return [m for page in personal_file.pages(conn, student_id) for m in page.marks]
    finally:
        conn.close()


def test_corrected_year_mark_replaces_the_one_in_the_personal_file(laptop, server_config):
    conn = connect(server_config.database)
    with transaction(conn):
        directory_storage.upsert(conn, [YEAR_ROW])
    conn.close()
    math = laptop("math")
    math.book.record_lesson(MATH_5, date=dt.date(2026, 10, 5), topic="Дроби")
    given = math.book.give_period_mark(MATH_5, YEAR_PERIOD, "s-1", 3)
    math.book.give_period_mark(MATH_5, YEAR_PERIOD, "s-2", 4)
    assert math.sync().refused == 0
    conn = connect(server_config.database)
    try:
        close_year(conn, login="records", year_id=YEAR, on=CLOSING_DAY)
        assert year_marks(server_config, "s-1") == [("Математика", 3)]
        grant_correction(
            conn,
            login="deputy",
            journal_id=MATH_5,
            person_id="t-math",
            reason="служебная записка № 3",
            today=CLOSING_DAY,
            days=30,
        )
    finally:
        conn.close()
    math.refresh_directory()
    fixed = math.book.give_period_mark(MATH_5, YEAR_PERIOD, "s-1", 4, reason="описка")
    assert fixed.supersedes == (given.id,)
    assert math.sync().refused == 0
    assert year_marks(server_config, "s-1") == [("Математика", 4)]
    assert year_marks(server_config, "s-2") == [("Математика", 4)]


def test_pass_fail_and_not_attested_year_marks_reach_the_personal_file(laptop, server_config):
    """000 §4.2.3: every subject's year mark, «зач» (001 §3.4) and «н/а» (004 §1.4) too."""
    conn = connect(server_config.database)
    with transaction(conn):
        directory_storage.upsert(conn, [YEAR_ROW])
        directory_storage.set_scale(
            conn, "sch", ScaleSetting(scale=Scale.PASS_FAIL, grade=5, subject_id="math")
        )
    conn.close()
    math = laptop("math")
    math.book.record_lesson(MATH_5, date=dt.date(2026, 10, 5), topic="Дроби")
    math.book.give_period_mark(MATH_5, YEAR_PERIOD, "s-1", 0, special=MarkSpecial.PASS)
    math.book.give_period_mark(
        MATH_5,
        YEAR_PERIOD,
        "s-2",
        0,
        special=MarkSpecial.NOT_ATTESTED,
        na_reason=NotAttestedReason.ABSENCES,
    )
    assert math.sync().refused == 0
    conn = connect(server_config.database)
    try:
        close_year(conn, login="records", year_id=YEAR, on=CLOSING_DAY)
    finally:
        conn.close()
    assert year_marks(server_config, "s-1") == [("Математика", "зач")]
    assert year_marks(server_config, "s-2") == [("Математика", "н/а")]
    # a database whose year was closed before: upgrading adds them once, never for a pupil
    # whose personal file a retention act destroyed
    conn = connect(server_config.database)
    with transaction(conn):
        conn.execute("DELETE FROM personal_file")
        conn.execute("DELETE FROM meta WHERE key = ?", (SPECIAL_YEAR_MARKS_KEY,))
        conn.execute("DELETE FROM schema_migrations WHERE version >= 2")  # before issue 16
        conn.execute(
            "INSERT INTO destruction_acts (number, drafted_on, drafted_by, items) "
            "VALUES ('1', '2030-01-10', 'records', '[]')"
        )
        conn.execute(
            "INSERT INTO destruction_log (act_id, category, item, detail, removed_at, "
            "removed_by) VALUES (1, 'personal_files', 's-2', '', 0, 'records')"
        )
    create_schema(conn)
    conn.close()
    assert year_marks(server_config, "s-1") == [("Математика", "зач")]
    assert year_marks(server_config, "s-2") == []
