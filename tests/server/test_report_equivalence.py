"""Set-based reports equal the row-by-row computation they replaced, on randomised schools.

The fixture school (tests/reports_school.py) gets rounds of random entries through the real
sync path: lessons (some without a topic or with a blank one, some control works), marks,
attendance, corrections of all three (a new value, a moved lesson) and retractions, entered a
random number of days after the lesson. After every round the per-lesson report aggregates
kept by the sync transaction must equal a recount from scratch; at the end every report, for
several filters, must give the very rows tests/server/reports_reference.py computes.
"""

from __future__ import annotations

import datetime as dt
import random
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from server.config import ServerConfig
from server.reports.catalog import build
from server.reports.dataset import Filters
from server.seeding import load_journals
from server.storage import consolidated
from server.storage import directory as directory_storage
from server.storage import web as web_storage
from server.storage.db import AGGREGATES_KEY, connect, create_schema, transaction
from shared.model import (
    AttendanceCode,
    AttendanceMarked,
    JournalEvent,
    LessonRecorded,
    MarkGiven,
    MarkSpecial,
    Retracted,
    Scale,
    ScaleSetting,
    WorkKind,
)
from tests.factories import CLASS_5, CLASS_6, MATH_5, MATH_6, RUSSIAN_5, YEAR
from tests.reports_school import _Author, database_copy
from tests.server.reports_reference import NEEDS, build_reference, fold_marks

JOURNALS = {  # journal -> (teacher, pupils)
    MATH_5: ("t-math", ["s-1", "s-2", "s-3", "s-4"]),
    RUSSIAN_5: ("t-rus", ["s-1", "s-2", "s-3", "s-4"]),
    MATH_6: ("t-math", ["s-5", "s-6"]),
}
CLASS_OF = {MATH_5: CLASS_5, RUSSIAN_5: CLASS_5, MATH_6: CLASS_6}
# the school's scales: class 6 learns this subject pass/fail, the others with «+»/«−»
SCALES = (
    ScaleSetting(scale=Scale.FIVE_POINT, modifiers=True),
    ScaleSetting(scale=Scale.PASS_FAIL, grade=6, subject_id="math"),
)
PASS_FAIL = {MATH_6}
TOPICS = ["Дроби", "Орфография", "", " ", "\u00a0", "Повторение"]


