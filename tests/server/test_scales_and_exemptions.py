"""Scales set by the deputy reach the laptops and the server's rules; an exemption that
arrives late from another laptop refuses a mark typed offline, and both laptops converge
(issue 16; 004 §1.4–1.5)."""

from __future__ import annotations

import datetime as dt

import pytest

from server.cli import main
from server.storage.db import connect
from shared.model import AttendanceCode, MarkKind, MarkSpecial, NotAttestedReason, WorkKind
from shared.rules import RuleViolation
from tests.factories import MATH_5, YEAR

OCT_5 = dt.date(2026, 10, 5)
Q1 = f"{YEAR}-q1"


def server_cli(server_config, *args: str) -> int:
    return main(["--db", str(server_config.database), *args])


def test_deputy_sets_a_pass_fail_scale_and_both_sides_refuse_a_number(
    laptop, server_config, capsys
):
    """001 §3.4: the laptop refuses «5» at the keyboard; a laptop that has not yet heard of
    the new scale is refused by the server, with the same rule."""
    stale = laptop("math", name="stale")  # fetched the directory before the change
    assert server_cli(server_config, "scale", "зачёт", "--subject", "math", "--by", "deputy") == 0
    assert "зачёт / незачёт" in capsys.readouterr().out
    fresh = laptop("math", name="fresh")
    lesson = fresh.book.record_lesson(MATH_5, date=OCT_5, topic="Дроби")
    with pytest.raises(RuleViolation) as refused:
        fresh.book.give_mark(MATH_5, lesson.lesson_id, "s-1", 5)
    assert refused.value.rule == "mark_in_journal_scale"
    assert "001 §3.4" in refused.value.message_ru
    fresh.book.give_mark(MATH_5, lesson.lesson_id, "s-1", 0, special=MarkSpecial.PASS)
    assert fresh.sync().complete

    stale.sync()  # gets the lesson; its directory still says five-point
    stale.book.give_mark(MATH_5, lesson.lesson_id, "s-2", 5)
    stale.sync()
    (entry,) = stale.rejected()
    assert "001 §3.4" in entry.message
    conn = connect(server_config.database)
    rows = conn.execute("SELECT student_id, value FROM marks ORDER BY student_id").fetchall()
    assert [tuple(r) for r in rows] == [("s-1", 0)]


def test_scale_command_refuses_bad_input_and_the_wrong_role(server_config, capsys):
    assert server_cli(server_config, "scale", "десятибалльная", "--grade", "5", "--by", "deputy")
    assert "Неизвестная шкала" in capsys.readouterr().err
    assert server_cli(server_config, "scale", "зачёт", "--grade", "12", "--by", "deputy") == 2
    assert server_cli(server_config, "scale", "зачёт", "--subject", "math", "--by", "math") == 2
    assert "Недостаточно прав" in capsys.readouterr().err
    assert server_cli(server_config, "weight", "control", "9", "--by", "deputy") == 2
    conn = connect(server_config.database)
    assert conn.execute("SELECT count(*) FROM scales").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM work_weights").fetchone()[0] == 0


def test_school_weights_reach_the_laptop_and_the_cli_and_grid_agree(laptop, server_config):
    """002 §3.2: one table of weights by kind of work; a control work weighs 3 here."""
    assert server_cli(server_config, "weight", "control", "3", "--by", "deputy") == 0
    math = laptop("math")
    lesson = math.book.record_lesson(
        MATH_5, date=OCT_5, topic="Контрольная", work_kind=WorkKind.CONTROL
    )
    mark = math.book.give_mark(MATH_5, lesson.lesson_id, "s-1", 4)
    assert mark.weight == 3


def lesson_and_offline_exemption(laptop):
    """The teacher's lesson of 05.10, synced; the deputy's «осв.» for s-1 over 01–20.10,
    typed on the deputy's laptop and not yet synced."""
    teacher = laptop("math", name="teacher")
    lesson = teacher.book.record_lesson(MATH_5, date=OCT_5, topic="Дроби")
    assert teacher.sync().complete
    deputy = laptop("deputy")
    deputy.sync()
    exemption = exempt(deputy, dt.date(2026, 10, 20))
    return teacher, deputy, lesson, exemption


