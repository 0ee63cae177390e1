"""Closing a period (000 §5.3): later changes of its marks need a reason and are flagged."""

from __future__ import annotations

import datetime as dt
import time

from server.config import ServerConfig
from server.reports.catalog import build
from server.reports.dataset import Filters
from server.seeding import load_journals
from server.storage import directory as directory_storage
from server.storage import web as web_storage
from server.storage.db import transaction
from tests.factories import CLASS_5, MATH_5, MATH_6
from tests.reports_school import Q1, _Author


def close_q1_for_class_5(conn) -> None:
    with transaction(conn):
        web_storage.close_period(conn, CLASS_5, Q1, "deputy", time.time())


def push(conn, journal_id, *events) -> int:
    directory = directory_storage.load_full(conn)
    config = ServerConfig(database=":memory:")
    return load_journals(conn, config, directory, {journal_id: list(events)})


def status(conn, event_id) -> str:
    return conn.execute("SELECT status FROM events WHERE id = ?", (event_id,)).fetchone()[0]


def test_late_mark_in_a_closed_period_without_reason_is_refused_and_kept_visible(school_db):
    close_q1_for_class_5(school_db)
    late = _Author("t-math", "d-math-late").at(dt.date(2026, 11, 10))
    mark = late.mark("L4", "s-1", 5)
    assert push(school_db, MATH_5, mark) == 1
    assert status(school_db, mark.id) == "refused"  # stored in the journal, shown as refused
    reason = school_db.execute(
        "SELECT reason FROM events WHERE id = ?", (f"refusal-{mark.id}",)
    ).fetchone()[0]
    assert "закрыт" in reason and "причину" in reason  # what the teacher's laptop shows
    rows = school_db.execute(
        "SELECT count(*) FROM marks WHERE journal_id = ? AND lesson_id = 'L4' "
        "AND student_id = 's-1'",
        (MATH_5,),
    ).fetchone()[0]
    assert rows == 0


def test_change_of_a_closed_period_mark_with_a_reason_is_flagged_in_the_correction_log(school_db):
    close_q1_for_class_5(school_db)
    late = _Author("t-math", "d-math-late").at(dt.date(2026, 11, 10))
    old = school_db.execute(
        "SELECT event_id FROM period_marks WHERE journal_id = ? AND student_id = 's-2'", (MATH_5,)
    ).fetchone()[0]
    fix = late.period(Q1, "s-2", 4)
    fix = type(fix)(
        **{
            **{f: getattr(fix, f) for f in fix.__struct_fields__},
            "supersedes": (old,),
            "reason": "Пересдача темы «Сложение»",
        }
    )
    assert push(school_db, MATH_5, fix) == 0
    rep = build(school_db, directory_storage.load_full(school_db), "corrections", Filters())
    row = next(r for r in rep.rows if r[5] == "Пересдача темы «Сложение»")
    assert row[3] == "3 — Борисова Вера" and row[4] == "4 — Борисова Вера"
    assert "в закрытом периоде" in row[6]


def test_closing_class_5_leaves_class_6_open(school_db):
    close_q1_for_class_5(school_db)
    late = _Author("t-math", "d-math-late").at(dt.date(2026, 11, 10))
    mark = late.mark("M1", "s-6", 5, slot=1)
    assert push(school_db, MATH_6, mark) == 0
