"""The regulations' rules, each refusing what it should and accepting what it should."""

from __future__ import annotations

import datetime as dt
import itertools
import re

import msgspec
import pytest

from shared.fold import fold
from shared.hlc import format_stamp
from shared.model import (
    AttendanceCode,
    AttendanceMarked,
    Directory,
    JournalEvent,
    LessonRecorded,
    MarkGiven,
    Membership,
    PeriodMarkGiven,
    Refused,
    Retracted,
)
from shared.rules import RULES, JournalContext, RuleViolation, check_new_events
from tests.factories import CLASS_6, MATH_5, MATH_6, RUSSIAN_5, YEAR, fixture_directory

MSK = dt.timezone(dt.timedelta(hours=3))
RUSSIAN_TEXT = re.compile(r"[А-Яа-яЁё]{3,}")
Q1 = f"{YEAR}-q1"  # 01.09.2026 – 24.10.2026
Q2 = f"{YEAR}-q2"  # 05.11.2026 – 28.12.2026

DIRECTORY = fixture_directory()
_ids = itertools.count(1)


# ------------------------------------------------------------------ helpers


def stamp(day: dt.date, hour: int = 10, minute: int = 0, *, node: str = "laptop") -> str:
    """An HLC stamp made at `hour:minute` Moscow time on `day`."""
    moment = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=MSK)
    return format_stamp(int(moment.timestamp() * 1000), 0, node)


def context(journal_id: str = MATH_5, directory: Directory = DIRECTORY) -> JournalContext:
    journal = next(j for j in directory.journals if j.id == journal_id)
    return JournalContext.from_directory(directory, journal)


def _common(at: str, author: str, supersedes: tuple[str, ...], reason: str) -> dict:
    return {
        "id": f"e{next(_ids)}",
        "author": author,
        "device": "laptop",
        "hlc": at,
        "supersedes": supersedes,
        "reason": reason,
    }


def lesson(
    day: dt.date,
    *,
    at: str | None = None,
    author: str = "t-math",
    lesson_id: str | None = None,
) -> LessonRecorded:
    return LessonRecorded(
        **_common(at or stamp(day, 9), author, (), ""),
        lesson_id=lesson_id or f"lesson-{day:%Y%m%d}",
        date=day,
        topic="Дроби",
    )


def mark(
    of: LessonRecorded,
    value: int = 5,
    *,
    student: str = "s-1",
    at: str | None = None,
    author: str = "t-math",
    weight: int = 1,
    supersedes: tuple[str, ...] = (),
    reason: str = "",
) -> MarkGiven:
    return MarkGiven(
        **_common(at or stamp(of.date, 11), author, supersedes, reason),
        lesson_id=of.lesson_id,
        student_id=student,
        value=value,
        weight=weight,
    )


def attendance(
    of: LessonRecorded,
    code: AttendanceCode = AttendanceCode.ABSENT,
    *,
    student: str = "s-1",
    at: str | None = None,
    supersedes: tuple[str, ...] = (),
    reason: str = "",
) -> AttendanceMarked:
    return AttendanceMarked(
        **_common(at or stamp(of.date, 10), "t-math", supersedes, reason),
        lesson_id=of.lesson_id,
        student_id=student,
        code=code,
    )


def period_mark(
    period_id: str,
    value: int = 5,
    *,
    at: str,
    student: str = "s-1",
    supersedes: tuple[str, ...] = (),
    reason: str = "",
) -> PeriodMarkGiven:
    return PeriodMarkGiven(
        **_common(at, "t-math", supersedes, reason),
        period_id=period_id,
        student_id=student,
        value=value,
    )


def retraction(*targets: JournalEvent, at: str, reason: str = "") -> Retracted:
    return Retracted(**_common(at, "t-math", tuple(t.id for t in targets), reason))


def check(
    existing: list[JournalEvent], *new: JournalEvent, ctx: JournalContext | None = None
) -> list[RuleViolation]:
    return check_new_events(fold({e.id: e for e in existing}), new, ctx or context())


