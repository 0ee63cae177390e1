"""Validation rules of the school regulations, one function per rule.

The same functions run on the client (refusing at the keyboard) and on the server (refusing on
arrival), so the two cannot disagree. Clause references are `file §clause` of ../shared/seeds.
Each rule returns None when the event is fine or a RuleViolation with a Russian message.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

import msgspec

from shared import groups, portfolio
from shared.fold import JournalState, own_cell
from shared.hlc import stamp_date
from shared.model import (
    ADMINISTRATION,
    AchievementRecorded,
    AttendanceCode,
    AttendanceMarked,
    Directory,
    JournalEvent,
    JournalInfo,
    LessonRecorded,
    MarkGiven,
    MarkKind,
    MarkSpecial,
    Membership,
    Period,
    PeriodMarkGiven,
    Refused,
    Retracted,
    SchoolYear,
    YearClosure,
    is_portfolio_id,
)
from shared.scales import FIVE_POINT, JournalScale, refusal, scale_of

MIN_MARK, MAX_MARK = 1, 5  # the five-point scale (shared.scales knows the others)
MAX_WEIGHT = 5
ABSENT_CODES = frozenset({AttendanceCode.ABSENT, AttendanceCode.EXCUSED})
C = TypeVar("C")  # a rules' context


class RuleViolation(Exception):
    """An entry the regulations do not allow; `message_ru` is shown to the person."""

    def __init__(self, rule: str, message_ru: str, event_id: str = ""):
        super().__init__(f"{rule}: {message_ru}")
        self.rule = rule
        self.message_ru = message_ru
        self.event_id = event_id


@dataclass(frozen=True)
class JournalContext:
    """The directory facts the rules of one journal need."""

    journal: JournalInfo
    year: SchoolYear
    periods: tuple[Period, ...]
    memberships: tuple[Membership, ...]  # of this journal's class (or group)
    writers: frozenset[str]  # staff who may write: its teachers and the administration
    # periods the deputy director has closed for this class (known to the server; a client
    # that does not know them learns of a closure from the server's refusal)
    closed_periods: frozenset[str] = frozenset()
    closure: YearClosure | None = None  # the year is closed: only authorised corrections
    correctors: frozenset[str] = frozenset()  # people with a correction grant for this journal
    scale: JournalScale = FIVE_POINT  # the journal's scale (shared.scales, issue 16)

    @classmethod
    def from_directory(cls, directory: Directory, journal: JournalInfo) -> JournalContext:
        return cls.maker(directory)(journal)

    @classmethod
    def maker(cls, directory: Directory) -> Callable[[JournalInfo], JournalContext]:
        """Contexts of many journals of one directory: its rows are grouped once, so each
        context costs its own journal's rows, not the whole directory's (a district's has
        thousands of journals and tens of thousands of memberships)."""
        teachers = groups.teachers_of(directory)
        admins = frozenset(s.id for s in directory.staff if ADMINISTRATION.intersection(s.roles))
        members = groups.memberships_of(directory)
        correctors: dict[str, set[str]] = {}
        for g in directory.corrections:
            correctors.setdefault(g.journal_id, set()).add(g.person_id)
        grades = {c.id: c.grade for c in directory.classes}

        def make(journal: JournalInfo) -> JournalContext:
            return cls(
                journal=journal,
                year=directory.year,
                periods=tuple(p for p in directory.periods if p.year_id == journal.year_id),
                memberships=members(journal),
                writers=teachers(journal) | admins,
                closure=directory.closure,
                correctors=frozenset(correctors.get(journal.id, ())),
                scale=scale_of(
                    directory.scales, grades.get(journal.class_id, 0), journal.subject_id
                ),
            )

        return make

    @property
    def rules(self) -> tuple[Rule, ...]:
        return RULES

    def period(self, period_id: str) -> Period | None:
        return next((p for p in self.periods if p.id == period_id), None)

    def is_member(self, student_id: str, starts: dt.date, ends: dt.date) -> bool:
        return _is_member(self.memberships, student_id, starts, ends)


def _is_member(
    memberships: Iterable[Membership], student_id: str, starts: dt.date, ends: dt.date
) -> bool:
    return any(
        m.student_id == student_id and m.starts <= ends and (m.ends is None or m.ends >= starts)
        for m in memberships
    )


@dataclass(frozen=True)
class PortfolioContext:
    """The directory facts the rules of one class's portfolio document need."""

    journal: JournalInfo  # the portfolio document (shared.portfolio.info)
    year: SchoolYear
    memberships: tuple[Membership, ...]  # of this class
    writers: frozenset[str]  # its class teacher, its teachers and the administration
    closure: YearClosure | None = None  # the year is closed: its portfolios are archived

    @classmethod
    def from_directory(cls, directory: Directory, journal: JournalInfo) -> PortfolioContext:
        return cls(
            journal=journal,
            year=directory.year,
            memberships=tuple(m for m in directory.memberships if m.class_id == journal.class_id),
            writers=portfolio.writers(directory, journal.class_id),
            closure=directory.closure,
        )

    @property
    def rules(self) -> tuple[PortfolioRule, ...]:
        return PORTFOLIO_RULES

    def is_member(self, student_id: str, starts: dt.date, ends: dt.date) -> bool:
        return _is_member(self.memberships, student_id, starts, ends)


