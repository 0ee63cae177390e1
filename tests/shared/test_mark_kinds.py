"""Scales, special values and kinds of marks (issue 16), each test citing its clause."""

from __future__ import annotations

import datetime as dt

import msgspec
import pytest

from shared.fold import fold
from shared.grades import average_of, round_mark, suggested_final, weight_for
from shared.model import (
    SERVER_AUTHOR,
    AttendanceCode,
    AttendanceMarked,
    MarkGiven,
    MarkKind,
    MarkSpecial,
    NotAttestedReason,
    PeriodMarkGiven,
    Refused,
    Retracted,
    Scale,
    ScaleSetting,
    WorkKind,
    WorkWeight,
)
from shared.rules import (
    RuleViolation,
    clashes_with_counted,
    displaced_by_exemption,
    lifted_exemptions,
)
from shared.scales import FIVE_POINT, JournalScale, parse_typed, refusal, scale_of
from tests.factories import CLASS_5, YEAR
from tests.shared.test_rules import (
    DIRECTORY,
    OCT_5,
    OCT_5_LESSON,
    Q1,
    _common,
    accepted,
    assert_refused,
    check,
    context,
    lesson,
    mark,
    stamp,
)

AFTER_Q1 = stamp(dt.date(2026, 10, 24))


def with_scales(*settings: ScaleSetting, grade_5: int = 5):
    classes = tuple(
        msgspec.structs.replace(c, grade=grade_5) if c.id == CLASS_5 else c
        for c in DIRECTORY.classes
    )
    directory = msgspec.structs.replace(DIRECTORY, scales=settings, classes=classes)
    return context(directory=directory)


def special_mark(special: MarkSpecial, *, value: int = 0, modifier: str = "") -> MarkGiven:
    return MarkGiven(
        **_common(stamp(OCT_5, 11), "t-math", (), ""),
        lesson_id=OCT_5_LESSON.lesson_id,
        student_id="s-1",
        value=value,
        modifier=modifier,
        special=special,
    )


def column_mark(
    special: MarkSpecial = MarkSpecial.NONE,
    value: int = 0,
    *,
    kind: MarkKind = MarkKind.PERIOD,
    at: str = AFTER_Q1,
    **fields,
) -> PeriodMarkGiven:
    return PeriodMarkGiven(
        **_common(at, "t-math", (), ""),
        period_id=Q1,
        student_id="s-1",
        value=value,
        mark_kind=kind,
        special=special,
        **fields,
    )


PASS_FAIL = ScaleSetting(scale=Scale.PASS_FAIL, subject_id="math")


# ------------------------------------------------------------ which scale (004 §1.5, 001 §3.4)


def test_scale_defaults_five_point_and_grade_one_without_marks() -> None:
    """004 §1.5: five-point in grades 1–11 unless the school's act says otherwise; grade 1 is
    taught without marks by default."""
    assert scale_of((), 5, "math") == JournalScale(Scale.FIVE_POINT)
    assert scale_of((), 1, "math") == JournalScale(Scale.NONE)


def test_most_specific_scale_setting_wins() -> None:
    settings = (
        ScaleSetting(scale=Scale.NONE, subject_id="orkse"),
        ScaleSetting(scale=Scale.FIVE_POINT, grade=1, subject_id="orkse", modifiers=True),
        ScaleSetting(scale=Scale.PASS_FAIL, grade=4),
    )
    assert scale_of(settings, 4, "orkse").scale is Scale.NONE
    assert scale_of(settings, 1, "orkse") == JournalScale(Scale.FIVE_POINT, modifiers=True)
    assert scale_of(settings, 4, "math").scale is Scale.PASS_FAIL


@pytest.mark.parametrize(
    ("typed", "value", "modifier", "special"),
    [
        ("5", 5, "", MarkSpecial.NONE),
        ("4+", 4, "+", MarkSpecial.NONE),
        ("3−", 3, "-", MarkSpecial.NONE),
        ("зач", 0, "", MarkSpecial.PASS),
        ("НЕЗАЧ", 0, "", MarkSpecial.FAIL),
        ("н/а", 0, "", MarkSpecial.NOT_ATTESTED),
        ("осв.", 0, "", MarkSpecial.EXEMPT),
    ],
)
def test_typed_values_parse(typed: str, value: int, modifier: str, special) -> None:
    parsed = parse_typed(typed)
    assert parsed is not None
    assert (parsed.value, parsed.modifier, parsed.special) == (value, modifier, special)