def assert_refused(violations: list[RuleViolation], rule: str, event: JournalEvent) -> None:
    assert [(v.rule, v.event_id) for v in violations] == [(rule, event.id)]
    assert RUSSIAN_TEXT.search(violations[0].message_ru), violations[0].message_ru


def accepted(violations: list[RuleViolation]) -> bool:
    return violations == []


OCT_5 = dt.date(2026, 10, 5)
OCT_5_LESSON = lesson(OCT_5)


# ------------------------------------------------------------------ every rule cites its clause


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.__name__)
def test_every_rule_cites_a_clause_of_the_regulations(rule) -> None:
    assert rule.__doc__ and re.search(r"\d{3} §\d", rule.__doc__)


# ------------------------------------------------------------------ author_may_write (000 §4.5)


def test_subject_teacher_may_write_own_journal() -> None:
    assert accepted(check([], lesson(OCT_5, author="t-math")))


def test_class_teacher_who_does_not_teach_the_subject_cannot_write() -> None:
    # t-rus is the class teacher of 6 but teaches only russian in 5
    entry = lesson(OCT_5, author="t-rus")
    assert_refused(check([], entry, ctx=context(MATH_6)), "author_may_write", entry)


def test_teacher_of_another_subject_cannot_write_in_the_same_class() -> None:
    entry = lesson(OCT_5, author="t-math")
    assert_refused(check([], entry, ctx=context(RUSSIAN_5)), "author_may_write", entry)


@pytest.mark.parametrize("author", ["t-deputy", "t-director"])
def test_administration_may_write_any_journal(author: str) -> None:
    assert accepted(check([], lesson(OCT_5, author=author), ctx=context(MATH_6)))


@pytest.mark.parametrize("author", ["t-records", "t-admin", "p-1", "s-1"])
def test_staff_outside_teaching_and_administration_cannot_write(author: str) -> None:
    entry = lesson(OCT_5, author=author)
    assert_refused(check([], entry), "author_may_write", entry)


# ------------------------------------------------------------------ 5-point scale (004 §1.5)


@pytest.mark.parametrize("value", [0, 6, -1])
def test_mark_outside_five_point_scale_refused(value: int) -> None:
    entry = mark(OCT_5_LESSON, value)
    assert_refused(check([OCT_5_LESSON], entry), "mark_in_journal_scale", entry)


@pytest.mark.parametrize("value", [1, 5])
def test_mark_on_five_point_scale_accepted(value: int) -> None:
    assert accepted(check([OCT_5_LESSON], mark(OCT_5_LESSON, value)))


@pytest.mark.parametrize("value", [0, 6])
def test_period_mark_outside_five_point_scale_refused(value: int) -> None:
    entry = period_mark(Q1, value, at=stamp(dt.date(2026, 10, 24)))
    assert_refused(check([OCT_5_LESSON], entry), "mark_in_journal_scale", entry)


@pytest.mark.parametrize("value", [1, 5])
def test_period_mark_on_five_point_scale_accepted(value: int) -> None:
    entry = period_mark(Q1, value, at=stamp(dt.date(2026, 10, 24)))
    assert accepted(check([OCT_5_LESSON], entry))


# ------------------------------------------------------------------ weight (002 §3.2)


@pytest.mark.parametrize("weight", [0, 6])
def test_mark_weight_outside_range_refused(weight: int) -> None:
    entry = mark(OCT_5_LESSON, weight=weight)
    assert_refused(check([OCT_5_LESSON], entry), "weight_in_range", entry)


@pytest.mark.parametrize("weight", [1, 5])
def test_mark_weight_in_range_accepted(weight: int) -> None:
    assert accepted(check([OCT_5_LESSON], mark(OCT_5_LESSON, weight=weight)))


# ------------------------------------------------------------------ lesson dates (000 §5.4, §5.3)