def context_for(directory: Directory, journal: JournalInfo) -> JournalContext | PortfolioContext:
    """The rules' context of a subject journal or of a class's portfolio document."""
    if is_portfolio_id(journal.id):
        return PortfolioContext.from_directory(directory, journal)
    return JournalContext.from_directory(directory, journal)


AnyContext = JournalContext | PortfolioContext
# A rule: the violation `event` commits in `state` (which already includes it), or None.
Rule = Callable[[JournalEvent, JournalState, JournalContext], RuleViolation | None]
PortfolioRule = Callable[[JournalEvent, JournalState, PortfolioContext], RuleViolation | None]


def _violation(rule: str, message: str, event: JournalEvent) -> RuleViolation:
    return RuleViolation(rule, message, event.id)


# ------------------------------------------------------------------------ the rules


def author_may_write(
    event: JournalEvent, state: JournalState, ctx: JournalContext
) -> RuleViolation | None:
    """000 §4.5: only the class's teachers of the subject and the administration keep a journal.

    A class teacher reads the whole class journal without edit rights (000 §5.5).
    """
    if event.author not in ctx.writers:
        where = "в этой группе" if ctx.journal.group else "в этом классе"
        return _violation(
            "author_may_write",
            f"Вы не ведёте этот предмет {where}: журнал доступен только для чтения.",
            event,
        )
    return None


def mark_in_journal_scale(
    event: JournalEvent, state: JournalState, ctx: JournalContext
) -> RuleViolation | None:
    """004 §1.5, 001 §3.4: a mark is on the journal's scale (five-point, зачёт/незачёт, or none
    at all in grade 1 and subjects taught without marks); «+»/«−» only where the school allows.
    """
    if isinstance(event, MarkGiven):
        kind = MarkKind.CURRENT
    elif isinstance(event, PeriodMarkGiven):
        kind = event.mark_kind
    else:
        return None
    modifier = event.modifier if isinstance(event, MarkGiven) else ""
    message = refusal(ctx.scale, event.value, modifier, event.special, kind)
    return _violation("mark_in_journal_scale", message, event) if message else None


def special_value_has_basis(
    event: JournalEvent, state: JournalState, ctx: JournalContext
) -> RuleViolation | None:
    """004 §1.4: «н/а» says why (absences or no marks); «осв.» names its document and the dates
    it covers, within the school year."""
    if not isinstance(event, PeriodMarkGiven):
        return None
    if event.special is MarkSpecial.NOT_ATTESTED and event.na_reason is None:
        return _violation(
            "special_value_has_basis",
            "«н/а» ставится с причиной: по пропускам или при отсутствии отметок (004 §1.4).",
            event,
        )
    if event.special is MarkSpecial.EXEMPT:
        if not event.document.strip() or event.exempt_from is None or event.exempt_to is None:
            return _violation(
                "special_value_has_basis",
                "«осв.» ставится по документу: укажите документ и даты освобождения (004 §1.4).",
                event,
            )
        if not (ctx.year.starts <= event.exempt_from <= event.exempt_to <= ctx.year.ends):
            return _violation(
                "special_value_has_basis",
                "Даты освобождения должны идти по порядку и лежать в учебном году "
                f"{ctx.year.name}.",
                event,
            )
    return None


