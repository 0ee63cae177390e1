"""The portfolio's rules (shared/rules.py PORTFOLIO_RULES) and its fold: each refusal, and what
passes; who keeps which class's portfolio (shared/portfolio.py)."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re

import msgspec
import pytest

from shared import portfolio
from shared.fold import fold
from shared.hlc import format_stamp
from shared.model import (
    AchievementKind,
    AchievementRecorded,
    AchievementResult,
    Attachment,
    MarkGiven,
    Retracted,
    YearClosure,
    decode_event,
    encode_event,
    is_portfolio_id,
    parse_journal_id,
    portfolio_id,
)
from shared.rules import (
    PORTFOLIO_RULES,
    PortfolioContext,
    check_new_events,
    context_for,
)
from tests.factories import CLASS_5, CLASS_6, MATH_5, YEAR, fixture_directory

MSK = dt.timezone(dt.timedelta(hours=3))
DIRECTORY = fixture_directory()
PORTFOLIO_5 = portfolio_id(YEAR, CLASS_5)
DAY = dt.date(2026, 10, 20)
PDF_SHA = "a" * 64
_ids = itertools.count(1)


def stamp(day: dt.date = DAY, hour: int = 10) -> str:
    moment = dt.datetime.combine(day, dt.time(hour), tzinfo=MSK)
    return format_stamp(int(moment.timestamp() * 1000), next(_ids) % 1000, "laptop")


def ctx(class_id: str = CLASS_5) -> PortfolioContext:
    info = portfolio.info(DIRECTORY, class_id, writable=True)
    found = context_for(DIRECTORY, info)
    assert isinstance(found, PortfolioContext)
    return found


def achievement(**fields) -> AchievementRecorded:
    values = {
        "id": f"e{next(_ids)}",
        "author": "t-math",
        "device": "laptop",
        "hlc": stamp(),
        "achievement_id": f"A{next(_ids)}",
        "student_id": "s-1",
        "achievement_kind": AchievementKind.OLYMPIAD,
        "title": "Школьный этап ВсОШ",
        "result": AchievementResult.WINNER,
        "date": dt.date(2026, 10, 15),
    } | fields
    return AchievementRecorded(**values)


def violations(*events, context: PortfolioContext | None = None, before=()) -> list[str]:
    state = fold({e.id: e for e in before})
    found = check_new_events(state, events, context or ctx())
    for v in found:
        assert re.search(r"[А-Яа-яЁё]{3,}", v.message_ru), v.message_ru
    return [v.rule for v in found]


# ------------------------------------------------------------------ each refusal


def test_a_valid_achievement_passes() -> None:
    assert violations(achievement()) == []


@pytest.mark.parametrize(
    ("author", "allowed"),
    [
        ("t-math", True),  # class teacher of 5, teaches math there
        ("t-rus", True),  # teaches russian in 5
        ("t-deputy", True),  # administration
        ("t-director", True),
        ("t-records", False),  # the records officer keeps the archive, not portfolios
        ("t-admin", False),
        ("p-1", False),  # a parent
    ],
)
def test_who_may_write_a_class_portfolio(author: str, allowed: bool) -> None:
    expected = [] if allowed else ["portfolio_author_may_write"]
    assert violations(achievement(author=author)) == expected


def test_a_teacher_with_no_tie_to_the_class_is_refused() -> None:
    """rus leads class 6 and teaches russian in 5 only; drop his class-5 lessons."""
    directory = msgspec.structs.replace(
        DIRECTORY, teaching=tuple(t for t in DIRECTORY.teaching if t.teacher_id != "t-rus")
    )
    info = portfolio.info(directory, CLASS_5, writable=True)
    context = context_for(directory, info)
    assert violations(achievement(author="t-rus"), context=context) == [
        "portfolio_author_may_write"
    ]
    # … but he still keeps the portfolio of the class he leads
    assert "t-rus" in portfolio.writers(directory, CLASS_6)


def test_the_pupil_must_belong_to_the_class() -> None:
    assert violations(achievement(student_id="s-5")) == ["achievement_pupil_in_class"]
    assert violations(achievement(student_id="s-5"), context=ctx(CLASS_6)) == []


def test_an_external_achievement_needs_the_familys_consent() -> None:
    assert violations(achievement(external=True)) == ["external_needs_family_consent"]
    assert violations(achievement(external=True, family_consent=True)) == []


@pytest.mark.parametrize(
    ("media_type", "size", "ok"),
    [
        ("application/pdf", 1000, True),
        ("image/png", portfolio.MAX_ATTACHMENT_BYTES, True),
        ("image/jpeg", 5, True),
        ("application/x-msdownload", 1000, False),
        ("application/pdf", portfolio.MAX_ATTACHMENT_BYTES + 1, False),
    ],
)
def test_attachment_type_and_size(media_type: str, size: int, ok: bool) -> None:
    file = Attachment(sha256=PDF_SHA, name="диплом", media_type=media_type, size=size)
    assert violations(achievement(attachment=file)) == ([] if ok else ["attachment_acceptable"])


@pytest.mark.parametrize(
    ("day", "ok"),
    [
        (DAY, True),
        (DAY + dt.timedelta(days=1), True),  # clock skew
        (DAY + dt.timedelta(days=5), False),  # the future
        (dt.date(2026, 8, 30), False),  # before the school year
    ],
)
def test_the_date_is_not_in_the_future_and_in_the_year(day: dt.date, ok: bool) -> None:
    assert violations(achievement(date=day)) == ([] if ok else ["achievement_date_valid"])


def test_a_score_is_not_part_of_an_achievement() -> None:
    """003 §3.4: no scoring. A decoded event with a score field is malformed."""
    raw = json.loads(encode_event(achievement())) | {"score": 10}
    with pytest.raises(msgspec.ValidationError):
        decode_event(json.dumps(raw))


def test_only_achievements_go_in_a_portfolio_and_none_in_a_journal() -> None:
    mark = MarkGiven(
        id="m1", author="t-math", device="laptop", hlc=stamp(), lesson_id="L1",
        student_id="s-1", value=5,
    )  # fmt: skip
    assert violations(mark) == ["entry_fits_document"]
    journal = next(j for j in DIRECTORY.journals if j.id == MATH_5)
    subject = context_for(DIRECTORY, journal)
    assert check_new_events(fold({}), [achievement()], subject)[0].rule == "entry_fits_document"


def test_a_correction_must_stay_in_its_cell() -> None:
    first, other = achievement(), achievement()
    wrong = achievement(achievement_id=other.achievement_id, supersedes=(first.id,))
    assert violations(wrong, before=[first, other]) == ["correction_targets_its_cell"]
    right = achievement(achievement_id=first.achievement_id, supersedes=(first.id,))
    assert violations(right, before=[first, other]) == []


def test_every_portfolio_rule_cites_a_clause() -> None:
    for rule in PORTFOLIO_RULES:
        assert re.search(r"\d{3} §\d", rule.__doc__ or ""), rule.__name__


# ------------------------------------------------------------------ fold and documents


def test_the_fold_keeps_the_current_entry_of_each_achievement() -> None:
    first = achievement(title="Муниципальный этап")
    fixed = achievement(achievement_id=first.achievement_id, supersedes=(first.id,), hlc=stamp(
        hour=11), title="Региональный этап")  # fmt: skip
    other = achievement(date=dt.date(2026, 9, 10))
    gone = achievement()
    retraction = Retracted(id="r1", author="t-math", device="laptop", hlc=stamp(hour=12),
                           supersedes=(gone.id,))  # fmt: skip
    state = fold({e.id: e for e in (first, fixed, other, gone, retraction)})
    assert [a.title for a in state.achievements()] == ["Региональный этап", other.title]
    assert state.value(("achievement", gone.achievement_id)) is None


def test_portfolio_documents_are_apart_from_journals() -> None:
    assert is_portfolio_id(PORTFOLIO_5) and not is_portfolio_id(MATH_5)
    assert parse_journal_id(PORTFOLIO_5) == (YEAR, CLASS_5, "@portfolio")
    assert PORTFOLIO_5 not in {j.id for j in DIRECTORY.journals}
    kept = portfolio.documents_for(DIRECTORY, "t-math", administration=False)
    assert set(kept) == {PORTFOLIO_5, portfolio_id(YEAR, CLASS_6)}
    assert portfolio.documents_for(DIRECTORY, "p-1", administration=False) == {}
    assert len(portfolio.documents_for(DIRECTORY, "t-deputy", administration=True)) == 2


@pytest.mark.parametrize(
    ("head", "found"),
    [
        (b"%PDF-1.7", "application/pdf"),
        (b"\x89PNG\r\n\x1a\n....", "image/png"),
        (b"\xff\xd8\xff\xe0JFIF", "image/jpeg"),
        (b"MZ\x90\x00", None),
        (b"\x7fELF", None),
        (b"", None),
    ],
)
def test_sniffing_by_magic_bytes(head: bytes, found: str | None) -> None:
    assert portfolio.sniff_media_type(head) == found


@pytest.mark.parametrize("administration", [False, True])
def test_documents_kept_are_those_whose_writers_include_the_person(administration):
    """documents_for groups the directory once; it must agree with `writers` class by class."""
    for person in [*DIRECTORY.staff, *DIRECTORY.students]:
        kept = portfolio.documents_for(DIRECTORY, person.id, administration=administration)
        expected = {
            portfolio_id(c.year_id, c.id)
            for c in DIRECTORY.classes
            if administration or person.id in portfolio.writers(DIRECTORY, c.id)
        }
        assert set(kept) == expected, person.id
        assert all(d.writable and d.id == k for k, d in kept.items())
    assert portfolio.documents_for(DIRECTORY, "t-math", administration=False)  # not vacuous


def test_closing_the_year_closes_its_portfolios() -> None:
    closed = YearClosure(year_id=YEAR, closed_on=dt.date(2027, 6, 20), closed_by="t-records")
    directory = msgspec.structs.replace(DIRECTORY, closure=closed)
    context = context_for(directory, portfolio.info(directory, CLASS_5, writable=True))
    assert violations(achievement(), context=context) == ["portfolio_year_not_closed"]
    other = msgspec.structs.replace(closed, year_id="2025-2026")  # an earlier year's closing
    context = context_for(
        msgspec.structs.replace(DIRECTORY, closure=other),
        portfolio.info(DIRECTORY, CLASS_5, writable=True),
    )
    assert violations(achievement(), context=context) == []