@pytest.mark.parametrize("day", [dt.date(2026, 8, 31), dt.date(2027, 6, 1)])
def test_lesson_outside_school_year_refused(day: dt.date) -> None:
    entry = lesson(day)
    assert_refused(check([], entry), "lesson_within_school_year", entry)


@pytest.mark.parametrize("day", [dt.date(2026, 9, 1), dt.date(2027, 5, 31)])
def test_lesson_on_first_and_last_day_of_school_year_accepted(day: dt.date) -> None:
    assert accepted(check([], lesson(day)))


def test_lesson_in_the_future_refused() -> None:
    entry = lesson(dt.date(2026, 10, 12), at=stamp(dt.date(2026, 10, 5)))
    assert_refused(check([], entry), "lesson_not_in_future", entry)


@pytest.mark.parametrize("entered", [dt.date(2026, 10, 12), dt.date(2026, 10, 20)])
def test_lesson_recorded_on_its_day_or_later_accepted(entered: dt.date) -> None:
    assert accepted(check([], lesson(dt.date(2026, 10, 12), at=stamp(entered))))


# ------------------------------------------------------------------ the lesson's column (002 §3.4)


def test_mark_refused_without_a_recorded_lesson() -> None:
    entry = mark(OCT_5_LESSON)
    assert_refused(check([], entry), "entry_belongs_to_lesson", entry)


def test_attendance_refused_without_a_recorded_lesson() -> None:
    entry = attendance(OCT_5_LESSON)
    assert_refused(check([], entry), "entry_belongs_to_lesson", entry)


def test_mark_refused_for_a_retracted_lesson() -> None:
    gone = retraction(OCT_5_LESSON, at=stamp(OCT_5, 9, 30))
    entry = mark(OCT_5_LESSON)
    assert_refused(check([OCT_5_LESSON, gone], entry), "entry_belongs_to_lesson", entry)


def test_mark_and_attendance_in_a_recorded_lesson_accepted() -> None:
    entries = (attendance(OCT_5_LESSON, AttendanceCode.PRESENT), mark(OCT_5_LESSON))
    assert accepted(check([OCT_5_LESSON], *entries))


def test_lesson_and_its_mark_in_one_batch_accepted() -> None:
    assert accepted(check([], OCT_5_LESSON, mark(OCT_5_LESSON)))


# ------------------------------------------------------------------ pupils of the class (000 §4.5)

MOVED_ON = dt.date(2026, 12, 1)  # s-4 moves from 5 to 6 on this day
BEFORE_MOVE = lesson(dt.date(2026, 11, 20))
AFTER_MOVE = lesson(dt.date(2026, 12, 10))


def directory_with_pupil_moved() -> Directory:
    memberships = tuple(
        msgspec.structs.replace(m, ends=MOVED_ON - dt.timedelta(days=1))
        if m.student_id == "s-4"
        else m
        for m in DIRECTORY.memberships
    )
    moved = Membership(student_id="s-4", class_id=CLASS_6, starts=MOVED_ON)
    return msgspec.structs.replace(DIRECTORY, memberships=(*memberships, moved))


def test_mark_refused_for_pupil_of_another_class() -> None:
    entry = mark(OCT_5_LESSON, student="s-5")  # s-5 is in 6
    assert_refused(check([OCT_5_LESSON], entry), "student_in_class", entry)


def test_mark_refused_for_pupil_who_left_the_class_before_the_lesson() -> None:
    ctx = context(MATH_5, directory_with_pupil_moved())
    entry = mark(AFTER_MOVE, student="s-4")
    assert_refused(check([AFTER_MOVE], entry, ctx=ctx), "student_in_class", entry)


def test_mark_accepted_for_pupil_who_was_in_the_class_on_the_lesson_date() -> None:
    ctx = context(MATH_5, directory_with_pupil_moved())
    assert accepted(check([BEFORE_MOVE], mark(BEFORE_MOVE, student="s-4"), ctx=ctx))


