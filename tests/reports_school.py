"""The fixture school with a small, hand-countable autumn recorded, for diaries and reports.

Every figure the report tests expect is counted by hand from the entries below; they go in
through the real sync path (server.seeding.load_journals), so rules and consolidation apply.

Class 5 (s-1 Алексеев, s-2 Борисова, s-3 Васильев, s-4 Григорьева):
  Математика (t-math):
    L1 07.09 «Натуральные числа», д/з «№ 1, 2»; s-1 5, s-2 4; s-3 н          (entered same day)
    L2 14.09 «Сложение», д/з «№ 5»; s-1 4, s-2 3, s-3 2; s-4 б               (entered 16.09)
    L3 21.09 «Контрольная работа № 1», контрольная, weight 2: s-1 5, s-2 3, s-3 2, s-4 4
                                                                            (entered same day)
    L4 28.09 no topic, no attendance; s-4 5                                  (entered 03.10)
    1 четверть (26.10): s-1 5, s-2 3, s-3 2, s-4 4; year (27.10): s-1 5
  Русский язык (t-rus):
    R1 08.09 «Фонетика», д/з «упр. 3»; s-1 3, s-2 5 → 4 on 10.09 «Ошибка при выставлении»;
       s-3 н                                                                 (entered same day)
    R2 15.09 «Орфография», д/з «упр. 7»; s-1 2, s-4 4; s-2 н             (entered same day)
    1 четверть (26.10): s-1 3, s-2 4, s-3 4, s-4 4
Class 6 (s-5 Дмитриев, s-6 Ершова):
  Математика (t-math): M1 07.09 «Дроби», д/з «№ 10»; s-5 5, s-6 4; 1 четверть: s-5 5, s-6 4;
    year: s-5 5, s-6 4
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

from server.config import ServerConfig
from server.seeding import load_journals
from server.storage import directory as directory_storage
from server.storage.db import connect, create_schema, transaction
from shared.hlc import Clock
from shared.model import (
    AttendanceCode,
    AttendanceMarked,
    JournalEvent,
    LessonRecorded,
    MarkGiven,
    MarkKind,
    Period,
    PeriodKind,
    PeriodMarkGiven,
    WorkKind,
)
from tests.factories import CLASS_5, CLASS_6, MATH_5, MATH_6, RUSSIAN_5, YEAR, write_school
from tests.server.school_kit import copy_database

MSK = dt.timezone(dt.timedelta(hours=3))
Q1 = f"{YEAR}-q1"
YEAR_PERIOD = f"{YEAR}-y"
YEAR_ROW = Period(
    id=YEAR_PERIOD,
    year_id=YEAR,
    kind=PeriodKind.YEAR,
    number=1,
    name="Учебный год",
    starts=dt.date(2026, 9, 1),
    ends=dt.date(2027, 5, 31),
)
CLASSES = (CLASS_5, CLASS_6)


class _Author:
    def __init__(self, person: str, device: str):
        self.person, self.device = person, device
        self.clock = Clock(device, now=lambda: self._moment)
        self._moment = 0.0
        self.count = 0

    def at(self, day: dt.date, hour: int = 15) -> _Author:
        self._moment = dt.datetime.combine(day, dt.time(hour), tzinfo=MSK).timestamp()
        return self

    def _stamp(self, fields: dict) -> dict:
        self.count += 1
        return {
            "id": f"{self.device}-{self.count}",
            "author": self.person,
            "device": self.device,
            "hlc": self.clock.tick(),
        } | fields

    def lesson(self, lesson_id, day, topic="", homework="", **fields) -> LessonRecorded:
        return LessonRecorded(
            **self._stamp(fields), lesson_id=lesson_id, date=day, topic=topic, homework=homework
        )

    def mark(self, lesson_id, student, value, **fields) -> MarkGiven:
        return MarkGiven(
            **self._stamp(fields), lesson_id=lesson_id, student_id=student, value=value
        )

    def absent(self, lesson_id, student, code=AttendanceCode.ABSENT) -> AttendanceMarked:
        return AttendanceMarked(
            **self._stamp({}), lesson_id=lesson_id, student_id=student, code=code
        )

    def period(self, period_id, student, value, kind=MarkKind.PERIOD, **fields) -> PeriodMarkGiven:
        return PeriodMarkGiven(
            **self._stamp({}),
            period_id=period_id,
            student_id=student,
            value=value,
            mark_kind=kind,
            **fields,
        )


D = dt.date


def journal_events() -> dict[str, list[JournalEvent]]:
    math = _Author("t-math", "d-math-fixture")
    rus = _Author("t-rus", "d-rus-fixture")
    m5: list[JournalEvent] = []
    math.at(D(2026, 9, 7))
    m5 += [
        math.lesson("L1", D(2026, 9, 7), "Натуральные числа", "№ 1, 2"),
        math.mark("L1", "s-1", 5),
        math.mark("L1", "s-2", 4),
        math.absent("L1", "s-3"),
    ]
    math.at(D(2026, 9, 16))
    m5 += [
        math.lesson("L2", D(2026, 9, 14), "Сложение", "№ 5"),
        math.mark("L2", "s-1", 4),
        math.mark("L2", "s-2", 3),
        math.mark("L2", "s-3", 2),
        math.absent("L2", "s-4", AttendanceCode.ILL),
    ]
    math.at(D(2026, 9, 21))
    control = {"work_kind": WorkKind.CONTROL, "weight": 2}
    m5 += [
        math.lesson("L3", D(2026, 9, 21), "Контрольная работа № 1", work_kind=WorkKind.CONTROL),
        math.mark("L3", "s-1", 5, **control),
        math.mark("L3", "s-2", 3, **control),
        math.mark("L3", "s-3", 2, **control),
        math.mark("L3", "s-4", 4, **control),
    ]
    math.at(D(2026, 10, 3))
    m5 += [math.lesson("L4", D(2026, 9, 28)), math.mark("L4", "s-4", 5)]
    math.at(D(2026, 10, 26))
    m5 += [math.period(Q1, s, v) for s, v in (("s-1", 5), ("s-2", 3), ("s-3", 2), ("s-4", 4))]
    math.at(D(2026, 10, 27))
    m5 += [math.period(YEAR_PERIOD, "s-1", 5, MarkKind.YEAR)]

    r5: list[JournalEvent] = []
    rus.at(D(2026, 9, 8))
    wrong = rus.mark("R1", "s-2", 5)
    r5 += [
        rus.lesson("R1", D(2026, 9, 8), "Фонетика", "упр. 3"),
        rus.mark("R1", "s-1", 3),
        wrong,
        rus.absent("R1", "s-3"),
    ]
    rus.at(D(2026, 9, 10))
    r5 += [rus.mark("R1", "s-2", 4, supersedes=(wrong.id,), reason="Ошибка при выставлении")]
    rus.at(D(2026, 9, 15))
    r5 += [
        rus.lesson("R2", D(2026, 9, 15), "Орфография", "упр. 7"),
        rus.mark("R2", "s-1", 2),
        rus.mark("R2", "s-4", 4),
        rus.absent("R2", "s-2"),
    ]
    rus.at(D(2026, 10, 26))
    r5 += [rus.period(Q1, s, v) for s, v in (("s-1", 3), ("s-2", 4), ("s-3", 4), ("s-4", 4))]

    m6: list[JournalEvent] = []
    math = _Author("t-math", "d-math-6-fixture")  # its own clock: entered on the lesson's day
    math.at(D(2026, 9, 7))
    m6 += [
        math.lesson("M1", D(2026, 9, 7), "Дроби", "№ 10"),
        math.mark("M1", "s-5", 5),
        math.mark("M1", "s-6", 4),
    ]
    math.at(D(2026, 10, 26))
    m6 += [math.period(Q1, "s-5", 5), math.period(Q1, "s-6", 4)]
    math.at(D(2026, 10, 27))
    m6 += [
        math.period(YEAR_PERIOD, "s-5", 5, MarkKind.YEAR),
        math.period(YEAR_PERIOD, "s-6", 4, MarkKind.YEAR),
    ]
    return {MATH_5: m5, RUSSIAN_5: r5, MATH_6: m6}


def build_database(path: Path) -> ServerConfig:
    """A fresh database with the fixture school, its accounts and the autumn above."""
    config = ServerConfig(database=path)
    conn = connect(path)
    try:
        create_schema(conn)
        write_school(conn)
        write_journals(conn, config)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    return config


_built: dict[Path, Path] = {}


def database_copy(template_folder: Path, target: Path) -> ServerConfig:
    """A copy of the (once per session) built database: Argon2 hashing is slow, copying is not."""
    if template_folder not in _built:
        path = template_folder / "reports-school.sqlite"
        build_database(path)
        _built[template_folder] = path
    copy_database(_built[template_folder], target)
    return ServerConfig(database=target)


def write_journals(conn: sqlite3.Connection, config: ServerConfig) -> None:
    """Add the year period and push the autumn's entries; every entry must be accepted."""
    with transaction(conn):
        directory_storage.upsert(conn, [YEAR_ROW])
    directory = directory_storage.load_full(conn)
    refused = load_journals(conn, config, directory, journal_events())
    assert refused == 0, "the report fixture must be accepted whole"