class RandomSchool:
    """Random journal entries, remembering what is there so corrections have something to fix."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.seed = seed
        self.lessons: dict[str, list[LessonRecorded]] = {j: [] for j in JOURNALS}
        self.cells: dict[str, list[JournalEvent]] = {j: [] for j in JOURNALS}
        # one lesson per class, date and slot, as in a timetable
        self.taken: set[tuple[str, dt.date, int]] = set()
        self.serial = 0

    def _free_slot(self, journal: str) -> tuple[dt.date, int]:
        while True:
            day = dt.date(2026, 9, 1) + dt.timedelta(days=self.rng.randrange(120))
            slot = self.rng.randint(1, 4)
            if (CLASS_OF[journal], day, slot) not in self.taken:
                self.taken.add((CLASS_OF[journal], day, slot))
                return day, slot

    def _author(self, journal: str, lesson_day: dt.date) -> _Author:
        """The teacher on a device of its own (its clock is not ahead from other entries),
        entering on the lesson's day or up to ten days later."""
        self.serial += 1
        author = _Author(JOURNALS[journal][0], f"d-{self.seed}-{self.serial}")
        late = self.rng.choice([0, 0, 1, 2, 3, 4, 6, 10])
        return author.at(lesson_day + dt.timedelta(days=late), 8 + late % 10)

    def round(self) -> dict[str, list[JournalEvent]]:
        events: dict[str, list[JournalEvent]] = {}
        for journal, (_, pupils) in JOURNALS.items():
            batch: list[JournalEvent] = []
            for _ in range(self.rng.randint(1, 4)):
                self.serial += 1
                day, slot = self._free_slot(journal)
                kind = WorkKind.CONTROL if self.rng.random() < 0.25 else WorkKind.REGULAR
                author = self._author(journal, day)
                lesson = author.lesson(
                    f"X{self.serial}", day, self.rng.choice(TOPICS), slot=slot, work_kind=kind
                )
                batch.append(lesson)
                self.lessons[journal].append(lesson)
                for pupil in pupils:
                    if self.rng.random() < 0.7:
                        code = self.rng.choice(list(AttendanceCode))
                        batch.append(author.absent(lesson.lesson_id, pupil, code))
                    for mark_slot in range(self.rng.choice([0, 1, 1, 2])):
                        weight = 2 if kind == WorkKind.CONTROL else self.rng.choice([1, 1, 2])
                        batch.append(
                            author.mark(
                                lesson.lesson_id,
                                pupil,
                                slot=mark_slot,
                                weight=weight,
                                work_kind=kind,
                                **self._value(journal),
                            )
                        )
            self.cells[journal] += [e for e in batch if not isinstance(e, LessonRecorded)]
            batch += self._fixes(journal)
            events[journal] = batch
        return events

    def _value(self, journal: str) -> dict:
        """A mark on the journal's scale: зач/незач in the pass/fail one, else 1-5, some with
        «+»/«−» (issue 16: the consolidated rows must keep what each one means)."""
        if journal in PASS_FAIL:
            return {"value": 0, "special": self.rng.choice([MarkSpecial.PASS, MarkSpecial.FAIL])}
        return {"value": self.rng.randint(1, 5), "modifier": self.rng.choice(["", "", "+", "-"])}

    def _fixes(self, journal: str) -> list[JournalEvent]:
        """Corrections and retractions of entries pushed in earlier rounds."""
        fixes: list[JournalEvent] = []
        earlier = list(self.cells[journal])
        for old in self.rng.sample(earlier, min(len(earlier), self.rng.randint(0, 3))):
            day = next(x.date for x in self.lessons[journal] if x.lesson_id == old.lesson_id)
            author = self._author(journal, day)
            fields = {"supersedes": (old.id,), "reason": "Исправление ошибки"}
            if self.rng.random() < 0.3:
                fix: JournalEvent = Retracted(**author._stamp(fields))
            elif isinstance(old, MarkGiven):
                fix = author.mark(
                    old.lesson_id,
                    old.student_id,
                    **self._value(journal),
                    slot=old.slot,
                    weight=old.weight,
                    work_kind=old.work_kind,
                    **fields,
                )
            else:
                assert isinstance(old, AttendanceMarked)
                fix = author.absent(old.lesson_id, old.student_id, AttendanceCode.PRESENT)
                fix = AttendanceMarked(**{**_fields(fix), **fields})
            self.cells[journal].remove(old)
            if not isinstance(fix, Retracted):
                self.cells[journal].append(fix)
            fixes.append(fix)
        if self.lessons[journal] and self.rng.random() < 0.5:  # a lesson moved or re-titled
            old_lesson = self.rng.choice(self.lessons[journal])
            day, slot = self._free_slot(journal)
            moved = self._author(journal, day).lesson(
                old_lesson.lesson_id,
                day,
                self.rng.choice(TOPICS),
                slot=slot,
                work_kind=old_lesson.work_kind,
                supersedes=(old_lesson.id,),
                reason="Перенос урока",
            )
            self.lessons[journal] = [moved if x is old_lesson else x for x in self.lessons[journal]]
            fixes.append(moved)
        return fixes


def _fields(event) -> dict:
    return {f: getattr(event, f) for f in event.__struct_fields__}


def _aggregates(conn: sqlite3.Connection) -> tuple[list, list, list]:
    return (
        conn.execute("SELECT * FROM lesson_facts ORDER BY journal_id, lesson_id").fetchall(),
        conn.execute(
            "SELECT * FROM entry_delays ORDER BY journal_id, lesson_id, author, delay"
        ).fetchall(),
        conn.execute(
            "SELECT * FROM absence_facts ORDER BY journal_id, lesson_id, student_id"
        ).fetchall(),
    )


def assert_aggregates_equal_a_recount(conn: sqlite3.Connection) -> None:
    kept = _aggregates(conn)
    conn.execute("BEGIN")
    try:
        consolidated.rebuild_lesson_aggregates(conn)
        recounted = _aggregates(conn)
    finally:
        conn.execute("ROLLBACK")
    for table, again in zip(kept, recounted, strict=True):
        assert [tuple(r) for r in table] == [tuple(r) for r in again]
    assert kept[0], "the school has lessons"
    assert kept[2], "and absences"