def _exemption_on(
    state: JournalState, ctx: JournalContext, student_id: str, day: dt.date
) -> PeriodMarkGiven | None:
    """The pupil's live «осв.» covering `day`, looked up per period (not a scan of the journal)."""
    for period in ctx.periods:  # the period's and the year's cell (PeriodKind.YEAR)
        mark = state.period_mark(period.id, student_id)
        if (
            mark is not None
            and mark.special is MarkSpecial.EXEMPT
            and mark.exempt_from is not None
            and mark.exempt_to is not None
            and mark.exempt_from <= day <= mark.exempt_to
        ):
            return mark
    return None


def _exempt_message(exemption: PeriodMarkGiven) -> str:
    return (
        f"Обучающийся освобождён с {exemption.exempt_from:%d.%m.%Y} по "
        f"{exemption.exempt_to:%d.%m.%Y} ({exemption.document}): отметки за эти дни "
        "не ставятся (004 §1.4)."
    )


def no_mark_for_exempt_pupil(
    event: JournalEvent, state: JournalState, ctx: JournalContext
) -> RuleViolation | None:
    """004 §1.4: a pupil exempt by a document («осв.») gets no current marks for those dates,
    whichever arrived first: a mark already taken is refused when the exemption arrives
    (`displaced_by_exemption`)."""
    if not isinstance(event, MarkGiven):
        return None
    lesson = state.lesson(event.lesson_id)
    if lesson is None:
        return None
    exemption = _exemption_on(state, ctx, event.student_id, lesson.date)
    if exemption is not None:
        return _violation("no_mark_for_exempt_pupil", _exempt_message(exemption), event)
    return None


RETROACTIVE_RULES = frozenset({"no_mark_for_exempt_pupil"})  # may refuse an entry taken before


def displaced_by_exemption(
    state: JournalState,
    new: Iterable[JournalEvent],
    ctx: JournalContext | PortfolioContext,
    refused: Iterable[RuleViolation] = (),
) -> list[RuleViolation]:
    """Marks already taken (in `state`) that a newly arrived «осв.» covers (004 §1.4): the
    server refuses them too, so every laptop converges on the refusal whichever synced first.
    `refused` are the new events' own violations: a refused exemption displaces nothing, nor
    does one that arrives already retracted or replaced (typed and undone offline)."""
    if not isinstance(ctx, JournalContext):
        return []
    new = list(new)
    skip = {v.event_id for v in refused}
    undone = {t for e in new if e.id not in skip for t in e.supersedes}
    found: list[RuleViolation] = []
    for exemption in new:
        if exemption.id in skip or exemption.id in undone:
            continue
        if not (
            isinstance(exemption, PeriodMarkGiven)
            and exemption.special is MarkSpecial.EXEMPT
            and exemption.exempt_from is not None
            and exemption.exempt_to is not None
        ):
            continue
        for lesson in state.lessons():
            if not exemption.exempt_from <= lesson.date <= exemption.exempt_to:
                continue
            for mark in state.marks(lesson.lesson_id, exemption.student_id):
                if mark.id not in skip:  # two exemptions covering one mark refuse it once
                    skip.add(mark.id)
                    message = _exempt_message(exemption)
                    found.append(RuleViolation("no_mark_for_exempt_pupil", message, mark.id))
    return found


