"""The correction log (000 §5.3): who, when, old → new in Russian words, and why — a reason for
every late change, never a code such as «present» or «ill»."""

from __future__ import annotations

import datetime as dt
import re

from server.config import ServerConfig
from server.seeding import load_journals
from server.storage import directory as directory_storage
from shared.hlc import Clock
from shared.model import (
    AttendanceCode,
    AttendanceMarked,
    MarkSpecial,
    NotAttestedReason,
    PeriodMarkGiven,
)
from tests.factories import MATH_5, YEAR
from tests.printing.test_reports import report

MSK = dt.timezone(dt.timedelta(hours=3))
CODES = re.compile(r"\b(present|absent|ill|excused|late|pass|fail|na|exempt|absences)\b")


def _stamp(day: dt.date, device: str) -> str:
    moment = dt.datetime.combine(day, dt.time(17), tzinfo=MSK).timestamp()
    return Clock(device, now=lambda: moment).tick()


def test_every_late_change_has_a_reason_in_russian_words(school_db) -> None:
    old_absence = school_db.execute(
        "SELECT event_id FROM attendance WHERE journal_id = ? AND student_id = 's-4'", (MATH_5,)
    ).fetchone()[0]  # Григорьева «б» on 14.09 (L2)
    old_quarter = school_db.execute(
        "SELECT event_id FROM period_marks WHERE journal_id = ? AND student_id = 's-3'",
        (MATH_5,),
    ).fetchone()[0]
    device = "d-math-fixture"
    events = [
        AttendanceMarked(
            id="fix-attendance",
            author="t-math",
            device=device,
            hlc=_stamp(dt.date(2026, 10, 20), device),
            supersedes=(old_absence,),
            reason="Справка не подтвердилась",
            lesson_id="L2",
            student_id="s-4",
            code=AttendanceCode.EXCUSED,
        ),
        PeriodMarkGiven(
            id="fix-quarter",
            author="t-math",
            device=device,
            hlc=_stamp(dt.date(2026, 10, 27), device),
            supersedes=(old_quarter,),
            reason="Решение педсовета",
            period_id=f"{YEAR}-q1",
            student_id="s-3",
            value=0,
            special=MarkSpecial.NOT_ATTESTED,
            na_reason=NotAttestedReason.ABSENCES,
        ),
    ]
    config = ServerConfig(database=school_db.execute("PRAGMA database_list").fetchone()[2])
    directory = directory_storage.load_full(school_db)
    assert load_journals(school_db, config, directory, {MATH_5: events}) == 0
    rep = report(school_db, "corrections", date_to=dt.date(2026, 10, 31))
    rows = {row[5]: row for row in rep.rows}
    assert rows["Справка не подтвердилась"][3:5] == (
        "б (болел, справка) — Григорьева Дарья",
        "у (уважительная причина) — Григорьева Дарья",
    )
    assert rows["Решение педсовета"][3:5] == ("2 — Васильев Глеб", "н/а — Васильев Глеб")
    for row in rep.rows:
        if "поздняя" in row[6]:
            assert row[5].strip(), row
        assert not CODES.search(" ".join(str(cell) for cell in row)), row