@pytest.mark.parametrize("typed", ["5++", "отл", "", "+", "٣"])
def test_anything_else_does_not_parse(typed: str) -> None:
    assert parse_typed(typed) is None


@pytest.mark.parametrize("typed", ["6", "0", "12"])
def test_numbers_off_the_scale_parse_and_the_rule_refuses_them(typed: str) -> None:
    """004 §1.5: the person is told the scale and its clause, not «unreadable»."""
    parsed = parse_typed(typed)
    assert parsed is not None
    message = refusal(FIVE_POINT, parsed.value, parsed.modifier, parsed.special)
    assert message is not None and "004 §1.5" in message


# ------------------------------------------------------------ the rules on each scale


def test_pass_fail_subject_takes_zach_and_nezach() -> None:
    """001 §3.4: results counted as «зачёт»."""
    ctx = with_scales(PASS_FAIL)
    for special in (MarkSpecial.PASS, MarkSpecial.FAIL):
        assert accepted(check([OCT_5_LESSON], special_mark(special), ctx=ctx))


def test_pass_fail_subject_refuses_a_number() -> None:
    """001 §3.4: a pass/fail subject has no five-point marks."""
    entry = mark(OCT_5_LESSON, 5)
    assert_refused(
        check([OCT_5_LESSON], entry, ctx=with_scales(PASS_FAIL)), "mark_in_journal_scale", entry
    )


def test_five_point_subject_refuses_zach() -> None:
    """004 §1.5: «зач» is not on the five-point scale."""
    entry = special_mark(MarkSpecial.PASS)
    assert_refused(check([OCT_5_LESSON], entry), "mark_in_journal_scale", entry)


def test_grade_one_journal_refuses_every_mark() -> None:
    """004 §1.5: grade 1 is taught without marks (безотметочное обучение)."""
    ctx = with_scales(grade_5=1)
    for entry in (mark(OCT_5_LESSON, 5), special_mark(MarkSpecial.PASS)):
        violations = check([OCT_5_LESSON], entry, ctx=ctx)
        assert_refused(violations, "mark_in_journal_scale", entry)
        assert "без отметок" in violations[0].message_ru


def test_subject_without_marks_refuses_marks_in_any_grade() -> None:
    """004 §1.5: ОРКСЭ and the like are kept without marks when the school says so."""
    ctx = with_scales(ScaleSetting(scale=Scale.NONE, subject_id="math"))
    entry = mark(OCT_5_LESSON, 4)
    assert_refused(check([OCT_5_LESSON], entry, ctx=ctx), "mark_in_journal_scale", entry)


def test_modifiers_refused_unless_the_school_allows_them() -> None:
    """004 §1.5: «4+» only where the school's act allows modifiers."""
    entry = special_mark(MarkSpecial.NONE, value=4, modifier="+")
    assert_refused(check([OCT_5_LESSON], entry), "mark_in_journal_scale", entry)
    allowed = with_scales(ScaleSetting(scale=Scale.FIVE_POINT, modifiers=True))
    assert accepted(check([OCT_5_LESSON], entry, ctx=allowed))


def test_modifiers_never_in_a_period_column() -> None:
    """004 §1.5: a period mark is a whole mark even where current marks may carry «+»."""
    allowed = with_scales(ScaleSetting(scale=Scale.FIVE_POINT, modifiers=True))
    assert parse_typed("4+") is not None
    assert JournalScale(Scale.FIVE_POINT, True).modifiers
    # PeriodMarkGiven has no modifier field at all: the struct refuses one on decoding
    raw = msgspec.json.encode(column_mark(value=4)).replace(
        b'"value":4', b'"value":4,"modifier":"+"'
    )
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(raw, type=PeriodMarkGiven)
    assert accepted(check([OCT_5_LESSON], column_mark(value=4), ctx=allowed))


# ------------------------------------------------------------ special values (004 §1.4)


def test_not_attested_needs_a_reason() -> None:
    """004 §1.4: «н/а» says why: absences or no marks."""
    entry = column_mark(MarkSpecial.NOT_ATTESTED)
    assert_refused(check([OCT_5_LESSON], entry), "special_value_has_basis", entry)
    ok = column_mark(MarkSpecial.NOT_ATTESTED, na_reason=NotAttestedReason.ABSENCES)
    assert accepted(check([OCT_5_LESSON], ok))


def test_not_attested_only_in_period_and_year_columns() -> None:
    """004 §1.4: «н/а» and «осв.» are period and year values, never a current mark."""
    entry = special_mark(MarkSpecial.NOT_ATTESTED)
    assert_refused(check([OCT_5_LESSON], entry), "mark_in_journal_scale", entry)