def test_attendance_refused_for_pupil_before_joining_the_class() -> None:
    ctx = context(MATH_6, directory_with_pupil_moved())
    entry = attendance(BEFORE_MOVE, student="s-4")
    assert_refused(check([BEFORE_MOVE], entry, ctx=ctx), "student_in_class", entry)


def test_attendance_accepted_for_pupil_from_the_day_they_joined() -> None:
    ctx = context(MATH_6, directory_with_pupil_moved())
    joined = lesson(MOVED_ON)
    assert accepted(check([joined], attendance(joined, student="s-4"), ctx=ctx))


def test_period_mark_refused_for_pupil_never_in_the_class_during_the_period() -> None:
    entry = period_mark(Q1, at=stamp(dt.date(2026, 10, 24)), student="s-5")
    assert_refused(check([OCT_5_LESSON], entry), "student_in_class", entry)


# ------------------------------------------------------------------ absent pupils (002 §3.5)


@pytest.mark.parametrize("code", [AttendanceCode.ABSENT, AttendanceCode.EXCUSED])
def test_mark_refused_for_absent_pupil_without_medical_document(code: AttendanceCode) -> None:
    absence = attendance(OCT_5_LESSON, code, at=stamp(OCT_5, 10))
    entry = mark(OCT_5_LESSON, at=stamp(OCT_5, 11))
    assert_refused(check([OCT_5_LESSON, absence], entry), "no_mark_for_absent_pupil", entry)


@pytest.mark.parametrize(
    "code", [AttendanceCode.ILL, AttendanceCode.LATE, AttendanceCode.PRESENT], ids=str
)
def test_mark_accepted_for_ill_late_or_present_pupil(code: AttendanceCode) -> None:
    noted = attendance(OCT_5_LESSON, code, at=stamp(OCT_5, 10))
    assert accepted(check([OCT_5_LESSON, noted], mark(OCT_5_LESSON, at=stamp(OCT_5, 11))))


@pytest.mark.parametrize("code", [AttendanceCode.ABSENT, AttendanceCode.EXCUSED])
def test_absence_refused_after_the_pupil_got_a_mark(code: AttendanceCode) -> None:
    given = mark(OCT_5_LESSON, at=stamp(OCT_5, 11))
    entry = attendance(OCT_5_LESSON, code, at=stamp(OCT_5, 12))
    assert_refused(check([OCT_5_LESSON, given], entry), "no_mark_for_absent_pupil", entry)


def test_illness_with_document_accepted_after_the_pupil_got_a_mark() -> None:
    given = mark(OCT_5_LESSON, at=stamp(OCT_5, 11))
    ill = attendance(OCT_5_LESSON, AttendanceCode.ILL, at=stamp(OCT_5, 12))
    assert accepted(check([OCT_5_LESSON, given], ill))


@pytest.mark.parametrize(
    "mark_first", [True, False], ids=["mark-then-absence", "absence-then-mark"]
)
@pytest.mark.parametrize("batch_order", ["clock", "reversed"])
def test_of_mark_and_absence_arriving_together_the_later_is_refused(
    mark_first: bool, batch_order: str
) -> None:
    early, late = stamp(OCT_5, 10), stamp(OCT_5, 11)
    given = mark(OCT_5_LESSON, at=early if mark_first else late)
    absence = attendance(OCT_5_LESSON, at=late if mark_first else early)
    later = absence if mark_first else given
    batch = [given, absence] if mark_first else [absence, given]
    if batch_order == "reversed":
        batch.reverse()
    assert_refused(check([OCT_5_LESSON], *batch), "no_mark_for_absent_pupil", later)


def test_mark_accepted_once_absence_is_corrected_to_present() -> None:
    absence = attendance(OCT_5_LESSON, at=stamp(OCT_5, 10))
    present = attendance(
        OCT_5_LESSON, AttendanceCode.PRESENT, at=stamp(OCT_5, 10, 5), supersedes=(absence.id,)
    )
    assert accepted(check([OCT_5_LESSON, absence, present], mark(OCT_5_LESSON)))