def lifted_exemptions(
    state: JournalState,
    new: Iterable[JournalEvent],
    ctx: JournalContext | PortfolioContext,
    refused: Iterable[RuleViolation] = (),
) -> dict[str, Refused]:
    """Refusals to withdraw because an exemption no longer covers the mark (docs/DESIGN.md,
    «A retracted exemption»): marks refused by `no_mark_for_exempt_pupil` whose pupil's
    period or year column changed in `new` (the «осв.» retracted, replaced, given other dates,
    or outvoted in a conflict), or whose lesson moved to another day, and whose day no live
    exemption covers now. `state` already
    holds `new`; `refused` are the new events' own violations (they changed nothing). The
    mark was given in class by a teacher who could not know: it counts again by itself."""
    if not isinstance(ctx, JournalContext):
        return {}
    skip = {v.event_id for v in refused}
    pupils, lessons = set(), set()
    for event in new:
        key = state.cell_of.get(event.id) if event.id not in skip else None
        if key is not None and key[0] == "period_mark":
            pupils.add(key[2])
        if key is not None and key[0] == "lesson":  # moved to another day
            lessons.add(key[1])
    found: dict[str, Refused] = {}
    if not pupils and not lessons:
        return found
    for target, refused_by in state.refusals.items():
        mark = state.events.get(target)
        if refused_by.rule != "no_mark_for_exempt_pupil" or not isinstance(mark, MarkGiven):
            continue
        changed = mark.student_id in pupils or mark.lesson_id in lessons
        lesson = state.lesson(mark.lesson_id) if changed else None
        if lesson is not None and _exemption_on(state, ctx, mark.student_id, lesson.date) is None:
            found[target] = refused_by
    return found


def clashes_with_counted(
    state: JournalState, restored: Iterable[JournalEvent]
) -> list[RuleViolation]:
    """Marks a withdrawn refusal would bring back, on a lesson where the pupil was marked
    absent while the mark did not count: the absence was recorded knowing it, so it stays and
    the mark is refused for it (002 §3.5), whichever is older. A withdrawal never makes an
    entry that counted stop counting."""
    found = []
    for event in restored:
        if isinstance(event, MarkGiven):
            cell = state.cells.get(("attendance", event.lesson_id, event.student_id))
            absence = cell.value if cell else None
            if isinstance(absence, AttendanceMarked) and absence.code in ABSENT_CODES:
                found.append(_violation("no_mark_for_absent_pupil", NO_MARK_FOR_ABSENT, event))
    return found


def weight_in_range(
    event: JournalEvent, state: JournalState, ctx: JournalContext
) -> RuleViolation | None:
    """002 §3.2: the form of assessment is recorded; a mark's weight is 1–5 by school policy."""
    if isinstance(event, MarkGiven) and not (1 <= event.weight <= MAX_WEIGHT):
        return _violation(
            "weight_in_range", f"Вес отметки должен быть от 1 до {MAX_WEIGHT}.", event
        )
    return None


def lesson_within_school_year(
    event: JournalEvent, state: JournalState, ctx: JournalContext
) -> RuleViolation | None:
    """000 §5.4: lessons are recorded for the school year they belong to."""
    if isinstance(event, LessonRecorded) and not (ctx.year.starts <= event.date <= ctx.year.ends):
        return _violation(
            "lesson_within_school_year",
            f"Дата урока {event.date:%d.%m.%Y} вне учебного года {ctx.year.name}.",
            event,
        )
    return None


def lesson_not_in_future(
    event: JournalEvent, state: JournalState, ctx: JournalContext
) -> RuleViolation | None:
    """000 §5.3: the journal reflects lessons actually held, so a lesson cannot be in the future."""
    if isinstance(event, LessonRecorded) and event.date > stamp_date(event.hlc) + dt.timedelta(
        days=1
    ):
        return _violation(
            "lesson_not_in_future",
            f"Урок {event.date:%d.%m.%Y} ещё не проведён: запись в будущее запрещена.",
            event,
        )
    return None


def entry_belongs_to_lesson(
    event: JournalEvent, state: JournalState, ctx: JournalContext
) -> RuleViolation | None:
    """002 §3.4: a mark or attendance goes in the column of its lesson, which must exist."""
    if isinstance(event, MarkGiven | AttendanceMarked) and state.lesson(event.lesson_id) is None:
        return _violation(
            "entry_belongs_to_lesson", "Урок не найден в журнале: сначала запишите урок.", event
        )
    return None