def exempt(deputy, until: dt.date, **fields):
    """«осв.» for s-1 in the first quarter, from 01.10 to `until`."""
    return deputy.book.give_period_mark(
        MATH_5,
        Q1,
        "s-1",
        0,
        special=MarkSpecial.EXEMPT,
        document="Справка ВК № 12",
        exempt_from=dt.date(2026, 10, 1),
        exempt_to=until,
        **fields,
    )


def test_late_exemption_refuses_a_mark_typed_offline_and_both_laptops_converge(
    laptop, server_config
):
    """004 §1.4: the deputy's laptop records «осв.» first; the teacher's laptop, offline,
    marks the pupil on an exempt day and syncs first. When the exemption arrives, the
    server refuses the mark; both laptops fold to the same refusal."""
    teacher, deputy, lesson, _ = lesson_and_offline_exemption(laptop)
    mark = teacher.book.give_mark(MATH_5, lesson.lesson_id, "s-1", 5)  # offline, unaware
    assert teacher.sync().complete
    conn = connect(server_config.database)
    assert conn.execute("SELECT count(*) FROM marks").fetchone()[0] == 1
    assert deputy.sync().complete
    report = teacher.sync()
    assert report.complete
    assert report.refused == 1  # reported like any refusal: «отклонено», see F6
    assert teacher.sync().refused == 0  # and only once
    assert deputy.sync().complete

    for side in (teacher, deputy):
        state = side.book.state(MATH_5)
        assert mark.id in state.refusals
        assert "освобождён" in state.refusals[mark.id].reason
        assert state.marks(lesson.lesson_id, "s-1") == []
        assert state.period_mark(Q1, "s-1").special is MarkSpecial.EXEMPT
    assert set(teacher.book.state(MATH_5).events) == set(deputy.book.state(MATH_5).events)
    assert [e.event_id for e in teacher.rejected()] == [mark.id]  # the teacher sees why
    assert conn.execute("SELECT count(*) FROM marks").fetchone()[0] == 0
    # the stored mark is refused now, as the conflicts-and-quarantine report lists it
    status = conn.execute("SELECT status FROM events WHERE id = ?", (mark.id,)).fetchone()[0]
    assert status == "refused"
    row = conn.execute("SELECT special, document FROM attestation_marks").fetchone()
    assert tuple(row) == ("exempt", "Справка ВК № 12")


def test_not_attested_and_exam_marks_are_consolidated_beside_period_marks(laptop, server_config):
    """004 §1.4: «н/а» with its reason and the exam mark reach the server's rows."""
    math = laptop("math")
    math.book.record_lesson(MATH_5, date=OCT_5, topic="Дроби")
    math.book.give_period_mark(
        MATH_5,
        Q1,
        "s-1",
        0,
        special=MarkSpecial.NOT_ATTESTED,
        na_reason=NotAttestedReason.ABSENCES,
    )
    math.book.give_period_mark(MATH_5, Q1, "s-2", 4)
    math.book.give_period_mark(MATH_5, Q1, "s-2", 5, mark_kind=MarkKind.EXAM)
    assert math.sync().complete
    conn = connect(server_config.database)
    plain = conn.execute("SELECT student_id, value FROM period_marks").fetchall()
    assert [tuple(r) for r in plain] == [("s-2", 4)]
    other = conn.execute(
        "SELECT student_id, column_kind, special, na_reason, value FROM attestation_marks "
        "ORDER BY student_id"
    ).fetchall()
    assert [tuple(r) for r in other] == [
        ("s-1", "", "na", "absences", 0),
        ("s-2", "exam", "", "", 5),
    ]