def filters_to_check(rng: random.Random) -> list[Filters]:
    day = dt.date(2026, 9, 1) + dt.timedelta(days=rng.randrange(60))
    return [
        Filters(),
        Filters(date_from=dt.date(2026, 9, 1), date_to=dt.date(2026, 10, 24)),
        Filters(date_from=day, date_to=day + dt.timedelta(days=rng.randrange(1, 50))),
        Filters(date_from=day),
        Filters(class_id=CLASS_5),
        Filters(subject_id="math", date_to=day + dt.timedelta(days=20)),
        Filters(teacher_id="t-rus"),
        Filters(teacher_id="t-math", class_id=CLASS_6),
        Filters(class_id="no-such-class"),
    ]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("equivalence-template")


@pytest.fixture
def school(template: Path, tmp_path: Path) -> Iterator[tuple[sqlite3.Connection, ServerConfig]]:
    config = database_copy(template, tmp_path / "school.sqlite")
    conn = connect(config.database)
    yield conn, config
    conn.close()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_aggregates_and_reports_equal_the_reference_after_random_pushes(school, seed):
    conn, config = school
    with transaction(conn):  # a closed quarter: corrections in it are flagged
        web_storage.close_period(conn, CLASS_5, f"{YEAR}-q1", "t-deputy", 0.0)
        for setting in SCALES:
            directory_storage.set_scale(conn, "sch", setting)
    random_school = RandomSchool(seed)
    directory = directory_storage.load_full(conn)
    accepted_fixes = 0
    for _ in range(4):
        events = random_school.round()
        refused = load_journals(conn, config, directory, events)
        accepted_fixes += sum(len(v) for v in events.values()) - refused
        assert_aggregates_equal_a_recount(conn)
    assert accepted_fixes > 0
    assert conn.execute("SELECT count(*) FROM events WHERE kind = 'retraction'").fetchone()[0]
    # every consolidated mark keeps what its entry means: «4+», зач/незач, as the fold has it
    kept = consolidated.marks(conn, year_id=YEAR)
    folded = fold_marks(conn, {j.id: j for j in directory.journals}, year_id=YEAR)
    assert sorted(kept, key=repr) == sorted(folded, key=repr)
    assert {m.special for m in kept} == {"", "pass", "fail"}
    assert {m.modifier for m in kept} == {"", "+", "-"}

    rng = random.Random(seed)
    for filters in filters_to_check(rng):
        for name in NEEDS:
            new = build(conn, directory, name, filters)
            old = build_reference(conn, directory, name, filters)
            assert (new.header, new.subtitle, new.notes) == (old.header, old.subtitle, old.notes)
            if name == "control":  # lessons of different classes may share a date and slot
                assert sorted(new.rows, key=repr) == sorted(old.rows, key=repr), filters
            else:
                assert new.rows == old.rows, (name, filters)


def test_the_aggregates_follow_a_retracted_lesson_and_a_fresh_database_rebuilds_them(school):
    conn, config = school
    directory = directory_storage.load_full(conn)
    math = _Author("t-math", "d-retract")
    lesson = math.at(dt.date(2026, 11, 9)).lesson("Z1", dt.date(2026, 11, 9), "Проценты")
    load_journals(conn, config, directory, {MATH_5: [lesson, math.mark("Z1", "s-1", 5)]})
    facts = conn.execute(
        "SELECT author, blank_topic, attended FROM lesson_facts WHERE lesson_id = 'Z1'"
    ).fetchall()
    assert [tuple(r) for r in facts] == [("t-math", 0, 0)]
    gone = Retracted(**math.at(dt.date(2026, 11, 12))._stamp({"supersedes": (lesson.id,)}))
    load_journals(conn, config, directory, {MATH_5: [gone]})
    assert not conn.execute("SELECT 1 FROM lesson_facts WHERE lesson_id = 'Z1'").fetchall()
    assert not conn.execute("SELECT 1 FROM entry_delays WHERE lesson_id = 'Z1'").fetchall()
    assert_aggregates_equal_a_recount(conn)

    kept = _aggregates(conn)
    with transaction(conn):  # as a database made before the aggregates existed
        for table in consolidated.AGGREGATE_TABLES:
            conn.execute(f"DELETE FROM {table}")
        conn.execute("DELETE FROM meta WHERE key = ?", (AGGREGATES_KEY,))
        conn.execute("DELETE FROM schema_migrations")  # made before numbered migrations
    create_schema(conn)
    assert [list(map(tuple, t)) for t in _aggregates(conn)] == [list(map(tuple, t)) for t in kept]