def test_special_value_cannot_carry_a_number() -> None:
    entry = column_mark(MarkSpecial.NOT_ATTESTED, 3, na_reason=NotAttestedReason.NO_MARKS)
    assert_refused(check([OCT_5_LESSON], entry), "mark_in_journal_scale", entry)


def exemption(starts: dt.date, ends: dt.date, *, at: str | None = None) -> PeriodMarkGiven:
    return column_mark(
        MarkSpecial.EXEMPT,
        at=at or stamp(dt.date(2026, 9, 20)),
        document="Справка ВК № 12",
        exempt_from=starts,
        exempt_to=ends,
    )


def test_exemption_needs_document_and_dates() -> None:
    """004 §1.4: «осв.» by a document, for dates."""
    entry = column_mark(MarkSpecial.EXEMPT, at=stamp(dt.date(2026, 9, 20)))
    assert_refused(check([OCT_5_LESSON], entry), "special_value_has_basis", entry)
    backwards = exemption(dt.date(2026, 10, 10), dt.date(2026, 10, 1))
    assert_refused(check([OCT_5_LESSON], backwards), "special_value_has_basis", backwards)


def test_exemption_is_recorded_before_the_period_ends() -> None:
    """000 §5.4 is for marks: an exemption is entered when its document comes."""
    assert accepted(check([OCT_5_LESSON], exemption(dt.date(2026, 10, 1), dt.date(2026, 10, 20))))


def test_exempt_pupil_gets_no_mark_for_those_dates() -> None:
    """004 §1.4: an exempt pupil's current-mark cells refuse marks for the exemption's dates."""
    free = exemption(dt.date(2026, 10, 1), dt.date(2026, 10, 20))
    entry = mark(OCT_5_LESSON, 5)
    assert_refused(check([OCT_5_LESSON, free], entry), "no_mark_for_exempt_pupil", entry)
    later = lesson(dt.date(2026, 10, 21))
    assert accepted(check([OCT_5_LESSON, later, free], mark(later, 5)))
    assert accepted(check([OCT_5_LESSON, free], mark(OCT_5_LESSON, 5, student="s-2")))


def test_exemption_arriving_after_a_mark_displaces_it() -> None:
    """004 §1.4: whichever arrived first, the mark on an exempt day is refused."""
    entry = mark(OCT_5_LESSON, 5)
    free = exemption(dt.date(2026, 10, 1), dt.date(2026, 10, 20))
    state = fold({e.id: e for e in (OCT_5_LESSON, entry)})
    assert check([OCT_5_LESSON, entry], free) == []
    displaced = displaced_by_exemption(state, [free], context())
    assert [(v.rule, v.event_id) for v in displaced] == [("no_mark_for_exempt_pupil", entry.id)]


def test_exemption_retracted_before_it_arrives_displaces_nothing() -> None:
    """An «осв.» typed and retracted offline reaches the server in one push: it never stood,
    so the mark already taken stays (it used to be refused by the dead exemption)."""
    entry = mark(OCT_5_LESSON, 5)
    free = exemption(dt.date(2026, 10, 1), dt.date(2026, 10, 20))
    undo = Retracted(**_common(stamp(dt.date(2026, 9, 21)), "t-math", (free.id,), "ошибка"))
    state = fold({e.id: e for e in (OCT_5_LESSON, entry)})
    assert displaced_by_exemption(state, [free, undo], context()) == []
    # a retraction the server refused undoes nothing: the exemption stands
    refused = [RuleViolation("year_not_closed", "…", undo.id)]
    displaced = displaced_by_exemption(state, [free, undo], context(), refused)
    assert [v.event_id for v in displaced] == [entry.id]


def _refused_by_exemption(entry: MarkGiven) -> Refused:
    return Refused(
        **_common(stamp(dt.date(2026, 10, 6)), SERVER_AUTHOR, (entry.id,), "осв."),
        rule="no_mark_for_exempt_pupil",
    )