def student_in_class(
    event: JournalEvent, state: JournalState, ctx: JournalContext
) -> RuleViolation | None:
    """000 §4.5: a class journal holds that class's pupils, from the day they joined."""
    if isinstance(event, MarkGiven | AttendanceMarked):
        lesson = state.lesson(event.lesson_id)
        if lesson is None:
            return None  # entry_belongs_to_lesson reports it
        starts = ends = lesson.date
    elif isinstance(event, PeriodMarkGiven):
        period = ctx.period(event.period_id)
        if period is None:
            return None  # period_mark_after_last_lesson reports it
        starts, ends = period.starts, period.ends
    else:
        return None
    if not ctx.is_member(event.student_id, starts, ends):
        where = "в этой группе" if ctx.journal.group else "в этом классе"
        return _violation(
            "student_in_class", f"Обучающийся не числится {where} на дату урока.", event
        )
    return None


NO_MARK_FOR_ABSENT = (
    "Отметка отсутствующему не ставится (кроме болезни с медицинским документом, «б»)."
)


def no_mark_for_absent_pupil(
    event: JournalEvent, state: JournalState, ctx: JournalContext
) -> RuleViolation | None:
    """002 §3.5: no mark for a pupil absent from the lesson, except illness with a document.

    Whichever of the two entries (absence, mark) came later is the one refused.
    """
    if isinstance(event, MarkGiven):
        cell = state.cells.get(("attendance", event.lesson_id, event.student_id))
        absence = cell.value if cell else None
        if (
            isinstance(absence, AttendanceMarked)
            and absence.code in ABSENT_CODES
            and absence.hlc < event.hlc
        ):
            return _violation("no_mark_for_absent_pupil", NO_MARK_FOR_ABSENT, event)
    if isinstance(event, AttendanceMarked) and event.code in ABSENT_CODES:
        earlier = [m for m in state.marks(event.lesson_id, event.student_id) if m.hlc < event.hlc]
        if earlier:
            return _violation(
                "no_mark_for_absent_pupil",
                "У обучающегося уже есть отметка за этот урок: отсутствие можно отметить только "
                "«б» (болезнь с документом) или после отмены отметки.",
                event,
            )
    return None


def period_mark_after_last_lesson(
    event: JournalEvent, state: JournalState, ctx: JournalContext
) -> RuleViolation | None:
    """000 §5.4: period marks are set after the last lesson of the reporting period.

    Not an exemption («осв.» is recorded when the document comes, and refuses marks from
    then on) nor a thematic mark (set when the topic ends, 004 §1.4)."""
    if not isinstance(event, PeriodMarkGiven):
        return None
    if event.special is MarkSpecial.EXEMPT or event.mark_kind is MarkKind.THEMATIC:
        period = ctx.period(event.period_id)
        if period is None:
            return _violation("period_mark_after_last_lesson", "Неизвестный учебный период.", event)
        return None
    period = ctx.period(event.period_id)
    if period is None:
        return _violation("period_mark_after_last_lesson", "Неизвестный учебный период.", event)
    held = [
        lesson.date for lesson in state.lessons() if period.starts <= lesson.date <= period.ends
    ]
    if not held:
        return _violation(
            "period_mark_after_last_lesson",
            f"В периоде «{period.name}» нет ни одного урока: отметку за период ставить рано.",
            event,
        )
    entered = stamp_date(event.hlc)
    if entered < max(held):
        return _violation(
            "period_mark_after_last_lesson",
            f"Отметка за «{period.name}» ставится после последнего урока периода "
            f"({max(held):%d.%m.%Y}).",
            event,
        )
    return None


def correction_targets_its_cell(
    event: JournalEvent, state: JournalState, ctx: AnyContext
) -> RuleViolation | None:
    """000 §5.3: a correction replaces an existing entry of the same cell and keeps its history."""
    if not event.supersedes or isinstance(event, Refused):
        return None
    cells = set()
    for target in event.supersedes:
        if target not in state.events or target in state.refusals:
            return _violation(
                "correction_targets_its_cell", "Исправляемая запись не найдена.", event
            )
        cells.add(state.cell_of.get(target))
    expected = {own_cell(event)} if not isinstance(event, Retracted) else cells
    if len(cells) != 1 or cells != expected:
        return _violation(
            "correction_targets_its_cell",
            "Исправление должно относиться к той же клетке журнала.",
            event,
        )
    return None