def test_absence_of_another_pupil_does_not_block_a_mark() -> None:
    absence = attendance(OCT_5_LESSON, student="s-2", at=stamp(OCT_5, 10))
    assert accepted(check([OCT_5_LESSON, absence], mark(OCT_5_LESSON, student="s-1")))


# ------------------------------------------------------------------ period marks (000 §5.4)

LAST_Q1_LESSON = lesson(dt.date(2026, 10, 20))


def test_period_mark_refused_for_a_period_without_lessons() -> None:
    entry = period_mark(Q2, at=stamp(dt.date(2026, 12, 28)))
    assert_refused(check([OCT_5_LESSON], entry), "period_mark_after_last_lesson", entry)


def test_period_mark_refused_before_the_last_lesson_of_the_period() -> None:
    # the lesson of 20.10 was recorded the evening before, and the period mark that same evening
    last = lesson(dt.date(2026, 10, 20), at=stamp(dt.date(2026, 10, 19), 18))
    entry = period_mark(Q1, at=stamp(dt.date(2026, 10, 19), 19))
    assert_refused(check([OCT_5_LESSON, last], entry), "period_mark_after_last_lesson", entry)


@pytest.mark.parametrize("entered", [dt.date(2026, 10, 20), dt.date(2026, 10, 26)])
def test_period_mark_accepted_on_or_after_the_day_of_the_last_lesson(entered: dt.date) -> None:
    entry = period_mark(Q1, at=stamp(entered, 18))
    assert accepted(check([OCT_5_LESSON, LAST_Q1_LESSON], entry))


def test_period_mark_refused_for_an_unknown_period() -> None:
    entry = period_mark(f"{YEAR}-q9", at=stamp(dt.date(2026, 10, 26)))
    assert_refused(check([OCT_5_LESSON], entry), "period_mark_after_last_lesson", entry)


# ------------------------------------------------------------------ corrections (000 §5.3)


def test_mark_correcting_a_mark_in_the_same_cell_accepted() -> None:
    old = mark(OCT_5_LESSON, 3, at=stamp(OCT_5, 11))
    new = mark(OCT_5_LESSON, 4, at=stamp(OCT_5, 12), supersedes=(old.id,))
    assert accepted(check([OCT_5_LESSON, old], new))


def test_mark_superseding_an_attendance_refused() -> None:
    present = attendance(OCT_5_LESSON, AttendanceCode.PRESENT, at=stamp(OCT_5, 10))
    entry = mark(OCT_5_LESSON, at=stamp(OCT_5, 11), supersedes=(present.id,))
    assert_refused(check([OCT_5_LESSON, present], entry), "correction_targets_its_cell", entry)


def test_correction_of_another_pupils_mark_refused() -> None:
    old = mark(OCT_5_LESSON, 3, student="s-2", at=stamp(OCT_5, 11))
    entry = mark(OCT_5_LESSON, 4, student="s-1", at=stamp(OCT_5, 12), supersedes=(old.id,))
    assert_refused(check([OCT_5_LESSON, old], entry), "correction_targets_its_cell", entry)


def test_correction_of_a_missing_entry_refused() -> None:
    entry = mark(OCT_5_LESSON, at=stamp(OCT_5, 12), supersedes=("no-such-entry",))
    assert_refused(check([OCT_5_LESSON], entry), "correction_targets_its_cell", entry)


def test_correction_of_an_entry_the_server_refused_is_refused() -> None:
    old = mark(OCT_5_LESSON, 3, at=stamp(OCT_5, 11))
    refusal = Refused(
        **_common(stamp(OCT_5, 11, 30), "server", (old.id,), ""), rule="weight_in_range"
    )
    entry = mark(OCT_5_LESSON, 4, at=stamp(OCT_5, 12), supersedes=(old.id,))
    assert_refused(check([OCT_5_LESSON, old, refusal], entry), "correction_targets_its_cell", entry)