def test_retracted_exemption_lifts_the_refusal_of_the_marks_it_covered() -> None:
    """004 §1.4, docs/DESIGN.md «A retracted exemption»: the mark given in class counts
    again by itself once no exemption covers its day; a mark still covered stays refused."""
    entry = mark(OCT_5_LESSON, 5)
    free = exemption(dt.date(2026, 10, 1), dt.date(2026, 10, 20))
    refusal = _refused_by_exemption(entry)
    undo = Retracted(**_common(stamp(dt.date(2026, 10, 7)), "t-deputy", (free.id,), "ошибка"))
    events = (OCT_5_LESSON, entry, free, refusal, undo)
    state = fold({e.id: e for e in events})
    assert lifted_exemptions(state, [undo], context()) == {entry.id: refusal}
    assert lifted_exemptions(state, [entry], context()) == {}  # no column touched: nothing
    refused_undo = [RuleViolation("year_not_closed", "…", undo.id)]
    assert lifted_exemptions(state, [undo], context(), refused_undo) == {}
    narrowed = msgspec.structs.replace(
        exemption(dt.date(2026, 10, 1), dt.date(2026, 10, 6), at=stamp(dt.date(2026, 10, 7))),
        supersedes=(free.id,),
    )
    still = fold({e.id: e for e in (*events[:4], narrowed)})
    assert lifted_exemptions(still, [narrowed], context()) == {}


def test_a_lesson_moved_out_of_the_exemption_gives_its_mark_back() -> None:
    """The refused mark's lesson is corrected to a day the exemption does not cover."""
    entry = mark(OCT_5_LESSON, 5)
    free = exemption(dt.date(2026, 10, 1), dt.date(2026, 10, 20))
    refusal = _refused_by_exemption(entry)
    moved = msgspec.structs.replace(
        lesson(dt.date(2026, 10, 21)),
        lesson_id=OCT_5_LESSON.lesson_id,
        supersedes=(OCT_5_LESSON.id,),
        reason="перенос",
    )
    state = fold({e.id: e for e in (OCT_5_LESSON, entry, free, refusal, moved)})
    assert lifted_exemptions(state, [moved], context()) == {entry.id: refusal}


def test_a_mark_brought_back_yields_to_an_absence_recorded_meanwhile() -> None:
    """002 §3.5: the pupil was marked absent while the mark did not count; bringing the mark
    back never makes that absence stop counting: the mark is refused for it."""
    entry = mark(OCT_5_LESSON, 5)
    absent = AttendanceMarked(
        **_common(stamp(OCT_5, 14), "t-math", (), ""),
        lesson_id=OCT_5_LESSON.lesson_id,
        student_id="s-1",
        code=AttendanceCode.ABSENT,
    )
    base = fold({e.id: e for e in (OCT_5_LESSON, absent)})
    (clash,) = clashes_with_counted(base, [entry])
    assert (clash.rule, clash.event_id) == ("no_mark_for_absent_pupil", entry.id)
    assert clashes_with_counted(fold({OCT_5_LESSON.id: OCT_5_LESSON}), [entry]) == []


def test_zach_in_period_column_of_a_pass_fail_subject() -> None:
    """001 §3.4: the period result of a pass/fail subject is «зач» or «незач»."""
    ctx = with_scales(PASS_FAIL)
    assert accepted(check([OCT_5_LESSON], column_mark(MarkSpecial.PASS), ctx=ctx))
    entry = column_mark(value=5)
    assert_refused(check([OCT_5_LESSON], entry, ctx=ctx), "mark_in_journal_scale", entry)


# ------------------------------------------------------------ kinds of marks (004 §1.4)


@pytest.mark.parametrize("kind", [MarkKind.EXAM, MarkKind.FINAL])
def test_exam_and_final_are_columns_of_their_own(kind: MarkKind) -> None:
    """004 §1.4, 000 §3.2.2: the exam and final marks live beside the year's (the year mark
    is the year period's own cell)."""
    period = column_mark(value=4)
    other = column_mark(value=5, kind=kind)
    assert accepted(check([OCT_5_LESSON, period], other))
    state = fold({e.id: e for e in (OCT_5_LESSON, period, other)})
    assert state.period_mark(Q1, "s-1").value == 4
    assert state.period_mark(Q1, "s-1", kind).value == 5


def test_thematic_marks_are_a_column_per_topic_and_set_before_the_period_ends() -> None:
    """004 §1.4: a mark for a topic or module is its own column, set when the topic ends."""
    early = stamp(dt.date(2026, 10, 6))
    fractions = column_mark(value=4, kind=MarkKind.THEMATIC, at=early, topic="Дроби")
    decimals = column_mark(value=3, kind=MarkKind.THEMATIC, at=early, topic="Десятичные")
    assert accepted(check([OCT_5_LESSON], fractions, decimals))
    state = fold({e.id: e for e in (OCT_5_LESSON, fractions, decimals)})
    assert state.period_mark(Q1, "s-1", MarkKind.THEMATIC, "Дроби").value == 4
    assert state.period_mark(Q1, "s-1", MarkKind.THEMATIC, "Десятичные").value == 3
    assert state.period_mark(Q1, "s-1") is None