def late_correction_has_reason(
    event: JournalEvent, state: JournalState, ctx: JournalContext
) -> RuleViolation | None:
    """000 §5.3: corrections are controlled: changing a mark or attendance on a later day than
    it was entered needs a reason (the correction log shows who, when, old → new and why).
    The lesson's day is the entry's day when marks are typed on time; a slip fixed the day it
    was typed (late or not) is not a controlled correction, so a teacher catching up on a
    week is not asked why for every typo."""
    if event.reason.strip() or not event.supersedes:
        return None
    today = stamp_date(event.hlc)
    for target in event.supersedes:
        old = state.events.get(target)
        if not isinstance(old, MarkGiven | PeriodMarkGiven | AttendanceMarked):
            continue
        if stamp_date(old.hlc) < today:
            what = "посещаемости" if isinstance(old, AttendanceMarked) else "отметки"
            return _violation(
                "late_correction_has_reason",
                f"Исправление {what} после дня урока или записи требует указать причину "
                "(000 §5.3).",
                event,
            )
    return None


def attendance_change_around_mark_has_reason(
    event: JournalEvent, state: JournalState, ctx: JournalContext
) -> RuleViolation | None:
    """000 §5.3, 002 §3.5: turning an absence (н, у) into presence, lateness or illness with
    a document unlocks a mark for that lesson: a controlled correction, so it needs a reason.
    (The opposite, locking, is guarded by no_mark_for_absent_pupil; taking attendance —
    everyone present, then the absent — stays free.)"""
    if not isinstance(event, AttendanceMarked) or event.reason.strip():
        return None
    if event.code in ABSENT_CODES:
        return None
    for target in event.supersedes:
        old = state.events.get(target)
        if isinstance(old, AttendanceMarked) and old.code in ABSENT_CODES:
            return _violation(
                "attendance_change_around_mark_has_reason",
                "Исправление отсутствия разрешает поставить отметку за урок: укажите причину "
                "(000 §5.3).",
                event,
            )
    return None


# the rules a person answers by giving a reason: the app asks for one instead of refusing
REASON_RULES = frozenset({"late_correction_has_reason", "attendance_change_around_mark_has_reason"})


def closed_period_change_has_reason(
    event: JournalEvent, state: JournalState, ctx: JournalContext
) -> RuleViolation | None:
    """000 §5.3: once a period is closed for the class, changing its marks needs a reason.

    Such a change is controlled by the deputy director: it is flagged in the correction log."""
    if not ctx.closed_periods or event.reason.strip():
        return None
    targets = [event]
    if isinstance(event, Retracted):
        targets = [state.events[t] for t in event.supersedes if t in state.events]
    for target in targets:
        period = None
        if isinstance(target, PeriodMarkGiven):
            period = ctx.period(target.period_id)
        elif isinstance(target, MarkGiven):
            lesson = state.lesson(target.lesson_id)
            period = next(
                (
                    p
                    for p in ctx.periods
                    if p.id in ctx.closed_periods
                    and lesson is not None
                    and p.starts <= lesson.date <= p.ends
                ),
                None,
            )
        if period is not None and period.id in ctx.closed_periods:
            return _violation(
                "closed_period_change_has_reason",
                f"Период «{period.name}» закрыт заместителем директора: изменение отметок "
                "за него требует указать причину (000 §5.3).",
                event,
            )
    return None


def year_not_closed(
    event: JournalEvent, state: JournalState, ctx: JournalContext
) -> RuleViolation | None:
    """000 §7.1–7.3, §5.3: a closed year's journal is archived; only an authorised correction
    (a grant from the deputy director, with a reason, replacing an existing entry) is taken.

    Entries typed offline before the closing but arriving after it are refused too: the archive
    was made without them. They stay in the document, refused, for the teacher to see.
    """
    closure = ctx.closure
    if closure is None or closure.year_id != ctx.journal.year_id:
        return None
    if event.author in ctx.correctors and event.supersedes and event.reason.strip():
        return None
    closed = f"Учебный год {ctx.year.name} закрыт {closure.closed_on:%d.%m.%Y}, журнал сдан в архив"
    if event.author in ctx.correctors:
        message = (
            f"{closed}: разрешённое исправление должно заменять существующую запись "
            "и указывать причину."
        )
    else:
        message = (
            f"{closed}: запись не принята. Исправить журнал закрытого года можно только "
            "с разрешения заместителя директора."
        )
    return _violation("year_not_closed", message, event)