def test_retracted_exemption_withdraws_the_refusal_and_the_mark_counts_again(laptop, server_config):
    """docs/DESIGN.md «A retracted exemption»: the mark was given in class by a teacher who
    could not know; the exemption was the mistake. When it is retracted, the server withdraws
    the refusal it caused, and the mark counts again by itself on every replica."""
    teacher, deputy, lesson, exemption = lesson_and_offline_exemption(laptop)
    first = teacher.book.give_mark(MATH_5, lesson.lesson_id, "s-1", 5)
    assert teacher.sync().complete
    assert deputy.sync().complete  # the exemption arrives late and refuses `first`
    assert first.id in deputy.book.state(MATH_5).refusals
    deputy.book.retract(MATH_5, exemption.id, reason="справка выдана другому ученику")
    assert deputy.sync().complete
    assert teacher.sync().complete
    assert deputy.sync().complete
    for side in (teacher, deputy):
        state = side.book.state(MATH_5)
        assert first.id not in state.refusals
        assert [m.id for m in state.marks(lesson.lesson_id, "s-1")] == [first.id]
        assert state.period_mark(Q1, "s-1") is None
    assert set(teacher.book.state(MATH_5).events) == set(deputy.book.state(MATH_5).events)
    assert teacher.rejected() == []  # the teacher's outbox no longer lists it as refused
    conn = connect(server_config.database)
    rows = conn.execute("SELECT student_id, value, event_id FROM marks").fetchall()
    assert [tuple(r) for r in rows] == [("s-1", 5, first.id)]
    status = conn.execute("SELECT status FROM events WHERE id = ?", (first.id,)).fetchone()[0]
    assert status == "current"
    (reason,) = conn.execute(
        "SELECT reason FROM events WHERE kind = 'refusal-withdrawn'"
    ).fetchone()
    assert reason == "Освобождение отменено или изменено: справка выдана другому ученику"
    assert conn.execute("SELECT count(*) FROM attestation_marks").fetchone()[0] == 0


def test_narrowed_exemption_gives_back_only_the_marks_it_no_longer_covers(laptop, server_config):
    """An exemption corrected to other dates (01–03.10): the mark of 05.10 counts again, the
    one of 02.10 stays refused, with its first refusal (nothing rewritten)."""
    teacher, deputy, lesson, _ = lesson_and_offline_exemption(laptop)
    early = teacher.book.record_lesson(MATH_5, date=dt.date(2026, 10, 2), topic="Числа")
    kept = teacher.book.give_mark(MATH_5, lesson.lesson_id, "s-1", 5)
    covered = teacher.book.give_mark(MATH_5, early.lesson_id, "s-1", 3)
    assert teacher.sync().complete
    assert deputy.sync().complete
    assert {kept.id, covered.id} <= set(deputy.book.state(MATH_5).refusals)
    exempt(deputy, dt.date(2026, 10, 3), reason="в справке другие даты")
    assert deputy.sync().complete
    assert teacher.sync().complete
    state = teacher.book.state(MATH_5)
    assert kept.id not in state.refusals
    assert state.refusals[covered.id].id == f"refusal-{covered.id}"
    assert [m.id for m in state.marks(lesson.lesson_id, "s-1")] == [kept.id]
    assert state.marks(early.lesson_id, "s-1") == []
    assert [e.event_id for e in teacher.rejected()] == [covered.id]


def test_a_mark_that_breaks_another_rule_stays_refused_with_that_rule(laptop, server_config):
    """Withdrawing checks the mark again against every rule: the pupil was marked absent
    (н) on that lesson meanwhile, so the mark is refused anew, for the absence (002 §3.5)."""
    teacher, deputy, lesson, exemption = lesson_and_offline_exemption(laptop)
    mark = teacher.book.give_mark(MATH_5, lesson.lesson_id, "s-1", 5)
    assert teacher.sync().complete
    assert deputy.sync().complete  # `mark` refused for the exemption
    teacher.sync()
    teacher.book.mark_attendance(MATH_5, lesson.lesson_id, ["s-1"], AttendanceCode.ABSENT)
    assert teacher.sync().complete
    deputy.sync()
    deputy.book.retract(MATH_5, exemption.id, reason="ошибка")
    assert deputy.sync().complete
    assert teacher.sync().complete
    state = teacher.book.state(MATH_5)
    assert state.refusals[mark.id].id == f"refusal-{mark.id}.2"
    assert state.refusals[mark.id].rule != "no_mark_for_exempt_pupil"
    assert "освобожд" not in state.refusals[mark.id].reason
    assert state.marks(lesson.lesson_id, "s-1") == []
    (entry,) = teacher.rejected()
    assert entry.event_id == mark.id and entry.rule == state.refusals[mark.id].rule