def test_period_mark_still_waits_for_the_last_lesson() -> None:
    """000 §5.4: kept for the period mark."""
    entry = column_mark(value=4, at=stamp(dt.date(2026, 10, 4)))
    assert_refused(check([OCT_5_LESSON], entry), "period_mark_after_last_lesson", entry)


# ------------------------------------------------------------ weights and rounding (002 §3.2)


def test_one_weight_table_for_every_caller() -> None:
    """002 §3.2: the form of assessment sets the weight; the school's table overrides."""
    assert weight_for(WorkKind.CONTROL) == 2
    assert weight_for(WorkKind.REGULAR) == 1
    assert weight_for(WorkKind.CONTROL, (WorkWeight(work_kind="control", weight=3),)) == 3


def test_rounding_half_up_and_final_from_year_and_exam() -> None:
    assert [round_mark(x) for x in (3.49, 3.5, 4.5, 0.2, 7)] == [3, 4, 5, 1, 5]
    assert suggested_final(4, 5) == 5  # 4.5 rounds up
    assert suggested_final(4, None) == 4
    assert suggested_final(None, 5) is None


def test_zach_does_not_count_in_an_average() -> None:
    marks = [mark(OCT_5_LESSON, 4), special_mark(MarkSpecial.PASS)]
    assert average_of(marks) == 4.0


def test_new_fields_stay_out_of_old_laptops_way() -> None:
    """A plain mark encodes without the new fields, so an older laptop still reads it."""
    raw = msgspec.json.encode(mark(OCT_5_LESSON, 5))
    assert b"special" not in raw and b"modifier" not in raw
    assert YEAR


# ------------------------------------------------------------ corrections ask why (000 §5.3)


def _attendance(code, *, at: str, supersedes=(), reason=""):
    from shared.model import AttendanceMarked

    return AttendanceMarked(
        **_common(at, "t-math", supersedes, reason),
        lesson_id=OCT_5_LESSON.lesson_id,
        student_id="s-1",
        code=code,
    )


def test_slip_fixed_the_day_it_was_typed_needs_no_reason_even_after_the_lesson() -> None:
    """000 §5.3 controls corrections of the record, not a typo fixed the day it was typed."""
    old = mark(OCT_5_LESSON, 3, at=stamp(dt.date(2026, 10, 7), 9))
    entry = mark(OCT_5_LESSON, 4, at=stamp(dt.date(2026, 10, 7), 12), supersedes=(old.id,))
    assert accepted(check([OCT_5_LESSON, old], entry))


def test_attendance_corrected_after_the_lesson_day_needs_a_reason() -> None:
    """000 §5.3: attendance changed on a later day than entered is a controlled correction."""
    from shared.model import AttendanceCode

    old = _attendance(AttendanceCode.LATE, at=stamp(OCT_5, 10))
    entry = _attendance(
        AttendanceCode.PRESENT, at=stamp(dt.date(2026, 10, 6)), supersedes=(old.id,)
    )
    assert_refused(check([OCT_5_LESSON, old], entry), "late_correction_has_reason", entry)


def test_attendance_change_that_unlocks_a_mark_needs_a_reason() -> None:
    """000 §5.3, 002 §3.5: н → present (or б) unlocks a mark: a reason, the same day too."""
    from shared.model import AttendanceCode

    absent = _attendance(AttendanceCode.ABSENT, at=stamp(OCT_5, 10))
    for code in (AttendanceCode.PRESENT, AttendanceCode.ILL):
        unlock = _attendance(code, at=stamp(OCT_5, 10, 5), supersedes=(absent.id,))
        assert_refused(
            check([OCT_5_LESSON, absent], unlock),
            "attendance_change_around_mark_has_reason",
            unlock,
        )
    with_reason = _attendance(
        AttendanceCode.PRESENT,
        at=stamp(OCT_5, 10, 5),
        supersedes=(absent.id,),
        reason="Пришёл ко второй половине урока",
    )
    assert accepted(check([OCT_5_LESSON, absent], with_reason))
    present = _attendance(AttendanceCode.PRESENT, at=stamp(OCT_5, 10))
    lock = _attendance(AttendanceCode.ABSENT, at=stamp(OCT_5, 10, 5), supersedes=(present.id,))
    assert accepted(check([OCT_5_LESSON, present], lock))  # taking attendance stays free