def portfolio_year_not_closed(
    event: JournalEvent, state: JournalState, ctx: PortfolioContext
) -> RuleViolation | None:
    """000 §7.1: closing the year closes its portfolios — they went into the year's archive
    package, so an entry arriving after the closing is refused and stays visible as such."""
    closure = ctx.closure
    if closure is None or closure.year_id != ctx.journal.year_id:
        return None
    return _violation(
        "portfolio_year_not_closed",
        f"Учебный год {ctx.year.name} закрыт {closure.closed_on:%d.%m.%Y}, портфолио этого года "
        "сдано в архив: запись не принята. Достижение запишите в портфолио нового учебного года.",
        event,
    )


def entry_fits_document(
    event: JournalEvent, state: JournalState, ctx: AnyContext
) -> RuleViolation | None:
    """000 §4.2.1: achievements go to the portfolio, not to a subject's journal; the portfolio
    holds achievements only."""
    if isinstance(ctx, PortfolioContext):
        if not isinstance(event, AchievementRecorded | Retracted):
            return _violation(
                "entry_fits_document", "В портфолио записываются только достижения.", event
            )
    elif isinstance(event, AchievementRecorded):
        return _violation(
            "entry_fits_document",
            "Достижения записываются в портфолио класса, а не в журнал предмета.",
            event,
        )
    return None


# ------------------------------------------------------------------ the portfolio's rules


def portfolio_author_may_write(
    event: JournalEvent, state: JournalState, ctx: PortfolioContext
) -> RuleViolation | None:
    """000 §5.5, 003 §3.3.3–3.3.5: the class teacher enters achievements; the teachers of the
    class help collect them; the administration answers for what the portfolio holds."""
    if event.author not in ctx.writers:
        return _violation(
            "portfolio_author_may_write",
            "Достижения этого класса записывают его классный руководитель, учителя класса "
            "и администрация.",
            event,
        )
    return None


def achievement_pupil_in_class(
    event: JournalEvent, state: JournalState, ctx: PortfolioContext
) -> RuleViolation | None:
    """000 §4.5: a class's portfolio holds its pupils (in the class during the school year)."""
    if isinstance(event, AchievementRecorded) and not ctx.is_member(
        event.student_id, ctx.year.starts, ctx.year.ends
    ):
        return _violation(
            "achievement_pupil_in_class",
            "Обучающийся не числится в этом классе в этом учебном году.",
            event,
        )
    return None


def achievement_date_valid(
    event: JournalEvent, state: JournalState, ctx: PortfolioContext
) -> RuleViolation | None:
    """000 §5.3 (the record reflects what happened): an achievement is not dated in the future
    and belongs to the school year of the portfolio."""
    if not isinstance(event, AchievementRecorded):
        return None
    if event.date > stamp_date(event.hlc) + dt.timedelta(days=1):
        return _violation(
            "achievement_date_valid",
            f"Дата достижения {event.date:%d.%m.%Y} ещё не наступила.",
            event,
        )
    if not (ctx.year.starts <= event.date <= ctx.year.ends):
        return _violation(
            "achievement_date_valid",
            f"Дата достижения {event.date:%d.%m.%Y} вне учебного года {ctx.year.name}.",
            event,
        )
    return None


def external_needs_family_consent(
    event: JournalEvent, state: JournalState, ctx: PortfolioContext
) -> RuleViolation | None:
    """001 §5.1: achievements from other organisations are recorded voluntarily, on the will of
    the pupil or their parents: only with the family's consent."""
    if isinstance(event, AchievementRecorded) and event.external and not event.family_consent:
        return _violation(
            "external_needs_family_consent",
            "Достижение, полученное в другой организации, записывается только с согласия "
            "обучающегося или родителей (001 §5.1): отметьте согласие семьи.",
            event,
        )
    return None