def test_retraction_of_a_mark_accepted() -> None:
    old = mark(OCT_5_LESSON, at=stamp(OCT_5, 11))
    assert accepted(check([OCT_5_LESSON, old], retraction(old, at=stamp(OCT_5, 12))))


def test_retraction_spanning_two_cells_refused() -> None:
    first = mark(OCT_5_LESSON, student="s-1", at=stamp(OCT_5, 11))
    second = mark(OCT_5_LESSON, student="s-2", at=stamp(OCT_5, 11, 1))
    entry = retraction(first, second, at=stamp(OCT_5, 12))
    assert_refused(
        check([OCT_5_LESSON, first, second], entry), "correction_targets_its_cell", entry
    )


# ------------------------------------------------------------------ late corrections (000 §5.3)


def test_mark_corrected_the_same_day_needs_no_reason() -> None:
    old = mark(OCT_5_LESSON, 3, at=stamp(OCT_5, 11))
    new = mark(OCT_5_LESSON, 4, at=stamp(OCT_5, 20), supersedes=(old.id,))
    assert accepted(check([OCT_5_LESSON, old], new))


def test_mark_corrected_next_day_refused_without_reason() -> None:
    old = mark(OCT_5_LESSON, 3, at=stamp(OCT_5, 11))
    entry = mark(OCT_5_LESSON, 4, at=stamp(dt.date(2026, 10, 6)), supersedes=(old.id,))
    assert_refused(check([OCT_5_LESSON, old], entry), "late_correction_has_reason", entry)


def test_mark_corrected_next_day_refused_with_blank_reason() -> None:
    old = mark(OCT_5_LESSON, 3, at=stamp(OCT_5, 11))
    entry = mark(
        OCT_5_LESSON, 4, at=stamp(dt.date(2026, 10, 6)), supersedes=(old.id,), reason="   "
    )
    assert_refused(check([OCT_5_LESSON, old], entry), "late_correction_has_reason", entry)


def test_mark_corrected_next_day_accepted_with_reason() -> None:
    old = mark(OCT_5_LESSON, 3, at=stamp(OCT_5, 11))
    new = mark(
        OCT_5_LESSON,
        4,
        at=stamp(dt.date(2026, 10, 6)),
        supersedes=(old.id,),
        reason="Ошибка при вводе: работа переписана",
    )
    assert accepted(check([OCT_5_LESSON, old], new))


def test_mark_retracted_next_day_refused_without_reason() -> None:
    old = mark(OCT_5_LESSON, at=stamp(OCT_5, 11))
    entry = retraction(old, at=stamp(dt.date(2026, 10, 6)))
    assert_refused(check([OCT_5_LESSON, old], entry), "late_correction_has_reason", entry)


def test_period_mark_corrected_next_day_refused_without_reason() -> None:
    old = period_mark(Q1, 4, at=stamp(dt.date(2026, 10, 24)))
    entry = period_mark(Q1, 5, at=stamp(dt.date(2026, 10, 25)), supersedes=(old.id,))
    assert_refused(check([OCT_5_LESSON, old], entry), "late_correction_has_reason", entry)


def test_event_outside_its_format_limits_is_refused_before_any_rule():
    """msgspec checks limits on decoding only; a slot of 15 built in code must not be saved."""
    from shared.rules import well_formed

    event = MarkGiven(
        id="m-slot",
        author="t-math",
        device="d",
        hlc="0000000000000-000000-d",
        lesson_id="L1",
        student_id="s-1",
        value=5,
        slot=15,
    )
    violation = well_formed(event)
    assert violation is not None and violation.rule == "well_formed"
    assert "формату" in violation.message_ru
    assert well_formed(msgspec.structs.replace(event, slot=1)) is None