def attachment_acceptable(
    event: JournalEvent, state: JournalState, ctx: PortfolioContext
) -> RuleViolation | None:
    """000 §4.2.1, 003 §3: the proof document is a PDF or an image (PNG, JPEG) of at most
    10 MB; the server checks the content itself when the file arrives."""
    if not isinstance(event, AchievementRecorded) or event.attachment is None:
        return None
    attachment = event.attachment
    if attachment.media_type not in portfolio.ATTACHMENT_TYPES:
        return _violation(
            "attachment_acceptable",
            "Документ должен быть в формате PDF, PNG или JPEG.",
            event,
        )
    if attachment.size > portfolio.MAX_ATTACHMENT_BYTES:
        return _violation(
            "attachment_acceptable",
            "Файл документа больше 10 МБ: приложите скан меньшего размера.",
            event,
        )
    return None


RULES: tuple[Rule, ...] = (
    year_not_closed,
    entry_fits_document,
    author_may_write,
    mark_in_journal_scale,
    special_value_has_basis,
    weight_in_range,
    lesson_within_school_year,
    lesson_not_in_future,
    entry_belongs_to_lesson,
    student_in_class,
    no_mark_for_absent_pupil,
    no_mark_for_exempt_pupil,
    period_mark_after_last_lesson,
    correction_targets_its_cell,
    late_correction_has_reason,
    attendance_change_around_mark_has_reason,
    closed_period_change_has_reason,
)


# No rule for scores (003 §3.4: the portfolio is never scored): AchievementRecorded has no
# such field and forbids unknown ones, so an event carrying a score is refused as malformed.
PORTFOLIO_RULES: tuple[PortfolioRule, ...] = (
    portfolio_year_not_closed,
    entry_fits_document,
    portfolio_author_may_write,
    achievement_pupil_in_class,
    achievement_date_valid,
    external_needs_family_consent,
    attachment_acceptable,
    correction_targets_its_cell,
)


def well_formed(event: JournalEvent) -> RuleViolation | None:
    """The event's own limits (lengths, slots, id pattern): msgspec checks them on decoding,
    not on construction, so an event built in code is round-tripped once before it counts."""
    try:
        msgspec.json.decode(msgspec.json.encode(event), type=type(event))
    except msgspec.ValidationError as exc:
        return _violation("well_formed", f"Запись не соответствует формату журнала: {exc}.", event)
    return None


def check_event(
    event: JournalEvent, state: JournalState, ctx: JournalContext | PortfolioContext
) -> RuleViolation | None:
    """The first rule `event` breaks in `state` (which already includes it), or None."""
    violation = well_formed(event)
    if violation is not None:
        return violation
    if isinstance(ctx, PortfolioContext):
        return _first_violation(ctx.rules, event, state, ctx)
    return _first_violation(ctx.rules, event, state, ctx)


def _first_violation(
    rules: Iterable[Callable[[JournalEvent, JournalState, C], RuleViolation | None]],
    event: JournalEvent,
    state: JournalState,
    ctx: C,
) -> RuleViolation | None:
    for rule in rules:
        violation = rule(event, state, ctx)
        if violation is not None:
            return violation
    return None


def check_new_events(
    state: JournalState,
    new: Iterable[JournalEvent],
    ctx: JournalContext | PortfolioContext,
) -> list[RuleViolation]:
    """Check a batch of new events against the folded journal; returns the violations.

    Events are checked in clock order against the state with every not-yet-refused event, so
    that when two entries clash (a mark and an absence) the later one is the one refused. An
    event the batch itself supersedes is refused only if it also breaks a rule against the
    events up to it: it may have been valid when written, and it is in no consolidated row.
    """
    pending = sorted(new, key=lambda e: (e.hlc, e.id))
    refused: set[str] = set()
    violations: list[RuleViolation] = []
    everything = state.extend(pending)
    for index, event in enumerate(pending):
        violation = check_event(event, everything, ctx)
        if violation is not None and event.id in everything.superseded:
            # corrected or undone later in the same batch (offline edits, then Ctrl+Z): also
            # judged as it stood when written, not only against what replaced it (its lesson
            # undone too). Either view accepting it is enough: a history whose stamps do not
            # follow its causes (a lesson stamped after its marks) still passes the first.
            prefix = state.extend(e for e in pending[: index + 1] if e.id not in refused)
            if check_event(event, prefix, ctx) is None:
                violation = None
        if violation is not None:
            violations.append(violation)
            refused.add(event.id)
            everything = state.extend(e for e in pending if e.id not in refused)
    return violations
